// Data variables of workshop pages: those Educates and Homeroom document, each
// with the value one container knows (its environment variable when set, else
// the nearest thing this container can tell: the README's table says which),
// those a workshop declares (config.vars, with aliases), and ENV_<name> for the
// shells' environment. Written {{ name }} (Liquid), {{< param name >}} (Hugo)
// or %name% (the classic renderer's first syntax).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';

export type Variables = ReadonlyMap<string, string>;

export type VariableConfig = Pick<
  Config,
  | 'user'
  | 'authUsername'
  | 'consoleUrl'
  | 'clusterSubdomain'
  | 'ingressDomain'
  | 'kubernetesHost'
  | 'serviceAccountDir'
  | 'prefix'
  | 'publicUrl'
  | 'port'
  | 'terminalHome'
>;

/** What the workshop says about itself, for workshop_name, workshop_title and the names derived from them. */
export interface WorkshopIdentity {
  /** The workshop's name as Educates means it (a resource name like lab-k8s-basics); derived from the title when absent. */
  name?: string;
  title: string;
  description?: string;
}

/** What the values are computed from: read once at start. */
interface Known {
  config: VariableConfig;
  env: Readonly<Record<string, string>>;
  namespace: string | undefined;
  publicUrl: URL;
  workshop: WorkshopIdentity | undefined;
  /** Per start, for services_password and config_password when their variables are not set. */
  passwords: { services: string; config: string };
}

interface Documented {
  name: string;
  /** The environment variables that set it, first found wins. */
  env: string[];
  /** What it is when none is set (for the README's table). */
  otherwise: string;
  value(known: Known): string;
}

/**
 * Every variable Educates or Homeroom documents. The README's table lists the
 * same names in the same order (a test compares them).
 */
