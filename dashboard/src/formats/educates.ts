// Educates' Hugo layout (the one Educates 3 recommends): no modules.yaml; the
// pages are the files under content/ (page.md, or a bundle page/index.md with
// its pictures beside it; a section's _index.md), each with a YAML front
// matter (title, weight, draft). They are ordered as Educates documents it: by
// path, or by weight then title when pages give weights, or by config.yaml's
// pathway (its default, or the one PATHWAY_NAME names). Pictures come from the
// bundles and from static/, which Hugo serves at the site's root.
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { splitFrontMatter } from '../front-matter.js';
import { declaredVariables } from '../variables.js';
import {
  type FormatOptions,
  type FormatResult,
  frameableUrl,
  type Markup,
  type PageSource,
  validPageName,
} from '../workshop.js';
import {
  asList,
  asObject,
  confined,
  isDirectory,
  optionalString,
  type ParseYaml,
  readYaml,
  titleFromName,
} from '../yaml-fields.js';
import { checkNextPages } from './classic.js';

/** Bounds on the walk of content/, so that a huge or looping folder costs a bounded time. */
const MAX_DEPTH = 8;
const MAX_FILES = 2000;

const MARKUPS: Record<string, Markup> = { '.md': 'markdown', '.adoc': 'asciidoc' };

interface Found {
  name: string;
  /** The file, relative to content/. */
  relative: string;
  markup: Markup;
  /** A section's _index: a page only when it has text of its own. */
  section: boolean;
}

interface Candidate {
  page: PageSource;
  weight: number;
}

export function loadEducates(
  options: FormatOptions & {
    /** The title resources/workshop.yaml gives (spec.title). */
    title: string | null;
  },
): FormatResult {
  const { contentDir, problems } = options;
  const found = findPages(contentDir, problems);
  const candidates: Candidate[] = [];
  let drafts = 0;
  let homeTitle: string | null = null;
  for (const entry of found) {
    const read = readPage(entry, options);
    if (!read) continue;
    if (read.draft) {
      drafts++;
      continue;
    }
    if (entry.section) {
      if (entry.name === '') {
        homeTitle = read.fields.title;
        if (read.page.text.trim()) {
          problems.push(
            `content/${entry.relative}: its text is not shown (the workshop opens on its first page); move it into a page of its own`,
          );
        }
        continue;
      }
      // A section's _index.md with no text only names the section, as in Hugo; with text it introduces it.
      if (!read.page.text.trim()) continue;
    }
    candidates.push({ page: read.page, weight: read.fields.weight });
  }

  const variables = new Map(options.variables);
  const config = readYaml(path.join(options.dir, 'config.yaml'), options.parseYaml, problems);
  addParams(config?.params, 'config.yaml: params', variables, options.env, problems);

  let pages: PageSource[];
  let name = options.title ?? homeTitle;
  const pathway = choosePathway(config, options.env, problems);
  if (pathway) {
    variables.set('pathway_name', pathway.name);
    addParams(
      pathway.fields.params,
      `config.yaml: pathways.paths.${pathway.name}.params`,
      variables,
      options.env,
      problems,
    );
    name = optionalString(pathway.fields.title, `config.yaml: pathways.paths.${pathway.name}.title`, problems) ?? name;
    pages = pathwayPages(pathway, candidates, config, problems);
  } else {
    pages = ordered(candidates);
  }
  if (pages.length === 0) {
    problems.push(
      drafts > 0
        ? `no pages: every page under content/ is a draft (draft: true)`
        : 'no pages: write them as content/<page>.md (or <page>/index.md), or list them in workshop.yaml (classic layout)',
    );
  }
  checkNextPages(pages, problems);
  return { name, pages, variables, templateEngine: null };
}

