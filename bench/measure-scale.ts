// Scale: many concurrent sessions on one server (the built one, as its own
// process), each with its page attached; most idle (bash waiting for a line), some
// typing a keystroke every ~100 ms to `cat` in raw mode, echo measured per keystroke.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { openEndpoint } from './endpoint.js';
import { type EchoPage, type EchoResult, KEYS, LAUNCHER, openEchoPage, summarize } from './measure-echo.js';
import { startServerProcess } from './server-process.js';

export interface ScaleResults {
  sessions: number;
  typing: number;
  /** Sessions whose page attached (and, for the typing ones, whose echo program started). */
  opened: number;
  /** ms to open them all (in batches). */
  openMs: number;
  intervalMs: number;
  typingSeconds: number;
  /** Failures: sessions that did not open, pages closed meanwhile, error messages, keystrokes not echoed. */
  errors: number;
  errorMessages: string[];
  echo: EchoResult;
  /** CPU time of the server process during the typing window, seconds, and as a share of one core. */
  serverCpuSeconds: number;
  serverCpuShare: number;
  /** RSS of the server process with every session open, KiB. */
  serverRssKiB: number;
}

const BATCH = 25;

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureScale(
  sessions: number,
  typing: number,
  intervalMs: number,
  typingMs: number,
): Promise<ScaleResults> {
  const server = await startServerProcess({
    TERMINAL_COMMAND: JSON.stringify(LAUNCHER),
    TERMINAL_MAX_SESSIONS: String(sessions + 10),
  });
  const endpoint = await openEndpoint('direct', server);
  const idle: TerminalClient[] = [];
  const typists: EchoPage[] = [];
  const errorMessages: string[] = [];
  let unexpectedCloses = 0;
  let stopping = false;
  try {
    const openStart = performance.now();
    for (let first = 0; first < sessions; first += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, sessions - first) }, (_, i) => first + i);
      const opened = await Promise.allSettled(
        batch.map(async (n) => {
          if (n < typing) {
            typists.push(await openEchoPage(endpoint, `scale-${n}`));
          } else {
            const client = await TerminalClient.connect(endpoint.socketUrl(`scale-${n}`), { keepText: false });
            idle.push(client);
            void client.closed.then(() => {
              if (!stopping) unexpectedCloses++;
            });
          }
        }),
      );
      for (const result of opened) {
        if (result.status === 'rejected') errorMessages.push(`open: ${String(result.reason)}`);
      }
    }
    const openMs = performance.now() - openStart;
    const serverRssKiB = server.rssKiB();

    const ticks = clockTicksPerSecond();
    const samples: number[] = [];
    const cpuBefore = cpuTicks(server.pid);
    const start = performance.now();
    const end = start + typingMs;
    await Promise.all(
      typists.map(async (page, t) => {
        // Each typist on its own phase, so the keystrokes are spread over the interval.
        let next = start + (t * intervalMs) / typists.length;
        for (let k = 0; ; k++) {
          const wait = next - performance.now();
          if (wait > 0) await sleep(wait);
          if (performance.now() >= end) return;
          try {
            samples.push(await page.roundTrip(KEYS[k % KEYS.length] as string));
          } catch (error) {
            errorMessages.push(`keystroke: ${error instanceof Error ? error.message : String(error)}`);
            return;
          }
          next += intervalMs;
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const cpuSeconds = (cpuTicks(server.pid) - cpuBefore) / ticks;
    const serverErrors = idle.flatMap((c) => c.errors());
    for (const message of serverErrors) errorMessages.push(`server: ${message}`);
    if (unexpectedCloses > 0) errorMessages.push(`${unexpectedCloses} idle pages were closed by the server`);
    return {
      sessions,
      typing,
      opened: idle.length + typists.length,
      openMs,
      intervalMs,
      typingSeconds: seconds,
      errors: errorMessages.length - (unexpectedCloses > 0 ? 1 : 0) + unexpectedCloses,
      errorMessages: errorMessages.slice(0, 20),
      echo: summarize(samples, 0, 0),
      serverCpuSeconds: cpuSeconds,
      serverCpuShare: cpuSeconds / seconds,
      serverRssKiB,
    };
  } finally {
    stopping = true;
    await Promise.all([...idle.map((c) => c.close()), ...typists.map((p) => p.close())]);
    await endpoint.close();
    await server.stop();
  }
}
