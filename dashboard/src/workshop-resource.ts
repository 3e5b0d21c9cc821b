// The workshop's own settings from resources/workshop.yaml (Educates' Workshop
// resource, beside the workshop/ folder): the title, the terminal layout, the
// dashboard tabs, which applications are on, and session.env for the shells.
// One container does only some of what a cluster does: what it cannot do is
// listed (once, by the caller) as ignored, never silently dropped. Used by the
// dashboard and by the supervisor (session.env, before the shells start).
import path from 'node:path';
import { type Ingress, portNumber } from './app-urls.js';
import type { TerminalLayout } from './page-data.js';
import type { SlidesLibraryName } from './slides-libraries.js';
import type { WorkshopIdentity } from './variables.js';
import {
  asList,
  asObject,
  confined,
  isFile,
  optionalBoolean,
  optionalString,
  type ParseYaml,
  readYaml,
} from './yaml-fields.js';

export interface WorkshopSettings {
  /** metadata.name: the workshop's name as Educates means it (workshop_name). */
  name: string | null;
  title: string | null;
  description: string | null;
  /** null: the resource does not say. */
  layout: TerminalLayout | null;
  /** The dashboard tabs as written (name and url, `$(variables)` not yet replaced); null: none said. */
  dashboards: { name: string; url: string }[] | null;
  /** session.ingresses to ports of this container: served through the auth proxy's port route. */
  ingresses: Ingress[];
  /** Each application's `enabled`, null where the resource does not say. */
  applications: { console: boolean | null; slides: boolean | null; examiner: boolean | null; editor: boolean | null };
  /** The slide library the slides ask for (`applications.slides.reveal.js` or `impress.js`: `version`). */
  slidesLibrary: { name: SlidesLibraryName; version: string } | null;
  /** session.env entries with an inline value, `$(variables)` not yet replaced. */
  env: { name: string; value: string }[];
  /** What the resource asks for that one container does not do, by its place in the resource. */
  ignored: string[];
  problems: string[];
}

