// What a clickable block in a workshop page does: written by the server into
// the block's data-action attribute (JSON), with how it behaves (cascade,
// cooldown, autostart…) in data-options, read back and checked by the page.
// Shared by the renderer and the page bundle: no Node and no DOM here.

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
  | { type: 'unavailable'; reason: string };

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
    default:
      return null;
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
