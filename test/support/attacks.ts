// Attacks on the terminal server that the tests assert on and the benchmark
// measures, written once so both do the same thing.
import { type Requester, requesterHeaders } from '../../common/src/terminal-link.js';
import type { AttachedPage } from '../../terminal-server/src/protocol.js';
import { eventually, request, type TerminalProcess } from './servers.js';
import { TerminalClient } from './terminal-client.js';

export interface LyingPageResult {
  outputBytes: number;
  rssMiB: { baseline: number; peak: number; after: number };
}

/**
 * A page that stops reading its socket but claims to have processed
 * everything, all the time, while its session runs `yes` until it has
 * produced `outputBytes`; then the page goes and the session ends. The
 * server's RSS before, at the peak, and after.
 */
export async function lyingPage(terminal: TerminalProcess, outputBytes: number): Promise<LyingPageResult> {
  const rssMiB = () => terminal.rssKiB() / 1024;
  const page = await TerminalClient.connect(terminal.socketUrl('liar'), { ack: 'manual', keepText: false });
  const baseline = rssMiB();
  page.socket.pause();
  const liar = setInterval(() => page.ack(Number.MAX_SAFE_INTEGER), 5);
  let peak = baseline;
  try {
    page.type('yes\r');
    await eventually(
      async () => {
        peak = Math.max(peak, rssMiB());
        return ((await terminal.session('liar'))?.outputBytes ?? 0) > outputBytes;
      },
      600_000,
      `${outputBytes} bytes of output`,
    );
  } finally {
    clearInterval(liar);
  }
  // The page goes (its connection drops), then the session ends.
  page.socket.terminate();
  await eventually(async () => (await terminal.session('liar'))?.pages === 0, 30_000, 'the page to detach');
  await request(`${terminal.base}/terminal/api/sessions/liar`, { method: 'DELETE' });
  await eventually(async () => !(await terminal.session('liar')), 30_000, 'the session to end');
  return { outputBytes, rssMiB: { baseline, peak, after: rssMiB() } };
}

export interface StuckViewerResult {
  /** The owner's `seq 1 300000`, from the keystroke to the prompt after it, ms: with no viewer... */
  aloneMs: number[];
  /** ...and with a viewer that attached just before and stopped reading its socket (a new one each round). */
  watchedMs: number[];
  /** Each stuck viewer's page as the session API described it after its round. */
  viewers: AttachedPage[];
  /** The owner's page and the last round's viewer (still stuck), left open for the caller to close. */
  owner: TerminalClient;
  lastViewer: TerminalClient;
}

/**
 * A viewer whose page stops reading (its socket, so its acks stop too), while
 * the owner's session prints `seq 1 300000`: `rounds` runs alone and as many
 * with a new stuck viewer each, interleaved so a busy moment of the machine
 * weighs on both. Viewers before the last are dropped after their round.
 */
export async function stuckViewers(
  terminal: TerminalProcess,
  options: { session: string; owner: Requester; viewer: Requester; rounds: number },
): Promise<StuckViewerResult> {
  const url = terminal.socketUrl(options.session);
  let tail = '';
  const owner = await TerminalClient.connect(url, {
    headers: requesterHeaders(options.owner),
    keepText: false,
    onOutput: (bytes) => {
      tail = (tail + bytes.toString('latin1')).slice(-200);
    },
  });
  owner.type("PS1='READY> '\r");
  await owner.waitFor(() => tail.endsWith('READY> '));
  let runs = 0;
  const run = async (): Promise<number> => {
    // The marker is printed by arithmetic, so the echo of the command cannot match it.
    const done = `DONE-${++runs}\r\n`;
    const started = performance.now();
    owner.type(`seq 1 300000; echo DONE-$((${runs}))\r`);
    await owner.waitFor(() => tail.includes(done) && tail.endsWith('READY> '), 120_000);
    return performance.now() - started;
  };
  await run(); // the shell's first seq, and the history filling
  const result = { aloneMs: [] as number[], watchedMs: [] as number[], viewers: [] as AttachedPage[], owner };
  let lastViewer: TerminalClient | undefined;
  for (let round = 0; round < options.rounds; round++) {
    result.aloneMs.push(await run());
    const viewer = await TerminalClient.connect(url, { headers: requesterHeaders(options.viewer), keepText: false });
    const page = (await viewer.attached).page;
    viewer.socket.pause();
    result.watchedMs.push(await run());
    const seen = (await terminal.session(options.session))?.attached.find((p) => p.page === page);
    if (!seen) throw new Error(`the stuck viewer's page ${page} is not attached`);
    result.viewers.push(seen);
    if (round < options.rounds - 1) viewer.socket.terminate();
    else lastViewer = viewer;
  }
  if (!lastViewer) throw new Error('no rounds');
  return { ...result, lastViewer };
}
