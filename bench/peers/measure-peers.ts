// Side by side with the peers, every figure in interleaved rounds: each round
// measures every peer once (in a rotated order), and ratios are taken per round,
// so a noisy moment of the shared machine hits all of them alike. The report
// gives the median of the per-round ratios.
import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../common/src/paths.js';
import { ECHO_PROGRAM, KEYS } from '../measure-echo.js';
import type { TextFile } from '../measure-throughput.js';
import { processCpu, processMemory } from '../processes.js';
import { median, percentile } from '../stats.js';
import type { Peer, PeerLink } from './peers.js';

/** Output of a connection as it arrives: bytes counted, the last few kept to find markers in. */
export class Stream {
  bytes = 0;
  private tail = '';
  private waiters: { test: () => boolean; resolve: (at: number) => void }[] = [];

  feed = (chunk: Uint8Array | string): void => {
    const now = performance.now();
    this.bytes += chunk.length;
    const text =
      typeof chunk === 'string'
        ? chunk.slice(-128)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).subarray(-128).toString('latin1');
    this.tail = (this.tail + text).slice(-256);
    if (this.waiters.length === 0) return;
    const still = [];
    for (const waiter of this.waiters) {
      if (waiter.test()) waiter.resolve(now);
      else still.push(waiter);
    }
    this.waiters = still;
  };

  /** Resolves with the time the marker arrived (it must come after this call). */
  marker(text: string, timeoutMs: number): Promise<number> {
    this.tail = '';
    return this.until(
      () => {
        if (!this.tail.includes(text)) return false;
        this.tail = '';
        return true;
      },
      timeoutMs,
      `"${text}"`,
    );
  }

  /** The last few characters received. */
  get last(): string {
    return this.tail;
  }

  /** Resolves with the time the byte count reached `bytes`. */
  count(bytes: number, timeoutMs: number): Promise<number> {
    return this.until(() => this.bytes >= bytes, timeoutMs, `${bytes} bytes`);
  }

  private until(test: () => boolean, timeoutMs: number, what: string): Promise<number> {
    if (test()) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

/** CPU seconds (user + system) the processes have used so far, not counting their children. */
export function cpuSeconds(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + (processCpu(pid)?.ownMs ?? 0), 0) / 1000;
}

interface Connected {
  link: PeerLink;
  stream: Stream;
}

async function connect(peer: Peer, session: string): Promise<Connected> {
  const stream = new Stream();
  const link = await peer.open(session, stream.feed);
  return { link, stream };
}

/** Makes the shell say READY (typed in two pieces, so its echo cannot match). */
async function ready(connected: Connected): Promise<void> {
  const marker = connected.stream.marker('READY', 20_000);
  connected.link.type(`echo RE''ADY\r`);
  await marker;
}

/** Ends the shell and the connection. */
async function hangUp(connected: Connected): Promise<void> {
  connected.link.type('\x03');
  connected.link.type('exit\r');
  const closed = await Promise.race([
    connected.link.closed.then(() => true),
    new Promise((r) => setTimeout(() => r(false), 5000)),
  ]);
  if (!closed) await connected.link.close();
}

let sessionCounter = 0;
const newSession = (prefix: string) => `${prefix}-${++sessionCounter}`;

export interface ThroughputSample {
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  /** CPU seconds of the peer's serving processes meanwhile. */
  serverCpuSeconds: number;
  complete: boolean;
}

/** `cat` of the file typed into a fresh shell; from the Enter to the marker after it. */
export async function throughputRun(peer: Peer, text: TextFile): Promise<ThroughputSample> {
  const connected = await connect(peer, newSession('cat'));
  try {
    await ready(connected);
    const pids = peer.serverPids();
    const before = connected.stream.bytes;
    const done = connected.stream.marker('DONE', 300_000);
    const cpu = cpuSeconds(pids);
    const start = performance.now();
    connected.link.type(`cat ${text.file}; echo DO''NE\r`);
    const end = await done;
    const serverCpuSeconds = cpuSeconds(pids) - cpu;
    const bytes = connected.stream.bytes - before;
    const seconds = (end - start) / 1000;
    return {
      bytes,
      seconds,
      bytesPerSecond: text.expectedBytes / seconds,
      serverCpuSeconds,
      complete: bytes >= text.expectedBytes,
    };
  } finally {
    await hangUp(connected);
  }
}

