// Output under pressure: large transfers byte-exact with a slow page, Ctrl-C
// during a flood, no tail lost at exit, sessions that never stall; and input
// under pressure: a big paste into a program that does not read it, then an
// interrupt.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { FlowControl } from '../common/src/protocol.js';
import { lyingPage } from './harness/attacks.js';
import { commandPaste, jobStarted, paste, promptBack } from './harness/paste.js';
import {
  eventually,
  type RunningTerminalServer,
  startTerminalProcess,
  startTerminalServer,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';
import { requireTool } from './harness/tools.js';

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

describe('an interrupt after a paste the program does not read', () => {
  let terminal: RunningTerminalServer;
  before(async () => {
    terminal = await startTerminalServer();
  });
  after(() => terminal.close());
  const threeMB = commandPaste(3e6);

  for (const [key, name, status] of [
    ['\x03', 'Ctrl-C', 130],
    ['\x1c', 'Ctrl-\\', 131],
  ] as const) {
    test(`${name} after 3 MB pasted into sleep gives the prompt back on the same page and drops the rest`, async () => {
      const page = await TerminalClient.connect(terminal.socketUrl(`sleep-${status}`));
      page.type('sleep 1000\r');
      await jobStarted(page);
      paste(page, threeMB);
      // The paste filled the kernel's queue, and the rest waits in the server. (Not the
      // terminal's echo of it: the kernel drops echo when its output is not read in time.)
      await inputHeld(`sleep-${status}`);
      const from = page.text().length;
      page.type(key);
      const back = await promptBack(page, from);
      assert.doesNotMatch(back.after, /PASTED-\d/, 'no pasted line ran after the interrupt');
      assert.equal(back.status, status, `sleep ended by ${name === 'Ctrl-C' ? 'SIGINT' : 'SIGQUIT'}`);
      assert.equal(page.socket.readyState, WebSocket.OPEN, 'the connection is still up');
      assert.deepEqual(page.errors(), []);
      await page.close();
    });
  }

  /** Waits until the session has input its program is not taking. */
  function inputHeld(name: string): Promise<unknown> {
    const session = () => terminal.server.sessions.get(name);
    return eventually(() => (session()?.info().pendingInputBytes ?? 0) > 0, 10_000, 'input to wait for the program');
  }

  test('Ctrl-C after 3 MB pasted into a raw-mode program that is not reading (less on a pipe)', async (t) => {
    if (!requireTool(t, 'less')) return;
    const page = await TerminalClient.connect(terminal.socketUrl('less'));
    page.type('sleep 1000 | less -K\r');
    // less puts the terminal in its mode (no ICANON, no ECHO, ISIG kept), then switches screens.
    await page.waitFor('\x1b[?1049h');
    paste(page, threeMB);
    await inputHeld('less');
    const from = page.text().length;
    page.type('\x03');
    const back = await promptBack(page, from);
    assert.doesNotMatch(back.after, /PASTED-\d/, 'no pasted line ran after the interrupt');
    assert.equal(back.status, 2, 'less -K exits with 2 on an interrupt');
    assert.equal(page.socket.readyState, WebSocket.OPEN, 'the connection is still up');
    await page.close();
  });

  test('with ISIG off the program gets Ctrl-C as a byte, after what the kernel holds, and is not signalled', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('raw'));
    const fifo = path.join(terminal.home, 'raw.go');
    execFileSync('mkfifo', [fifo]);
    // Raw mode (ISIG off), then not reading the terminal until the test says so,
    // then reading it up to a ^C byte (perl leaves the terminal's modes alone).
    const upToCtrlC = `perl -e 'my $n = 0; while (sysread(STDIN, my $c, 1)) { last if $c eq "\\x03"; $n++ } print $n'`;
    page.type(`stty raw -echo; echo RA''W; read -r _ < ${fifo}; n=$(${upToCtrlC}); stty sane; echo GOT-$n\r`);
    await page.waitFor('RAW');
    paste(page, threeMB);
    await inputHeld('raw');
    const from = page.text().length;
    page.type('\x03');
    await writeFile(fifo, 'go\n');
    const got = /GOT-(\d+)\r\n/;
    await page.waitFor(() => got.test(page.text().slice(from)));
    const read = Number(got.exec(page.text().slice(from))?.[1]);
    // What the kernel had taken before the interrupt (a few KiB) came first; the rest of the paste was dropped.
    assert.ok(read > 0 && read < 64 << 10, `${read} bytes came before the ^C`);
    const back = await promptBack(page, from);
    assert.equal(back.status, 0, 'the shell was not interrupted');
    assert.doesNotMatch(back.after, /PASTED-\d/);
    await page.close();
  });

  test('while a paste waits for a program that does not read, the page is still read: acks, resizes, pings', async () => {
    let acking = false;
    let page: TerminalClient | undefined;
    page = await TerminalClient.connect(terminal.socketUrl('held'), {
      ack: 'manual',
      onOutput: () => {
        if (acking && page) page.ack(page.position);
      },
    });
    page.type('yes\r'); // floods output and never reads its input
    await jobStarted(page);
    // Unacknowledged, the page soon holds the session back: its output stops until an ack.
    await page.waitFor(() => page.received > FlowControl.highWaterBytes);
    paste(page, threeMB);
    await inputHeld('held');
    // Everything below is sent after the paste, on the same socket.
    const acked = page.position;
    page.ack(acked);
    // Output flows again: far more than was in flight when the ack went.
    await page.waitFor(() => page.position > acked + FlowControl.highWaterBytes / 2);
    page.resize(100, 30);
    await eventually(() => {
      const info = terminal.server.sessions.get('held')?.info();
      return info?.cols === 100 && info.rows === 30;
    });
    page.socket.ping();
    await once(page.socket, 'pong');
    acking = true;
    page.ack(page.position);
    const from = page.text().length;
    page.type('\x03');
    const back = await promptBack(page, from);
    assert.equal(back.status, 130, 'yes ended by SIGINT');
    assert.doesNotMatch(back.after, /PASTED-\d/, 'no pasted line ran after the interrupt');
    page.type('stty size\r');
    await page.waitFor(/[\r\n]30 100\r\n/);
    assert.deepEqual(page.errors(), []);
    await page.close();
  });

  test('Ctrl-C from a page reloaded after the paste gives the prompt back', async () => {
    const first = await TerminalClient.connect(terminal.socketUrl('reload'));
    first.type('sleep 1000\r');
    await jobStarted(first);
    paste(first, threeMB);
    await inputHeld('reload');
    await first.close();
    const page = await TerminalClient.connect(terminal.socketUrl('reload'), {
      position: first.position,
      instance: first.instance,
    });
    page.type('\x03');
    const back = await promptBack(page, 0);
    assert.doesNotMatch(back.after, /PASTED-\d/, 'no pasted line ran after the interrupt');
    assert.equal(back.status, 130, 'sleep ended by SIGINT');
    await page.close();
  });
});
