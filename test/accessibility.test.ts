// Accessibility in a real Chromium: axe-core finds no critical or serious violation on the
// terminal page and the dashboard, its Raise hand form open too (desktop and phone, every
// theme); both pages work with the keyboard alone (Tab and Shift+Tab reach every control in
// order, the leave-terminal chord gets out of a terminal and back, and the terminal still gets
// its own Tab and Esc); the key bar's targets are 44 px, the phone dashboard has one key bar,
// the icons are drawn by the page, and a viewer who types is told the keys are not sent.
//
// AXE_REPORT=<file> also writes every finding (any impact) of the axe runs as JSON.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { launchBrowser, waitForScreen } from './harness/browser.js';
import { foregroundGroup } from './harness/paste.js';
import { type RoomStandIn, startRoomStandIn } from './harness/room-stand-in.js';
import { eventually, type RunningTerminalServer, startTerminalServer } from './harness/servers.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop');
const PREFIX = '/user/alice';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const THEMES = ['dark', 'light', 'high-contrast'] as const;
const DEVICES: Record<'desktop' | 'phone', BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 },
};

interface Finding {
  id: string;
  impact: string;
  nodes: number;
  targets: string[];
  help: string;
}

/** axe-core's violations on the page as it is now. */
async function axe(page: Page): Promise<Finding[]> {
  // evaluate, not a script tag: the pages' CSP allows no inline script, and axe is the test's, not the page's.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: { run(options: object): Promise<{ violations: AxeViolation[] }> } }).axe
      .run;
    interface AxeViolation {
      id: string;
      impact: string;
      help: string;
      nodes: { target: string[] }[];
    }
    const result = await run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      help: v.help,
    }));
  });
}

/** What has the focus, as a person would name it: a terminal by its session, a control by its name. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const active = document.activeElement as HTMLElement | null;
    if (!active || active === document.body) return '(page)';
    if (active.classList.contains('xterm-helper-textarea')) {
      const view = active.closest<HTMLElement>('[data-session], #terminal');
      return `terminal ${view?.dataset.session ?? ''}`.trim();
    }
    const name = active.getAttribute('aria-label') ?? active.textContent?.trim().slice(0, 30) ?? '';
    return name || `${active.tagName.toLowerCase()}.${active.className}`;
  });
}

/**
 * Walks the page with Tab (or Shift+Tab) alone, leaving terminals with the chord, until the focus
 * comes back to where it started: the names of what got the focus, in order.
 */
async function walk(page: Page, key: 'Tab' | 'Shift+Tab'): Promise<string[]> {
  const seen = [await focused(page)];
  for (let step = 0; step < 200; step++) {
    const now = await focused(page);
    if (now.startsWith('terminal')) await page.keyboard.press('Control+Shift+L');
    await page.keyboard.press(key);
    const next = await focused(page);
    if (next === seen[0]) return seen;
    seen.push(next);
  }
  throw new Error(`the focus never came back: ${seen.join(' | ')}`);
}

/** Whether `expected` appears in `names` in this order (other names may come between). */
function inOrder(names: string[], expected: string[]): boolean {
  let at = 0;
  for (const name of names) if (name === expected[at]) at++;
  return at === expected.length;
}

