// The p50/p90/p99 figures of a keystroke echo measurement, shared by the steps that measure echo.
import type { EchoResult } from '../measure-echo.js';
import type { Figure } from '../report.js';

export function echoFigures(
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
