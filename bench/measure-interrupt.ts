// Interrupt: `yes` flooding a page through the auth proxy, then Ctrl-C: the time
// from sending the Ctrl-C until the shell's next prompt has reached the page
// (everything already in flight drained first). The built server runs as its own
// process with `bash -i`; the proxy and the page run here.
import { TerminalClient } from '../test/harness/terminal-client.js';
import { openEndpoint } from './endpoint.js';
import { withTimeout } from './measure-echo.js';
import { startServerProcess } from './server-process.js';
import { median } from './stats.js';

export interface InterruptResults {
  runs: number;
  /** ms from Ctrl-C sent to the prompt received, per run. */
  samples: number[];
  median: number;
  max: number;
  /** Output bytes received after the Ctrl-C (the flood in flight, then the prompt), per run. */
  drainedBytes: number[];
}

// Typed as two quoted pieces, so the terminal's echo of the command cannot match it.
const PROMPT = 'INTR> ';
const SET_PROMPT = `PS1='IN''TR> '\r`;
const FLOOD_BYTES = 2 << 20;

async function interruptOnce(endpoint: Awaited<ReturnType<typeof openEndpoint>>, name: string) {
  let bytes = 0;
  let tail = '';
  let promptAt = 0;
  const client = await TerminalClient.connect(endpoint.socketUrl(name), {
    headers: endpoint.headers,
    ack: 'auto',
    keepText: false,
    onOutput: (chunk) => {
      bytes += chunk.length;
      if (promptAt > 0) return;
      // Only the end of each chunk can complete a prompt: bash prints it last.
      const text = tail + chunk.subarray(Math.max(0, chunk.length - 64)).toString('latin1');
      if (text.includes(PROMPT)) promptAt = performance.now();
      tail = text.slice(-PROMPT.length);
    },
  });
  try {
    await client.waitFor(() => bytes > 0, 10_000);
    client.type(SET_PROMPT);
    await client.waitFor(() => promptAt > 0, 10_000);
    client.type('yes\r');
    const floodFrom = bytes;
    await client.waitFor(() => bytes - floodFrom > FLOOD_BYTES, 10_000);
    promptAt = 0;
    tail = '';
    const before = bytes;
    const sent = performance.now();
    client.type('\x03');
    await withTimeout(
      client.waitFor(() => promptAt > 0, 10_000),
      11_000,
      () => `no prompt within 10 s of Ctrl-C in ${name}`,
    );
    const result = { ms: promptAt - sent, drained: bytes - before };
    client.type('exit\r');
    await Promise.race([client.closed, new Promise((r) => setTimeout(r, 3000))]);
    return result;
  } finally {
    await client.close();
  }
}

export async function measureInterrupt(runs: number): Promise<InterruptResults> {
  const server = await startServerProcess({
    TERMINAL_COMMAND: JSON.stringify(['bash', '--norc', '--noprofile', '-i']),
  });
  const endpoint = await openEndpoint('proxy', server);
  try {
    const samples: number[] = [];
    const drainedBytes: number[] = [];
    for (let run = 0; run < runs; run++) {
      const { ms, drained } = await interruptOnce(endpoint, `interrupt-${run}`);
      samples.push(ms);
      drainedBytes.push(drained);
    }
    return { runs, samples, median: median(samples), max: Math.max(...samples), drainedBytes };
  } finally {
    await endpoint.close();
    await server.stop();
  }
}
