// What a workshop page's text becomes: Liquid, the documented data variables,
// config.vars with aliases, ENV_*, Hugo's shortcodes, and AsciiDoc pages whose
// roles become the same clickable blocks as Markdown fences. Rendered on the
// server from test/fixtures/workshop-text (and copies of it given a link out),
// then one page clicked in Chromium.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { loadConfig } from '../common/src/config.js';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { type Content, loadContent } from '../dashboard/src/content.js';
import { builtInVariables, DOCUMENTED_VARIABLES, workshopVariables } from '../dashboard/src/variables.js';
import { launchBrowser } from './harness/browser.js';
import { actionsOf } from './harness/rendered-page.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  startAuthProxy,
  startTerminalServer,
} from './harness/servers.js';

const FIXTURE = path.join(projectRoot(), 'test', 'fixtures', 'workshop-text');
const WORKSHOP = path.join(FIXTURE, 'workshop');

/** The workshop at `dir` rendered as the terminal server does at start, with `env` as the shells' environment. */
function render(
  dir: string,
  env: Record<string, string> = {},
  settings: Record<string, string> = {},
): Promise<Content | null> {
  return loadContent({
    dir,
    variables: builtInVariables(loadConfig({ AUTH_USERNAME: '*', ...settings }), env),
    env,
    consoleUrl: '',
    logger: createLogger('test', 'error'),
  });
}

/** The text of the element with this id (the first one), tags removed. */
function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`<(\\w+) id="${id}">([\\s\\S]*?)</\\1>`).exec(html);
  return match?.[2]
    ?.replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A copy of the fixture (with the files beside the workshop folder), for tests that change it. */
function copyOfFixture(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-text-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(FIXTURE, dir, { recursive: true });
  return path.join(dir, 'workshop');
}

describe('variables', () => {
  test('every documented variable has a value in {{ }}, {{< param >}} and %name%; the environment’s when set', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-vars-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(path.join(dir, 'content'));
    writeFileSync(path.join(dir, 'workshop.yaml'), 'name: My First Lab\nmodules:\n  activate: [all]\n');
    const lines = DOCUMENTED_VARIABLES.map(
      ({ name }) =>
        `<span id="l-${name}">{{ ${name} }}</span><span id="h-${name}">{{< param ${name} >}}</span><span id="p-${name}">%${name}%</span>`,
    );
    writeFileSync(path.join(dir, 'content', 'all.md'), `${lines.join('\n')}\n`);
    const env = { SESSION_NAMESPACE: 'team-a', INGRESS_PROTOCOL: 'https' };
    const settings = { PUBLIC_URL: 'https://lab.apps.example.com:8443', URI_ROOT_PATH: '/user/alice' };
    const content = await render(dir, env, settings);
    const html = content?.pages.get('all')?.html ?? '';
    assert.deepEqual(content?.workshop.problems, [], 'nothing unknown');
    const expected = new Map([
      ...builtInVariables(loadConfig({ AUTH_USERNAME: '*', ...settings }), env),
      ...workshopVariables({ title: 'My First Lab' }, env),
    ]);
    for (const { name } of DOCUMENTED_VARIABLES) {
      const value = expected.get(name);
      assert.notEqual(value, undefined, `${name} has a value`);
      for (const form of ['l', 'h', 'p']) assert.equal(textOf(html, `${form}-${name}`), value, `${form}: ${name}`);
    }
    // From the environment, from PUBLIC_URL and the prefix, from the workshop's name.
    assert.equal(expected.get('session_namespace'), 'team-a');
    assert.equal(expected.get('project_namespace'), 'team-a');
    assert.equal(expected.get('ingress_protocol'), 'https');
    assert.equal(expected.get('ingress_domain'), 'apps.example.com');
    assert.equal(expected.get('ingress_port_suffix'), ':8443');
    assert.equal(expected.get('session_url'), 'https://lab.apps.example.com:8443/user/alice');
    assert.equal(expected.get('base_url'), '/user/alice');
    assert.equal(expected.get('workshop_name'), 'my-first-lab');
    assert.equal(expected.get('training_portal'), 'my-first-lab');
    assert.equal(expected.get('workshop_title'), 'My First Lab');
    assert.match(expected.get('services_password') ?? '', /^[\w-]{16}$/, 'random per start');
  });

  test('Liquid: filters, if, raw, include from the folder, config.vars with aliases, workshop.yaml vars, ENV_*', async () => {
    const content = await render(WORKSHOP, { TEXT_FIXTURE: 'from-env', APP_ALIAS: 'aliased', app_name: 'ignored' });
    const html = content?.pages.get('liquid')?.html ?? '';
    assert.equal(
      textOf(html, 'app'),
      'aliased',
      'an alias is looked up; the name itself is not when aliases are given',
    );
    assert.equal(textOf(html, 'upper'), 'ALIASED');
    assert.equal(textOf(html, 'region'), 'eu-west', 'the default');
    assert.equal(textOf(html, 'percent'), 'aliased');
    assert.equal(textOf(html, 'param'), 'aliased');
    assert.equal(textOf(html, 'env'), 'from-env');
    assert.equal(textOf(html, 'session'), 'default');
    assert.ok(textOf(html, 'if-python'), 'workshop.yaml vars changes the default (java → python)');
    assert.equal(textOf(html, 'if-other'), undefined);
    assert.equal(textOf(html, 'raw'), '{{ session_namespace }} stays as written here');
    assert.match(textOf(html, 'included') ?? '', /^Hello \S+ from an include$/);
    assert.match(textOf(html, 'footer') ?? '', /^Footer for aliased, /, 'from the workshop folder, outside content/');
    const command = actionsOf(html).find((action) => action.type === 'execute')?.command;
    assert.equal(command, 'echo aliased > liquid-ran', 'in clickable blocks too');
  });

  test('a name nothing defines stays as written, and the author is told which and where', async () => {
    const content = await render(WORKSHOP);
    const html = content?.pages.get('liquid')?.html ?? '';
    assert.equal(textOf(html, 'unknown'), '{{ not_declared }}');
    assert.equal(textOf(html, 'unknown-param'), '{{< param nor_this >}}');
    assert.equal(textOf(html, 'go'), '{{.spec.host}}', 'not Liquid at all: left alone, not reported');
    const problems = content?.workshop.problems.join('\n') ?? '';
    assert.match(problems, /page liquid: \{\{ not_declared \}\}, \{\{ not_in_footer_either \}\} are not a variable/);
    assert.match(problems, /page liquid: \{\{< param nor_this >\}\}: not a variable/);
    assert.match(problems, /page liquid: \{\{ ENV_TEXT_FIXTURE \}\}: TEXT_FIXTURE not set in the shells' environment/);
    assert.doesNotMatch(problems, /spec/);
    assert.match(textOf(html, 'footer') ?? '', /\{\{ not_in_footer_either \}\}$/, 'in an include too');
  });
});

