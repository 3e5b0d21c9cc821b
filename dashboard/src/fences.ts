// Fenced code blocks that are actions, by their info string: the classic
// forms (execute, execute-1/2/3, execute-all, copy, copy-and-edit, Homeroom's
// copypaste, a block that is only <ctrl+c> or <ctrl-c>) whose body is the text,
// and the namespaced forms (terminal:*, workshop:*, dashboard:*, section:*,
// files:*, examiner:execute-test) whose body is YAML, with the fields every one
// of them takes (prefix, title, description, hidden, cascade, pause, cooldown,
// autostart, event). Anything else is a language for highlighting, unless it
// looks like an action this dashboard does not know: that is shown as plain
// code with a note for the author.

import { PROXY_TIMEOUT_MS } from '../../common/src/terminal-link.js';
import {
  type Action,
  type ActionOptions,
  type CheckInputs,
  DASHBOARD_SESSION,
  DEFAULT_OPTIONS,
  type InputField,
  TERMINAL_SESSIONS,
  validExaminerName,
} from './actions.js';
import { EDITOR_ACTIONS, editorFence } from './editor-fences.js';
import { booleanField, FenceProblem, foreverField, numberField, optionalText, requiredText } from './fence-fields.js';

export interface FenceContext {
  /** The sessions of the Terminal tab, for the *-all actions. */
  allSessions: readonly string[];
  /** Sessions of terminal:<name> tabs, by session. */
  tabSessions: ReadonlyMap<string, string>;
  /** The names of the tabs there are (Terminal, Console, custom ones). */
  tabNames: readonly string[];
  /** Whether workshop/examiner/tests/<name> is an executable. */
  examinerExists(name: string): boolean;
  /** The YAML parser (see libraries.ts). */
  parseYaml(text: string): unknown;
  /**
   * Where the browser reaches an app of this container that a URL names (`port:8080/…`, or a
   * session ingress's URL): its path through the port proxy (app-urls.ts); null for any other URL.
   */
  appUrl(url: string): string | null;
}

/** A block that does something: what, its banner, the text it shows (and how to highlight it), how it behaves. */
export interface ActionFence {
  kind: 'action';
  action: Action;
  label: string;
  shown: string;
  lang: string;
  options: ActionOptions;
  /** The author's text for the block's body (shown as written, in place of `shown`). */
  description: string | null;
}

export interface CheckFence extends Omit<ActionFence, 'kind' | 'action'> {
  kind: 'check';
  action: Action & { type: 'examiner' };
  timeout: number;
  /** A service that runs the check instead of a program of examiner/tests. */
  url: string | null;
}

export type Fence = { kind: 'code'; lang: string } | ActionFence | CheckFence | { kind: 'unknown'; note: string };

const CLASSIC_EXECUTE = /^execute(?:-(1|2|3|all))?$/;
const NAMESPACED = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/i;
/** The interrupt a classic block may be: Educates writes <ctrl+c>, many workshops <ctrl-c>. */
const INTERRUPT_TEXT = /^<ctrl[+-]c>$/i;
/** The tabs a page may not delete: the dashboard's own. */
const BUILT_IN_TABS = ['terminal', 'console'];
/** An input field's name: what the check reads from its JSON. */
const INPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const MAX_INPUT_FIELDS = 20;
/** What an `event` may be, as JSON: a label, not a document. */
const MAX_EVENT_CHARS = 1000;
/**
 * Default and largest examiner timeouts, in seconds: a check answers one
 * request, so it ends well before the auth proxy gives up on that request.
 */
export const EXAMINER_TIMEOUT = { default: 15, max: PROXY_TIMEOUT_MS / 1000 - 10 };

/** Every action name this dashboard knows, for the note on one it does not. */
export const KNOWN_ACTIONS = [
  'execute',
  'execute-1',
  'execute-2',
  'execute-3',
  'execute-all',
  'copy',
  'copy-and-edit',
  'copypaste',
  'terminal:execute',
  'terminal:execute-all',
  'terminal:interrupt',
  'terminal:interrupt-all',
  'terminal:input',
  'terminal:clear',
  'terminal:clear-all',
  'terminal:select',
  'workshop:copy',
  'workshop:copy-and-edit',
  'dashboard:open-url',
  'dashboard:open-dashboard',
  'dashboard:expose-dashboard',
  'dashboard:create-dashboard',
  'dashboard:reload-dashboard',
  'dashboard:delete-dashboard',
  'dashboard:terminate-session',
  'section:begin',
  'section:end',
  'section:heading',
  'files:download-file',
  'files:copy-file',
  'files:upload-file',
  'files:upload-files',
  'examiner:execute-test',
  ...EDITOR_ACTIONS,
] as const;

