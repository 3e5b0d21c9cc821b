// What a clickable block in a workshop page does: written by the server into
// the block's data-action attribute (JSON), with how it behaves (cascade,
// cooldown, autostart…) in data-options, read back and checked by the page.
// Shared by the renderer and the page bundle: no Node and no DOM here.
import type { TextSearch, YamlStep } from '../../common/src/protocol.js';

/** A field of an examiner check's form (Educates' `inputs.schema`, the kinds a form can hold). */
export interface InputField {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean';
  title: string;
  /** As typed into the field: the form holds text. */
  default: string;
  required: boolean;
  /** The values to choose from (a select), when the schema lists them. */
  choices: string[] | null;
}

export interface CheckInputs {
  fields: InputField[];
  /** The label of the form's button. */
  submit: string;
}

export type Action =
  | { type: 'execute'; sessions: string[]; command: string; clear: boolean }
  | { type: 'interrupt'; sessions: string[] }
  | { type: 'input'; session: string; text: string; endl: boolean }
  | { type: 'clear'; sessions: string[] }
  | { type: 'select'; session: string }
  | { type: 'copy'; text: string; edit: boolean }
  | { type: 'open-url'; url: string }
  | { type: 'open-dashboard'; name: string }
  /**
   * A tab made by a page: a frame on `url`, or a terminal on `session`. `reload` (reload-dashboard)
   * reloads it when it is there (showing `url` when given) and makes it when it is not.
   */
  | {
      type: 'create-dashboard';
      name: string;
      url: string | null;
      session: string | null;
      focus: boolean;
      reload: boolean;
    }
  | { type: 'delete-dashboard'; name: string }
  /** A file under the home folder (relative to it), saved by the browser as `name` (its own name when empty). */
  | { type: 'download'; path: string; name: string; preview: boolean }
  /** A file under the home folder, its text put on the clipboard. */
  | { type: 'copy-file'; path: string; preview: boolean }
  /** Files from the attendee's computer into ~/uploads: as `name` (upload-file), or each as its own name. */
  | { type: 'upload'; name: string | null }
  | {
      type: 'examiner';
      name: string;
      title: string;
      args: string[];
      /**
       * Seconds the program may run, as the block declares it: sent with the request, so that of
       * two blocks running one program with different timeouts each gets its own.
       */
      timeout: number;
      /** Seconds between a failed run and the next; retries may be Infinity (until it passes). */
      retries: number;
      delay: number;
      inputs: CheckInputs | null;
    }
  /** The header of a collapsible section: its body is the element `body` names. */
  | { type: 'section-begin'; name: string; body: string; open: boolean }
  /** The (always hidden) end of a section: closes it when triggered, unless `toggle` is false. */
  | { type: 'section-end'; name: string; body: string; toggle: boolean }
  /** A heading in the style of the blocks: clicking marks it, nothing else. */
  | { type: 'heading' }
  /** An action one container cannot do: the block says why, and does nothing. */
  | { type: 'unavailable'; reason: string }
  /** editor:open-file: a file (relative to the home folder) shown in the editor, at `line` when given. */
  | { type: 'editor-open'; file: string; line: number | null }
  /** An editor:* block that changes a file's text (or its selection): made in the editor, seen there, saved. */
  | { type: 'editor-edit'; file: string; edit: TextEdit; create: boolean }
  /** editor:create-directory. */
  | { type: 'editor-folder'; path: string }
  /** editor:copy-file, and editor:rename-file (`move`): a file there already is replaced, as Educates documents. */
  | { type: 'editor-copy'; from: string; to: string; move: boolean; open: boolean }
  | { type: 'editor-close'; file: string }
  | { type: 'editor-delete'; file: string }
  /**
   * Educates' editor:*-terminal blocks drive terminals inside VS Code, apart from the dashboard's:
   * here each is a terminal tab of the dashboard, `name`, on its own `session`.
   */
  | {
      type: 'editor-terminal';
      op: 'open' | 'send' | 'interrupt' | 'clear' | 'close';
      name: string;
      session: string;
      text: string;
      endl: boolean;
    };

/**
 * What an editor:* block does to a file's text, by Educates' name (without `editor:`); the
 * editor's edits module (editor/page/edits.ts) does it. Lines count from 1; -1 lines
 * before or after a match is all of them; a `count` of -1 is every match.
 */
