// `npm run bench`: measures the terminal server side by side with the raw pty it
// sits on, and writes bench/results/<date>.json (raw figures, machine) and
// bench/results/<date>.md (the table printed at the end). Missed targets are
// reported in the table; the exit status is non-zero only when a measurement
// could not be made.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';
import { summaryChart } from './chart.js';
import {
  measureBadFrames,
  measureGuessing,
  measureLyingPage,
  measurePageCrowd,
  measureStuckViewer,
} from './measure-attacks.js';
import { measureDashboard } from './measure-dashboard.js';
import { type EchoResult, measureEcho } from './measure-echo.js';
import { measureFairness } from './measure-fairness.js';
import { measureFirstPrompt } from './measure-first-prompt.js';
import { measureImage } from './measure-image.js';
import { measureInterrupt } from './measure-interrupt.js';
import { LOGIN_FLOOD_RSS_ALLOWANCE_MIB, LOGIN_FLOOD_SETTLE_MAX_MS, measureLoginFlood } from './measure-login-flood.js';
import { measureMemory } from './measure-memory.js';
import { measureRender } from './measure-render.js';
import { room } from './measure-room.js';
import { measureScale } from './measure-scale.js';
import { measureStack } from './measure-stack.js';
import {
  makeTextFile,
  measureNodePtyCeiling,
  measurePythonCeiling,
  measureServerThroughput,
  type TransferRun,
} from './measure-throughput.js';
import { measureEchoVsWetty, measureWettyThroughput } from './measure-wetty.js';
import { makeWorkshop, measureWorkshopRender, PAGES, RENDER_BUDGET_MS } from './measure-workshop-render.js';
import { versus } from './peers/versus.js';
import { descendants } from './processes.js';
import { type Figure, markdownTable, type Results, status, writeResults } from './report.js';
import { median, round } from './stats.js';
import { wettyVersion } from './wetty.js';

const THROUGHPUT_FILE_BYTES = 100 << 20;
const THROUGHPUT_REPEATS = 3;
const KEYSTROKES = 2000;
const PROMPT_RUNS = 20;
const IDLE_SESSIONS = 50;
const STACK_SETTLE_MS = 3000;
const RENDER_FILE_BYTES = 50e6;
const RENDER_RUNS = 3;
const INTERRUPT_RUNS = 5;
const FAIR_FILE_BYTES = 30e6;
const FAIR_SESSIONS = 8;
const FAIR_ROUNDS = 3;
const SCALE_SESSIONS = 200;
const SCALE_TYPING = 20;
const SCALE_INTERVAL_MS = 100;
const SCALE_TYPING_MS = 20_000;
const DASHBOARD_RUNS = 7;
const WORKSHOP_RENDER_RUNS = 5;

const MB = 1e6;
const KB = 1e3;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Pids of every process below this one (from /proc), with their command names. */
function ownProcesses(): Map<number, string> {
  return new Map(descendants(process.pid).map((p) => [p.pid, p.comm]));
}

function localDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function commandOutput(file: string, args: string[]): string | null {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch {
    return null;
  }
}

function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    v8: process.versions.v8,
    python: commandOutput('python3', ['--version']),
    wetty: (() => {
      try {
        return wettyVersion();
      } catch {
        return null;
      }
    })(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    totalMemoryMiB: Math.round(os.totalmem() / (1 << 20)),
    loadAverageAtStart: os.loadavg().map((l) => round(l, 2)),
    commit: commandOutput('git', ['-C', projectRoot(), 'rev-parse', '--short', 'HEAD']),
    dirty: (commandOutput('git', ['-C', projectRoot(), 'status', '--porcelain']) ?? '') !== '',
  };
}

function medianRate(runs: readonly TransferRun[]): number {
  return median(runs.map((r) => r.bytesPerSecond));
}

/** Rounds the numbers in raw results so the JSON stays readable. */
function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : round(value, 4);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  }
  return value;
}