/** Every page file under content/, in no particular order; bundles' other files are not pages. */
function findPages(contentDir: string, problems: string[]): Found[] {
  const found: Found[] = [];
  let files = 0;
  const walk = (relative: string, depth: number) => {
    if (depth > MAX_DEPTH) {
      problems.push(`content/${relative}: folders nested deeper than ${MAX_DEPTH} are not read`);
      return;
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(contentDir, relative), { withFileTypes: true });
    } catch {
      return;
    }
    entries = entries.filter((entry) => !entry.name.startsWith('.')).sort((a, b) => compare(a.name, b.name));
    if (files > MAX_FILES) return;
    files += entries.length;
    if (files > MAX_FILES) {
      problems.push(`content/ holds more than ${MAX_FILES} files: the rest are not read`);
      return;
    }
    const page = (file: string) => (relative ? `${relative}/${file}` : file);
    const kind = (entry: Dirent) => {
      // A link is followed only when it stays inside content/.
      if (!entry.isSymbolicLink()) return entry;
      return confined(contentDir, path.join(contentDir, relative, entry.name)) ? entry : null;
    };
    // A folder with an index.md is a page bundle: one page, and everything else in it is its files.
    const index = entries.find((entry) => /^index\.(md|adoc)$/.test(entry.name) && kind(entry));
    if (index && relative) {
      found.push({ name: relative, relative: page(index.name), markup: markupOf(index.name), section: false });
      return;
    }
    for (const entry of entries) {
      if (!kind(entry)) {
        problems.push(`content/${page(entry.name)}: a link leading outside content/; not read`);
        continue;
      }
      const full = path.join(contentDir, relative, entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(full));
      if (isDir) {
        walk(page(entry.name), depth + 1);
        continue;
      }
      const extension = path.extname(entry.name);
      if (!MARKUPS[extension]) continue;
      const stem = entry.name.slice(0, -extension.length);
      if (stem === 'index' && !relative) continue; // content/index.md: Hugo's home, not a page
      const section = stem === '_index';
      const name = section ? relative : page(stem);
      found.push({ name, relative: page(entry.name), markup: markupOf(entry.name), section });
    }
  };
  walk('', 0);
  // foo.md beside foo/index.md: Hugo would make one page of two files; keep the first and say so.
  const seen = new Map<string, Found>();
  return found.filter((entry) => {
    const before = seen.get(entry.name);
    if (before) {
      problems.push(
        `content/${entry.relative} and content/${before.relative} are the same page ${entry.name}; only the first is used`,
      );
      return false;
    }
    seen.set(entry.name, entry);
    return true;
  });
}