export function parseFence(info: string, body: string, context: FenceContext): Fence {
  const word = info.trim().split(/\s+/)[0] ?? '';
  try {
    return parse(word, body.replace(/\n$/, ''), context);
  } catch (error) {
    if (error instanceof FenceProblem) return { kind: 'unknown', note: `${word}${error.message}` };
    throw error;
  }
}

function parse(word: string, body: string, context: FenceContext): Fence {
  const classic = CLASSIC_EXECUTE.exec(word);
  if (classic) {
    const target = classic[1] ?? '1';
    const sessions = target === 'all' ? [...context.allSessions] : [target];
    const where = target === 'all' ? 'every terminal' : `terminal ${target}`;
    if (INTERRUPT_TEXT.test(body.trim())) {
      return classicAction({ type: 'interrupt', sessions }, `Interrupt ${where} (Ctrl+C)`, body.trim(), '');
    }
    return classicAction({ type: 'execute', sessions, command: body, clear: false }, `Run in ${where}`, body, 'bash');
  }
  if (word === 'copy' || word === 'copypaste' || word === 'copy-and-edit') {
    const edit = word === 'copy-and-edit';
    return classicAction({ type: 'copy', text: body, edit }, copyLabel(edit), body, '');
  }
  if (/^(execute|copy)-/.test(word) || NAMESPACED.test(word)) return namespaced(word, body, context);
  return { kind: 'code', lang: word };
}

function classicAction(action: Action, label: string, shown: string, lang: string): ActionFence {
  return { kind: 'action', action, label, shown, lang, options: DEFAULT_OPTIONS, description: null };
}

function copyLabel(edit: boolean): string {
  return edit ? 'Copy to the clipboard, then edit before use' : 'Copy to the clipboard';
}

/**
 * The known actions an author most likely meant: those of the same prefix (`files:`), or
 * without one; else the prefixes there are. Not all ~70: the note sits above the page.
 */
function knownLike(word: string): string {
  const colon = word.indexOf(':');
  const family = colon > 0 ? word.slice(0, colon + 1) : '';
  const same = KNOWN_ACTIONS.filter((known) => (family ? known.startsWith(family) : !known.includes(':')));
  if (same.length > 0) return `Known ${family ? `${family} actions` : 'without a prefix'}: ${same.join(', ')}.`;
  const families = new Set(KNOWN_ACTIONS.filter((known) => known.includes(':')).map((known) => known.split(':')[0]));
  return `Known prefixes: ${[...families].map((name) => `${name}:`).join(', ')}.`;
}

/** A namespaced block: its YAML fields, and what every such block takes besides its own. */
function namespaced(word: string, body: string, context: FenceContext): Fence {
  if (!(KNOWN_ACTIONS as readonly string[]).includes(word)) {
    throw new FenceProblem(
      `is not an action this dashboard knows, so this block is plain text. ${knownLike(word)}`,
      ' ',
    );
  }
  const fields = yamlFields(body, context);
  const common = commonFields(fields);
  const fence = ownFields(word, fields, context);
  const label = common.title !== null || common.prefix !== null ? bannerOf(common, fence.label) : fence.label;
  const options: ActionOptions = { ...common.options };
  // A section's header opens and shuts: a click should answer every time, unless the author says otherwise.
  if (fence.action.type.startsWith('section-') || fence.action.type === 'heading') {
    if (fields.cooldown === undefined) options.cooldown = 0;
  }
  return { ...fence, label, options, description: common.description };
}

function bannerOf(common: { prefix: string | null; title: string | null }, fallback: string): string {
  const title = common.title ?? fallback;
  return common.prefix ? `${common.prefix}: ${title}` : title;
}

function commonFields(fields: Record<string, unknown>): {
  prefix: string | null;
  title: string | null;
  description: string | null;
  options: ActionOptions;
} {
  const cooldown = foreverField(fields, 'cooldown', DEFAULT_OPTIONS.cooldown);
  let event: string | null = null;
  if (fields.event !== undefined && fields.event !== null) {
    event = JSON.stringify(fields.event) ?? null;
    if (event !== null && event.length > MAX_EVENT_CHARS) {
      throw new FenceProblem(`event must be shorter than ${MAX_EVENT_CHARS} characters as JSON`);
    }
  }
  return {
    prefix: optionalText(fields, 'prefix'),
    title: optionalText(fields, 'title'),
    description: optionalText(fields, 'description'),
    options: {
      cascade: booleanField(fields, 'cascade', false),
      pause: numberField(fields, 'pause', DEFAULT_OPTIONS.pause),
      cooldown,
      autostart: booleanField(fields, 'autostart', false),
      hidden: booleanField(fields, 'hidden', false),
      event,
    },
  };
}

