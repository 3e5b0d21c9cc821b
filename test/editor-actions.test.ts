// editor:* blocks clicked in Chromium on the whole stack (the fixture
// test/fixtures/workshop-editor-actions): each click checked by the bytes on
// disk and by what the editor shows; a block whose pattern matches nothing
// says why in itself and leaves the file as it was; a block the server could
// not read is a note for the author; the VS Code command is shown as not
// available; an editor terminal is a terminal tab.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { startChromium } from './harness/browser.js';
import { eventually } from './harness/servers.js';
import { type Stack, startStack, stopStack, waitReady } from './harness/stack.js';
import { findTool, requireTool } from './harness/tools.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-editor-actions', 'workshop');
const EDITS = path.join(projectRoot(), 'test', 'fixtures', 'editor-edits');

let stack: (Stack & { tmp: string }) | null = null;
let browser: Browser | null = null;
let home = '';
const available = findTool('chromium') !== null;

before(async () => {
  if (!available) return;
  home = mkdtempSync(path.join(os.tmpdir(), 'wt-editor-actions-home-'));
  stack = await startStack({ TERMINAL_HOME: home, WORKSHOP_DIR: WORKSHOP, EDITOR_TAB: 'auto' });
  await waitReady(stack);
  browser = await startChromium();
});

after(async () => {
  await browser?.close();
  if (stack) await stopStack(stack);
  if (home) rmSync(home, { recursive: true, force: true });
});

const file = (name: string) => path.join(home, 'work', name);
const onDisk = (name: string) => readFileSync(file(name), 'utf8');

/** The text of the file the editor shows. */
const editorText = (page: Page) =>
  page.evaluate(() => {
    const view = document.querySelector('.wt-editor-file-panel:not([hidden]) .cm-content');
    return view
      ? Array.from(view.querySelectorAll('.cm-line'))
          .map((line) => line.textContent)
          .join('\n')
      : null;
  });

/** Clicks the block whose banner is `label` and waits until it is done (or failed, when `fails`). */
async function click(page: Page, label: string, fails = false): Promise<ReturnType<Page['locator']>> {
  const block = page.locator('.wt-action', { has: page.locator('.wt-action-label', { hasText: label }) });
  assert.equal(await block.count(), 1, `one block labelled ${label}`);
  await block.click();
  await block.locator('xpath=self::*[@data-done="true" or @data-result="failed"]').waitFor();
  const failed = (await block.getAttribute('data-result')) === 'failed';
  const why = await block
    .locator('.wt-action-status')
    .textContent()
    .catch(() => null);
  assert.equal(failed, fails, `${label}: ${why ?? (await block.getAttribute('title'))}`);
  return block;
}

async function shown(page: Page, name: string): Promise<void> {
  await page.locator(`.wt-editor-tab[data-path="work/${name}"][data-dirty="false"]`).waitFor();
  await page.locator('.wt-editor-file-panel:not([hidden]) .cm-content').waitFor();
}