async function throughput(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(`writing a ${THROUGHPUT_FILE_BYTES >> 20} MiB text file`);
  const text = makeTextFile(work, THROUGHPUT_FILE_BYTES);
  const runs = {
    server: [] as TransferRun[],
    proxy: [] as TransferRun[],
    serverOwnProcess: [] as TransferRun[],
    nodePty: [] as TransferRun[],
    python: [] as TransferRun[],
    wetty: [] as TransferRun[],
  };
  const kinds: [keyof typeof runs, () => Promise<TransferRun | null>][] = [
    ['server', () => measureServerThroughput(text, 'in-process')],
    ['proxy', () => measureServerThroughput(text, 'in-process', 'proxy')],
    ['nodePty', () => measureNodePtyCeiling(text)],
    ['python', () => measurePythonCeiling(text)],
    ['serverOwnProcess', () => measureServerThroughput(text, 'own-process')],
    ['wetty', () => measureWettyThroughput(text)],
  ];
  for (let repeat = 0; repeat < THROUGHPUT_REPEATS; repeat++) {
    // Side by side: each round runs every kind once, starting with a different one.
    for (let i = 0; i < kinds.length; i++) {
      const [kind, measure] = kinds[(i + repeat) % kinds.length] as (typeof kinds)[number];
      const result = await measure();
      log(
        `throughput ${repeat + 1}/${THROUGHPUT_REPEATS} ${kind}: ` +
          (result ? `${(result.bytesPerSecond / MB).toFixed(1)} MB/s` : 'not measured'),
      );
      if (result) runs[kind].push(result);
    }
  }
  const server = medianRate(runs.server);
  const serverToLastByte = median(runs.server.map((r) => r.bytes / (r.secondsToLastByte as number)));
  const proxy = medianRate(runs.proxy);
  const ownProcess = medianRate(runs.serverOwnProcess);
  const nodePty = medianRate(runs.nodePty);
  const python = runs.python.length > 0 ? medianRate(runs.python) : Number.NaN;
  const pythonFaster = python > nodePty;
  const ceiling = pythonFaster ? python : nodePty;
  const wetty = medianRate(runs.wetty);
  const wettyExact = runs.wetty.filter((r) => r.complete).length;
  const serverKinds = [runs.server, runs.proxy, runs.serverOwnProcess];
  const exact = serverKinds.reduce((n, kind) => n + kind.filter((r) => r.complete).length, 0);
  const serverRuns = serverKinds.reduce((n, kind) => n + kind.length, 0);
  raw.throughput = {
    file: { bytes: text.bytes, lines: text.lines, expectedBytes: text.expectedBytes },
    medians: { server, serverToLastByte, proxy, serverOwnProcess: ownProcess, nodePty, python, ceiling, wetty },
    ceilingSource: pythonFaster ? 'python' : 'node-pty',
    runs,
  };
  return [
    {
      id: 'throughput.server',
      label: 'Output throughput, cat 100 MiB, attach → close',
      value: server / MB,
      unit: 'MB/s',
    },
    {
      id: 'throughput.ceiling',
      label: 'Raw pty ceiling',
      value: ceiling / MB,
      unit: 'MB/s',
      note: `${pythonFaster ? 'python' : 'node-pty'}; node-pty ${(nodePty / MB).toFixed(1)}, python ${
        Number.isFinite(python) ? (python / MB).toFixed(1) : 'n/a'
      }`,
    },
    {
      id: 'throughput.ratio',
      label: 'Throughput ÷ raw pty ceiling',
      value: server / ceiling,
      unit: '×',
      target: { op: '>=', value: 0.6 },
    },
    {
      id: 'throughput.ratioToLastByte',
      label: 'Throughput to the last byte (without the wait for the exit) ÷ ceiling',
      value: serverToLastByte / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.ownProcessRatio',
      label: 'Throughput with the server in its own process ÷ ceiling',
      value: ownProcess / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.proxy',
      label: 'Output throughput through the auth proxy (basic auth, in this process), attach → close',
      value: proxy / MB,
      unit: 'MB/s',
    },
    {
      id: 'throughput.proxyRatio',
      label: 'Throughput through the proxy ÷ direct',
      value: proxy / server,
      unit: '×',
      target: { op: '>=', value: 0.9 },
    },
    {
      id: 'throughput.proxyCeilingRatio',
      label: 'Throughput through the proxy ÷ raw pty ceiling',
      value: proxy / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.exact',
      label: 'Server runs byte-exact (file size + one CR per line)',
      value: exact,
      unit: `of ${serverRuns}`,
      target: { op: '>=', value: serverRuns },
    },
    {
      id: 'throughput.wetty',
      label: 'wetty: output throughput, cat 100 MiB, connect → logout and last data',
      value: wetty / MB,
      unit: 'MB/s',
      note: `own process; ${wettyExact} of ${runs.wetty.length} runs byte-exact`,
    },
    {
      id: 'throughput.proxyVsWetty',
      label: 'Throughput through the auth proxy ÷ wetty',
      value: proxy / wetty,
      unit: '×',
      target: { op: '>=', value: 1.5 },
    },
    {
      id: 'throughput.ownProcessVsWetty',
      label: 'Throughput with the server in its own process ÷ wetty',
      value: ownProcess / wetty,
      unit: '×',
    },
  ];
}

function echoFigures(
  prefix: string,
  label: string,
  result: EchoResult,
  targets: { p50?: number; p99?: number; p50Note?: string },
): Figure[] {
  const atMost = (value: number | undefined) => (value === undefined ? {} : { target: { op: '<=' as const, value } });
  return [
    {
      id: `${prefix}.p50`,
      label: `${label}, p50`,
      value: result.p50,
      unit: 'ms',
      ...atMost(targets.p50),
      ...(targets.p50Note === undefined ? {} : { note: targets.p50Note }),
    },
    { id: `${prefix}.p90`, label: `${label}, p90`, value: result.p90, unit: 'ms' },
    { id: `${prefix}.p99`, label: `${label}, p99`, value: result.p99, unit: 'ms', ...atMost(targets.p99) },
  ];
}

