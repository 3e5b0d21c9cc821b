// `npm run bench`: measures the terminal server side by side with the raw pty it
// sits on, and writes bench/results/<date>.json (raw figures, machine) and
// bench/results/<date>.md (the table printed at the end). Missed targets are
// reported in the table; the exit status is non-zero only when a measurement
// could not be made.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';
import { type EchoResult, measureEcho } from './measure-echo.js';
import { measureFirstPrompt } from './measure-first-prompt.js';
import { measureMemory } from './measure-memory.js';
import {
  makeTextFile,
  measureNodePtyCeiling,
  measurePythonCeiling,
  measureServerThroughput,
  type TransferRun,
} from './measure-throughput.js';
import { type Figure, markdownTable, type Results, status, writeResults } from './report.js';
import { median, round } from './stats.js';

const THROUGHPUT_FILE_BYTES = 100 << 20;
const THROUGHPUT_REPEATS = 3;
const KEYSTROKES = 2000;
const PROMPT_RUNS = 20;
const IDLE_SESSIONS = 50;

const MB = 1e6;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Pids of this process's children (from /proc), with their command names. */
function childProcesses(): Map<number, string> {
  const children = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (ppid === process.pid) children.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
    } catch {
      // The process went away while being read.
    }
  }
  return children;
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
    serverOwnProcess: [] as TransferRun[],
    nodePty: [] as TransferRun[],
    python: [] as TransferRun[],
  };
  const kinds: [keyof typeof runs, () => Promise<TransferRun | null>][] = [
    ['server', () => measureServerThroughput(text, 'in-process')],
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
  const ownProcess = medianRate(runs.serverOwnProcess);
  const nodePty = medianRate(runs.nodePty);
  const python = runs.python.length > 0 ? medianRate(runs.python) : Number.NaN;
  const pythonFaster = python > nodePty;
  const ceiling = pythonFaster ? python : nodePty;
  const exact = runs.server.filter((r) => r.complete).length + runs.serverOwnProcess.filter((r) => r.complete).length;
  const serverRuns = runs.server.length + runs.serverOwnProcess.length;
  raw.throughput = {
    file: { bytes: text.bytes, lines: text.lines, expectedBytes: text.expectedBytes },
    medians: { server, serverToLastByte, serverOwnProcess: ownProcess, nodePty, python, ceiling },
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
      id: 'throughput.exact',
      label: 'Server runs byte-exact (file size + one CR per line)',
      value: exact,
      unit: `of ${serverRuns}`,
      target: { op: '>=', value: serverRuns },
    },
  ];
}

function echoFigures(prefix: string, label: string, result: EchoResult, p99Target: number, p50Target?: number) {
  const figures: Figure[] = [
    {
      id: `${prefix}.p50`,
      label: `${label}, p50`,
      value: result.p50,
      unit: 'ms',
      ...(p50Target === undefined ? {} : { target: { op: '<=' as const, value: p50Target } }),
    },
    { id: `${prefix}.p90`, label: `${label}, p90`, value: result.p90, unit: 'ms' },
    {
      id: `${prefix}.p99`,
      label: `${label}, p99`,
      value: result.p99,
      unit: 'ms',
      target: { op: '<=', value: p99Target },
    },
  ];
  return figures;
}

async function echo(raw: Record<string, unknown>): Promise<Figure[]> {
  log(`keystroke echo: ${KEYSTROKES} keystrokes quiet, then ${KEYSTROKES} during a flood`);
  const { quiet, flood } = await measureEcho(KEYSTROKES);
  raw.echo = { quiet, flood };
  return [
    ...echoFigures('echo.quiet', 'Keystroke echo round trip', quiet, 3, 0.5),
    ...echoFigures('echo.flood', 'Keystroke echo while another session floods (yes)', flood, 50),
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

async function main(): Promise<number> {
  const started = new Date();
  const before = childProcesses();
  const work = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-'));
  const machine = machineInfo();
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  const errors: string[] = [];
  const warnings: string[] = [];
  const stopOnSignal = (signal: NodeJS.Signals) => {
    rmSync(work, { recursive: true, force: true });
    for (const pid of childProcesses().keys()) if (!before.has(pid)) process.kill(pid, 'SIGKILL');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const steps: [string, (raw: Record<string, unknown>) => Promise<Figure[]>][] = [
    ['throughput', (r) => throughput(work, r)],
    ['echo', echo],
    ['first prompt', firstPrompt],
    ['memory', memory],
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
  for (const [pid, name] of childProcesses()) {
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
