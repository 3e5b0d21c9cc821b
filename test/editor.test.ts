// The editor (issue 24) in Chromium on the whole stack: the dashboard's Editor
// tab (its bundle fetched only once the tab is opened), files opened from the
// tree, edited and saved byte for byte, a change the shell makes while a file
// is open (taken in when the buffer is clean; the attendee's choice when it is
// not, both texts kept), the keyboard alone, a phone, and the stand-alone page.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { startChromium } from './harness/browser.js';
import { eventually } from './harness/servers.js';
import { type Stack, startStack, stopStack, waitReady } from './harness/stack.js';
import { findTool, requireTool } from './harness/tools.js';

let stack: (Stack & { tmp: string }) | null = null;
let browser: Browser | null = null;
let home = '';
const available = findTool('chromium') !== null;

before(async () => {
  if (!available) return;
  home = mkdtempSync(path.join(os.tmpdir(), 'wt-editor-home-'));
  stack = await startStack({ TERMINAL_HOME: home, EDITOR_TAB: 'on' });
  await waitReady(stack);
  browser = await startChromium();
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
  if (home) rmSync(home, { recursive: true, force: true });
});

/** A new page on `route` (under the stack); script errors and refusals of the CSP are collected. */
async function openPage(
  route: string,
  options: { viewport?: { width: number; height: number }; touch?: boolean } = {},
): Promise<{ page: Page; problems: string[]; requests: string[] }> {
  const context = await (browser as Browser).newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    ...(options.touch ? { hasTouch: true, isMobile: true } : {}),
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
  });
  page.on('request', (request) => requests.push(new URL(request.url()).pathname));
  await page.goto(`http://localhost:${stack?.port}${route}`);
  return { page, problems, requests };
}

const file = (name: string) => path.join(home, name);
/** The text the open file's editor holds. */
const editorText = (page: Page) =>
  page.evaluate(() => {
    const view = document.querySelector('.wt-editor-file-panel:not([hidden]) .cm-content');
    return view
      ? Array.from(view.querySelectorAll('.cm-line'))
          .map((line) => line.textContent)
          .join('\n')
      : null;
  });

async function openFromTree(page: Page, name: string): Promise<void> {
  await page.locator(`.wt-editor-file[data-path="${name}"]`).click();
  await page.locator(`.wt-editor-tab[data-path="${name}"]`).waitFor();
  await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').waitFor();
}

