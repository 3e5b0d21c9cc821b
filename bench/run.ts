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
import { descendants } from './processes.js';
import { type Figure, markdownTable, type Results, status, writeResults } from './report.js';
import { round } from './stats.js';
import { dashboardStep } from './steps/dashboard.js';
import { echoStep } from './steps/echo.js';
import { echoVsWettyStep } from './steps/echo-vs-wetty.js';
import { editorStep } from './steps/editor.js';
import { fairnessStep } from './steps/fairness.js';
import { firstPromptStep } from './steps/first-prompt.js';
import { imageStep } from './steps/image.js';
import { interruptStep } from './steps/interrupt.js';
import { memoryStep } from './steps/memory.js';
import { renderingStep } from './steps/rendering.js';
import { roomStep } from './steps/room.js';
import { roomServiceStep } from './steps/room-service.js';
import { scaleStep } from './steps/scale.js';
import { log, type Step } from './steps/step.js';
import { throughputStep } from './steps/throughput.js';
import { underAttackStep } from './steps/under-attack.js';
import { versusStep } from './steps/versus.js';
import { wholeStackStep } from './steps/whole-stack.js';
import { wettyVersion } from './wetty.js';

/** The steps, in the order they run. */
const STEPS: readonly Step[] = [
  throughputStep,
  echoStep,
  echoVsWettyStep,
  renderingStep,
  dashboardStep,
  editorStep,
  interruptStep,
  fairnessStep,
  scaleStep,
  firstPromptStep,
  memoryStep,
  wholeStackStep,
  underAttackStep,
  versusStep,
  imageStep,
  roomStep,
  roomServiceStep,
];

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

/** Rounds the numbers in raw results so the JSON stays readable. */
function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? value : round(value, 4);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  }
  return value;
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

  // `npm run bench -- <step> …` runs only those steps (names as in STEPS, spaces as dashes).
  const only = process.argv.slice(2);
  const chosen = only.length === 0 ? STEPS : STEPS.filter((step) => only.includes(step.name.replaceAll(' ', '-')));
  try {
    for (const step of chosen) {
      const start = performance.now();
      try {
        const made = await step.run({ work, raw, warnings });
        figures.push(...made);
        // A target added to a step's figures without listing it would make the registry lie about what the step promises.
        for (const figure of made) {
          if (figure.target && !step.targets.includes(figure.id)) {
            warnings.push(`${step.name}: ${figure.id} has a target its step does not list`);
          }
        }
        log(`${step.name} done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
      } catch (error) {
        const message = `${step.name}: ${error instanceof Error ? error.message : String(error)}`;
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
