// Fairness: several sessions of one server (the built one, as its own process)
// each `cat` the same file at the same time to its own page, next to one session
// doing it alone; meanwhile a further session measures keystroke echo.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { type Endpoint, openEndpoint } from './endpoint.js';
import { type EchoResult, LAUNCHER, openEchoPage, summarize } from './measure-echo.js';
import { makeTextFile, type TextFile } from './measure-throughput.js';
import { startServerProcess } from './server-process.js';
import { median } from './stats.js';

export interface StreamRun {
  /** File bytes received (after the start marker). */
  bytes: number;
  complete: boolean;
  /** From typing the command to the page's close (the session ended). */
  seconds: number;
  bytesPerSecond: number;
}

export interface ConcurrentRun {
  streams: StreamRun[];
  /** All file bytes ÷ (last close − first command). */
  aggregateBytesPerSecond: number;
  /** Largest |rate − mean rate| ÷ mean rate over the streams. */
  maxDeviation: number;
}

export interface FairnessResults {
  file: { bytes: number; lines: number; expectedBytes: number };
  sessions: number;
  alone: ConcurrentRun[];
  together: ConcurrentRun[];
  /** Median aggregate rate of the runs together ÷ median rate alone. */
  ratio: number;
  /** Largest deviation over all runs together. */
  maxDeviation: number;
  /** Keystroke echo in a further session while the streams ran (every run together). */
  echo: EchoResult;
}

// Typed into the launcher: START is printed in two pieces so the echo of the command cannot match it.
const startCommand = (file: string) => `printf '%s%s\\n' ST ART; exec cat ${file}\r`;
const START = 'START\r\n';

/** Opens `count` sessions, then types the command in all of them at once; resolves when all have ended. */
async function streams(endpoint: Endpoint, prefix: string, count: number, text: TextFile): Promise<ConcurrentRun> {
  const states = Array.from({ length: count }, () => ({ seen: '', bytes: -1, typedAt: 0, closedAt: 0 }));
  const clients = await Promise.all(
    states.map((state, i) =>
      TerminalClient.connect(endpoint.socketUrl(`${prefix}-${i}`), {
        headers: endpoint.headers,
        ack: 'auto',
        keepText: false,
        onOutput: (chunk) => {
          if (state.bytes >= 0) {
            state.bytes += chunk.length;
            return;
          }
          state.seen += chunk.toString('latin1');
          const at = state.seen.indexOf(START);
          if (at >= 0) state.bytes = state.seen.length - (at + START.length);
        },
      }),
    ),
  );
  try {
    clients.forEach((client, i) => {
      const state = states[i] as (typeof states)[number];
      state.typedAt = performance.now();
      client.type(startCommand(text.file));
      void client.closed.then(() => {
        state.closedAt = performance.now();
      });
    });
    await Promise.all(clients.map((c) => c.closed));
    const runs = states.map((s): StreamRun => {
      const seconds = (s.closedAt - s.typedAt) / 1000;
      const bytes = Math.max(0, s.bytes);
      return { bytes, complete: bytes === text.expectedBytes, seconds, bytesPerSecond: bytes / seconds };
    });
    const first = Math.min(...states.map((s) => s.typedAt));
    const last = Math.max(...states.map((s) => s.closedAt));
    const mean = runs.reduce((sum, r) => sum + r.bytesPerSecond, 0) / runs.length;
    return {
      streams: runs,
      aggregateBytesPerSecond: runs.reduce((sum, r) => sum + r.bytes, 0) / ((last - first) / 1000),
      maxDeviation: Math.max(...runs.map((r) => Math.abs(r.bytesPerSecond - mean) / mean)),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

export async function measureFairness(
  work: string,
  size: number,
  sessions: number,
  rounds: number,
): Promise<FairnessResults> {
  const dir = path.join(work, 'fairness');
  mkdirSync(dir, { recursive: true });
  const text = makeTextFile(dir, size);
  const server = await startServerProcess({
    TERMINAL_COMMAND: JSON.stringify(LAUNCHER),
    TERMINAL_MAX_SESSIONS: String(sessions * rounds + rounds + 10),
  });
  try {
    const endpoint = await openEndpoint('direct', server);
    const alone: ConcurrentRun[] = [];
    const together: ConcurrentRun[] = [];
    const echoSamples: number[] = [];
    let echoSeconds = 0;
    for (let round = 0; round < rounds; round++) {
      alone.push(await streams(endpoint, `alone-${round}`, 1, text));
      const echo = await openEchoPage(endpoint, `fair-echo-${round}`);
      try {
        let running = true;
        const start = performance.now();
        const typing = (async () => {
          let i = 0;
          while (running) echoSamples.push(await echo.roundTrip(String.fromCharCode(97 + (i++ % 26))));
        })();
        try {
          together.push(await streams(endpoint, `together-${round}`, sessions, text));
        } finally {
          running = false;
          await typing;
          echoSeconds += (performance.now() - start) / 1000;
        }
      } finally {
        await echo.close();
      }
    }
    const aloneRate = median(alone.map((r) => r.aggregateBytesPerSecond));
    const togetherRate = median(together.map((r) => r.aggregateBytesPerSecond));
    return {
      file: { bytes: text.bytes, lines: text.lines, expectedBytes: text.expectedBytes },
      sessions,
      alone,
      together,
      ratio: togetherRate / aloneRate,
      maxDeviation: Math.max(...together.map((r) => r.maxDeviation)),
      echo: summarize(echoSamples, 0, echoSeconds),
    };
  } finally {
    await server.stop();
  }
}
