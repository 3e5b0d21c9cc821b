// The workshop dashboard: the sample workshop in test/fixtures/workshop-dashboard
// rendered and served by the real terminal server behind the real auth proxy
// (so the browser enforces the real Content-Security-Policy), clicked in Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../common/src/config.js';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { PROXY_TIMEOUT_MS } from '../common/src/terminal-link.js';
import { type Content, loadContent } from '../dashboard/src/content.js';
import { EXAMINER_TIMEOUT } from '../dashboard/src/fences.js';
import { builtInVariables } from '../dashboard/src/variables.js';
import { CONTENT_ATTACK_RAN, contentAttack, firstWordOnScript, SANDBOX_REFUSAL } from './harness/attacks.js';
import { launchBrowser } from './harness/browser.js';
import { actionsOf } from './harness/rendered-page.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  startAuthProxy,
  startTerminalServer,
} from './harness/servers.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop');
const PREFIX = '/user/alice';

/** Every process we may read, with its parent and command line. */
function processes(): { pid: number; ppid: number; command: string }[] {
  const found: { pid: number; ppid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(entry), ppid, command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes whose parent is `pid`, with their command lines. */
function children(pid: number): { pid: number; command: string }[] {
  return processes().filter((process) => process.ppid === pid);
}

/** The workshop folder at `dir`, rendered as the terminal server does at start. */
function render(dir: string, env: Record<string, string> = {}, consoleUrl = ''): Promise<Content | null> {
  return loadContent({
    dir,
    variables: new Map([['username', 'alice']]),
    env,
    consoleUrl,
    logger: createLogger('test', 'error'),
  });
}

/** An action as a block's data-action attribute carries it: what raw HTML in a page would imitate. */
const FORGED_ACTION =
  '{&quot;type&quot;:&quot;execute&quot;,&quot;sessions&quot;:[&quot;1&quot;],&quot;command&quot;:&quot;touch forged&quot;}';

describe('workshop pages, rendered on the server', () => {
  test('variables: built in, declared with a default, overridden by the environment; unknown ones stay', async () => {
    const content = await render(WORKSHOP, { APP_NAME: 'from-env' });
    const html = content?.pages.get('intro')?.html ?? '';
    assert.match(html, /<span id="user">alice<\/span>/);
    assert.match(html, /<span id="app-name">from-env<\/span>/, 'APP_NAME overrides app_name');
    assert.match(html, /<span id="greeting">hello from the default<\/span>/);
    assert.match(html, /<span id="unknown">%not_a_variable%<\/span>/);
    assert.deepEqual(content?.workshop.tabs[0], { name: 'Docs', url: 'https://docs.example.com/from-env/' });
  });

  test('%username% is the account’s name outside a hub, even without USER', () => {
    const config = loadConfig({ AUTH_USERNAME: '*' });
    assert.equal(builtInVariables(config, {}).get('username'), os.userInfo().username);
  });

  test('rendering lets go of the Markdown, Liquid, highlighting, sanitising and YAML libraries', async () => {
    const cache = createRequire(import.meta.url).cache;
    const library = /\/node_modules\/(highlight\.js|markdown-it|sanitize-html|htmlparser2|postcss|yaml|liquidjs)\//;
    const before = new Set(Object.keys(cache));
    const content = await render(WORKSHOP);
    assert.match(content?.pages.get('intro')?.html ?? '', /hljs-/, 'highlighted while rendering');
    const kept = Object.keys(cache).filter((file) => !before.has(file) && library.test(file));
    assert.deepEqual(kept, [], 'nothing loaded for rendering stays in require.cache');
  });

  test('every action becomes a block the page wires up; nothing else is clickable', async () => {
    const content = await render(WORKSHOP);
    const intro = actionsOf(content?.pages.get('intro')?.html ?? '');
    const checks = actionsOf(content?.pages.get('checks')?.html ?? '');
    assert.deepEqual([...new Set([...intro, ...checks].map((action) => action.type))].sort(), [
      'clear',
      'copy',
      'examiner',
      'execute',
      'input',
      'interrupt',
      'open-dashboard',
      'open-url',
    ]);
    assert.deepEqual(intro[1], { type: 'execute', sessions: ['2'], command: 'echo $$ > ran-in-2', clear: false });
    assert.deepEqual(
      intro.find((action) => action.type === 'interrupt'),
      { type: 'interrupt', sessions: ['1'] },
      'a block that is only <ctrl+c>',
    );
    assert.deepEqual(
      intro.find((action) => action.type === 'execute' && (action.sessions as string[]).length > 1)?.sessions,
      ['1', '2'],
      'execute-all: the terminals of the layout (split)',
    );
    assert.deepEqual(
      intro.find((action) => action.type === 'input'),
      { type: 'input', session: 'editor', text: 'partial', endl: false },
    );
    assert.deepEqual(
      intro.filter((action) => action.type === 'copy').map((action) => action.edit),
      [false, true, false, true],
    );
    assert.deepEqual(checks[0], {
      type: 'examiner',
      name: 'pass',
      title: 'The passing check',
      args: ['one', 'two'],
      timeout: 15,
      retries: 0,
      delay: 1,
      inputs: null,
    });
    assert.deepEqual(content?.checks.get('fail'), [{ name: 'fail', args: [], timeout: 15, url: null, inputs: null }]);
  });

  test('markup is sanitised; links and images point into the dashboard', async () => {
    const content = await render(WORKSHOP);
    const intro = content?.pages.get('intro')?.html ?? '';
    assert.doesNotMatch(intro, /onerror/);
    assert.match(intro, /<img id="handler" alt="" src="content\/images\/logo.png" \/>/);
    assert.match(content?.pages.get('checks')?.html ?? '', /<a href="\?page=intro#welcome" data-page="intro">/);
    assert.match(intro, /<p class="wt-author-note">Note for the workshop author: execute-7 is not an action/);
    assert.match(intro, /files:shred-file is not an action/);
  });

  test('a broken workshop folder is described, not fatal', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-bad-workshop-'));
    try {
      mkdirSync(path.join(dir, 'content'));
      writeFileSync(path.join(dir, 'modules.yaml'), 'modules:\n  one: {name: One}\n  two: {name: Two}\n');
      writeFileSync(
        path.join(dir, 'workshop.yaml'),
        'name: Broken\nmodules:\n  activate: [one, two, ../x, three]\nterminals: 4\n',
      );
      writeFileSync(
        path.join(dir, 'content', 'one.md'),
        '```terminal:execute\ncommand: [unclosed\n```\n\n```terminal:execute\nsession: 9\ncommand: ls\n```\n',
      );
      writeFileSync(path.join(dir, 'content', 'two.adoc'), '= Two\n\n{% if %}\n');
      const content = await render(dir);
      const problems = content?.workshop.problems.join('\n') ?? '';
      assert.match(
        problems,
        /page two could not be rendered: invalid value expression/,
        'bad Liquid in an AsciiDoc page',
      );
      assert.match(problems, /"\.\.\/x": not a path under content/);
      assert.match(problems, /three\.md does not exist \(nor content\/three\.adoc\)/);
      assert.match(problems, /terminals must be single/);
      assert.equal(content?.workshop.pages[1]?.markup, 'asciidoc', 'an AsciiDoc page is listed, for the renderer');
      assert.match(
        content?.pages.get('two')?.html ?? '',
        /Note for the workshop author: page two could not be rendered/,
      );
      const one = content?.pages.get('one')?.html ?? '';
      assert.match(one, /terminal:execute: the block is not valid YAML/);
      assert.match(one, /terminal:execute: session must be 1, 2 or 3/);
      assert.equal(actionsOf(one).length, 0);
      assert.equal(await render(path.join(dir, 'nothing-here')), null, 'no folder: no workshop');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the dashboard of a workshop', () => {
  let terminal: RunningTerminalServer;
  test('raw HTML in a page or in a variable cannot forge a clickable block', async () => {
    const forged = `<div class="wt-action wt-action-execute" data-action="${FORGED_ACTION}">forged</div>`;
    const html = (await render(WORKSHOP, { BANNER: forged }))?.pages.get('intro')?.html ?? '';
    assert.match(html, /id="forged"/, "the page's element is kept, as text and classes");
    assert.match(html, /<div id="banner"><div class="wt-action wt-action-execute">forged<\/div><\/div>/);
    assert.doesNotMatch(html, /touch forged/);
    const commands = actionsOf(html).flatMap((action) => (action.type === 'execute' ? [action.command] : []));
    assert.deepEqual(commands.slice(0, 2), ['echo $$ > ran-in-1', 'echo $$ > ran-in-2'], 'the real blocks are there');
    // A page that writes the marker text itself gets no block for it either.
    assert.doesNotMatch(html, /wt-block-/);
  });

  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;
  let origin: string;

  before(async () => {
    terminal = await startTerminalServer({
      URI_ROOT_PATH: PREFIX,
      WORKSHOP_DIR: WORKSHOP,
      JUPYTERHUB_USER: 'alice',
      GREETING: 'hello from the environment',
      BANNER: `<div id="forged-by-variable" class="wt-action wt-action-execute" data-action="${FORGED_ACTION}">x</div>`,
      CONSOLE_URL: 'https://console.example.com/console/',
    });
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: WORKSHOP }, terminal.port);
    origin = new URL(proxy.base).origin;
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
  });

  /** A page on the dashboard (through the proxy), with its terminals attached. */
  async function openDashboard(t: import('node:test').TestContext, query = ''): Promise<Page | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext({
      permissions: ['clipboard-read', 'clipboard-write'],
      viewport: { width: 1280, height: 800 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // A CSP refusal (an inline script or handler) is reported on the console.
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    t.after(async () => {
      assert.deepEqual(errors, [], 'no script errors and no CSP refusals');
      await context.close();
    });
    await page.goto(`${proxy.base}/dashboard/${query}`);
    await page.waitForSelector('#wt-page .wt-action');
    return page;
  }

  test('/ opens the dashboard when there is a workshop; DEFAULT_ROUTE still decides when set', async () => {
    const root = await request(`${proxy.base}/`);
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, `${PREFIX}/dashboard/`);
    assert.equal(loadConfig({ WORKSHOP_DIR: WORKSHOP }).defaultRoute, '/dashboard/');
    assert.equal(loadConfig({ WORKSHOP_DIR: WORKSHOP, DEFAULT_ROUTE: '/terminal/' }).defaultRoute, '/terminal/');
    assert.equal(loadConfig({ HOME: '/nonexistent' }).defaultRoute, '/terminal/');
    assert.equal(
      loadConfig({ HOME: path.dirname(WORKSHOP) }).workshopDir,
      WORKSHOP,
      'default: the workshop folder in HOME',
    );
  });

  test('the page may frame exactly the console and the URL tabs; other pages frame nothing else', async () => {
    const dashboard = await request(`${proxy.base}/dashboard/`);
    assert.equal(dashboard.status, 200);
    const policy = String(dashboard.headers['content-security-policy']);
    assert.match(policy, /frame-src 'self' https:\/\/console\.example\.com https:\/\/docs\.example\.com(;|$)/);
    const host = new URL(proxy.base).host;
    assert.match(
      policy,
      new RegExp(
        `script-src ${host}${PREFIX}/terminal/assets/ ${host}${PREFIX}/dashboard/assets/ ${host}${PREFIX}/editor/assets/;`,
      ),
      'scripts only from our bundle folders',
    );
    assert.equal(dashboard.headers['x-terminal-frame-sources'], undefined, 'the hint stays between the two servers');
    const terminalPage = await request(`${proxy.base}/terminal/session/1`);
    assert.doesNotMatch(String(terminalPage.headers['content-security-policy']), /frame-src/);
  });

  test('files beside the pages are served; nothing outside content/, however the path is written', async () => {
    const image = await request(`${proxy.base}/dashboard/content/images/logo.png`);
    assert.equal(image.status, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    const secret = readFileSync(path.join(WORKSHOP, 'workshop.yaml'), 'utf8');
    for (const tail of [
      '../workshop.yaml',
      '%2e%2e/workshop.yaml',
      '%2E%2E/workshop.yaml',
      '%2e%2e%2fworkshop.yaml',
      'images/../../workshop.yaml',
      'images/%2e%2e/%2e%2e/modules.yaml',
      '..%5cworkshop.yaml',
      '../examiner/tests/pass',
    ]) {
      // The terminal server itself answers 404 to each, with none of the file.
      const direct = await request(`${terminal.base}/dashboard/content/${tail}`);
      assert.equal(direct.status, 404, tail);
      assert.ok(!direct.body.includes('Sample workshop'), tail);
      // The proxy in front refuses dot segments before they reach it.
      const proxied = await request(`${proxy.base}/dashboard/content/${tail}`);
      assert.ok(proxied.status === 400 || proxied.status === 404, `${tail}: ${proxied.status}`);
      assert.ok(!proxied.body.includes(secret.slice(0, 20)), tail);
    }
  });

  test('a check runs only when asked by POST from the dashboard’s own origin', async () => {
    const url = `${proxy.base}/dashboard/examiner/pass`;
    const body = JSON.stringify({ args: ['one', 'two'] });
    const json = { 'Content-Type': 'application/json' };
    const ok = await request(url, { method: 'POST', headers: { ...json, Origin: origin }, body });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).passed, true);
    for (const headers of [
      { ...json, Origin: 'http://evil.example' },
      { ...json, Origin: origin.replace('127.0.0.1', 'localhost') },
      { ...json, Origin: origin, 'Sec-Fetch-Site': 'cross-site' },
      json,
    ]) {
      const refused = await request(url, { method: 'POST', headers, body });
      assert.equal(refused.status, 403, JSON.stringify(headers));
    }
    // A form post from another site cannot be JSON; a GET never runs anything.
    const form = await request(url, {
      method: 'POST',
      headers: { Origin: origin, 'Content-Type': 'text/plain' },
      body,
    });
    assert.equal(form.status, 415);
    assert.equal((await request(url)).status, 405);
    // Only programs of examiner/tests, by name, with the arguments a page declares.
    const post = (name: string, args: string[]) =>
      request(`${proxy.base}/dashboard/examiner/${name}`, {
        method: 'POST',
        headers: { ...json, Origin: origin },
        body: JSON.stringify({ args }),
      });
    assert.equal((await post('pass', ['not', 'declared'])).status, 404);
    // (A dot segment the proxy refuses itself, 400; a name that is no check, 404.)
    for (const name of ['%2e%2e%2fworkshop.yaml', '..%2Fexaminer%2Ftests%2Fpass', 'tests%2Fpass', '.hidden']) {
      assert.ok([400, 404].includes((await post(name, [])).status), name);
    }
    assert.equal((await post('sh', ['-c', 'touch pwned'])).status, 404);
    assert.ok(!existsSync(path.join(terminal.home, 'pwned')));
  });

  test('a check ends with everything it started; its timeout is cut below the proxy’s; an oversize request gets 413', async () => {
    assert.deepEqual(
      (await render(WORKSHOP))?.checks.get('pass')?.find((check) => check.args[0] === 'leave-behind'),
      { name: 'pass', args: ['leave-behind'], timeout: EXAMINER_TIMEOUT.max, url: null, inputs: null },
      'declared with 600 s',
    );
    assert.ok(EXAMINER_TIMEOUT.max * 1000 < PROXY_TIMEOUT_MS);
    const post = (body: string) =>
      request(`${proxy.base}/dashboard/examiner/pass`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: origin },
        body,
      });
    // It starts `setsid sleep 4243 &`, which leaves its process group and holds its output open.
    const ran = await post(JSON.stringify({ args: ['leave-behind'] }));
    assert.equal(ran.status, 200, ran.body);
    assert.equal(JSON.parse(ran.body).passed, true);
    await eventually(
      () => !processes().some((process) => process.command === 'sleep 4243'),
      10_000,
      'the sleep to end',
    );
    // Larger than a list of arguments can be: refused as such, and the next request is served.
    const large = await post(JSON.stringify({ args: ['x'.repeat(40_000)] }));
    assert.equal(large.status, 413);
    assert.equal((await post(JSON.stringify({ args: ['one', 'two'] }))).status, 200);
  });

  test('variables are substituted, unknown ones left as written, inline handlers dropped', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    assert.equal(await page.textContent('#user'), 'alice');
    assert.equal(await page.textContent('#app-name'), 'demo-app');
    assert.equal(await page.textContent('#greeting'), 'hello from the environment');
    assert.equal(await page.textContent('#unknown'), '%not_a_variable%');
    assert.equal(await page.getAttribute('#handler', 'onerror'), null);
    // Raw HTML shaped like a block, in the page or in a variable, is nothing the page's script runs.
    for (const forged of ['#forged', '#forged-by-variable']) {
      assert.equal(await page.getAttribute(forged, 'data-action'), null, forged);
    }
    // The image beside the page loads from the content folder.
    await page.waitForFunction(() => (document.querySelector('#handler') as HTMLImageElement).naturalWidth === 4);
    assert.equal(await page.locator('table th').count(), 2, 'tables');
    assert.equal(await page.locator('h2#terminals').count(), 1, 'headings with anchors');
    assert.ok((await page.locator('code.language-bash .hljs-built_in').count()) > 0, 'highlighted code');
  });

  test('execute-2 runs in the second terminal only; <ctrl+c> stops a running program', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    // Layout "split": terminals 1 and 2 attach at once.
    await eventually(
      () => terminal.server.sessions.get('1')?.info().pages && terminal.server.sessions.get('2')?.info().pages,
    );
    const second = terminal.server.sessions.get('2')?.pid;
    const first = terminal.server.sessions.get('1')?.pid;
    // A stray key and half a word on terminal 2's input line: the click types its command on a clear line.
    await page.locator('[data-session="2"] .xterm').click();
    await page.keyboard.press('F6');
    await page.keyboard.type('stray');
    await page.locator('.wt-action', { hasText: 'ran-in-2' }).click();
    const file = path.join(terminal.home, 'ran-in-2');
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', 10_000, 'ran-in-2');
    assert.equal(Number(readFileSync(file, 'utf8')), second, 'written by the shell of session 2');
    assert.notEqual(first, second);
    assert.ok(!existsSync(path.join(terminal.home, 'ran-in-1')), 'terminal 1 ran nothing');
    assert.equal(await page.locator('.wt-action.wt-done').count(), 1, 'the block clicked is marked done');

    await page.locator('.wt-action', { hasText: 'sleep 4242' }).click();
    const sleeper = await eventually(
      () => children(first as number).find((child) => child.command === 'sleep 4242'),
      10_000,
      'sleep to start in terminal 1',
    );
    assert.ok(sleeper);
    await page.locator('.wt-action-interrupt', { hasText: '<ctrl+c>' }).first().click();
    await eventually(() => !existsSync(`/proc/${sleeper.pid}`), 10_000, 'sleep to be interrupted');
  });

  test('copy puts exactly the text on the clipboard', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    const block = page.locator('.wt-action-copy', { hasText: 'kubectl get pods' });
    await block.click();
    await page.waitForSelector('.wt-action-copy.wt-done');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'kubectl get pods -l app=demo-app');
    const edit = page.locator('.wt-action-copy', { hasText: 'YOUR NAME' });
    assert.match(String(await edit.textContent()), /edit before use/);
    await edit.click();
    await page.waitForFunction(() => document.querySelectorAll('.wt-action-copy.wt-done').length === 2);
    assert.equal(
      await page.evaluate(() => navigator.clipboard.readText()),
      'git config --global user.name "YOUR NAME"',
    );
  });

  test('an unknown action is plain code with a note for the author', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    const unknown = page.locator('.wt-unknown-action', { hasText: 'there is no terminal 7' });
    assert.equal(await unknown.count(), 1);
    assert.match(String(await unknown.locator('.wt-author-note').textContent()), /execute-7 is not an action/);
    assert.equal(await unknown.locator('[data-action]').count(), 0, 'nothing to click');
    assert.ok(await unknown.locator('.wt-author-note').isVisible());
  });

  test('next, previous and a reload keep the page; the dashboard comes back to it', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    await page.click('.wt-next');
    await page.waitForSelector('#wt-page[data-page="checks"]');
    assert.match(page.url(), /\/dashboard\/\?page=checks$/);
    await page.reload();
    await page.waitForSelector('#wt-page[data-page="checks"]');
    await page.click('.wt-previous');
    await page.waitForSelector('#wt-page[data-page="intro"]');
    assert.match(page.url(), /\?page=intro$/);
    // The exit sign at the end of the page goes on too.
    await page.click('.wt-exit-sign:has-text("On to the checks")');
    await page.waitForSelector('#wt-page[data-page="checks"]');
    await page.goBack();
    await page.waitForSelector('#wt-page[data-page="intro"]');
    await page.goForward();
    await page.waitForSelector('#wt-page[data-page="checks"]');
    // Opened again without a page: the one this browser reached.
    await page.goto(`${proxy.base}/dashboard/`);
    await page.waitForSelector('#wt-page[data-page="checks"]');
    assert.match(page.url(), /\?page=checks$/);
  });

  test('tabs, the divider, and narrow screens', async (t) => {
    const page = await openDashboard(t, '?page=intro');
    if (!page) return;
    const tabNames = await page.locator('.wt-tab:visible').allTextContents();
    assert.deepEqual(tabNames, ['Terminal', 'Console', 'Docs', 'Editor']);
    // dashboard:open-dashboard shows a tab; a terminal:<name> tab is the session of that name.
    await page.locator('.wt-action-open-dashboard').click();
    await page.waitForSelector('.wt-tab.wt-active:has-text("Editor")');
    await eventually(() => terminal.server.sessions.get('editor')?.info().pages, 10_000, 'the editor session');
    await page.click('.wt-tab:has-text("Terminal")');
    // The divider moves the boundary.
    const before = await page.locator('#wt-instructions').boundingBox();
    const handle = await page.locator('#wt-divider').boundingBox();
    assert.ok(before && handle);
    await page.mouse.move(handle.x + handle.width / 2, handle.y + 200);
    await page.mouse.down();
    await page.mouse.move(handle.x + handle.width / 2 - 120, handle.y + 200, { steps: 4 });
    await page.mouse.up();
    const after = await page.locator('#wt-instructions').boundingBox();
    assert.equal(Math.round((after?.width ?? 0) - before.width), -120);
    // Narrow: the instructions become a tab of their own.
    await page.setViewportSize({ width: 600, height: 800 });
    assert.ok(await page.locator('.wt-tab-instructions').isVisible());
    await page.click('.wt-tab-instructions');
    assert.ok(await page.locator('#wt-instructions').isVisible());
    await page.click('.wt-tab:has-text("Terminal")');
    assert.ok(!(await page.locator('#wt-instructions').isVisible()));
    assert.ok(await page.locator('.wt-terminal-slot[data-session="1"]').isVisible());
  });

  test('checks show pass and fail; an autostart check runs by itself', async (t) => {
    const page = await openDashboard(t, '?page=checks');
    if (!page) return;
    const automatic = page.locator('.wt-check', { hasText: 'runs by itself' });
    await page.waitForSelector('.wt-check[data-result="pass"]:has-text("runs by itself")');
    assert.match(String(await automatic.textContent()), /passed with 1 arguments: automatic/);
    assert.equal(await page.locator('.wt-check[data-result]').count(), 1, 'the others wait for a click');
    await page.locator('.wt-check', { hasText: 'The passing check' }).click();
    await page.waitForSelector('.wt-check[data-result="pass"]:has-text("The passing check")');
    await page.locator('.wt-check', { hasText: 'The failing check' }).click();
    const failed = page.locator('.wt-check[data-result="fail"]', { hasText: 'The failing check' });
    await failed.waitFor();
    assert.match(String(await failed.textContent()), /Failed.*ready\.txt is missing/s);
  });
});

