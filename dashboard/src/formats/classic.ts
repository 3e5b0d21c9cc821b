// The eduk8s / Learning Center / Homeroom "classic" layout: modules.yaml
// (the pages there are, their titles and exit signs, data variables and the
// template engine), workshop.yaml (the name, the pages in use in their order,
// the terminals and tabs), content/<page>.md or .adoc, each with an optional
// front matter (title, next_page, exit_sign, exit_link, as Homeroom reads it).
import { readFileSync } from 'node:fs';
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
  asObject,
  isFile,
  optionalBoolean,
  optionalString,
  type ParseYaml,
  readYaml,
  titleFromName,
} from '../yaml-fields.js';

/** The template engines config.template_engine may name. */
const TEMPLATE_ENGINES = new Set(['liquid.js']);

interface Module {
  title: string | null;
  exitSign: string | null;
}

export function loadClassic(options: FormatOptions): FormatResult {
  const { dir, problems } = options;
  const modulesFile = readYaml(path.join(dir, 'modules.yaml'), options.parseYaml, problems);
  const workshopFile = readYaml(path.join(dir, 'workshop.yaml'), options.parseYaml, problems);

  // modules.yaml: { modules: { <page>: { name, exit_sign } }, config: { vars: [{ name, value }], template_engine } }
  const modules = new Map<string, Module>();
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
  const declaredVars = declaredVariables({
    vars: config?.vars,
    overrides: workshopFile?.vars,
    env: options.env,
    where: 'modules.yaml: config.vars',
    overridesWhere: 'workshop.yaml: vars',
    problems,
  });
  for (const [name, value] of declaredVars) variables.set(name, value);
  let templateEngine = optionalString(config?.template_engine, 'modules.yaml: config.template_engine', problems);
  if (templateEngine !== null && !TEMPLATE_ENGINES.has(templateEngine)) {
    problems.push(
      `modules.yaml: config.template_engine must be liquid.js (got ${JSON.stringify(templateEngine)}); pages use %name% only`,
    );
    templateEngine = null;
  }

  // workshop.yaml: { name, modules: { activate: [pages] }, terminals, tabs, editor }
  const name = optionalString(workshopFile?.name, 'workshop.yaml: name', problems);
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
    pages.push(pageSource(page, modules, options, problems));
  }
  checkNextPages(pages, problems);
  const editor = optionalBoolean(workshopFile?.editor, 'workshop.yaml: editor', problems);
  return {
    name,
    pages,
    variables,
    templateEngine,
    terminals: workshopFile?.terminals,
    tabs: workshopFile?.tabs,
    editor,
  };
}

function pageSource(
  name: string,
  modules: Map<string, Module>,
  options: { contentDir: string; parseYaml: ParseYaml },
  problems: string[],
): PageSource {
  const module = modules.get(name);
  const page: PageSource = {
    name,
    title: module?.title ?? titleFromName(name),
    exitSign: module?.exitSign ?? null,
    nextPage: null,
    exitLink: null,
    file: null,
    markup: 'markdown',
    text: '',
    base: `${name}.md`,
    problem: null,
  };
  const fail = (problem: string) => {
    page.problem = problem;
    problems.push(problem);
    return page;
  };
  if (!validPageName(name)) return fail(`page ${JSON.stringify(name)}: not a path under content/`);
  if (modules.size > 0 && !module) problems.push(`page ${name} is not declared in modules.yaml`);
  // Markdown first, as Educates' classic renderer looks for it.
  const candidates: [string, Markup][] = [
    [`${name}.md`, 'markdown'],
    [`${name}.adoc`, 'asciidoc'],
  ];
  const found = candidates.find(([file]) => isFile(path.join(options.contentDir, file)));
  if (!found) return fail(`page ${name}: content/${name}.md does not exist (nor content/${name}.adoc)`);
  const [relative, markup] = found;
  let raw: string;
  try {
    raw = readFileSync(path.join(options.contentDir, relative), 'utf8');
  } catch (error) {
    return fail(`page ${name}: content/${relative} cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  const split = splitFrontMatter(raw, options.parseYaml);
  if (split.problem) problems.push(`page ${name} (content/${relative}): ${split.problem}`);
  const fields = split.fields;
  page.file = path.join(options.contentDir, relative);
  page.markup = markup;
  page.text = split.body;
  page.base = relative;
  // modules.yaml names the page when it says; the page's own front matter fills in.
  if (!module?.title && fields.title) page.title = fields.title;
  page.exitSign = page.exitSign ?? fields.exitSign;
  page.nextPage = fields.nextPage;
  if (fields.exitLink !== null) {
    if (frameableUrl(fields.exitLink)) page.exitLink = fields.exitLink;
    else problems.push(`page ${name}: exit_link must be an http(s) URL`);
  }
  return page;
}

/** A next_page that names no page in use is dropped, with a note: the button then goes on as usual. */
export function checkNextPages(pages: PageSource[], problems: string[]): void {
  const names = new Set(pages.map((page) => page.name));
  for (const page of pages) {
    if (page.nextPage !== null && !names.has(page.nextPage)) {
      problems.push(`page ${page.name}: next_page ${page.nextPage} is not a page of this workshop`);
      page.nextPage = null;
    }
  }
}