type OwnFence = Omit<ActionFence, 'options' | 'description'> | Omit<CheckFence, 'options' | 'description'>;

function own(action: Action, label: string, shown = '', lang = ''): OwnFence {
  return { kind: 'action', action, label, shown, lang };
}

function ownFields(word: string, fields: Record<string, unknown>, context: FenceContext): OwnFence {
  switch (word) {
    case 'terminal:execute':
    case 'terminal:execute-all': {
      const sessions = word === 'terminal:execute-all' ? [...context.allSessions] : sessionsField(fields, context);
      const command = requiredText(fields, 'command');
      const clear = booleanField(fields, 'clear', false);
      const where = describeSessions(sessions, context);
      return own(
        { type: 'execute', sessions, command, clear },
        `Run in ${where}${clear ? ` (after clearing ${sessions.length > 1 ? 'them' : 'it'})` : ''}`,
        command,
        'bash',
      );
    }
    case 'terminal:interrupt':
    case 'terminal:interrupt-all': {
      const sessions = word === 'terminal:interrupt-all' ? [...context.allSessions] : sessionsField(fields, context);
      return own(
        { type: 'interrupt', sessions },
        `Interrupt ${describeSessions(sessions, context)} (Ctrl+C)`,
        '<ctrl+c>',
      );
    }
    case 'terminal:clear':
    case 'terminal:clear-all': {
      const sessions = word === 'terminal:clear-all' ? [...context.allSessions] : sessionsField(fields, context);
      return own({ type: 'clear', sessions }, `Clear ${describeSessions(sessions, context)}`);
    }
    case 'terminal:select': {
      const session = sessionField(fields, context);
      return own({ type: 'select', session }, `Switch to ${describeSession(session, context)}`);
    }
    case 'terminal:input': {
      const session = sessionField(fields, context);
      const text = requiredText(fields, 'text');
      const endl = booleanField(fields, 'endl', true);
      return own(
        { type: 'input', session, text, endl },
        `Type into ${describeSession(session, context)}${endl ? ' and press Enter' : ''}`,
        text,
      );
    }
    case 'workshop:copy':
    case 'workshop:copy-and-edit': {
      const edit = word === 'workshop:copy-and-edit';
      const text = requiredText(fields, 'text');
      return own({ type: 'copy', text, edit }, copyLabel(edit), text);
    }
    case 'dashboard:open-url': {
      const written = requiredText(fields, 'url');
      const url = context.appUrl(written) ?? written;
      if (url === written && !/^https?:\/\/[^\s]+$/i.test(url))
        throw new FenceProblem('url must be an http(s) URL or port:<n>/<path>');
      return own({ type: 'open-url', url }, 'Open in a new browser tab', written);
    }
    case 'dashboard:open-dashboard':
    case 'dashboard:expose-dashboard': {
      const name = requiredText(fields, 'name');
      const tab = context.tabNames.find((known) => known.toLowerCase() === name.toLowerCase());
      if (!tab) throw new FenceProblem(`there is no tab named ${name} (there are: ${context.tabNames.join(', ')})`);
      return own({ type: 'open-dashboard', name: tab }, `Switch to the ${tab} tab`, tab);
    }
    case 'dashboard:create-dashboard':
    case 'dashboard:reload-dashboard': {
      const reload = word === 'dashboard:reload-dashboard';
      const name = requiredText(fields, 'name');
      const target = reload ? optionalText(fields, 'url') : requiredText(fields, 'url');
      const focus = booleanField(fields, 'focus', true);
      let url: string | null = null;
      let session: string | null = null;
      if (target?.startsWith('terminal:')) {
        session = target.slice('terminal:'.length);
        if (!DASHBOARD_SESSION.test(session)) {
          throw new FenceProblem(
            'a terminal tab is url: terminal:<name>, the name in lower case letters, digits and -',
          );
        }
        if ((TERMINAL_SESSIONS as readonly string[]).includes(session)) {
          throw new FenceProblem(`terminal ${session} is on the Terminal tab already: name the new terminal otherwise`);
        }
      } else if (target !== null) {
        url = context.appUrl(target);
        if (url === null && !/^https?:\/\/[^\s]+$/i.test(target))
          throw new FenceProblem('url must be an http(s) URL, port:<n>/<path> or terminal:<name>');
        url ??= target;
      }
      const label = reload ? `Reload the ${name} tab` : `Open a new tab, ${name}`;
      return own({ type: 'create-dashboard', name, url, session, focus, reload }, label, target ?? '');
    }
    case 'dashboard:delete-dashboard': {
      const name = requiredText(fields, 'name');
      if (BUILT_IN_TABS.includes(name.toLowerCase())) throw new FenceProblem(`the ${name} tab cannot be deleted`);
      return own({ type: 'delete-dashboard', name }, `Close the ${name} tab`);
    }
    case 'dashboard:terminate-session':
      return own(
        {
          type: 'unavailable',
          reason:
            'Ending the workshop session is the training platform’s to do; this terminal runs on its own, so this block does nothing.',
        },
        'End the workshop session (not available here)',
      );
    case 'section:begin':
      return own(
        { type: 'section-begin', name: sectionName(fields), body: '', open: booleanField(fields, 'open', false) },
        'Instructions',
      );
    case 'section:end':
      return own(
        { type: 'section-end', name: sectionName(fields), body: '', toggle: booleanField(fields, 'toggle', true) },
        'End of the section',
      );
    case 'section:heading':
      return own({ type: 'heading' }, 'Instructions');
    case 'files:download-file': {
      // Educates' fields: path (relative to the home folder), download (the name to save as), preview.
      const path = homePath(fields);
      const name = optionalText(fields, 'download') ?? '';
      if (name.includes('/')) throw new FenceProblem('download must be a file name, without /');
      const preview = booleanField(fields, 'preview', false);
      return own({ type: 'download', path, name, preview }, `Download ${name || path.split('/').pop() || path}`, path);
    }
    case 'files:copy-file': {
      const path = homePath(fields);
      const preview = booleanField(fields, 'preview', false);
      return own({ type: 'copy-file', path, preview }, `Copy the text of ${path} to the clipboard`, path);
    }
    case 'files:upload-file': {
      const name = requiredText(fields, 'path');
      if (name.includes('/') || name.includes('\0') || name === '.' || name === '..') {
        throw new FenceProblem('path must be a file name: uploads go into ~/uploads');
      }
      return own({ type: 'upload', name }, `Upload a file as uploads/${name}`);
    }
    case 'files:upload-files':
      if (fields.directory !== undefined && fields.directory !== null && fields.directory !== '.') {
        throw new FenceProblem('directory is not supported here: uploads go into ~/uploads');
      }
      return own({ type: 'upload', name: null }, 'Upload files into uploads');
    case 'examiner:execute-test':
      return check(fields, context);
    default:
      if (word.startsWith('editor:')) return editorFence(word, fields);
      throw new Error(`${word} is listed as known but not parsed`);
  }
}

