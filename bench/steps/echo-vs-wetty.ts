// The `echo vs wetty` step: keystroke echo of the server in its own process beside wetty's,
// quiet and during a flood.
import { measureEchoVsWetty } from '../measure-wetty.js';
import type { Figure } from '../report.js';
import { echoFigures } from './echo-figures.js';
import { log, MB, type Step } from './step.js';

const KEYSTROKES = 2000;

async function echoVsWetty(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(`keystroke echo vs wetty: ${KEYSTROKES} keystrokes each quiet (alternating), then each during its own flood`);
  const result = await measureEchoVsWetty(work, KEYSTROKES);
  raw.echoVsWetty = result;
  const { ours, wetty } = result;
  return [
    ...echoFigures('vsWetty.echo.ours.quiet', 'Keystroke echo, ours in its own process (beside wetty)', ours.quiet, {}),
    ...echoFigures('vsWetty.echo.wetty.quiet', 'wetty: keystroke echo round trip', wetty.quiet, {}),
    {
      id: 'vsWetty.echo.quietP50Ratio',
      label: 'Echo p50, ours ÷ wetty',
      value: ours.quiet.p50 / wetty.quiet.p50,
      unit: '×',
      target: { op: '<=', value: 1 },
    },
    {
      id: 'vsWetty.echo.quietP99Ratio',
      label: 'Echo p99, ours ÷ wetty',
      value: ours.quiet.p99 / wetty.quiet.p99,
      unit: '×',
      target: { op: '<=', value: 1 },
    },
    ...echoFigures(
      'vsWetty.echo.ours.flood',
      'Keystroke echo, ours in its own process, while another of its sessions floods (yes)',
      ours.flood,
      {},
    ),
    ...echoFigures(
      'vsWetty.echo.wetty.flood',
      'wetty: keystroke echo while another wetty session floods (yes)',
      wetty.flood,
      {},
    ),
    {
      id: 'vsWetty.echo.floodP99Ratio',
      label: 'Echo p99 during a flood, ours ÷ wetty',
      value: ours.flood.p99 / wetty.flood.p99,
      unit: '×',
      target: { op: '<=', value: 1 },
      note: `floods delivered: ours ${(ours.flood.floodBytes / ours.flood.floodSeconds / MB).toFixed(1)} MB/s, wetty ${(
        wetty.flood.floodBytes / wetty.flood.floodSeconds / MB
      ).toFixed(1)} MB/s`,
    },
    {
      id: 'vsWetty.wettyStart',
      label: 'wetty: process start → its page answers 200',
      value: wetty.startMs,
      unit: 'ms',
    },
  ];
}

export const echoVsWettyStep: Step = {
  name: 'echo vs wetty',
  targets: ['vsWetty.echo.quietP50Ratio', 'vsWetty.echo.quietP99Ratio', 'vsWetty.echo.floodP99Ratio'],
  run: ({ work, raw }) => echoVsWetty(work, raw),
};
