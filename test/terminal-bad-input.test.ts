// Bad input from a page is refused or applied safely, for that connection only:
// the session, other pages and other sessions never notice.
import assert from 'node:assert/strict';
import { createHash, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { projectRoot } from '../common/src/paths.js';
import { attachQueryValue, ClientType, encodeAttach, encodeInput, Limits, splitUtf8 } from '../common/src/protocol.js';
import { commandPaste, jobStarted, paste, promptBack } from './harness/paste.js';
import {
  eventually,
  type RunningTerminalServer,
  startTerminalProcess,
  startTerminalServer,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

describe('bad input from a page', () => {
  let terminal: RunningTerminalServer;
  let witness: TerminalClient;
  before(async () => {
    terminal = await startTerminalServer();
    witness = await TerminalClient.connect(terminal.socketUrl('witness'));
  });
  after(async () => {
    // Whatever happened on other connections, the witness session is untouched.
    witness.type('echo witness-$((3*3))\r');
    await witness.waitFor('witness-9');
    assert.equal(witness.errors().length, 0);
    await witness.close();
    await terminal.close();
  });

  async function expectError(page: TerminalClient, frame: Uint8Array | string, pattern: RegExp): Promise<void> {
    const before = page.errors().length;
    page.socket.send(frame, { binary: typeof frame !== 'string' });
    await page.waitFor(() => page.errors().length > before, 5000);
    assert.match(page.errors().at(-1) ?? '', pattern);
  }

  async function stillWorks(page: TerminalClient): Promise<void> {
    const n = randomInt(1000, 9999);
    page.type(`echo ok-$((${n}+1))\r`);
    await page.waitFor(`ok-${n + 1}`);
  }

  test('malformed, unknown and out-of-range frames get an error and the connection goes on', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('bad'));
    await expectError(page, 'hello', /binary frames/);
    await expectError(page, new Uint8Array([]), /empty frame/);
    await expectError(page, new Uint8Array([0x7f, 1, 2]), /unknown message type/);
    await expectError(page, new Uint8Array([ClientType.Resize, 0, 0, 0, 0]), /0x0 is out of range/);
    await expectError(page, new Uint8Array([ClientType.Resize, 0xff, 0xff, 0xff, 0xff]), /65535x65535 is out of range/);
    await expectError(page, new Uint8Array([ClientType.Resize, 1]), /5 bytes/);
    const nan = new Uint8Array(9);
    nan[0] = ClientType.Ack;
    new DataView(nan.buffer).setFloat64(1, Number.NaN);
    await expectError(page, nan, /ack position/);
    await expectError(page, encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }), /already attached/);
    await expectError(page, encodeInput(new Uint8Array([0x65, 0xff, 0xfe, 0x0d])), /not valid UTF-8/);
    // None of that changed the terminal.
    page.type('stty size\r');
    await page.waitFor(/[\r\n]24 80\r\n/);
    await stillWorks(page);
    await page.close();
  });

  test('an oversized frame closes only that connection; the session lives on', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('big'));
    const other = await TerminalClient.connect(terminal.socketUrl('big'));
    const pid = page.pid;
    page.socket.send(encodeInput(new Uint8Array(2 << 20).fill(0x61)));
    const closed = await page.closed;
    assert.equal(closed.code, 1009, 'message too big');
    await stillWorks(other);
    assert.equal(other.pid, pid);
    await other.close();
  });

  test('a socket that does not start with attach is closed', async () => {
    const socket = new WebSocket(terminal.socketUrl('noattach'));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(encodeInput(new TextEncoder().encode('ls\r')));
    const code = await new Promise<number>((resolve) => socket.once('close', resolve));
    assert.equal(code, 4003);
    assert.equal(terminal.server.sessions.get('noattach'), undefined, 'no session was started');
  });

  test('an attach with a bad instance id is refused before any session starts', async () => {
    const socket = new WebSocket(terminal.socketUrl('badattach'));
    await new Promise((resolve) => socket.once('open', resolve));
    const frame = encodeAttach({ position: 3, cols: 80, rows: 24, instance: 'abc' });
    frame[14] = 0x0a; // a newline inside the instance id
    socket.send(frame);
    const code = await new Promise<number>((resolve) => socket.once('close', resolve));
    assert.equal(code, 4003);
    assert.equal(terminal.server.sessions.get('badattach'), undefined);
  });

  test('an attach in the URL that is not one is refused before any session starts', async () => {
    const good = attachQueryValue(encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }));
    const resize = attachQueryValue(new Uint8Array([ClientType.Resize, 0, 80, 0, 24]));
    for (const value of ['zz', good.slice(0, -1), `${good}0a`, resize, '', 'a'.repeat(5000)]) {
      const socket = new WebSocket(`${terminal.socketUrl('badquery')}?attach=${value}`);
      const code = await new Promise<number>((resolve) => socket.once('close', resolve));
      assert.equal(code, 4003, `attach=${value.slice(0, 40)}`);
    }
    assert.equal(terminal.server.sessions.get('badquery'), undefined, 'no session was started');
    // The page that attached by its URL may not attach again; the connection goes on.
    const page = await TerminalClient.connect(terminal.socketUrl('query'));
    await expectError(page, encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }), /already attached/);
    await stillWorks(page);
    await page.close();
  });

  test('a 5 MB paste arrives byte-exact', async () => {
    const out = path.join(terminal.home, 'paste.out');
    const size = 5 * 1000 * 1000;
    // Multi-byte UTF-8 text with newlines and tabs, as a real paste might be.
    const words = ['alpha', 'βήτα', 'γάμμα', '日本語', 'emoji🙂', 'tab\t', 'line\n', 'CR\r', 'x'];
    const parts: string[] = [];
    for (let length = 0; length < size; ) {
      const word = `${words[randomInt(words.length)]} `;
      parts.push(word);
      length += Buffer.byteLength(word);
    }
    const bytes = Buffer.from(parts.join(''));
    const pasteTerminal = await startTerminalServer({
      TERMINAL_COMMAND: JSON.stringify([
        'bash',
        '--norc',
        '--noprofile',
        '-c',
        `stty raw -echo; echo RE''ADY; head -c ${bytes.length} > ${out}; echo; echo PASTE-DONE`,
      ]),
    });
    try {
      const page = await TerminalClient.connect(pasteTerminal.socketUrl('paste'));
      // Paste once the program has put the terminal in raw mode (no line editing, no echo).
      await page.waitFor('READY');
      for (const piece of splitUtf8(bytes)) page.type(piece);
      await page.waitFor('PASTE-DONE', 60_000);
      const written = readFileSync(out);
      assert.equal(written.length, bytes.length);
      assert.equal(
        createHash('sha256').update(written).digest('hex'),
        createHash('sha256').update(bytes).digest('hex'),
        'byte-exact',
      );
      assert.deepEqual(page.errors(), []);
    } finally {
      await pasteTerminal.close();
    }
  });

  test('input past the cap is dropped with one error; the connection goes on and takes input again after Ctrl-C', async () => {
    const cap = Limits.maxPendingInputBytes;
    const documented = readFileSync(path.join(projectRoot(), 'docs/protocol.md'), 'utf8');
    assert.ok(documented.includes(`${cap >> 20} MiB`), 'docs/protocol.md states the cap');
    const page = await TerminalClient.connect(terminal.socketUrl('cap'));
    page.type('sleep 1000\r');
    await jobStarted(page);
    paste(page, commandPaste(cap + (2 << 20)));
    await page.waitFor(() => page.errors().length > 0);
    assert.match(page.errors()[0] ?? '', /not taking its input.*dropped/);
    const from = page.text().length;
    page.type('\x03');
    // Input is taken again: the queue went with the interrupt.
    const back = await promptBack(page, from);
    assert.equal(back.status, 130);
    assert.doesNotMatch(back.after, /PASTED-\d/);
    assert.equal(page.errors().length, 1, 'one message for the whole overflow');
    assert.equal(page.socket.readyState, WebSocket.OPEN);
    await stillWorks(page);
    await page.close();
  });

  test('a page that disappears mid-paste does not hurt the session', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('vanish'));
    const other = await TerminalClient.connect(terminal.socketUrl('vanish'));
    page.type('cat > /dev/null\r');
    for (let i = 0; i < 64; i++) page.type(Buffer.alloc(16 << 10, 0x62));
    page.socket.terminate();
    await eventually(() => terminal.server.sessions.get('vanish')?.pageCount === 1);
    // Ctrl-C also drops the rest of the paste still queued for the program.
    other.clearText();
    other.type('\x03');
    await other.waitFor(() => other.text().endsWith('$ '));
    await stillWorks(other);
    await other.close();
  });
});

