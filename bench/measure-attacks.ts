// The stack under attack: what an attacker gets, and what the people using it
// still get meanwhile. Figures for the defences the tests prove exist.
import http from 'node:http';
import { type Requester, requesterHeaders } from '../common/src/terminal-link.js';
import { type LyingPageResult, lyingPage, stuckViewers } from '../test/harness/attacks.js';
import { startAuthProxy, startTerminalProcess, startTerminalServer } from '../test/harness/servers.js';
import { TerminalClient } from '../test/harness/terminal-client.js';
import type { Endpoint } from './endpoint.js';
import { KEYS, LAUNCHER, openEchoPage } from './measure-echo.js';
import { median, percentile } from './stats.js';

export interface GuessingResult {
  seconds: number;
  /** Guesses whose answer came within the attacker's patience (checked: 401, or 302 for a right one). */
  checked: number;
  /** Guesses refused unchecked (429). */
  refused: number;
  /** Guesses the attacker dropped for being slow. */
  dropped: number;
  /** The real user, from another address during the attack: login → answer, ms. */
  userLoginMs: number;
}

/** One request from `from`, given up after `patienceMs`: the status, or 0 when dropped. */
function guess(url: string, headers: Record<string, string>, from: string, patienceMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, localAddress: from, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setTimeout(patienceMs, () => {
      req.destroy();
      resolve(0);
    });
    req.on('error', () => resolve(0));
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * Password guessing against basic authentication by one client that keeps
 * `concurrency` guesses in flight and drops every answer slower than
 * `patienceMs` (a right guess used to come back at once). `rotate`: a new
 * X-Forwarded-For per guess, with TRUST_PROXY=true.
 */
export async function measureGuessing(options: {
  seconds: number;
  concurrency: number;
  patienceMs: number;
  rotate: boolean;
}): Promise<GuessingResult> {
  const terminal = await startTerminalServer();
  const proxy = await startAuthProxy(
    { AUTH_USERNAME: 'grumpy', AUTH_PASSWORD: 'correct horse', ...(options.rotate ? { TRUST_PROXY: 'true' } : {}) },
    terminal.port,
  );
  const url = `${proxy.base}/terminal/`;
  const result: GuessingResult = { seconds: options.seconds, checked: 0, refused: 0, dropped: 0, userLoginMs: 0 };
  try {
    const end = performance.now() + options.seconds * 1000;
    let n = 0;
    const attacker = async () => {
      while (performance.now() < end) {
        const i = n++;
        const headers: Record<string, string> = { Authorization: basic('grumpy', `guess-${i}`) };
        if (options.rotate) headers['X-Forwarded-For'] = `198.18.${(i >> 8) & 255}.${i & 255}`;
        const status = await guess(url, headers, '127.0.0.2', options.patienceMs);
        if (status === 429) result.refused++;
        else if (status === 0) result.dropped++;
        else result.checked++;
      }
    };
    const attack = Promise.all(Array.from({ length: options.concurrency }, attacker));
    // The real user logs in from elsewhere halfway through.
    await new Promise((r) => setTimeout(r, (options.seconds * 1000) / 2));
    const start = performance.now();
    const status = await guess(url, { Authorization: basic('grumpy', 'correct horse') }, '127.0.0.3', 60_000);
    result.userLoginMs = status === 302 ? performance.now() - start : Number.NaN;
    await attack;
  } finally {
    await proxy.close();
    await terminal.close();
  }
  return result;
}

export interface BadFramesResult {
  pages: number;
  framesEach: number;
  /** Another session's keystroke echo while the flood is handled. */
  echo: { p50: number; p99: number; max: number; keystrokes: number };
  /** What the server wrote to its log because of the flood. */
  logBytes: number;
  /** Close codes the flooding pages got. */
  closeCodes: number[];
}

/**
 * `pages` pages each send `framesEach` frames of an unknown type in one burst
 * (7 bytes each on the wire) while another session's keystrokes are echoed.
 */
export async function measureBadFrames(options: {
  pages: number;
  framesEach: number;
  keystrokes: number;
}): Promise<BadFramesResult> {
  const terminal = await startTerminalProcess({ LOG_LEVEL: 'info', TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
  try {
    const endpoint: Endpoint = {
      route: 'direct',
      socketUrl: terminal.socketUrl,
      headers: {},
      close: async () => {},
    };
    const calm = await openEchoPage(endpoint, 'calm');
    const floods = await Promise.all(
      Array.from({ length: options.pages }, (_, i) => TerminalClient.connect(terminal.socketUrl(`flood${i}`))),
    );
    const logBefore = terminal.run.output().length;
    const unknown = new Uint8Array([0x7f]);
    for (const flood of floods) for (let i = 0; i < options.framesEach; i++) flood.socket.send(unknown);
    const samples: number[] = [];
    for (let i = 0; i < options.keystrokes; i++) samples.push(await calm.roundTrip(KEYS[i % KEYS.length] as string));
    const closeCodes = await Promise.all(floods.map((f) => f.closed.then((c) => c.code)));
    await calm.close();
    const log = await terminal.stop();
    return {
      pages: options.pages,
      framesEach: options.framesEach,
      echo: {
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
        max: Math.max(...samples),
        keystrokes: samples.length,
      },
      logBytes: log.length - logBefore,
      closeCodes,
    };
  } finally {
    await terminal.stop();
  }
}

export type { LyingPageResult } from '../test/harness/attacks.js';

/**
 * A page that stops reading its socket but acknowledges everything, all the
 * time, while its session runs `yes`: the server's RSS before, at the peak,
 * and after the page and the session have gone.
 */
export async function measureLyingPage(outputBytes: number): Promise<LyingPageResult> {
  const terminal = await startTerminalProcess();
  try {
    return await lyingPage(terminal, outputBytes);
  } finally {
    await terminal.stop();
  }
}

const OWNER: Requester = { user: 'alice', access: 'owner', owner: 'alice', sharedOrigin: false };
const VIEWER: Requester = { user: 'bob', access: 'viewer', owner: 'alice', sharedOrigin: false };

export interface StuckViewerFigures {
  rounds: number;
  aloneMs: number[];
  watchedMs: number[];
  /** Median with a stuck viewer ÷ median alone. */
  ratio: number;
  /** Times a stuck viewer paused the owner's program, over all rounds. */
  viewerPauses: number;
}

/** The owner's `seq 1 300000` alone and with a viewer that stopped reading, interleaved. */
export async function measureStuckViewer(rounds: number): Promise<StuckViewerFigures> {
  const terminal = await startTerminalProcess({ TERMINAL_HISTORY_BYTES: '4MiB' });
  try {
    const runs = await stuckViewers(terminal, { session: 'watched', owner: OWNER, viewer: VIEWER, rounds });
    runs.lastViewer.socket.terminate();
    await runs.owner.close();
    return {
      rounds,
      aloneMs: runs.aloneMs,
      watchedMs: runs.watchedMs,
      ratio: median(runs.watchedMs) / median(runs.aloneMs),
      viewerPauses: runs.viewers.reduce((sum, page) => sum + page.pauses, 0),
    };
  } finally {
    await terminal.stop();
  }
}

export interface PageCrowdResult {
  pages: number;
  attached: number;
  refused: number;
  /** Control bytes the attached pages (all the owner's) were sent, from the first attach to the last close. */
  controlBytes: number;
  /** Keystroke echo in another session meanwhile. */
  echo: { p50: number; p99: number; max: number; keystrokes: number };
  rssMiB: { baseline: number; peak: number };
}

/**
 * `pages` pages of the owner's login open one session at once, then all
 * close, while another session's keystrokes are echoed.
 */
export async function measurePageCrowd(pages: number): Promise<PageCrowdResult> {
  const terminal = await startTerminalProcess({ TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
  try {
    const endpoint: Endpoint = { route: 'direct', socketUrl: terminal.socketUrl, headers: {}, close: async () => {} };
    const calm = await openEchoPage(endpoint, 'calm');
    const baseline = terminal.rssKiB() / 1024;
    let peak = baseline;
    const samples: number[] = [];
    let running = true;
    const typing = (async () => {
      for (let i = 0; running; i++) {
        samples.push(await calm.roundTrip(KEYS[i % KEYS.length] as string));
        peak = Math.max(peak, terminal.rssKiB() / 1024);
      }
    })();
    let crowd: TerminalClient[] = [];
    try {
      const first = await TerminalClient.connect(terminal.socketUrl('crowd'), { headers: requesterHeaders(OWNER) });
      crowd = [
        first,
        ...Array.from({ length: pages - 1 }, () =>
          TerminalClient.start(terminal.socketUrl('crowd'), { headers: requesterHeaders(OWNER) }),
        ),
      ];
      await Promise.all(crowd.map((page) => page.attached.catch(() => page.closed)));
      await Promise.all(crowd.map((page) => page.close()));
    } finally {
      running = false;
      await typing;
    }
    await calm.close();
    const attached = crowd.filter((page) => page.controls.some((m) => m.type === 'attached'));
    return {
      pages,
      attached: attached.length,
      refused: pages - attached.length,
      controlBytes: attached.reduce((sum, page) => sum + page.controlBytes, 0),
      echo: {
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
        max: Math.max(...samples),
        keystrokes: samples.length,
      },
      rssMiB: { baseline, peak },
    };
  } finally {
    await terminal.stop();
  }
}
