// The `scale` step: 200 sessions open, some of them typing, and the server's echo, CPU and memory.
import { measureScale } from '../measure-scale.js';
import type { Figure } from '../report.js';
import { echoFigures } from './echo-figures.js';
import { log, type Step } from './step.js';

const SCALE_SESSIONS = 200;
const SCALE_TYPING = 20;
const SCALE_INTERVAL_MS = 100;
const SCALE_TYPING_MS = 20_000;

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

export const scaleStep: Step = {
  name: 'scale',
  targets: ['scale.opened', 'scale.errors', 'scale.echo.p99'],
  run: ({ raw }) => scale(raw),
};
