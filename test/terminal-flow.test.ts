// Output under pressure: large transfers byte-exact with a slow page, Ctrl-C
// during a flood, no tail lost at exit, sessions that never stall.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FlowControl } from '../terminal-server/src/protocol.js';
import { lyingPage } from './support/attacks.js';
import { eventually, startTerminalProcess, startTerminalServer } from './support/servers.js';
import { TerminalClient } from './support/terminal-client.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'wt-flow-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A text file of numbered lines, and what a page receives when it is cat'ed on a pty (LF becomes CRLF). */
function makeTextFile(name: string, bytes: number): { file: string; expectedHash: string; expectedLength: number } {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${String(i).padStart(8, '0')} the quick brown fox jumps over the lazy dog ${i % 97}\n`;
    lines.push(line);
    size += line.length;
  }
  const text = lines.join('');
  const file = path.join(work, name);
  writeFileSync(file, text);
  const expected = Buffer.from(text.replaceAll('\n', '\r\n'));
  return { file, expectedHash: sha256(expected), expectedLength: expected.length };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

describe('flow control', () => {
  test('cat of 20 MB arrives byte-exact at a slow page, which is never flooded', async () => {
    const { file, expectedHash, expectedLength } = makeTextFile('twenty.txt', 20 << 20);
    const terminal = await startTerminalServer({ TERMINAL_COMMAND: JSON.stringify(['cat', file]) });
    try {
      const hash = createHash('sha256');
      let acked = 0;
      let maxAhead = 0;
      let client: TerminalClient | undefined;
      const slowAck = () => {
        // A deliberately slow page: it "renders" 64 KiB every 4 ms (about 16 MB/s).
        if (!client || client.position - acked < 64 << 10) return;
        const upTo = client.position;
        setTimeout(() => {
          acked = Math.max(acked, upTo);
          client?.ack(acked);
        }, 4);
      };
      let pendingTimer = false;
      client = await TerminalClient.connect(terminal.socketUrl('cat'), {
        ack: 'manual',
        keepText: false,
        onOutput: (bytes) => {
          hash.update(bytes);
          if (client) maxAhead = Math.max(maxAhead, client.position - acked);
          if (!pendingTimer) {
            pendingTimer = true;
            setTimeout(() => {
              pendingTimer = false;
              slowAck();
            }, 0);
          }
        },
      });
      // Final acknowledgements for the tail.
      const finisher = setInterval(() => {
        if (client && client.position > acked) {
          acked = client.position;
          client.ack(acked);
        }
      }, 50);
      await client.closed;
      clearInterval(finisher);
      assert.equal(client.received, expectedLength, 'every byte arrived');
      assert.equal(hash.digest('hex'), expectedHash, 'byte-exact');
      assert.deepEqual(client.exitMessage(), { type: 'exit', code: 0, signal: 0 });
      // The server stops sending at the high-water mark; one more pty read may be in flight.
      assert.ok(maxAhead <= FlowControl.highWaterBytes + (128 << 10), `page was ${maxAhead} bytes behind`);
    } finally {
      await terminal.close();
    }
  });

  test('a page that stops acknowledging does not stall the session, and still gets every byte', async () => {
    const { file, expectedHash, expectedLength } = makeTextFile('two.txt', 2 << 20);
    const terminal = await startTerminalServer({
      TERMINAL_COMMAND: JSON.stringify(['cat', file]),
      TERMINAL_HISTORY_BYTES: '4MiB',
    });
    try {
      const hash = createHash('sha256');
      const silent = await TerminalClient.connect(terminal.socketUrl('quiet'), {
        ack: 'manual',
        keepText: false,
        onOutput: (bytes) => hash.update(bytes),
      });
      const closed = await silent.closed;
      assert.equal(closed.code, 4000);
      assert.equal(silent.received, expectedLength);
      assert.equal(hash.digest('hex'), expectedHash);
    } finally {
      await terminal.close();
    }
  });

  test('a page that stops acknowledging between the marks does not stall the session', async () => {
    const { file, expectedHash, expectedLength } = makeTextFile('between.txt', 2 << 20);
    const terminal = await startTerminalServer({
      TERMINAL_COMMAND: JSON.stringify(['cat', file]),
      TERMINAL_HISTORY_BYTES: '4MiB',
    });
    try {
      const hash = createHash('sha256');
      const page = await TerminalClient.connect(terminal.socketUrl('between'), {
        ack: 'manual',
        keepText: false,
        onOutput: (bytes) => hash.update(bytes),
      });
      // Past the high-water mark the program is paused; one ack brings the page
      // back under it but not under the low-water mark, and then it goes quiet.
      await page.waitFor(() => page.received > FlowControl.highWaterBytes);
      page.ack(page.position - (FlowControl.lowWaterBytes + FlowControl.highWaterBytes) / 2);
      // A stalled session never gets there.
      await page.waitFor(() => page.exitMessage() !== undefined, 30_000);
      assert.equal((await page.closed).code, 4000);
      assert.equal(page.received, expectedLength);
      assert.equal(hash.digest('hex'), expectedHash);
    } finally {
      await terminal.close();
    }
  });

  test('a session with no page keeps running into its history', async () => {
    const terminal = await startTerminalServer({ TERMINAL_HISTORY_BYTES: '64KiB' });
    try {
      const page = await TerminalClient.connect(terminal.socketUrl('alone'));
      const marker = path.join(work, 'alone.done');
      page.type(`seq 1 400000; touch ${marker}\r`);
      await page.close();
      await eventually(
        () => {
          try {
            readFileSync(marker);
            return true;
          } catch {
            return false;
          }
        },
        30_000,
        'the program to finish with no page attached',
      );
      const back = await TerminalClient.connect(terminal.socketUrl('alone'), {
        position: page.position,
        instance: page.instance,
      });
      assert.equal((await back.attached).reset, true, 'far more than the history was missed');
      await back.waitFor('400000\r\n');
      await back.close();
    } finally {
      await terminal.close();
    }
  });

  test('yes, then Ctrl-C: the prompt comes back once what was already on its way has drained', async (t) => {
    const terminal = await startTerminalServer();
    try {
      let tail = '';
      let acking = true;
      let page: TerminalClient | undefined;
      page = await TerminalClient.connect(terminal.socketUrl('yes'), {
        ack: 'manual',
        keepText: false,
        onOutput: (bytes) => {
          tail = (tail + bytes.toString('latin1')).slice(-200);
          if (acking && page) page.ack(page.position);
        },
      });
      page.type("PS1='READY> '\r");
      await page.waitFor(() => tail.endsWith('READY> '));
      page.type('yes\r');
      await page.waitFor(() => page.received > 4 << 20, 20_000);
      // The page stops acknowledging until its whole window is out: the Ctrl-C
      // is typed while the program is held back for this page, with as much
      // output on its way as flow control allows.
      acking = false;
      const acked = page.position;
      page.ack(acked);
      await page.waitFor(() => page.position - acked > FlowControl.highWaterBytes);
      const atInterrupt = page.received;
      page.type('\x03');
      acking = true;
      page.ack(page.position);
      await page.waitFor(() => tail.endsWith('READY> '), 20_000);
      // After the interrupt the page gets only what was already on its way: at
      // most the high-water mark, one gathered frame, and what the kernel held
      // (it flushes the rest of the output on an interrupt).
      const drained = page.received - atInterrupt;
      t.diagnostic(`${drained} bytes after the interrupt`);
      assert.ok(
        drained <= FlowControl.highWaterBytes + (256 << 10),
        `${drained} bytes arrived between the Ctrl-C and the prompt`,
      );
      await page.close();
    } finally {
      await terminal.close();
    }
  });

  test('no tail is lost at exit: 50 runs of a 64 KiB block', async () => {
    const { file, expectedHash, expectedLength } = makeTextFile('block.txt', 64 << 10);
    const terminal = await startTerminalServer({ TERMINAL_COMMAND: JSON.stringify(['cat', file]) });
    try {
      const runs = Array.from({ length: 50 }, (_, i) => i);
      const failures: string[] = [];
      // Five at a time, so the server is busy while programs exit.
      for (let i = 0; i < runs.length; i += 5) {
        await Promise.all(
          runs.slice(i, i + 5).map(async (run) => {
            const hash = createHash('sha256');
            const page = await TerminalClient.connect(terminal.socketUrl(`tail-${run}`), {
              keepText: false,
              onOutput: (bytes) => hash.update(bytes),
            });
            await page.closed;
            if (page.received !== expectedLength || hash.digest('hex') !== expectedHash) {
              failures.push(`run ${run}: ${page.received} of ${expectedLength} bytes`);
            }
            if (!page.exitMessage()) failures.push(`run ${run}: no exit message`);
          }),
        );
      }
      assert.deepEqual(failures, []);
    } finally {
      await terminal.close();
    }
  });
});

describe('a page that acknowledges what it never read', () => {
  // Measured on the server as its own process, so its RSS is its alone. Even a
  // session with no page at all grows by some tens of MiB while it floods (the
  // allocator keeps freed read buffers), so the bound is 128 MiB: far below the
  // ~300 MiB the server grew by when such a page's output was all buffered.
  const growthLimitMiB = 128;
  const outputBytes = 300e6;

  test('does not grow the server: what waits in its socket counts, and memory returns when it goes', async (t) => {
    const terminal = await startTerminalProcess();
    try {
      const { rssMiB } = await lyingPage(terminal, outputBytes);
      let after = rssMiB.after;
      const returned = await eventually(
        () => {
          after = terminal.rssKiB() / 1024;
          return after - rssMiB.baseline < growthLimitMiB;
        },
        20_000,
        'memory to return',
      ).catch(() => false);
      t.diagnostic(
        `RSS MiB: baseline ${rssMiB.baseline.toFixed(0)}, peak ${rssMiB.peak.toFixed(0)}, after ${after.toFixed(0)}`,
      );
      assert.ok(
        rssMiB.peak - rssMiB.baseline < growthLimitMiB,
        `the server grew by ${(rssMiB.peak - rssMiB.baseline).toFixed(0)} MiB`,
      );
      assert.ok(
        returned,
        `${(after - rssMiB.baseline).toFixed(0)} MiB above the baseline after the page and session went`,
      );
    } finally {
      await terminal.stop();
    }
  });
});

describe('history', () => {
  let terminal: Awaited<ReturnType<typeof startTerminalServer>>;
  before(async () => {
    terminal = await startTerminalServer({ TERMINAL_HISTORY_BYTES: '64KiB' });
  });
  after(() => terminal.close());

  test('beyond the history budget a page gets recent history from a line start', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('long'));
    page.type("stty -echo; seq 1 100000; echo E''ND\r");
    await page.waitFor('END\r\n', 20_000);
    const back = await TerminalClient.connect(terminal.socketUrl('long'), { position: 5, instance: page.instance });
    const attached = await back.attached;
    assert.equal(attached.reset, true);
    await back.waitFor('END\r\n');
    const text = back.text();
    assert.ok(text.length <= 128 << 10, 'the budget and at most one more chunk');
    // Modes in force (bracketed paste, once the prompt is back) are restored first, then whole lines follow.
    assert.match(text, /^(\x1b\[\?2004h)?\d+\r\n/, 'starts at a line start');
    assert.match(text, /99999\r\n100000\r\n/);
    await back.close();
    await page.close();
  });
});