async function echo(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `keystroke echo: ${KEYSTROKES} keystrokes quiet, then ${KEYSTROKES} during a flood; direct and through the proxy`,
  );
  const { quiet, flood, proxy } = await measureEcho(KEYSTROKES);
  raw.echo = { quiet, flood, proxy };
  return [
    ...echoFigures('echo.quiet', 'Keystroke echo round trip', quiet, { p50: 0.5, p99: 3 }),
    ...echoFigures('echo.proxy.quiet', 'Keystroke echo through the auth proxy', proxy.quiet, {
      p50: quiet.p50 + 1,
      p50Note: 'target: direct p50 + 1 ms',
    }),
    ...echoFigures('echo.flood', 'Keystroke echo while another session floods (yes)', flood, { p99: 50 }),
    ...echoFigures('echo.proxy.flood', 'Keystroke echo through the auth proxy during the flood', proxy.flood, {}),
    {
      id: 'echo.floodRatio',
      label: 'Echo p99 during the flood ÷ quiet p99',
      value: flood.p99 / quiet.p99,
      unit: '×',
      note: `flood delivered ${(flood.floodBytes / flood.floodSeconds / MB).toFixed(1)} MB/s meanwhile`,
    },
  ];
}

async function echoVsWetty(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(`keystroke echo vs wetty: ${KEYSTROKES} keystrokes each quiet (alternating), then each during its own flood`);
  const result = await measureEchoVsWetty(work, KEYSTROKES);
  raw.echoVsWetty = result;
  const { ours, wetty } = result;
  return [
    ...echoFigures('vsWetty.echo.ours.quiet', 'Keystroke echo, ours in its own process (beside wetty)', ours.quiet, {}),
    ...echoFigures('vsWetty.echo.wetty.quiet', 'wetty: keystroke echo round trip', wetty.quiet, {}),
    {
      id: 'vsWetty.echo.quietP50Ratio',
      label: 'Echo p50, ours ÷ wetty',
      value: ours.quiet.p50 / wetty.quiet.p50,
      unit: '×',
      target: { op: '<=', value: 1 },
    },
    {
      id: 'vsWetty.echo.quietP99Ratio',
      label: 'Echo p99, ours ÷ wetty',
      value: ours.quiet.p99 / wetty.quiet.p99,
      unit: '×',
      target: { op: '<=', value: 1 },
    },
    ...echoFigures(
      'vsWetty.echo.ours.flood',
      'Keystroke echo, ours in its own process, while another of its sessions floods (yes)',
      ours.flood,
      {},
    ),
    ...echoFigures(
      'vsWetty.echo.wetty.flood',
      'wetty: keystroke echo while another wetty session floods (yes)',
      wetty.flood,
      {},
    ),
    {
      id: 'vsWetty.echo.floodP99Ratio',
      label: 'Echo p99 during a flood, ours ÷ wetty',
      value: ours.flood.p99 / wetty.flood.p99,
      unit: '×',
      target: { op: '<=', value: 1 },
      note: `floods delivered: ours ${(ours.flood.floodBytes / ours.flood.floodSeconds / MB).toFixed(1)} MB/s, wetty ${(
        wetty.flood.floodBytes / wetty.flood.floodSeconds / MB
      ).toFixed(1)} MB/s`,
    },
    {
      id: 'vsWetty.wettyStart',
      label: 'wetty: process start → its page answers 200',
      value: wetty.startMs,
      unit: 'ms',
    },
  ];
}

async function render(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `rendering in headless Chromium: cat ${RENDER_FILE_BYTES / MB} MB, ours and wetty, ${RENDER_RUNS} runs each, with and without WebGL`,
  );
  const result = await measureRender(work, RENDER_FILE_BYTES, RENDER_RUNS);
  raw.render = result;
  const ours = median(result.ours.map((r) => r.ms));
  const wetty = median(result.wetty.map((r) => r.ms));
  const domOurs = median(result.withoutWebgl.ours.map((r) => r.ms));
  const domWetty = median(result.withoutWebgl.wetty.map((r) => r.ms));
  const renderers = (runs: typeof result.ours) => [...new Set(runs.map((r) => r.renderer))].join('/');
  const label = `Headless Chromium: navigation → last line of a ${RENDER_FILE_BYTES / MB} MB cat drawn on the terminal's screen`;
  return [
    {
      id: 'render.ours',
      label: `${label}, our page, median`,
      value: ours,
      unit: 'ms',
      note: `${renderers(result.ours)} renderer; ${(result.file.bytes / (ours / 1000) / MB).toFixed(1)} MB/s`,
    },
    {
      id: 'render.wetty',
      label: `${label}, wetty's page, median`,
      value: wetty,
      unit: 'ms',
      note: `${renderers(result.wetty)} renderer; ${(result.file.bytes / (wetty / 1000) / MB).toFixed(1)} MB/s`,
    },
    {
      id: 'render.ratio',
      label: "Rendering: wetty's time ÷ ours (ours ≤ wetty's)",
      value: wetty / ours,
      unit: '×',
      target: { op: '>=', value: 1 },
    },
    {
      id: 'render.dom.ours',
      label: 'The same with WebGL off in Chromium (xterm.js DOM renderer), our page, median',
      value: domOurs,
      unit: 'ms',
    },
    {
      id: 'render.dom.wetty',
      label: "The same with WebGL off, wetty's page, median",
      value: domWetty,
      unit: 'ms',
    },
    {
      id: 'render.dom.ratio',
      label: "Rendering with WebGL off: wetty's time ÷ ours",
      value: domWetty / domOurs,
      unit: '×',
    },
  ];
}