function sectionName(fields: Record<string, unknown>): string {
  return optionalText(fields, 'name') ?? '*';
}

/** A file named relative to the home folder (`~/` and `$HOME/` allowed, as Educates does). */
function homePath(fields: Record<string, unknown>): string {
  if (fields.url !== undefined && fields.path === undefined) {
    throw new FenceProblem('url is not supported here (the page may only reach its own server): give path');
  }
  const path = requiredText(fields, 'path').replace(/^(~|\$HOME)\//, '');
  if (path.includes('\0')) throw new FenceProblem('path must be a file path');
  return path;
}

function check(fields: Record<string, unknown>, context: FenceContext): OwnFence {
  const name = requiredText(fields, 'name');
  if (!validExaminerName(name)) {
    throw new FenceProblem('name must be a file name in examiner/tests (or a folder of it), without . or .. segments');
  }
  const url = optionalText(fields, 'url');
  if (url !== null && !/^https?:\/\/[^\s]+$/i.test(url)) throw new FenceProblem('url must be an http(s) URL');
  if (url === null && !context.examinerExists(name)) {
    throw new FenceProblem(`workshop/examiner/tests/${name} does not exist or is not executable`);
  }
  const title = optionalText(fields, 'title') ?? name;
  const args = fields.args ?? [];
  if (!Array.isArray(args) || !args.every((arg) => ['string', 'number', 'boolean'].includes(typeof arg))) {
    throw new FenceProblem('args must be a list of words');
  }
  // 0 is the default, as Educates has it.
  const timeout = numberField(fields, 'timeout', EXAMINER_TIMEOUT.default) || EXAMINER_TIMEOUT.default;
  if (!(timeout > 0)) throw new FenceProblem('timeout must be a number of seconds above 0');
  const retries = foreverField(fields, 'retries', 0);
  if (!Number.isInteger(retries) && retries !== Number.POSITIVE_INFINITY) {
    throw new FenceProblem('retries must be a whole number, or .inf or -1 for until it passes');
  }
  const delay = numberField(fields, 'delay', 1);
  const inputs = inputsField(fields);
  // Longer ones (Educates allows any) run as long as a request can wait: the block still works.
  const allowed = Math.min(timeout, EXAMINER_TIMEOUT.max);
  return {
    kind: 'check',
    action: { type: 'examiner', name, title, args: args.map(String), timeout: allowed, retries, delay, inputs },
    label: title,
    shown: '',
    lang: '',
    timeout: allowed,
    url,
  };
}

/** Educates' `inputs` (jsonform's schema and form): the fields a form of plain inputs can hold. */
function inputsField(fields: Record<string, unknown>): CheckInputs | null {
  const inputs = fields.inputs;
  if (inputs === undefined || inputs === null) return null;
  if (typeof inputs !== 'object' || Array.isArray(inputs)) throw new FenceProblem('inputs must be YAML fields');
  const { schema, form } = inputs as Record<string, unknown>;
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new FenceProblem('inputs.schema must map each field’s name to its type and title');
  }
  const entries = Object.entries(schema as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_INPUT_FIELDS) {
    throw new FenceProblem(`inputs.schema must have 1 to ${MAX_INPUT_FIELDS} fields`);
  }
  const result: InputField[] = entries.map(([name, raw]) => {
    const where = `inputs.schema.${name}`;
    if (!INPUT_NAME.test(name)) throw new FenceProblem(`${where}: a field's name is letters, digits, _ and -`);
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new FenceProblem(`${where} must be YAML fields`);
    const spec = raw as Record<string, unknown>;
    const type = spec.type ?? 'string';
    if (type !== 'string' && type !== 'integer' && type !== 'number' && type !== 'boolean') {
      throw new FenceProblem(
        `${where}: type ${String(type)} is not one a form here holds (string, integer, number, boolean)`,
      );
    }
    const choices = spec.enum;
    if (choices !== undefined && (!Array.isArray(choices) || choices.some((c) => typeof c === 'object'))) {
      throw new FenceProblem(`${where}: enum must be a list of values`);
    }
    return {
      name,
      type,
      title: optionalText(spec, 'title') ?? name,
      default: optionalText(spec, 'default') ?? '',
      required: booleanField(spec, 'required', false),
      choices: Array.isArray(choices) ? choices.map(String) : null,
    };
  });
  let submit = 'Submit';
  if (Array.isArray(form)) {
    const button = form.find(
      (item): item is Record<string, unknown> =>
        !!item && typeof item === 'object' && (item as Record<string, unknown>).type === 'submit',
    );
    if (button) submit = optionalText(button, 'title') ?? submit;
  }
  return { fields: result, submit };
}

