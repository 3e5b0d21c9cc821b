// The editor:* blocks Educates documents, read from their YAML fields into
// typed actions that say what they will do ("Insert 2 lines after line 5 of
// ~/exercises/sample.txt"). A wrong field (no file, a line below 1, a regular
// expression that does not compile, a YAML path that cannot be read) is a
// problem shown in that block only. Files are named from the home folder: ~/,
// $HOME/ and Educates' own home (/home/eduk8s/) are the same, relative paths are
// from home, and nothing may lead out of it (the file API checks again).
//
// Educates' editor:*-terminal blocks drive terminals inside VS Code, apart from
// the dashboard's. Here each of them is a terminal tab of the dashboard named
// "Terminal (<session>)" on session editor-<session>, made by the first block
// that needs it; close-terminal removes the tab (its shell goes on, as for any
// terminal tab a page closes). editor:execute-command runs a VS Code command:
// there is no VS Code here, so the block says so and does nothing.
import type { TextSearch, YamlStep } from '../../common/src/protocol.js';
import { type Action, parseYamlPath, type TextEdit } from './actions.js';
import { booleanField, FenceProblem, optionalText, requiredText } from './fence-fields.js';

/** Every editor:* action Educates documents, the deprecated names included. */
export const EDITOR_ACTIONS = [
  'editor:open-file',
  'editor:create-file',
  'editor:create-directory',
  'editor:append-lines-to-file',
  'editor:prepend-lines-to-file',
  'editor:insert-lines-before-line',
  'editor:append-lines-after-line',
  'editor:insert-lines-after-line',
  'editor:append-lines-after-match',
  'editor:insert-lines-before-match',
  'editor:select-matching-text',
  'editor:select-lines-in-range',
  'editor:replace-text-selection',
  'editor:delete-text-selection',
  'editor:insert-lines-before-selection',
  'editor:append-lines-after-selection',
  'editor:replace-matching-text',
  'editor:delete-lines-in-range',
  'editor:delete-matching-lines',
  'editor:replace-lines-in-range',
  'editor:copy-file',
  'editor:rename-file',
  'editor:close-file',
  'editor:delete-file',
  'editor:set-yaml-value',
  'editor:add-yaml-item',
  'editor:insert-yaml-item',
  'editor:replace-yaml-item',
  'editor:delete-yaml-value',
  'editor:merge-yaml-values',
  'editor:select-yaml-path',
  'editor:insert-value-into-yaml',
  'editor:open-terminal',
  'editor:send-to-terminal',
  'editor:interrupt-terminal',
  'editor:clear-terminal',
  'editor:close-terminal',
  'editor:execute-command',
] as const;

/** The home folder of Educates' sessions, which workshops sometimes write out. */
const EDUCATES_HOME = '/home/eduk8s/';
/** An editor terminal's name: it becomes part of a session name (DASHBOARD_SESSION) after "editor-". */
const TERMINAL_NAME = /^[a-z0-9][a-z0-9-]{0,56}$/i;

export interface EditorFence {
  kind: 'action';
  action: Action;
  label: string;
  shown: string;
  lang: string;
}

function fence(action: Action, label: string, shown = '', lang = ''): EditorFence {
  return { kind: 'action', action, label, shown, lang };
}

