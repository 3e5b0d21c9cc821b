// Clickable actions: every kind parsed on the server from its block (and its
// fields), then the fixture test/fixtures/workshop-actions served by the real
// terminal server behind the real auth proxy and clicked in Chromium, each
// click checked by its effect (a terminal cleared, a tab made and gone, a
// section opened, a file copied or uploaded into ~/uploads, a check's form on
// the check's standard input, a cascade, a cooldown).
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { parse as parseYaml } from 'yaml';
import { HttpError } from '../common/src/http-error.js';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { type Action, parseAction, parseOptions } from '../dashboard/src/actions.js';
import { type Content, loadContent } from '../dashboard/src/content.js';
import { createExaminer } from '../dashboard/src/examiner.js';
import { type Fence, type FenceContext, parseFence } from '../dashboard/src/fences.js';
import { dashboardTerminalText, launchBrowser } from './harness/browser.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  startAuthProxy,
  startTerminalServer,
} from './harness/servers.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-actions', 'workshop');
const PREFIX = '/user/alice';

const context: FenceContext = {
  allSessions: ['1', '2'],
  tabSessions: new Map([['4', 'Terminal#4']]),
  tabNames: ['Terminal', 'Example'],
  appUrl: (url) => (url.startsWith('port:') ? `/port/${url.slice(5)}` : null),
  examinerExists: (name) => ['pass', 'subdir/nested'].includes(name),
  parseYaml,
};

/** A block's fence, parsed as the renderer parses it. */
function fence(info: string, body = ''): Fence {
  return parseFence(info, body, context);
}

function actionOf(info: string, body = ''): Action {
  const parsed = fence(info, body);
  assert.ok(parsed.kind === 'action' || parsed.kind === 'check', `${info}: ${JSON.stringify(parsed)}`);
  return parsed.action;
}

function noteOf(info: string, body = ''): string {
  const parsed = fence(info, body);
  assert.equal(parsed.kind, 'unknown', `${info} should be refused`);
  return parsed.kind === 'unknown' ? parsed.note : '';
}

