// The workshop folder in the Learning Center / eduk8s "classic" layout, read
// and checked once at start: modules.yaml (the pages there are, and data
// variables), workshop.yaml (the name, the pages in use and their order, the
// terminals and tabs), content/<page>.md or .adoc. Every problem found is collected
// with the file it is in, for the log and for the dashboard to show.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SESSION_NAME } from '../../terminal-server/src/protocol.js';
import type { DashboardTab, TerminalLayout } from './page-data.js';
import { declaredVariables, substitute, type Variables } from './variables.js';

/** How many terminals each layout stacks on the Terminal tab. */
export const LAYOUT_TERMINALS: Record<TerminalLayout, number> = { single: 1, split: 2, 'split/2': 3 };

export interface PageSource {
  /** Path under content/ without extension, as modules.yaml names it. */
  name: string;
  title: string;
  /** The label of the button that goes on to the next page. */
  exitSign: string | null;
  /** The Markdown or AsciiDoc file; null when the page cannot be shown (see problem). */
  file: string | null;
  problem: string | null;
}

export interface Workshop {
  dir: string;
  contentDir: string;
  examinerDir: string;
  name: string;
  pages: PageSource[];
  layout: TerminalLayout;
  tabs: DashboardTab[];
  variables: Variables;
  problems: string[];
}

/** Page names are paths under content/: plain segments only, never . or .. */
const PAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;
/** Names the dashboard uses for its own tabs. */
const RESERVED_TABS = new Set(['terminal', 'console', 'instructions']);

export function validPageName(name: string): boolean {
  return PAGE_NAME.test(name) && !name.split('/').some((segment) => segment === '..' || segment === '.');
}

/**
 * Reads the workshop folder; null when there is none (the dashboard then
 * shows only terminals). `variables` are the built-in ones; `env` may
 * override the workshop's own.
 */
export function loadWorkshop(options: {
  dir: string;
  variables: Variables;
  env: Readonly<Record<string, string>>;
  consoleUrl: string;
  /** The YAML parser (see libraries.ts). */
  parseYaml(text: string): unknown;
}): Workshop | null {
  const dir = options.dir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return null;
  const problems: string[] = [];
  const contentDir = path.join(dir, 'content');
  const modulesFile = readYaml(path.join(dir, 'modules.yaml'), options.parseYaml, problems);
  const workshopFile = readYaml(path.join(dir, 'workshop.yaml'), options.parseYaml, problems);

  // modules.yaml: { modules: { <page>: { name, exit_sign } }, config: { vars: [{ name, value }] } }
  const modules = new Map<string, { title: string | null; exitSign: string | null }>();
  const declared = asObject(modulesFile?.modules, 'modules.yaml: modules', problems);
  for (const [name, entry] of Object.entries(declared ?? {})) {
    const fields = asObject(entry ?? {}, `modules.yaml: modules.${name}`, problems) ?? {};
    modules.set(name, {
      title: optionalString(fields.name, `modules.yaml: modules.${name}.name`, problems),
      exitSign: optionalString(fields.exit_sign, `modules.yaml: modules.${name}.exit_sign`, problems),
    });
  }

  const variables = new Map(options.variables);
  const config = asObject(modulesFile?.config, 'modules.yaml: config', problems);
  const engine = config?.template_engine;
  // Liquid applies to every classic page (as in Educates); Homeroom asked for it by this name.
  if (engine !== undefined && engine !== null && engine !== 'liquid.js' && engine !== 'liquid') {
    problems.push('modules.yaml: config.template_engine: only liquid.js is known (pages are rendered with Liquid)');
  }
  const declaredVars = declaredVariables({
    vars: config?.vars,
    overrides: workshopFile?.vars,
    env: options.env,
    where: 'modules.yaml: config.vars',
    overridesWhere: 'workshop.yaml: vars',
    problems,
  });
  for (const [name, value] of declaredVars) variables.set(name, value);

  // workshop.yaml: { name, modules: { activate: [pages] }, terminals, tabs }
  const name = optionalString(workshopFile?.name, 'workshop.yaml: name', problems) ?? 'Workshop';
  const activate = asObject(workshopFile?.modules, 'workshop.yaml: modules', problems)?.activate;
  let order: string[];
  if (Array.isArray(activate)) {
    order = activate.map(String);
  } else {
    if (activate !== undefined) problems.push('workshop.yaml: modules.activate must be a list of pages');
    // Without a list, every page modules.yaml declares, in its order.
    order = [...modules.keys()];
  }
  if (order.length === 0) problems.push('no pages: list them in workshop.yaml under modules.activate');

  const pages: PageSource[] = [];
  const seen = new Set<string>();
  for (const page of order) {
    if (seen.has(page)) {
      problems.push(`workshop.yaml: modules.activate lists ${page} twice`);
      continue;
    }
    seen.add(page);
    pages.push(pageSource(page, modules, contentDir, problems));
  }

  const layout = terminalLayout(workshopFile?.terminals, problems);
  const tabs = dashboardTabs(workshopFile?.tabs, variables, problems);
  if (options.consoleUrl && tabs.some((tab) => tab.name.toLowerCase() === 'console')) {
    problems.push('workshop.yaml: tabs: the name Console is taken by the console (CONSOLE_URL)');
  }
  return {
    dir,
    contentDir,
    examinerDir: path.join(dir, 'examiner', 'tests'),
    name,
    pages,
    layout,
    tabs,
    variables,
    problems,
  };
}

