// Time to first prompt: a page opens a WebSocket to a new session and waits for
// the first output byte of `bash --norc --noprofile -i`.
import { eventually, startTerminalServer } from '../test/harness/servers.js';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { median, percentile } from './stats.js';

export interface FirstPromptResult {
  runs: number;
  /** ms from starting the WebSocket connection to the first output byte, per run. */
  samples: number[];
  /** ms from starting the connection to the attached message (the session exists), per run. */
  attachedSamples: number[];
  median: number;
  p90: number;
}

export async function measureFirstPrompt(runs: number): Promise<FirstPromptResult> {
  const terminal = await startTerminalServer({
    TERMINAL_COMMAND: JSON.stringify(['bash', '--norc', '--noprofile', '-i']),
  });
  try {
    const samples: number[] = [];
    const attachedSamples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const name = `prompt-${run}`;
      let firstByte = 0;
      let gotFirst: () => void = () => {};
      const first = new Promise<void>((resolve) => {
        gotFirst = resolve;
      });
      // The clock starts before the connection is opened, so the figure includes
      // the WebSocket handshake: an upper bound on open → first byte.
      const start = performance.now();
      const client = await TerminalClient.connect(terminal.socketUrl(name), {
        keepText: false,
        onOutput: () => {
          if (firstByte === 0) {
            firstByte = performance.now();
            gotFirst();
          }
        },
      });
      const attached = performance.now();
      await Promise.race([first, new Promise((r) => setTimeout(r, 10_000))]);
      if (firstByte === 0) throw new Error(`no output from the shell in session ${name}`);
      samples.push(firstByte - start);
      attachedSamples.push(attached - start);
      // One shell at a time: end this one before the next run. (`exit` rather than
      // a hang-up: bash hung up while still starting sometimes ignores it.)
      client.type('exit\r');
      await Promise.race([client.closed, new Promise((r) => setTimeout(r, 5000))]);
      terminal.server.sessions.get(name)?.terminate();
      await client.close();
      await eventually(() => terminal.server.sessions.size === 0, 5000, `session ${name} to end`);
    }
    return { runs, samples, attachedSamples, median: median(samples), p90: percentile(samples, 90) };
  } finally {
    await terminal.close();
  }
}