function yamlFields(body: string, context: FenceContext): Record<string, unknown> {
  let value: unknown;
  try {
    value = context.parseYaml(body);
  } catch (error) {
    throw new FenceProblem(`the block is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new FenceProblem('the block must be YAML fields');
  return value as Record<string, unknown>;
}

/** One session: 1, 2, 3, a terminal tab's, or one a page makes with dashboard:create-dashboard. */
function sessionField(fields: Record<string, unknown>, context: FenceContext): string {
  const session = optionalText(fields, 'session') ?? '1';
  const known = (TERMINAL_SESSIONS as readonly string[]).includes(session) || context.tabSessions.has(session);
  // A name (not a number) may be a terminal tab a page opens; a number other than 1-3 is a slip.
  if (!known && (/^\d+$/.test(session) || !DASHBOARD_SESSION.test(session))) {
    const custom = [...context.tabSessions.keys()];
    throw new FenceProblem(
      `session must be 1, 2 or 3${custom.length ? `, ${custom.join(', ')}` : ''}, * (every terminal) or the name of a terminal tab a page opens`,
    );
  }
  return session;
}

/** The sessions a terminal:* block acts on: one, or every terminal of the Terminal tab for "*". */
function sessionsField(fields: Record<string, unknown>, context: FenceContext): string[] {
  if (optionalText(fields, 'session') === '*') return [...context.allSessions];
  return [sessionField(fields, context)];
}

function describeSessions(sessions: readonly string[], context: FenceContext): string {
  return sessions.length > 1 ? 'every terminal' : describeSession(sessions[0] ?? '1', context);
}

function describeSession(session: string, context: FenceContext): string {
  const tab = context.tabSessions.get(session);
  return tab ? `the ${tab} terminal` : `terminal ${session}`;
}
