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
import { type EchoResult, measureEcho } from './measure-echo.js';
import { measureFirstPrompt } from './measure-first-prompt.js';
import { measureMemory } from './measure-memory.js';
import { measureStack } from './measure-stack.js';
import {
  makeTextFile,
  measureNodePtyCeiling,
  measurePythonCeiling,
  measureServerThroughput,
  type TransferRun,
} from './measure-throughput.js';
import { descendants } from './processes.js';
import { type Figure, markdownTable, type Results, status, writeResults } from './report.js';
import { median, round } from './stats.js';

const THROUGHPUT_FILE_BYTES = 100 << 20;
const THROUGHPUT_REPEATS = 3;
const KEYSTROKES = 2000;
const PROMPT_RUNS = 20;
const IDLE_SESSIONS = 50;
const STACK_SETTLE_MS = 3000;

const MB = 1e6;

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
  };
  const kinds: [keyof typeof runs, () => Promise<TransferRun | null>][] = [
    ['server', () => measureServerThroughput(text, 'in-process')],
    ['proxy', () => measureServerThroughput(text, 'in-process', 'proxy')],
    ['nodePty', () => measureNodePtyCeiling(text)],
    ['python', () => measurePythonCeiling(text)],
    ['serverOwnProcess', () => measureServerThroughput(text, 'own-process')],
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
  const serverKinds = [runs.server, runs.proxy, runs.serverOwnProcess];
  const exact = serverKinds.reduce((n, kind) => n + kind.filter((r) => r.complete).length, 0);
  const serverRuns = serverKinds.reduce((n, kind) => n + kind.length, 0);
  raw.throughput = {
    file: { bytes: text.bytes, lines: text.lines, expectedBytes: text.expectedBytes },
    medians: { server, serverToLastByte, proxy, serverOwnProcess: ownProcess, nodePty, python, ceiling },
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
    ['first prompt', firstPrompt],
    ['memory', memory],
    ['whole stack', (r) => stack(r, warnings)],
  ];
  try {
    for (const [name, step] of steps) {
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
  const written = writeResults(path.join(projectRoot(), 'bench', 'results'), results);
  process.stdout.write(`\n${markdownTable(results.figures)}\n\n`);
  for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
  for (const e of errors) process.stdout.write(`error: ${e}\n`);
  process.stdout.write(
    `Results: ${path.relative(process.cwd(), written.json)}, ${path.relative(process.cwd(), written.markdown)}\n`,
  );
  return errors.length > 0 ? 1 : 0;
}

process.exit(await main());
