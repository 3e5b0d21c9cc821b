// The `versus` step: the whole stack beside ttyd (when TTYD names its binary), wetty, a naive
// node-pty + ws server and the raw pty ceiling (bench/peers/).
import { versus } from '../peers/versus.js';
import type { Step } from './step.js';

export const versusStep: Step = {
  name: 'versus',
  targets: [
    // Against ttyd, only when it ran.
    'versus.ratio.echo.ttyd',
    'versus.ratio.echoFlood.ttyd',
    'versus.ratio.throughput.ttyd',
    'versus.ratio.cpu.ttyd',
    'versus.ratio.reattach.ttyd',
    'versus.ratio.fresh.ttyd',
    'versus.echo.ours.p99',
    'versus.ratio.throughput.raw',
    'versus.stack.pss',
    'versus.stack.rss',
  ],
  run: ({ work, raw }) => versus(work, raw),
};