async function dashboard(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `workshop dashboard in headless Chromium beside the terminal page, through the auth proxy, ${DASHBOARD_RUNS} runs each (alternating)`,
  );
  const result = await measureDashboard(DASHBOARD_RUNS);
  raw.dashboard = result;
  const medianOf = (runs: typeof result.page, pick: (run: (typeof result.page)[number]) => number | null) =>
    median(runs.map(pick).filter((value) => value !== null));
  const dashPrompt = medianOf(result.dashboard, (r) => r.promptMs);
  const pagePrompt = medianOf(result.page, (r) => r.promptMs);
  const dashBytes = medianOf(result.dashboard, (r) => r.transferredBytes);
  const pageBytes = medianOf(result.page, (r) => r.transferredBytes);
  const requests = (runs: typeof result.page) => median(runs.map((r) => r.responses.length));
  const what = `headless Chromium, through the auth proxy, fresh context each, median of ${DASHBOARD_RUNS}`;
  return [
    {
      id: 'dashboard.promptRatio',
      label: 'Dashboard: navigation → first prompt in its first terminal ÷ the same on the stand-alone terminal page',
      value: dashPrompt / pagePrompt,
      unit: '×',
      target: { op: '<=', value: 1.3 },
    },
    {
      id: 'dashboard.transferred',
      label: 'Dashboard with its terminals: HTTP bytes transferred (headers + compressed bodies), no WebSocket',
      value: dashBytes / KB,
      unit: 'KB',
      target: { op: '<=', value: 400 },
      note: `${requests(result.dashboard)} responses`,
    },
    {
      id: 'dashboard.prompt',
      label: `Dashboard (sample workshop, split): navigation → \`$ \` prompt painted in terminal 1, ${what}`,
      value: dashPrompt,
      unit: 'ms',
      note: `terminal 2: ${medianOf(result.dashboard, (r) => r.secondPromptMs).toFixed(0)} ms`,
    },
    {
      id: 'dashboard.instructions',
      label: 'Dashboard: navigation → first heading of the instructions painted',
      value: medianOf(result.dashboard, (r) => r.instructionsMs),
      unit: 'ms',
      note: `first contentful paint ${medianOf(result.dashboard, (r) => r.fcpMs).toFixed(0)} ms`,
    },
    {
      id: 'dashboard.pagePrompt',
      label: `Stand-alone terminal page: navigation → \`$ \` prompt painted, ${what}`,
      value: pagePrompt,
      unit: 'ms',
    },
    {
      id: 'dashboard.pageTransferred',
      label: 'Stand-alone terminal page: HTTP bytes transferred',
      value: pageBytes / KB,
      unit: 'KB',
      note: `${requests(result.page)} responses`,
    },
    ...(await largeWorkshop(raw)),
  ];
}

/**
 * The same budgets with a 40-page workshop (Markdown and AsciiDoc pages with
 * blocks and Liquid variables, generated by measure-workshop-render.ts), opened
 * beside the terminal page in the same run; and the CPU its pages take to
 * render at start, in a fresh process each time.
 */
async function largeWorkshop(raw: Record<string, unknown>): Promise<Figure[]> {
  const pages = `${PAGES.markdown + PAGES.asciidoc} pages (${PAGES.markdown} Markdown, ${PAGES.asciidoc} AsciiDoc)`;
  const workshop = makeWorkshop();
  try {
    log(`a generated workshop of ${pages}: rendered at start ${WORKSHOP_RENDER_RUNS} times, then in Chromium`);
    const rendering = measureWorkshopRender(WORKSHOP_RENDER_RUNS, workshop);
    raw.workshopRender = rendering;
    const result = await measureDashboard(DASHBOARD_RUNS, { dir: workshop, label: `generated: ${pages}` });
    raw.dashboardLarge = result;
    const medianOf = (runs: typeof result.page, pick: (run: (typeof result.page)[number]) => number | null) =>
      median(runs.map(pick).filter((value) => value !== null));
    const dashFcp = medianOf(result.dashboard, (r) => r.fcpMs);
    const pageFcp = medianOf(result.page, (r) => r.fcpMs);
    const dashPrompt = medianOf(result.dashboard, (r) => r.promptMs);
    const pagePrompt = medianOf(result.page, (r) => r.promptMs);
    return [
      {
        id: 'dashboard.large.renderCpu',
        label: `${pages}: CPU to load and render every page at start (compiled server, fresh process), median of ${WORKSHOP_RENDER_RUNS}`,
        value: rendering.cpuMs.median,
        unit: 'ms',
        target: { op: '<=', value: RENDER_BUDGET_MS },
        note: `min ${rendering.cpuMs.min.toFixed(0)}, max ${rendering.cpuMs.max.toFixed(0)} ms`,
      },
      {
        id: 'dashboard.large.paintRatio',
        label: `Dashboard with ${pages}: first contentful paint ÷ the terminal page's, same run`,
        value: dashFcp / pageFcp,
        unit: '×',
        target: { op: '<=', value: 1.3 },
        note: `${dashFcp.toFixed(0)} ms vs ${pageFcp.toFixed(0)} ms`,
      },
      {
        id: 'dashboard.large.promptRatio',
        label: `Dashboard with ${pages}: navigation → first prompt ÷ the terminal page's, same run`,
        value: dashPrompt / pagePrompt,
        unit: '×',
        target: { op: '<=', value: 1.3 },
        note: `${dashPrompt.toFixed(0)} ms vs ${pagePrompt.toFixed(0)} ms`,
      },
      {
        id: 'dashboard.large.transferred',
        label: `Dashboard with ${pages} and its terminals: HTTP bytes transferred`,
        value: medianOf(result.dashboard, (r) => r.transferredBytes) / KB,
        unit: 'KB',
        target: { op: '<=', value: 400 },
        note: `${median(result.dashboard.map((r) => r.responses.length))} responses`,
      },
      {
        id: 'dashboard.large.instructions',
        label: `Dashboard with ${pages}: navigation → first heading of the instructions painted`,
        value: medianOf(result.dashboard, (r) => r.instructionsMs),
        unit: 'ms',
      },
    ];
  } finally {
    rmSync(path.dirname(workshop), { recursive: true, force: true });
  }
}