const LABEL = 'resources/workshop.yaml';
const LAYOUTS: Record<string, TerminalLayout> = {
  default: 'single',
  split: 'split',
  'split/2': 'split/2',
  lower: 'lower',
  none: 'none',
};
/** The applications whose `enabled` is read here; every other one is listed as ignored. */
const APPLICATIONS = new Set(['terminal', 'console', 'slides', 'examiner', 'editor']);
/** Settings of a session that are read (the rest is listed as ignored). */
const SESSION_KEYS = new Set(['applications', 'dashboards', 'env', 'ingresses']);
/** The names Educates keeps for its built-in dashboards. */
const RESERVED_INGRESSES = new Set(['terminal', 'console', 'slides', 'editor']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where the resource is for a workshop folder: resources/ beside workshop/. */
export function workshopResourceFile(workshopDir: string): string {
  return path.join(path.dirname(workshopDir), 'resources', 'workshop.yaml');
}

/** The settings the Workshop resource beside `workshopDir` gives; null when there is none. */
export function readWorkshopResource(workshopDir: string, parseYaml: ParseYaml): WorkshopSettings | null {
  const file = workshopResourceFile(workshopDir);
  if (!isFile(file)) return null;
  const problems: string[] = [];
  const settings: WorkshopSettings = {
    name: null,
    title: null,
    description: null,
    layout: null,
    dashboards: null,
    ingresses: [],
    applications: { console: null, slides: null, examiner: null, editor: null },
    slidesLibrary: null,
    env: [],
    ignored: [],
    problems,
  };
  // The workshop's source folder (the one holding workshop/ and resources/) is as far as a link may lead.
  if (!confined(path.dirname(workshopDir), file)) {
    problems.push(`${LABEL}: a link leading outside the workshop's folder; not read`);
    return settings;
  }
  const resource = readYaml(file, parseYaml, problems, LABEL);
  if (!resource) return settings;
  if (resource.kind !== 'Workshop') {
    problems.push(`${LABEL}: kind must be Workshop (got ${JSON.stringify(resource.kind ?? null)}); not read`);
    return settings;
  }
  const metadata = asObject(resource.metadata ?? {}, `${LABEL}: metadata`, problems) ?? {};
  settings.name = optionalString(metadata.name, `${LABEL}: metadata.name`, problems)?.trim() || null;
  const spec = asObject(resource.spec, `${LABEL}: spec`, problems) ?? {};
  settings.title = optionalString(spec.title, `${LABEL}: spec.title`, problems);
  settings.description = optionalString(spec.description, `${LABEL}: spec.description`, problems)?.trim() || null;
  for (const key of Object.keys(spec)) {
    if (
      ![
        'title',
        'description',
        'session',
        'workshop',
        'duration',
        'difficulty',
        'vendor',
        'url',
        'tags',
        'logo',
        'authors',
        'labels',
        'publish',
      ].includes(key)
    ) {
      settings.ignored.push(`spec.${key}`);
    }
  }
  const workshop = asObject(spec.workshop, `${LABEL}: spec.workshop`, problems);
  // The files and image are how Educates fills a container; here the image already holds them.
  for (const key of Object.keys(workshop ?? {})) settings.ignored.push(`spec.workshop.${key}`);
  const session = asObject(spec.session, `${LABEL}: spec.session`, problems) ?? {};
  for (const key of Object.keys(session)) if (!SESSION_KEYS.has(key)) settings.ignored.push(`spec.session.${key}`);

  const applications = asObject(session.applications, `${LABEL}: spec.session.applications`, problems) ?? {};
  for (const [name, value] of Object.entries(applications)) {
    const where = `spec.session.applications.${name}`;
    const fields = asObject(value ?? {}, `${LABEL}: ${where}`, problems);
    if (!fields) continue;
    if (!APPLICATIONS.has(name)) {
      settings.ignored.push(where);
      continue;
    }
    const enabled = optionalBoolean(fields.enabled, `${LABEL}: ${where}.enabled`, problems);
    for (const key of Object.keys(fields)) {
      if (key === 'enabled' || (name === 'terminal' && key === 'layout')) continue;
      if (name === 'slides' && (key === 'reveal.js' || key === 'impress.js')) {
        const library = asObject(fields[key] ?? {}, `${LABEL}: ${where}.${key}`, problems);
        const version = optionalString(library?.version, `${LABEL}: ${where}.${key}.version`, problems);
        if (version !== null && !settings.slidesLibrary) settings.slidesLibrary = { name: key, version };
        continue;
      }
      settings.ignored.push(`${where}.${key}`);
    }
    if (name === 'terminal') {
      const layout = optionalString(fields.layout, `${LABEL}: ${where}.layout`, problems);
      if (enabled === false) settings.layout = 'none';
      else if (layout !== null) {
        const known = LAYOUTS[layout];
        if (known) settings.layout = known;
        else
          problems.push(
            `${LABEL}: ${where}.layout must be default, split, split/2, lower or none (got ${JSON.stringify(layout)})`,
          );
      }
    } else {
      settings.applications[name as keyof WorkshopSettings['applications']] = enabled;
    }
  }

  const dashboards = asList(session.dashboards, `${LABEL}: spec.session.dashboards`, problems);
  if (dashboards) {
    settings.dashboards = [];
    for (const [i, entry] of dashboards.entries()) {
      const where = `spec.session.dashboards[${i}]`;
      const fields = asObject(entry, `${LABEL}: ${where}`, problems);
      if (!fields) continue;
      const name = optionalString(fields.name, `${LABEL}: ${where}.name`, problems);
      const url = optionalString(fields.url, `${LABEL}: ${where}.url`, problems);
      if (!name?.trim()) {
        problems.push(`${LABEL}: ${where} needs a name`);
        continue;
      }
      // An entry with a name only places a built-in tab (Terminal, Editor, …) among the others.
      if (url === null) {
        settings.ignored.push(`${where} (the place of the built-in tab ${name})`);
        continue;
      }
      settings.dashboards.push({ name: name.trim(), url: url.trim() });
    }
  }

  const ingresses = asList(session.ingresses, `${LABEL}: spec.session.ingresses`, problems) ?? [];
  for (const [i, entry] of ingresses.entries()) {
    const where = `spec.session.ingresses[${i}]`;
    const fields = asObject(entry, `${LABEL}: ${where}`, problems);
    if (!fields) continue;
    const name = optionalString(fields.name, `${LABEL}: ${where}.name`, problems)?.trim();
    if (!name || RESERVED_INGRESSES.has(name.toLowerCase())) {
      problems.push(`${LABEL}: ${where} needs a name other than terminal, console, slides or editor`);
      continue;
    }
    // Another service of the cluster, or several entries routed by path: one container has no such routing.
    if (fields.host !== undefined || settings.ingresses.some((known) => known.name === name)) {
      settings.ignored.push(`${where} (${name}: only one port of this container per name is served)`);
      continue;
    }
    const port = portNumber(String(fields.port ?? ''));
    if (port === null) {
      problems.push(`${LABEL}: ${where}.port must be a port of this container, from 1 to 65535`);
      continue;
    }
    for (const key of Object.keys(fields)) {
      if (!['name', 'port', 'protocol'].includes(key)) settings.ignored.push(`${where}.${key} (${name})`);
    }
    settings.ingresses.push({ name, port });
  }

  const env = asList(session.env, `${LABEL}: spec.session.env`, problems) ?? [];
  for (const [i, entry] of env.entries()) {
    const where = `spec.session.env[${i}]`;
    const fields = asObject(entry, `${LABEL}: ${where}`, problems);
    const name = fields?.name;
    if (typeof name !== 'string' || !ENV_NAME.test(name)) {
      problems.push(`${LABEL}: ${where}.name must be a variable name (letters, digits and _)`);
      continue;
    }
    if (fields?.valueFrom !== undefined) {
      // Secrets, config maps and the downward API are the cluster's; here there is none to read from.
      settings.ignored.push(`${where}.valueFrom (${name})`);
      continue;
    }
    const value = fields?.value ?? '';
    if (typeof value === 'object') {
      problems.push(`${LABEL}: ${where}.value must be text`);
      continue;
    }
    settings.env.push({ name, value: String(value) });
  }
  return settings;
}

/** What the resource says the workshop is, for workshop_name, workshop_title and workshop_description. */
export function resourceIdentity(settings: WorkshopSettings): WorkshopIdentity | undefined {
  if (!settings.title && !settings.name) return undefined;
  return {
    title: settings.title ?? settings.name ?? '',
    ...(settings.name ? { name: settings.name } : {}),
    ...(settings.description ? { description: settings.description } : {}),
  };
}

/** Replaces Educates' `$(name)` data variables that are known; others stay as written. */
export function substituteResourceVariables(text: string, variables: ReadonlyMap<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => variables.get(name) ?? whole);
}

/**
 * The shells' environment with session.env added: a variable the container's
 * environment already sets keeps its value, so `docker run -e NAME=…` (or the
 * cluster's own settings) can override the workshop's default, as a
 * WorkshopEnvironment's env overrides a Workshop's in Educates.
 */
export function withSessionEnv(
  env: Readonly<Record<string, string>>,
  entries: readonly { name: string; value: string }[],
  variables: ReadonlyMap<string, string>,
): { env: Record<string, string>; set: string[]; kept: string[] } {
  const result: Record<string, string> = { ...env };
  const set: string[] = [];
  const kept: string[] = [];
  for (const { name, value } of entries) {
    if (env[name] !== undefined) {
      kept.push(name);
      continue;
    }
    result[name] = substituteResourceVariables(value, variables);
    set.push(name);
  }
  return { env: result, set, kept };
}