/** The raw ceiling: the C reader (bench/peers/raw-pty.c) running the same `cat`, built once. */
export function buildRawReader(work: string): string {
  const binary = path.join(work, 'raw-pty');
  execFileSync('cc', ['-O2', '-o', binary, path.join(projectRoot(), 'bench', 'peers', 'raw-pty.c'), '-lutil']);
  return binary;
}

export function rawRun(binary: string, text: TextFile): Promise<ThroughputSample> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['cat', text.file], { timeout: 300_000 }, (error, stdout) => {
      const [bytes, , seconds, cpu] = stdout.trim().split(/\s+/).map(Number);
      if (error || !(Number(seconds) > 0)) {
        reject(error ?? new Error(`raw-pty printed ${stdout}`));
        return;
      }
      resolve({
        bytes: bytes as number,
        seconds: seconds as number,
        bytesPerSecond: text.expectedBytes / (seconds as number),
        serverCpuSeconds: cpu as number,
        complete: bytes === text.expectedBytes,
      });
    });
  });
}

/** A shell turned into an echo program: raw mode, no terminal echo, `cat` sending back each key. */
export interface EchoLink {
  peer: Peer;
  /** Round trips whose echo was not the key alone (output that was not the echo came in). */
  readonly strays: number;
  roundTrip(key: string): Promise<number>;
  close(): Promise<void>;
}

export async function openEcho(peer: Peer): Promise<EchoLink> {
  const connected = await connect(peer, newSession('echo'));
  const readyAt = connected.stream.marker('READY', 20_000);
  connected.link.type(ECHO_PROGRAM);
  await readyAt;
  let strays = 0;
  return {
    peer,
    get strays() {
      return strays;
    },
    async roundTrip(key) {
      const target = connected.stream.bytes + key.length;
      const start = performance.now();
      const back = connected.stream.count(target, 10_000);
      connected.link.type(key);
      const at = await back;
      if (connected.stream.bytes !== target || !connected.stream.last.endsWith(key)) strays++;
      return at - start;
    },
    close: () => hangUp(connected),
  };
}

/** `count` keystrokes on each link, the links taking turns key by key; ms per link. */
export async function interleavedEcho(links: readonly EchoLink[], count: number): Promise<number[][]> {
  const samples = links.map(() => [] as number[]);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < links.length; j++) {
      const k = (i + j) % links.length;
      const key = KEYS[(i + k) % KEYS.length] as string;
      (samples[k] as number[]).push(await (links[k] as EchoLink).roundTrip(key));
    }
  }
  return samples;
}

/** A flood of `yes` in another shell of the same peer, until stopped. */
export async function startFlood(peer: Peer): Promise<{ bytes(): number; stop(): Promise<void> }> {
  const connected = await connect(peer, newSession('flood'));
  await ready(connected);
  const flowing = connected.stream.count(connected.stream.bytes + (1 << 20), 20_000);
  connected.link.type('yes\r');
  await flowing;
  return { bytes: () => connected.stream.bytes, stop: () => hangUp(connected) };
}

/** ms from opening the connection to its first output byte. */
export async function firstOutput(peer: Peer, session: string, hangUpAfter: boolean): Promise<number> {
  const stream = new Stream();
  const start = performance.now();
  const link = await peer.open(session, stream.feed);
  const at = await stream.count(1, 20_000);
  if (hangUpAfter) await hangUp({ link, stream });
  else await link.close();
  return at - start;
}

export interface PeerMemory {
  /** Summed over the serving processes. */
  rssKiB: number;
  pssKiB: number;
  processes: number;
}

export function memoryOf(pids: readonly number[]): PeerMemory {
  let rssKiB = 0;
  let pssKiB = 0;
  let processes = 0;
  for (const pid of pids) {
    const memory = processMemory(pid);
    if (!memory) continue;
    rssKiB += memory.rssKiB;
    pssKiB += memory.pssKiB;
    processes++;
  }
  return { rssKiB, pssKiB, processes };
}

export const percentiles = (samples: readonly number[]) => ({
  p50: percentile(samples, 50),
  p99: percentile(samples, 99),
});

/** The median of per-round ratios a[i] ÷ b[i]. */
export function ratio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, i) => value / (b[i] as number)));
}