/** The policies an answer carries (a browser enforces each). */
function policiesOf(headers: import('node:http').IncomingHttpHeaders): string[] {
  return String(headers['content-security-policy'] ?? '').split(/,\s*/);
}

describe('what an attendee writes is shown, never run', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;
  const workshop = mkdtempSync(path.join(os.tmpdir(), 'wt-attendee-workshop-'));
  let marker: string;

  before(async () => {
    mkdirSync(path.join(workshop, 'content'));
    writeFileSync(path.join(workshop, 'workshop.yaml'), 'name: Attendee content\nmodules:\n  activate:\n    - intro\n');
    writeFileSync(path.join(workshop, 'content', 'intro.md'), '# Intro\n\n<img id="diagram" src="diagram.svg">\n');
    terminal = await startTerminalServer({ URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: workshop });
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: workshop }, terminal.port);
    // The attendee's files: their script would make a shell create the marker.
    marker = path.join(terminal.home, 'pwned-by-content');
    for (const [name, text] of Object.entries(contentAttack(`${PREFIX}/terminal/socket/victim`, `touch ${marker}`))) {
      writeFileSync(path.join(workshop, 'content', name), text);
    }
    writeFileSync(path.join(workshop, 'content', 'feed.xml'), '<feed/>\n');
    writeFileSync(path.join(workshop, 'content', 'tool.bin'), 'MZ\n');
    writeFileSync(path.join(terminal.home, 'notes.html'), '<script>alert(1)</script>\n');
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
    rmSync(workshop, { recursive: true, force: true });
  });

  /** A page in a context of its own, with everything its documents log. */
  async function newPage(t: import('node:test').TestContext): Promise<{ page: Page; logged: string[] } | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext();
    t.after(() => context.close());
    const page = await context.newPage();
    const logged: string[] = [];
    page.on('console', (message) => logged.push(message.text()));
    return { page, logged };
  }

  test('every answer but our two pages carries the inert policy and our frame-ancestors; pages get only ours', async () => {
    const proxyPolicy = policiesOf((await request(`${proxy.base}/terminal/session/1`)).headers);
    assert.equal(proxyPolicy.length, 1);
    assert.doesNotMatch(proxyPolicy[0] as string, /sandbox/);
    const dashboard = policiesOf((await request(`${proxy.base}/dashboard/`)).headers);
    assert.deepEqual(dashboard, proxyPolicy, 'the dashboard page too');
    const types: [string, string][] = [
      ['dashboard/content/diagram.svg', 'image/svg+xml'],
      ['dashboard/content/diagram.js', 'text/plain; charset=utf-8'],
      ['dashboard/content/page.html', 'text/plain; charset=utf-8'],
      ['dashboard/content/feed.xml', 'text/plain; charset=utf-8'],
      ['dashboard/content/tool.bin', 'application/octet-stream'],
      ['dashboard/api/pages/intro', 'application/json; charset=utf-8'],
      ['terminal/api/sessions', 'application/json; charset=utf-8'],
      ['files/download?path=notes.html', 'application/octet-stream'],
      ['dashboard/content/missing.svg', 'text/plain; charset=utf-8'],
    ];
    for (const [route, type] of types) {
      const answer = await request(`${proxy.base}/${route}`);
      assert.equal(answer.headers['content-type'], type, route);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', route);
      // The terminal server's (sandbox, no script) and our frame-ancestors: both enforced.
      assert.deepEqual(
        policiesOf(answer.headers),
        [
          "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:",
          "frame-ancestors 'self'",
        ],
        route,
      );
    }
    assert.equal(
      (await request(`${proxy.base}/dashboard/content/tool.bin`)).headers['content-disposition'],
      'attachment',
    );
  });

  test('an SVG that loads a script beside it, opened by itself, runs nothing: no input reaches a shell', async (t) => {
    const opened = await newPage(t);
    if (!opened) return;
    const { page, logged } = opened;
    const verdict = firstWordOnScript(page);
    const answer = await page.goto(`${proxy.base}/dashboard/content/diagram.svg`);
    assert.equal(answer?.status(), 200);
    assert.match(await verdict, SANDBOX_REFUSAL);
    assert.ok(!logged.includes(CONTENT_ATTACK_RAN), 'the script never ran');
    assert.equal(terminal.server.sessions.get('victim'), undefined, 'no socket opened the session');
    assert.ok(!existsSync(marker));
  });

  test('.js and .html opened by themselves are shown as text, and run nothing', async (t) => {
    const opened = await newPage(t);
    if (!opened) return;
    const { page, logged } = opened;
    for (const file of ['diagram.js', 'page.html']) {
      await page.goto(`${proxy.base}/dashboard/content/${file}`);
      assert.equal(await page.evaluate(() => document.contentType), 'text/plain', file);
      assert.equal(await page.textContent('body'), readFileSync(path.join(workshop, 'content', file), 'utf8'), file);
    }
    assert.ok(!logged.includes(CONTENT_ATTACK_RAN), 'no script ran');
    assert.equal(terminal.server.sessions.get('victim'), undefined);
  });

  test('our pages run no script from the content folder; the SVG still shows as a picture in a page', async (t) => {
    const opened = await newPage(t);
    if (!opened) return;
    const { page, logged } = opened;
    await page.goto(`${proxy.base}/dashboard/?page=intro`);
    // Loaded or failed, then how wide it is: the picture's own 40 pixels.
    await page.waitForFunction(() => (document.querySelector('#diagram') as HTMLImageElement | null)?.complete);
    assert.equal(await page.evaluate(() => (document.querySelector('#diagram') as HTMLImageElement).naturalWidth), 40);
    const scriptFrom = (src: string) =>
      page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            document.addEventListener('securitypolicyviolation', (event) =>
              resolve(`refused by ${event.effectiveDirective}: ${event.blockedURI}`),
            );
            const script = document.createElement('script');
            script.src = url;
            script.onload = () => resolve('loaded');
            script.onerror = () => resolve('failed to load');
            document.head.append(script);
          }),
        src,
      );
    const origin = new URL(proxy.base).origin;
    const script = `${origin}${PREFIX}/dashboard/content/diagram.js`;
    assert.equal(await scriptFrom('content/diagram.js'), `refused by script-src-elem: ${script}`);
    await page.goto(`${proxy.base}/terminal/session/1`);
    assert.equal(await scriptFrom('../../dashboard/content/diagram.js'), `refused by script-src-elem: ${script}`);
    assert.ok(!logged.includes(CONTENT_ATTACK_RAN), 'no script ran');
    assert.equal(terminal.server.sessions.get('victim'), undefined);
  });
});

