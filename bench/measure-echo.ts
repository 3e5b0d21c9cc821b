// Keystroke echo round trip: one key sent, the same key back from a program on
// the pty (input → pty → program → pty → output), one after the other. Quiet, and
// while another session of the same server floods its page with `yes`.
import { startTerminalServer } from '../test/support/servers.js';
import { TerminalClient } from '../test/support/terminal-client.js';
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
const LAUNCHER = ['bash', '--norc', '--noprofile', '-c', 'IFS= read -r line; eval "$line"'];
// Raw mode with no echo by the terminal: what comes back is what `cat` wrote.
// READY is printed in two pieces so the terminal's echo of this line cannot match it.
const ECHO_PROGRAM = `stty raw -echo; printf '%s%s' RE ADY; exec cat\r`;
const KEYS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Round trips of `count` single keystrokes, each sent when the previous one came back. */
async function echoRoundTrips(url: string, count: number): Promise<number[]> {
  let seen = '';
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let echoed = -1; // bytes echoed since READY; -1 until then
  let waiting: { target: number; resolve: (at: number) => void } | undefined;
  const client = await TerminalClient.connect(url, {
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
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const target = echoed + 1;
      const back = new Promise<number>((resolve) => {
        waiting = { target, resolve };
      });
      const start = performance.now();
      client.type(KEYS[i % KEYS.length] as string);
      const end = await withTimeout(back, 10_000, () => `keystroke ${i} did not come back`);
      samples.push(end - start);
    }
    return samples;
  } finally {
    await client.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function summarize(samples: number[], floodBytes: number, floodSeconds: number): EchoResult {
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

/**
 * Echo round trips with nothing else going on, then the same while a second
 * page is attached to a session running `yes` and acknowledging as it goes.
 */
export async function measureEcho(count: number): Promise<{ quiet: EchoResult; flood: EchoResult }> {
  const terminal = await startTerminalServer({ TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
  try {
    const quiet = summarize(await echoRoundTrips(terminal.socketUrl('echo-quiet'), count), 0, 0);

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
      const samples = await echoRoundTrips(terminal.socketUrl('echo-flood'), count);
      const seconds = (performance.now() - start) / 1000;
      return { quiet, flood: summarize(samples, floodBytes - before, seconds) };
    } finally {
      await flooder.close();
    }
  } finally {
    await terminal.close();
  }
}
