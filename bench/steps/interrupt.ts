// The `interrupt` step: Ctrl-C during yes, through the auth proxy, until the prompt is back.
import { measureInterrupt } from '../measure-interrupt.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { log, type Step } from './step.js';

const INTERRUPT_RUNS = 5;

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

export const interruptStep: Step = {
  name: 'interrupt',
  targets: ['interrupt.median'],
  run: ({ raw }) => interrupt(raw),
};
