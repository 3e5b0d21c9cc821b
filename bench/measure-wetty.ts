// wetty side by side with ours: output throughput (the same `cat` to a headless
// page that commits as wetty's page does) and keystroke echo, quiet and while
// another session of the same server floods its page with `yes`.
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { openEndpoint } from './endpoint.js';
import {
  ECHO_PROGRAM,
  type EchoPage,
  type EchoResult,
  interleavedRoundTrips,
  LAUNCHER,
  openEchoPage,
  summarize,
  withTimeout,
} from './measure-echo.js';
import { type TextFile, type TransferRun, transferRun } from './measure-throughput.js';
import { startServerProcess } from './server-process.js';
import { startWetty, WettyClient, type WettyProcess } from './wetty.js';

/**
 * `cat` of the file through a new wetty process, from connecting to the end:
 * the later of the 'logout' and the last 'data' (wetty may send its last batch
 * after the logout). wetty's start is not counted, as the server's is not for ours.
 */
export async function measureWettyThroughput(text: TextFile): Promise<TransferRun> {
  const wetty = await startWetty(`cat ${text.file}`, path.dirname(text.file));
  try {
    let chunks = 0;
    const cpu = process.cpuUsage();
    const start = performance.now();
    const client = await WettyClient.connect(wetty, {
      onOutput: () => {
        chunks++;
      },
    });
    try {
      await withTimeout(client.loggedOut, 300_000, () => 'wetty: cat did not end within 300 s');
      // Whatever is still batched comes within a few ms; wait for it (or 500 ms of quiet).
      for (;;) {
        const since = client.lastDataAt;
        if (client.received >= text.expectedBytes) break;
        await new Promise((r) => setTimeout(r, 500));
        if (client.lastDataAt === since) break;
      }
      const end = Math.max(client.logoutAt || client.lastDataAt, client.lastDataAt);
      const used = process.cpuUsage(cpu);
      // The file is ASCII: characters are bytes.
      return transferRun(
        text,
        { bytes: client.received, chunks },
        {
          seconds: (end - start) / 1000,
          secondsToLastByte: (client.lastDataAt - start) / 1000,
          cpuSeconds: (used.user + used.system) / 1e6,
        },
      );
    } finally {
      client.close();
    }
  } finally {
    await wetty.stop();
  }
}

/** The echo program on a wetty session (the same launcher and program as ours), past its READY. */
async function openWettyEchoPage(wetty: WettyProcess): Promise<EchoPage> {
  let seen = '';
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let echoed = -1;
  let waiting: { target: number; resolve: (at: number) => void } | undefined;
  const client = await WettyClient.connect(wetty, {
    onOutput: (data) => {
      if (echoed < 0) {
        seen += data;
        const at = seen.indexOf('READY');
        if (at < 0) return;
        echoed = seen.length - (at + 'READY'.length);
        ready();
      } else {
        echoed += data.length;
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
    await withTimeout(readyPromise, 10_000, () => `the echo program did not start on wetty: ${JSON.stringify(seen)}`);
  } catch (error) {
    client.close();
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
      const end = await withTimeout(back, 10_000, () => `keystroke ${sent} on wetty did not come back`);
      sent++;
      return end - start;
    },
    async close() {
      client.close();
    },
  };
}

export interface EchoVsWettyResults {
  /** Ours: the built server in its own process, the page straight to it (no proxy), as wetty's is. */
  ours: { quiet: EchoResult; flood: EchoResult };
  wetty: { quiet: EchoResult; flood: EchoResult; startMs: number };
}

/** A page on a session running `yes`, acknowledging as it goes. */
interface Flood {
  bytes(): number;
  stop(): Promise<void>;
}

/**
 * Quiet: ours and wetty's pages take turns keystroke by keystroke. Flood: ours
 * while another session of our server runs `yes`, then wetty's while another of
 * its sessions does (one flood at a time, so they do not share the 2 cores).
 */
export async function measureEchoVsWetty(work: string, count: number): Promise<EchoVsWettyResults> {
  const launcher = path.join(work, 'wetty-launcher.sh');
  writeFileSync(launcher, `${(LAUNCHER[LAUNCHER.length - 1] as string).trim()}\n`);
  chmodSync(launcher, 0o755);
  const ours = await startServerProcess({ TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
  let wetty: WettyProcess | undefined;
  try {
    wetty = await startWetty(`/bin/bash --norc --noprofile ${launcher}`, work);
    const endpoint = await openEndpoint('direct', ours);
    const w = wetty;

    const quietPages = [await openEchoPage(endpoint, 'vs-wetty-quiet'), await openWettyEchoPage(w)];
    let quiet: number[][];
    try {
      quiet = await interleavedRoundTrips(quietPages, count);
    } finally {
      await Promise.all(quietPages.map((p) => p.close()));
    }

    const floodOn = async (open: () => Promise<Flood>, page: () => Promise<EchoPage>) => {
      const flood = await open();
      try {
        const echo = await page();
        try {
          const before = flood.bytes();
          const start = performance.now();
          const [samples = []] = await interleavedRoundTrips([echo], count);
          return summarize(samples, flood.bytes() - before, (performance.now() - start) / 1000);
        } finally {
          await echo.close();
        }
      } finally {
        await flood.stop();
      }
    };
    const oursFlood = await floodOn(
      async () => {
        let bytes = 0;
        const flooder = await TerminalClient.connect(ours.socketUrl('vs-wetty-flood'), {
          ack: 'auto',
          keepText: false,
          onOutput: (chunk) => {
            bytes += chunk.length;
          },
        });
        flooder.type('exec yes\r');
        await flooder.waitFor(() => bytes > 4 << 20, 10_000);
        return {
          bytes: () => bytes,
          stop: async () => {
            await flooder.close();
          },
        };
      },
      () => openEchoPage(endpoint, 'vs-wetty-flood-echo'),
    );
    const wettyFlood = await floodOn(
      async () => {
        const flooder = await WettyClient.connect(w);
        flooder.type('exec yes\r');
        await flooder.waitFor(() => flooder.received > 4 << 20, 10_000, 'the yes flood on wetty');
        return {
          bytes: () => flooder.received,
          stop: async () => flooder.close(),
        };
      },
      () => openWettyEchoPage(w),
    );
    return {
      ours: { quiet: summarize(quiet[0] ?? [], 0, 0), flood: oursFlood },
      wetty: { quiet: summarize(quiet[1] ?? [], 0, 0), flood: wettyFlood, startMs: w.startMs },
    };
  } finally {
    await wetty?.stop();
    await ours.stop();
  }
}