export function editorFence(word: string, fields: Record<string, unknown>): EditorFence {
  const op = word.slice('editor:'.length);
  switch (op) {
    case 'open-file': {
      const file = filePath(fields, 'file');
      const line = optionalLine(fields, 'line');
      return fence(
        { type: 'editor-open', file, line },
        `Open ${shownPath(file)}${line === null ? '' : ` at line ${line}`} in the editor`,
      );
    }
    case 'create-directory': {
      const path = filePath(fields, 'directory');
      return fence({ type: 'editor-folder', path }, `Create the folder ${shownPath(path)}`);
    }
    case 'copy-file':
    case 'rename-file': {
      const from = filePath(fields, 'src');
      const to = filePath(fields, 'dest');
      const move = op === 'rename-file';
      const open = booleanField(fields, 'open', true);
      const verb = move ? 'Rename' : 'Copy';
      return fence(
        { type: 'editor-copy', from, to, move, open },
        `${verb} ${shownPath(from)} to ${shownPath(to)}${open ? ' and open it' : ''} (a file there is replaced)`,
      );
    }
    case 'close-file': {
      const file = filePath(fields, 'file');
      return fence({ type: 'editor-close', file }, `Close ${shownPath(file)} in the editor`);
    }
    case 'delete-file': {
      const file = filePath(fields, 'file');
      return fence({ type: 'editor-delete', file }, `Delete the file ${shownPath(file)}`);
    }
    case 'open-terminal':
    case 'send-to-terminal':
    case 'interrupt-terminal':
    case 'clear-terminal':
    case 'close-terminal':
      return terminalFence(op, fields);
    case 'execute-command':
      return fence(
        {
          type: 'unavailable',
          reason:
            'This block runs a VS Code command; the editor here is not VS Code, so it does nothing. The steps it stands for can be done by hand.',
        },
        `Run the VS Code command ${optionalText(fields, 'command') ?? ''} (not available here)`,
      );
    default:
      return editFence(op, fields);
  }
}