/** Types a command into the dashboard's terminal 1 (its Terminal tab), as an attendee does. */
async function typeInShell(page: Page, command: string): Promise<void> {
  await page.locator('.wt-tab', { hasText: /^Terminal$/ }).click();
  await page.locator('.wt-terminal-slot[data-session="1"] .xterm').click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

describe('the editor', () => {
  test('the dashboard fetches the editor when its tab is opened; a file is edited and saved byte for byte', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    writeFileSync(file('app.yaml'), 'name: café\nreplicas: 1\n');
    // Line breaks as the file has them: CRLF throughout, and a lone CR inside a line.
    writeFileSync(file('windows.txt'), 'one\r\ntwo\rstill two\r\nthree');
    const { page, problems, requests } = await openPage('/dashboard/');
    await page.locator('.wt-tab', { hasText: 'Editor' }).waitFor();
    await page.locator('.wt-terminal-slot[data-session="1"] .xterm').waitFor();
    assert.deepEqual(
      requests.filter((url) => url.includes('/editor/')),
      [],
      'nothing of the editor before its tab is opened',
    );
    // Nor in the dashboard's own bundle: the editor:* actions' text changes (and their YAML library) come with the editor.
    const dashboardBundle = readFileSync(path.join(projectRoot(), 'dist/page/dashboard.js'), 'utf8');
    for (const sign of [
      'is not a line number (they start at 1)',
      'Implicit map keys need to be followed by map values',
    ])
      assert.ok(!dashboardBundle.includes(sign), `the edits and the YAML library are not in dashboard.js (${sign})`);
    await page.locator('.wt-tab', { hasText: 'Editor' }).click();
    await openFromTree(page, 'app.yaml');
    assert.ok(requests.some((url) => url.endsWith('/editor/assets/editor.js')));
    assert.equal(await editorText(page), 'name: café\nreplicas: 1\n');
    // YAML is highlighted: its language was loaded for this file.
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-line span').first().waitFor();

    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('image: nginx # ünïcode');
    await page.locator('.wt-editor-tab[data-path="app.yaml"][data-dirty="true"]').waitFor();
    await page.keyboard.press('Control+s');
    await page.locator('.wt-editor-tab[data-path="app.yaml"][data-dirty="false"]').waitFor();
    assert.deepEqual(readFileSync(file('app.yaml')), Buffer.from('name: café\nreplicas: 1\nimage: nginx # ünïcode'));

    await openFromTree(page, 'windows.txt');
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('four');
    await page.locator('.wt-editor-save').click();
    await page.locator('.wt-editor-tab[data-path="windows.txt"][data-dirty="false"]').waitFor();
    assert.deepEqual(readFileSync(file('windows.txt')), Buffer.from('one\r\ntwo\rstill two\r\nthree\r\nfour'));
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('a change the shell makes is taken in when the buffer is clean; with edits the attendee chooses, and both texts survive', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    writeFileSync(file('deploy.yaml'), 'replicas: 1\nimage: web:1\n');
    const { page, problems } = await openPage('/dashboard/');
    await page.locator('.wt-tab', { hasText: 'Editor' }).click();
    await openFromTree(page, 'deploy.yaml');

    // Clean: the shell's sed -i shows in the editor.
    await typeInShell(page, "sed -i 's/replicas: 1/replicas: 2/' deploy.yaml");
    await eventually(() => readFileSync(file('deploy.yaml'), 'utf8').includes('replicas: 2'), 10_000, 'sed ran');
    await page.locator('.wt-tab', { hasText: 'Editor' }).click();
    await eventually(async () => (await editorText(page)) === 'replicas: 2\nimage: web:1\n', 10_000, 'reloaded');

    // Dirty: the attendee's edit and the shell's change; nothing is taken in unasked.
    const mine = 'replicas: 2\nimage: web:1\nport: 80\n';
    const edit = async () => {
      await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('port: 80\n');
      await page.locator('.wt-editor-tab[data-path="deploy.yaml"][data-dirty="true"]').waitFor();
    };
    await edit();
    await typeInShell(page, "sed -i 's/web:1/web:2/' deploy.yaml");
    const theirs = 'replicas: 2\nimage: web:2\n';
    await eventually(() => readFileSync(file('deploy.yaml'), 'utf8') === theirs, 10_000, 'sed ran');
    await page.locator('.wt-tab', { hasText: 'Editor' }).click();
    await page.locator('.wt-editor-take-theirs').waitFor();
    assert.equal(await editorText(page), mine, 'my text stays in the buffer');
    assert.equal(readFileSync(file('deploy.yaml'), 'utf8'), theirs, 'theirs stays on disk');
    // Saving now does not overwrite theirs: the choice is still to make.
    await page.keyboard.press('Control+s');
    assert.equal(readFileSync(file('deploy.yaml'), 'utf8'), theirs);

    await page.locator('.wt-editor-take-theirs').click();
    assert.equal(await editorText(page), theirs);
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').click();
    await page.keyboard.press('Control+z');
    assert.equal(await editorText(page), mine, 'mine is one undo away');
    assert.equal(readFileSync(file('deploy.yaml'), 'utf8'), theirs);

    // Again, keeping mine: a save that finds the file changed (written here, not yet polled) gets the choice too.
    writeFileSync(file('deploy.yaml'), 'replicas: 3\n');
    await page.keyboard.press('Control+s');
    await page.locator('.wt-editor-keep-mine').click();
    await eventually(() => readFileSync(file('deploy.yaml'), 'utf8') === mine, 10_000, 'mine saved');
    await page.locator('.wt-editor-tab[data-path="deploy.yaml"][data-dirty="false"]').waitFor();
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').click();
    await page.keyboard.press('Control+z');
    assert.equal(await editorText(page), 'replicas: 3\n', 'theirs is one undo away');
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('by keyboard alone on the stand-alone page: into the tree, a file, Tab indents, Escape then Tab leaves', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    writeFileSync(file('keys.py'), 'def main():\n');
    writeFileSync(file('blob.bin'), Buffer.from([0, 1, 2, 3, 0, 255]));
    const { page, problems } = await openPage('/editor/');
    await page.locator('.wt-editor-file[data-path="keys.py"]').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const active = document.activeElement as HTMLElement | null;
        return { path: active?.dataset.path ?? null, inText: Boolean(active?.closest('.cm-content')) };
      });
    let steps = 0;
    while ((await focused()).path !== 'keys.py') {
      assert.ok(++steps < 40, 'Tab reaches the file in the tree');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    await eventually(async () => (await focused()).inText, 5000, 'the text has the keyboard');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Tab');
    await page.keyboard.type('pass');
    assert.ok((await focused()).inText, 'Tab indents, the keyboard stays in the text');
    const indented = String(await editorText(page));
    assert.match(indented, /^def main\(\):\n +pass$/);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    assert.equal((await focused()).inText, false, 'Escape then Tab leaves the text');
    assert.equal(await editorText(page), indented, 'that Tab typed nothing');

    // A file that is not text opens read-only, saying why.
    await page.locator('.wt-editor-file[data-path="blob.bin"]').click();
    await page.locator('.wt-editor-bar', { hasText: 'not text' }).waitFor();
    assert.equal(
      await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').getAttribute('contenteditable'),
      'false',
    );
    assert.deepEqual(problems, []);
    await page.context().close();
  });

  test('on a phone: the tree folds away, opens a file, and the text fits the screen', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    writeFileSync(file('phone.md'), '# Title\n\nSome text.\n');
    const { page, problems } = await openPage('/editor/', { viewport: { width: 390, height: 844 }, touch: true });
    const toggle = page.locator('.wt-editor-tree-toggle');
    await toggle.waitFor();
    assert.equal(await page.locator('.wt-editor-tree').isVisible(), false, 'the tree starts folded');
    await toggle.tap();
    await page.locator('.wt-editor-file[data-path="phone.md"]').tap();
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').waitFor();
    assert.equal(await page.locator('.wt-editor-tree').isVisible(), false, 'the tree folds away once a file is chosen');
    assert.equal(await editorText(page), '# Title\n\nSome text.\n');
    const box = await page.locator('.wt-editor-file-panel:not([hidden]) .cm-editor').boundingBox();
    assert.ok(box && box.width <= 390 && box.height > 400, `the text fills the screen: ${JSON.stringify(box)}`);
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      'no sideways scroll',
    );
    assert.deepEqual(problems, []);
    await page.context().close();
  });
});
