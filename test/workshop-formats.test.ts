// Workshop layouts: Educates' Hugo layout (test/fixtures/workshop-educates)
// and the classic layout's front matter, read as the terminal server reads
// them at start; resources/workshop.yaml's settings; setup.d and session.env
// run by the supervisor's own script; the files served beside the pages and
// the slides, attacked with paths and links that lead out; and the Educates
// fixture in Chromium, through the real auth proxy.
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { type Content, loadContent } from '../dashboard/src/content.js';
import { SETUP_REPORT_FILE, setupProblems } from '../dashboard/src/setup-report.js';
import { launchBrowser } from './harness/browser.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  runProcess,
  startAuthProxy,
  startTerminalServer,
} from './harness/servers.js';

const FIXTURE = path.join(projectRoot(), 'test', 'fixtures', 'workshop-educates');
const WORKSHOP = path.join(FIXTURE, 'workshop');

function render(dir: string, env: Record<string, string> = {}, consoleUrl = ''): Promise<Content | null> {
  return loadContent({
    dir,
    variables: new Map([['username', 'alice']]),
    env,
    consoleUrl,
    logger: createLogger('test', 'error'),
  });
}

/** A copy of the Educates fixture to change, removed after the test. */
function fixtureCopy(t: import('node:test').TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-educates-'));
  cpSync(FIXTURE, dir, { recursive: true, verbatimSymlinks: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'workshop');
}

const pageList = (content: Content | null) => content?.workshop.pages.map((page) => [page.name, page.title]);

describe("Educates' Hugo layout, read at start", () => {
  test('pages in the pathway’s order, titled by front matter, config.yaml and AsciiDoc; drafts and bundle files left out', async () => {
    const content = await render(WORKSHOP);
    assert.equal(content?.workshop.format, 'educates');
    assert.equal(content?.workshop.name, 'Educates fixture, full pathway', "the pathway's title");
    assert.deepEqual(pageList(content), [
      ['00-overview', 'Overview'],
      ['01-bundle', 'Bundle, titled by config.yaml'],
      ['02-section', 'A section'],
      ['02-section/a-page', 'Inside the section'],
      ['05-asciidoc', 'AsciiDoc Page'],
      ['04-broken', '04 Broken'],
    ]);
    const asciidoc = content?.workshop.pages.find((page) => page.name === '05-asciidoc');
    assert.equal(asciidoc?.markup, 'asciidoc');
    assert.match(asciidoc?.text ?? '', /^= AsciiDoc Page/, 'handed on as it is written');
    const overview = content?.workshop.pages[0];
    assert.equal(overview?.markup, 'markdown');
    assert.doesNotMatch(overview?.text ?? '', /weight:/, 'the renderer gets the text without its front matter');
    assert.equal(content?.workshop.variables.get('pathway_name'), 'full');
    assert.equal(content?.workshop.variables.get('fixture_param'), 'the global default');
  });

  test('a broken front matter is a note for that page; the page and every other one still render', async () => {
    const content = await render(WORKSHOP);
    const problems = content?.workshop.problems ?? [];
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0] as string, /^page 04-broken \(content\/04-broken\.md\): front matter is not valid YAML/);
    assert.match(content?.pages.get('04-broken')?.html ?? '', /id="broken-text"/);
    assert.equal(content?.pages.size, 6);
  });

  test('pictures: static/ through {{< baseurl >}}, a bundle’s beside its index.md; links between pages', async () => {
    const content = await render(WORKSHOP);
    assert.match(
      content?.pages.get('00-overview')?.html ?? '',
      /id="static-picture"[^>]* src="content\/images\/logo\.png"/,
    );
    assert.match(
      content?.pages.get('01-bundle')?.html ?? '',
      /id="bundle-picture"[^>]* src="content\/01-bundle\/picture\.png"/,
    );
    assert.match(content?.pages.get('01-bundle')?.html ?? '', /href="content\/01-bundle\/notes\.md"/);
    assert.match(
      content?.pages.get('02-section/a-page')?.html ?? '',
      /<a href="\?page=00-overview" data-page="00-overview">overview<\/a>/,
    );
  });

  test('PATHWAY_NAME picks another pathway, with its own params; an unknown one falls back to the default', async () => {
    const short = await render(WORKSHOP, { PATHWAY_NAME: 'short' });
    assert.deepEqual(
      pageList(short)?.map(([name]) => name),
      ['00-overview', '05-asciidoc'],
    );
    assert.equal(short?.workshop.name, 'Educates fixture, short pathway');
    assert.equal(short?.workshop.variables.get('fixture_param'), "the short pathway's");
    assert.equal(short?.workshop.variables.get('pathway_name'), 'short');
    const aliased = await render(WORKSHOP, { FIXTURE_PARAM_ALIAS: 'from the alias' });
    assert.equal(aliased?.workshop.variables.get('fixture_param'), 'from the alias');
    const unknown = await render(WORKSHOP, { PATHWAY_NAME: 'nowhere' });
    assert.equal(unknown?.workshop.pages.length, 6);
    assert.ok(unknown?.workshop.problems.some((problem) => /PATHWAY_NAME nowhere is not a pathway/.test(problem)));
  });

  test('without config.yaml: by weight then title; without weights: by path', async (t) => {
    const dir = fixtureCopy(t);
    rmSync(path.join(dir, 'config.yaml'));
    const weighted = await render(dir);
    assert.deepEqual(
      pageList(weighted)?.map(([name]) => name),
      [
        '00-overview', // 10
        '02-section', // 20
        '02-section/a-page', // 25
        '01-bundle', // 30
        '04-broken', // no weight (its front matter is broken): after, by title: "04 Broken"
        '05-asciidoc', // "AsciiDoc Page"
      ],
    );
    assert.equal(weighted?.workshop.name, 'Educates layout fixture', "resources/workshop.yaml's title");
    assert.equal(weighted?.workshop.pages[3]?.title, 'A page bundle', 'its own title, without config.yaml');
    for (const file of ['00-overview.md', '01-bundle/index.md', '02-section/_index.md', '02-section/a-page.md']) {
      const full = path.join(dir, 'content', file);
      writeFileSync(full, readFileSync(full, 'utf8').replace(/^weight: \d+\n/m, ''));
    }
    assert.deepEqual(
      pageList(await render(dir))?.map(([name]) => name),
      ['00-overview', '01-bundle', '02-section', '02-section/a-page', '04-broken', '05-asciidoc'],
    );
  });

  test('resources/workshop.yaml: split layout, tabs with $(variables), slides, what is ignored; bad YAML is a note', async (t) => {
    const content = await render(WORKSHOP);
    const workshop = content?.workshop;
    assert.equal(workshop?.layout, 'split');
    assert.deepEqual(workshop?.tabs, [
      { name: 'Docs', url: 'https://docs.example.com/full/' },
      { name: 'Shell', session: 'shell' },
    ]);
    assert.equal(workshop?.slidesDir, path.join(WORKSHOP, 'slides'));
    // reveal.js 4.X, as the resource asks: the bundled 4.x, served beneath the slides' own files.
    assert.equal(workshop?.slidesLibraryDir, realpathSync(path.join(projectRoot(), 'node_modules', 'reveal.js-4')));
    assert.deepEqual(workshop?.ignored, [
      'spec.workshop.files',
      'spec.session.namespaces',
      'spec.session.dashboards[0] (the place of the built-in tab Editor)',
      'spec.session.env[2].valueFrom (FIXTURE_SECRET)',
    ]);

    const dir = fixtureCopy(t);
    const resource = path.join(dir, '..', 'resources', 'workshop.yaml');
    const yaml = readFileSync(resource, 'utf8');
    writeFileSync(
      resource,
      yaml
        .replace('layout: split', 'layout: lower')
        .replace('version: 4.X', 'version: 2.X')
        .replace(/^( *)editor:/m, '$1console:\n$1  enabled: false\n$1editor:'),
    );
    const lower = await render(dir, {}, 'https://console.example.com/');
    assert.ok(
      lower?.workshop.problems.some((p) =>
        /reveal\.js version "2\.X": none of the bundled ones matches \(3\.9\.2, 4\.6\.\d+, 5\.\d+\.\d+\)/.test(p),
      ),
      'a version that is not bundled is a note',
    );
    assert.equal(lower?.workshop.slidesLibraryDir, null);
    assert.equal(lower?.workshop.layout, 'lower');
    assert.equal(lower?.workshop.consoleEnabled, false);
    writeFileSync(resource, yaml.replace('layout: split', 'layout: sideways'));
    assert.ok(
      (await render(dir))?.workshop.problems.some((p) =>
        /layout must be default, split, split\/2, lower or none/.test(p),
      ),
    );
    writeFileSync(resource, `${yaml}\n  oops: [\n`);
    const broken = await render(dir);
    assert.ok(broken?.workshop.problems.some((p) => /^resources\/workshop\.yaml is not valid YAML/.test(p)));
    assert.equal(broken?.workshop.layout, 'single', 'nothing taken from a broken file');
    assert.equal(broken?.workshop.pages.length, 6, 'the pages are still there');
    // A link leading out of the workshop's source folder is not read.
    rmSync(resource);
    const outside = mkdtempSync(path.join(os.tmpdir(), 'wt-outside-'));
    t.after(() => rmSync(outside, { recursive: true, force: true }));
    writeFileSync(path.join(outside, 'workshop.yaml'), yaml);
    symlinkSync(path.join(outside, 'workshop.yaml'), resource);
    const linked = await render(dir);
    assert.ok(linked?.workshop.problems.some((p) => /a link leading outside the workshop's folder; not read/.test(p)));
    assert.equal(linked?.workshop.layout, 'single');
  });
});

describe("an app of the container, named as Educates names a session ingress's", () => {
  test('tabs, links and blocks naming the ingress (or port:<n>) reach the app through the port proxy', async (t) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'wt-ingress-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(path.join(root, 'resources'));
    mkdirSync(path.join(root, 'workshop', 'content'), { recursive: true });
    writeFileSync(
      path.join(root, 'resources', 'workshop.yaml'),
      [
        'apiVersion: training.educates.dev/v1beta1',
        'kind: Workshop',
        'metadata: { name: ingress-fixture }',
        'spec:',
        '  session:',
        '    ingresses:',
        '      - name: app',
        '        port: 8080',
        '    dashboards:',
        '      - name: App',
        '        url: "$(ingress_protocol)://app-$(session_name).$(ingress_domain)/status"',
        '',
      ].join('\n'),
    );
    const ingress = '{{< param ingress_protocol >}}://app-{{< param session_name >}}.{{< param ingress_domain >}}';
    writeFileSync(
      path.join(root, 'workshop', 'content', '01-app.md'),
      [
        '---\ntitle: The app\n---',
        `[By the ingress](${ingress}/hello?x=1) and [by port](port:9090/) and [elsewhere](https://example.com/).`,
        '```dashboard:open-url',
        `url: "${ingress}/docs"`,
        '```',
        '```dashboard:create-dashboard',
        'name: Other',
        'url: port:9090/admin',
        '```',
        '',
      ].join('\n'),
    );
    const content = await loadContent({
      dir: path.join(root, 'workshop'),
      variables: new Map([
        ['base_url', '/user/alice'],
        ['session_name', 'alice-w1'],
        ['ingress_domain', 'apps.example.com'],
        ['ingress_protocol', 'https'],
      ]),
      env: {},
      consoleUrl: '',
      logger: createLogger('test', 'error'),
    });
    assert.deepEqual(content?.workshop.problems, []);
    const tab = content?.workshop.tabs.find((one) => one.name === 'App');
    assert.deepEqual(tab && 'url' in tab ? tab.url : null, '/user/alice/port/8080/status');
    const html = content?.pages.get('01-app')?.html ?? '';
    assert.match(html, /href="\/user\/alice\/port\/8080\/hello\?x=1"/);
    assert.match(html, /href="\/user\/alice\/port\/9090\/"/);
    assert.match(html, /href="https:\/\/example\.com\/"/);
    const actions = [...html.matchAll(/data-action="([^"]*)"/g)].map((match) =>
      JSON.parse((match[1] as string).replaceAll('&quot;', '"').replaceAll('&amp;', '&')),
    );
    assert.deepEqual(
      actions.map((action) => action.url),
      ['/user/alice/port/8080/docs', '/user/alice/port/9090/admin'],
    );
  });
});