export type TextEdit =
  | { op: 'create-file' | 'append-lines-to-file' | 'prepend-lines-to-file'; text: string }
  | { op: 'insert-lines-before-line' | 'append-lines-after-line'; line: number; text: string }
  | { op: 'insert-lines-before-match' | 'append-lines-after-match'; match: string; text: string }
  | { op: 'select-matching-text'; search: TextSearch; before: number | null; after: number | null }
  | { op: 'select-lines-in-range' | 'delete-lines-in-range'; start: number; stop: number }
  | { op: 'replace-lines-in-range'; start: number; stop: number; text: string }
  | {
      op: 'replace-text-selection' | 'insert-lines-before-selection' | 'append-lines-after-selection';
      text: string;
    }
  | { op: 'delete-text-selection' }
  | { op: 'replace-matching-text'; search: TextSearch; replacement: string; count: number }
  | { op: 'delete-matching-lines'; match: string; isRegex: boolean; before: number; after: number }
  | {
      op: 'set-yaml-value' | 'add-yaml-item' | 'replace-yaml-item' | 'merge-yaml-values' | 'insert-value-into-yaml';
      path: YamlStep[];
      value: unknown;
    }
  | { op: 'insert-yaml-item'; path: YamlStep[]; index: number; value: unknown }
  | { op: 'delete-yaml-value' | 'select-yaml-path'; path: YamlStep[] };

/**
 * A YAML path as Educates writes it: `spec.template` (keys), `containers[0]` (an item),
 * `containers[name=nginx]` (the item whose name is nginx), `data["index.html"]` (a key
 * with dots). Throws an Error saying what is wrong with it.
 */
export function parseYamlPath(text: string): YamlStep[] {
  const steps: YamlStep[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at];
    if (char === '.') {
      if (at === 0 || text[at + 1] === '.' || at === text.length - 1) throw new Error(`an empty key at ${at + 1}`);
      at++;
      continue;
    }
    if (char === '[') {
      const close = text.indexOf(']', at);
      if (close < 0) throw new Error(`the [ at ${at + 1} is not closed`);
      const inner = text.slice(at + 1, close);
      const quoted = /^(["'])(.*)\1$/.exec(inner);
      const pair = /^([^=]+)=(.*)$/.exec(inner);
      if (quoted) steps.push(quoted[2] as string);
      else if (/^-?\d+$/.test(inner)) steps.push(Number(inner));
      else if (pair) steps.push({ key: (pair[1] as string).trim(), value: (pair[2] as string).trim() });
      else throw new Error(`[${inner}] must be [number], [key=value] or ["key"]`);
      at = close + 1;
      continue;
    }
    let end = at;
    while (end < text.length && text[end] !== '.' && text[end] !== '[') end++;
    if (text[at] === ']') throw new Error(`a ] at ${at + 1} closes nothing`);
    steps.push(text.slice(at, end));
    at = end;
  }
  return steps;
}

/** How a block behaves, whatever it does (the fields every YAML action takes). */
export interface ActionOptions {
  /** When it succeeds, the next block of the page is triggered. */
  cascade: boolean;
  /** Milliseconds before the cascade goes on. */
  pause: number;
  /** Seconds after a run in which a click does nothing; Infinity: it runs once. */
  cooldown: number;
  /** Runs when the page (or the section holding it) is shown. */
  autostart: boolean;
  /** Not shown: it runs by autostart or cascade. */
  hidden: boolean;
  /** What the author wants reported when it is clicked (JSON text), or null. */
  event: string | null;
}

/** Educates' defaults: a few seconds against double clicks, a short pause between cascaded blocks. */
export const DEFAULT_OPTIONS: ActionOptions = {
  cascade: false,
  pause: 750,
  cooldown: 3,
  autostart: false,
  hidden: false,
  event: null,
};

/** The terminals of the Terminal tab are sessions 1, 2 and 3, so the stand-alone page opens the same ones. */
export const TERMINAL_SESSIONS = ['1', '2', '3'] as const;

/** The session names a page may make a terminal tab for (the terminal server's own rule). */
export const DASHBOARD_SESSION = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Examiner programs are files of workshop/examiner/tests, or of a folder in it
 * (Educates allows `subdir/name`): plain segments, no dot segments.
 */
export const EXAMINER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}){0,3}$/;

