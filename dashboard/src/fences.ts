// Fenced code blocks that are actions, by their info string: the classic
// forms (execute, execute-1/2/3, execute-all, copy, copy-and-edit, a block
// that is only <ctrl+c>) whose body is the text, and the namespaced forms
// (terminal:execute, workshop:copy, dashboard:open-url, examiner:execute-test,
// files:download-file…)
// whose body is YAML. Anything else is a language for highlighting, unless it
// looks like an action this dashboard does not know: that is shown as plain
// code with a note for the author.

import { PROXY_TIMEOUT_MS } from '../../common/src/terminal-link.js';
import { type Action, TERMINAL_SESSIONS, validExaminerName } from './actions.js';

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
}

export type Fence =
  | { kind: 'code'; lang: string }
  | { kind: 'action'; action: Action; label: string; shown: string; lang: string }
  | { kind: 'check'; action: Action & { type: 'examiner' }; label: string; timeout: number }
  | { kind: 'unknown'; note: string };

const CLASSIC_EXECUTE = /^execute(?:-(1|2|3|all))?$/;
const NAMESPACED = /^[a-z][a-z0-9-]*:[a-z][a-z0-9-]*$/i;
/**
 * Default and largest examiner timeouts, in seconds: a check answers one
 * request, so it ends well before the auth proxy gives up on that request.
 */
export const EXAMINER_TIMEOUT = { default: 15, max: PROXY_TIMEOUT_MS / 1000 - 10 };

/** What is wrong with a block, shown after its info string (so it starts with ": " or " "). */
class FenceProblem extends Error {
  constructor(message: string, separator = ': ') {
    super(`${separator}${message}`);
  }
}

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
    if (body.trim() === '<ctrl+c>') {
      return action({ type: 'interrupt', sessions }, `Interrupt ${where} (Ctrl+C)`, '<ctrl+c>', '');
    }
    return action({ type: 'execute', sessions, command: body, clear: false }, `Run in ${where}`, body, 'bash');
  }
  if (word === 'copy' || word === 'copy-and-edit') return copy(body, word === 'copy-and-edit', '');
  if (/^(execute|copy)-/.test(word) || NAMESPACED.test(word)) return namespaced(word, body, context);
  return { kind: 'code', lang: word };
}

function namespaced(word: string, body: string, context: FenceContext): Fence {
  switch (word) {
    case 'terminal:execute': {
      const fields = yamlFields(body, context);
      const session = sessionField(fields, context);
      const command = requiredText(fields, 'command');
      const clear = booleanField(fields, 'clear', false);
      return action(
        { type: 'execute', sessions: [session], command, clear },
        `Run in ${describeSession(session, context)}${clear ? ' (after clearing it)' : ''}`,
        command,
        'bash',
      );
    }
    case 'terminal:execute-all': {
      const fields = yamlFields(body, context);
      const command = requiredText(fields, 'command');
      const clear = booleanField(fields, 'clear', false);
      return action(
        { type: 'execute', sessions: [...context.allSessions], command, clear },
        `Run in every terminal${clear ? ' (after clearing them)' : ''}`,
        command,
        'bash',
      );
    }
    case 'terminal:interrupt': {
      const session = sessionField(yamlFields(body, context), context);
      return action(
        { type: 'interrupt', sessions: [session] },
        `Interrupt ${describeSession(session, context)} (Ctrl+C)`,
        '<ctrl+c>',
        '',
      );
    }
    case 'terminal:interrupt-all':
      yamlFields(body, context);
      return action(
        { type: 'interrupt', sessions: [...context.allSessions] },
        'Interrupt every terminal (Ctrl+C)',
        '<ctrl+c>',
        '',
      );
    case 'terminal:clear-all':
      yamlFields(body, context);
      return action({ type: 'clear', sessions: [...context.allSessions] }, 'Clear every terminal', '', '');
    case 'terminal:input': {
      const fields = yamlFields(body, context);
      const session = sessionField(fields, context);
      const text = requiredText(fields, 'text');
      const endl = booleanField(fields, 'endl', true);
      return action(
        { type: 'input', session, text, endl },
        `Type into ${describeSession(session, context)}${endl ? ' and press Enter' : ''}`,
        text,
        '',
      );
    }
    case 'workshop:copy':
    case 'workshop:copy-and-edit':
      return copy(requiredText(yamlFields(body, context), 'text'), word === 'workshop:copy-and-edit', '');
    case 'dashboard:open-url': {
      const url = requiredText(yamlFields(body, context), 'url');
      if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new FenceProblem('url must be an http(s) URL');
      return action({ type: 'open-url', url }, 'Open in a new browser tab', url, '');
    }
    case 'dashboard:open-dashboard': {
      const name = requiredText(yamlFields(body, context), 'name');
      const tab = context.tabNames.find((known) => known.toLowerCase() === name.toLowerCase());
      if (!tab) throw new FenceProblem(`there is no tab named ${name} (there are: ${context.tabNames.join(', ')})`);
      return action({ type: 'open-dashboard', name: tab }, `Switch to the ${tab} tab`, tab, '');
    }
    case 'examiner:execute-test':
      return check(yamlFields(body, context), context);
    case 'files:download-file': {
      // Educates' fields: path (relative to the home folder), download (the name to save as), title.
      const fields = yamlFields(body, context);
      const path = requiredText(fields, 'path');
      if (path.includes('\0')) throw new FenceProblem('path must be a file path');
      const name = optionalText(fields, 'download') ?? '';
      if (name.includes('/')) throw new FenceProblem('download must be a file name, without /');
      const label = optionalText(fields, 'title') ?? `Download ${name || path.split('/').pop() || path}`;
      return action({ type: 'download', path, name }, label, path, '');
    }
    default:
      throw new FenceProblem(
        'is not an action this dashboard knows, so this block is plain text. Known: execute, execute-1, execute-2, execute-3, execute-all, copy, copy-and-edit, terminal:execute, terminal:execute-all, terminal:interrupt, terminal:interrupt-all, terminal:input, terminal:clear-all, workshop:copy, workshop:copy-and-edit, dashboard:open-url, dashboard:open-dashboard, examiner:execute-test, files:download-file.',
        ' ',
      );
  }
}