describe('the classic layout: front matter and template engine', () => {
  test('title, next_page, exit_sign and exit_link from front matter; AsciiDoc pages listed; workshop.yaml wins over resources/', async (t) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'wt-classic-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dir = path.join(root, 'workshop');
    mkdirSync(path.join(dir, 'content'), { recursive: true });
    mkdirSync(path.join(root, 'resources'));
    writeFileSync(
      path.join(dir, 'modules.yaml'),
      'modules:\n  one: {name: One from modules.yaml}\n  two: {}\n  three: {}\nconfig:\n  template_engine: liquid.js\n',
    );
    writeFileSync(
      path.join(dir, 'workshop.yaml'),
      'name: Classic\nmodules:\n  activate: [one, two, three]\nterminals: split/2\n',
    );
    writeFileSync(
      path.join(root, 'resources', 'workshop.yaml'),
      'kind: Workshop\nspec:\n  title: Not used\n  session:\n    applications:\n      terminal: {enabled: true, layout: lower}\n    dashboards:\n    - {name: Site, url: "https://site.example.com/"}\n',
    );
    writeFileSync(
      path.join(dir, 'content', 'one.md'),
      '---\ntitle: Not used\nnext_page: three\nexit_sign: Skip ahead\n---\nOne.\n',
    );
    writeFileSync(path.join(dir, 'content', 'two.adoc'), '---\ntitle: Two, in AsciiDoc\n---\n= Two\n\nText.\n');
    writeFileSync(
      path.join(dir, 'content', 'three.md'),
      '---\ntitle: Three\nexit_link: https://example.com/done\n---\n# Three\n',
    );
    const content = await render(dir);
    const workshop = content?.workshop;
    assert.equal(workshop?.format, 'classic');
    assert.equal(workshop?.templateEngine, 'liquid.js');
    assert.equal(workshop?.name, 'Classic');
    assert.equal(workshop?.layout, 'split/2', "workshop.yaml's terminals win");
    assert.deepEqual(workshop?.tabs, [{ name: 'Site', url: 'https://site.example.com/' }], 'no tabs there: resources/');
    assert.deepEqual(pageList(content), [
      ['one', 'One from modules.yaml'],
      ['two', 'Two, in AsciiDoc'],
      ['three', 'Three'],
    ]);
    const [one, two, three] = workshop?.pages ?? [];
    assert.deepEqual([one?.nextPage, one?.exitSign, one?.text], ['three', 'Skip ahead', 'One.\n']);
    assert.deepEqual([two?.markup, two?.text], ['asciidoc', '= Two\n\nText.\n']);
    assert.equal(three?.exitLink, 'https://example.com/done');
    assert.deepEqual(content?.pages.get('one')?.nextPage, 'three', 'the page the dashboard gets says so too');
    assert.deepEqual(workshop?.problems, []);
    writeFileSync(
      path.join(dir, 'content', 'three.md'),
      '---\nexit_link: javascript:alert(1)\nnext_page: nowhere\n---\n',
    );
    writeFileSync(path.join(dir, 'modules.yaml'), 'config:\n  template_engine: jinja\n');
    const bad = (await render(dir))?.workshop;
    assert.equal(bad?.pages[2]?.exitLink, null);
    assert.equal(bad?.pages[2]?.nextPage, null);
    assert.equal(bad?.templateEngine, null);
    for (const expected of [
      /three: exit_link must be an http\(s\) URL/,
      /next_page nowhere is not a page/,
      /template_engine must be liquid\.js/,
    ]) {
      assert.ok(
        bad?.problems.some((problem) => expected.test(problem)),
        String(expected),
      );
    }
  });
});