describe('a flood of bad frames', () => {
  test('is cut off at the limit: nothing after it is processed or logged, and other sessions go on', async (t) => {
    // Its own process, to see its whole log.
    const terminal = await startTerminalProcess({ LOG_LEVEL: 'info' });
    try {
      const calm = await TerminalClient.connect(terminal.socketUrl('calm'));
      const flood = await TerminalClient.connect(terminal.socketUrl('flood'));
      // 100 000 frames of an unknown type (7 bytes each on the wire), queued in one go.
      const frames = 100_000;
      const unknown = new Uint8Array([0x7f]);
      for (let i = 0; i < frames; i++) flood.socket.send(unknown);
      const start = performance.now();
      calm.type('echo calm-$((6*7))\r');
      await calm.waitFor('calm-42', 60_000);
      const echoMs = performance.now() - start;
      assert.equal((await flood.closed).code, 1008, 'closed for too many bad messages');
      await eventually(async () => (await terminal.session('flood'))?.pages === 0, 30_000, 'the page to detach');
      await calm.close();
      const log = await terminal.stop();

      const id = /session\.attach session=flood page=(\S+)/.exec(log)?.[1];
      assert.ok(id, 'the flood page attached');
      const lines = log.split('\n').filter((line) => line.includes(` page=${id}`));
      let processed = 0;
      for (const line of lines) {
        if (/ page\.bad_message /.test(line)) processed++;
        const repeated = / page\.bad_message\.repeated .*count=(\d+)/.exec(line);
        if (repeated) processed += Number(repeated[1]);
      }
      t.diagnostic(`log ${log.length} bytes, ${lines.length} lines about the page; echo in ${echoMs.toFixed(0)} ms`);
      assert.equal(processed, Limits.maxBadMessages, 'bad frames processed');
      assert.ok(lines.length <= 10, `${lines.length} log lines about the page`);
    } finally {
      await terminal.stop();
    }
  });
});