function pageSource(
  name: string,
  modules: Map<string, { title: string | null; exitSign: string | null }>,
  contentDir: string,
  problems: string[],
): PageSource {
  const module = modules.get(name);
  const page: PageSource = {
    name,
    title: module?.title ?? name,
    exitSign: module?.exitSign ?? null,
    file: null,
    problem: null,
  };
  const fail = (problem: string) => {
    page.problem = problem;
    problems.push(problem);
    return page;
  };
  if (!validPageName(name)) return fail(`page ${JSON.stringify(name)}: not a path under content/`);
  if (modules.size > 0 && !module)
    problems.push(`page ${name} is not declared in modules.yaml (its title is its name)`);
  const markdown = path.join(contentDir, `${name}.md`);
  if (isFile(markdown)) {
    page.file = markdown;
    return page;
  }
  const asciidoc = path.join(contentDir, `${name}.adoc`);
  if (isFile(asciidoc)) {
    page.file = asciidoc;
    return page;
  }
  return fail(`page ${name}: content/${name}.md does not exist (nor .adoc)`);
}

function terminalLayout(value: unknown, problems: string[]): TerminalLayout {
  if (value === undefined || value === null || value === 'single' || value === 'default') return 'single';
  if (value === 'split' || value === 'split/2') return value;
  problems.push('workshop.yaml: terminals must be single (one terminal), split (two) or split/2 (three)');
  return 'single';
}

function dashboardTabs(value: unknown, variables: Variables, problems: string[]): DashboardTab[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push('workshop.yaml: tabs must be a list of { name, url }');
    return [];
  }
  const tabs: DashboardTab[] = [];
  for (const [i, entry] of value.entries()) {
    const where = `workshop.yaml: tabs[${i}]`;
    const fields = asObject(entry, where, problems);
    const name = fields?.name;
    const raw = fields?.url;
    if (typeof name !== 'string' || !name.trim() || typeof raw !== 'string') {
      problems.push(`${where} needs a name and a url`);
      continue;
    }
    if (RESERVED_TABS.has(name.trim().toLowerCase()) || tabs.some((tab) => tab.name === name.trim())) {
      problems.push(`${where}: the name ${name} is taken`);
      continue;
    }
    const url = substitute(raw.trim(), variables);
    if (url.startsWith('terminal:')) {
      const session = url.slice('terminal:'.length);
      if (!SESSION_NAME.test(session)) {
        problems.push(`${where}: terminal:<name> takes a session name of letters, digits, _ and -`);
        continue;
      }
      tabs.push({ name: name.trim(), session });
      continue;
    }
    if (!frameableUrl(url)) {
      problems.push(`${where}: url must be an http(s) URL or terminal:<name> (got ${JSON.stringify(url)})`);
      continue;
    }
    tabs.push({ name: name.trim(), url });
  }
  return tabs;
}

function frameableUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

function readYaml(
  file: string,
  parseYaml: (text: string) => unknown,
  problems: string[],
): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${path.basename(file)}: cannot be read`);
    return null;
  }
  try {
    const value: unknown = parseYaml(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${path.basename(file)} must hold a mapping`);
      return null;
    }
    return value as Record<string, unknown>;
  } catch (error) {
    problems.push(`${path.basename(file)} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

function asObject(value: unknown, where: string, problems: string[]): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where} must be a mapping`);
    return null;
  }
  return value as Record<string, unknown>;
}

function optionalString(value: unknown, where: string, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  problems.push(`${where} must be text`);
  return null;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
