// Sessions over real WebSockets to the real server: commands, resize,
// re-attach, several pages, exit, limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { loadConfig } from '../common/src/config.js';
import { CloseCode, decodeControl, encodeAttach, ServerType } from '../common/src/protocol.js';
import { eventually, type RunningTerminalServer, request, startTerminalServer } from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

describe('terminal sessions', () => {
  let terminal: RunningTerminalServer;
  before(async () => {
    terminal = await startTerminalServer();
  });
  after(() => terminal.close());

  test('a command runs in the shell', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('math'));
    page.type('echo $((6*7))\r');
    await page.waitFor(/[\r\n]42\r\n/);
    await page.close();
  });

  test('stty size follows a resize', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('size'), { cols: 100, rows: 30 });
    page.type('stty size\r');
    await page.waitFor(/[\r\n]30 100\r\n/);
    page.resize(132, 43);
    page.type('stty size\r');
    await page.waitFor(/[\r\n]43 132\r\n/);
    await page.close();
  });

  test('the shell starts in TERMINAL_HOME with the workshop prompt', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('prompt'));
    page.type('pwd\r');
    await page.waitFor(`${terminal.home}\r\n`);
    assert.match(page.text(), /\[~\] \$ /);
    await page.close();
  });

  test('re-attach with the last position gets exactly the missed bytes', async () => {
    const first = await TerminalClient.connect(terminal.socketUrl('reattach'));
    // Printing for a second or two (a pause every 20 lines: 150 sleeps rather than 3000, which
    // a loaded machine forks too slowly), so the program goes on while no page is attached.
    first.type(
      `stty -echo; PS1=""; for i in $(seq 1 3000); do echo "line $i"; [ $((i % 20)) = 0 ] && sleep 0.01; done; echo DO''NE\r`,
    );
    await first.waitFor('line 300\r\n');
    const { position, instance } = first;
    const seenBefore = first.text();
    await first.close();
    // The program goes on printing while no page is attached.
    await new Promise((r) => setTimeout(r, 300));
    const second = await TerminalClient.connect(terminal.socketUrl('reattach'), { position, instance });
    const attached = await second.attached;
    assert.equal(attached.reset, false, 'the missed bytes are all in the history: no reset');
    assert.equal(attached.position, position);
    await second.waitFor('DONE\r\n', 20_000);
    const all = seenBefore + second.text();
    const numbers = [...all.matchAll(/line (\d+)\r\n/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      numbers,
      Array.from({ length: 3000 }, (_, i) => i + 1),
      'every line exactly once, in order',
    );
    await second.close();
  });

  test('a page without a position gets the history from the start', async () => {
    const first = await TerminalClient.connect(terminal.socketUrl('fresh'));
    first.type('echo marker-$((1+1))\r');
    await first.waitFor('marker-2');
    await first.close();
    const second = await TerminalClient.connect(terminal.socketUrl('fresh'));
    assert.equal((await second.attached).reset, true);
    await second.waitFor('marker-2');
    await second.close();
  });

  test('two pages see the same output and either may type', async () => {
    const a = await TerminalClient.connect(terminal.socketUrl('shared'));
    const b = await TerminalClient.connect(terminal.socketUrl('shared'));
    assert.equal(a.pid, b.pid);
    a.type('echo from-$((10+1))\r');
    await a.waitFor('from-11');
    await b.waitFor('from-11');
    b.type('echo from-$((20+2))\r');
    await a.waitFor('from-22');
    await b.waitFor('from-22');
    await a.close();
    await b.close();
  });

  test('the most recently used page decides the terminal size', async () => {
    const a = await TerminalClient.connect(terminal.socketUrl('sizes'), { cols: 90, rows: 20 });
    const b = await TerminalClient.connect(terminal.socketUrl('sizes'), { cols: 120, rows: 40 });
    b.type('stty size\r');
    await a.waitFor(/[\r\n]40 120\r\n/);
    a.type('stty size\r');
    await b.waitFor(/[\r\n]20 90\r\n/);
    await b.close();
    await a.close();
  });

  test('shell exit is reported with its code and the next visit gets a new shell', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('exit'));
    const firstPid = page.pid;
    page.type('exit 7\r');
    const closed = await page.closed;
    assert.equal(closed.code, CloseCode.SessionEnded);
    assert.deepEqual(page.exitMessage(), { type: 'exit', code: 7, signal: 0 });
    const next = await TerminalClient.connect(terminal.socketUrl('exit'));
    assert.notEqual(next.pid, firstPid);
    assert.equal((await next.attached).reset, true);
    await next.close();
  });

  test('a page coming back to a shell that is gone is told so, and no shell starts by itself', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('gone'));
    const { instance, position } = page;
    page.type('exit\r');
    await page.closed;
    await eventually(() => !terminal.server.sessions.get('gone'), 5000, 'the session to end');
    // As after a restart of the server: the page attaches with the instance it showed.
    const outcome = await attachOutcome(terminal.socketUrl('gone'), { instance, position });
    assert.deepEqual(outcome.controls, [{ type: 'gone' }]);
    assert.equal(outcome.code, CloseCode.SessionEnded);
    assert.equal(terminal.server.sessions.get('gone'), undefined, 'no new shell');
    // Enter on the page attaches without an instance: a new shell.
    const fresh = await TerminalClient.connect(terminal.socketUrl('gone'));
    assert.equal((await fresh.attached).reset, true);
    await fresh.close();
  });

  test('a session with no page attached is kept and listed by the API', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('kept'));
    page.type('echo hi\r');
    await page.waitFor('hi');
    await page.close();
    const list = await request(`${terminal.base}/terminal/api/sessions`);
    assert.equal(list.status, 200);
    const sessions = JSON.parse(list.body).sessions as { name: string; pid: number; pages: number }[];
    const kept = sessions.find((s) => s.name === 'kept');
    assert.ok(kept, 'session listed');
    assert.equal(kept.pid, page.pid);
    await eventually(async () => {
      const info = JSON.parse((await request(`${terminal.base}/terminal/api/sessions/kept`)).body);
      return info.pages === 0;
    });
  });

  test('the API terminates a session', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('doomed'));
    const res = await request(`${terminal.base}/terminal/api/sessions/doomed`, { method: 'DELETE' });
    assert.equal(res.status, 202);
    const closed = await page.closed;
    assert.equal(closed.code, CloseCode.SessionEnded);
    assert.ok(page.exitMessage(), 'the page is told the shell ended');
    assert.equal((await request(`${terminal.base}/terminal/api/sessions/doomed`)).status, 404);
    assert.equal((await request(`${terminal.base}/terminal/api/sessions/nope`, { method: 'DELETE' })).status, 404);
  });
});

