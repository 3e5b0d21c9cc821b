// The `memory` step: the server's RSS with no sessions and per idle session.
import { measureMemory } from '../measure-memory.js';
import type { Figure } from '../report.js';
import { log, type Step } from './step.js';

const IDLE_SESSIONS = 50;

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

export const memoryStep: Step = {
  name: 'memory',
  targets: ['memory.perSession', 'memory.perDetachedSession'],
  run: ({ raw }) => memory(raw),
};
