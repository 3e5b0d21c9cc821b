// The editor:* actions without a browser: each block read from its YAML fields
// (a wrong field is a note in that block only), and each text change applied
// to fixture texts (test/fixtures/editor-edits/), compared byte for byte, with
// the selection it leaves (the YAML one is a .txt so that no formatter tidies it); the bad cases throw a clear Error and leave the
// text as it was.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { projectRoot } from '../common/src/paths.js';
import type { TextSearch } from '../common/src/protocol.js';
import { type Action, parseAction, parseYamlPath } from '../dashboard/src/actions.js';
import { type FenceContext, parseFence } from '../dashboard/src/fences.js';
import type { TextChange, TextState } from '../editor/page/editor-api.js';
import * as edits from '../editor/page/edits.js';

const FIXTURES = path.join(projectRoot(), 'test', 'fixtures', 'editor-edits');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

const context: FenceContext = {
  allSessions: ['1'],
  tabSessions: new Map(),
  tabNames: ['Terminal'],
  appUrl: () => null,
  examinerExists: () => false,
  parseYaml,
};

function actionOf(word: string, body: string): Action & { label?: string } {
  const fence = parseFence(word, body, context);
  assert.equal(fence.kind, 'action', `${word}: ${JSON.stringify(fence)}`);
  if (fence.kind !== 'action') throw new Error('unreachable');
  // What the page reads back from the block's attribute is what the server wrote.
  assert.deepEqual(parseAction(JSON.stringify(fence.action)), fence.action);
  return fence.action;
}

function labelOf(word: string, body: string): string {
  const fence = parseFence(word, body, context);
  assert.equal(fence.kind, 'action');
  return fence.kind === 'action' ? fence.label : '';
}

function noteOf(word: string, body: string): string {
  const fence = parseFence(word, body, context);
  assert.equal(fence.kind, 'unknown', `${word} should be refused: ${JSON.stringify(fence)}`);
  return fence.kind === 'unknown' ? fence.note : '';
}

const state = (text: string, selection: TextState['selection'] = null): TextState => ({ text, selection });

/** Applies a change and returns the text with the selection marked [like this]. */
function marked(change: TextChange, start: TextState): string {
  const { text, selection } = change(start);
  if (!selection) return text;
  return `${text.slice(0, selection.from)}[${text.slice(selection.from, selection.to)}]${text.slice(selection.to)}`;
}

/** The selection a text marked [like this] has, and the text without the marks. */
function unmark(text: string): TextState {
  const from = text.indexOf('[');
  const to = text.indexOf(']') - 1;
  return { text: text.replace('[', '').replace(']', ''), selection: from < 0 ? null : { from, to } };
}

function fails(change: TextChange, start: TextState, message: RegExp): void {
  const copy = structuredClone(start);
  assert.throws(() => change(start), message);
  assert.deepEqual(start, copy, 'the state given is left as it was');
}

const search = (pattern: string, more: Partial<TextSearch> = {}): TextSearch => ({
  pattern,
  isRegex: false,
  group: 0,
  start: null,
  stop: null,
  ...more,
});

const FIVE = 'one\ntwo\nthree\nfour\nfive\n';