async function interrupt(raw: Record<string, unknown>): Promise<Figure[]> {
  log(`interrupt: yes then Ctrl-C through the auth proxy, ${INTERRUPT_RUNS} runs`);
  const result = await measureInterrupt(INTERRUPT_RUNS);
  raw.interrupt = result;
  return [
    {
      id: 'interrupt.median',
      label: `Interrupt: Ctrl-C during yes → the prompt at the page, through the auth proxy, median of ${INTERRUPT_RUNS}`,
      value: result.median,
      unit: 'ms',
      target: { op: '<=', value: 200 },
      note: `max ${result.max.toFixed(1)} ms; ${(median(result.drainedBytes) / 1024).toFixed(0)} KiB drained after the Ctrl-C`,
    },
  ];
}

async function fairness(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `fairness: ${FAIR_SESSIONS} sessions cat ${FAIR_FILE_BYTES / MB} MB each at once vs one alone, ${FAIR_ROUNDS} rounds`,
  );
  const result = await measureFairness(work, FAIR_FILE_BYTES, FAIR_SESSIONS, FAIR_ROUNDS);
  raw.fairness = result;
  const alone = median(result.alone.map((r) => r.aggregateBytesPerSecond));
  const together = median(result.together.map((r) => r.aggregateBytesPerSecond));
  const streams = [...result.alone, ...result.together].flatMap((r) => r.streams);
  const exact = streams.filter((s) => s.complete).length;
  return [
    {
      id: 'fairness.alone',
      label: `Fairness: one session alone, cat ${FAIR_FILE_BYTES / MB} MB (server in its own process)`,
      value: alone / MB,
      unit: 'MB/s',
    },
    {
      id: 'fairness.together',
      label: `Fairness: ${FAIR_SESSIONS} sessions at once, aggregate`,
      value: together / MB,
      unit: 'MB/s',
      note: `${exact} of ${streams.length} streams byte-exact`,
    },
    {
      id: 'fairness.ratio',
      label: `Fairness: ${FAIR_SESSIONS} at once, aggregate ÷ one alone`,
      value: result.ratio,
      unit: '×',
      target: { op: '>=', value: 0.8 },
    },
    {
      id: 'fairness.deviation',
      label: `Fairness: largest deviation of a session's rate from the mean of the ${FAIR_SESSIONS}`,
      value: result.maxDeviation * 100,
      unit: '%',
      target: { op: '<=', value: 25 },
    },
    ...echoFigures(`fairness.echo`, `Keystroke echo in a ${FAIR_SESSIONS + 1}th session meanwhile`, result.echo, {
      p99: 50,
    }),
  ];
}

async function scale(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `scale: ${SCALE_SESSIONS} sessions, ${SCALE_TYPING} typing every ${SCALE_INTERVAL_MS} ms for ${SCALE_TYPING_MS / 1000} s`,
  );
  const result = await measureScale(SCALE_SESSIONS, SCALE_TYPING, SCALE_INTERVAL_MS, SCALE_TYPING_MS);
  raw.scale = result;
  const what = `${SCALE_SESSIONS} sessions, ${SCALE_TYPING} typing`;
  return [
    {
      id: 'scale.opened',
      label: `Scale: sessions open with their page attached`,
      value: result.opened,
      unit: `of ${SCALE_SESSIONS}`,
      target: { op: '>=', value: SCALE_SESSIONS },
      note: `opened in ${(result.openMs / 1000).toFixed(1)} s, batches of 25`,
    },
    {
      id: 'scale.errors',
      label: `Scale (${what}): failures (sessions not opened, pages dropped, error messages, keystrokes lost)`,
      value: result.errors,
      unit: 'errors',
      target: { op: '<=', value: 0 },
    },
    ...echoFigures('scale.echo', `Scale (${what}): keystroke echo`, result.echo, { p99: 50 }).filter(
      (f) => !f.id.endsWith('.p90'),
    ),
    {
      id: 'scale.cpu',
      label: `Scale (${what}): CPU of the server process while typing`,
      value: result.serverCpuShare * 100,
      unit: '% of a core',
      note: `${result.echo.keystrokes} keystrokes in ${result.typingSeconds.toFixed(1)} s`,
    },
    {
      id: 'scale.rss',
      label: `Scale: server RSS with ${SCALE_SESSIONS} sessions`,
      value: result.serverRssKiB / 1024,
      unit: 'MiB',
    },
  ];
}

