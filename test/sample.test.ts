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
import { startChromium } from './support/browser.js';
import { eventually } from './support/servers.js';
import { startStack, stopStack, waitReady } from './support/stack.js';
import { requireTool } from './support/tools.js';

/** The sample's folder as the README's demo line names it (`WORKSHOP_DIR=$PWD/<folder> npm start`). */
function readmeSample(): string {
  const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
  const folder = readme.match(/^WORKSHOP_DIR=\$PWD\/(\S+) npm start$/m)?.[1];
  assert.ok(folder, 'the README has a one-line dashboard demo');
  return path.join(projectRoot(), folder);
}

/** The text of a session's terminal on the dashboard, as xterm.js has it. */
function slotText(page: Page, session: string): Promise<string> {
  return page.evaluate((name) => {
    const term = (window as unknown as { terminals: Record<string, import('@xterm/xterm').Terminal> }).terminals[name];
    const buffer = term?.buffer.active;
    const rows: string[] = [];
    for (let i = 0; buffer && i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return rows.join('\n');
  }, session);
}

describe('the sample workshop', () => {
  test('the README’s demo line: every page, every block and the check, in Chromium', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    const home = mkdtempSync(path.join(os.tmpdir(), 'wt-sample-home-'));
    const stack = await startStack({ WORKSHOP_DIR: readmeSample(), TERMINAL_HOME: home });
    const browser = await startChromium();
    try {
      await waitReady(stack);
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://localhost:${stack.port}/`);
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
      await eventually(async () => /^Hello from /m.test(await slotText(page, '2')), 10_000, 'cat in terminal 2');
      await page.locator('.wt-action', { hasText: 'sleep 600' }).click();
      await eventually(async () => /sleep 600/.test(await slotText(page, '1')), 10_000, 'sleep typed');
      await page.locator('.wt-action', { hasText: '<ctrl+c>' }).click();
      await eventually(async () => /\^C/.test(await slotText(page, '1')), 10_000, 'sleep interrupted');
      assert.equal(await page.locator('.wt-action.wt-done').count(), 4, 'each block clicked is marked done');
      if (process.env.SCREENSHOTS)
        await page.screenshot({ path: path.join(projectRoot(), 'docs/images/dashboard.png') });

      await page.click('.wt-next');
      await page.waitForSelector('#wt-page[data-page="check"]');
      await page.locator('.wt-check', { hasText: 'The greeting file says hello' }).click();
      const passed = page.locator('.wt-check[data-result="pass"]');
      await passed.waitFor();
      assert.match(String(await passed.textContent()), /hello\.txt says: Hello from/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await stopStack(stack);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
