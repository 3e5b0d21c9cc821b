// The workshop folder, read and checked once at start, in whichever layout it
// is written (told from the folder itself, no setting): the eduk8s / Learning
// Center / Homeroom "classic" layout (modules.yaml, workshop.yaml), or
// Educates' Hugo layout (pages found under content/, ordered by path, weight
// or config.yaml). Each layout has its loader in formats/; both give the same
// Workshop. Then the settings of resources/workshop.yaml (Educates' Workshop
// resource) fill in what workshop.yaml does not say. Every problem found is
// collected with the file it is in, for the log and for the dashboard to show.
import path from 'node:path';
import { SESSION_NAME } from '../../common/src/protocol.js';
import { appUrl, type Ingress } from './app-urls.js';
import { loadClassic } from './formats/classic.js';
import { loadEducates } from './formats/educates.js';
import type { DashboardTab, TerminalLayout } from './page-data.js';
import { slidesLibrary } from './slides-libraries.js';
import { substitute, type Variables, type WorkshopIdentity } from './variables.js';
import { readWorkshopResource, substituteResourceVariables } from './workshop-resource.js';
import { isDirectory, isFile, type ParseYaml } from './yaml-fields.js';

/** How many terminals each layout has from the start (`none`: none until an action needs one). */
export const LAYOUT_TERMINALS: Record<TerminalLayout, number> = {
  single: 1,
  split: 2,
  'split/2': 3,
  lower: 1,
  none: 0,
};

export type Markup = 'markdown' | 'asciidoc';

export interface PageSource {
  /** The page's path: under content/ without extension (classic), or Hugo's (a bundle's folder). */
  name: string;
  title: string;
  /** The label of the button that goes on to the next page. */
  exitSign: string | null;
  /** The page that button leads to instead of the next (front matter next_page). */
  nextPage: string | null;
  /** Where the last page's button leads (front matter exit_link, an http(s) URL). */
  exitLink: string | null;
  /** The page's file; null when the page cannot be shown (see problem). */
  file: string | null;
  markup: Markup;
  /** The page's text without its front matter: what the renderer renders. */
  text: string;
  /**
   * Where its relative links and pictures start, under content/: the file
   * itself in the classic layout (`dir/page.md`), the page's folder in Hugo's
   * (`page/`, a bundle's files beside its index.md).
   */
  base: string;
  problem: string | null;
}

export type WorkshopFormat = 'classic' | 'educates';

export interface Workshop {
  dir: string;
  format: WorkshopFormat;
  contentDir: string;
  /** Files served from the site's root beside the pages (Hugo's static/); null in the classic layout. */
  staticDir: string | null;
  /** The folder of slides/index.html, for the Slides tab; null when there are none (or they are turned off). */
  slidesDir: string | null;
  /** The bundled reveal.js or impress.js the slides asked for, served beneath slides/ (its files first). */
  slidesLibraryDir: string | null;
  examinerDir: string;
  /** False when resources/workshop.yaml turns the examiner off: checks are not run. */
  examinerEnabled: boolean;
  /** False when resources/workshop.yaml turns the console off: no Console tab even with CONSOLE_URL. */
  consoleEnabled: boolean;
  /** Whether the workshop turns the editor on (Educates' applications.editor.enabled, classic editor:); null: not said. */
  editorEnabled: boolean | null;
  /** session.ingresses: the names its pages may reach apps of this container by (app-urls.ts). */
  ingresses: readonly Ingress[];
  name: string;
  /** What the workshop says it is (name, title, description), for the data variables named after them. */
  identity: WorkshopIdentity;
  /** config.template_engine of the classic layout: `liquid.js` asks for Liquid templates. */
  templateEngine: string | null;
  pages: PageSource[];
  layout: TerminalLayout;
  tabs: DashboardTab[];
  variables: Variables;
  problems: string[];
  /** What the workshop's settings ask for that one container does not do (logged once). */
  ignored: string[];
}

