// The workshop dashboard: the sample workshop in test/fixtures/workshop-dashboard,
// read and rendered as the terminal server does at start.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { type Content, loadContent } from '../dashboard/src/content.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop');

/** The workshop folder at `dir`, rendered as the terminal server does at start. */
function render(dir: string, env: Record<string, string> = {}, consoleUrl = ''): Content | null {
  return loadContent({
    dir,
    variables: new Map([['username', 'alice']]),
    env,
    consoleUrl,
    logger: createLogger('test', 'error'),
  });
}

/** The actions a page's HTML holds, as the page's script reads them. */
function actionsOf(html: string): Record<string, unknown>[] {
  return [...html.matchAll(/data-action="([^"]*)"/g)].map((m) =>
    JSON.parse(
      (m[1] as string)
        .replace(/&quot;/g, '"')
        .replace(/&gt;/g, '>')
        .replace(/&lt;/g, '<')
        .replace(/&amp;/g, '&'),
    ),
  );
}

describe('workshop pages, rendered on the server', () => {
  test('variables: built in, declared with a default, overridden by the environment; unknown ones stay', () => {
    const content = render(WORKSHOP, { APP_NAME: 'from-env' });
    const html = content?.pages.get('intro')?.html ?? '';
    assert.match(html, /<span id="user">alice<\/span>/);
    assert.match(html, /<span id="app-name">from-env<\/span>/, 'APP_NAME overrides app_name');
    assert.match(html, /<span id="greeting">hello from the default<\/span>/);
    assert.match(html, /<span id="unknown">%not_a_variable%<\/span>/);
    assert.deepEqual(content?.workshop.tabs[0], { name: 'Docs', url: 'https://docs.example.com/from-env/' });
  });

  test('every action becomes a block the page wires up; nothing else is clickable', () => {
    const content = render(WORKSHOP);
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
      retries: 0,
      delay: 1,
      autostart: false,
    });
    assert.deepEqual(content?.checks.get('fail'), [{ name: 'fail', args: [], timeout: 15 }]);
  });

  test('markup is sanitised; links and images point into the dashboard', () => {
    const content = render(WORKSHOP);
    const intro = content?.pages.get('intro')?.html ?? '';
    assert.doesNotMatch(intro, /onerror/);
    assert.match(intro, /<img id="handler" src="content\/images\/logo.png" \/>/);
    assert.match(content?.pages.get('checks')?.html ?? '', /<a href="\?page=intro#welcome" data-page="intro">/);
    assert.match(intro, /<p class="wt-author-note">Note for the workshop author: execute-7 is not an action/);
    assert.match(intro, /files:download-file is not an action/);
  });

  test('a broken workshop folder is described, not fatal', () => {
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
      writeFileSync(path.join(dir, 'content', 'two.adoc'), '= Two\n');
      const content = render(dir);
      const problems = content?.workshop.problems.join('\n') ?? '';
      assert.match(problems, /two\.adoc is AsciiDoc/);
      assert.match(problems, /"\.\.\/x": not a path under content/);
      assert.match(problems, /three\.md does not exist/);
      assert.match(problems, /terminals must be single/);
      assert.match(content?.pages.get('two')?.html ?? '', /Note for the workshop author: .*AsciiDoc/);
      const one = content?.pages.get('one')?.html ?? '';
      assert.match(one, /terminal:execute: the block is not valid YAML/);
      assert.match(one, /terminal:execute: session must be 1, 2 or 3/);
      assert.equal(actionsOf(one).length, 0);
      assert.equal(render(path.join(dir, 'nothing-here')), null, 'no folder: no workshop');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