describe('actions, parsed on the server', () => {
  test('an unknown action names the known ones it was likely meant as, not all of them', () => {
    const files = noteOf('files:shred-file', 'path: x');
    assert.match(
      files,
      /Known files: actions: files:download-file, files:copy-file, files:upload-file, files:upload-files\./,
    );
    assert.doesNotMatch(files, /editor:|terminal:/);
    assert.match(
      noteOf('nothing:here'),
      /Known prefixes: terminal:, workshop:, dashboard:, section:, files:, examiner:, editor:\./,
    );
  });

  test('terminal: clear, select, session "*", <ctrl-c> as well as <ctrl+c>', () => {
    assert.deepEqual(actionOf('terminal:clear', 'session: 2'), { type: 'clear', sessions: ['2'] });
    assert.deepEqual(actionOf('terminal:clear'), { type: 'clear', sessions: ['1'] });
    assert.deepEqual(actionOf('terminal:clear', 'session: "*"'), { type: 'clear', sessions: ['1', '2'] });
    assert.deepEqual(actionOf('terminal:select', 'session: 4'), { type: 'select', session: '4' });
    assert.deepEqual(actionOf('terminal:execute', 'command: ls\nsession: "*"'), {
      type: 'execute',
      sessions: ['1', '2'],
      command: 'ls',
      clear: false,
    });
    assert.deepEqual(actionOf('terminal:interrupt', 'session: "*"'), { type: 'interrupt', sessions: ['1', '2'] });
    for (const text of ['<ctrl-c>', '<ctrl+c>', '<CTRL-C>']) {
      assert.deepEqual(actionOf('execute-2', text), { type: 'interrupt', sessions: ['2'] }, text);
    }
    // A name may be a terminal tab a page opens; a number other than 1-3 (or a tab's) is a slip.
    assert.deepEqual(actionOf('terminal:execute', 'command: ls\nsession: extra'), {
      type: 'execute',
      sessions: ['extra'],
      command: 'ls',
      clear: false,
    });
    assert.match(noteOf('terminal:select', 'session: 9'), /session must be 1, 2 or 3, 4/);
  });

  test('copy: Homeroom’s copypaste is copy', () => {
    assert.deepEqual(actionOf('copypaste', 'oc whoami'), { type: 'copy', text: 'oc whoami', edit: false });
  });

  test('dashboard: create (a frame or a terminal), reload, delete, expose; terminate-session says it cannot', () => {
    assert.deepEqual(actionOf('dashboard:create-dashboard', 'name: Docs\nurl: https://docs.example.com/'), {
      type: 'create-dashboard',
      name: 'Docs',
      url: 'https://docs.example.com/',
      session: null,
      focus: true,
      reload: false,
    });
    assert.deepEqual(actionOf('dashboard:create-dashboard', 'name: More\nurl: terminal:more\nfocus: false'), {
      type: 'create-dashboard',
      name: 'More',
      url: null,
      session: 'more',
      focus: false,
      reload: false,
    });
    assert.deepEqual(actionOf('dashboard:reload-dashboard', 'name: Example'), {
      type: 'create-dashboard',
      name: 'Example',
      url: null,
      session: null,
      focus: true,
      reload: true,
    });
    assert.deepEqual(actionOf('dashboard:delete-dashboard', 'name: Example'), {
      type: 'delete-dashboard',
      name: 'Example',
    });
    assert.deepEqual(actionOf('dashboard:expose-dashboard', 'name: example'), {
      type: 'open-dashboard',
      name: 'Example',
    });
    const end = actionOf('dashboard:terminate-session');
    assert.equal(end.type, 'unavailable');
    assert.match(noteOf('dashboard:create-dashboard', 'name: X'), /url is missing/);
    assert.match(noteOf('dashboard:create-dashboard', 'name: X\nurl: javascript:alert(1)'), /http\(s\) URL/);
    assert.match(noteOf('dashboard:create-dashboard', 'name: X\nurl: terminal:2'), /on the Terminal tab already/);
    assert.match(noteOf('dashboard:create-dashboard', 'name: X\nurl: terminal:../x'), /terminal:<name>/);
    assert.match(noteOf('dashboard:delete-dashboard', 'name: Terminal'), /cannot be deleted/);
  });

  test('section: begin (named, open, unnamed "*"), end (toggle), heading', () => {
    assert.deepEqual(actionOf('section:begin', 'name: q\ntitle: Questions\nopen: true'), {
      type: 'section-begin',
      name: 'q',
      body: '',
      open: true,
    });
    assert.deepEqual(actionOf('section:begin'), { type: 'section-begin', name: '*', body: '', open: false });
    assert.deepEqual(actionOf('section:end', 'toggle: false'), {
      type: 'section-end',
      name: '*',
      body: '',
      toggle: false,
    });
    assert.deepEqual(actionOf('section:heading', 'title: Read me'), { type: 'heading' });
  });

  test('files: copy-file, upload-file, upload-files, download-file with preview', () => {
    assert.deepEqual(actionOf('files:copy-file', 'path: ~/notes/a.txt\npreview: true'), {
      type: 'copy-file',
      path: 'notes/a.txt',
      preview: true,
    });
    assert.deepEqual(actionOf('files:upload-file', 'path: kubeconfig.yaml'), {
      type: 'upload',
      name: 'kubeconfig.yaml',
    });
    assert.deepEqual(actionOf('files:upload-files'), { type: 'upload', name: null });
    assert.deepEqual(actionOf('files:download-file', 'path: $HOME/a.txt\npreview: true'), {
      type: 'download',
      path: 'a.txt',
      name: '',
      preview: true,
    });
    assert.match(noteOf('files:upload-file', 'path: ../../etc/passwd'), /a file name: uploads go into ~\/uploads/);
    assert.match(noteOf('files:upload-files', 'directory: sub'), /directory is not supported/);
    assert.match(noteOf('files:copy-file', 'url: https://example.com/x'), /url is not supported/);
  });

  test('examiner: a folder of the tests, inputs, url, retries and cooldown forever', () => {
    const check = fence(
      'examiner:execute-test',
      [
        'name: subdir/nested',
        'retries: -1',
        'timeout: 0',
        'inputs:',
        '  schema:',
        '    name: {type: string, title: "Name:", default: my-app, required: true}',
        '    replicas: {type: integer, default: "1"}',
        '    size: {type: string, enum: [small, large]}',
        '  form: ["*", {type: submit, title: Deploy}]',
      ].join('\n'),
    );
    assert.equal(check.kind, 'check');
    if (check.kind !== 'check') return;
    assert.equal(check.action.retries, Number.POSITIVE_INFINITY);
    assert.equal(check.timeout, 15, 'timeout 0 is the default');
    assert.deepEqual(check.action.inputs, {
      submit: 'Deploy',
      fields: [
        { name: 'name', type: 'string', title: 'Name:', default: 'my-app', required: true, choices: null },
        { name: 'replicas', type: 'integer', title: 'replicas', default: '1', required: false, choices: null },
        { name: 'size', type: 'string', title: 'size', default: '', required: false, choices: ['small', 'large'] },
      ],
    });
    const remote = fence('examiner:execute-test', 'name: elsewhere\nurl: https://checks.example.com/x\nargs: [a]');
    assert.ok(remote.kind === 'check' && remote.url === 'https://checks.example.com/x', 'no program needed');
    assert.match(noteOf('examiner:execute-test', 'name: ../pass'), /without \. or \.\. segments/);
    assert.match(noteOf('examiner:execute-test', 'name: subdir/../pass'), /without \. or \.\. segments/);
    assert.match(
      noteOf('examiner:execute-test', 'name: pass\ninputs:\n  schema:\n    f: {type: array}'),
      /type array is not one a form here holds/,
    );
  });

  test('the fields every action takes: prefix, title, description, hidden, cascade, pause, cooldown, autostart, event', () => {
    const parsed = fence(
      'terminal:execute',
      'command: ls\nprefix: Step 1\ntitle: List\ndescription: Lists files.\nhidden: true\ncascade: true\npause: 0\ncooldown: .inf\nautostart: true\nevent: {name: listed}',
    );
    assert.equal(parsed.kind, 'action');
    if (parsed.kind !== 'action') return;
    assert.equal(parsed.label, 'Step 1: List');
    assert.equal(parsed.description, 'Lists files.');
    assert.deepEqual(parsed.options, {
      cascade: true,
      pause: 0,
      cooldown: Number.POSITIVE_INFINITY,
      autostart: true,
      hidden: true,
      event: '{"name":"listed"}',
    });
    const defaults = fence('terminal:execute', 'command: ls\ncooldown: -1');
    assert.ok(defaults.kind === 'action' && defaults.options.cooldown === Number.POSITIVE_INFINITY);
    const plain = fence('terminal:execute', 'command: ls');
    assert.ok(plain.kind === 'action' && plain.options.cooldown === 3 && plain.options.pause === 750);
    // Each field of the wrong kind is a note for that block.
    assert.match(noteOf('terminal:execute', 'command: ls\nhidden: yes please'), /hidden must be true or false/);
    assert.match(noteOf('terminal:execute', 'command: ls\ncooldown: -5'), /cooldown must be a number/);
    assert.match(noteOf('terminal:execute', 'command: [unclosed'), /not valid YAML/);
    // What the page reads back: the options as written into data-options, JSON's null for forever.
    assert.equal(parseOptions('{"cooldown":null,"cascade":true}').cooldown, Number.POSITIVE_INFINITY);
    assert.equal(parseOptions('not json').cooldown, 3);
    assert.equal(
      parseAction(
        '{"type":"create-dashboard","name":"x","url":"javascript:1","session":null,"focus":true,"reload":false}',
      ),
      null,
    );
    assert.equal(parseAction('{"type":"upload","name":"../x"}'), null);
  });

  test('the fixture: sections paired by name in the same container, notes for the rest, frames collected', async () => {
    const content = await render();
    const sections = content?.pages.get('sections')?.html ?? '';
    const bodies = [
      ...sections.matchAll(/<div class="wt-section-body" id="(wt-section-\d+)" data-section="([^"]+)"( hidden)?>/g),
    ];
    assert.deepEqual(
      bodies.map((m) => [m[2], m[3] === undefined ? 'open' : 'closed']),
      [
        ['outer', 'closed'],
        ['inner', 'closed'],
        ['*', 'open'],
        ['revealed', 'closed'],
        ['at-load', 'closed'],
      ],
    );
    // The inner section lies inside the outer one.
    const outer = sections.indexOf('data-section="outer"');
    const inner = sections.indexOf('data-section="inner"');
    assert.ok(outer < inner && sections.indexOf('id="in-inner"') > inner);
    assert.match(sections, /section:begin named stray has no section:end in the same list or quote/);
    const terminals = content?.pages.get('terminals')?.html ?? '';
    assert.match(terminals, /terminal:execute: the block is not valid YAML/);
    assert.match(terminals, /class="wt-action wt-action-unavailable"[^>]*>.*training platform/s);
    assert.match(content?.pages.get('tabs')?.html ?? '', /the Terminal tab cannot be deleted/);
    // Each note is in the author's banner too, naming its page.
    const problems = content?.workshop.problems ?? [];
    assert.ok(problems.some((p) => p.startsWith('page terminals: terminal:execute: the block is not valid YAML')));
    assert.ok(problems.some((p) => p.startsWith('page sections: section:begin named stray has no section:end')));
    assert.ok(problems.some((p) => p === 'page tabs: dashboard:delete-dashboard: the Terminal tab cannot be deleted'));
    assert.deepEqual(content?.frames, ['https://frame.example.com/']);
    assert.deepEqual(content?.checks.get('remote'), [
      { name: 'remote', args: ['from-page'], timeout: 15, url: 'https://checks.example.com/verdict', inputs: null },
    ]);
  });

  test('a check’s program is inside the tests folder, links resolved', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-examiner-'));
    try {
      mkdirSync(path.join(dir, 'tests', 'sub'), { recursive: true });
      writeFileSync(path.join(dir, 'tests', 'sub', 'ok'), '#!/bin/sh\ncat\n', { mode: 0o755 });
      symlinkSync('/bin/true', path.join(dir, 'tests', 'outside'));
      const examiner = createExaminer({
        testsDir: path.join(dir, 'tests'),
        cwd: dir,
        env: { PATH: process.env.PATH ?? '' },
        logger: createLogger('test', 'error'),
      });
      const result = await examiner.run({ name: 'sub/ok', args: [], timeout: 5, input: '{"name":"x"}' });
      assert.equal(result.passed, true);
      assert.equal(result.output, '{"name":"x"}', 'the form arrives on standard input');
      assert.throws(
        () => examiner.run({ name: 'outside', args: [], timeout: 5 }),
        (error: unknown) => error instanceof HttpError && error.status === 404,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function render(env: Record<string, string> = {}): Promise<Content | null> {
  return loadContent({
    dir: WORKSHOP,
    variables: new Map([['username', 'alice']]),
    env,
    consoleUrl: '',
    logger: createLogger('test', 'error'),
  });
}

describe('actions, clicked in the dashboard', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;
  let origin: string;
  /** The frame tab's server and the check service: what they were asked. */
  let helper: http.Server;
  const frameRequests: string[] = [];
  const verdicts: unknown[] = [];

  before(async () => {
    helper = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        if (req.url === '/verdict') {
          verdicts.push(JSON.parse(body));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ success: true, message: 'the service says yes' }));
          return;
        }
        frameRequests.push(req.url ?? '');
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<p>framed</p>');
      });
    });
    await new Promise<void>((resolve) => helper.listen(0, '127.0.0.1', resolve));
    const helperBase = `http://127.0.0.1:${(helper.address() as AddressInfo).port}`;
    terminal = await startTerminalServer({
      URI_ROOT_PATH: PREFIX,
      WORKSHOP_DIR: WORKSHOP,
      JUPYTERHUB_USER: 'alice',
      FRAME_URL: `${helperBase}/frame`,
      SERVICE_URL: `${helperBase}/verdict`,
    });
    mkdirSync(path.join(terminal.home, 'notes'));
    writeFileSync(path.join(terminal.home, 'notes', 'sample.txt'), 'line one\nline two\n');
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: WORKSHOP }, terminal.port);
    origin = new URL(proxy.base).origin;
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
    await new Promise((resolve) => helper.close(resolve));
  });

  async function openPage(t: import('node:test').TestContext, page: string): Promise<Page | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext({
      permissions: ['clipboard-read', 'clipboard-write'],
      viewport: { width: 1280, height: 800 },
    });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    tab.on('console', (message) => {
      // An upload refused because a file of that name is there (409) is an answer the page acts on.
      if (message.type() === 'error' && !/status of 409/.test(message.text())) errors.push(message.text());
    });
    t.after(async () => {
      assert.deepEqual(errors, [], 'no script errors and no CSP refusals');
      await context.close();
    });
    await tab.goto(`${proxy.base}/dashboard/?page=${page}`);
    await tab.waitForSelector(`#wt-page[data-page="${page}"] .wt-action`);
    await eventually(() => terminal.server.sessions.get('1')?.info().pages, 10_000, 'terminal 1 to attach');
    return tab;
  }

  const home = (...parts: string[]) => path.join(terminal.home, ...parts);
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

  test('terminal: clear, <ctrl-c>, select, autostart + hidden, "*", cascade, cooldown, event', async (t) => {
    const page = await openPage(t, 'terminals');
    if (!page) return;
    // autostart: ran when the page was shown; hidden: not on the page.
    await eventually(() => existsSync(home('autostarted.txt')), 10_000, 'the autostart block to run');
    assert.equal(await page.locator('.wt-action', { hasText: 'autostarted' }).isVisible(), false);
    await page.evaluate(() => {
      const seen: unknown[] = [];
      (window as unknown as { seen: unknown[] }).seen = seen;
      document.addEventListener('workshop-action-event', (event) => seen.push((event as CustomEvent).detail));
    });
    const bufferText = (session: string) => dashboardTerminalText(page, session);
    await page.locator('.wt-action', { hasText: 'seq 1 40' }).click();
    await eventually(async () => (await bufferText('1')).includes('filler-40'), 10_000, 'the filler lines');
    await page.locator('.wt-action-clear').click();
    await eventually(async () => !(await bufferText('1')).includes('filler-'), 10_000, 'terminal 1 to be cleared');

    await page.locator('.wt-action', { hasText: 'sleep 4244' }).click();
    const shell2 = terminal.server.sessions.get('2')?.pid;
    const sleeper = await eventually(
      () =>
        readdirSync('/proc')
          .filter((entry) => /^\d+$/.test(entry))
          .find((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\x004244');
            } catch {
              return false;
            }
          }),
      10_000,
      'sleep 4244 in terminal 2',
    );
    await page.locator('.wt-action-interrupt', { hasText: '<ctrl-c>' }).click();
    await eventually(() => !existsSync(`/proc/${sleeper}`), 10_000, 'the sleep to be interrupted by <ctrl-c>');

    const select = page.locator('.wt-action-select');
    assert.equal(await select.locator('.wt-action-label').textContent(), 'Step 3: Go to the second terminal');
    assert.equal(await select.locator('.wt-action-description').textContent(), 'The keyboard goes to terminal 2.');
    await select.click();
    await page.waitForFunction(
      () => document.activeElement?.closest('[data-session]')?.getAttribute('data-session') === '2',
    );

    // "*": once in each terminal of the split layout.
    await page.locator('.wt-action', { hasText: 'everyone.txt' }).click();
    await eventually(() => lines(home('everyone.txt')).length === 2, 10_000, 'both terminals');
    assert.deepEqual(
      lines(home('everyone.txt')).map(Number).sort(),
      [terminal.server.sessions.get('1')?.pid, shell2].sort(),
    );

    // cascade: one click, both blocks.
    await page.locator('.wt-action', { hasText: 'echo first' }).click();
    await eventually(() => lines(home('cascade.txt')).length === 2, 10_000, 'the cascade');
    assert.deepEqual(lines(home('cascade.txt')), ['first', 'second']);

    // cooldown .inf: a second click does nothing; a later block proves the terminal took the clicks after it.
    const once = page.locator('.wt-action', { hasText: 'once.txt' });
    await once.click();
    await page.waitForSelector('.wt-action.wt-done:has-text("once.txt")');
    await once.click();
    await page.locator('.wt-action', { hasText: 'marker.txt' }).click();
    await eventually(() => existsSync(home('marker.txt')), 10_000, 'the marker after the second click');
    assert.deepEqual(lines(home('once.txt')), ['once']);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { seen: unknown[] }).seen), [
      { page: 'terminals', label: 'Run in terminal 1', event: 'ran-once' },
    ]);

    // The block that cannot work here says so, and clicking it changes nothing else.
    const unavailable = page.locator('.wt-action-unavailable');
    assert.match(String(await unavailable.textContent()), /training platform/);
    await unavailable.click();
    await page.waitForSelector('.wt-action-unavailable[data-result="failed"]');
    assert.equal(await page.locator('.wt-unknown-action .wt-author-note', { hasText: 'not valid YAML' }).count(), 1);
  });

  test('dashboard: a frame tab made, reloaded and closed; a terminal tab made in the background, used, closed', async (t) => {
    const page = await openPage(t, 'tabs');
    if (!page) return;
    const policy = String((await request(`${proxy.base}/dashboard/?page=tabs`)).headers['content-security-policy']);
    assert.match(policy, /frame-src 'self' http:\/\/127\.0\.0\.1:\d+/, 'the created tab’s origin may be framed');
    const blocks = page.locator('#wt-page .wt-action');
    await blocks.nth(0).click();
    await page.waitForSelector('.wt-tab.wt-active:has-text("Frame")');
    await eventually(() => frameRequests.length === 1, 10_000, 'the frame to load');
    await blocks.nth(1).click();
    await eventually(() => frameRequests.length === 2, 10_000, 'the frame to load again');
    await blocks.nth(2).click();
    await page.waitForSelector('.wt-action-delete-dashboard.wt-done');
    assert.deepEqual(await page.locator('.wt-tab:visible').allTextContents(), ['Terminal']);
    assert.equal(await page.locator('iframe').count(), 0);

    await blocks.nth(3).click();
    await page.waitForSelector('.wt-tab:has-text("Extra")');
    assert.equal(await page.locator('.wt-tab.wt-active').textContent(), 'Terminal', 'focus: false');
    await blocks.nth(4).click();
    await eventually(() => existsSync(home('ran-in-extra')) && lines(home('ran-in-extra'))[0] !== '', 10_000, 'extra');
    assert.equal(Number(lines(home('ran-in-extra'))[0]), terminal.server.sessions.get('extra')?.pid);
    await blocks.nth(5).click();
    await page.waitForSelector('.wt-action-delete-dashboard.wt-done >> nth=1');
    assert.equal(await page.locator('.wt-tab:has-text("Extra")').count(), 0);
    assert.ok(terminal.server.sessions.get('extra'), 'its session goes on');
  });

  test('sections: closed, opened, nested, autostart on opening, cascade closes, hidden one revealed', async (t) => {
    const page = await openPage(t, 'sections');
    if (!page) return;
    assert.equal(await page.locator('#in-outer').isVisible(), false);
    assert.equal(await page.locator('#in-open').isVisible(), true, 'open: true');
    assert.equal(await page.locator('#in-revealed').isVisible(), false);
    // Autostart opens a hidden section on the first page the dashboard shows, too (before it is in the document).
    await page.locator('#in-at-load').waitFor({ state: 'visible' });
    await page.locator('.wt-action-heading').click();
    await page.waitForSelector('.wt-action-heading.wt-done');
    const outer = page.locator('.wt-action-section-begin', { hasText: 'The outer section' });
    await outer.click();
    assert.equal(await page.locator('#in-outer').isVisible(), true);
    assert.equal(await page.locator('#in-inner').isVisible(), false);
    assert.equal(await outer.getAttribute('aria-expanded'), 'true');
    assert.equal(existsSync(home('sections.txt')), false, 'the inner autostart waits for its section');
    const inner = page.locator('.wt-action-section-begin', { hasText: 'Question: 1' });
    await inner.click();
    // Its autostart block runs, then cascades to the section's end, which closes it.
    await eventually(() => lines(home('sections.txt')).includes('inner-autostart'), 10_000, 'the inner autostart');
    await page.waitForFunction(
      () =>
        document
          .querySelector('[aria-controls][aria-expanded]:has(+ [data-section="inner"])')
          ?.getAttribute('aria-expanded') === 'false',
    );
    assert.equal(await page.locator('#in-inner').isVisible(), false);
    assert.equal(await page.locator('#in-outer').isVisible(), true, 'the outer one stays open');
    // Closing the outer one closes what it holds.
    await inner.click();
    assert.equal(await page.locator('#in-inner').isVisible(), true);
    await outer.click();
    assert.equal(await page.locator('#in-outer').isVisible(), false);
    assert.equal(await inner.getAttribute('aria-expanded'), 'false');
    // A cascade into a hidden section's begin opens it, its header never shown.
    await page.locator('.wt-action', { hasText: 'echo reveal' }).click();
    await page.locator('#in-revealed').waitFor({ state: 'visible' });
    assert.equal(await page.locator('.wt-action-section-begin[hidden]').count(), 2);
  });

  test('files: copy-file to the clipboard, previews, uploads into ~/uploads, a file there replaced only when asked', async (t) => {
    const page = await openPage(t, 'files');
    if (!page) return;
    await page.waitForSelector('.wt-action-copy-file .wt-action-preview:has-text("line two")');
    await page.waitForSelector('.wt-action-download .wt-action-preview:has-text("line one")');
    await page.locator('.wt-action-copy-file').click();
    await page.waitForSelector('.wt-action-copy-file.wt-done');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'line one\nline two\n');

    const single = page.locator('.wt-action-upload', { hasText: 'answer.txt' });
    await single
      .locator('input[type=file]')
      .setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from('first') });
    await page.waitForSelector('.wt-action-upload.wt-done:has-text("answer.txt")');
    assert.equal(readFileSync(home('uploads', 'answer.txt'), 'utf8'), 'first', 'saved under the name the page gives');
    // Again, other bytes: the file there is kept until the attendee says to replace it.
    await single
      .locator('input[type=file]')
      .setInputFiles({ name: 'mine.txt', mimeType: 'text/plain', buffer: Buffer.from('second') });
    await single.locator('.wt-replace').waitFor();
    assert.match(String(await single.locator('.wt-action-status').textContent()), /answer\.txt exists/);
    assert.equal(readFileSync(home('uploads', 'answer.txt'), 'utf8'), 'first');
    await single.locator('.wt-replace').click();
    await eventually(() => readFileSync(home('uploads', 'answer.txt'), 'utf8') === 'second', 10_000, 'the replacement');

    const many = page.locator('.wt-action-upload', { hasText: 'Upload files' });
    await many.locator('input[type=file]').setInputFiles([
      { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('A') },
      { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('B') },
    ]);
    await page.waitForSelector('.wt-action-upload.wt-done:has-text("Upload files")');
    assert.equal(readFileSync(home('uploads', 'a.txt'), 'utf8'), 'A');
    assert.equal(readFileSync(home('uploads', 'b.txt'), 'utf8'), 'B');
    assert.deepEqual(
      readdirSync(home('uploads')).filter((name) => name.startsWith('.')),
      [],
      'no temporary file left',
    );
  });

  test('an upload into ~/uploads never replaces a newer file, nor writes through a link out of home', async () => {
    const headers = {
      Origin: origin,
      'Content-Type': 'application/octet-stream',
      'X-Terminal-Upload': '1',
      'Content-Length': '0',
    };
    const start = (query: string) =>
      request(`${proxy.base}/files/uploads?into=uploads&${query}`, { method: 'POST', headers });
    mkdirSync(home('uploads'), { recursive: true });
    writeFileSync(home('uploads', 'kept.txt'), 'the attendee’s');
    const refused = await start('name=kept.txt&size=3');
    assert.equal(refused.status, 409);
    const mtime = String(refused.headers['x-upload-existing']);
    assert.match(mtime, /^\d+$/);
    // Told of that file and asked to replace it; the attendee changes it meanwhile: it is kept.
    const started = await start(`name=kept.txt&size=3&replace=${mtime}`);
    assert.equal(started.status, 201, started.body);
    const { id } = JSON.parse(started.body) as { id: string };
    writeFileSync(home('uploads', 'kept.txt'), 'newer edit');
    const future = new Date(Date.now() + 5000);
    (await import('node:fs')).utimesSync(home('uploads', 'kept.txt'), future, future);
    const piece = await request(`${proxy.base}/files/uploads/${id}?offset=0`, {
      method: 'PUT',
      headers: { ...headers, 'Content-Length': '3' },
      body: 'new',
    });
    assert.equal(piece.status, 409, piece.body);
    assert.equal(readFileSync(home('uploads', 'kept.txt'), 'utf8'), 'newer edit');
    assert.deepEqual(
      readdirSync(home('uploads')).filter((name) => name.startsWith('.kept')),
      [],
    );
    // A name with a path is only its last segment; an uploads folder that leads out of home is refused.
    const outside = mkdtempSync(path.join(os.tmpdir(), 'wt-outside-'));
    try {
      renameSync(home('uploads'), home('uploads-before'));
      symlinkSync(outside, home('uploads'));
      const out = await start('name=..%2F..%2Fescape.txt&size=0');
      assert.equal(out.status, 403, out.body);
      assert.deepEqual(readdirSync(outside), []);
    } finally {
      rmSync(home('uploads'));
      renameSync(home('uploads-before'), home('uploads'));
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('examiner: a form’s values on the check’s input, a check in a folder cascading, a cooldown, a service’s verdict', async (t) => {
    const page = await openPage(t, 'checks');
    if (!page) return;
    const form = page.locator('.wt-check', { hasText: 'Task: Say who you are' });
    assert.equal(await form.locator('input[name=name]').inputValue(), 'my-app');
    await form.locator('input[name=replicas]').fill('3');
    await form.locator('button[type=submit]', { hasText: 'Deploy' }).click();
    await page.waitForSelector('.wt-check[data-result="pass"]:has-text("Say who you are")');
    assert.deepEqual(JSON.parse(readFileSync(home('form.json'), 'utf8')), { name: 'my-app', replicas: 3 });

    await page.locator('.wt-check', { hasText: 'A check in a folder' }).click();
    await eventually(() => existsSync(home('after-check.txt')), 10_000, 'the cascade after the check');

    const record = page.locator('.wt-check', { hasText: 'at most once' });
    await record.click();
    await page.waitForSelector('.wt-check[data-result="pass"]:has-text("at most once")');
    await record.click();
    await page.locator('.wt-check', { hasText: 'Asked of a service' }).click();
    await page.waitForSelector('.wt-check[data-result="pass"]:has-text("Asked of a service")');
    assert.match(
      String(await page.locator('.wt-check', { hasText: 'Asked of a service' }).textContent()),
      /the service says yes/,
    );
    assert.deepEqual(verdicts, [{ args: ['from-page'], form: {}, timeout: 15 }]);
    assert.deepEqual(lines(home('record.log')), ['ran'], 'the second click was within the cooldown');
  });

  test('one program declared by two checks with different timeouts: each runs with its own', async () => {
    const post = (body: unknown) =>
      request(`${proxy.base}/dashboard/examiner/slow`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body: JSON.stringify(body),
      });
    const short = await post({ args: [], timeout: 1 });
    assert.equal(short.status, 200, short.body);
    assert.equal(JSON.parse(short.body).passed, false, 'stopped after its one second');
    const long = await post({ args: [], timeout: 10 });
    assert.equal(JSON.parse(long.body).passed, true, long.body);
    assert.equal((await post({ args: [], timeout: 5 })).status, 404, 'no block declares that timeout');
    assert.equal((await post({ args: [], timeout: '10' })).status, 400);
  });

  test('a check’s form: only its fields, of their types, the required ones there', async () => {
    const post = (body: unknown) =>
      request(`${proxy.base}/dashboard/examiner/form`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body: JSON.stringify(body),
      });
    assert.equal((await post({ args: [] })).status, 404, 'declared with a form: not without one');
    assert.equal((await post({ args: [], inputs: { name: 'x', extra: 'y' } })).status, 400);
    assert.equal((await post({ args: [], inputs: { name: 'x', replicas: 'three' } })).status, 400);
    assert.equal((await post({ args: [], inputs: { replicas: 2 } })).status, 400, 'name is required');
    const ok = await post({ args: [], inputs: { name: 'x', replicas: 2 } });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(JSON.parse(readFileSync(home('form.json'), 'utf8')), { name: 'x', replicas: 2 });
    // The same program behind a second block with a form of its own: its values fit that one.
    const other = await post({ args: [], inputs: { colour: 'green' } });
    assert.equal(other.status, 200, other.body);
    assert.deepEqual(JSON.parse(readFileSync(home('form.json'), 'utf8')), { colour: 'green' });
    assert.equal((await post({ args: [], inputs: { colour: 'blue' } })).status, 400);
    assert.equal((await post({ args: [], inputs: { name: 'x', colour: 'red' } })).status, 400, 'fields of both forms');
  });
});
