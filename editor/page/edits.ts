// The text changes of the editor:* actions, as Educates documents them: each
// is a TextChange (the editor applies it to a file's text and selection, then
// saves), or throws an Error saying why, so that the file stays as it was.
// Lines are numbered from 1 and ranges include both ends. A file's lines are
// the ones a person counts: "a\nb\n" has two; an editor also shows an empty
// third line after the last line break, which is where text appended goes.
// YAML changes go through the `yaml` package's Document API (comments and
// styles kept) and only the lines they change are replaced in the file, so the
// rest keeps its formatting even where the package would print it otherwise.
// No DOM here: it runs in the page and in the unit tests.
import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Pair,
  parseAllDocuments,
  type ToStringOptions,
  visit,
  Document as YamlDocument,
  type Node as YamlNode,
} from 'yaml';
import type { TextSearch, YamlStep } from '../../common/src/protocol.js';
import type { TextChange, TextState } from './editor-api.js';

/** Lines around a match, for a selection of whole lines; -1 is every line on that side. */
export interface AroundMatch {
  before: number;
  after: number;
}

/** Above this many lines (file times printed text), a YAML change keeps the package's formatting of the whole file. */
const MAX_ALIGNED_CELLS = 4_000_000;

// ---- Lines -------------------------------------------------------------------

interface Lines {
  /** The offset where each line starts, with one more for the empty line after a final line break. */
  starts: number[];
  /** The lines a person counts. */
  count: number;
  /** The file's line break ("\r\n" when it uses those), for the lines put in. */
  eol: string;
}

