// The real page in a real browser: type a command, see its output, reload and
// still see it; reconnect by itself after the connection drops; paste, and
// interrupt a big paste the program does not read; two views on one page; a
// flood drawn in jump scrolls.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { drawnPixels, launchBrowser, screenText, startChromium, waitForScreen } from './harness/browser.js';
import { foregroundGroup } from './harness/paste.js';
import { eventually, type RunningTerminalServer, startAuthProxy, startTerminalServer } from './harness/servers.js';
import { requireTool } from './harness/tools.js';

/** What the tests use of a terminal view on the page (window.terminalView, and one they mount). */
interface View {
  input(text: string): void;
  dispose(): void;
  terminal: import('@xterm/xterm').Terminal;
}
interface Views {
  terminalView: View;
  second?: View;
}

/** The text of the view mounted as window[name]. */
function viewText(page: Page, name: 'second'): Promise<string> {
  return page.evaluate((key) => {
    const buffer = (window as unknown as Views)[key]?.terminal.buffer.active;
    const rows: string[] = [];
    for (let i = 0; buffer && i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return rows.join('\n');
  }, name);
}

describe('terminal page in Chromium', () => {
  let terminal: RunningTerminalServer;
  let browser: Browser | null = null;
  before(async () => {
    terminal = await startTerminalServer({ URI_ROOT_PATH: '/user/alice' });
  });
  after(async () => {
    await browser?.close();
    await terminal.close();
  });

  test('type a command, see its output, reload and still see it', async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // /terminal/ takes the browser to session 1.
    await page.goto(`${terminal.base}/terminal/`);
    assert.match(page.url(), /\/user\/alice\/terminal\/session\/1$/);
    await waitForScreen(page, /\$ $/m);
    await page.keyboard.type('echo browser-$((40+2))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^browser-42$/m);
    await page.reload();
    const after = await waitForScreen(page, /^browser-42$/m);
    assert.match(after, /echo browser-\$\(\(40\+2\)\)/, 'the command line is still there too');
    // Still the same shell, and it still works.
    await page.keyboard.type('echo again-$((1+1))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^again-2$/m);
    assert.equal(terminal.server.sessions.size, 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the page reconnects by itself, shows it, and loses nothing', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const page = await browser.newPage();
    await page.goto(`${terminal.base}/terminal/session/drop`);
    await waitForScreen(page, /\$ $/m);
    await page.keyboard.type('stty -echo; for i in $(seq 1 1500); do echo n$i; sleep 0.002; done; stty echo');
    await page.keyboard.press('Enter');
    // Cut every connection from the server side while the program is printing.
    await waitForScreen(page, /^n100$/m);
    terminal.server.sessions.get('drop')?.closePages(1012, 'test restart');
    await page.waitForFunction(() => document.documentElement.dataset.state !== 'connected');
    await page.waitForFunction(() => document.documentElement.dataset.state === 'connected', null, { timeout: 10_000 });
    const screen = await waitForScreen(page, /^n1500$/m, 30_000);
    const numbers = [...screen.matchAll(/^n(\d+)$/gm)].map((m) => Number(m[1]));
    assert.ok(!screen.includes('n1500\nn1'), 'the cut came before the end');
    assert.deepEqual(
      numbers,
      Array.from({ length: 1500 }, (_, i) => i + 1),
      'every line exactly once',
    );
    // Exactly where it left off: not a redraw from the history, which would pass the line check too.
    assert.equal(await page.evaluate(() => document.documentElement.dataset.replay), 'exact');
    await page.close();
  });

  test('a paste reaches the shell intact', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${terminal.base}/terminal/session/paste`);
    await waitForScreen(page, /\$ $/m);
    const text = 'héllo wörld 日本 🙂';
    // A real paste event on xterm's textarea, as the browser fires on Ctrl+V / Cmd+V / Ctrl+Shift+V.
    await page.evaluate((pasted) => {
      const textarea = document.querySelector('textarea.xterm-helper-textarea') as HTMLTextAreaElement;
      const data = new DataTransfer();
      data.setData('text/plain', `printf '%s\\n' '${pasted}' | wc -c`);
      textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, text);
    await page.keyboard.press('Enter');
    await waitForScreen(page, new RegExp(`^${Buffer.byteLength(`${text}\n`)}$`, 'm'));
    assert.ok((await screenText(page)).includes(text));
    await context.close();
  });

  test('Ctrl-C after a 3 MB paste into sleep gives the prompt back, on the same connection', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const page = await browser.newPage();
    let sockets = 0;
    page.on('websocket', () => sockets++);
    await page.goto(`${terminal.base}/terminal/session/bigpaste`);
    await waitForScreen(page, /\$ $/m);
    await page.keyboard.type('sleep 1000');
    await page.keyboard.press('Enter');
    await eventually(() => {
      const pid = terminal.server.sessions.get('bigpaste')?.pid;
      return pid !== undefined && foregroundGroup(pid) !== pid;
    });
    // A real paste event on xterm's textarea: 3 MB of commands that print PASTED-n if they ever run.
    await page.evaluate((bytes) => {
      const lines: string[] = [];
      for (let i = 0, size = 0; size < bytes; i++) {
        const line = `echo PAST''ED-${i}\n`;
        lines.push(line);
        size += line.length;
      }
      const textarea = document.querySelector('textarea.xterm-helper-textarea') as HTMLTextAreaElement;
      const data = new DataTransfer();
      data.setData('text/plain', lines.join(''));
      textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, 3e6);
    await waitForScreen(page, /^echo PAST''ED-50$/m);
    await page.keyboard.press('Control+C');
    await page.keyboard.type('echo BACK-$((6*7))-$?');
    await page.keyboard.press('Enter');
    const screen = await waitForScreen(page, /^BACK-42-130$/m);
    assert.doesNotMatch(screen, /^PASTED-\d+$/m, 'no pasted line ran');
    assert.equal(await page.evaluate(() => document.documentElement.dataset.state), 'connected');
    assert.equal(sockets, 1, 'the page never reconnected');
    await page.close();
  });

  test('two views on one page: each its own socket, status box and size', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${terminal.base}/terminal/session/one`);
    await waitForScreen(page, /\$ $/m);
    const firstRows = terminal.server.sessions.get('one')?.info().rows ?? 0;
    // A second view, mounted as the dashboard mounts them, below the first.
    await page.evaluate(() => {
      const w = window as unknown as Views;
      (document.getElementById('terminal') as HTMLElement).style.bottom = '50%';
      const box = document.createElement('div');
      box.id = 'second';
      box.style.cssText = 'position: fixed; left: 0; right: 0; bottom: 0; height: 30%';
      document.body.append(box);
      const View = w.terminalView.constructor as new (container: HTMLElement, options: object) => View;
      w.second = new View(box, { prefix: '/user/alice', session: 'two' });
    });
    await page.waitForFunction(() => document.getElementById('second')?.dataset.state === 'connected');
    assert.deepEqual(
      sockets.map((url) => new URL(url).pathname),
      ['/user/alice/terminal/socket/one', '/user/alice/terminal/socket/two'],
    );
    await page.evaluate(() => {
      const w = window as unknown as Views;
      w.terminalView.input('echo first-$((1+1))\r');
      w.second?.input('echo second-$((2+2))\r');
    });
    await waitForScreen(page, /^first-2$/m);
    await eventually(async () => /^second-4$/m.test(await viewText(page, 'second')));
    assert.doesNotMatch(await screenText(page), /second-4/);

    // The second's shell exits: only its own status box says so.
    await page.evaluate(() => (window as unknown as Views).second?.input('exit\r'));
    await page.waitForFunction(() => document.getElementById('second')?.dataset.state === 'exited');
    assert.match(String(await page.textContent('#second .terminal-status')), /The shell exited/);
    assert.equal(await page.isHidden('#status'), true, "the first view's box stays hidden");
    assert.equal(await page.evaluate(() => document.getElementById('terminal')?.dataset.state), 'connected');
    await page.click('#second .terminal-status button');
    await page.waitForFunction(() => document.getElementById('second')?.dataset.state === 'connected');

    // Each view follows its own container's size.
    await eventually(
      () => (terminal.server.sessions.get('one')?.info().rows ?? 0) < firstRows,
      5000,
      'the first to shrink',
    );
    const rowsBefore = terminal.server.sessions.get('two')?.info().rows ?? 0;
    await page.evaluate(() => {
      (document.getElementById('second') as HTMLElement).style.height = '45%';
    });
    await eventually(() => (terminal.server.sessions.get('two')?.info().rows ?? 0) > rowsBefore, 5000, 'a resize');

    // Disposed, the second view lets go of its session; the first goes on.
    await page.evaluate(() => (window as unknown as Views).second?.dispose());
    await eventually(() => terminal.server.sessions.get('two')?.pageCount === 0, 5000, 'the second page to go');
    await page.evaluate(() => (window as unknown as Views).terminalView.input('echo still-$((3+3))\r'));
    await waitForScreen(page, /^still-6$/m);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('a flood is drawn in jump scrolls, and its end reaches the screen (DOM renderer)', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    const domBrowser = await startChromium(['--disable-webgl']);
    try {
      const page = await domBrowser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${terminal.base}/terminal/session/flood`);
      await waitForScreen(page, /\$ $/m);
      assert.equal(await page.locator('.xterm-screen canvas').count(), 0, 'the DOM renderer');
      await page.keyboard.type('seq 1 400000');
      await page.keyboard.press('Enter');
      // Held back (synchronized output) while it floods in...
      await page.waitForFunction(
        () => (window as unknown as Views).terminalView.terminal.modes.synchronizedOutputMode,
        undefined,
        {
          polling: 1,
          timeout: 20_000,
        },
      );
      // ...and drawn once it stops: the last line in the rows on the screen, not only in the buffer.
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll('.xterm-rows > div')).some(
            (row) => row.textContent?.trim() === '400000',
          ),
        undefined,
        { timeout: 30_000 },
      );
      await page.waitForFunction(
        () => !(window as unknown as Views).terminalView.terminal.modes.synchronizedOutputMode,
      );
      // Typing is echoed as before.
      await page.keyboard.type('echo after-$((5*5))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^after-25$/m);
      assert.deepEqual(errors, []);
    } finally {
      await domBrowser.close();
    }
  });

  test('a selection made during synchronized output is drawn once it ends (DOM renderer)', async (t) => {
    // The page puts off xterm.js's selection redraws while frames are held back (they
    // rebuilt every row with the DOM renderer): they must be made up for afterwards.
    if (!requireTool(t, 'chromium')) return;
    const domBrowser = await startChromium(['--disable-webgl']);
    try {
      const page = await domBrowser.newPage();
      await page.goto(`${terminal.base}/terminal/session/sync`);
      await waitForScreen(page, /\$ $/m);
      // A program's own synchronized output, with scrolling in it and none after it.
      await page.keyboard.type("printf '\\e[?2026h'; seq 1 100; sleep 2; printf '\\e[?2026l'");
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => {
        const term = (window as unknown as Views).terminalView.terminal;
        const buffer = term.buffer.active;
        const above = buffer.getLine(buffer.baseY + buffer.cursorY - 1)?.translateToString(true);
        return term.modes.synchronizedOutputMode && above === '100';
      });
      await page.evaluate(() => (window as unknown as Views).terminalView.terminal.selectAll());
      await page.waitForFunction(
        () => !(window as unknown as Views).terminalView.terminal.modes.synchronizedOutputMode,
        undefined,
        { timeout: 10_000 },
      );
      await eventually(async () => (await page.locator('.xterm-selection > div').count()) > 0, 5000, 'the selection');
    } finally {
      await domBrowser.close();
    }
  });

  test('text is drawn at pixel ratios 1, 2 and 3 (WebGL where it draws, else the DOM renderer)', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const renderers: string[] = [];
    for (const ratio of [1, 2, 3]) {
      const context = await browser.newContext({ deviceScaleFactor: ratio, viewport: { width: 640, height: 400 } });
      const page = await context.newPage();
      await page.goto(`${terminal.base}/terminal/session/ratio${ratio}`);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type("printf '%.0sWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW\\n' 1 2 3 4 5 6 7 8");
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^W{40}\n(W{40}\n){7}/m);
      // The rows of Ws as the screen shows them: a good part of their area is ink.
      const cells = await page.evaluate(() => {
        const term = (window as unknown as { terminal: import('@xterm/xterm').Terminal }).terminal;
        const screen = document.querySelector('.xterm-screen') as HTMLElement;
        return { width: screen.clientWidth / term.cols, height: screen.clientHeight / term.rows };
      });
      const area = 40 * cells.width * 8 * cells.height * ratio * ratio;
      // Drawn within the next frames (a renderer that draws nothing never gets there).
      let drawn = 0;
      for (let frame = 0; frame < 30 && drawn < area / 5; frame++) {
        await page.evaluate(() => new Promise(requestAnimationFrame));
        drawn = await drawnPixels(page, await page.locator('.xterm-screen').screenshot());
      }
      t.diagnostic(`ratio ${ratio}: ${drawn} pixels drawn, the Ws cover ${Math.round(area)}`);
      assert.ok(drawn >= area / 5, `at pixel ratio ${ratio} the text is drawn (${drawn} pixels)`);
      renderers.push(
        `${ratio}: ${await page.evaluate(() => document.querySelector<HTMLElement>('[data-renderer]')?.dataset.renderer)}`,
      );
      await context.close();
    }
    t.diagnostic(`renderers by pixel ratio: ${renderers.join(', ')}`);
  });

  test('through the auth proxy with basic auth: the page, its WebSocket, and no CSP violation', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const proxy = await startAuthProxy(
      { AUTH_USERNAME: 'grumpy', AUTH_PASSWORD: 'secret', URI_ROOT_PATH: '/user/alice' },
      terminal.port,
    );
    const context = await browser.newContext({ httpCredentials: { username: 'grumpy', password: 'secret' } });
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${proxy.base}/`);
      assert.match(page.url(), /\/user\/alice\/terminal\/session\/1$/);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo proxied-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^proxied-42$/m);
      assert.deepEqual(problems, [], 'no errors and no CSP violations in the console');
    } finally {
      await context.close();
      await proxy.close();
    }
  });
});