describe('shortcodes', () => {
  test('note, warning, danger (both forms), pathway, inline copy, the escaped form; an unknown one reported', async () => {
    const content = await render(WORKSHOP, { PATHWAY_NAME: 'python' });
    const html = content?.pages.get('shortcodes')?.html ?? '';
    const admonitions = [
      ...html.matchAll(/<div class="wt-admonition wt-admonition-(\w+)">\n<p class="wt-admonition-title">([^<]*)<\/p>/g),
    ];
    assert.deepEqual(
      admonitions.map((m) => [m[1], m[2]]),
      [
        ['note', 'Note'],
        ['warning', 'Careful'],
        ['danger', 'Danger'],
        ['note', 'Percent form'],
      ],
    );
    assert.match(html, /<p>A <strong>note<\/strong> for <span id="note-user">/, 'the inside is Markdown');
    assert.ok(textOf(html, 'pathway-python'));
    assert.equal(textOf(html, 'pathway-java'), undefined, 'another pathway’s text is left out');
    const copies = actionsOf(html).filter((action) => action.type === 'copy');
    assert.deepEqual(copies, [
      { type: 'copy', text: 'echo "inline copy test"', edit: false },
      { type: 'copy', text: 'ls -l', edit: false },
    ]);
    assert.match(
      html,
      /<code class="wt-action wt-action-copy wt-inline-copy"[^>]*>echo &quot;inline copy test&quot;<\/code> to check/,
    );
    assert.match(html, /<code>\{\{&lt; note &gt;\}\}<\/code>/, 'the escaped form shows the shortcode');
    assert.doesNotMatch(html, /wtcopy|wtheld/, 'no marker left');
    assert.match(content?.workshop.problems.join('\n') ?? '', /page shortcodes: \{\{< youtube >\}\}: not a shortcode/);

    const java = (await render(WORKSHOP, { PATHWAY_NAME: 'java' }))?.pages.get('shortcodes')?.html ?? '';
    assert.ok(textOf(java, 'pathway-java'));
    assert.equal(textOf(java, 'pathway-python'), undefined);
  });
});

