// Keystroke echo round trip: one key sent, the same key back from a program on
// the pty (input → pty → program → pty → output), one after the other. Quiet, and
// while another session of the same server floods its page with `yes`; each both
// straight to the server and through the auth proxy, the two pages taking turns.
import { startTerminalServer } from '../test/harness/servers.js';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { type Endpoint, openEndpoint } from './endpoint.js';
import { percentile } from './stats.js';

export interface EchoResult {
  keystrokes: number;
  /** Every round trip in ms, in order. */
  samples: number[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Output bytes the flooding page received while the keystrokes were measured (0 when quiet). */
  floodBytes: number;
  floodSeconds: number;
}

// Every session runs this: it reads one line of input and runs it, so one server
// can hold both the echoing session and the flooding one.
export const LAUNCHER = ['bash', '--norc', '--noprofile', '-c', 'IFS= read -r line; eval "$line"'];
// Raw mode with no echo by the terminal: what comes back is what `cat` wrote.
// READY is printed in two pieces so the terminal's echo of this line cannot match it.
export const ECHO_PROGRAM = `stty raw -echo; printf '%s%s' RE ADY; exec cat\r`;
export const KEYS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A page on a session running the echo program, past its READY. */
export interface EchoPage {
  /** Sends one keystroke; resolves with the ms until it came back. */
  roundTrip(key: string): Promise<number>;
  close(): Promise<void>;
}

export async function openEchoPage(endpoint: Endpoint, name: string): Promise<EchoPage> {
  let seen = '';
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let echoed = -1; // bytes echoed since READY; -1 until then
  let waiting: { target: number; resolve: (at: number) => void } | undefined;
  const client = await TerminalClient.connect(endpoint.socketUrl(name), {
    headers: endpoint.headers,
    keepText: false,
    onOutput: (bytes) => {
      if (echoed < 0) {
        seen += bytes.toString('latin1');
        const at = seen.indexOf('READY');
        if (at < 0) return;
        echoed = seen.length - (at + 'READY'.length);
        ready();
      } else {
        echoed += bytes.length;
      }
      if (waiting && echoed >= waiting.target) {
        const done = waiting;
        waiting = undefined;
        done.resolve(performance.now());
      }
    },
  });
  try {
    client.type(ECHO_PROGRAM);
    await withTimeout(readyPromise, 10_000, () => `the echo program did not start: ${JSON.stringify(seen)}`);
  } catch (error) {
    await client.close();
    throw error;
  }
  let sent = 0;
  return {
    async roundTrip(key) {
      const target = echoed + 1;
      const back = new Promise<number>((resolve) => {
        waiting = { target, resolve };
      });
      const start = performance.now();
      client.type(key);
      const end = await withTimeout(back, 10_000, () => `keystroke ${sent} on ${name} did not come back`);
      sent++;
      return end - start;
    },
    async close() {
      await client.close();
    },
  };
}

/**
 * `count` round trips of single keystrokes on a new session per endpoint, each
 * sent when the previous one came back; the pages take turns, keystroke by
 * keystroke, starting with a different one each time. Samples per endpoint, in order.
 */
async function echoRoundTrips(endpoints: readonly Endpoint[], name: string, count: number): Promise<number[][]> {
  const pages: EchoPage[] = [];
  try {
    for (const endpoint of endpoints) pages.push(await openEchoPage(endpoint, `${name}-${endpoint.route}`));
    return await interleavedRoundTrips(pages, count);
  } finally {
    await Promise.all(pages.map((page) => page.close()));
  }
}

/**
 * `count` round trips on each page, each sent when the previous one came back;
 * the pages take turns, keystroke by keystroke, starting with a different one
 * each time. Samples per page, in order.
 */
export async function interleavedRoundTrips(pages: readonly EchoPage[], count: number): Promise<number[][]> {
  const runs = pages.map((page) => ({ page, samples: [] as number[] }));
  for (let i = 0; i < count; i++) {
    const key = KEYS[i % KEYS.length] as string;
    for (let j = 0; j < runs.length; j++) {
      const run = runs[(i + j) % runs.length] as (typeof runs)[number];
      run.samples.push(await run.page.roundTrip(key));
    }
  }
  return runs.map((run) => run.samples);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function summarize(samples: number[], floodBytes: number, floodSeconds: number): EchoResult {
  return {
    keystrokes: samples.length,
    samples,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    floodBytes,
    floodSeconds,
  };
}

export interface EchoResults {
  quiet: EchoResult;
  flood: EchoResult;
  /** The same through the auth proxy, measured alongside. */
  proxy: { quiet: EchoResult; flood: EchoResult };
}

/**
 * Echo round trips with nothing else going on, then the same while a third page
 * is attached (directly) to a session running `yes` and acknowledging as it goes.
 */
export async function measureEcho(count: number): Promise<EchoResults> {
  const terminal = await startTerminalServer({ TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
  const endpoints: Endpoint[] = [];
  try {
    endpoints.push(await openEndpoint('direct', terminal), await openEndpoint('proxy', terminal));
    const [quiet = [], proxyQuiet = []] = await echoRoundTrips(endpoints, 'echo-quiet', count);

    let floodBytes = 0;
    const flooder = await TerminalClient.connect(terminal.socketUrl('flood'), {
      ack: 'auto',
      keepText: false,
      onOutput: (bytes) => {
        floodBytes += bytes.length;
      },
    });
    try {
      flooder.type('exec yes\r');
      await flooder.waitFor(() => floodBytes > 4 << 20, 10_000);
      const before = floodBytes;
      const start = performance.now();
      const [flood = [], proxyFlood = []] = await echoRoundTrips(endpoints, 'echo-flood', count);
      const bytes = floodBytes - before;
      const seconds = (performance.now() - start) / 1000;
      return {
        quiet: summarize(quiet, 0, 0),
        flood: summarize(flood, bytes, seconds),
        proxy: { quiet: summarize(proxyQuiet, 0, 0), flood: summarize(proxyFlood, bytes, seconds) },
      };
    } finally {
      await flooder.close();
    }
  } finally {
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
    await terminal.close();
  }
}
