// Attacks on the terminal server that the tests assert on and the benchmark
// measures, written once so both do the same thing.
import { spawn } from 'node:child_process';
import type { Page } from 'playwright-core';
import {
  ATTACH_QUERY,
  type AttachedPage,
  attachQueryValue,
  ClientType,
  encodeAttach,
} from '../../common/src/protocol.js';
import { type Requester, requesterHeaders } from '../../common/src/terminal-link.js';
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

/** What the content attack's script logs first thing when it runs: never seen when the defence holds. */
export const CONTENT_ATTACK_RAN = 'content attack: running';

/** What Chromium logs when a sandboxed document's script is not run. */
export const SANDBOX_REFUSAL = /sandboxed and the 'allow-scripts' permission is not set/;

/**
 * The first thing the page's console says about a script (call it before the
 * page opens the document): that the content attack's ran, that a
 * Content-Security-Policy refused one, that a sandbox ran none, or that one's
 * type is not a script's.
 */
export async function firstWordOnScript(page: Page): Promise<string> {
  const message = await page.waitForEvent('console', {
    predicate: (message) =>
      message.text() === CONTENT_ATTACK_RAN ||
      /Content Security Policy|sandboxed|Refused to execute script/.test(message.text()),
    timeout: 10_000,
  });
  return message.text();
}

/**
 * Files an attendee writes into the workshop's content folder (issue 20) to run
 * script in whoever opens them: diagram.svg loads diagram.js beside it, which
 * types `command` (and Enter) into the terminal session whose socket is at
 * `socketPath` (e.g. /user/erin/terminal/socket/1: on a hub's shared origin, the
 * watcher's own terminal); page.html does the same inline, and a picture's
 * onerror logs too.
 */
export function contentAttack(socketPath: string, command: string): Record<string, string> {
  const attach = attachQueryValue(encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }));
  const script = `console.log(${JSON.stringify(CONTENT_ATTACK_RAN)});
const socket = new WebSocket(new URL(${JSON.stringify(`${socketPath}?${ATTACH_QUERY}=${attach}`)}, location.href.replace(/^http/, 'ws')));
socket.onopen = () => socket.send(new Uint8Array([${ClientType.Input}, ...new TextEncoder().encode(${JSON.stringify(`${command}\r`)})]));
`;
  return {
    'diagram.svg':
      '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="teal"/><script href="diagram.js"/></svg>\n',
    'diagram.js': script,
    'page.html': `<!doctype html><title>notes</title><p>notes</p><img src="none.png" onerror="console.log(${JSON.stringify(CONTENT_ATTACK_RAN).replace(/"/g, '&quot;')})"><script>${script}</script>\n`,
  };
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

export interface Swapper {
  /** True while it is still swapping (it ends only when stopped, or on an error it exits with). */
  readonly running: boolean;
  stop(): Promise<void>;
}

/**
 * Makes `a` and `b` change places (one atomic renameat2 RENAME_EXCHANGE each
 * time) over and over, until stopped: with `a` a folder and `b` a link to a
 * folder outside the home folder, `a/file` is the inside file one moment and,
 * through the link, the outside one the next. Resolves once it swaps. Needs python3.
 */
export async function swapForever(a: string, b: string): Promise<Swapper> {
  const swapper = spawn(
    'python3',
    [
      '-c',
      `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
print('swapping', flush=True)
while True:
    if libc.renameat2(-100, a, -100, b, 2) != 0:
        sys.exit(os.strerror(ctypes.get_errno()))`,
      a,
      b,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => swapper.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    swapper.stdout.once('data', () => resolve());
    swapper.once('exit', (code) => reject(new Error(`the swapper ended (${code}) before it started`)));
  });
  return {
    get running() {
      return swapper.exitCode === null && swapper.signalCode === null;
    },
    async stop() {
      swapper.kill();
      await exited;
    },
  };
}