async function firstPrompt(raw: Record<string, unknown>): Promise<Figure[]> {
  log(`time to first prompt: ${PROMPT_RUNS} new sessions`);
  const result = await measureFirstPrompt(PROMPT_RUNS);
  raw.firstPrompt = result;
  const label = 'Time to first prompt, connect → first byte of bash -i';
  return [
    {
      id: 'prompt.median',
      label: `${label}, median`,
      value: result.median,
      unit: 'ms',
      target: { op: '<=', value: 50 },
    },
    { id: 'prompt.p90', label: `${label}, p90`, value: result.p90, unit: 'ms', target: { op: '<=', value: 50 } },
  ];
}

async function memory(raw: Record<string, unknown>): Promise<Figure[]> {
  log(`memory: server process with 0 and ${IDLE_SESSIONS} idle sessions`);
  const result = await measureMemory(IDLE_SESSIONS);
  raw.memory = result;
  return [
    { id: 'memory.baseline', label: 'Server RSS with no sessions', value: result.baselineKiB / 1024, unit: 'MiB' },
    {
      id: 'memory.perSession',
      label: `RSS per idle session, page attached (${IDLE_SESSIONS} sessions, empty history)`,
      value: result.perSessionKiB,
      unit: 'KiB',
      target: { op: '<=', value: 150 },
    },
    {
      id: 'memory.perDetachedSession',
      label: 'RSS per idle session, pages gone',
      value: result.perDetachedSessionKiB,
      unit: 'KiB',
      target: { op: '<=', value: 150 },
    },
  ];
}

/** 10⁶ bytes from KiB. */
const megabytes = (kib: number) => (kib * 1024) / MB;

