// Liquid in workshop pages, as the classic renderers apply it (liquidjs):
// {{ name }} with filters, {% raw %}, {% if %}, {% include %} from the workshop
// folder only. Better than they are in two ways: a name neither documented nor
// declared is never silently empty (its {{ }} stays as written, and the author
// is told), and {{ }} that is not Liquid at all (a Go template such as
// {{.spec.host}} in an oc command) is left as written instead of vanishing.
import { randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Liquid, Tokenizer } from 'liquidjs';
import { isInside } from '../../common/src/open-inside.js';
import { environmentVariable, isDocumented, type Variables } from './variables.js';

/**
 * Text set aside while later stages run over a page (Liquid, %name%), put back
 * before the page becomes HTML: what must reach the page exactly as it is.
 */
export class Placeholders {
  private readonly marker = `wtheld${randomBytes(8).toString('hex')}`;
  private readonly held: string[] = [];

  hold(text: string): string {
    this.held.push(text);
    return `${this.marker}n${this.held.length - 1}e`;
  }

  restore(text: string): string {
    return text.replace(new RegExp(`${this.marker}n(\\d+)e`, 'g'), (_all, i: string) => this.held[Number(i)] ?? '');
  }
}

/** Bounds for one page, so a loop or an include of itself cannot stall the start. */
const LIMITS = {
  /** Milliseconds of rendering per page. */
  renderMs: 2000,
  /** Roughly the bytes Liquid may allocate for one page. */
  memory: 64 * 1024 * 1024,
  /** Files one page may include, nested ones counted. */
  includes: 100,
};

/** Raised for an include that would read outside the workshop folder: the page shows it in its place. */
export class IncludeRefused extends Error {}

export interface LiquidOptions {
  liquidjs: { Liquid: typeof Liquid; Tokenizer: typeof Tokenizer };
  variables: Variables;
  env: Readonly<Record<string, string>>;
  /** Where {% include 'name' %} looks first (content/). */
  contentDir: string;
  /** Nothing outside it is ever read, however a path is written or linked. */
  workshopDir: string;
}

export interface LiquidPage {
  text: string;
  held: Placeholders;
  /** What {{ copy }} stands for (an inline copy after a code span). */
  copyMarker: string;
  /** Names used that are neither documented nor declared, in order of first use. */
  unknown: Set<string>;
}

