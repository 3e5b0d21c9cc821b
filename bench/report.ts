// The benchmark's results: figures with their targets, rendered as a Markdown
// table and written with the raw measurements to bench/results/<date>.{json,md}.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  id: string;
  label: string;
  /** Null when the measurement could not be made. */
  value: number | null;
  unit: string;
  /** Figures without a target are for information (context for the ones with one). */
  target?: Target;
  note?: string;
}

export type Status = 'pass' | 'miss' | 'info' | 'error';

export function status(figure: Figure): Status {
  if (figure.value === null || !Number.isFinite(figure.value)) return 'error';
  if (!figure.target) return 'info';
  const { op, value } = figure.target;
  return (op === '>=' ? figure.value >= value : figure.value <= value) ? 'pass' : 'miss';
}

export interface Results {
  date: string;
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  figures: (Figure & { status: Status })[];
  errors: string[];
  warnings: string[];
  raw: Record<string, unknown>;
}

function formatNumber(value: number, unit: string): string {
  if (unit === '×') return value.toFixed(2);
  if (Number.isInteger(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toFixed(digits);
}

function withUnit(value: number, unit: string): string {
  const text = formatNumber(value, unit);
  return unit === '×' ? `${text}×` : `${text} ${unit}`;
}

const STATUS_TEXT: Record<Status, string> = { pass: 'pass', miss: '**miss**', info: '—', error: '**error**' };

export function markdownTable(figures: readonly (Figure & { status: Status })[]): string {
  const rows = [
    '| Figure | Value | Target | Result |',
    '| --- | ---: | ---: | :---: |',
    ...figures.map((f) => {
      const value = f.value === null || !Number.isFinite(f.value) ? 'n/a' : withUnit(f.value, f.unit);
      const target = f.target ? `${f.target.op === '>=' ? '≥' : '≤'} ${withUnit(f.target.value, f.unit)}` : '';
      const label = f.note ? `${f.label} (${f.note})` : f.label;
      return `| ${label} | ${value} | ${target} | ${STATUS_TEXT[f.status]} |`;
    }),
  ];
  return rows.join('\n');
}

export function markdownReport(results: Results, chartFile?: string): string {
  const m = results.machine;
  const lines = [
    `# Terminal server benchmark, ${results.date}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryMiB} MiB, ${m.platform} ${m.release}; Node ${m.node}; ` +
      `${m.python ?? 'no python3'}. Load average at start ${String(m.loadAverageAtStart).replaceAll(',', ', ')}, ` +
      `at end ${String(m.loadAverageAtEnd).replaceAll(',', ', ')}. ` +
      `Commit ${m.commit}${m.dirty ? ' (with uncommitted changes)' : ''}. Took ${results.durationSeconds.toFixed(0)} s.`,
    '',
    markdownTable(results.figures),
    '',
    ...(chartFile ? [`Summary chart: [${chartFile}](${chartFile})`, '', `![Summary chart](${chartFile})`, ''] : []),
    'Throughput figures are medians of 3 runs measured side by side (interleaved) in one run; MB/s is 10⁶ bytes/s.',
    'The raw pty ceiling is the faster of node-pty alone and Python reading the pty master, each running the same `cat`.',
    'Throughput, echo and first prompt use the server in the benchmark process (the headless page shares its thread);',
    'memory uses the built server (dist/) as its own process, read from /proc/<pid>/status after a full GC.',
    '"Through the auth proxy": the page connects to the auth proxy (basic authentication, also in the benchmark',
    'process) in front of the same server; proxy and direct runs are interleaved, echo keystrokes alternate between them.',
    'The whole stack is `bash supervisor/start.sh` (dist/, AUTH_USERNAME=*, no sessions) read 3 s after /readyz',
    'answers 200: VmRSS and PSS (smaps_rollup) of start.sh and every process below it; its MB are 10⁶ bytes.',
    'wetty (the npm package, as its own process on 127.0.0.1, running the command as root without login) is measured',
    'in the same run: its throughput runs are interleaved with ours; its headless page speaks socket.io (WebSocket',
    'transport from the start) and commits every 256 Ki characters as its browser page does. Echo "vs wetty" compares',
    'the built server in its own process (page straight to it) with wetty, keystrokes alternating between the two',
    'while quiet; during a flood each runs under a `yes` flood in another of its own sessions, one after the other.',
    'Rendering: headless Chromium (--disable-gpu: WebGL through the software rasterizer), a fresh browser context per',
    "run, our page and wetty's alternating, each session running `cat <file>; exec sleep 3600` (wetty loses the end",
    "of the output of a program that exits); the time is the page's performance.now() at the first frame its xterm.js",
    'draws (onRender) with the last line of the file on the screen.',
    'Interrupt, fairness and scale use the built server in its own process; interrupt goes through the auth proxy.',
    'Scale: CPU of the server process from /proc/<pid>/stat (utime + stime) over the typing window.',
    'Room: the real JupyterHub 3 (Debian; DummyAuthenticator, SimpleLocalProcessSpawner running',
    "supervisor/start-singleuser); each user logs in as a browser would (login form, the spawn-pending page's progress",
    "events, the OAuth round trip) and attaches through the hub's proxy with the page's protocol client; memory from",
    '/proc (VmRSS, smaps_rollup Pss) 3 s after the last user answered, with a terminal open in each stack.',
    'Raw figures are in the JSON file of the same name.',
  ];
  if (results.warnings.length > 0) lines.push('', '## Warnings', '', ...results.warnings.map((w) => `- ${w}`));
  if (results.errors.length > 0) lines.push('', '## Errors', '', ...results.errors.map((e) => `- ${e}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Writes <dir>/<date>.json, <dir>/<date>.md and, when given, the chart <dir>/<date>.svg
 * (each through a .tmp file); returns their paths.
 */
export function writeResults(
  dir: string,
  results: Results,
  chart?: string,
): { json: string; markdown: string; chart: string | null } {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${results.date}.json`);
  const markdown = path.join(dir, `${results.date}.md`);
  const svg = chart === undefined ? null : path.join(dir, `${results.date}.svg`);
  const write = (file: string, content: string) => {
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
  };
  // Arrays of numbers (round-trip samples, memory curve points) on one line each.
  const text = JSON.stringify(results, null, 2).replace(
    /\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g,
    (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`,
  );
  write(json, `${text}\n`);
  if (svg !== null && chart !== undefined) write(svg, chart);
  write(markdown, markdownReport(results, svg === null ? undefined : path.basename(svg)));
  return { json, markdown, chart: svg };
}