export const DOCUMENTED_VARIABLES: readonly Documented[] = [
  {
    name: 'assets_repository',
    env: ['ASSETS_REPOSITORY'],
    otherwise: 'empty (no assets repository here)',
    value: () => '',
  },
  {
    name: 'base_url',
    env: [],
    otherwise: 'the URL path the terminal is served under (`URI_ROOT_PATH`)',
    value: (k) => k.config.prefix,
  },
  { name: 'cluster_domain', env: ['CLUSTER_DOMAIN'], otherwise: '`cluster.local`', value: () => 'cluster.local' },
  {
    name: 'cluster_subdomain',
    env: [],
    otherwise: '`CLUSTER_SUBDOMAIN`, else `INGRESS_DOMAIN`, else as `ingress_domain`',
    value: (k) => k.config.clusterSubdomain || ingressDomain(k),
  },
  {
    name: 'config_password',
    env: ['CONFIG_PASSWORD'],
    otherwise: 'random, new at each start',
    value: (k) => k.passwords.config,
  },
  {
    name: 'console_url',
    env: [],
    otherwise: '`CONSOLE_URL`; empty without a console',
    value: (k) => k.config.consoleUrl,
  },
  {
    name: 'environment_name',
    env: ['ENVIRONMENT_NAME'],
    otherwise: 'as `workshop_name`',
    value: (k) => fromWorkshop(k).environment_name,
  },
  {
    name: 'image_repository',
    env: ['IMAGE_REPOSITORY'],
    otherwise: 'empty (no image repository here)',
    value: () => '',
  },
  { name: 'ingress_class', env: ['INGRESS_CLASS'], otherwise: 'empty', value: () => '' },
  {
    name: 'ingress_domain',
    env: [],
    otherwise:
      '`INGRESS_DOMAIN`, else `CLUSTER_SUBDOMAIN`, else the host of `PUBLIC_URL` less its first label, else `localhost`',
    value: (k) => ingressDomain(k),
  },
  {
    name: 'ingress_port',
    env: ['INGRESS_PORT'],
    otherwise: 'the port of `PUBLIC_URL` (443 or 80 by its scheme), else `PORT`',
    value: (k) => publicPort(k),
  },
  {
    name: 'ingress_port_suffix',
    env: ['INGRESS_PORT_SUFFIX'],
    otherwise: '`:` and `ingress_port`, empty for 80 and 443',
    value: (k) => (['80', '443'].includes(publicPort(k)) ? '' : `:${publicPort(k)}`),
  },
  {
    name: 'ingress_protocol',
    env: ['INGRESS_PROTOCOL'],
    otherwise: 'the scheme of `PUBLIC_URL`, else `http`',
    value: (k) => k.publicUrl.protocol.replace(/:$/, ''),
  },
  {
    name: 'kubernetes_api_url',
    env: ['KUBERNETES_API_URL'],
    otherwise: 'in a cluster, `https://` and `KUBERNETES_SERVICE_HOST`:`KUBERNETES_SERVICE_PORT`; else empty',
    value: (k) =>
      k.config.kubernetesHost
        ? `https://${hostForUrl(k.config.kubernetesHost)}:${k.env.KUBERNETES_SERVICE_PORT || '443'}`
        : '',
  },
  {
    name: 'kubernetes_ca_crt',
    env: [],
    otherwise: "in a cluster, the pod's `ca.crt`; else empty",
    value: (k) => serviceAccountFile(k.config, 'ca.crt') ?? '',
  },
  {
    name: 'kubernetes_token',
    env: [],
    otherwise: "in a cluster, the pod's service-account token at start; else empty",
    value: (k) => serviceAccountFile(k.config, 'token') ?? '',
  },
  { name: 'oci_image_cache', env: ['OCI_IMAGE_CACHE'], otherwise: 'empty (no image cache here)', value: () => '' },
  {
    name: 'pathway_name',
    env: ['PATHWAY_NAME'],
    otherwise: "the workshop's default pathway, else empty",
    value: () => '',
  },
  {
    name: 'platform_arch',
    env: ['PLATFORM_ARCH'],
    otherwise: 'the CPU of this machine: `amd64`, `arm64`, …',
    value: () =>
      ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' })[os.arch()] ?? os.arch(),
  },
  { name: 'policy_engine', env: ['POLICY_ENGINE'], otherwise: '`none`', value: () => 'none' },
  { name: 'policy_name', env: ['POLICY_NAME'], otherwise: 'empty', value: () => '' },
  {
    name: 'project_namespace',
    env: ['PROJECT_NAMESPACE'],
    otherwise: 'as `session_namespace`',
    value: (k) => sessionNamespace(k),
  },
  {
    name: 'services_password',
    env: ['SERVICES_PASSWORD'],
    otherwise: 'random, new at each start',
    value: (k) => k.passwords.services,
  },
  {
    name: 'session_hostname',
    env: ['SESSION_HOSTNAME'],
    otherwise: 'the host name of `PUBLIC_URL`, else `localhost`',
    value: (k) => k.publicUrl.hostname,
  },
  { name: 'session_id', env: ['SESSION_ID'], otherwise: 'as `session_name`', value: (k) => sessionName(k) },
  {
    name: 'session_name',
    env: ['SESSION_NAME'],
    otherwise: "the pod's namespace in a cluster, else the user's name",
    value: (k) => sessionName(k),
  },
  {
    name: 'session_namespace',
    env: ['SESSION_NAMESPACE', 'PROJECT_NAMESPACE'],
    otherwise: "the pod's namespace in a cluster, else `default`",
    value: (k) => sessionNamespace(k),
  },
  {
    name: 'session_url',
    env: ['SESSION_URL'],
    otherwise: '`PUBLIC_URL` and the prefix, else `http://localhost:PORT` and the prefix',
    value: (k) => `${k.publicUrl.origin}${k.config.prefix}`,
  },
  {
    name: 'slides_url',
    env: ['SLIDES_URL'],
    otherwise: "the dashboard's slides (`<prefix>/dashboard/slides/`)",
    value: (k) => `${k.config.prefix}/dashboard/slides/`,
  },
  {
    name: 'ssh_private_key',
    env: [],
    otherwise: 'the private key in `~/.ssh` (`id_ed25519`, `id_rsa`, …), else empty',
    value: (k) => sshKey(k.config.terminalHome, false),
  },
  {
    name: 'ssh_public_key',
    env: [],
    otherwise: 'its `.pub`, else empty',
    value: (k) => sshKey(k.config.terminalHome, true),
  },
  { name: 'storage_class', env: ['STORAGE_CLASS'], otherwise: 'empty', value: () => '' },
  {
    name: 'terminal_url',
    env: [],
    otherwise: "the terminal's own page (`<prefix>/terminal/`)",
    value: (k) => `${k.config.prefix}/terminal/`,
  },
  {
    name: 'training_portal',
    env: ['TRAINING_PORTAL'],
    otherwise: 'as `workshop_name`',
    value: (k) => fromWorkshop(k).training_portal,
  },
  {
    name: 'username',
    env: [],
    otherwise: '`JUPYTERHUB_USER`, else `AUTH_USERNAME`, else `USER`, else the account the server runs as',
    value: (k) =>
      k.config.user ||
      (k.config.authUsername !== '*' ? k.config.authUsername : '') ||
      k.env.USER ||
      accountName() ||
      '',
  },
  {
    name: 'workshop_description',
    env: ['WORKSHOP_DESCRIPTION'],
    otherwise: '`spec.description` of resources/workshop.yaml, else empty',
    value: (k) => fromWorkshop(k).workshop_description,
  },
  {
    name: 'workshop_name',
    env: ['WORKSHOP_NAME'],
    otherwise: '`metadata.name` of resources/workshop.yaml, else the title in lower case, `-` between words',
    value: (k) => fromWorkshop(k).workshop_name,
  },
  {
    name: 'workshop_namespace',
    env: ['WORKSHOP_NAMESPACE'],
    otherwise: 'as `session_namespace`',
    value: (k) => sessionNamespace(k),
  },
  {
    name: 'workshop_title',
    env: ['WORKSHOP_TITLE'],
    otherwise: '`spec.title` of resources/workshop.yaml, else `name` in workshop.yaml',
    value: (k) => fromWorkshop(k).workshop_title,
  },
];