describe('AsciiDoc pages', () => {
  test('roles become the same clickable blocks as Markdown fences; other listings are not clickable', async () => {
    const content = await render(WORKSHOP);
    const html = content?.pages.get('commands')?.html ?? '';
    assert.deepEqual(actionsOf(html), [
      { type: 'execute', sessions: ['1'], command: 'echo "from asciidoc" > adoc-ran', clear: false },
      { type: 'execute', sessions: ['1'], command: 'echo one', clear: false },
      { type: 'execute', sessions: ['2'], command: 'echo two', clear: false },
      { type: 'execute', sessions: ['3'], command: 'echo three', clear: false },
      { type: 'execute', sessions: ['1', '2'], command: 'clear', clear: false },
      { type: 'copy', text: 'echo copied', edit: false },
      { type: 'copy', text: 'echo EDIT-ME', edit: true },
      { type: 'copy', text: 'echo pasted', edit: false },
      { type: 'execute', sessions: ['2'], command: 'echo namespaced', clear: false },
    ]);
    assert.match(html, /<code class="language-bash">echo not clickable<\/code>/);
    assert.match(html, /Variables: <code>demo-app<\/code> and demo-app\./, 'Liquid and %name% in AsciiDoc');
    assert.match(html, /<div id="included-part" class="paragraph">\n<p>An included part\.<\/p>/, 'an include inside');
  });
});

describe('bad input', () => {
  test('bad Liquid, and includes outside the folder (written or linked), refused in their page only', async (t) => {
    const dir = copyOfFixture(t);
    const outside = path.join(dir, '..', 'outside.md');
    // Links inside the folder to a file outside it: a Liquid include and an AsciiDoc one.
    symlinkSync(outside, path.join(dir, 'content', 'snippets', 'link.md'));
    symlinkSync(path.join(dir, '..', 'outside.adoc'), path.join(dir, 'content', 'snippets', 'link.adoc'));
    writeFileSync(path.join(dir, 'content', 'include-escape.md'), "# Linked\n\n{% include 'snippets/link.md' %}\n");
    writeFileSync(path.join(dir, 'content', 'adoc-include-escape.adoc'), '= Linked\n\ninclude::snippets/link.adoc[]\n');
    const linked = await render(dir);
    const written = await render(WORKSHOP);
    for (const [content, how] of [
      [written, 'outside the workshop folder'],
      [linked, 'links outside the workshop folder'],
    ] as const) {
      const problems = content?.workshop.problems.join('\n') ?? '';
      for (const page of ['include-escape', 'adoc-include-escape']) {
        const html = content?.pages.get(page)?.html ?? '';
        assert.match(
          html,
          new RegExp(
            `Note for the workshop author: page ${page} could not be rendered: include(?: |::)\\S+: ${how}, not read`,
          ),
        );
        assert.doesNotMatch(html, /secret from outside/);
        assert.match(problems, new RegExp(`page ${page} could not be rendered: include(?: |::)\\S+: ${how}`));
      }
      assert.match(
        content?.pages.get('bad-liquid')?.html ?? '',
        /could not be rendered: tag \{% if app_name %\} not closed/,
      );
      // Every other page still renders.
      assert.ok(actionsOf(content?.pages.get('commands')?.html ?? '').length > 0);
      assert.ok(textOf(content?.pages.get('liquid')?.html ?? '', 'included'));
    }
    assert.ok(readFileSync(outside, 'utf8').includes('secret from outside'), 'there was something to read');
  });
});

describe('the README', () => {
  test('lists every documented variable, in order', () => {
    const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
    const table = readme.slice(readme.search(/^\| Variable +\| Value +\|$/m));
    const names = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\| `([a-z_]+)` +\|/gm)].map((m) => m[1]);
    assert.deepEqual(
      names,
      DOCUMENTED_VARIABLES.map((variable) => variable.name),
    );
  });
});

describe('in the browser', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;

  before(async () => {
    terminal = await startTerminalServer({ WORKSHOP_DIR: WORKSHOP, JUPYTERHUB_USER: 'alice' });
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', WORKSHOP_DIR: WORKSHOP }, terminal.port);
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
  });

  test('an AsciiDoc execute block runs its command; an inline copy copies its code', async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${proxy.base}/dashboard/?page=commands`);
    await eventually(() => terminal.server.sessions.get('1')?.info().pages, 10_000, 'terminal 1 attached');
    await page.locator('.wt-action', { hasText: 'adoc-ran' }).click();
    const file = path.join(terminal.home, 'adoc-ran');
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8') === 'from asciidoc\n', 10_000, 'adoc-ran');

    await page.goto(`${proxy.base}/dashboard/?page=shortcodes`);
    await page.locator('.wt-inline-copy', { hasText: 'inline copy test' }).click();
    await page.waitForSelector('.wt-inline-copy.wt-done');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'echo "inline copy test"');
    assert.deepEqual(errors, []);
  });
});
