// Hugo shortcodes of Educates pages, done before Liquid (which would take
// {{< for its own syntax): {{< param name >}}, {{< baseurl >}} (in both layouts:
// a relative path to the root of the workshop's files, so it holds under any
// URL prefix), {{< note >}} / warning / danger
// (optionally title="…", in the {{< >}} and {{% %}} forms), {{< pathway name >}}
// (its text only on that pathway), {{< copy >}} after a code span, and the
// escaped form {{</* name */>}} that shows the shortcode itself. Everything
// they produce is held (see Placeholders) so later stages leave it alone; an
// unknown shortcode stays as written and is reported.
import { escapeHtml } from './escape.js';
import type { Placeholders } from './templates.js';
import type { Variables } from './variables.js';

export type Markup = 'markdown' | 'asciidoc';

export interface ShortcodePage {
  text: string;
  markup: Markup;
  variables: Variables;
  /** What {{< baseurl >}} stands for: the path from where the page's links start to the root of its files. */
  baseUrl: string;
  held: Placeholders;
  copyMarker: string;
  /** Names of {{< param >}} that nothing defines. */
  unknownParams: Set<string>;
  /** Shortcodes this dashboard does not know, by name. */
  unknownShortcodes: Set<string>;
}

/** A shortcode that is opened and never closed, or closed and never opened: the page shows it in its place. */
export class ShortcodeError extends Error {}

const ESCAPED = /\{\{([<%])\/\*([\s\S]*?)\*\/([>%])\}\}/g;
const SHORTCODE =
  /\{\{(<|%)\s*(\/?)\s*([A-Za-z][\w-]*)((?:\s+(?:[\w-]+=)?(?:"[^"]*"|'[^']*'|[^\s"'>%}]+))*)\s*(>|%)\}\}/g;
const ARGUMENT = /(?:([\w-]+)=)?(?:"([^"]*)"|'([^']*)'|([^\s"'>%}]+))/g;

const ADMONITIONS: Record<string, string> = { note: 'Note', warning: 'Warning', danger: 'Danger' };

export function expandShortcodes(page: ShortcodePage): string {
  const { held } = page;
  const text = page.text.replace(ESCAPED, (_all, open: string, inner: string, close: string) =>
    held.hold(`{{${open}${inner}${close}}}`),
  );
  const open: { name: string; written: string; shown: boolean }[] = [];
  const shown = () => open.every((entry) => entry.shown);
  let out = '';
  let at = 0;
  for (const match of text.matchAll(SHORTCODE)) {
    const [written, delimiter, closing, rawName, rawArgs, end] = match as unknown as string[];
    const name = (rawName as string).toLowerCase();
    if (shown()) out += text.slice(at, match.index);
    at = (match.index ?? 0) + (written as string).length;
    // {{< … %}} is not a shortcode: leave it to be shown.
    if ((delimiter === '<') !== (end === '>')) {
      if (shown()) out += held.hold(written as string);
      continue;
    }
    const args = parseArguments(rawArgs ?? '');
    if (closing) {
      if (!(name in ADMONITIONS) && name !== 'pathway') {
        if (shown()) out += held.hold(written as string);
        continue;
      }
      const last = open.pop();
      if (!last || last.name !== name) {
        throw new ShortcodeError(
          `${written} closes ${last ? `${last.written}, which needs {{< /${last.name} >}} first` : 'nothing'}`,
        );
      }
      if (shown() && name in ADMONITIONS) out += held.hold(admonitionEnd(page.markup));
      continue;
    }
    switch (name) {
      case 'param': {
        const variable = args.positional[0] ?? args.named.name ?? '';
        const value = page.variables.get(variable);
        if (!shown()) break;
        if (value === undefined) {
          page.unknownParams.add(variable);
          out += held.hold(written as string);
        } else {
          out += held.hold(value);
        }
        break;
      }
      case 'copy':
        if (shown()) out += page.copyMarker;
        break;
      case 'baseurl':
        if (shown()) out += held.hold(page.baseUrl);
        break;
      case 'note':
      case 'warning':
      case 'danger': {
        const title = args.named.title ?? args.positional[0] ?? ADMONITIONS[name] ?? name;
        if (shown()) out += held.hold(admonitionStart(page.markup, name, title));
        open.push({ name, written: written as string, shown: true });
        break;
      }
      case 'pathway': {
        const wanted = args.positional[0] ?? args.named.name ?? '';
        open.push({ name, written: written as string, shown: page.variables.get('pathway_name') === wanted });
        break;
      }
      default:
        if (shown()) {
          page.unknownShortcodes.add(name);
          out += held.hold(written as string);
        }
    }
  }
  if (shown()) out += text.slice(at);
  const unclosed = open.pop();
  if (unclosed) throw new ShortcodeError(`${unclosed.written} is never closed ({{< /${unclosed.name} >}})`);
  return out;
}

function parseArguments(raw: string): { positional: string[]; named: Record<string, string> } {
  const positional: string[] = [];
  const named: Record<string, string> = {};
  for (const match of raw.matchAll(ARGUMENT)) {
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    if (match[1]) named[match[1]] = value;
    else positional.push(value);
  }
  return { positional, named };
}

/** Blank lines around the HTML, so the text inside is still Markdown (or AsciiDoc, in a passthrough). */
function admonitionStart(markup: Markup, kind: string, title: string): string {
  const html = `<div class="wt-admonition wt-admonition-${kind}">\n<p class="wt-admonition-title">${escapeHtml(title)}</p>`;
  return markup === 'asciidoc' ? `\n\n++++\n${html}\n++++\n\n` : `\n\n${html}\n\n`;
}

function admonitionEnd(markup: Markup): string {
  return markup === 'asciidoc' ? '\n\n++++\n</div>\n++++\n\n' : '\n\n</div>\n\n';
}

/**
 * {{< baseurl >}} for a page whose relative links start at `base` (see
 * PageSource.base: `page/` for a Hugo page, `dir/page.md` for a classic one):
 * `..` for each folder between it and content/, which is served at the root
 * of the files beside the pages (with Hugo's static/ behind it).
 */
export function baseUrlFor(base: string): string {
  const depth = base.split('/').slice(0, -1).filter(Boolean).length;
  return Array.from({ length: depth }, () => '..').join('/') || '.';
}

/** What the author is told about shortcodes and params nothing defines, for one page. */
export function shortcodeProblems(page: string, unknownParams: Set<string>, unknownShortcodes: Set<string>): string[] {
  const problems: string[] = [];
  if (unknownParams.size > 0) {
    problems.push(
      `page ${page}: ${[...unknownParams].map((name) => `{{< param ${name} >}}`).join(', ')}: not a variable this dashboard documents or the workshop declares: shown as written`,
    );
  }
  if (unknownShortcodes.size > 0) {
    problems.push(
      `page ${page}: ${[...unknownShortcodes].map((name) => `{{< ${name} >}}`).join(', ')}: not a shortcode this dashboard knows (param, baseurl, note, warning, danger, pathway, copy): shown as written`,
    );
  }
  return problems;
}