describe('the dashboard without a workshop', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;
  const empty = mkdtempSync(path.join(os.tmpdir(), 'wt-no-workshop-'));
  const missing = path.join(empty, 'workshop');

  before(async () => {
    terminal = await startTerminalServer({ WORKSHOP_DIR: missing });
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', WORKSHOP_DIR: missing }, terminal.port);
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
    rmSync(empty, { recursive: true, force: true });
  });

  test('/ still goes to the terminal; the dashboard HTML shows just the terminals', async (t) => {
    const root = await request(`${proxy.base}/`);
    assert.equal(root.headers.location, '/terminal/');
    assert.equal((await request(`${proxy.base}/dashboard/api/pages/intro`)).status, 404);
    assert.equal((await request(`${proxy.base}/dashboard/content/intro.md`)).status, 404);
    browser = await launchBrowser(t);
    if (!browser) return;
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${proxy.base}/dashboard/`);
    await page.waitForSelector('.terminal-view');
    await eventually(() => terminal.server.sessions.get('1')?.info().pages, 10_000, 'terminal 1 to attach');
    assert.equal(await page.locator('#wt-instructions').count(), 0);
    assert.equal(await page.locator('#wt-divider').count(), 0);
    assert.equal(await page.locator('.terminal-view').count(), 1);
    assert.equal(await page.locator('.wt-tabbar').isVisible(), false, 'one tab: no tab bar');
    assert.deepEqual(errors, []);
  });
});