/** The blocks that change a file's text or its selection. */
function editFence(op: string, fields: Record<string, unknown>): EditorFence {
  const file = filePath(fields, 'file');
  const where = shownPath(file);
  const edit = (e: TextEdit, label: string, shown = '', lang = '', create = false) =>
    fence({ type: 'editor-edit', file, edit: e, create }, label, shown, lang);
  switch (op) {
    case 'create-file': {
      const text = rawText(fields, 'text', false);
      return edit({ op, text }, `Create ${where} with this text (replacing any there)`, text, '', true);
    }
    case 'append-lines-to-file':
    case 'prepend-lines-to-file': {
      const text = rawText(fields, 'text', true);
      const place = op === 'append-lines-to-file' ? 'at the end of' : 'at the start of';
      return edit({ op, text }, `Add ${lines(text)} ${place} ${where} (made when missing)`, text, '', true);
    }
    case 'insert-lines-before-line':
    case 'append-lines-after-line':
    case 'insert-lines-after-line': {
      const line = requiredLine(fields, 'line');
      const text = rawText(fields, 'text', true);
      const before = op === 'insert-lines-before-line';
      return edit(
        { op: before ? 'insert-lines-before-line' : 'append-lines-after-line', line, text },
        `Insert ${lines(text)} ${before ? 'before' : 'after'} line ${line} of ${where}`,
        text,
      );
    }
    case 'append-lines-after-match':
    case 'insert-lines-before-match': {
      const match = requiredText(fields, 'match');
      if (match.trim() === '') throw new FenceProblem('match must be some text');
      const text = rawText(fields, 'text', true);
      const side = op === 'append-lines-after-match' ? 'after' : 'before';
      return edit(
        { op, match, text },
        `Insert ${lines(text)} ${side} the first line holding “${oneLine(match.trim())}” in ${where}`,
        text,
      );
    }
    case 'select-matching-text': {
      const search = searchFields(fields, 'text');
      const before = wholeField(fields, 'before', null);
      const after = wholeField(fields, 'after', null);
      const around = before !== null || after !== null ? 'the lines of ' : '';
      return edit(
        { op, search, before, after },
        `Select ${around}${describeSearch(search, 'the match of ')} in ${where}`,
        search.pattern.includes('\n') ? search.pattern : '',
      );
    }
    case 'select-lines-in-range':
    case 'delete-lines-in-range': {
      const { start, stop } = rangeFields(fields);
      const verb = op === 'select-lines-in-range' ? 'Select' : 'Delete';
      return edit({ op, start, stop }, `${verb} ${describeRange(start, stop)} of ${where}`);
    }
    case 'replace-lines-in-range': {
      const { start, stop } = rangeFields(fields);
      const text = rawText(fields, 'text', true);
      return edit(
        { op, start, stop, text },
        `Replace ${describeRange(start, stop)} of ${where} with ${lines(text)}`,
        text,
      );
    }
    case 'replace-text-selection': {
      const text = rawText(fields, 'text', true);
      return edit({ op, text }, `Replace the text selected in ${where} with this`, text);
    }
    case 'delete-text-selection':
      return edit({ op }, `Delete the text selected in ${where}`);
    case 'insert-lines-before-selection':
    case 'append-lines-after-selection': {
      const text = rawText(fields, 'text', true);
      const side = op === 'insert-lines-before-selection' ? 'before' : 'after';
      return edit({ op, text }, `Insert ${lines(text)} ${side} the text selected in ${where}`, text);
    }
    case 'replace-matching-text': {
      const search = searchFields(fields, 'match');
      const replacement = rawText(fields, 'replacement', true);
      const count = wholeField(fields, 'count', 1) || 1;
      if (count < -1) throw new FenceProblem('count must be -1 (every match) or a number of matches');
      const which = count === -1 ? 'every match of ' : count === 1 ? '' : `the first ${count} matches of `;
      const short = !search.pattern.includes('\n') && !replacement.includes('\n');
      return edit(
        { op, search, replacement, count },
        `Replace ${which}${describeSearch(search, '')} in ${where} with ${short ? `“${replacement}”` : 'the text below'}`,
        short ? '' : `${search.pattern}\n⤵ becomes\n${replacement}`,
      );
    }
    case 'delete-matching-lines': {
      const match = requiredText(fields, 'match');
      const isRegex = booleanField(fields, 'isRegex', false);
      if (isRegex) compileOrProblem(match, 'match', 0);
      const before = wholeField(fields, 'before', 0);
      const after = wholeField(fields, 'after', 0);
      const extra = [
        before === 0 ? '' : before < 0 ? 'every line before it' : `${before} before`,
        after === 0 ? '' : after < 0 ? 'every line after it' : `${after} after`,
      ].filter(Boolean);
      const what = isRegex ? `a match of /${oneLine(match)}/` : `“${oneLine(match.trim())}”`;
      return edit(
        { op, match, isRegex, before: before < 0 ? -1 : before, after: after < 0 ? -1 : after },
        `Delete the first line holding ${what}${extra.length ? ` (and ${extra.join(', ')})` : ''} in ${where}`,
      );
    }
    case 'set-yaml-value':
    case 'add-yaml-item':
    case 'replace-yaml-item':
    case 'merge-yaml-values':
    case 'insert-value-into-yaml': {
      const path = yamlPathField(fields, true);
      const value = valueField(fields);
      if (op === 'merge-yaml-values' && (!value || typeof value !== 'object' || Array.isArray(value))) {
        throw new FenceProblem('value must be a mapping of the keys to merge');
      }
      const at = `${yamlPathText(fields)} in ${where}`;
      const scalar = value === null || ['string', 'number', 'boolean'].includes(typeof value);
      const inline = scalar && !String(value).includes('\n') && String(value).length <= 60;
      if (op === 'set-yaml-value' && inline) return edit({ op, path, value }, `Set ${at} to ${String(value)}`);
      const label = {
        'set-yaml-value': `Set ${at} to this value`,
        'add-yaml-item': `Add this item at the end of the list ${at}`,
        'replace-yaml-item': `Replace ${at} with this`,
        'merge-yaml-values': `Set these keys in the mapping ${at}`,
        'insert-value-into-yaml': `Add this to ${at}`,
      }[op];
      return edit({ op, path, value }, label, yamlText(value), 'yaml');
    }
    case 'insert-yaml-item': {
      const path = yamlPathField(fields, true);
      const value = valueField(fields);
      const index = wholeField(fields, 'index', 0);
      if (index < 0) throw new FenceProblem('index must be 0 (the first place) or more');
      return edit(
        { op, path, index, value },
        `Insert this item at place ${index} of the list ${yamlPathText(fields)} in ${where}`,
        yamlText(value),
        'yaml',
      );
    }
    case 'delete-yaml-value': {
      const path = yamlPathField(fields, true);
      return edit({ op, path }, `Delete ${yamlPathText(fields)} from ${where}`);
    }
    case 'select-yaml-path': {
      const path = yamlPathField(fields, false);
      return edit({ op, path }, `Select ${path.length ? yamlPathText(fields) : 'the whole document'} in ${where}`);
    }
    default:
      throw new Error(`editor:${op} is listed as known but not parsed`);
  }
}