const DOCUMENTED_NAMES = new Set(DOCUMENTED_VARIABLES.map((variable) => variable.name));

/** Whether Educates or Homeroom documents the name (so it is never reported as unknown). */
export function isDocumented(name: string): boolean {
  return DOCUMENTED_NAMES.has(name);
}

/**
 * Every documented variable with its value here. `workshop` gives the names
 * that come from the workshop itself; without it they are left out (they are
 * added once the workshop is read).
 */
export function builtInVariables(
  config: VariableConfig,
  env: Readonly<Record<string, string>>,
  workshop?: WorkshopIdentity,
): Map<string, string> {
  const known: Known = {
    config,
    env,
    namespace: podNamespace(config),
    publicUrl: publicUrl(config),
    workshop,
    passwords: STARTUP_PASSWORDS,
  };
  const vars = new Map<string, string>();
  for (const variable of DOCUMENTED_VARIABLES) {
    if (!workshop && WORKSHOP_DEPENDENT.has(variable.name)) continue;
    const fromEnv = variable.env.map((name) => env[name]).find((value) => value !== undefined && value !== '');
    vars.set(variable.name, fromEnv ?? variable.value(known));
  }
  return vars;
}

/** One pair per start: the same for every page, never written anywhere. */
const STARTUP_PASSWORDS = {
  services: randomBytes(12).toString('base64url'),
  config: randomBytes(12).toString('base64url'),
};

const WORKSHOP_DEPENDENT = new Set([
  'environment_name',
  'training_portal',
  'workshop_description',
  'workshop_name',
  'workshop_title',
]);

/**
 * The documented names that come from the workshop itself (its name, title,
 * description), for once it is read: the environment's value when set.
 */
export function workshopVariables(
  workshop: WorkshopIdentity,
  env: Readonly<Record<string, string>>,
): Map<string, string> {
  const values = fromWorkshop({ env, workshop });
  const vars = new Map<string, string>();
  for (const variable of DOCUMENTED_VARIABLES) {
    if (!WORKSHOP_DEPENDENT.has(variable.name)) continue;
    const fromEnv = variable.env.map((name) => env[name]).find((value) => value !== undefined && value !== '');
    vars.set(variable.name, fromEnv ?? values[variable.name as keyof typeof values]);
  }
  return vars;
}

/** ENV_<name>: the shells' environment variable <name>, when it is set. */
export function environmentVariable(name: string, env: Readonly<Record<string, string>>): string | undefined {
  if (!name.startsWith('ENV_')) return undefined;
  return Object.hasOwn(env, name.slice(4)) ? env[name.slice(4)] : undefined;
}

/** A name a workshop may declare or a page may use: letters, digits, _ and -. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The variables a workshop declares: config.vars entries ({ name, value,
 * aliases }), whose default the workshop file's `vars` may change and the
 * environment overrides (an alias first, else the name itself or its upper-case
 * form), then `vars` names that config.vars does not list. Problems name `where`.
 */
