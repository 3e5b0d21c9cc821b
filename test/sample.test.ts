// The README's sample workshop, as a newcomer tries it: the stack started with
// the README's own WORKSHOP_DIR line, then every page read, every block clicked
// and the check passed, in Chromium. With SCREENSHOTS set it also draws the
// README's picture of the dashboard (docs/images/dashboard.png).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { dashboardTerminalText, startChromium } from './harness/browser.js';
import { eventually } from './harness/servers.js';
import { startStack, stopStack, waitReady } from './harness/stack.js';
import { requireTool } from './harness/tools.js';

/** The sample's folder as the README's demo line names it (`WORKSHOP_DIR=$PWD/<folder> npm start`). */
function readmeSample(): string {
  const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
  const folder = readme.match(/^WORKSHOP_DIR=\$PWD\/(\S+) npm start$/m)?.[1];
  assert.ok(folder, 'the README has a one-line dashboard demo');
  return path.join(projectRoot(), folder);
}

/**
 * Starts the stack on a workshop folder with a home of its own, opens its
 * dashboard in Chromium (`/`), and hands `use` the page and the home; checks no
 * script error happened; stops everything after.
 */
async function withDashboard(workshopDir: string, use: (page: Page, home: string) => Promise<void>): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-sample-home-'));
  const stack = await startStack({ WORKSHOP_DIR: workshopDir, TERMINAL_HOME: home });
  const browser = await startChromium();
  try {
    await waitReady(stack);
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://localhost:${stack.port}/`);
    await use(page, home);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stopStack(stack);
    rmSync(home, { recursive: true, force: true });
  }
}

describe('the sample workshop', () => {
  test('the README’s demo line: every page, every block and the check, in Chromium', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    await withDashboard(readmeSample(), async (page, home) => {
      await page.waitForSelector('#wt-page[data-page="welcome"]');
      assert.equal(await page.locator('.wt-problems li').count(), 0, 'no problems shown');
      // The picture shows, the username is filled in.
      await page.waitForFunction(
        () => (document.querySelector('#wt-page img') as HTMLImageElement)?.naturalWidth > 100,
      );
      assert.match(String(await page.textContent('#wt-page h1')), new RegExp(`Welcome, ${os.userInfo().username}`));
      // The tab loads: a third shell.
      await page.click('.wt-tab:has-text("Scratch")');
      await page.waitForSelector('.wt-tab.wt-active:has-text("Scratch")');
      await page.click('.wt-tab:has-text("Terminal")');

      await page.click('.wt-exit-sign:has-text("Start")');
      await page.waitForSelector('#wt-page[data-page="commands"]');
      await page.locator('.wt-action', { hasText: 'Hello from' }).click();
      await eventually(() => readFileSync(path.join(home, 'hello.txt'), 'utf8').startsWith('Hello from '), 10_000);
      await page.locator('.wt-action', { hasText: 'cat hello.txt' }).click();
      await eventually(
        async () => /^Hello from /m.test(await dashboardTerminalText(page, '2')),
        10_000,
        'cat in terminal 2',
      );
      await page.locator('.wt-action', { hasText: 'sleep 600' }).click();
      await eventually(async () => /sleep 600/.test(await dashboardTerminalText(page, '1')), 10_000, 'sleep typed');
      await page.locator('.wt-action', { hasText: '<ctrl+c>' }).click();
      await eventually(async () => /\^C/.test(await dashboardTerminalText(page, '1')), 10_000, 'sleep interrupted');
      assert.equal(await page.locator('.wt-action.wt-done').count(), 4, 'each block clicked is marked done');
      if (process.env.SCREENSHOTS)
        await page.screenshot({ path: path.join(projectRoot(), 'docs/images/dashboard.png') });

      await page.click('.wt-next');
      await page.waitForSelector('#wt-page[data-page="check"]');
      await page.locator('.wt-check', { hasText: 'The greeting file says hello' }).click();
      const passed = page.locator('.wt-check[data-result="pass"]');
      await passed.waitFor();
      assert.match(String(await passed.textContent()), /hello\.txt says: Hello from/);
    });
  });
});

describe('the Educates-layout sample', () => {
  test('its pages by weight with their titles, its tabs, a bundle’s picture, a section and a click, in Chromium', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    await withDashboard(path.join(projectRoot(), 'samples/educates-workshop/workshop'), async (page) => {
      await page.waitForSelector('#wt-page[data-page]');
      assert.equal(await page.locator('.wt-problems li').count(), 0, 'no problems shown');
      assert.deepEqual(await page.locator('.wt-page-list option').allTextContents(), [
        '1. Overview',
        '2. First commands',
        '3. Finish',
      ]);
      assert.equal(await page.textContent('.wt-workshop-name'), "A workshop in Educates' layout");
      assert.deepEqual(await page.locator('.wt-tab:visible').allTextContents(), ['Terminal', 'Scratch']);
      // session.env reaches the shells; the note box is drawn.
      assert.equal((await page.locator('#wt-page .wt-note, #wt-page [class*="note"]').count()) > 0, true, 'a note');
      await page.locator('.wt-action', { hasText: 'echo "$GREETING"' }).click();
      await eventually(
        async () => /^hello from the Workshop resource$/m.test(await dashboardTerminalText(page, '1')),
        10_000,
        'the greeting from session.env',
      );
      await page.click('.wt-next');
      await page.waitForSelector('#wt-page[data-page="02-first-commands"]');
      await page.waitForFunction(
        () => (document.querySelector('#wt-page img') as HTMLImageElement)?.naturalWidth > 100,
      );
      await page.locator('.wt-action', { hasText: 'uname -a' }).click();
      await eventually(
        async () => /^Linux /m.test(await dashboardTerminalText(page, '2')),
        10_000,
        'uname in terminal 2',
      );
      // The section opens with a click, showing what it holds.
      const more = page.locator('.wt-action-section-begin', { hasText: 'If you want more' });
      assert.equal(await page.locator('.wt-section-body').first().isVisible(), false, 'closed at first');
      await more.click();
      await page.locator('.wt-section-body').first().waitFor({ state: 'visible' });
      if (process.env.SCREENSHOTS)
        await page.screenshot({ path: path.join(projectRoot(), 'docs/images/educates.png') });
    });
  });
});
