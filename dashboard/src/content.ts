// The workshop, read and rendered once at start: every page's HTML and the
// checks each declares. A page that cannot be rendered (bad Liquid, an include
// outside the folder) shows why in its place and in the author's banner; the
// others render as usual. Loaded only when there is a workshop folder, so a
// terminal without one never loads the Markdown and highlighting libraries;
// one with a workshop lets them go once its pages are rendered (libraries.ts).

import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/src/log.js';
import { TERMINAL_SESSIONS } from './actions.js';
import { appUrl } from './app-urls.js';
import { escapeHtml } from './escape.js';
import { withLibraries } from './libraries.js';
import type { PageContent } from './page-data.js';
import { createRenderer, type DeclaredCheck } from './render.js';
import { type Variables, workshopVariables } from './variables.js';
import { LAYOUT_TERMINALS, loadWorkshop, type Workshop } from './workshop.js';

export interface Content {
  workshop: Workshop;
  pages: ReadonlyMap<string, PageContent>;
  /** What each examiner program may be run with, from the blocks that declare it. */
  checks: ReadonlyMap<string, DeclaredCheck[]>;
  /** URLs the pages open in tabs of their own, which the dashboard must be allowed to frame. */
  frames: readonly string[];
}

export function loadContent(options: {
  dir: string;
  variables: Variables;
  env: Readonly<Record<string, string>>;
  consoleUrl: string;
  logger: Logger;
}): Promise<Content | null> {
  return withLibraries(async (libraries) => {
    const workshop = loadWorkshop({ ...options, parseYaml: libraries.parseYaml });
    if (!workshop) return null;
    // The names that come from the workshop itself, now that it is read; declared ones win.
    const variables = new Map(workshop.variables);
    for (const [name, value] of workshopVariables(workshop.identity, options.env)) {
      if (!variables.has(name)) variables.set(name, value);
    }
    const tabSessions = new Map(workshop.tabs.flatMap((tab) => ('session' in tab ? [[tab.session, tab.name]] : [])));
    const render = createRenderer(
      {
        variables,
        env: options.env,
        workshopDir: workshop.dir,
        contentDir: workshop.contentDir,
        pageNames: new Set(workshop.pages.map((page) => page.name)),
        // Layout none starts no terminal; execute-all still types into the first, which it opens.
        allSessions: TERMINAL_SESSIONS.slice(0, Math.max(1, LAYOUT_TERMINALS[workshop.layout])),
        pageBases: new Map(workshop.pages.map((page) => [page.name, page.base])),
        tabSessions,
        tabNames: [
          'Terminal',
          ...(options.consoleUrl && workshop.consoleEnabled ? ['Console'] : []),
          ...(workshop.slidesDir ? ['Slides'] : []),
          ...workshop.tabs.map((tab) => tab.name),
        ],
        examinerExists: (name) => workshop.examinerEnabled && isExecutable(path.join(workshop.examinerDir, name)),
        appUrl: (url) => {
          const app = appUrl(url, workshop.ingresses, variables);
          return app && 'url' in app ? app.url : null;
        },
      },
      libraries,
    );
    const pages = new Map<string, PageContent>();
    const checks = new Map<string, DeclaredCheck[]>();
    const frames = new Set<string>();
    for (const page of workshop.pages) {
      let html: string;
      if (page.file) {
        try {
          const rendered = await render({
            name: page.name,
            text: page.text,
            markup: page.markup,
            file: page.file,
            // Liquid is the classic layouts' (Educates' classic renderer, Homeroom); Hugo's pages have shortcodes.
            liquid: workshop.format === 'classic',
          });
          html = rendered.html;
          workshop.problems.push(...rendered.problems);
          for (const check of rendered.checks) checks.set(check.name, [...(checks.get(check.name) ?? []), check]);
          for (const url of rendered.frames) frames.add(url);
          for (const note of rendered.notes) workshop.problems.push(`page ${page.name}: ${note}`);
        } catch (error) {
          const problem = `page ${page.name} could not be rendered: ${(error as Error).message}`;
          workshop.problems.push(problem);
          html = problemHtml(problem);
        }
      } else {
        html = problemHtml(page.problem ?? 'this page cannot be shown');
      }
      const { name, title, exitSign, nextPage, exitLink } = page;
      pages.set(page.name, { name, title, exitSign, nextPage, exitLink, html });
    }
    for (const problem of workshop.problems) options.logger.warn('workshop.problem', { problem, dir: workshop.dir });
    if (workshop.ignored.length > 0) {
      // Once, in one line: the settings a cluster acts on that one container does not.
      options.logger.info('workshop.settings.ignored', { settings: workshop.ignored.join(', ').slice(0, 2000) });
    }
    options.logger.info('workshop.loaded', {
      name: workshop.name,
      format: workshop.format,
      pages: workshop.pages.length,
      checks: [...checks.values()].reduce((n, list) => n + list.length, 0),
      problems: workshop.problems.length,
    });
    return { workshop, pages, checks, frames: [...frames] };
  });
}

function problemHtml(problem: string): string {
  return `<p class="wt-author-note">Note for the workshop author: ${escapeHtml(problem)}</p>\n`;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