/** Attaches with a raw socket and reports the control messages and the close code. */
function attachOutcome(
  url: string,
  attach: { instance: string; position: number | null },
): Promise<{ code: number; controls: unknown[] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const controls: unknown[] = [];
    socket.on('open', () => socket.send(encodeAttach({ ...attach, cols: 80, rows: 24 })));
    socket.on('message', (data: Buffer) => {
      if (data[0] === ServerType.Control) controls.push(decodeControl(data));
    });
    socket.on('close', (code) => resolve({ code, controls }));
    socket.on('error', reject);
  });
}

describe('a stopping server', () => {
  test('refuses a new session with 4004 (the page comes back after the restart), not 4001', async () => {
    const terminal = await startTerminalServer();
    try {
      const stopping = terminal.server.sessions.stopAll();
      const outcome = await attachOutcome(terminal.socketUrl('late'), { instance: '', position: null });
      assert.equal(outcome.code, CloseCode.ServerStopping);
      await stopping;
    } finally {
      await terminal.close();
    }
  });
});

describe('session limit', () => {
  test('the maximum number of sessions gives a clear error and changes nothing else', async () => {
    const terminal = await startTerminalServer({ TERMINAL_MAX_SESSIONS: '2' });
    try {
      const a = await TerminalClient.connect(terminal.socketUrl('a'));
      await TerminalClient.connect(terminal.socketUrl('b'));
      const refused = TerminalClient.connect(terminal.socketUrl('c'));
      await assert.rejects(refused, /closed before attach: 4001/);
      // Existing sessions still work, and may still be joined.
      const again = await TerminalClient.connect(terminal.socketUrl('a'));
      a.type('echo still-$((2+3))\r');
      await again.waitFor('still-5');
    } finally {
      await terminal.close();
    }
  });
});

describe('sessions started with the server (TERMINAL_PRESTART)', () => {
  test('are running before any page asks, and the first page gets their prompt from the history', async () => {
    const terminal = await startTerminalServer({ TERMINAL_PRESTART: '1,work' });
    try {
      const listed = await eventually(async () => {
        const body = JSON.parse((await request(`${terminal.base}/terminal/api/sessions`)).body) as {
          sessions: { name: string; pid: number; pages: number; outputBytes: number }[];
        };
        const names = body.sessions.map((s) => s.name).sort();
        return names.join(',') === '1,work' && body.sessions.every((s) => s.outputBytes > 0) ? body.sessions : null;
      });
      assert.ok(listed);
      const first = listed.find((s) => s.name === '1');
      assert.equal(first?.pages, 0, 'no page has attached yet');
      const page = await TerminalClient.connect(terminal.socketUrl('1'));
      const attached = await page.attached;
      assert.equal(attached.pid, first?.pid, 'the page joins the shell that was started for it');
      // Nothing typed yet: what arrives is the history, the prompt the shell printed before the page came.
      await eventually(() => page.received >= (first?.outputBytes ?? 1), 5000, 'the replayed prompt');
      page.type('echo typed-$((2+3))\r');
      await page.waitFor('typed-5');
      await page.close();
    } finally {
      await terminal.close();
    }
  });

  test('a page coming back to a shell that is gone is told so, not slipped the one started ahead of time', {
    timeout: 30_000,
  }, async () => {
    const terminal = await startTerminalServer({ TERMINAL_PRESTART: '1' });
    try {
      const started = await eventually(() => terminal.server.sessions.get('1'));
      assert.ok(started);
      const outcome = await attachOutcome(terminal.socketUrl('1'), { instance: 'from-before-a-restart', position: 10 });
      assert.equal(outcome.code, CloseCode.SessionEnded);
      assert.deepEqual(outcome.controls, [{ type: 'gone' }]);
      // Asking for a new shell (Enter on the page) gets the one that is ready.
      const page = await TerminalClient.connect(terminal.socketUrl('1'));
      assert.equal(page.pid, started.pid);
      await page.close();
      // Once a page has seen it, it is that page's shell: another page with a stale instance joins it.
      const stale = await TerminalClient.connect(terminal.socketUrl('1'), {
        instance: 'from-before-a-restart',
        position: 10,
      });
      assert.equal(stale.pid, started.pid);
      await stale.close();
    } finally {
      await terminal.close();
    }
  });

  test('by default session 1; empty for none; a name that is not a session name stops the start naming the variable', () => {
    assert.throws(() => loadConfig({ HOME: '/home/x', TERMINAL_PRESTART: '1,../x' }), /TERMINAL_PRESTART/);
    assert.deepEqual(loadConfig({ HOME: '/home/x' }).terminalPrestart, ['1'], 'by default session 1');
    assert.deepEqual(loadConfig({ HOME: '/home/x', TERMINAL_PRESTART: '' }).terminalPrestart, [], 'empty: none');
  });
});