async function stack(raw: Record<string, unknown>, warnings: string[]): Promise<Figure[]> {
  log(`whole stack: supervisor/start.sh with no sessions, ${STACK_SETTLE_MS} ms after ready`);
  const result = await measureStack(STACK_SETTLE_MS);
  raw.stack = result;
  for (const leftover of result.leftovers) warnings.push(`whole stack: ${leftover}`);
  const processes = result.processes.map((p): Figure => {
    return {
      id: `stack.rss.${p.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
      label: `Whole stack: RSS of ${p.name}`,
      value: megabytes(p.rssKiB),
      unit: 'MB',
      note: `PSS ${megabytes(p.pssKiB).toFixed(1)}, private ${megabytes(p.privateKiB).toFixed(1)}`,
    };
  });
  return [
    {
      // The memory the stack really takes (and what a container's limit counts):
      // each Node process maps the same ~40 MB of the node binary, which an RSS
      // sum counts once per process.
      id: 'stack.pss',
      label: `Whole stack idle (supervisor/start.sh, no sessions), PSS summed over its ${result.processes.length} processes`,
      value: megabytes(result.totalPssKiB),
      unit: 'MB',
      target: { op: '<=', value: 150 },
      note: `private ${megabytes(result.totalPrivateKiB).toFixed(1)} MB`,
    },
    {
      id: 'stack.rss',
      label: 'Whole stack idle, RSS summed (shared pages counted once per process)',
      value: megabytes(result.totalRssKiB),
      unit: 'MB',
    },
    ...processes,
    { id: 'stack.ready', label: 'Whole stack: start.sh → /readyz answers 200', value: result.readyMs, unit: 'ms' },
    {
      id: 'stack.stop',
      label: 'Whole stack: SIGTERM to its process group → every process gone',
      value: result.stopMs,
      unit: 'ms',
      note: `exit code ${result.exitCode}`,
    },
  ];
}

const GUESSING_SECONDS = 20;
const LYING_OUTPUT_BYTES = 200e6;
const STUCK_VIEWER_ROUNDS = 10;
const CROWD_PAGES = 500;
const FLOOD_PAIRS = 3000;
const FLOOD_CONCURRENCY = 8;

async function underAttack(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `under attack: password guessing for ${GUESSING_SECONDS} s, from one address, then with a new X-Forwarded-For each`,
  );
  const options = { seconds: GUESSING_SECONDS, concurrency: 20, patienceMs: 150 };
  const oneAddress = await measureGuessing({ ...options, rotate: false });
  const rotating = await measureGuessing({ ...options, rotate: true });
  log('under attack: 100 000 bad frames from each of 4 pages; a page that acknowledges everything and reads nothing');
  const badFrames = await measureBadFrames({ pages: 4, framesEach: 100_000, keystrokes: 200 });
  const lying = await measureLyingPage(LYING_OUTPUT_BYTES);
  log(
    `under attack: a viewer that stops reading, ${STUCK_VIEWER_ROUNDS} rounds; ${CROWD_PAGES} pages open one session`,
  );
  const stuckViewer = await measureStuckViewer(STUCK_VIEWER_ROUNDS);
  const crowd = await measurePageCrowd(CROWD_PAGES);
  log(
    `under attack: OpenShift login flood, ${FLOOD_PAIRS} handshake + callback pairs without credentials, ${FLOOD_CONCURRENCY} at a time`,
  );
  const flood = await measureLoginFlood({ pairs: FLOOD_PAIRS, concurrency: FLOOD_CONCURRENCY });
  raw.underAttack = { guessing: { oneAddress, rotating }, badFrames, lying, stuckViewer, crowd, loginFlood: flood };
  const floodWhat = `OpenShift login flood (${flood.pairs} handshake + made-up-code callback pairs from one client without credentials, ${flood.concurrency} in flight; auth proxy, simulated cluster and attacker each in their own process)`;
  const mib = (n: number) => n.toFixed(0);
  // Beyond what may be tried at once (the README: five per client, twenty in all).
  const perMinute = (r: typeof oneAddress, burst: number) => (Math.max(0, r.checked - burst) * 60) / r.seconds;
  return [
    {
      id: 'attack.guessing.checkedPerMinute',
      label: `Basic auth: guesses checked per minute after the first five, one client with 20 in flight dropping answers slower than 150 ms (${GUESSING_SECONDS} s)`,
      value: perMinute(oneAddress, 5),
      unit: '/min',
      target: { op: '<=', value: 10 },
      note: `${oneAddress.checked} checked, ${oneAddress.refused} refused unchecked (429), ${oneAddress.dropped} dropped`,
    },
    {
      id: 'attack.guessing.rotatingPerMinute',
      label:
        'Same, with a new X-Forwarded-For per guess (TRUST_PROXY=true), after the twenty all clients share at once',
      value: perMinute(rotating, 20),
      unit: '/min',
      target: { op: '<=', value: 30 },
      note: `${rotating.checked} checked, ${rotating.refused} refused unchecked, ${rotating.dropped} dropped`,
    },
    {
      id: 'attack.badFrames.echoP99',
      label: `Keystroke echo p99 in another session while ${badFrames.pages} pages each send ${badFrames.framesEach} bad frames`,
      value: badFrames.echo.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${badFrames.echo.p50.toFixed(2)} ms, max ${badFrames.echo.max.toFixed(1)} ms; closed with ${[
        ...new Set(badFrames.closeCodes),
      ].join(', ')}`,
    },
    {
      id: 'attack.badFrames.logBytes',
      label: 'Log written by the terminal server because of those frames',
      value: badFrames.logBytes / 1024,
      unit: 'KiB',
      target: { op: '<=', value: 64 },
    },
    {
      id: 'attack.lyingPage.growth',
      label: `Terminal server RSS growth while a page that reads nothing but acknowledges everything gets ${
        LYING_OUTPUT_BYTES / 1e6
      } MB of yes`,
      value: lying.rssMiB.peak - lying.rssMiB.baseline,
      unit: 'MiB',
      target: { op: '<=', value: 128 },
      note: `baseline ${lying.rssMiB.baseline.toFixed(0)} MiB, peak ${lying.rssMiB.peak.toFixed(0)} MiB`,
    },
    {
      id: 'attack.lyingPage.after',
      label: 'Its RSS above the baseline after the page and the session have gone',
      value: lying.rssMiB.after - lying.rssMiB.baseline,
      unit: 'MiB',
    },
    {
      id: 'attack.stuckViewer.ratio',
      label: `The owner's seq 1 300000 with a viewer that stopped reading ÷ without, medians of ${STUCK_VIEWER_ROUNDS} interleaved runs (server in its own process)`,
      value: stuckViewer.ratio,
      unit: '×',
      target: { op: '<=', value: 1.1 },
      note: `alone ${median(stuckViewer.aloneMs).toFixed(0)} ms, with the stuck viewer ${median(stuckViewer.watchedMs).toFixed(0)} ms; the viewers paused the program ${stuckViewer.viewerPauses} times`,
    },
    {
      id: 'attack.pageCrowd.echoP99',
      label: `Keystroke echo p99 in another session while ${crowd.pages} pages of the owner's open one session at once, then close`,
      value: crowd.echo.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${crowd.echo.p50.toFixed(2)} ms, max ${crowd.echo.max.toFixed(1)} ms, ${crowd.echo.keystrokes} keystrokes; ${crowd.attached} attached, ${crowd.refused} refused`,
    },
    {
      id: 'attack.pageCrowd.controlBytes',
      label: 'Control messages sent to those pages, in all',
      value: crowd.controlBytes / 1024,
      unit: 'KiB',
      note: `server RSS baseline ${crowd.rssMiB.baseline.toFixed(0)} MiB, peak ${crowd.rssMiB.peak.toFixed(0)} MiB`,
    },
    {
      id: 'attack.guessing.userLogin',
      label: 'The real user logging in from another address during the one-client attack',
      value: oneAddress.userLoginMs,
      unit: 'ms',
    },
    {
      id: 'attack.loginFlood.rssPeak',
      label: `${floodWhat}: auth proxy RSS at its peak during the flood, above the start`,
      value: flood.rssMiB.peak - flood.rssMiB.start,
      unit: 'MiB',
      note: `start ${mib(flood.rssMiB.start)} MiB, peak ${mib(flood.rssMiB.peak)} MiB, right after ${mib(flood.rssMiB.end)} MiB`,
    },
    {
      id: 'attack.loginFlood.rssAfter',
      label: 'Its RSS above the start once the flood has ended and settled',
      value: flood.rssMiB.settled - flood.rssMiB.start,
      unit: 'MiB',
      target: { op: '<=', value: LOGIN_FLOOD_RSS_ALLOWANCE_MIB },
      note: `${mib(flood.rssMiB.settled)} MiB ${flood.settleSeconds.toFixed(1)} s after the flood (waited until within ${LOGIN_FLOOD_RSS_ALLOWANCE_MIB} MiB, at most ${LOGIN_FLOOD_SETTLE_MAX_MS / 1000} s)`,
    },
    {
      id: 'attack.loginFlood.echoP99',
      label: `Keystroke echo p99 of a logged-in user through the proxy during the flood (${flood.concurrency} pairs in flight)`,
      value: flood.echo.during.p99,
      unit: 'ms',
      target: { op: '<=', value: 50 },
      note: `p50 ${flood.echo.during.p50.toFixed(1)} ms, max ${flood.echo.during.max.toFixed(1)} ms, ${flood.echo.during.count} keystrokes; before the flood p50 ${flood.echo.quiet.p50.toFixed(1)}, p99 ${flood.echo.quiet.p99.toFixed(1)} ms; the measuring process's own event-loop delay p99 ${flood.clientDelayMs.p99.toFixed(1)} ms`,
    },
    {
      id: 'attack.loginFlood.healthzP99',
      label: "The proxy's /healthz round trip p99 during the flood (asked every 50 ms)",
      value: flood.healthz.p99,
      unit: 'ms',
      note: `p50 ${flood.healthz.p50.toFixed(1)} ms, max ${flood.healthz.max.toFixed(1)} ms, ${flood.healthz.count} requests`,
    },
    {
      id: 'attack.loginFlood.cpuPerPair',
      label: 'Auth proxy CPU (user + system) per login pair during the flood',
      value: flood.cpuMsPerPair,
      unit: 'ms',
      note: `${flood.pairs} pairs in ${flood.seconds.toFixed(1)} s (${(flood.pairs / flood.seconds).toFixed(0)}/s); includes serving the echo and /healthz meanwhile`,
    },
    {
      id: 'attack.loginFlood.tlsConnections',
      label: 'TLS connections the simulated OpenShift accepted from the proxy during the flood',
      value: flood.tlsConnections,
      unit: 'connections',
      note: `for ${flood.pairs} token requests`,
    },
    {
      id: 'attack.loginFlood.refused',
      label: 'Callbacks refused with 503 (more logins in flight than the limit)',
      value: flood.refusedCallbacks,
      unit: `of ${flood.pairs}`,
      note: `handshake→callback statuses: ${Object.entries(flood.statuses)
        .map(([pair, count]) => `${pair} ×${count}`)
        .join(', ')}`,
    },
  ];
}

async function main(): Promise<number> {
  const started = new Date();
  const before = ownProcesses();
  const work = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-'));
  const machine = machineInfo();
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const stopOnSignal = (signal: NodeJS.Signals) => {
    rmSync(work, { recursive: true, force: true });
    for (const pid of ownProcesses().keys()) {
      if (before.has(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const steps: [string, (raw: Record<string, unknown>) => Promise<Figure[]>][] = [
    ['throughput', (r) => throughput(work, r)],
    ['echo', echo],
    ['echo vs wetty', (r) => echoVsWetty(work, r)],
    ['rendering', (r) => render(work, r)],
    ['dashboard', dashboard],
    ['interrupt', interrupt],
    ['fairness', (r) => fairness(work, r)],
    ['scale', scale],
    ['first prompt', firstPrompt],
    ['memory', memory],
    ['whole stack', (r) => stack(r, warnings)],
    ['under attack', underAttack],
    ['versus', (r) => versus(work, r)],
    ['image', measureImage],
    ['room', room],
  ];
  // `npm run bench -- <step> …` runs only those steps (names as above, spaces as dashes).
  const only = process.argv.slice(2);
  const chosen = only.length === 0 ? steps : steps.filter(([name]) => only.includes(name.replaceAll(' ', '-')));
  try {
    for (const [name, step] of chosen) {
      const start = performance.now();
      try {
        figures.push(...(await step(raw)));
        log(`${name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
        log(`FAILED ${message}`);
        errors.push(message);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // Every server and program started here must have ended.
  await new Promise((r) => setTimeout(r, 300));
  for (const [pid, name] of ownProcesses()) {
    if (before.has(pid)) continue;
    warnings.push(`a child process was still running at the end and was killed: ${pid} (${name})`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }

  machine.loadAverageAtEnd = os.loadavg().map((l) => round(l, 2));
  const results: Results = {
    date: localDate(started),
    startedAt: started.toISOString(),
    durationSeconds: round((Date.now() - started.getTime()) / 1000, 1),
    machine,
    figures: figures.map((f) => ({ ...f, value: f.value === null ? null : round(f.value, 4), status: status(f) })),
    errors,
    warnings,
    raw: roundDeep(raw) as Record<string, unknown>,
  };
  const chart = summaryChart(`Terminal server benchmark, ${results.date}`, results.figures);
  const written = writeResults(path.join(projectRoot(), 'bench', 'results'), results, chart);
  process.stdout.write(`\n${markdownTable(results.figures)}\n\n`);
  for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
  for (const e of errors) process.stdout.write(`error: ${e}\n`);
  process.stdout.write(
    `Results: ${[written.json, written.markdown, written.chart]
      .flatMap((f) => (f ? [path.relative(process.cwd(), f)] : []))
      .join(', ')}\n`,
  );
  return errors.length > 0 ? 1 : 0;
}

process.exit(await main());