function terminalFence(op: string, fields: Record<string, unknown>): EditorFence {
  const name = optionalText(fields, 'session') ?? 'educates';
  if (!TERMINAL_NAME.test(name)) {
    throw new FenceProblem('session must be a name of letters, digits and - (at most 57), or left out');
  }
  const session = `editor-${name.toLowerCase()}`;
  const tab = `Terminal (${name})`;
  const text = op === 'send-to-terminal' ? requiredText(fields, 'text') : '';
  const endl = booleanField(fields, 'endl', true);
  const action = (kind: 'open' | 'send' | 'interrupt' | 'clear' | 'close'): Action => ({
    type: 'editor-terminal',
    op: kind,
    name: tab,
    session,
    text,
    endl,
  });
  switch (op) {
    case 'open-terminal':
      return fence(action('open'), `Open the terminal tab ${tab}`);
    case 'send-to-terminal':
      return fence(action('send'), `${endl ? 'Run' : 'Type'} in the terminal tab ${tab}`, text, endl ? 'bash' : '');
    case 'interrupt-terminal':
      return fence(action('interrupt'), `Interrupt the terminal tab ${tab} (Ctrl+C)`, '<ctrl+c>');
    case 'clear-terminal':
      return fence(action('clear'), `Clear the terminal tab ${tab}`);
    default:
      return fence(action('close'), `Close the terminal tab ${tab}`);
  }
}

// ---- Fields ------------------------------------------------------------------

/** A file or folder from the home folder, as the file API names it. */
function filePath(fields: Record<string, unknown>, name: string): string {
  const raw = requiredText(fields, name).trim();
  if (raw.includes('\0')) throw new FenceProblem(`${name} must be a path`);
  let rest = raw;
  for (const home of ['~/', '$HOME/', EDUCATES_HOME]) {
    if (rest.startsWith(home)) {
      rest = rest.slice(home.length);
      break;
    }
  }
  if (rest.startsWith('/')) {
    throw new FenceProblem(`${name} must be in the home folder: write it ~/… or relative to the home folder`);
  }
  const steps: string[] = [];
  for (const step of rest.split('/')) {
    if (step === '' || step === '.') continue;
    if (step === '..') {
      if (steps.length === 0) throw new FenceProblem(`${name} leads out of the home folder`);
      steps.pop();
    } else steps.push(step);
  }
  if (steps.length === 0)
    throw new FenceProblem(`${name} must name something in the home folder, not the folder itself`);
  return steps.join('/');
}

function shownPath(path: string): string {
  return `~/${path}`;
}