describe('the layouts, the text and the actions together', () => {
  /** A page's HTML as the dashboard serves it. */
  async function servedPage(terminal: RunningTerminalServer, name: string): Promise<string> {
    const answer = await request(`${terminal.base}/dashboard/api/pages/${name}`);
    assert.equal(answer.status, 200, answer.body);
    return (JSON.parse(answer.body) as { html: string }).html;
  }

  test('Hugo layout: the resource’s name, title and description, the default pathway and slides_url reach {{< param >}}; no Liquid', async (t) => {
    const dir = fixtureCopy(t);
    const overview = path.join(dir, 'content', '00-overview.md');
    writeFileSync(
      overview,
      `${readFileSync(overview, 'utf8')}
<p id="identity">{{< param workshop_name >}}|{{< param workshop_title >}}|{{< param workshop_description >}}|{{< param training_portal >}}|{{< param environment_name >}}|{{< param pathway_name >}}</p>

<p id="not-liquid">{{ session_namespace }}|{{< param session_namespace >}}</p>

<a id="slides-link" href="{{< param slides_url >}}">the slides</a>
`,
    );
    const terminal = await startTerminalServer({ WORKSHOP_DIR: dir, URI_ROOT_PATH: '/user/alice/terminal' });
    t.after(() => terminal.close());
    const html = await servedPage(terminal, '00-overview');
    assert.match(
      html,
      /id="identity">educates-fixture\|Educates layout fixture\|Pages, pathways, pictures, tabs and settings in Educates' layout\|educates-fixture\|educates-fixture\|full</,
      'metadata.name, spec.title, spec.description; the pathway config.yaml names by default',
    );
    assert.match(
      html,
      /id="not-liquid">\{\{ session_namespace \}\}\|default</,
      'a Hugo page has shortcodes, not Liquid',
    );
    const slides = /id="slides-link" href="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.equal(slides, '/user/alice/terminal/dashboard/slides/');
    const served = await request(`http://127.0.0.1:${terminal.port}${slides}`);
    assert.equal(served.status, 200, 'slides_url is where the slides are served');
    assert.equal(served.body, readFileSync(path.join(dir, 'slides', 'index.html'), 'utf8'));
    const page = await request(`${terminal.base}/dashboard/`);
    assert.doesNotMatch(page.body, /not a variable|not a shortcode/, 'nothing reported unknown');

    const named = await startTerminalServer({ WORKSHOP_DIR: dir, WORKSHOP_NAME: 'from-the-environment' });
    t.after(() => named.close());
    assert.match(
      await servedPage(named, '00-overview'),
      /id="identity">from-the-environment\|Educates layout fixture\|[^|]*\|from-the-environment\|from-the-environment\|full</,
    );
  });

  test('classic layout: {{< baseurl >}} from any page, the resource’s identity; AsciiDoc sections pair, or say why not', async (t) => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'wt-together-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const dir = path.join(root, 'workshop');
    mkdirSync(path.join(dir, 'content', 'deeper'), { recursive: true });
    mkdirSync(path.join(root, 'resources'));
    writeFileSync(
      path.join(dir, 'modules.yaml'),
      'modules:\n  top: {}\n  deeper/below: {}\nconfig:\n  template_engine: liquid.js\n',
    );
    writeFileSync(path.join(dir, 'workshop.yaml'), 'name: Together\nmodules:\n  activate: [top, deeper/below]\n');
    writeFileSync(
      path.join(root, 'resources', 'workshop.yaml'),
      'kind: Workshop\nmetadata:\n  name: lab-together\nspec:\n  title: Together, the title\n  description: All parts at once\n',
    );
    writeFileSync(path.join(dir, 'content', 'picture.png'), 'not really a picture');
    writeFileSync(
      path.join(dir, 'content', 'deeper', 'below.md'),
      '![below]({{< baseurl >}}/picture.png)\n\n{{ workshop_name }}|{{ workshop_title }}|{{ workshop_description }}|{{ training_portal }}\n',
    );
    writeFileSync(
      path.join(dir, 'content', 'top.adoc'),
      `= Top

image::{{< baseurl >}}/picture.png[top]

[source,yaml,role=section:begin]
----
title: Open me
----

[source,bash,role=execute]
----
echo inside-the-first
----

[source,yaml,role=section:end]
----
----

[source,yaml,role=section:begin]
----
name: second
----

Text of the second.

[source,yaml,role=section:end]
----
name: second
----

* one item
+
[source,yaml,role=section:begin]
----
name: split
----

* another item
+
[source,yaml,role=section:end]
----
name: split
----

[source,yaml,role=section:begin]
----
name: lonely
----
`,
    );
    const content = await render(dir);
    const below = content?.pages.get('deeper/below')?.html ?? '';
    assert.match(below, /<img alt="below" src="content\/picture\.png"/);
    assert.match(below, /lab-together\|Together, the title\|All parts at once\|lab-together/);
    const top = content?.pages.get('top')?.html ?? '';
    assert.match(top, /<img alt="top" src="content\/picture\.png"/);
    // Each paired section is one element around what lies between its two blocks, with an id of its own.
    const first =
      /<div class="wt-section-body" id="(wt-section-\d+)" data-section="\*" hidden>([\s\S]*?)<\/div>\n<div class="wt-action wt-action-section-end"/.exec(
        top,
      );
    assert.ok(first, top);
    assert.match(first[2] as string, /inside-the-first/);
    const second =
      /<div class="wt-section-body" id="(wt-section-\d+)" data-section="second" hidden>\n<div class="paragraph">\n<p>Text of the second\.<\/p>\n<\/div>\n<\/div>/.exec(
        top,
      );
    assert.ok(second, top);
    assert.notEqual(first[1], second[1]);
    assert.equal(top.match(/class="wt-section-body"/g)?.length, 2, 'the others are not sections');
    assert.equal(top.match(/<div/g)?.length, top.match(/<\/div>/g)?.length, 'every element is closed where it opens');
    const problems = content?.workshop.problems ?? [];
    for (const expected of [
      'page top: section:begin named split has no section:end in the same list or quote',
      'page top: section:end named split has no section:begin before it',
      'page top: section:begin named lonely has no section:end after it',
    ]) {
      assert.ok(problems.includes(expected), `${expected}\n${problems.join('\n')}`);
      assert.ok(top.includes(expected.replace(/^page top: /, '')), 'and in its place on the page');
    }
    assert.ok(!problems.some((problem) => /baseurl|not a variable/.test(problem)), problems.join('\n'));
  });
});

