// Attacks on the terminal server that the tests assert on and the benchmark
// measures, written once so both do the same thing.
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