export function validExaminerName(name: string): boolean {
  return EXAMINER_NAME.test(name) && !name.split('/').some((segment) => segment === '..' || segment === '.');
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value) && value >= 0;
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';

/** JSON has no Infinity: written as null, read back as Infinity. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => (item === Number.POSITIVE_INFINITY ? null : item));
}

function parseObject(json: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function validInputs(value: unknown): boolean {
  if (value === null) return true;
  const inputs = value as CheckInputs;
  return (
    typeof value === 'object' &&
    isString(inputs.submit) &&
    Array.isArray(inputs.fields) &&
    inputs.fields.every(
      (field) =>
        isString(field.name) &&
        ['string', 'integer', 'number', 'boolean'].includes(field.type) &&
        isString(field.title) &&
        isString(field.default) &&
        isBoolean(field.required) &&
        (field.choices === null || isStrings(field.choices)),
    )
  );
}

/** The action a data-action attribute holds, or null when it is not one (the block then does nothing). */
export function parseAction(json: string): Action | null {
  const a = parseObject(json);
  if (!a) return null;
  switch (a.type) {
    case 'execute':
      return isStrings(a.sessions) && isString(a.command) && isBoolean(a.clear) ? (a as Action) : null;
    case 'interrupt':
    case 'clear':
      return isStrings(a.sessions) ? (a as Action) : null;
    case 'input':
      return isString(a.session) && isString(a.text) && isBoolean(a.endl) ? (a as Action) : null;
    case 'select':
      return isString(a.session) ? (a as Action) : null;
    case 'copy':
      return isString(a.text) && isBoolean(a.edit) ? (a as Action) : null;
    case 'open-url':
      return isString(a.url) && /^https?:\/\//i.test(a.url) ? (a as Action) : null;
    case 'open-dashboard':
    case 'delete-dashboard':
      return isString(a.name) ? (a as Action) : null;
    case 'create-dashboard':
      return isString(a.name) &&
        (a.url === null || (isString(a.url) && /^https?:\/\//i.test(a.url))) &&
        (a.session === null || (isString(a.session) && DASHBOARD_SESSION.test(a.session))) &&
        isBoolean(a.focus) &&
        isBoolean(a.reload)
        ? (a as Action)
        : null;
    case 'download':
      return isString(a.path) && a.path !== '' && isString(a.name) && isBoolean(a.preview) ? (a as Action) : null;
    case 'copy-file':
      return isString(a.path) && a.path !== '' && isBoolean(a.preview) ? (a as Action) : null;
    case 'upload':
      return a.name === null || (isString(a.name) && a.name !== '' && !a.name.includes('/')) ? (a as Action) : null;
    case 'examiner': {
      if (a.retries === null) a.retries = Number.POSITIVE_INFINITY;
      return isString(a.name) &&
        validExaminerName(a.name) &&
        isString(a.title) &&
        isStrings(a.args) &&
        isNumber(a.timeout) &&
        isNumber(a.retries) &&
        isNumber(a.delay) &&
        validInputs(a.inputs)
        ? (a as Action)
        : null;
    }
    case 'section-begin':
      return isString(a.name) && isString(a.body) && isBoolean(a.open) ? (a as Action) : null;
    case 'section-end':
      return isString(a.name) && isString(a.body) && isBoolean(a.toggle) ? (a as Action) : null;
    case 'heading':
      return a as Action;
    case 'unavailable':
      return isString(a.reason) ? (a as Action) : null;
    case 'editor-open':
      return isPath(a.file) && (a.line === null || isLine(a.line)) ? (a as Action) : null;
    case 'editor-edit':
      return isPath(a.file) && isBoolean(a.create) && validEdit(a.edit) ? (a as Action) : null;
    case 'editor-folder':
      return isPath(a.path) ? (a as Action) : null;
    case 'editor-copy':
      return isPath(a.from) && isPath(a.to) && isBoolean(a.move) && isBoolean(a.open) ? (a as Action) : null;
    case 'editor-close':
    case 'editor-delete':
      return isPath(a.file) ? (a as Action) : null;
    case 'editor-terminal':
      return ['open', 'send', 'interrupt', 'clear', 'close'].includes(a.op as string) &&
        isString(a.name) &&
        isString(a.session) &&
        DASHBOARD_SESSION.test(a.session) &&
        isString(a.text) &&
        isBoolean(a.endl)
        ? (a as Action)
        : null;
    default:
      return null;
  }
}

const isPath = (value: unknown): value is string => isString(value) && value !== '' && !value.includes('\0');
const isLine = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 1;
/** A line of a search or around a match: negative ones count from the end (or mean all). */
const isWhole = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

function isSearch(value: unknown): value is TextSearch {
  const s = value as TextSearch;
  return (
    typeof value === 'object' &&
    value !== null &&
    isString(s.pattern) &&
    s.pattern !== '' &&
    isBoolean(s.isRegex) &&
    isWhole(s.group) &&
    s.group >= 0 &&
    (s.start === null || isWhole(s.start)) &&
    (s.stop === null || isWhole(s.stop))
  );
}

const isYamlPath = (value: unknown): value is YamlStep[] =>
  Array.isArray(value) &&
  value.every(
    (step) =>
      isString(step) ||
      isWhole(step) ||
      (typeof step === 'object' && step !== null && isString(step.key) && isString(step.value)),
  );

function validEdit(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const e = value as Record<string, unknown>;
  switch (e.op) {
    case 'create-file':
    case 'append-lines-to-file':
    case 'prepend-lines-to-file':
    case 'replace-text-selection':
    case 'insert-lines-before-selection':
    case 'append-lines-after-selection':
      return isString(e.text);
    case 'insert-lines-before-line':
    case 'append-lines-after-line':
      return isLine(e.line) && isString(e.text);
    case 'insert-lines-before-match':
    case 'append-lines-after-match':
      return isString(e.match) && e.match.trim() !== '' && isString(e.text);
    case 'select-matching-text':
      return isSearch(e.search) && (e.before === null || isWhole(e.before)) && (e.after === null || isWhole(e.after));
    case 'select-lines-in-range':
    case 'delete-lines-in-range':
      return isLine(e.start) && isLine(e.stop) && e.stop >= e.start;
    case 'replace-lines-in-range':
      return isLine(e.start) && isLine(e.stop) && e.stop >= e.start && isString(e.text);
    case 'delete-text-selection':
      return true;
    case 'replace-matching-text':
      return isSearch(e.search) && isString(e.replacement) && isWhole(e.count) && e.count !== 0 && e.count >= -1;
    case 'delete-matching-lines':
      return isString(e.match) && e.match !== '' && isBoolean(e.isRegex) && isWhole(e.before) && isWhole(e.after);
    case 'set-yaml-value':
    case 'add-yaml-item':
    case 'replace-yaml-item':
    case 'insert-value-into-yaml':
      return isYamlPath(e.path) && e.path.length > 0 && e.value !== undefined;
    case 'merge-yaml-values':
      return isYamlPath(e.path) && !!e.value && typeof e.value === 'object' && !Array.isArray(e.value);
    case 'insert-yaml-item':
      return isYamlPath(e.path) && e.path.length > 0 && isWhole(e.index) && e.index >= 0 && e.value !== undefined;
    case 'delete-yaml-value':
      return isYamlPath(e.path) && e.path.length > 0;
    case 'select-yaml-path':
      return isYamlPath(e.path);
    default:
      return false;
  }
}

/** The options a data-options attribute holds; the defaults for anything missing or malformed. */
export function parseOptions(json: string | undefined): ActionOptions {
  const o = parseObject(json ?? '') ?? {};
  if (o.cooldown === null) o.cooldown = Number.POSITIVE_INFINITY;
  return {
    cascade: isBoolean(o.cascade) ? o.cascade : DEFAULT_OPTIONS.cascade,
    pause: isNumber(o.pause) ? o.pause : DEFAULT_OPTIONS.pause,
    cooldown: isNumber(o.cooldown) ? o.cooldown : DEFAULT_OPTIONS.cooldown,
    autostart: isBoolean(o.autostart) ? o.autostart : DEFAULT_OPTIONS.autostart,
    hidden: isBoolean(o.hidden) ? o.hidden : DEFAULT_OPTIONS.hidden,
    event: isString(o.event) ? o.event : null,
  };
}