function action(action: Action, label: string, shown: string, lang: string): Fence {
  return { kind: 'action', action, label, shown, lang };
}

function copy(text: string, edit: boolean, lang: string): Fence {
  return action(
    { type: 'copy', text, edit },
    edit ? 'Copy to the clipboard, then edit before use' : 'Copy to the clipboard',
    text,
    lang,
  );
}

function check(fields: Record<string, unknown>, context: FenceContext): Fence {
  const name = requiredText(fields, 'name');
  if (!validExaminerName(name)) throw new FenceProblem('name must be a file name in examiner/tests (no / or ..)');
  if (!context.examinerExists(name)) {
    throw new FenceProblem(`workshop/examiner/tests/${name} does not exist or is not executable`);
  }
  const title = optionalText(fields, 'title') ?? name;
  const args = fields.args ?? [];
  if (!Array.isArray(args) || !args.every((arg) => ['string', 'number', 'boolean'].includes(typeof arg))) {
    throw new FenceProblem('args must be a list of words');
  }
  const timeout = numberField(fields, 'timeout', EXAMINER_TIMEOUT.default);
  if (!(timeout > 0)) throw new FenceProblem('timeout must be a number of seconds above 0');
  const retries = numberField(fields, 'retries', 0);
  if (!Number.isInteger(retries) && retries !== Number.POSITIVE_INFINITY) {
    throw new FenceProblem('retries must be a whole number or .inf');
  }
  const delay = numberField(fields, 'delay', 1);
  const autostart = booleanField(fields, 'autostart', false);
  return {
    kind: 'check',
    action: { type: 'examiner', name, title, args: args.map(String), retries, delay, autostart },
    label: title,
    // Longer ones (Educates allows any) run as long as a request can wait: the block still works.
    timeout: Math.min(timeout, EXAMINER_TIMEOUT.max),
  };
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

function requiredText(fields: Record<string, unknown>, name: string): string {
  const value = optionalText(fields, name);
  if (value === null || value === '') throw new FenceProblem(`${name} is missing`);
  return value;
}

function optionalText(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.replace(/\n$/, '');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new FenceProblem(`${name} must be text`);
}

function booleanField(fields: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new FenceProblem(`${name} must be true or false`);
  return value;
}

function numberField(fields: Record<string, unknown>, name: string, fallback: number): number {
  const value = fields[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new FenceProblem(`${name} must be a number of 0 or more`);
  }
  return value;
}

function sessionField(fields: Record<string, unknown>, context: FenceContext): string {
  const session = optionalText(fields, 'session') ?? '1';
  if (!(TERMINAL_SESSIONS as readonly string[]).includes(session) && !context.tabSessions.has(session)) {
    const custom = [...context.tabSessions.keys()];
    throw new FenceProblem(`session must be 1, 2 or 3${custom.length ? ` or ${custom.join(', ')}` : ''}`);
  }
  return session;
}

function describeSession(session: string, context: FenceContext): string {
  const tab = context.tabSessions.get(session);
  return tab ? `the ${tab} terminal` : `terminal ${session}`;
}