function linesOf(text: string): Lines {
  const starts = [0];
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  const count = text === '' ? 0 : text.endsWith('\n') ? starts.length - 1 : starts.length;
  return { starts, count, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/** Where line `n` starts; the end of the text for the line after the last. */
function startOf(text: string, lines: Lines, n: number): number {
  return lines.starts[n - 1] ?? text.length;
}

/** Where line `n` ends, its line break included. */
function endOf(text: string, lines: Lines, n: number): number {
  return lines.starts[n] ?? text.length;
}

/** A line's text, without its line break. */
function lineText(text: string, lines: Lines, n: number): string {
  return text.slice(startOf(text, lines, n), endOf(text, lines, n)).replace(/\r?\n$/, '');
}

/** The line (from 1) an offset is on. */
function lineAt(lines: Lines, offset: number): number {
  let low = 0;
  let high = lines.starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((lines.starts[middle] as number) <= offset) low = middle;
    else high = middle - 1;
  }
  return low + 1;
}

function describeCount(count: number): string {
  return count === 0 ? 'it is empty' : `it has ${count} line${count === 1 ? '' : 's'}`;
}

function checkLine(lines: Lines, n: number, what = 'line'): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} ${n} is not a line number (they start at 1)`);
  if (n > lines.count) throw new Error(`${what} ${n} is past the end of the file (${describeCount(lines.count)})`);
}

/** Lines of text as put into a file: ending with a line break (an empty text is one empty line), in the file's own. */
function asLines(text: string, eol: string): string {
  const ended = text.endsWith('\n') ? text : `${text}\n`;
  return eol === '\n' ? ended : ended.replace(/\r?\n/g, eol);
}

/** Puts lines before line `n` (up to one past the last line: the end of the file); they are selected. */
function insertLines(state: TextState, n: number, text: string): TextState {
  const lines = linesOf(state.text);
  if (n > lines.count + 1) throw new Error(`line ${n} is past the end of the file (${describeCount(lines.count)})`);
  const at = startOf(state.text, lines, n);
  const unended = at === state.text.length && state.text !== '' && !state.text.endsWith('\n');
  const lead = unended ? lines.eol : '';
  const block = asLines(text, lines.eol);
  return {
    text: state.text.slice(0, at) + lead + block + state.text.slice(at),
    selection: { from: at + lead.length, to: at + lead.length + block.length },
  };
}

/** The span of lines first to last, with the line break that ends them; at the end of a file without a final one, the one before. */
function lineSpan(text: string, lines: Lines, first: number, last: number): { from: number; to: number } {
  let from = startOf(text, lines, first);
  const to = endOf(text, lines, last);
  if (to === text.length && !text.endsWith('\n') && first > 1) from = endOf(text, lines, first - 1) - lines.eol.length;
  return { from, to };
}

// ---- Searching ---------------------------------------------------------------

/** The lines a search covers, from 1, stop not included; negative numbers count from the end as an editor counts lines. */
function searchRange(lines: Lines, search: TextSearch): { first: number; stop: number } {
  const total = lines.starts.length;
  const resolve = (n: number) => (n < 0 ? total + n + 1 : n);
  const first = Math.max(1, search.start === null ? 1 : resolve(search.start));
  const stop = Math.min(total + 1, search.stop === null ? total + 1 : resolve(search.stop));
  if (first > total)
    throw new Error(`start ${search.start} is past the end of the file (${describeCount(lines.count)})`);
  if (stop <= first) throw new Error(`there is no line from start ${search.start ?? 1} to stop ${search.stop}`);
  return { first, stop };
}

function compile(search: TextSearch, global: boolean): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(search.pattern, global ? 'dg' : 'd');
  } catch (error) {
    throw new Error(`the pattern is not a valid regular expression: ${(error as Error).message}`);
  }
  const groups = (new RegExp(`${search.pattern}|`).exec('')?.length ?? 1) - 1;
  if (search.group > groups) throw new Error(`the pattern has no group ${search.group} (it has ${groups})`);
  return regex;
}

/** The spans (offsets into `text`) of up to `limit` matches of a search, in order. */
function findAll(text: string, search: TextSearch, limit: number): { from: number; to: number }[] {
  const lines = linesOf(text);
  const { first, stop } = searchRange(lines, search);
  const regex = search.isRegex ? compile(search, true) : null;
  const found: { from: number; to: number }[] = [];
  const scan = (part: string, offset: number) => {
    if (regex) {
      regex.lastIndex = 0;
      for (let match = regex.exec(part); match && found.length < limit; match = regex.exec(part)) {
        const span = match.indices?.[search.group];
        if (span) found.push({ from: offset + span[0], to: offset + span[1] });
        // An empty match would be found again at the same place.
        if (match[0] === '') regex.lastIndex++;
      }
      return;
    }
    for (let at = part.indexOf(search.pattern); at !== -1 && found.length < limit; ) {
      found.push({ from: offset + at, to: offset + at + search.pattern.length });
      at = part.indexOf(search.pattern, at + search.pattern.length);
    }
  };
  if (search.pattern.includes('\n')) {
    // A pattern of several lines is looked for in the range as one text (without the last line's break).
    const from = startOf(text, lines, first);
    const to = startOf(text, lines, stop - 1) + lineText(text, lines, stop - 1).length;
    scan(text.slice(from, to), from);
  } else {
    for (let n = first; n < stop && found.length < limit; n++) scan(lineText(text, lines, n), startOf(text, lines, n));
  }
  if (found.length === 0) throw new Error(`${describeSearch(search)} matches nothing in the file`);
  return found;
}

function describeSearch(search: TextSearch): string {
  const what = search.isRegex ? `the pattern /${search.pattern}/` : `the text "${search.pattern}"`;
  const group = search.isRegex && search.group > 0 ? ` (group ${search.group})` : '';
  const range =
    search.start !== null || search.stop !== null
      ? ` from line ${search.start ?? 1}${search.stop === null ? '' : ` to before line ${search.stop}`}`
      : '';
  return `${what}${group}${range}`;
}

/** The first line that holds `match` (plain text, its spaces around ignored, or a regular expression). */
function lineMatching(text: string, lines: Lines, match: string, isRegex: boolean): number {
  const test = isRegex
    ? compile({ pattern: match, isRegex: true, group: 0, start: null, stop: null }, false)
    : { test: (line: string) => line.includes(match.trim()) };
  for (let n = 1; n <= lines.count; n++) if (test.test(lineText(text, lines, n))) return n;
  throw new Error(`no line of the file contains ${isRegex ? `a match of /${match}/` : `"${match.trim()}"`}`);
}

// ---- Whole files and lines -----------------------------------------------------

/** editor:create-file: the file's text becomes `text` (ending with a line break unless empty). */
export function createFile(text: string): TextChange {
  return () => ({ text: text === '' || text.endsWith('\n') ? text : `${text}\n`, selection: { from: 0, to: 0 } });
}

/** editor:append-lines-to-file. */
export function appendLines(text: string): TextChange {
  return (state) => insertLines(state, linesOf(state.text).count + 1, text);
}

/** editor:prepend-lines-to-file. */
export function prependLines(text: string): TextChange {
  return (state) => insertLines(state, 1, text);
}

/** editor:insert-lines-before-line (line may be one past the last: the end of the file). */
export function insertLinesBeforeLine(line: number, text: string): TextChange {
  return (state) => {
    if (!Number.isInteger(line) || line < 1) throw new Error(`line ${line} is not a line number (they start at 1)`);
    return insertLines(state, line, text);
  };
}

/** editor:append-lines-after-line (and the older insert-lines-after-line). */
export function appendLinesAfterLine(line: number, text: string): TextChange {
  return (state) => {
    checkLine(linesOf(state.text), line);
    return insertLines(state, line + 1, text);
  };
}

/** editor:insert-lines-before-match: before the first line holding `match`. */
export function insertLinesBeforeMatch(match: string, text: string): TextChange {
  return (state) => insertLines(state, lineMatching(state.text, linesOf(state.text), match, false), text);
}

/** editor:append-lines-after-match: after the first line holding `match`. */
export function appendLinesAfterMatch(match: string, text: string): TextChange {
  return (state) => insertLines(state, lineMatching(state.text, linesOf(state.text), match, false) + 1, text);
}

/** editor:select-lines-in-range: lines start to stop, whole. */
export function selectLinesInRange(start: number, stop: number): TextChange {
  return (state) => {
    const lines = linesOf(state.text);
    checkRange(lines, start, stop);
    return {
      text: state.text,
      selection: { from: startOf(state.text, lines, start), to: endOf(state.text, lines, stop) },
    };
  };
}

function checkRange(lines: Lines, start: number, stop: number): void {
  checkLine(lines, start, 'start');
  checkLine(lines, stop, 'stop');
  if (stop < start) throw new Error(`stop ${stop} is before start ${start}`);
}

/** editor:delete-lines-in-range. */
export function deleteLinesInRange(start: number, stop: number): TextChange {
  return (state) => {
    const lines = linesOf(state.text);
    checkRange(lines, start, stop);
    return deleteSpan(state.text, lineSpan(state.text, lines, start, stop));
  };
}

function deleteSpan(text: string, span: { from: number; to: number }): TextState {
  return { text: text.slice(0, span.from) + text.slice(span.to), selection: { from: span.from, to: span.from } };
}

/** editor:replace-lines-in-range: lines start to stop become `text`, which is selected. */
export function replaceLinesInRange(start: number, stop: number, text: string): TextChange {
  return (state) => {
    const lines = linesOf(state.text);
    checkRange(lines, start, stop);
    const from = startOf(state.text, lines, start);
    const to = endOf(state.text, lines, stop);
    let block = asLines(text, lines.eol);
    // The last line had no line break: the new last one has none either.
    if (to === state.text.length && !state.text.endsWith('\n')) block = block.slice(0, -lines.eol.length);
    return {
      text: state.text.slice(0, from) + block + state.text.slice(to),
      selection: { from, to: from + block.length },
    };
  };
}

/** editor:delete-matching-lines: the first line holding `match`, with lines before and after it (-1: all). */
export function deleteMatchingLines(match: string, isRegex: boolean, around: AroundMatch): TextChange {
  return (state) => {
    const lines = linesOf(state.text);
    const line = lineMatching(state.text, lines, match, isRegex);
    const first = around.before < 0 ? 1 : Math.max(1, line - around.before);
    const last = around.after < 0 ? lines.count : Math.min(lines.count, line + around.after);
    return deleteSpan(state.text, lineSpan(state.text, lines, first, last));
  };
}

// ---- Selections ----------------------------------------------------------------

/**
 * editor:select-matching-text: the first match; with `around`, whole lines from
 * `before` lines above its first line to `after` lines below its last.
 */
export function selectMatchingText(search: TextSearch, around: AroundMatch | null): TextChange {
  return (state) => {
    const [match] = findAll(state.text, search, 1) as [{ from: number; to: number }];
    if (!around) return { text: state.text, selection: match };
    const lines = linesOf(state.text);
    const total = lines.starts.length;
    const top = lineAt(lines, match.from);
    const bottom = lineAt(lines, match.to);
    const first = around.before < 0 ? 1 : Math.max(1, top - around.before);
    const last = around.after < 0 ? total : Math.min(total, bottom + around.after);
    return {
      text: state.text,
      selection: { from: startOf(state.text, lines, first), to: endOf(state.text, lines, last) },
    };
  };
}

function selectionOf(state: TextState): { from: number; to: number } {
  if (!state.selection) throw new Error('nothing is selected in the file: a block that selects text comes first');
  return state.selection;
}

/** editor:replace-text-selection: the selection (or the cursor's place) becomes `text`, which is selected. */
export function replaceSelection(text: string): TextChange {
  return (state) => {
    const { from, to } = selectionOf(state);
    return {
      text: state.text.slice(0, from) + text + state.text.slice(to),
      selection: { from, to: from + text.length },
    };
  };
}

/** editor:delete-text-selection: nothing when nothing is selected, as Educates documents. */
export function deleteSelection(): TextChange {
  return (state) =>
    state.selection && state.selection.to > state.selection.from ? deleteSpan(state.text, state.selection) : state;
}

/** editor:insert-lines-before-selection: before the line the selection starts on. */
export function insertLinesBeforeSelection(text: string): TextChange {
  return (state) => insertLines(state, lineAt(linesOf(state.text), selectionOf(state).from), text);
}

/** editor:append-lines-after-selection: after the line the selection ends on (a selection of whole lines: after them). */
export function appendLinesAfterSelection(text: string): TextChange {
  return (state) => {
    const { from, to } = selectionOf(state);
    const lines = linesOf(state.text);
    const endsAtLineStart = to > from && lines.starts.includes(to);
    return insertLines(state, endsAtLineStart ? lineAt(lines, to) : lineAt(lines, to) + 1, text);
  };
}

/** editor:replace-matching-text: the first `count` matches (-1: all) become `replacement`; the last one is selected. */
export function replaceMatchingText(search: TextSearch, replacement: string, count: number): TextChange {
  return (state) => {
    const found = findAll(state.text, search, count < 0 ? Number.POSITIVE_INFINITY : Math.max(1, count));
    let text = state.text;
    for (const span of [...found].reverse()) text = text.slice(0, span.from) + replacement + text.slice(span.to);
    const last = found[found.length - 1] as { from: number; to: number };
    const shift =
      (found.length - 1) * replacement.length - found.slice(0, -1).reduce((sum, s) => sum + s.to - s.from, 0);
    const from = last.from + shift;
    return { text, selection: { from, to: from + replacement.length } };
  };
}

// ---- YAML ------------------------------------------------------------------------

/** A YAML path as an author writes it: dots for keys, [n] for items, [key=value] to find one, ["a.b"] for odd keys. */
export function formatYamlPath(path: readonly YamlStep[]): string {
  return path
    .map((step, i) => {
      if (typeof step === 'number') return `[${step}]`;
      if (typeof step === 'object') return `[${step.key}=${step.value}]`;
      return /[.[\]]/.test(step) ? `["${step}"]` : `${i > 0 ? '.' : ''}${step}`;
    })
    .join('');
}

interface Located {
  /** The keys and indexes of the path as the document has them (a key as its scalar's value). */
  keys: unknown[];
  /** The node there, or undefined when the path stops at a key that is not there. */
  node: unknown;
  /** How many steps of the path exist. */
  found: number;
  /** The collection holding the last step found. */
  parent: unknown;
}

/** Follows a path as far as the document goes; throws for a list item that is not there (it cannot be made). */
function locate(doc: Document, path: readonly YamlStep[]): Located {
  let node: unknown = doc.contents;
  let parent: unknown = null;
  const keys: unknown[] = [];
  for (const [i, step] of path.entries()) {
    const where = formatYamlPath(path.slice(0, i)) || 'the document';
    if (typeof step === 'string') {
      if (!isMap(node)) {
        if (node === undefined || node === null || (isScalar(node) && node.value === null)) {
          return { keys, node: undefined, found: i, parent };
        }
        throw new Error(`${where} is not a mapping, so it has no key ${step}`);
      }
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === step);
      if (!pair) return { keys, node: undefined, found: i, parent: node };
      keys.push(isScalar(pair.key) ? pair.key.value : pair.key);
      parent = node;
      node = pair.value;
      continue;
    }
    if (!isSeq(node)) throw new Error(`${where} is not a list, so it has no item ${formatYamlPath([step])}`);
    let index: number;
    if (typeof step === 'number') {
      index = step < 0 ? node.items.length + step : step;
      if (index < 0 || index >= node.items.length) {
        throw new Error(`${where} has no item ${step} (it has ${node.items.length})`);
      }
    } else {
      index = node.items.findIndex((item) => {
        if (!isMap(item)) return false;
        const value = item.get(step.key);
        return value !== undefined && value !== null && String(value) === step.value;
      });
      if (index < 0) throw new Error(`no item of ${where} has ${step.key}=${step.value}`);
    }
    keys.push(index);
    parent = node;
    node = node.items[index];
  }
  return { keys, node, found: path.length, parent };
}

function existing(doc: Document, path: readonly YamlStep[]): Located {
  const located = locate(doc, path);
  if (located.found < path.length) throw new Error(`${formatYamlPath(path)} is not in the file`);
  return located;
}

/** Prints the documents as the file writes them: its indentation, its lists' style, no folding of long lines. */
function styleOf(text: string, doc: Document): ToStringOptions {
  const column = (offset: number) => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  let indent: number | undefined;
  let indentSeq: boolean | undefined;
  visit(doc, {
    Pair(_key, pair: Pair) {
      const key = pair.key as YamlNode | null;
      const value = pair.value as YamlNode | null;
      if (!key?.range || !value?.range) return;
      if (isSeq(value) && !value.flow && indentSeq === undefined) {
        indentSeq = column(value.range[0]) > column(key.range[0]);
      }
      if (isMap(value) && !value.flow && indent === undefined) {
        const step = column(value.range[0]) - column(key.range[0]);
        if (step > 0) indent = step;
      }
    },
  });
  return {
    indent: indent ?? 2,
    indentSeq: indentSeq ?? true,
    lineWidth: 0,
    flowCollectionPadding: !/[[{][^\s\]}\n]/.test(text.replace(/#.*$/gm, '')),
  };
}

/** What a YAML change did besides changing the document: a span to select, or text put in place of a span. */
type YamlOutcome = { select: { from: number; to: number } } | { from: number; to: number; text: string } | undefined;

/** The file's first YAML document changed by `change`; the selection is what changed (or what `change` returns). */
function yamlChange(change: (doc: Document, text: string) => YamlOutcome): TextChange {
  return (state) => {
    const docs = parseAllDocuments(state.text);
    const first = docs[0];
    if (!first) throw new Error('the file holds no YAML document');
    for (const doc of docs) {
      const [error] = doc.errors;
      if (error) throw new Error(`the file is not valid YAML: ${error.message.split('\n')[0]}`);
    }
    const options = styleOf(state.text, first);
    const print = () => docs.map((doc) => doc.toString(options)).join('');
    const before = print();
    const outcome = change(first, state.text);
    if (outcome && 'select' in outcome) return { text: state.text, selection: outcome.select };
    if (outcome) {
      const { from, to, text } = outcome;
      return {
        text: state.text.slice(0, from) + text + state.text.slice(to),
        selection: { from, to: from + text.length },
      };
    }
    return splice(state.text, before, print());
  };
}

/**
 * The file with the lines `before` → `after` changed replaced, the rest as it was: `before`
 * is the file as the package prints it, lined up with the file line by line.
 */
function splice(original: string, before: string, after: string): TextState {
  const lines = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const was = lines(before);
  const now = lines(after);
  let head = 0;
  while (head < was.length && head < now.length && was[head] === now[head]) head++;
  let tail = 0;
  while (
    tail < was.length - head &&
    tail < now.length - head &&
    was[was.length - 1 - tail] === now[now.length - 1 - tail]
  ) {
    tail++;
  }
  if (head === was.length && head === now.length) return { text: original, selection: null };
  const file = lines(original);
  const match = before === original ? was.map((_line, i) => i) : alignLines(was, file);
  if (!match) return { text: after, selection: null };
  // Widen the changed lines to lines the file has as printed, so the replaced part is exactly known.
  let top = head - 1;
  while (top >= 0 && (match[top] ?? -1) < 0) top--;
  let bottom = was.length - tail;
  while (bottom < was.length && (match[bottom] ?? -1) < 0) bottom++;
  const fileFrom = top >= 0 ? (match[top] as number) + 1 : 0;
  const fileTo = bottom < was.length ? (match[bottom] as number) : file.length;
  if (fileTo - fileFrom === bottom - (top + 1)) {
    // Line for line (the package printed each of them its own way): the file's own lines around the change.
    const above = file.slice(fileFrom, fileFrom + head - (top + 1));
    const below = file.slice(fileTo - (bottom - (was.length - tail)), fileTo);
    const put = now.slice(head, now.length - tail).join('');
    const kept = file.slice(0, fileFrom).join('') + above.join('');
    return {
      text: kept + put + below.join('') + file.slice(fileTo).join(''),
      selection: { from: kept.length, to: kept.length + put.length },
    };
  }
  const put = now.slice(top + 1, now.length - (was.length - bottom)).join('');
  const kept = file.slice(0, fileFrom).join('');
  return {
    text: kept + put + file.slice(fileTo).join(''),
    selection: { from: kept.length, to: kept.length + put.length },
  };
}

/** For each line of `a`, the line of `b` it is in a longest common sequence with, or -1; null when too large to compute. */
function alignLines(a: string[], b: string[]): number[] | null {
  if (a.length * b.length > MAX_ALIGNED_CELLS) return null;
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] =
        a[i] === b[j]
          ? (table[(i + 1) * width + j + 1] as number) + 1
          : Math.max(table[(i + 1) * width + j] as number, table[i * width + j + 1] as number);
    }
  }
  const match = new Array<number>(a.length).fill(-1);
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      match[i++] = j++;
    } else if ((table[(i + 1) * width + j] as number) >= (table[i * width + j + 1] as number)) i++;
    else j++;
  }
  return match;
}

/** editor:set-yaml-value: the value at `path`, keys on the way made when missing. */
export function setYamlValue(path: readonly YamlStep[], value: unknown): TextChange {
  return yamlChange((doc) => {
    const located = locate(doc, path);
    const missing = path.slice(located.found);
    if (missing.some((step) => typeof step !== 'string')) {
      throw new Error(`${formatYamlPath(path)} is not in the file, and a list item cannot be made by a path`);
    }
    if (missing.length === 0) {
      // A scalar for a scalar: only its own characters change (a comment's spacing after it too stays).
      const node = located.node;
      if (isScalar(node) && node.range && (value === null || typeof value !== 'object')) {
        const printed = new YamlDocument(value).toString({ lineWidth: 0 }).replace(/\n$/, '');
        if (!printed.includes('\n') && !printed.startsWith('---'))
          return { from: node.range[0], to: node.range[1], text: printed };
      }
      doc.setIn(located.keys, value);
      return undefined;
    }
    let nested = value;
    for (const step of missing.slice(1).reverse()) nested = { [step as string]: nested };
    const holder = located.keys.length === 0 ? doc.contents : doc.getIn(located.keys, true);
    if (holder === null || holder === undefined || (isScalar(holder) && holder.value === null)) {
      // An empty document, or a key with no value yet: it becomes the mapping.
      const made = doc.createNode({ [missing[0] as string]: nested });
      if (located.keys.length === 0) doc.contents = made as typeof doc.contents;
      else doc.setIn(located.keys, made);
      return undefined;
    }
    if (!isMap(holder))
      throw new Error(`${formatYamlPath(path.slice(0, located.found)) || 'the document'} is not a mapping`);
    doc.setIn([...located.keys, missing[0]], doc.createNode(nested));
    return undefined;
  });
}

function sequenceAt(doc: Document, path: readonly YamlStep[]) {
  const { node } = existing(doc, path);
  if (!isSeq(node)) throw new Error(`${formatYamlPath(path)} is not a list`);
  return node;
}

/** editor:add-yaml-item: `value` at the end of the list at `path`. */
export function addYamlItem(path: readonly YamlStep[], value: unknown): TextChange {
  return yamlChange((doc) => {
    sequenceAt(doc, path).items.push(doc.createNode(value));
    return undefined;
  });
}

/** editor:insert-yaml-item: `value` as item `index` of the list at `path` (its length: at the end). */
export function insertYamlItem(path: readonly YamlStep[], index: number, value: unknown): TextChange {
  return yamlChange((doc) => {
    const list = sequenceAt(doc, path);
    if (index > list.items.length) {
      throw new Error(`${formatYamlPath(path)} has ${list.items.length} items: there is no place ${index}`);
    }
    list.items.splice(index, 0, doc.createNode(value));
    return undefined;
  });
}

/** editor:replace-yaml-item: the item (or value) at `path`, which must be there, becomes `value`. */
export function replaceYamlItem(path: readonly YamlStep[], value: unknown): TextChange {
  return yamlChange((doc) => {
    doc.setIn(existing(doc, path).keys, doc.createNode(value));
    return undefined;
  });
}

/** editor:delete-yaml-value: the key or item at `path`, which must be there. */
export function deleteYamlValue(path: readonly YamlStep[]): TextChange {
  return yamlChange((doc) => {
    doc.deleteIn(existing(doc, path).keys);
    return undefined;
  });
}

/** editor:merge-yaml-values: each key of `values` set in the mapping at `path`. */
export function mergeYamlValues(path: readonly YamlStep[], values: Record<string, unknown>): TextChange {
  return yamlChange((doc) => {
    const { node, keys } = existing(doc, path);
    if (!isMap(node)) throw new Error(`${formatYamlPath(path)} is not a mapping`);
    for (const [key, value] of Object.entries(values)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === key);
      doc.setIn([...keys, pair && isScalar(pair.key) ? pair.key.value : key], value);
    }
    return undefined;
  });
}

/**
 * editor:insert-value-into-yaml (deprecated by Educates): the items of a list `value` added to
 * the list at `path`, or the keys of a mapping `value` to the mapping there.
 */
export function insertValueIntoYaml(path: readonly YamlStep[], value: unknown): TextChange {
  return yamlChange((doc) => {
    const { node } = existing(doc, path);
    if (isSeq(node)) {
      for (const item of Array.isArray(value) ? value : [value]) node.items.push(doc.createNode(item));
      return undefined;
    }
    if (isMap(node) && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, item] of Object.entries(value)) node.set(key, doc.createNode(item));
      return undefined;
    }
    throw new Error(`${formatYamlPath(path)} is neither a list nor a mapping the value can go into`);
  });
}

/** editor:select-yaml-path: a key with its value, or a list item; the whole document for an empty path. */
export function selectYamlPath(path: readonly YamlStep[]): TextChange {
  return yamlChange((doc, text) => {
    const trim = (from: number, to: number) => {
      let end = to;
      while (end > from && /\s/.test(text[end - 1] as string)) end--;
      return { select: { from, to: end } };
    };
    if (path.length === 0) {
      const range = (doc.contents as YamlNode | null)?.range;
      return range ? trim(range[0], range[1]) : { select: { from: 0, to: text.length } };
    }
    const { parent, node } = existing(doc, path);
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isPair(item) && item.value === node);
      const key = pair?.key as YamlNode | undefined;
      const start = key?.range?.[0];
      const end = (node as YamlNode | null)?.range?.[1] ?? key?.range?.[1];
      if (start !== undefined && end !== undefined) return trim(start, end);
    }
    const range = (node as YamlNode | null)?.range;
    if (!range) throw new Error(`${formatYamlPath(path)} has no place in the file to select`);
    return trim(range[0], range[1]);
  });
}
