// What a clickable block in a workshop page does: written by the server into
// the block's data-action attribute (JSON), read back and checked by the page.
// Shared by the renderer and the page bundle: no Node and no DOM here.

export type Action =
  | { type: 'execute'; sessions: string[]; command: string; clear: boolean }
  | { type: 'interrupt'; sessions: string[] }
  | { type: 'input'; session: string; text: string; endl: boolean }
  | { type: 'clear'; sessions: string[] }
  | { type: 'copy'; text: string; edit: boolean }
  | { type: 'open-url'; url: string }
  | { type: 'open-dashboard'; name: string }
  /** A file under the home folder (relative to it), saved by the browser as `name` (its own name when empty). */
  | { type: 'download'; path: string; name: string }
  | {
      type: 'examiner';
      name: string;
      title: string;
      args: string[];
      /** Seconds between a failed run and the next; retries may be Infinity (until it passes). */
      retries: number;
      delay: number;
      autostart: boolean;
    };

/** The terminals of the Terminal tab are sessions 1, 2 and 3, so the stand-alone page opens the same ones. */
export const TERMINAL_SESSIONS = ['1', '2', '3'] as const;

/** Examiner programs are named like files of one folder: no path, no dot segments. */
export const EXAMINER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function validExaminerName(name: string): boolean {
  return EXAMINER_NAME.test(name) && !name.includes('..');
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isNumber = (value: unknown): value is number => typeof value === 'number' && !Number.isNaN(value) && value >= 0;

/** The action a data-action attribute holds, or null when it is not one (the block then does nothing). */
export function parseAction(json: string): Action | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const a = value as Record<string, unknown>;
  switch (a.type) {
    case 'execute':
      return isStrings(a.sessions) && isString(a.command) && typeof a.clear === 'boolean' ? (a as Action) : null;
    case 'interrupt':
    case 'clear':
      return isStrings(a.sessions) ? (a as Action) : null;
    case 'input':
      return isString(a.session) && isString(a.text) && typeof a.endl === 'boolean' ? (a as Action) : null;
    case 'copy':
      return isString(a.text) && typeof a.edit === 'boolean' ? (a as Action) : null;
    case 'open-url':
      return isString(a.url) && /^https?:\/\//i.test(a.url) ? (a as Action) : null;
    case 'open-dashboard':
      return isString(a.name) ? (a as Action) : null;
    case 'download':
      return isString(a.path) && a.path !== '' && isString(a.name) ? (a as Action) : null;
    case 'examiner': {
      // JSON has no Infinity: "retries until it passes" travels as null.
      if (a.retries === null) a.retries = Number.POSITIVE_INFINITY;
      return isString(a.name) &&
        validExaminerName(a.name) &&
        isString(a.title) &&
        isStrings(a.args) &&
        isNumber(a.retries) &&
        isNumber(a.delay) &&
        typeof a.autostart === 'boolean'
        ? (a as Action)
        : null;
    }
    default:
      return null;
  }
}
