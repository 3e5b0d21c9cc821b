// Every device, in a real Chromium: on a phone-sized touch screen the key bar
// types Esc, Tab, arrows and a sticky Ctrl into the shell without taking the
// focus from the terminal, and the terminal shrinks with the on-screen
// keyboard; a desktop has no key bar; the settings menu's font size and theme
// (and Ctrl+= / Ctrl+- / Ctrl+0) apply to every view and survive a reload.
//
// SCREENSHOTS=1 also writes docs/images/phone.png, the README's picture of the phone layout.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { launchBrowser, startChromium, waitForScreen } from './harness/browser.js';
import { eventually, type RunningTerminalServer, request, startTerminalServer } from './harness/servers.js';

/** What the tests use of the page's view (window.terminalView) and one more they mount. */
interface View {
  input(text: string): void;
  allowKeyBar(allowed: boolean): void;
  dispose(): void;
  terminal: import('@xterm/xterm').Terminal;
}
interface Views {
  terminalView: View;
  second?: View;
}

const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };
const STORAGE_KEY = 'workshop-terminal-settings';

describe('every device, in Chromium', () => {
  let terminal: RunningTerminalServer;
  let browser: Browser | null = null;
  before(async () => {
    terminal = await startTerminalServer({ URI_ROOT_PATH: '/user/alice' });
  });
  after(async () => {
    await browser?.close();
    await terminal.close();
  });

  /** The session's size as the server has it, from its API. */
  async function serverSize(session: string): Promise<{ cols: number; rows: number }> {
    const response = await request(`${terminal.base}/terminal/api/sessions/${session}`);
    assert.equal(response.status, 200, response.body);
    const { cols, rows } = JSON.parse(response.body) as { cols: number; rows: number };
    return { cols, rows };
  }

  /** Errors thrown on the pages a test opened: none, checked at its end. */
  let errors: string[] = [];
  beforeEach(() => {
    errors = [];
  });
  afterEach(() => assert.deepEqual(errors, [], 'no errors on the page'));

  async function open(context: BrowserContext, session: string): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${terminal.base}/terminal/session/${session}`);
    await waitForScreen(page, /\$ $/m);
    // The renderer is settled (at a phone's pixel ratio it may have handed over to the DOM
    // renderer, whose cells differ), and the server has the size the page now fits.
    await page.waitForSelector('[data-renderer-settled]', { state: 'attached' });
    await eventually(
      async () => {
        const size = await page.evaluate(() => {
          const term = (window as unknown as Views).terminalView.terminal;
          return { cols: term.cols, rows: term.rows };
        });
        const server = await serverSize(session);
        return size.cols === server.cols && size.rows === server.rows;
      },
      10_000,
      "the server to have the page's size",
    );
    return page;
  }

  const keyFocused = (page: Page) =>
    page.evaluate(() => document.activeElement?.classList.contains('xterm-helper-textarea') ?? false);

  test('on a phone the key bar sends Esc, Tab, symbols, arrows and a sticky Ctrl, and keeps the keyboard up', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext(PHONE);
    try {
      const page = await open(context, 'phone');
      const bar = page.locator('.terminal-key-bar');
      assert.equal(await bar.isVisible(), true, 'the key bar shows on a touch screen');
      // The terminal's rows end above the bar: the prompt is never under it.
      const screenBottom = await page.evaluate(
        () => document.querySelector('.xterm-screen')?.getBoundingClientRect().bottom,
      );
      const barTop = (await bar.boundingBox())?.y ?? 0;
      assert.ok(
        screenBottom !== undefined && screenBottom <= barTop,
        `screen ends at ${screenBottom}, bar at ${barTop}`,
      );
      const key = (label: string) => page.locator(`.terminal-key-bar button[data-key="${label}"]`);
      // Targets a finger can hit: every key (and the header's buttons) at least 44 × 44 px (WCAG 2.5.5).
      const small = await page.evaluate(() =>
        Array.from(
          document.querySelectorAll<HTMLElement>('.terminal-key-bar button, .terminal-header-controls > button'),
        )
          .filter((button) => !button.hidden)
          .map((button) => ({ name: button.title, ...button.getBoundingClientRect().toJSON() }))
          .filter((box) => box.width < 44 || box.height < 44),
      );
      assert.deepEqual(small, [], 'no key smaller than 44 px');

      // cat -vT shows every byte it gets: ^[ for Esc, ^I for Tab.
      await page.keyboard.type('cat -vT');
      await page.keyboard.press('Enter');
      for (const label of ['Esc', 'Tab', '↑', '→', '|', '~', '/', '-']) await key(label).tap();
      // Ctrl with a key of the bar: Ctrl+Left as xterm sends it.
      await key('Ctrl').tap();
      await key('←').tap();
      assert.equal(await keyFocused(page), true, 'the terminal keeps the focus (and the on-screen keyboard stays up)');
      await page.keyboard.type('.');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^\^\[\^I\^\[\[A\^\[\[C\|~\/-\^\[\[1;5D\.$/m);

      // Ctrl is sticky for the next key of the on-screen keyboard, and a second tap lets go of it.
      await key('Ctrl').tap();
      assert.equal(await key('Ctrl').getAttribute('aria-pressed'), 'true', 'Ctrl shows as held');
      await key('Ctrl').tap();
      assert.equal(await key('Ctrl').getAttribute('aria-pressed'), 'false', 'a second tap lets go');
      await page.keyboard.type('x');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^x$/m);
      await key('Ctrl').tap();
      await page.keyboard.type('c');
      assert.equal(await key('Ctrl').getAttribute('aria-pressed'), 'false', 'Ctrl applies once');
      await waitForScreen(page, /^\^C\n.*\$ $/m);
      await page.keyboard.type('echo after-$?');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^after-130$/m);

      // In application cursor mode (vim, less) the arrows are SS3, as xterm.js sends them.
      await page.keyboard.type("printf '\\e[?1h'; cat -v; printf '\\e[?1l'");
      await page.keyboard.press('Enter');
      await page.waitForFunction(
        () => (window as unknown as Views).terminalView.terminal.modes.applicationCursorKeysMode,
      );
      await key('↓').tap();
      await key('←').tap();
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^\^\[OB\^\[OD$/m);
      await key('Ctrl').tap();
      await page.keyboard.type('d');
      await page.waitForFunction(
        () => !(window as unknown as Views).terminalView.terminal.modes.applicationCursorKeysMode,
      );

      // A page that cannot type (a read-only viewer's) hides the bar, and the terminal takes its room.
      const { rows } = await serverSize('phone');
      await page.evaluate(() => (window as unknown as Views).terminalView.allowKeyBar(false));
      assert.equal(await bar.isVisible(), false);
      await eventually(async () => (await serverSize('phone')).rows > rows, 5000, 'the terminal to grow');

      if (process.env.SCREENSHOTS) await screenshotPhone();
    } finally {
      await context.close();
    }
  });

  test('a desktop page has no key bar', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    try {
      const page = await open(context, 'desktop');
      assert.equal(await page.locator('.terminal-key-bar').count(), 1);
      assert.equal(await page.locator('.terminal-key-bar').isVisible(), false);
      assert.equal(
        await page.evaluate(() => document.getElementById('terminal')?.classList.contains('terminal-key-bar-shown')),
        false,
      );
    } finally {
      await context.close();
    }
  });

  test('the terminal shrinks with the on-screen keyboard (the visual viewport)', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext(PHONE);
    try {
      const page = await open(context, 'keyboard');
      const before = await serverSize('keyboard');
      // Headless Chromium has no on-screen keyboard: make its visual viewport say what one
      // does (the window keeps its height; only the visual viewport shrinks) and fire its event.
      const keyboardHeight = 340;
      await page.evaluate((covered) => {
        const viewport = window.visualViewport as VisualViewport;
        const height = window.innerHeight - covered;
        Object.defineProperty(viewport, 'height', { configurable: true, value: height });
        viewport.dispatchEvent(new Event('resize'));
      }, keyboardHeight);
      await eventually(async () => (await serverSize('keyboard')).rows < before.rows, 5000, 'fewer rows');
      // The key bar and the prompt stay in sight, above the keyboard.
      const visible = 844 - keyboardHeight;
      const barBottom = await page.evaluate(
        () => document.querySelector('.terminal-key-bar')?.getBoundingClientRect().bottom,
      );
      assert.ok(barBottom !== undefined && barBottom <= visible, `the key bar ends at ${barBottom}, above ${visible}`);
      const cursorRow = await page.evaluate(() => {
        const term = (window as unknown as Views).terminalView.terminal;
        const rows = document.querySelectorAll('.xterm-screen')[0]?.getBoundingClientRect();
        return rows ? rows.top + ((term.buffer.active.cursorY + 1) * rows.height) / term.rows : Infinity;
      });
      assert.ok(cursorRow <= visible, `the prompt's row ends at ${cursorRow}, above ${visible}`);
      assert.equal((await serverSize('keyboard')).cols, before.cols, 'as wide as before');

      // The keyboard goes away: the terminal takes the whole height again.
      await page.evaluate(() => {
        const viewport = window.visualViewport as VisualViewport;
        delete (viewport as unknown as { height?: number }).height;
        viewport.dispatchEvent(new Event('resize'));
      });
      await eventually(async () => (await serverSize('keyboard')).rows === before.rows, 5000, 'the rows back');
    } finally {
      await context.close();
    }
  });

  test('theme and font size chosen in the settings menu apply to every view and survive a reload', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    try {
      const page = await open(context, 'settings');
      const before = await serverSize('settings');
      const options = () =>
        page.evaluate(() => {
          const term = (window as unknown as Views).terminalView.terminal;
          return {
            fontSize: term.options.fontSize,
            background: term.options.theme?.background,
            page: document.documentElement.dataset.terminalTheme,
            body: getComputedStyle(document.body).backgroundColor,
          };
        });
      assert.deepEqual(await options(), {
        fontSize: 14,
        background: '#000000',
        page: 'dark',
        body: 'rgb(0, 0, 0)',
      });

      // By keyboard: the gear opens the menu with the focus in it.
      await page.locator('.terminal-settings-button').focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.locator('.terminal-settings').isVisible(), true);
      assert.equal(await page.evaluate(() => document.activeElement?.closest('.terminal-settings') !== null), true);
      await page.click('.terminal-settings button[data-action="larger"]');
      await page.click('.terminal-settings button[data-action="larger"]');
      await page.check('.terminal-settings input[value="light"]');
      assert.equal(await page.textContent('.terminal-settings-size'), '16px');
      await page.keyboard.press('Escape');
      assert.equal(await page.locator('.terminal-settings').isVisible(), false);
      assert.equal(await keyFocused(page), true, 'Escape gives the keyboard back to the terminal');
      assert.deepEqual(await options(), {
        fontSize: 16,
        background: '#ffffff',
        page: 'light',
        body: 'rgb(255, 255, 255)',
      });
      // A bigger font is fewer columns and rows, and the server is told.
      await eventually(
        async () => {
          const now = await serverSize('settings');
          return now.cols < before.cols && now.rows < before.rows;
        },
        5000,
        'the server to get the smaller size',
      );
      const bigger = await serverSize('settings');

      await page.reload();
      await waitForScreen(page, /\$ $/m);
      assert.deepEqual(await options(), {
        fontSize: 16,
        background: '#ffffff',
        page: 'light',
        body: 'rgb(255, 255, 255)',
      });
      assert.equal(await page.isChecked('.terminal-settings input[value="light"]'), true);
      assert.deepEqual(await serverSize('settings'), bigger, 'the page attached at its size for 16px');

      // Every view of the page follows, a new one starts with them, and Ctrl+0 resets the size.
      await page.evaluate(() => {
        const w = window as unknown as Views;
        (document.getElementById('terminal') as HTMLElement).style.bottom = '50%';
        const box = document.createElement('div');
        box.id = 'second';
        box.style.cssText = 'position: fixed; left: 0; right: 0; bottom: 0; height: 40%';
        document.body.append(box);
        const View = w.terminalView.constructor as new (container: HTMLElement, options: object) => View;
        w.second = new View(box, { prefix: '/user/alice', session: 'settings-2' });
      });
      const fontSizes = () =>
        page.evaluate(() => {
          const w = window as unknown as Views;
          return [w.terminalView.terminal.options.fontSize, w.second?.terminal.options.fontSize];
        });
      assert.deepEqual(await fontSizes(), [16, 16]);
      await page.locator('#terminal .xterm').click();
      await page.keyboard.press('Control+0');
      assert.deepEqual(await fontSizes(), [14, 14]);
      assert.equal(
        await page.evaluate(() => (window as unknown as Views).second?.terminal.options.theme?.background),
        '#ffffff',
      );
      await page.evaluate(() => (window as unknown as Views).second?.dispose());

      // What is stored is checked: nonsense gives the defaults, not a broken page.
      for (const stored of ['{"fontSize": 1000, "theme": "<b>"}', 'not json', '[]', '{"fontSize": "16"}']) {
        await page.evaluate(
          ([key, value]) => localStorage.setItem(key as string, value as string),
          [STORAGE_KEY, stored],
        );
        await page.reload();
        await waitForScreen(page, /\$ $/m);
        assert.deepEqual(await options(), { fontSize: 14, background: '#000000', page: 'dark', body: 'rgb(0, 0, 0)' });
      }
    } finally {
      await context.close();
    }
  });

  test('Ctrl+= and Ctrl+- change the font size, and send nothing to the shell', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ viewport: { width: 1024, height: 700 } });
    try {
      const page = await open(context, 'zoom');
      const before = await serverSize('zoom');
      // Whether the browser's own zoom was kept from them: what a listener after xterm.js sees.
      await page.evaluate(() => {
        const seen: string[] = [];
        window.addEventListener('keydown', (event) => {
          if (event.ctrlKey && event.key !== 'Control' && event.key !== 'Shift')
            seen.push(`${event.key}:${event.defaultPrevented}`);
        });
        Object.assign(window, { seen });
      });
      await page.keyboard.type('cat -v');
      await page.keyboard.press('Enter');
      const fontSize = () => page.evaluate(() => (window as unknown as Views).terminalView.terminal.options.fontSize);
      await page.keyboard.press('Control+Equal');
      await page.keyboard.press('Control+Equal');
      assert.equal(await fontSize(), 16);
      await eventually(async () => (await serverSize('zoom')).cols < before.cols, 5000, 'fewer columns');
      await page.keyboard.press('Control+Minus');
      assert.equal(await fontSize(), 15);
      await page.keyboard.press('Control+0');
      assert.equal(await fontSize(), 14);
      assert.deepEqual(await page.evaluate(() => (window as unknown as { seen: string[] }).seen), [
        '=:true',
        '=:true',
        '-:true',
        '0:true',
      ]);
      await eventually(async () => (await serverSize('zoom')).cols === before.cols, 5000, 'the columns back');
      // Nothing reached cat before "end"; Ctrl+Shift+- is still Ctrl+_ (readline's undo) for the shell.
      await page.keyboard.type('end');
      await page.keyboard.press('Control+Shift+Minus');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /\$ cat -v\n(end\^_\n){2}$/m);
    } finally {
      await context.close();
    }
  });

  test('on a phone, the dashboard has one key bar, along its bottom, typing into the terminal in focus', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const workshop = await startTerminalServer({
      WORKSHOP_DIR: path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop'),
    });
    const context = await browser.newContext(PHONE);
    try {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${workshop.base}/dashboard/`);
      // Narrow: the instructions first (no key bar: no terminal in view), the terminals behind the Terminal tab.
      await page.waitForSelector('.wt-action');
      assert.equal(await page.locator('.terminal-key-bar:visible').count(), 0, 'no key bar over the instructions');
      await page.locator('.wt-tab', { hasText: /^Terminal$/ }).tap();
      const slot = (session: string) => page.locator(`.wt-terminal-slot[data-session="${session}"]`);
      await page.waitForFunction(() =>
        ['1', '2'].every(
          (session) =>
            document.querySelector<HTMLElement>(`.wt-terminal-slot[data-session="${session}"]`)?.dataset.state ===
            'connected',
        ),
      );
      assert.equal(await page.locator('.terminal-key-bar:visible').count(), 1, 'one key bar for both terminals');
      const bar = page.locator('.terminal-key-bar:visible');
      const box = await bar.boundingBox();
      assert.ok(box && box.y + box.height <= 844 && box.y + box.height >= 840, `the bar is at the bottom: ${box?.y}`);
      const below = await slot('2').boundingBox();
      assert.ok(below && below.y + below.height <= (box?.y ?? 0) + 0.5, 'terminal 2 ends above the bar');
      const screen = (session: string) =>
        page.evaluate((name) => {
          const buffer = (window as unknown as { terminals: Record<string, import('@xterm/xterm').Terminal> })
            .terminals[name]?.buffer.active;
          const rows: string[] = [];
          for (let i = 0; buffer && i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
          return rows.join('\n');
        }, session);
      for (const [session, other, word] of [
        ['2', '1', 'two'],
        ['1', '2', 'one'],
      ] as const) {
        await eventually(async () => /\$ $/m.test(await screen(session)), 10_000, `the prompt of terminal ${session}`);
        await slot(session).locator('.xterm-screen').tap();
        await page.keyboard.type('cat -v');
        await page.keyboard.press('Enter');
        await bar.locator('button[data-key="Esc"]').tap();
        await page.keyboard.type(word);
        await page.keyboard.press('Enter');
        await eventually(
          async () => new RegExp(`^\\^\\[${word}$`, 'm').test(await screen(session)),
          10_000,
          `Esc in terminal ${session}`,
        );
        assert.doesNotMatch(await screen(other), new RegExp(word), `nothing in terminal ${other}`);
        await page.keyboard.press('Control+C');
      }
    } finally {
      await context.close();
      await workshop.close();
    }
  });

  /** docs/images/phone.png: the phone layout with some output (the DOM renderer: headless WebGL draws nothing in screenshots). */
  async function screenshotPhone(): Promise<void> {
    const domBrowser = await startChromium(['--disable-webgl']);
    try {
      const context = await domBrowser.newContext(PHONE);
      const page = await open(context, 'screenshot');
      await page.keyboard.type('mkdir -p workshop/src && cd workshop && touch Dockerfile README.md src/app.py');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /workshop\] \$ $/m);
      await page.keyboard.type('ls -R');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^app\.py$/m);
      await page.keyboard.type('echo "Hello from a phone" | tr a-z A-Z');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^HELLO FROM A PHONE\n.*\$ $/m);
      await page.locator('.terminal-key-bar button[data-key="Ctrl"]').tap();
      // Drawn: the last row of the screen has the prompt.
      await page.waitForFunction(() =>
        Array.from(document.querySelectorAll('.xterm-rows > div')).some((row) => /\$\s*$/.test(row.textContent ?? '')),
      );
      const file = path.join(projectRoot(), 'docs', 'images', 'phone.png');
      await page.screenshot({ path: file });
      assert.ok(statSync(file).size < 150_000, 'a small picture');
      await context.close();
    } finally {
      await domBrowser.close();
    }
  }
});