describe('editor:* blocks read on the server', () => {
  test('files from the home folder: ~/, $HOME/, Educates’ home, relative; never out of it', () => {
    for (const file of [
      '~/exercises/a.txt',
      '$HOME/exercises/a.txt',
      '/home/eduk8s/exercises/a.txt',
      'exercises/./a.txt',
    ]) {
      assert.deepEqual(actionOf('editor:open-file', `file: ${file}`), {
        type: 'editor-open',
        file: 'exercises/a.txt',
        line: null,
      });
    }
    assert.match(noteOf('editor:open-file', 'file: /etc/passwd'), /must be in the home folder/);
    assert.match(noteOf('editor:open-file', 'file: ~/../alice/x'), /leads out of the home folder/);
    assert.match(noteOf('editor:open-file', 'line: 3'), /file is missing/);
    assert.match(noteOf('editor:open-file', 'file: ~/\nline: -2'), /must name something|line must be a line number/);
    assert.match(noteOf('editor:open-file', 'file: ~/a\nline: -2'), /line must be a line number: 1 or more/);
    assert.match(noteOf('editor:create-file', 'file: [a\ntext: x'), /not valid YAML/);
    assert.equal(
      labelOf('editor:open-file', 'file: ~/exercises/a.txt\nline: 3'),
      'Open ~/exercises/a.txt at line 3 in the editor',
    );
  });

  test('the line actions: counts in the label, text kept as written (its last line break too)', () => {
    const action = actionOf('editor:insert-lines-after-line', 'file: ~/s.txt\nline: 5\ntext: |\n  a\n  b\n');
    assert.deepEqual(action, {
      type: 'editor-edit',
      file: 's.txt',
      create: false,
      edit: { op: 'append-lines-after-line', line: 5, text: 'a\nb\n' },
    });
    assert.equal(
      labelOf('editor:append-lines-after-line', 'file: ~/exercises/sample.txt\nline: 5\ntext: |\n  a\n  b\n'),
      'Insert 2 lines after line 5 of ~/exercises/sample.txt',
    );
    assert.equal(actionOf('editor:append-lines-to-file', 'file: a\ntext: x').type, 'editor-edit');
    assert.equal((actionOf('editor:append-lines-to-file', 'file: a\ntext: x') as { create: boolean }).create, true);
    assert.match(noteOf('editor:insert-lines-before-line', 'file: a\ntext: x'), /line is missing/);
    assert.match(noteOf('editor:delete-lines-in-range', 'file: a\nstart: 0'), /start must be a line number/);
    assert.match(
      noteOf('editor:delete-lines-in-range', 'file: a\nstart: 5\nstop: 3'),
      /stop \(3\) must not be before start \(5\)/,
    );
    assert.match(noteOf('editor:append-lines-after-match', 'file: a\nmatch: "  "\ntext: x'), /match must be some text/);
    assert.deepEqual((actionOf('editor:select-lines-in-range', 'file: a\nstart: 3') as { edit: unknown }).edit, {
      op: 'select-lines-in-range',
      start: 3,
      stop: 3,
    });
  });

  test('searches: a regular expression is compiled, its group checked, start and stop whole numbers', () => {
    const action = actionOf(
      'editor:select-matching-text',
      'file: a\ntext: "image: (.*)"\nisRegex: true\ngroup: 1\nstart: -5',
    );
    assert.deepEqual((action as { edit: unknown }).edit, {
      op: 'select-matching-text',
      search: { pattern: 'image: (.*)', isRegex: true, group: 1, start: -5, stop: null },
      before: null,
      after: null,
    });
    assert.match(
      noteOf('editor:select-matching-text', 'file: a\ntext: "(unclosed"\nisRegex: true'),
      /not a valid regular expression/,
    );
    assert.match(
      noteOf('editor:select-matching-text', 'file: a\ntext: "a(b)"\nisRegex: true\ngroup: 2'),
      /group 2 is not in the pattern \(it has 1\)/,
    );
    assert.match(noteOf('editor:replace-matching-text', 'file: a\nmatch: x'), /replacement is missing/);
    assert.match(
      noteOf('editor:replace-matching-text', 'file: a\nmatch: x\nreplacement: y\ncount: -3'),
      /count must be -1/,
    );
    assert.match(
      noteOf('editor:delete-matching-lines', 'file: a\nmatch: "[x"\nisRegex: true'),
      /not a valid regular expression/,
    );
    assert.equal(
      labelOf(
        'editor:replace-matching-text',
        'file: ~/a\nmatch: "image: (.*)"\nreplacement: x\nisRegex: true\ncount: -1',
      ),
      'Replace every match of /image: (.*)/ in ~/a with “x”',
    );
  });

  test('YAML paths: keys, [n], [key=value], ["a.b"]; a path that cannot be read is a note', () => {
    assert.deepEqual(parseYamlPath('spec.template.spec.containers[name=nginx].image'), [
      'spec',
      'template',
      'spec',
      'containers',
      { key: 'name', value: 'nginx' },
      'image',
    ]);
    assert.deepEqual(parseYamlPath('data["index.html"]'), ['data', 'index.html']);
    assert.deepEqual(parseYamlPath('items[-1]'), ['items', -1]);
    assert.throws(() => parseYamlPath('a[0'), /not closed/);
    assert.throws(() => parseYamlPath('a..b'), /empty key/);
    assert.match(
      noteOf('editor:set-yaml-value', 'file: a.yaml\npath: spec[x\nvalue: 1'),
      /path spec\[x cannot be read/,
    );
    assert.match(noteOf('editor:set-yaml-value', 'file: a.yaml\npath: spec'), /value is missing/);
    assert.match(noteOf('editor:merge-yaml-values', 'file: a.yaml\npath: a\nvalue: 3'), /value must be a mapping/);
    assert.equal(
      labelOf('editor:set-yaml-value', 'file: ~/d.yaml\npath: spec.replicas\nvalue: 3'),
      'Set spec.replicas in ~/d.yaml to 3',
    );
    assert.deepEqual((actionOf('editor:select-yaml-path', 'file: a.yaml') as { edit: unknown }).edit, {
      op: 'select-yaml-path',
      path: [],
    });
  });

  test('terminals: a dashboard tab per editor terminal; execute-command unavailable with a note', () => {
    assert.deepEqual(actionOf('editor:send-to-terminal', 'text: ls\nsession: 1'), {
      type: 'editor-terminal',
      op: 'send',
      name: 'Terminal (1)',
      session: 'editor-1',
      text: 'ls',
      endl: true,
    });
    assert.deepEqual(actionOf('editor:open-terminal', ''), {
      type: 'editor-terminal',
      op: 'open',
      name: 'Terminal (educates)',
      session: 'editor-educates',
      text: '',
      endl: true,
    });
    assert.match(noteOf('editor:close-terminal', 'session: "../x"'), /session must be a name/);
    const unsupported = actionOf('editor:execute-command', 'command: workbench.action.openSettings');
    assert.equal(unsupported.type, 'unavailable');
    assert.match(unsupported.type === 'unavailable' ? unsupported.reason : '', /not VS Code/);
  });

  test('the page refuses an action attribute it cannot trust', () => {
    const bad = [
      { type: 'editor-edit', file: '', create: false, edit: { op: 'delete-text-selection' } },
      { type: 'editor-edit', file: 'a', create: false, edit: { op: 'insert-lines-before-line', line: 0, text: '' } },
      { type: 'editor-edit', file: 'a', create: false, edit: { op: 'set-yaml-value', path: [], value: 1 } },
      { type: 'editor-edit', file: 'a', create: false, edit: { op: 'no-such-op' } },
      { type: 'editor-terminal', op: 'open', name: 'x', session: 'Bad Session', text: '', endl: true },
    ];
    for (const action of bad) assert.equal(parseAction(JSON.stringify(action)), null, JSON.stringify(action));
  });
});

describe('editor:* text changes', () => {
  test('create-file: the whole text, a line break added at its end', () => {
    assert.equal(edits.createFile('a\nb')(state('old\n')).text, 'a\nb\n');
    assert.equal(edits.createFile('')(state('old\n')).text, '');
  });

  test('append and prepend lines; a file without a final line break gets one first', () => {
    assert.equal(marked(edits.appendLines('six'), state(FIVE)), `${FIVE}[six\n]`);
    assert.equal(marked(edits.appendLines('b\n'), state('a')), 'a\n[b\n]');
    assert.equal(marked(edits.appendLines('x\n'), state('')), '[x\n]');
    assert.equal(marked(edits.prependLines('zero\n'), state(FIVE)), `[zero\n]${FIVE}`);
  });

  test('insert before and after a line: 1-based, the end of the file allowed, past it refused', () => {
    assert.equal(marked(edits.insertLinesBeforeLine(3, 'new'), state(FIVE)), 'one\ntwo\n[new\n]three\nfour\nfive\n');
    assert.equal(marked(edits.appendLinesAfterLine(3, 'new\n'), state(FIVE)), 'one\ntwo\nthree\n[new\n]four\nfive\n');
    assert.equal(marked(edits.appendLinesAfterLine(5, 'new\n'), state(FIVE)), `${FIVE}[new\n]`);
    assert.equal(marked(edits.insertLinesBeforeLine(6, 'new\n'), state(FIVE)), `${FIVE}[new\n]`);
    fails(edits.insertLinesBeforeLine(7, 'x'), state(FIVE), /line 7 is past the end of the file \(it has 5 lines\)/);
    fails(edits.appendLinesAfterLine(6, 'x'), state(FIVE), /line 6 is past the end/);
    fails(edits.appendLinesAfterLine(1, 'x'), state(''), /it is empty/);
    // A file of \r\n lines keeps them.
    assert.equal(edits.appendLinesAfterLine(1, 'x\ny\n')(state('a\r\nb\r\n')).text, 'a\r\nx\r\ny\r\nb\r\n');
  });

  test('insert before and after a match: the first line holding the text (spaces around it ignored)', () => {
    const config = fixture('config.txt');
    assert.equal(
      edits.appendLinesAfterMatch('port: 5432', '    name: mydb\n')(state(config)).text,
      config.replace('port: 5432\n', 'port: 5432\n    name: mydb\n'),
    );
    assert.equal(
      edits.insertLinesBeforeMatch('  cache:  ', '# Cache below\n')(state(config)).text,
      config.replace('cache:\n', '# Cache below\ncache:\n'),
    );
    fails(edits.appendLinesAfterMatch('nowhere', 'x'), state(config), /no line of the file contains "nowhere"/);
  });

  test('select-matching-text: plain, regular expression, group, range, lines around, several lines', () => {
    const deployment = fixture('select.txt');
    const at = (change: TextChange) => marked(change, state(deployment));
    assert.match(at(edits.selectMatchingText(search('nginx:1.19'), null)), /image: \[nginx:1\.19\]\n/);
    assert.match(
      at(edits.selectMatchingText(search('image: (.*)', { isRegex: true }), null)),
      /\[image: nginx:1\.19\]/,
    );
    assert.match(
      at(edits.selectMatchingText(search('image: (.*)', { isRegex: true, group: 1 }), null)),
      /image: \[nginx:1\.19\]/,
    );
    // Lines 14 up to 17 hold the second image: the sidecar's.
    assert.match(
      at(edits.selectMatchingText(search('image: (.*)', { isRegex: true, group: 1, start: 14, stop: 17 }), null)),
      /image: \[busybox:latest\]/,
    );
    // From the end: -5 is the fifth line from the end, counting the empty one after the last line break.
    assert.match(
      at(edits.selectMatchingText(search('image: (.*)', { isRegex: true, group: 1, start: -5 }), null)),
      /image: \[busybox:latest\]/,
    );
    // before/after 0: the whole line, its line break included.
    assert.match(
      at(edits.selectMatchingText(search('replicas: 3'), { before: 0, after: 0 })),
      /\n\[ {2}replicas: 3\n\] {2}template/,
    );
    assert.match(
      at(edits.selectMatchingText(search('replicas: 3'), { before: 1, after: 1 })),
      /\n\[spec:\n {2}replicas: 3\n {2}template:\n\]/,
    );
    assert.ok(at(edits.selectMatchingText(search('replicas: 3'), { before: -1, after: 0 })).startsWith('[apiVersion'));
    assert.ok(
      at(edits.selectMatchingText(search('replicas: 3'), { before: 0, after: -1 })).endsWith('busybox:latest\n]'),
    );
    // A text of several lines is looked for as one.
    assert.match(
      at(edits.selectMatchingText(search('      - name: nginx\n        image: nginx:1.19'), null)),
      /\n\[ {6}- name: nginx\n {8}image: nginx:1\.19\]\n/,
    );
    assert.match(
      at(edits.selectMatchingText(search('- name: (.*)\n +image: (.*)', { isRegex: true, group: 2 }), null)),
      /image: \[nginx:1\.19\]/,
    );
    const file = state(deployment);
    fails(edits.selectMatchingText(search('nginx:2'), null), file, /the text "nginx:2" matches nothing in the file/);
    fails(edits.selectMatchingText(search('(', { isRegex: true }), null), file, /not a valid regular expression/);
    fails(edits.selectMatchingText(search('a(b)?c', { isRegex: true, group: 3 }), null), file, /no group 3/);
    fails(edits.selectMatchingText(search('image', { start: 40 }), null), file, /start 40 is past the end/);
    fails(
      edits.selectMatchingText(search('image', { start: 5, stop: 5 }), null),
      file,
      /there is no line from start 5 to stop 5/,
    );
    // A group that took no part in the match selects nothing: said, not guessed.
    fails(edits.selectMatchingText(search('kind(: X)?', { isRegex: true, group: 1 }), null), file, /matches nothing/);
  });

  test('select-lines-in-range: whole lines, both ends included', () => {
    assert.equal(marked(edits.selectLinesInRange(2, 4), state(FIVE)), 'one\n[two\nthree\nfour\n]five\n');
    assert.equal(marked(edits.selectLinesInRange(5, 5), state('a\nb\nc\nd\ne')), 'a\nb\nc\nd\n[e]');
    fails(edits.selectLinesInRange(4, 9), state(FIVE), /stop 9 is past the end of the file \(it has 5 lines\)/);
  });

  test('selections: replace, delete (nothing selected: nothing done), insert before, append after', () => {
    const selected = unmark('one\n[two\nthree\n]four\n');
    assert.equal(marked(edits.replaceSelection('TWO\n'), selected), 'one\n[TWO\n]four\n');
    assert.equal(marked(edits.deleteSelection(), selected), 'one\n[]four\n');
    assert.deepEqual(edits.deleteSelection()(state(FIVE)), state(FIVE));
    assert.deepEqual(edits.deleteSelection()(state(FIVE, { from: 3, to: 3 })), state(FIVE, { from: 3, to: 3 }));
    assert.equal(marked(edits.insertLinesBeforeSelection('# start'), selected), 'one\n[# start\n]two\nthree\nfour\n');
    assert.equal(marked(edits.appendLinesAfterSelection('# end'), selected), 'one\ntwo\nthree\n[# end\n]four\n');
    // A selection inside a line: the lines go after that line.
    const inside = unmark('image: [nginx]:1.19\nports:\n');
    assert.equal(marked(edits.appendLinesAfterSelection('x'), inside), 'image: nginx:1.19\n[x\n]ports:\n');
    assert.equal(marked(edits.replaceSelection('alpine'), inside), 'image: [alpine]:1.19\nports:\n');
    fails(edits.replaceSelection('x'), state(FIVE), /nothing is selected in the file/);
    fails(edits.insertLinesBeforeSelection('x'), state(FIVE), /nothing is selected/);
  });

  test('replace-matching-text: the first, a count, every one; a group; a range; several lines', () => {
    const text = fixture('replace.txt');
    const replace = (s: TextSearch, by: string, count = 1) => edits.replaceMatchingText(s, by, count)(state(text)).text;
    assert.equal(replace(search('nginx:1.19'), 'nginx:1.21'), text.replace('nginx:1.19', 'nginx:1.21'));
    assert.equal(
      replace(search('image: (.*)', { isRegex: true }), 'image: x', -1),
      text.replace('image: nginx:1.19', 'image: x').replace('image: busybox:1.35', 'image: x'),
    );
    assert.equal(
      replace(search('image: (.*)', { isRegex: true, start: 14, stop: 18 }), 'image: redis:7'),
      text.replace('image: busybox:1.35', 'image: redis:7'),
    );
    assert.equal(
      replace(search('nginx:(.*)', { isRegex: true, group: 1 }), '1.25'),
      text.replace('nginx:1.19', 'nginx:1.25'),
    );
    // The replacement is literal: $1 is not a group here.
    assert.equal(
      replace(search('nginx:1.19'), '$1'),
      text.replace('nginx:1.19', () => '$1'),
    );
    assert.equal(replace(search('a'), 'A', 2), text.replace('a', 'A').replace('a', 'A'));
    assert.equal(
      replace(search('- name: nginx\n        image: nginx:1.19'), '- name: web\n        image: nginx:1.25'),
      text.replace('name: nginx\n        image: nginx:1.19', 'name: web\n        image: nginx:1.25'),
    );
    const result = edits.replaceMatchingText(search('o'), '00', -1)(state('foo boo\n'));
    assert.equal(
      marked(() => result, state('')),
      'f0000 b00[00]\n',
    );
    fails(edits.replaceMatchingText(search('nginx:9'), 'x', 1), state(text), /matches nothing/);
  });

  test('delete and replace lines in a range; at the end of a file with and without its last line break', () => {
    assert.equal(marked(edits.deleteLinesInRange(3, 3), state(FIVE)), 'one\ntwo\n[]four\nfive\n');
    assert.equal(edits.deleteLinesInRange(4, 5)(state(FIVE)).text, 'one\ntwo\nthree\n');
    assert.equal(edits.deleteLinesInRange(4, 5)(state('one\ntwo\nthree\nfour\nfive')).text, 'one\ntwo\nthree');
    assert.equal(edits.deleteLinesInRange(1, 5)(state(FIVE)).text, '');
    fails(edits.deleteLinesInRange(5, 6), state(FIVE), /stop 6 is past the end/);
    assert.equal(marked(edits.replaceLinesInRange(2, 4, 'X\nY'), state(FIVE)), 'one\n[X\nY\n]five\n');
    assert.equal(
      edits.replaceLinesInRange(4, 5, 'end\n')(state('one\ntwo\nthree\nfour\nfive')).text,
      'one\ntwo\nthree\nend',
    );
    fails(edits.replaceLinesInRange(6, 6, 'x'), state(FIVE), /start 6 is past the end/);
  });

  test('delete-matching-lines: the first line, lines before and after (-1: all), a regular expression', () => {
    const config = fixture('config.txt');
    assert.equal(
      edits.deleteMatchingLines('# TODO', false, { before: 0, after: 0 })(state(config)).text,
      config.replace('# TODO: remove debug\n', ''),
    );
    assert.equal(
      edits.deleteMatchingLines('^\\s*#.*TODO', true, { before: 0, after: 1 })(state(config)).text,
      config.replace('# TODO: remove debug\ndebug: true\n', ''),
    );
    assert.equal(
      edits.deleteMatchingLines('host: localhost', false, { before: 1, after: 1 })(state(config)).text,
      config.replace('database:\n  host: localhost\n  port: 5432\n', ''),
    );
    assert.equal(
      edits.deleteMatchingLines('cache:', false, { before: 0, after: -1 })(state(config)).text,
      config.slice(0, config.indexOf('cache:')),
    );
    fails(
      edits.deleteMatchingLines('nowhere', false, { before: 0, after: 0 }),
      state(config),
      /no line of the file contains "nowhere"/,
    );
  });
});

describe('editor:* YAML changes', () => {
  const deployment = fixture('deployment-yaml.txt');
  const yamlOf = (change: TextChange, text = deployment) => change(state(text)).text;
  const p = parseYamlPath;

  test('set-yaml-value: a value changed, its comment kept, the rest of the file byte for byte', () => {
    assert.equal(
      yamlOf(edits.setYamlValue(p('spec.replicas'), 3)),
      deployment.replace('replicas: 1   # how many', 'replicas: 3   # how many'),
    );
    const made = yamlOf(edits.setYamlValue(p('spec.selector.matchLabels.app'), 'myapp'));
    assert.ok(made.startsWith(deployment.slice(0, deployment.indexOf('  template:'))), made);
    assert.match(made, /\n {2}selector:\n {4}matchLabels:\n {6}app: myapp\n/);
    // The flow style and spacing of untouched lines stay as they were.
    assert.match(made, /tags: \[alpha,beta\]/);
    assert.equal(
      yamlOf(edits.setYamlValue(p('spec.template.spec.containers[name=nginx].image'), 'nginx:1.25')),
      deployment.replace('image: nginx:latest', 'image: nginx:1.25'),
    );
    assert.equal(
      yamlOf(edits.setYamlValue(p('config.debug'), false)),
      deployment.replace('{debug: true, verbose: false}', '{debug: false, verbose: false}'),
    );
  });

  test('add, insert, replace and delete items; merge keys; the list style of the file kept', () => {
    const added = yamlOf(edits.addYamlItem(p('spec.template.spec.containers'), { name: 'sidecar', image: 'busybox' }));
    assert.equal(
      added,
      deployment.replace(
        '        - containerPort: 80\n',
        '        - containerPort: 80\n      - name: sidecar\n        image: busybox\n',
      ),
    );
    const inserted = yamlOf(edits.insertYamlItem(p('spec.template.spec.containers'), 0, { name: 'init' }));
    assert.match(inserted, /containers:\n {6}- name: init\n {6}- name: nginx\n/);
    const replaced = yamlOf(
      edits.replaceYamlItem(p('spec.template.spec.containers[0]'), { name: 'web', image: 'httpd' }),
    );
    assert.match(replaced, /containers:\n {6}- name: web\n {8}image: httpd\nconfig:/);
    assert.doesNotMatch(replaced, /nginx/);
    assert.equal(yamlOf(edits.deleteYamlValue(p('metadata.labels.tier'))), deployment.replace('    tier: web\n', ''));
    const merged = yamlOf(edits.mergeYamlValues(p('metadata.labels'), { app: 'other', version: 'v2' }));
    assert.match(merged, /labels:\n {4}app: other\n {4}tier: web\n {4}version: v2\n/);
    assert.match(merged, /# Environment labels\n/);
    assert.match(
      yamlOf(edits.insertValueIntoYaml(p('spec.template.spec.containers'), [{ name: 'a' }, { name: 'b' }])),
      /- name: a\n {6}- name: b\n/,
    );
  });

  test('select-yaml-path: a key with its value, an item, the whole document; the text unchanged', () => {
    const selected = (path: string) => marked(edits.selectYamlPath(p(path)), state(deployment));
    assert.match(selected('spec.replicas'), /\[replicas: 1\] {3}# how many/);
    assert.match(selected('metadata.labels'), /\[labels:\n {4}app: myapp\n {4}tier: web\]\n/);
    assert.match(selected('spec.template.spec.containers[name=nginx]'), /\[name: nginx\n[^[]*containerPort: 80\]/);
    assert.match(selected('metadata["labels"].app'), /\[app: myapp\]/);
    assert.ok(selected('').startsWith('[apiVersion'));
    assert.equal(edits.selectYamlPath(p('spec'))(state(deployment)).text, deployment);
  });

  test('bad paths and files: a clear Error, the text as it was', () => {
    const file = state(deployment);
    fails(edits.deleteYamlValue(p('spec.nothing')), file, /spec\.nothing is not in the file/);
    fails(edits.addYamlItem(p('spec.replicas'), 1), file, /spec\.replicas is not a list/);
    fails(edits.setYamlValue(p('spec.replicas.deeper'), 1), file, /spec\.replicas is not a mapping/);
    fails(edits.replaceYamlItem(p('spec.template.spec.containers[5]'), {}), file, /has no item 5 \(it has 1\)/);
    fails(
      edits.replaceYamlItem(p('spec.template.spec.containers[name=redis]'), {}),
      file,
      /no item of spec\.template\.spec\.containers has name=redis/,
    );
    fails(edits.insertYamlItem(p('spec.template.spec.containers'), 3, {}), file, /there is no place 3/);
    fails(edits.mergeYamlValues(p('spec.replicas'), { a: 1 }), file, /is not a mapping/);
    fails(edits.setYamlValue(p('a'), 1), state('a: [\n'), /the file is not valid YAML/);
    fails(edits.setYamlValue(p('a'), 1), state(''), /holds no YAML document/);
  });

  test('a file of several documents: the first one changed, the others as they were', () => {
    const text = 'a: 1\n---\nb:   [x,y]\n';
    assert.equal(yamlOf(edits.setYamlValue(p('a'), 2), text), 'a: 2\n---\nb:   [x,y]\n');
  });
});
