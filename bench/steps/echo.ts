// The `echo` step: keystroke echo round trips, quiet and while another session floods,
// direct and through the auth proxy.
import { measureEcho } from '../measure-echo.js';
import type { Figure } from '../report.js';
import { echoFigures } from './echo-figures.js';
import { log, MB, type Step } from './step.js';

const KEYSTROKES = 2000;

async function echo(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `keystroke echo: ${KEYSTROKES} keystrokes quiet, then ${KEYSTROKES} during a flood; direct and through the proxy`,
  );
  const { quiet, flood, proxy } = await measureEcho(KEYSTROKES);
  raw.echo = { quiet, flood, proxy };
  return [
    ...echoFigures('echo.quiet', 'Keystroke echo round trip', quiet, { p50: 0.5, p99: 3 }),
    ...echoFigures('echo.proxy.quiet', 'Keystroke echo through the auth proxy', proxy.quiet, {
      p50: quiet.p50 + 1,
      p50Note: 'target: direct p50 + 1 ms',
    }),
    ...echoFigures('echo.flood', 'Keystroke echo while another session floods (yes)', flood, { p99: 50 }),
    ...echoFigures('echo.proxy.flood', 'Keystroke echo through the auth proxy during the flood', proxy.flood, {}),
    {
      id: 'echo.floodRatio',
      label: 'Echo p99 during the flood ÷ quiet p99',
      value: flood.p99 / quiet.p99,
      unit: '×',
      note: `flood delivered ${(flood.floodBytes / flood.floodSeconds / MB).toFixed(1)} MB/s meanwhile`,
    },
  ];
}

export const echoStep: Step = {
  name: 'echo',
  targets: ['echo.quiet.p50', 'echo.quiet.p99', 'echo.proxy.quiet.p50', 'echo.flood.p99'],
  run: ({ raw }) => echo(raw),
};