describe('setup.d and session.env, as the supervisor runs them before the terminal starts', () => {
  test('scripts run in name order with session.env; a failure is reported to the author; the container’s own variable wins', async (t) => {
    const pm2Home = mkdtempSync(path.join(os.tmpdir(), 'wt-pm2-'));
    const home = mkdtempSync(path.join(os.tmpdir(), 'wt-home-'));
    t.after(() => {
      rmSync(pm2Home, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    });
    const shellEnv = { PATH: process.env.PATH ?? '', HOME: home, FIXTURE_WHERE: 'set by the container' };
    writeFileSync(path.join(pm2Home, 'shell-environment.json'), JSON.stringify(shellEnv));
    const run = runProcess(process.execPath, [path.join(projectRoot(), 'dist/supervisor/setup-workshop.js')], {
      HOME: home,
      PM2_HOME: pm2Home,
      WORKSHOP_DIR: WORKSHOP,
    });
    assert.equal(await run.exited, 0, run.output());
    const output = run.output();
    // In name order, each logged; the script's own output passed on.
    assert.ok(
      output.indexOf('setup.start script=10-write.sh') < output.indexOf('setup.start script=20-fail.sh'),
      output,
    );
    assert.match(output, /setup\.done script=10-write\.sh code=0/);
    assert.match(output, /setup\.failed script=20-fail\.sh code=3/);
    assert.match(output, /20-fail\.sh: something the author must fix/);
    assert.match(output, /session-env set=FIXTURE_GREETING,FIXTURE_NAME kept=FIXTURE_WHERE/);
    assert.equal(readFileSync(path.join(home, 'setup-ran.txt'), 'utf8'), 'hello from session.env\n');
    const written = JSON.parse(readFileSync(path.join(pm2Home, 'shell-environment.json'), 'utf8'));
    assert.equal(written.FIXTURE_GREETING, 'hello from session.env', 'the shells get it too');
    assert.equal(written.FIXTURE_WHERE, 'set by the container');
    assert.equal(
      written.FIXTURE_NAME,
      'educates-fixture in default',
      "the resource's own name is a variable there too",
    );
    assert.equal(written.FIXTURE_SECRET, undefined, 'valueFrom is the cluster’s');
    const problems = setupProblems(path.join(pm2Home, SETUP_REPORT_FILE));
    assert.deepEqual(problems, [
      'setup.d/20-fail.sh failed (exit code 3) at start: 20-fail.sh: something the author must fix',
    ]);

    // The dashboard shows it in the author's banner.
    const terminal = await startTerminalServer({
      WORKSHOP_DIR: WORKSHOP,
      WORKSHOP_SETUP_REPORT: path.join(pm2Home, SETUP_REPORT_FILE),
    });
    t.after(() => terminal.close());
    const page = await request(`${terminal.base}/dashboard/`);
    assert.match(page.body, /setup.d\/20-fail.sh failed \(exit code 3\) at start/);
  });
});

describe('the Educates fixture, served', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;

  before(async () => {
    terminal = await startTerminalServer({ WORKSHOP_DIR: WORKSHOP });
    proxy = await startAuthProxy({ AUTH_USERNAME: '*', WORKSHOP_DIR: WORKSHOP }, terminal.port);
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
  });

  test('static/ and bundle files beside the pages, slides sandboxed; nothing outside their folders, however asked', async () => {
    const staticPicture = await request(`${terminal.base}/dashboard/content/images/logo.png`);
    assert.equal(staticPicture.status, 200);
    assert.equal(staticPicture.headers['content-type'], 'image/png');
    assert.equal((await request(`${terminal.base}/dashboard/content/01-bundle/picture.png`)).status, 200);
    const slides = await request(`${terminal.base}/dashboard/slides/`);
    assert.equal(slides.status, 200);
    assert.equal(slides.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(String(slides.headers['content-security-policy']), /^sandbox allow-scripts/);
    // The bundled reveal.js the resource asks for (4.X), beneath the slides' own files.
    const reveal = await request(`${terminal.base}/dashboard/slides/dist/reveal.js`);
    assert.equal(reveal.status, 200);
    assert.match(reveal.body, /reveal\.js 4\.\d+\.\d+/);
    assert.equal(reveal.headers['content-type'], 'text/javascript; charset=utf-8');
    const config = readFileSync(path.join(WORKSHOP, 'config.yaml'), 'utf8');
    for (const tail of [
      'slides/..%2f..%2fpackage.json', // out of the bundled library's folder
      'slides/dist/%2e%2e/%2e%2e/reveal.js-5/package.json',
      'content/leak.txt', // static/leak.txt → ../config.yaml
      'slides/leak/10-write.sh', // slides/leak → ../setup.d
      'slides/..%2fconfig.yaml',
      'slides/%2e%2e/config.yaml',
      'slides/images/%2e%2e/%2e%2e/config.yaml',
      'content/%2e%2e/config.yaml',
      'content/%2e%2e/static/%2e%2e/config.yaml',
      'content/%2e%2e/%2e%2e/resources/workshop.yaml',
      'slides/%2e%2e/setup.d/10-write.sh',
    ]) {
      const answer = await request(`${terminal.base}/dashboard/${tail}`);
      assert.equal(answer.status, 404, tail);
      assert.ok(!answer.body.includes(config.slice(0, 30)) && !answer.body.includes('FIXTURE'), tail);
    }
  });

  test('in Chromium: the pages in order with their titles, both pictures, the tabs, the slides, a split terminal', async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${proxy.base}/dashboard/`);
    await page.waitForSelector('#wt-page[data-page="00-overview"]');
    assert.deepEqual(await page.locator('.wt-page-list option').allTextContents(), [
      '1. Overview',
      '2. Bundle, titled by config.yaml',
      '3. A section',
      '4. Inside the section',
      '5. AsciiDoc Page',
      '6. 04 Broken',
    ]);
    assert.equal(await page.textContent('#wt-page h1.wt-page-title'), '1: Overview');
    assert.equal(await page.textContent('.wt-workshop-name'), 'Educates fixture, full pathway');
    await page.waitForFunction(
      () => (document.querySelector('#static-picture') as HTMLImageElement).naturalWidth === 4,
    );
    assert.match(String(await page.textContent('.wt-problems')), /04-broken.*front matter is not valid YAML/);
    // The resource turns the editor on: its tab, loaded when first opened.
    assert.deepEqual(await page.locator('.wt-tab:visible').allTextContents(), [
      'Terminal',
      'Editor',
      'Slides',
      'Docs',
      'Shell',
    ]);

    // Split: two terminals; execute-2 runs in the second.
    await eventually(
      () => terminal.server.sessions.get('1')?.info().pages && terminal.server.sessions.get('2')?.info().pages,
      10_000,
      'terminals 1 and 2',
    );
    assert.equal(await page.locator('.wt-terminal-stack .wt-terminal-slot').count(), 2);
    await page.locator('.wt-action', { hasText: 'educates-ran-in-2' }).click();
    const file = path.join(terminal.home, 'educates-ran-in-2');
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '', 10_000, 'educates-ran-in-2');
    assert.equal(Number(readFileSync(file, 'utf8')), terminal.server.sessions.get('2')?.pid);

    // The bundle's picture, on the next page.
    await page.click('.wt-exit-sign');
    await page.waitForSelector('#wt-page[data-page="01-bundle"]');
    assert.equal(await page.textContent('#wt-page h1.wt-page-title'), '2: Bundle, titled by config.yaml');
    await page.waitForFunction(
      () => (document.querySelector('#bundle-picture') as HTMLImageElement).naturalWidth === 6,
    );

    // The slides run their script, in an origin of their own.
    await page.click('.wt-tab:has-text("Slides")');
    const slide = page.frameLocator('iframe[title="Slides"]').locator('#slide[data-ran="yes"]');
    await slide.waitFor();
    assert.equal(await slide.getAttribute('data-origin'), 'null', 'sandboxed: not the terminal’s origin');
    assert.deepEqual(errors, []);
  });
});