/** Text as the author wrote it (a block scalar keeps its last line break); `required`: the field must be there. */
function rawText(fields: Record<string, unknown>, name: string, required: boolean): string {
  const value = fields[name];
  if (value === undefined || value === null) {
    if (required) throw new FenceProblem(`${name} is missing`);
    return '';
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new FenceProblem(`${name} must be text`);
}

function isWhole(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** A line number (1 or more); null when the field is not there. */
function optionalLine(fields: Record<string, unknown>, name: string): number | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  if (!isWhole(value) || value < 1) throw new FenceProblem(`${name} must be a line number: 1 or more`);
  return value;
}

function requiredLine(fields: Record<string, unknown>, name: string): number {
  const line = optionalLine(fields, name);
  if (line === null) throw new FenceProblem(`${name} is missing`);
  return line;
}

/** A whole number (negative ones mean something to the field: from the end, or all). */
function wholeField<T extends number | null>(fields: Record<string, unknown>, name: string, fallback: T): number | T {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (!isWhole(value)) throw new FenceProblem(`${name} must be a whole number`);
  return value;
}

function rangeFields(fields: Record<string, unknown>): { start: number; stop: number } {
  const start = requiredLine(fields, 'start');
  const stop = optionalLine(fields, 'stop') ?? start;
  if (stop < start) throw new FenceProblem(`stop (${stop}) must not be before start (${start})`);
  return { start, stop };
}

function compileOrProblem(pattern: string, name: string, group: number): void {
  let groups: number;
  try {
    new RegExp(pattern);
    groups = (new RegExp(`${pattern}|`).exec('')?.length ?? 1) - 1;
  } catch (error) {
    throw new FenceProblem(`${name} is not a valid regular expression (${(error as Error).message})`);
  }
  if (group > groups) throw new FenceProblem(`group ${group} is not in the pattern (it has ${groups})`);
}

function searchFields(fields: Record<string, unknown>, name: string): TextSearch {
  const pattern = rawText(fields, name, true);
  if (pattern === '') throw new FenceProblem(`${name} must be some text`);
  const isRegex = booleanField(fields, 'isRegex', false);
  const group = wholeField(fields, 'group', 0);
  if (group < 0) throw new FenceProblem('group must be 0 (the whole match) or more');
  if (isRegex) compileOrProblem(pattern, name, group);
  else if (group !== 0) throw new FenceProblem('group is for a regular expression (isRegex: true)');
  const start = wholeField(fields, 'start', null);
  const stop = wholeField(fields, 'stop', null);
  if (start === 0 || stop === 0)
    throw new FenceProblem('start and stop are line numbers from 1 (negative: from the end)');
  return { pattern, isRegex, group, start, stop };
}

function describeSearch(search: TextSearch, ofPattern: string): string {
  const what = search.isRegex
    ? `${ofPattern}/${oneLine(search.pattern)}/${search.group ? ` (group ${search.group})` : ''}`
    : search.pattern.includes('\n')
      ? 'the text below'
      : `“${search.pattern}”`;
  const from = search.start === null ? '' : ` from line ${search.start}`;
  const to = search.stop === null ? '' : ` up to line ${search.stop}`;
  return `${what}${from}${to}`;
}

function yamlPathField(fields: Record<string, unknown>, required: boolean): YamlStep[] {
  const text = required ? requiredText(fields, 'path') : (optionalText(fields, 'path') ?? '');
  try {
    return parseYamlPath(text.trim());
  } catch (error) {
    throw new FenceProblem(`path ${text} cannot be read: ${(error as Error).message}`);
  }
}

function yamlPathText(fields: Record<string, unknown>): string {
  return String(fields.path ?? '').trim();
}

function valueField(fields: Record<string, unknown>): unknown {
  if (!('value' in fields)) throw new FenceProblem('value is missing');
  return fields.value;
}

/** A value shown as YAML would hold it (JSON is YAML, and needs no library in the renderer's call). */
function yamlText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function lines(text: string): string {
  const count = text.replace(/\n$/, '').split('\n').length;
  return count === 1 ? 'a line' : `${count} lines`;
}

function describeRange(start: number, stop: number): string {
  return start === stop ? `line ${start}` : `lines ${start} to ${stop}`;
}

function oneLine(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first.length > 60 || text.includes('\n') ? `${first.slice(0, 60)}…` : first;
}
