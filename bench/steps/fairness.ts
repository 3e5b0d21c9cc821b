// The `fairness` step: several sessions cat at once against one alone, and echo meanwhile.
import { measureFairness } from '../measure-fairness.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { echoFigures } from './echo-figures.js';
import { log, MB, type Step } from './step.js';

const FAIR_FILE_BYTES = 30e6;
const FAIR_SESSIONS = 8;
const FAIR_ROUNDS = 3;

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

export const fairnessStep: Step = {
  name: 'fairness',
  targets: ['fairness.ratio', 'fairness.deviation', 'fairness.echo.p99'],
  run: ({ work, raw }) => fairness(work, raw),
};