function readPage(
  entry: Found,
  options: { contentDir: string; parseYaml: ParseYaml; problems: string[] },
): { page: PageSource; fields: ReturnType<typeof splitFrontMatter>['fields']; draft: boolean } | null {
  const { problems } = options;
  const where = `content/${entry.relative}`;
  if (entry.name !== '' && !validPageName(entry.name)) {
    problems.push(`${where}: ${JSON.stringify(entry.name)} is not a usable page name (letters, digits, _, . and -)`);
    return null;
  }
  const file = path.join(options.contentDir, entry.relative);
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${where} cannot be read (${(error as NodeJS.ErrnoException).code})`);
    return null;
  }
  const split = splitFrontMatter(raw, options.parseYaml);
  if (split.problem) problems.push(`page ${entry.name || '(home)'} (${where}): ${split.problem}`);
  const fields = split.fields;
  const base = `${entry.name}/`;
  const page: PageSource = {
    name: entry.name,
    title:
      fields.title ?? (entry.markup === 'asciidoc' ? asciidocTitle(split.body) : null) ?? titleFromName(entry.name),
    exitSign: fields.exitSign,
    nextPage: fields.nextPage,
    exitLink: null,
    file,
    markup: entry.markup,
    text: split.body,
    base,
    problem: null,
  };
  if (fields.exitLink !== null) {
    if (frameableUrl(fields.exitLink)) page.exitLink = fields.exitLink;
    else problems.push(`page ${entry.name}: exit_link must be an http(s) URL`);
  }
  return { page, fields, draft: fields.draft };
}

/** Hugo's order: by weight (pages without one last), then title, then path; by path when no page has a weight. */
function ordered(candidates: Candidate[]): PageSource[] {
  const byWeight = candidates.some((candidate) => candidate.weight !== 0);
  const sorted = [...candidates].sort((a, b) => {
    if (byWeight) {
      const weight = (a.weight || Number.POSITIVE_INFINITY) - (b.weight || Number.POSITIVE_INFINITY);
      if (weight) return weight;
      const title = a.page.title.localeCompare(b.page.title, 'en');
      if (title) return title;
    }
    return compare(a.page.name, b.page.name);
  });
  return sorted.map((candidate) => candidate.page);
}

interface Pathway {
  name: string;
  fields: Record<string, unknown>;
}

function choosePathway(
  config: Record<string, unknown> | null,
  env: Readonly<Record<string, string>>,
  problems: string[],
): Pathway | null {
  const pathways = asObject(config?.pathways, 'config.yaml: pathways', problems);
  const paths = asObject(pathways?.paths, 'config.yaml: pathways.paths', problems);
  if (!pathways || !paths || Object.keys(paths).length === 0) return null;
  const fallback = optionalString(pathways.default, 'config.yaml: pathways.default', problems);
  const asked = env.PATHWAY_NAME?.trim() || null;
  let name = asked ?? fallback;
  if (asked && !(asked in paths)) {
    problems.push(`PATHWAY_NAME ${asked} is not a pathway of config.yaml; the default (${fallback ?? 'none'}) is used`);
    name = fallback;
  }
  if (!name) return null;
  const fields = asObject(paths[name], `config.yaml: pathways.paths.${name}`, problems);
  if (!fields) {
    problems.push(`config.yaml: pathways.default names ${name}, which is not under pathways.paths`);
    return null;
  }
  return { name, fields };
}

/** The pages a pathway's steps name, in that order, titled by config.yaml's modules where it says. */
function pathwayPages(
  pathway: Pathway,
  candidates: Candidate[],
  config: Record<string, unknown> | null,
  problems: string[],
): PageSource[] {
  const where = `config.yaml: pathways.paths.${pathway.name}.steps`;
  const steps = asList(pathway.fields.steps, where, problems) ?? [];
  const byName = new Map(candidates.map((candidate) => [candidate.page.name, candidate.page]));
  const titles = moduleTitles(config, problems);
  const pages: PageSource[] = [];
  for (const step of steps) {
    const name = String(step).replace(/^\/+|\/+$/g, '');
    const page = byName.get(name);
    if (!page) {
      problems.push(`${where}: ${name} is not a page under content/ (or it is a draft)`);
      continue;
    }
    if (pages.includes(page)) {
      problems.push(`${where} lists ${name} twice`);
      continue;
    }
    page.title = titles.get(name) ?? page.title;
    pages.push(page);
  }
  return pages;
}

/** Titles config.yaml gives: a list of { name, title } under modules (as documented) or a mapping under pathways.modules (as Educates reads it). */
function moduleTitles(config: Record<string, unknown> | null, problems: string[]): Map<string, string> {
  const titles = new Map<string, string>();
  for (const [i, entry] of (asList(config?.modules, 'config.yaml: modules', problems) ?? []).entries()) {
    const fields = asObject(entry, `config.yaml: modules[${i}]`, problems);
    const name = optionalString(fields?.name, `config.yaml: modules[${i}].name`, problems);
    const title = optionalString(fields?.title, `config.yaml: modules[${i}].title`, problems);
    if (name && title) titles.set(name, title);
  }
  const pathways = config?.pathways as Record<string, unknown> | undefined;
  const mapping = asObject(pathways?.modules, 'config.yaml: pathways.modules', problems) ?? {};
  for (const [name, entry] of Object.entries(mapping)) {
    const title = optionalString(
      asObject(entry, `config.yaml: pathways.modules.${name}`, problems)?.title,
      `config.yaml: pathways.modules.${name}.title`,
      problems,
    );
    if (title) titles.set(name, title);
  }
  return titles;
}

/** config.yaml's params: data variables with a default, from the environment when set (an alias first). */
function addParams(
  value: unknown,
  where: string,
  variables: Map<string, string>,
  env: Readonly<Record<string, string>>,
  problems: string[],
): void {
  const declared = declaredVariables({
    vars: value,
    overrides: undefined,
    env,
    where,
    overridesWhere: where,
    problems,
  });
  for (const [name, text] of declared) variables.set(name, text);
}

/** AsciiDoc's document title, the `= Title` line its header starts with. */
function asciidocTitle(text: string): string | null {
  const match = /^(?:\s*(?:\/\/[^\n]*)?\n)*=[ \t]+(\S[^\n]*)/.exec(text);
  return match?.[1]?.trim() ?? null;
}

function markupOf(file: string): Markup {
  return MARKUPS[path.extname(file)] ?? 'markdown';
}

/** Plain code-point order, the same on every machine (Hugo sorts paths as strings). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