export function declaredVariables(options: {
  vars: unknown;
  overrides: unknown;
  env: Readonly<Record<string, string>>;
  where: string;
  overridesWhere: string;
  problems: string[];
}): Map<string, string> {
  const { vars, env, where, problems } = options;
  const declared = new Map<string, string>();
  const overrides = asRecord(options.overrides);
  if (options.overrides !== undefined && options.overrides !== null && !overrides) {
    problems.push(`${options.overridesWhere} must be a mapping of names to values`);
  }
  if (vars !== undefined && vars !== null && !Array.isArray(vars)) problems.push(`${where} must be a list`);
  for (const [i, entry] of (Array.isArray(vars) ? vars : []).entries()) {
    const fields = asRecord(entry);
    const name = fields?.name;
    if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) {
      problems.push(`${where}[${i}].name must be a name of letters, digits, _ and -`);
      continue;
    }
    const value = overrides && Object.hasOwn(overrides, name) ? overrides[name] : (fields?.value ?? '');
    if (typeof value === 'object' && value !== null) {
      problems.push(`${where}[${i}].value must be text`);
      continue;
    }
    const aliases = fields?.aliases ?? [];
    const aliasList = typeof aliases === 'string' ? [aliases] : aliases;
    if (!Array.isArray(aliasList) || !aliasList.every((alias) => typeof alias === 'string')) {
      problems.push(`${where}[${i}].aliases must be a list of environment variable names`);
      continue;
    }
    // Educates: with aliases, only they are looked up; without, the name itself.
    const fromEnv =
      aliasList.length > 0
        ? aliasList.map((alias) => env[alias]).find((found) => found !== undefined)
        : (env[name] ?? env[name.replace(/-/g, '_').toUpperCase()]);
    declared.set(name, fromEnv ?? String(value ?? ''));
  }
  for (const [name, value] of Object.entries(overrides ?? {})) {
    if (declared.has(name)) continue;
    if (!VARIABLE_NAME.test(name) || (typeof value === 'object' && value !== null)) {
      problems.push(`${options.overridesWhere}.${name} must be a name with a text value`);
      continue;
    }
    declared.set(name, env[name] ?? String(value ?? ''));
  }
  return declared;
}

const VARIABLE = /%([A-Za-z_][A-Za-z0-9_-]*)%/g;

/** Replaces every %name% whose name is known; an unknown one is left as written. */
export function substitute(text: string, vars: Variables): string {
  return text.replace(VARIABLE, (whole, name: string) => vars.get(name) ?? whole);
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** The pod's project (namespace), when running in a cluster. */
function podNamespace(config: VariableConfig): string | undefined {
  if (!config.kubernetesHost) return undefined;
  return serviceAccountFile(config, 'namespace')?.trim() || undefined;
}

function serviceAccountFile(config: VariableConfig, name: string): string | undefined {
  if (!config.kubernetesHost) return undefined;
  try {
    return readFileSync(path.join(config.serviceAccountDir, name), 'utf8');
  } catch {
    return undefined;
  }
}

function publicUrl(config: VariableConfig): URL {
  if (config.publicUrl) {
    try {
      return new URL(config.publicUrl);
    } catch {
      // validated by the config already; fall through to the local address
    }
  }
  return new URL(`http://localhost:${config.port}`);
}

function publicPort(k: Known): string {
  return k.publicUrl.port || (k.publicUrl.protocol === 'https:' ? '443' : '80');
}

function ingressDomain(k: Known): string {
  if (k.config.ingressDomain) return k.config.ingressDomain;
  const host = k.publicUrl.hostname;
  const labels = host.split('.');
  return labels.length > 2 && !/^[\d.]+$/.test(host) ? labels.slice(1).join('.') : host;
}

function sessionNamespace(k: Known): string {
  return k.env.SESSION_NAMESPACE || k.env.PROJECT_NAMESPACE || k.namespace || 'default';
}

function sessionName(k: Known): string {
  return (
    k.env.SESSION_NAME || k.namespace || DOCUMENTED_VARIABLES.find((v) => v.name === 'username')?.value(k) || 'workshop'
  );
}

function fromWorkshop(k: Pick<Known, 'env' | 'workshop'>) {
  const slug = (k.workshop?.title ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = k.env.WORKSHOP_NAME || k.workshop?.name || slug || 'workshop';
  return {
    environment_name: name,
    training_portal: name,
    workshop_name: name,
    workshop_title: k.workshop?.title ?? '',
    workshop_description: k.workshop?.description ?? '',
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The attendee's SSH key pair, as ssh-keygen names it by default; the first kind found. */
function sshKey(home: string, publicPart: boolean): string {
  const dir = path.join(home, '.ssh');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return '';
  }
  for (const kind of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    if (!names.includes(kind) || !names.includes(`${kind}.pub`)) continue;
    try {
      return readFileSync(path.join(dir, publicPart ? `${kind}.pub` : kind), 'utf8').trim();
    } catch {
      return '';
    }
  }
  return '';
}

/** The name of the account the server runs as; none for a UID without an entry in /etc/passwd. */
function accountName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}
