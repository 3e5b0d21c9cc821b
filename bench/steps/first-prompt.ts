// The `first prompt` step: connect → first byte of a new session's bash.
import { measureFirstPrompt } from '../measure-first-prompt.js';
import type { Figure } from '../report.js';
import { log, type Step } from './step.js';

const PROMPT_RUNS = 20;

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

export const firstPromptStep: Step = {
  name: 'first prompt',
  targets: ['prompt.median', 'prompt.p90'],
  run: ({ raw }) => firstPrompt(raw),
};