/** What a format's loader reads: the pages and what its own files say. */
export interface FormatResult {
  name: string | null;
  pages: PageSource[];
  variables: Map<string, string>;
  templateEngine: string | null;
  /** workshop.yaml's terminals and tabs (classic), which win over resources/workshop.yaml. */
  terminals?: unknown;
  tabs?: unknown;
  /** workshop.yaml's editor (classic): true or false turns the Editor tab on or off; null: not said. */
  editor?: boolean | null;
}

export interface LoadOptions {
  dir: string;
  variables: Variables;
  env: Readonly<Record<string, string>>;
  consoleUrl: string;
  /** The YAML parser (see libraries.ts). */
  parseYaml: ParseYaml;
}

/** What each layout's loader (formats/) is given: the folder, what is known, and where problems go. */
export interface FormatOptions extends Omit<LoadOptions, 'consoleUrl'> {
  contentDir: string;
  problems: string[];
}

/** Page names are paths under content/: plain segments only, never . or .. */
const PAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;
/** Names the dashboard uses for its own tabs. */
const RESERVED_TABS = new Set(['terminal', 'console', 'instructions', 'slides']);

export function validPageName(name: string): boolean {
  return PAGE_NAME.test(name) && !name.split('/').some((segment) => segment === '..' || segment === '.');
}

/** The layout a workshop folder is written in: classic when it has modules.yaml or workshop.yaml. */
export function detectFormat(dir: string): WorkshopFormat {
  return isFile(path.join(dir, 'modules.yaml')) || isFile(path.join(dir, 'workshop.yaml')) ? 'classic' : 'educates';
}

/**
 * Reads the workshop folder; null when there is none (the dashboard then
 * shows only terminals). `variables` are the built-in ones; `env` may
 * override the workshop's own.
 */
export function loadWorkshop(options: LoadOptions): Workshop | null {
  const dir = options.dir;
  if (!isDirectory(dir)) return null;
  const problems: string[] = [];
  const format = detectFormat(dir);
  const contentDir = path.join(dir, 'content');
  const settings = readWorkshopResource(dir, options.parseYaml);
  problems.push(...(settings?.problems ?? []));
  const loaded =
    format === 'classic'
      ? loadClassic({ ...options, contentDir, problems })
      : loadEducates({ ...options, contentDir, problems, title: settings?.title ?? null });
  const variables = loaded.variables;

  const layout =
    loaded.terminals !== undefined && loaded.terminals !== null
      ? terminalLayout(loaded.terminals, problems)
      : (settings?.layout ?? 'single');
  const ingresses: readonly Ingress[] = settings?.ingresses ?? [];
  const apps = (url: string) => appUrl(url, ingresses, variables);
  let tabs: DashboardTab[];
  if (loaded.tabs !== undefined && loaded.tabs !== null) {
    tabs = dashboardTabs(loaded.tabs, 'workshop.yaml: tabs', (url) => substitute(url, variables), problems, apps);
  } else {
    tabs = dashboardTabs(
      settings?.dashboards ?? [],
      'resources/workshop.yaml: spec.session.dashboards',
      (url) => substituteResourceVariables(url, variables),
      problems,
      apps,
    );
  }
  const consoleEnabled = settings?.applications.console !== false;
  if (options.consoleUrl && consoleEnabled && tabs.some((tab) => tab.name.toLowerCase() === 'console')) {
    problems.push('tabs: the name Console is taken by the console (CONSOLE_URL)');
  }
  const slidesDir = path.join(dir, 'slides');
  const hasSlides = settings?.applications.slides !== false && isFile(path.join(slidesDir, 'index.html'));
  if (settings?.applications.slides === true && !hasSlides) {
    problems.push('resources/workshop.yaml turns the slides on, but there is no slides/index.html');
  }
  // reveal.js or impress.js, bundled here as Educates bundles them, beneath the slides' own files.
  let slidesLibraryDir: string | null = null;
  if (hasSlides && settings?.slidesLibrary) {
    const { name: library, version } = settings.slidesLibrary;
    const found = slidesLibrary(library, version);
    if ('dir' in found) slidesLibraryDir = found.dir;
    else problems.push(`resources/workshop.yaml: spec.session.applications.slides: ${found.problem}`);
  }
  const staticDir = path.join(dir, 'static');
  const ignored = [...(settings?.ignored ?? [])];
  if (settings?.applications.console === true && !options.consoleUrl) {
    ignored.push('spec.session.applications.console (no CONSOLE_URL: this container has no console of its own)');
  }
  const name = loaded.name ?? settings?.title ?? 'Workshop';
  // Educates' workshop_name is the resource's metadata.name, its title spec.title (a pathway's title is only shown).
  const identity: WorkshopIdentity = {
    title: settings?.title ?? name,
    ...(settings?.name ? { name: settings.name } : {}),
    ...(settings?.description ? { description: settings.description } : {}),
  };
  return {
    dir,
    format,
    contentDir,
    staticDir: format === 'educates' && isDirectory(staticDir) ? staticDir : null,
    slidesDir: hasSlides ? slidesDir : null,
    slidesLibraryDir,
    examinerDir: path.join(dir, 'examiner', 'tests'),
    examinerEnabled: settings?.applications.examiner !== false,
    consoleEnabled,
    editorEnabled: loaded.editor ?? settings?.applications.editor ?? null,
    ingresses,
    name,
    identity,
    templateEngine: loaded.templateEngine,
    pages: loaded.pages,
    layout,
    tabs,
    variables,
    problems,
    ignored,
  };
}