/** A Liquid engine for the workshop's pages; render() throws for bad Liquid or a refused include. */
export function createLiquid(options: LiquidOptions): (page: LiquidPage) => string {
  const { Liquid: Engine, Tokenizer: LiquidTokenizer } = options.liquidjs;
  const workshopDir = path.resolve(options.workshopDir);
  const workshopReal = realOrSelf(workshopDir);
  const scope: Record<string, string> = Object.create(null);
  for (const [name, value] of options.variables) scope[name] = value;
  const known = (name: string) =>
    name in scope || name === 'copy' || environmentVariable(name, options.env) !== undefined;
  let current: { page: LiquidPage; includes: number } | null = null;

  const engine: Liquid = new Engine({
    root: [path.resolve(options.contentDir)],
    extname: '',
    strictFilters: true,
    ownPropertyOnly: true,
    parseLimit: 4 * 1024 * 1024,
    fs: {
      // Every candidate "exists", so the read below decides and says why it refuses.
      exists: async () => true,
      existsSync: () => true,
      readFile: async (file) => readInclude(file),
      readFileSync: (file) => readInclude(file),
      resolve: (dir, file, ext) => path.resolve(dir, file + ext),
      dirname: path.dirname,
      sep: path.sep,
    },
  });

  function readInclude(file: string): string {
    const page = current;
    if (!page) throw new IncludeRefused('includes are read only while a page renders');
    const shown = path.relative(workshopDir, file);
    if (!isInside(workshopDir, file)) {
      throw new IncludeRefused(`include ${shown}: outside the workshop folder, not read`);
    }
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw new IncludeRefused(`include ${shown}: no such file in the workshop folder`);
    }
    if (!isInside(workshopReal, real)) {
      throw new IncludeRefused(`include ${shown}: links outside the workshop folder, not read`);
    }
    page.includes += 1;
    if (page.includes > LIMITS.includes) {
      throw new IncludeRefused(`more than ${LIMITS.includes} includes in one page (does a file include itself?)`);
    }
    return keepUnknownAsWritten(readFileSync(real, 'utf8'), page.page);
  }

  /**
   * {{ }} that is not Liquid, or whose name nothing defines, becomes held text
   * (shown as written). Liquid that is merely wrong (an unknown filter, an
   * unclosed tag) is left for the render to refuse, so the author hears of it.
   */
  function keepUnknownAsWritten(text: string, page: LiquidPage): string {
    const lenient = holdOutputs(text, page, (content, written) => {
      if (!LIQUID_VALUE_START.test(content)) return true;
      const root = rootName(content);
      if (root === undefined || known(root) || parses(written)) return false;
      page.unknown.add(root);
      return true;
    });
    const globals = engine.globalVariablesSync(engine.parse(lenient), { partials: false });
    const unknown = new Set(globals.filter((name) => !known(name)));
    for (const name of unknown) page.unknown.add(name);
    if (unknown.size === 0) return lenient;
    return holdOutputs(lenient, page, (content) => {
      const root = rootName(content);
      return root !== undefined && unknown.has(root);
    });
  }

  function holdOutputs(
    text: string,
    page: LiquidPage,
    asWritten: (content: string, written: string) => boolean,
  ): string {
    const tokens = new LiquidTokenizer(text).readTopLevelTokens();
    let out = '';
    let at = 0;
    let commentDepth = 0;
    for (const token of tokens) {
      if (token.kind === TAG_KIND) {
        const name = (token as { name?: string }).name;
        if (name === 'comment') commentDepth += 1;
        if (name === 'endcomment') commentDepth = Math.max(0, commentDepth - 1);
        continue;
      }
      if (token.kind !== OUTPUT_KIND || commentDepth > 0) continue;
      const written = token.getText();
      if (!asWritten((token as { content?: string }).content?.trim() ?? '', written)) continue;
      out += text.slice(at, token.begin) + page.held.hold(written);
      at = token.end;
    }
    return out + text.slice(at);
  }

  function parses(output: string): boolean {
    try {
      engine.parse(output);
      return true;
    } catch {
      return false;
    }
  }

  return (page) => {
    current = { page, includes: 0 };
    try {
      const text = keepUnknownAsWritten(page.text, page);
      return engine.parseAndRenderSync(
        text,
        { ...scope, ...environmentScope(options.env, text), copy: page.copyMarker },
        { renderLimit: LIMITS.renderMs, memoryLimit: LIMITS.memory },
      );
    } finally {
      current = null;
    }
  };
}

/** liquidjs's TokenKind values for tags and outputs (a const enum there). */
const TAG_KIND = 4;
const OUTPUT_KIND = 8;

/** How a Liquid value starts: a name, a quote, a number or a range. */
const LIQUID_VALUE_START = /^[A-Za-z_'"(\d-]/;

function rootName(content: string): string | undefined {
  return /^[A-Za-z_][\w-]*\??/.exec(content)?.[0];
}

/** ENV_<name> for the names a page uses (not the whole environment for every page). */
function environmentScope(env: Readonly<Record<string, string>>, text: string): Record<string, string> {
  const scope: Record<string, string> = {};
  for (const match of text.matchAll(/\bENV_[A-Za-z_][A-Za-z0-9_]*/g)) {
    const value = environmentVariable(match[0], env);
    if (value !== undefined) scope[match[0]] = value;
  }
  return scope;
}

function realOrSelf(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/** What the author is told about the names a page used that nothing defines. */
export function unknownNamesProblems(page: string, names: Iterable<string>): string[] {
  const list = [...names].filter((name) => !isDocumented(name));
  const environment = list.filter((name) => name.startsWith('ENV_'));
  const others = list.filter((name) => !name.startsWith('ENV_'));
  const problems: string[] = [];
  const shown = (group: string[]) => group.map((name) => `{{ ${name} }}`).join(', ');
  if (others.length > 0) {
    problems.push(
      `page ${page}: ${shown(others)} ${others.length === 1 ? 'is' : 'are'} not a variable this dashboard documents or the workshop declares (config.vars): shown as written`,
    );
  }
  if (environment.length > 0) {
    problems.push(
      `page ${page}: ${shown(environment)}: ${environment.map((name) => name.slice(4)).join(', ')} not set in the shells' environment: shown as written`,
    );
  }
  return problems;
}