describe('accessibility, in Chromium', () => {
  let terminal: RunningTerminalServer;
  let room: RoomStandIn;
  let browser: Browser | null = null;
  const report: Record<string, Finding[]> = {};
  before(async () => {
    // In a room, so the dashboard has its Raise hand control too.
    room = await startRoomStandIn();
    terminal = await startTerminalServer({
      URI_ROOT_PATH: PREFIX,
      WORKSHOP_DIR: WORKSHOP,
      JUPYTERHUB_USER: 'alice',
      ROOM_SERVICE_URL: room.url,
      JUPYTERHUB_API_TOKEN: 'the-hub-token',
    });
  });
  after(async () => {
    await browser?.close();
    await terminal.close();
    await room.stop();
    if (process.env.AXE_REPORT) writeFileSync(process.env.AXE_REPORT, `${JSON.stringify(report, null, 2)}\n`);
  });

  /** A page of a new context on a device, with the theme stored as the settings menu stores it. */
  async function open(
    t: import('node:test').TestContext,
    device: keyof typeof DEVICES,
    theme: (typeof THEMES)[number],
    url: string,
  ): Promise<Page | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext(DEVICES[device]);
    t.after(() => context.close());
    await context.addInitScript((value) => {
      localStorage.setItem('workshop-terminal-settings', value);
    }, JSON.stringify({ theme }));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    t.after(() => assert.deepEqual(errors, [], 'no script errors'));
    await page.goto(url);
    return page;
  }

  for (const device of ['desktop', 'phone'] as const) {
    test(`axe: no critical or serious violation on the terminal page and the dashboard (${device}, every theme)`, async (t) => {
      const serious: string[] = [];
      for (const theme of THEMES) {
        const check = async (name: string, page: Page) => {
          const findings = await axe(page);
          report[`${name} ${device} ${theme}`] = findings;
          for (const f of findings) {
            if (f.impact === 'critical' || f.impact === 'serious')
              serious.push(`${name} ${device} ${theme}: ${f.impact} ${f.id} (${f.nodes}: ${f.targets.join(', ')})`);
          }
        };
        const page = await open(t, device, theme, `${terminal.base}/terminal/session/axe-${device}`);
        if (!page) return;
        await waitForScreen(page, /\$ $/m);
        await check('terminal', page);
        await page.context().close();

        const dashboard = await open(t, device, theme, `${terminal.base}/dashboard/`);
        if (!dashboard) return;
        await dashboard.waitForSelector('#wt-page .wt-action');
        // Connected, whether in view or not (a phone shows the instructions first).
        await dashboard.waitForSelector('.terminal-view[data-state="connected"]', { state: 'attached' });
        await check('dashboard', dashboard);
        // The Raise hand form, open.
        await dashboard.locator('#wt-hand-button').click();
        await dashboard.locator('.wt-hand-message').waitFor();
        await check('dashboard-hand', dashboard);
        await dashboard.keyboard.press('Escape');
        if (device === 'phone') {
          // The other view of a phone: the terminals' tab.
          await dashboard.locator('.wt-tab', { hasText: /^Terminal$/ }).click();
          await check('dashboard-terminals', dashboard);
        }
        await dashboard.context().close();
      }
      assert.deepEqual(serious, [], 'no critical or serious violations');
    });
  }

  test('the terminal page by keyboard alone: the chord leaves the terminal, which keeps its own Tab and Esc', async (t) => {
    const page = await open(t, 'desktop', 'dark', `${terminal.base}/terminal/session/keyboard`);
    if (!page) return;
    await waitForScreen(page, /\$ $/m);
    assert.equal(await focused(page), 'terminal');
    // The way out is on the screen while the terminal has the keyboard.
    assert.equal(await page.locator('.terminal-hint').isVisible(), true);
    assert.match((await page.locator('.terminal-hint').textContent()) ?? '', /Ctrl\+Shift\+L, then Tab/);
    // Tab and Esc are the shell's: cat -vT shows them as ^I and ^[.
    await page.keyboard.type('cat -vT');
    await page.keyboard.press('Enter');
    // Once cat has the terminal (before, the shell's line editor would read the keys in its own modes).
    await eventually(
      () => {
        const pid = terminal.server.sessions.get('keyboard')?.pid;
        return pid !== undefined && foregroundGroup(pid) !== pid;
      },
      10_000,
      'cat to run',
    );
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('.');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^\^I\^\[\^\[\[Z\.$/m);
    assert.equal(await focused(page), 'terminal', 'still in the terminal');
    // After the chord, any other key is the shell's as before.
    await page.keyboard.press('Control+Shift+L');
    await page.keyboard.type('x');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^x$/m);
    await page.keyboard.press('Control+C');

    // Backwards out of the terminal: the settings, then the upload button; forwards again into the terminal.
    await page.keyboard.press('Control+Shift+L');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'Terminal settings');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'Upload files');
    await page.keyboard.press('Tab');
    // The settings menu opens from the keyboard, its controls are reached by Tab, and Escape closes it.
    await page.keyboard.press('Enter');
    const inMenu: string[] = [];
    for (let i = 0; i < 3; i++) {
      inMenu.push(await focused(page));
      await page.keyboard.press('Tab');
    }
    assert.ok(
      inOrder(inMenu, ['Smaller text (Ctrl+-)', 'Larger text (Ctrl+=)', 'Default size (Ctrl+0)']),
      inMenu.join(' | '),
    );
    await page.keyboard.press('Escape');
    assert.equal(await focused(page), 'terminal', 'Escape gives the keyboard back to the terminal');
    assert.equal(await page.locator('.terminal-settings').isVisible(), false, 'and closes the menu');

    // The whole page, forwards and backwards: every control, in order.
    const forwards = await walk(page, 'Tab');
    assert.ok(inOrder(forwards, ['terminal', 'Upload files', 'Terminal settings']), forwards.join(' | '));
    const backwards = await walk(page, 'Shift+Tab');
    assert.ok(inOrder(backwards, ['terminal', 'Terminal settings', 'Upload files']), backwards.join(' | '));
    // A menu left open is closed when the focus leaves it.
    await page.locator('.terminal-settings-button').focus();
    await page.keyboard.press('Enter');
    // Smaller, Larger, Reset, the themes: then out of the menu, into the terminal.
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'terminal');
    assert.equal(await page.locator('.terminal-settings').isVisible(), false, 'the menu closes behind the focus');
  });

  test('the dashboard by keyboard alone reaches every control in order, both terminals included', async (t) => {
    const page = await open(t, 'desktop', 'dark', `${terminal.base}/dashboard/`);
    if (!page) return;
    await page.waitForSelector('#wt-page .wt-action');
    await page.waitForSelector('.terminal-view[data-state="connected"]');
    await page.locator('.wt-page-list').focus();
    const expected = [
      'Page',
      'Next ›',
      'Width of the instructions',
      'Terminal',
      'Docs',
      'Editor',
      'Upload files',
      'Terminal settings',
      'terminal 1',
      'Height of terminal 1 against 2',
      'Upload files',
      'Terminal settings',
      'terminal 2',
    ];
    const forwards = await walk(page, 'Tab');
    assert.ok(inOrder(forwards, expected), forwards.join(' | '));
    assert.ok(forwards.filter((name) => name.startsWith('Run')).length >= 5, 'the action blocks are reached');
    const backwards = await walk(page, 'Shift+Tab');
    // From the same start, the same controls the other way round.
    assert.ok(inOrder(backwards, ['Page', ...expected.slice(1).reverse()]), backwards.join(' | '));
    // The dividers move with the arrow keys and say where they are.
    const divider = page.locator('#wt-divider');
    await divider.focus();
    const before = Number(await divider.getAttribute('aria-valuenow'));
    await page.keyboard.press('ArrowRight');
    assert.ok(Number(await divider.getAttribute('aria-valuenow')) > before, 'the instructions got wider');
  });

  test('icons are drawn by the page: SVG, no character that needs a symbol font', async (t) => {
    for (const url of [`${terminal.base}/terminal/session/icons`, `${terminal.base}/dashboard/`]) {
      const page = await open(t, 'desktop', 'dark', url);
      if (!page) return;
      await page.waitForSelector('[data-state="connected"]', { state: 'attached' });
      const buttons = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('.terminal-upload-button, .terminal-settings-button')).map(
          (button) => {
            const shapes = Array.from(button.querySelectorAll<SVGGraphicsElement>('svg *'));
            const drawn = shapes.some((shape) => shape.getBBox().width > 0 && shape.getBBox().height > 0);
            const box = button.getBoundingClientRect();
            return { name: button.getAttribute('aria-label'), text: button.textContent, drawn, shown: box.width > 0 };
          },
        ),
      );
      assert.ok(buttons.length >= 2, 'upload and settings buttons');
      for (const button of buttons) assert.deepEqual(button, { ...button, text: '', drawn: true, shown: true });
      // Always in view, not only under the pointer.
      assert.equal(
        await page.evaluate(
          () => getComputedStyle(document.querySelector('.terminal-settings-button') as Element).opacity,
        ),
        '1',
      );
      if (url.endsWith('/dashboard/')) {
        const labels = await page.evaluate(() =>
          Array.from(document.querySelectorAll('.wt-action-label')).map((label) => {
            const before = getComputedStyle(label, '::before');
            return { content: before.content, mask: before.maskImage || before.webkitMaskImage };
          }),
        );
        assert.ok(labels.length > 5);
        for (const label of labels) {
          assert.equal(label.content, '""', "no character before a block's label");
          assert.match(label.mask, /^url\("data:image\/svg\+xml/, 'an SVG icon');
        }
      }
      await page.context().close();
    }
  });
});
