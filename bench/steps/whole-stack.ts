// The `whole stack` step: supervisor/start.sh idle, its memory, start and stop.
import { measureStack } from '../measure-stack.js';
import type { Figure } from '../report.js';
import { log, MB, type Step } from './step.js';

const STACK_SETTLE_MS = 3000;

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

export const wholeStackStep: Step = {
  name: 'whole stack',
  targets: ['stack.pss'],
  run: ({ raw, warnings }) => stack(raw, warnings),
};