describe('editor:* blocks in the dashboard', () => {
  test('each block clicked: the file on disk and in the editor as the block says; a bad one changes nothing', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    mkdirSync(path.join(home, 'work'), { recursive: true });
    writeFileSync(file('sample.txt'), 'one\ntwo\nthree\nfour\nfive\n');
    const config = readFileSync(path.join(EDITS, 'config.txt'), 'utf8');
    writeFileSync(file('config.txt'), config);
    const deployment = readFileSync(path.join(EDITS, 'deployment-yaml.txt'), 'utf8');
    writeFileSync(file('deploy.yaml'), deployment);
    writeFileSync(file('template.txt'), 'from the template\n');

    const context = await (browser as Browser).newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`http://localhost:${stack?.port}/dashboard/?page=01-edits`);
    // The page has editor:* blocks, so the dashboard has an Editor tab.
    await page.locator('.wt-tab', { hasText: /^Editor$/ }).waitFor();

    await click(page, 'Open ~/work/sample.txt at line 3 in the editor');
    await shown(page, 'sample.txt');
    assert.equal(await page.locator('.wt-editor-file-panel:not([hidden]) .cm-activeLine').textContent(), 'three');

    await click(page, 'Create the folder ~/work/new/deeper');
    await click(page, 'Create ~/work/new/deeper/made.txt');
    assert.equal(readFileSync(path.join(home, 'work/new/deeper/made.txt'), 'utf8'), 'made by a click\n');

    await click(page, 'Insert a line after the first line holding “port: 5432” in ~/work/config.txt');
    const withName = config.replace('port: 5432\n', 'port: 5432\n  name: mydb\n');
    assert.equal(onDisk('config.txt'), withName);
    await shown(page, 'config.txt');
    assert.equal(await editorText(page), withName);

    await click(page, 'Select the match of /image: (.*)/ (group 1) in ~/work/deploy.yaml');
    await shown(page, 'deploy.yaml');
    // Selected (drawn), on the image's line; what exactly is selected the replacement shows on disk.
    await page.locator('.wt-editor-file-panel:not([hidden]) .cm-selectionBackground').first().waitFor();
    assert.equal(
      await page.locator('.wt-editor-file-panel:not([hidden]) .cm-activeLine').textContent(),
      '        image: nginx:latest',
    );
    await click(page, 'Replace the text selected in ~/work/deploy.yaml with this');
    assert.equal(onDisk('deploy.yaml'), deployment.replace('nginx:latest', 'nginx:1.25'));

    await click(page, 'Delete lines 2 to 3 of ~/work/sample.txt');
    assert.equal(onDisk('sample.txt'), 'one\nfour\nfive\n');
    await shown(page, 'sample.txt');
    assert.equal(await editorText(page), 'one\nfour\nfive\n');

    await click(page, 'Set spec.replicas in ~/work/deploy.yaml to 3');
    const expected = deployment.replace('nginx:latest', 'nginx:1.25').replace('replicas: 1   #', 'replicas: 3   #');
    assert.equal(onDisk('deploy.yaml'), expected);
    assert.equal(await editorText(page), expected);
    // With SCREENSHOTS set: the README's picture of the editor and its blocks.
    if (process.env.SCREENSHOTS)
      await page.screenshot({ path: path.join(projectRoot(), 'docs/images/editor-actions.png') });

    await click(page, 'Copy ~/work/template.txt to ~/work/copy.txt');
    assert.equal(onDisk('copy.txt'), 'from the template\n');
    await shown(page, 'copy.txt');
    await click(page, 'Rename ~/work/copy.txt to ~/work/renamed.txt');
    assert.ok(!existsSync(file('copy.txt')));
    assert.equal(onDisk('renamed.txt'), 'from the template\n');
    await shown(page, 'renamed.txt');
    await click(page, 'Delete the file ~/work/renamed.txt');
    assert.ok(!existsSync(file('renamed.txt')));
    await page.locator('.wt-editor-tab[data-path="work/renamed.txt"]').waitFor({ state: 'detached' });

    // Matches nothing: said in the block, escaped; the file on disk as it was.
    const bad = await click(page, 'in ~/work/config.txt with “<b>bold</b>”', true);
    assert.match((await bad.locator('.wt-action-status').textContent()) ?? '', /Not done: .*matches nothing/);
    assert.equal(await bad.locator('b').count(), 0, 'the workshop’s text is never HTML');
    assert.equal(onDisk('config.txt'), withName);

    const unsupported = await click(page, 'Run the VS Code command workbench.action.openSettings', true);
    assert.match((await unsupported.textContent()) ?? '', /not VS Code/);
    const note = page.locator('.wt-unknown-action', {
      hasText: 'editor:insert-lines-before-line: line must be a line number',
    });
    await note.waitFor();
    assert.equal(onDisk('sample.txt'), 'one\nfour\nfive\n');

    await click(page, 'Run in the terminal tab Terminal (build)');
    await page.locator('.wt-tab', { hasText: 'Terminal (build)' }).waitFor();
    await eventually(() => existsSync(file('term.txt')), 15_000, 'the editor terminal to run the command');
    assert.equal(onDisk('term.txt'), 'editor-terminal-ok\n');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