function terminalLayout(value: unknown, problems: string[]): TerminalLayout {
  if (value === 'single' || value === 'default') return 'single';
  if (value === 'split' || value === 'split/2' || value === 'lower' || value === 'none') return value;
  problems.push(
    'workshop.yaml: terminals must be single (one terminal), split (two), split/2 (three), lower (one, below the tabs) or none',
  );
  return 'single';
}

function dashboardTabs(
  value: unknown,
  where: string,
  expand: (url: string) => string,
  problems: string[],
  apps: (url: string) => ReturnType<typeof appUrl>,
): DashboardTab[] {
  if (!Array.isArray(value)) {
    problems.push(`${where} must be a list of { name, url }`);
    return [];
  }
  const tabs: DashboardTab[] = [];
  for (const [i, entry] of value.entries()) {
    const place = `${where}[${i}]`;
    const fields = entry && typeof entry === 'object' ? (entry as Record<string, unknown>) : null;
    const name = fields?.name;
    const raw = fields?.url;
    if (typeof name !== 'string' || !name.trim() || typeof raw !== 'string') {
      problems.push(`${place} needs a name and a url`);
      continue;
    }
    if (RESERVED_TABS.has(name.trim().toLowerCase()) || tabs.some((tab) => tab.name === name.trim())) {
      problems.push(`${place}: the name ${name} is taken`);
      continue;
    }
    const url = expand(raw.trim());
    if (url.startsWith('terminal:')) {
      const session = url.slice('terminal:'.length);
      if (!SESSION_NAME.test(session)) {
        problems.push(`${place}: terminal:<name> takes a session name of letters, digits, _ and -`);
        continue;
      }
      tabs.push({ name: name.trim(), session });
      continue;
    }
    // An app of this container (port:<n>, or a session ingress's URL): through the auth proxy, on our origin.
    const app = apps(url);
    if (app && 'problem' in app) {
      problems.push(`${place}: ${app.problem} (got ${JSON.stringify(url)})`);
      continue;
    }
    if (app) {
      tabs.push({ name: name.trim(), url: app.url });
      continue;
    }
    if (!frameableUrl(url)) {
      problems.push(`${place}: url must be an http(s) URL, port:<n> or terminal:<name> (got ${JSON.stringify(url)})`);
      continue;
    }
    tabs.push({ name: name.trim(), url });
  }
  return tabs;
}

export function frameableUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}
