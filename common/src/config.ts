// The one place that reads process.env: a table and its loader. Every variable
// the processes understand is declared once in SETTINGS: its name, how it is
// parsed (and so validated), its default, whether it is a secret, who sets it,
// and one line of help. loadConfig() parses all of them, then checks the rules
// between them (each on the variables it reads, whichever others failed), and
// reports every problem at once, each naming its own variable; else it returns
// a frozen object.
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SESSION_NAME } from './protocol.js';
import { DEFAULT_TERMINAL_PORT } from './terminal-link.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** The settings above this one in the table, as parsed (absent when a variable failed). */
type Parsed = Readonly<Record<string, unknown>>;

interface Setting<T> {
  /** The environment variable. */
  name: string;
  help: string;
  secret?: boolean;
  /** Set by the platform, not by whoever deploys the terminal: such a variable needs no row in the README's table. */
  setBy?: 'JupyterHub' | 'Kubernetes' | 'the supervisor' | 'Node';
  /** Parses a non-empty raw value; throws an Error whose message says what is allowed. */
  parse(raw: string): T;
  /**
   * The value when the variable is unset or empty. A default taken from another
   * setting reads that setting's parsed value (it is above in the table), so a
   * bad value is reported once, under its own name.
   */
  fallback(env: Env, parsed: Parsed): T;
}

/** A rule between variables, checked when every setting it `uses` parsed. */
export interface ConfigRule {
  uses: readonly (keyof Config)[];
  check(config: Config): string[];
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`must be a whole number from ${min} to ${max}`);
    const value = Number(raw.trim());
    if (value < min || value > max) throw new Error(`must be a whole number from ${min} to ${max}`);
    return value;
  };
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1 << 20,
  mb: 1 << 20,
  mi: 1 << 20,
  mib: 1 << 20,
  g: 1 << 30,
  gb: 1 << 30,
  gi: 1 << 30,
  gib: 1 << 30,
};

function byteSize(min: number, max: number) {
  const allowed = `must be a size from ${min} to ${max} bytes, like 1048576, 512KiB or 4MiB`;
  return (raw: string): number => {
    const match = /^(\d+)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = match ? BYTE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
    if (!match || unit === undefined) throw new Error(allowed);
    const value = Number(match[1]) * unit;
    if (value < min || value > max) throw new Error(allowed);
    return value;
  };
}

function oneOf<T extends string>(...choices: T[]) {
  return (raw: string): T => {
    const value = raw.trim().toLowerCase() as T;
    if (!choices.includes(value)) throw new Error(`must be one of ${choices.join(', ')}`);
    return value;
  };
}

/** A URL path prefix: '' or '/a/b' (no trailing slash), safe characters only. */
export function normalizePrefix(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^(\/[A-Za-z0-9._~@%+-]+)+$/.test(trimmed) || /\/\.\.?(\/|$)/.test(trimmed)) {
    throw new Error('must be a URL path like /user/alice (letters, digits, . _ ~ @ % + - between slashes)');
  }
  return trimmed;
}

/** A command line: a JSON array of strings, or words separated by spaces. */
function commandLine(raw: string): readonly string[] {
  const text = raw.trim();
  let words: unknown;
  if (text.startsWith('[')) {
    try {
      words = JSON.parse(text);
    } catch {
      throw new Error('must be a JSON array of strings or words separated by spaces');
    }
  } else {
    words = text.split(/\s+/);
  }
  if (!Array.isArray(words) || words.length === 0 || !words.every((w) => typeof w === 'string' && w !== '')) {
    throw new Error('must be a JSON array of strings or words separated by spaces');
  }
  return Object.freeze(words as string[]);
}

function text(raw: string): string {
  return raw;
}

function list(raw: string): readonly string[] {
  return Object.freeze(
    raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
}

/** Session names (letters, digits, `_` and `-`, 1 to 64), separated by commas; may be empty. */
function sessionNames(raw: string): readonly string[] {
  const names = list(raw);
  for (const name of names) {
    if (!SESSION_NAME.test(name)) {
      throw new Error('must be session names (letters, digits, _ and -, at most 64) separated by commas');
    }
  }
  return names;
}

/** Origins like https://dashboard.example.com, for WebSockets from pages on other hosts. */
function origins(raw: string): readonly string[] {
  const values = list(raw);
  for (const value of values) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new Error('must be origins like https://host.example[:port], separated by commas');
    }
    if (url.origin !== value.replace(/\/$/, ''))
      throw new Error('must be origins like https://host.example[:port], separated by commas');
  }
  return Object.freeze(values.map((value) => value.replace(/\/$/, '')));
}

/** Host names (no port) for ALLOWED_HOSTS: a name, .a-domain for its subdomains, or * alone. */
function hostNames(raw: string): readonly string[] {
  const values = list(raw.toLowerCase());
  if (values.includes('*')) {
    if (values.length > 1) throw new Error('must be * alone, or host names separated by commas');
    return values;
  }
  for (const value of values) {
    if (!/^\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/.test(value)) {
      throw new Error('must be host names without scheme or port (like terminal.example.com or .example.com), or *');
    }
  }
  return values;
}

/** Ports and ranges of ports, like 8080 or 3000-3999. */
export type PortRanges = readonly (readonly [number, number])[];

/** APP_PORTS: `none`, or ports and ranges separated by commas. */
function portRanges(raw: string): PortRanges {
  const allowed = 'must be none, or ports and ranges from 1 to 65535 separated by commas, like 8080,3000-3999';
  if (raw.trim().toLowerCase() === 'none') return Object.freeze([]);
  const ranges: [number, number][] = [];
  for (const item of list(raw)) {
    const match = /^(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/.exec(item);
    const low = Number(match?.[1]);
    const high = match?.[2] === undefined ? low : Number(match[2]);
    if (!match || low < 1 || high > 65535 || low > high) throw new Error(allowed);
    ranges.push(Object.freeze([low, high]) as [number, number]);
  }
  if (ranges.length === 0) throw new Error(allowed);
  return Object.freeze(ranges);
}

/** APP_DOMAIN: one host name, under which each port is a host of its own. */
function appDomain(raw: string): string {
  const value = raw.trim().toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(value)) {
    throw new Error('must be a domain name like apps.example.com (each port is then <port>.apps.example.com)');
  }
  return value;
}

function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error('must be true or false (or 1/0, yes/no, on/off)');
}

function url(raw: string): string {
  try {
    const parsed = new URL(raw.trim());
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    return raw.trim().replace(/\/+$/, '');
  } catch {
    throw new Error('must be an http(s) URL');
  }
}

/** The origin (scheme, host and port) of an http(s) URL that has no path. */
function origin(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw new Error('must be an http(s) origin like https://hub.example.com');
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.pathname !== '/' || parsed.search) {
    throw new Error('must be an http(s) origin like https://hub.example.com');
  }
  return parsed.origin;
}

interface ServiceAddress {
  host: string;
  port: number;
}

/** Host and port from JUPYTERHUB_SERVICE_URL: the only place the hub says where to listen. An empty host means all interfaces. */
function serviceAddress(raw: string): ServiceAddress {
  const match = /^https?:\/\/(\[[^\]]*\]|[^/:]*)(?::(\d+))?/.exec(raw.trim());
  if (!match) throw new Error('must be a URL like http://127.0.0.1:8888/user/alice/');
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: match[2] ? Number(match[2]) : 80 };
}

/** The names proxy-addr (client-info.ts) gives to ranges of addresses. */
const ADDRESS_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: true, false, a hop count, or addresses, CIDRs and named ranges, as proxy-addr takes them. */
function trustedProxies(raw: string): boolean | number | readonly string[] {
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  const items = list(value);
  if (items.length === 0 || !items.every((item) => ADDRESS_RANGES.includes(item) || addressRange(item))) {
    throw new Error(
      'must be true, false, a hop count, or addresses and CIDRs (like 10.0.0.0/8; or loopback, linklocal, uniquelocal) separated by commas',
    );
  }
  return items;
}

/** An address, an address/prefix length, or an IPv4 address/netmask. */
function addressRange(item: string): boolean {
  const [address = '', range, extra] = item.split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  if (family !== 4 || !net.isIPv4(range)) return false;
  // A netmask is ones then zeros.
  const bits = range
    .split('.')
    .map((part) => Number(part).toString(2).padStart(8, '0'))
    .join('');
  return /^1*0*$/.test(bits);
}

const SETTINGS = {
  // Set by JupyterHub, and the defaults of URI_ROOT_PATH, HOST and PORT: above them.
  hubServicePrefix: {
    name: 'JUPYTERHUB_SERVICE_PREFIX',
    help: 'The URL path the hub routes to this server, like /user/alice/ (JupyterHub sets it): the default of URI_ROOT_PATH.',
    setBy: 'JupyterHub',
    parse: normalizePrefix,
    fallback: () => '',
  },
  hubServiceUrl: {
    name: 'JUPYTERHUB_SERVICE_URL',
    help: 'Where the hub expects this server, like http://127.0.0.1:8888/user/alice/ (JupyterHub sets it): the defaults of HOST and PORT.',
    setBy: 'JupyterHub',
    parse: (raw: string): ServiceAddress | null => serviceAddress(raw),
    fallback: () => null as ServiceAddress | null,
  },
  terminalPort: {
    name: 'TERMINAL_PORT',
    help: 'Port of the terminal server on 127.0.0.1 instead of a Unix socket (0: a free port, for a terminal server alone); unset: the supervisor links the two by a private Unix socket, a terminal server or proxy alone uses 10081.',
    parse: (raw: string): number | null => integer(0, 65535)(raw),
    fallback: () => null as number | null,
  },
  terminalSocket: {
    name: 'TERMINAL_SOCKET',
    setBy: 'the supervisor',
    help: 'Unix socket between the auth proxy and the terminal server (the supervisor makes a private one unless TERMINAL_PORT is set).',
    parse: (raw: string) => {
      const value = raw.trim();
      // sun_path holds 108 bytes with its final NUL.
      if (!value.startsWith('/') || Buffer.byteLength(value) > 107) {
        throw new Error('must be an absolute path of at most 107 bytes');
      }
      return value;
    },
    fallback: () => '',
  },
  prefix: {
    name: 'URI_ROOT_PATH',
    help: 'URL path everything is served under; defaults to JUPYTERHUB_SERVICE_PREFIX when that is set.',
    parse: normalizePrefix,
    fallback: (_env: Env, parsed: Parsed) => (parsed.hubServicePrefix as string | undefined) ?? '',
  },
  terminalHome: {
    name: 'TERMINAL_HOME',
    help: 'Directory new shells start in; defaults to HOME.',
    parse: text,
    fallback: (env: Env) => env.HOME || os.homedir(),
  },
  terminalCommand: {
    name: 'TERMINAL_COMMAND',
    help: 'Program each session runs: a JSON array or space-separated words; default "bash -il".',
    parse: commandLine,
    fallback: () => Object.freeze(['bash', '-il']) as readonly string[],
  },
  historyBytes: {
    name: 'TERMINAL_HISTORY_BYTES',
    help: 'Output kept per session for re-attaching pages (64KiB to 256MiB); default 1MiB.',
    parse: byteSize(64 << 10, 256 << 20),
    fallback: () => 1 << 20,
  },
  terminalPrestart: {
    name: 'TERMINAL_PRESTART',
    help: 'Sessions whose shells start with the server, before any page asks, so the first page finds its prompt ready: names separated by commas; default "1" (the terminal page\'s and the dashboard\'s first), empty for none.',
    parse: sessionNames,
    // Set and empty means none (an unset variable means the default).
    fallback: (env: Env) => Object.freeze(env.TERMINAL_PRESTART === undefined ? ['1'] : []) as readonly string[],
  },
  uploadMaxBytes: {
    name: 'UPLOAD_MAX_BYTES',
    help: "Largest file a page may upload into a shell's folder (1 byte to 64GiB); default 100MiB.",
    parse: byteSize(1, 64 * 2 ** 30),
    fallback: () => 100 << 20,
  },
  maxSessions: {
    name: 'TERMINAL_MAX_SESSIONS',
    help: 'Most sessions that may exist at once (1 to 1000); default 32.',
    parse: integer(1, 1000),
    fallback: () => 32,
  },
  host: {
    name: 'HOST',
    help: 'Address the auth proxy listens on; 0.0.0.0 for every interface (the image sets it). Under JupyterHub: the host of JUPYTERHUB_SERVICE_URL.',
    parse: text,
    fallback: (_env: Env, parsed: Parsed) =>
      (parsed.hubServiceUrl as ServiceAddress | null | undefined)?.host ?? '127.0.0.1',
  },
  port: {
    name: 'PORT',
    help: 'Port of the auth proxy, the one public port; default 8080 (the image sets 10080, which browsers refuse to open directly: publish it on another port); under JupyterHub: the port of JUPYTERHUB_SERVICE_URL.',
    parse: integer(0, 65535),
    fallback: (_env: Env, parsed: Parsed) => (parsed.hubServiceUrl as ServiceAddress | null | undefined)?.port ?? 8080,
  },
  workshopDir: {
    name: 'WORKSHOP_DIR',
    help: 'Folder of the workshop instructions (modules.yaml, workshop.yaml, content/); default: the workshop folder in HOME. When it exists, / opens the dashboard.',
    parse: (raw: string) => path.resolve(raw.trim()),
    fallback: (env: Env) => path.resolve(env.HOME || os.homedir(), 'workshop'),
  },
  defaultRoute: {
    name: 'DEFAULT_ROUTE',
    help: 'Where the prefix itself redirects to, under the prefix; default /dashboard/ when the workshop folder (WORKSHOP_DIR) exists, else /terminal/.',
    parse: (raw: string) => {
      const value = raw.trim();
      // Never //host (a redirect to another site) nor dot segments.
      if (!/^\/([A-Za-z0-9._~@%+-]+\/?)*$/.test(value) || /\/\.\.?(\/|$)/.test(value)) {
        throw new Error('must be a path like /terminal/ (letters, digits, . _ ~ @ % + - between slashes)');
      }
      return value;
    },
    // One rule for both processes: the proxy redirects where the terminal server serves.
    fallback: (_env: Env, parsed: Parsed) =>
      typeof parsed.workshopDir === 'string' && existsSync(parsed.workshopDir) ? '/dashboard/' : '/terminal/',
  },
  editorTab: {
    // Not EDITOR: that is the shell's own (the program `git commit` runs), often set in images.
    name: 'EDITOR_TAB',
    help: "The dashboard's Editor tab: on, off, or auto (default): shown when the workshop turns the editor on or a page has an editor:* block.",
    parse: (raw: string): 'on' | 'off' | 'auto' => oneOf('on', 'off', 'auto')(raw),
    fallback: (): 'on' | 'off' | 'auto' => 'auto',
  },
  consoleUrl: {
    name: 'CONSOLE_URL',
    help: 'Web console the dashboard shows in a Console tab (and %console_url% in workshop pages); none when unset.',
    parse: url,
    fallback: () => '',
  },
  clusterSubdomain: {
    name: 'CLUSTER_SUBDOMAIN',
    help: "Domain of the cluster's application routes, for %cluster_subdomain% in workshop pages; default INGRESS_DOMAIN.",
    parse: (raw: string) => raw.trim(),
    fallback: (env: Env) => env.INGRESS_DOMAIN?.trim() ?? '',
  },
  ingressDomain: {
    name: 'INGRESS_DOMAIN',
    help: 'Domain of ingress host names, for %ingress_domain% in workshop pages; default CLUSTER_SUBDOMAIN.',
    parse: (raw: string) => raw.trim(),
    fallback: (env: Env) => env.CLUSTER_SUBDOMAIN?.trim() ?? '',
  },
  authMode: {
    name: 'AUTH_MODE',
    help: 'none, basic, openshift or jupyterhub; detected from the other variables when unset (auth-proxy/src/modes/choice.ts).',
    parse: (raw: string): 'none' | 'basic' | 'openshift' | 'jupyterhub' | null =>
      oneOf('none', 'basic', 'openshift', 'jupyterhub')(raw),
    fallback: () => null,
  },
  authUsername: {
    name: 'AUTH_USERNAME',
    help: 'User name for basic authentication; * turns authentication off.',
    parse: text,
    fallback: () => '',
  },
  trustProxy: {
    name: 'TRUST_PROXY',
    help: 'Whose X-Forwarded-* headers to believe: false, true, a hop count, or addresses/CIDRs/loopback/uniquelocal, comma-separated.',
    parse: trustedProxies,
    fallback: () => false as boolean | number | readonly string[],
  },
  allowedOrigins: {
    name: 'ALLOWED_ORIGINS',
    help: 'Other origins whose pages may open terminal WebSockets, comma-separated.',
    parse: origins,
    fallback: () => Object.freeze([]) as readonly string[],
  },
  allowedHosts: {
    name: 'ALLOWED_HOSTS',
    help: 'Without authentication: host names (besides IP addresses, localhost and the host of PUBLIC_URL) the terminal answers to, comma-separated; .example.com allows its subdomains; * allows any.',
    parse: hostNames,
    fallback: () => Object.freeze([]) as readonly string[],
  },
  frameAncestors: {
    name: 'FRAME_ANCESTORS',
    help: "Who may show the terminal in a frame (CSP frame-ancestors sources); default 'self'.",
    parse: (raw: string) => {
      if (/[;,\r\n]/.test(raw))
        throw new Error("must be CSP sources separated by spaces, like 'self' https://dashboard.example");
      return raw.trim();
    },
    fallback: () => "'self'",
  },
  appPorts: {
    name: 'APP_PORTS',
    help: "Ports of the container's own web apps the browser may reach at <prefix>/port/<n>/: ports and ranges (8080,3000-3999) or none; default 1024-65535. The stack's own ports are never among them.",
    parse: (raw: string): PortRanges => portRanges(raw),
    fallback: (): PortRanges => Object.freeze([Object.freeze([1024, 65535]) as readonly [number, number]]),
  },
  appDomain: {
    name: 'APP_DOMAIN',
    help: 'A wildcard domain whose hosts <port>.<APP_DOMAIN> serve the apps of APP_PORTS each on an origin of its own, unsandboxed (basic authentication or none only); default: none.',
    parse: appDomain,
    fallback: () => '',
  },
  pm2AppsDir: {
    name: 'PM2_APPS_DIR',
    help: 'Folder whose *.config.js files add apps for pm2 to run; default /opt/app-root/etc/pm2.',
    parse: text,
    fallback: () => '/opt/app-root/etc/pm2',
  },
  pm2Home: {
    name: 'PM2_HOME',
    help: "pm2's working folder; a new temporary folder when unset.",
    parse: text,
    fallback: () => '',
  },
  shellEnvironmentFile: {
    name: 'SHELL_ENVIRONMENT_FILE',
    help: 'JSON file with the environment shells start from (the supervisor writes it: pm2 adds its own variables to ours); the terminal server reads it.',
    setBy: 'the supervisor',
    parse: text,
    fallback: () => '',
  },
  workshopSetupReport: {
    name: 'WORKSHOP_SETUP_REPORT',
    setBy: 'the supervisor',
    help: "JSON file where the supervisor reports how the workshop's setup.d scripts ran, for the dashboard's note to the author.",
    parse: text,
    fallback: () => '',
  },
  authRecheckSeconds: {
    name: 'AUTH_RECHECK_INTERVAL',
    help: 'Seconds between re-checks of a logged-in user (token still valid, still allowed), open WebSockets included; default 300.',
    parse: integer(1, 86400),
    fallback: () => 300,
  },
  hubApiToken: {
    name: 'JUPYTERHUB_API_TOKEN',
    setBy: 'JupyterHub',
    help: "The hub's token for this server (JupyterHub sets it): its OAuth client secret.",
    secret: true,
    parse: text,
    fallback: () => '',
  },
  hubClientId: {
    name: 'JUPYTERHUB_CLIENT_ID',
    setBy: 'JupyterHub',
    help: 'OAuth client id of this server at the hub (JupyterHub sets it).',
    parse: text,
    fallback: () => '',
  },
  hubApiUrl: {
    name: 'JUPYTERHUB_API_URL',
    setBy: 'JupyterHub',
    help: "The hub's API, like http://hub:8081/hub/api (JupyterHub sets it).",
    parse: url,
    fallback: () => '',
  },
  hubBaseUrl: {
    name: 'JUPYTERHUB_BASE_URL',
    setBy: 'JupyterHub',
    help: "The hub's public base path, like / (JupyterHub sets it).",
    parse: (raw: string) => `${normalizePrefix(raw)}/`,
    fallback: () => '/',
  },
  hubActivityUrl: {
    name: 'JUPYTERHUB_ACTIVITY_URL',
    setBy: 'JupyterHub',
    help: 'Where terminal activity is reported for the idle culler (JupyterHub sets it).',
    parse: url,
    fallback: () => '',
  },
  hubCallbackUrl: {
    name: 'JUPYTERHUB_OAUTH_CALLBACK_URL',
    setBy: 'JupyterHub',
    help: "The OAuth callback registered at the hub (JupyterHub sets it): a path, or with subdomain_host the full URL on this server's own host.",
    parse: (raw: string) => {
      const value = raw.trim();
      if (/^\/[A-Za-z0-9._~@%+/-]*$/.test(value)) return value;
      // With subdomain_host the hub registers the callback on the server's own host, as a full URL.
      let parsed: URL | null = null;
      try {
        parsed = new URL(value);
      } catch {}
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search || parsed.hash) {
        throw new Error(
          'must be a path like /user/alice/oauth_callback or a URL like https://alice.hub.example.com/user/alice/oauth_callback',
        );
      }
      return value;
    },
    fallback: () => '',
  },
  hubHost: {
    name: 'JUPYTERHUB_HOST',
    setBy: 'JupyterHub',
    help: "The hub's public origin when each user's server has a host of its own (the hub's subdomain_host, like https://hub.example.com; JupyterHub sets it); empty: every server shares the hub's origin.",
    parse: origin,
    fallback: () => '',
  },
  hubServerName: {
    name: 'JUPYTERHUB_SERVER_NAME',
    setBy: 'JupyterHub',
    help: 'Name of this server when a user has several (JupyterHub sets it; empty for the default one).',
    parse: text,
    fallback: () => '',
  },
  hubAdminAccess: {
    name: 'JUPYTERHUB_ADMIN_ACCESS',
    setBy: 'JupyterHub',
    help: "Whether the hub's admins may open this terminal (JupyterHub sets it from admin_access); ALLOW_HUB_ADMINS overrides.",
    parse: boolean,
    fallback: () => false,
  },
  allowHubAdmins: {
    name: 'ALLOW_HUB_ADMINS',
    help: "true or false: let the hub's admins watch this terminal (read-only until its owner hands them the keyboard), whatever JUPYTERHUB_ADMIN_ACCESS says.",
    parse: (raw: string): boolean | null => boolean(raw),
    fallback: () => null as boolean | null,
  },
  terminalViewers: {
    name: 'TERMINAL_VIEWERS',
    help: 'User names (commas) let in to watch the terminal, read-only until its owner hands them the keyboard; JupyterHub and OpenShift logins only.',
    parse: list,
    fallback: () => Object.freeze([]) as readonly string[],
  },
  roomInstructors: {
    name: 'ROOM_INSTRUCTORS',
    help: "The room service: hub users (commas) who may open the room page besides the hub's admins and holders of the custom:room:instruct scope.",
    parse: list,
    fallback: () => Object.freeze([]) as readonly string[],
  },
  roomDatabase: {
    name: 'ROOM_DATABASE',
    help: "The room service: the SQLite file keeping the room's events (made when missing); default room.sqlite in the working folder.",
    parse: (raw: string) => path.resolve(raw.trim()),
    fallback: () => path.resolve('room.sqlite'),
  },
  roomStuckMinutes: {
    name: 'ROOM_STUCK_MINUTES',
    help: 'The room service: minutes on a failing step, or idle while others moved on, before the room page calls an attendee stuck (1 to 1440); default 10.',
    parse: integer(1, 1440),
    fallback: () => 10,
  },
  activityIntervalSeconds: {
    name: 'ACTIVITY_REPORT_INTERVAL',
    help: 'Seconds between reports of terminal activity to the hub (only when there was some); default 60.',
    parse: integer(1, 3600),
    fallback: () => 60,
  },
  roomServiceUrl: {
    name: 'ROOM_SERVICE_URL',
    help: "The room service (issue 25) this stack tells what the attendee does (pages, clicks, commands' exit status, checks, raised hand), like http://hub:8081/services/room; unset: nothing is collected or sent.",
    parse: url,
    fallback: () => '',
  },
  oauthServiceAccount: {
    name: 'OAUTH_SERVICE_ACCOUNT',
    help: "OpenShift login: the service account that is the OAuth client (its redirect annotations name this terminal's route).",
    parse: (raw: string) => {
      if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(raw.trim())) throw new Error('must be a service account name');
      return raw.trim();
    },
    fallback: () => '',
  },
  kubernetesHost: {
    name: 'KUBERNETES_SERVICE_HOST',
    setBy: 'Kubernetes',
    help: 'The API server (Kubernetes sets it in every pod).',
    parse: text,
    fallback: () => '',
  },
  kubernetesPort: {
    name: 'KUBERNETES_SERVICE_PORT',
    setBy: 'Kubernetes',
    help: 'Port of the API server; default 443.',
    parse: integer(1, 65535),
    fallback: () => 443,
  },
  serviceAccountDir: {
    name: 'SERVICE_ACCOUNT_DIR',
    help: "Folder with the pod's service account token, namespace and ca.crt.",
    parse: text,
    fallback: () => '/var/run/secrets/kubernetes.io/serviceaccount',
  },
  kubernetesTlsInsecure: {
    name: 'KUBERNETES_TLS_INSECURE',
    help: 'true turns off TLS verification towards the API and OAuth servers (a warning is logged); default false.',
    parse: boolean,
    fallback: () => false,
  },
  extraCaFile: {
    name: 'NODE_EXTRA_CA_CERTS',
    help: 'A PEM file of further CA certificates to trust.',
    parse: text,
    fallback: () => '',
  },
  oauthTrustPublicCas: {
    name: 'OAUTH_TRUST_PUBLIC_CAS',
    help: "OpenShift login: true also trusts Node's public CAs towards the API and OAuth servers (an OAuth route with a public certificate); default false: only the service account's CAs and NODE_EXTRA_CA_CERTS.",
    parse: boolean,
    fallback: () => false,
  },
  revokedLoginsFile: {
    name: 'REVOKED_LOGINS_FILE',
    help: 'OpenShift login: file (mode 0600) keeping logged-out logins until their cookies expire, so a logout outlives a restart (used when SESSION_SECRET is set); default ~/.local/state/workshop-terminal/revoked-logins.',
    parse: text,
    fallback: (env: Env) => `${env.HOME || os.homedir()}/.local/state/workshop-terminal/revoked-logins`,
  },
  publicUrl: {
    name: 'PUBLIC_URL',
    help: "The terminal's public URL (like https://terminal.apps.example.com); default: from the request's forwarded host and scheme.",
    parse: url,
    fallback: () => '',
  },
  user: {
    name: 'JUPYTERHUB_USER',
    help: 'Name of the workshop user, shown in the prompt.',
    parse: text,
    fallback: () => '',
  },
  logLevel: {
    name: 'LOG_LEVEL',
    help: 'Least important log events written: debug, info, warn or error; default info.',
    parse: oneOf<LogLevel>('debug', 'info', 'warn', 'error'),
    fallback: () => 'info' as LogLevel,
  },
  // Secrets that later parts of the proxy use. Declared here so they are never
  // handed to the workshop user's shell.
  authPassword: {
    name: 'AUTH_PASSWORD',
    help: 'Password for basic authentication.',
    secret: true,
    parse: text,
    fallback: () => '',
  },
  terminalToken: {
    name: 'TERMINAL_SERVER_TOKEN',
    setBy: 'the supervisor',
    help: 'Shared secret the auth proxy shows the terminal server on every request (the supervisor makes one); empty: none.',
    secret: true,
    parse: text,
    fallback: () => '',
  },
  sessionSecret: {
    name: 'SESSION_SECRET',
    help: 'Secret(s) signing the login cookie, separated by commas (the first signs).',
    secret: true,
    parse: text,
    fallback: () => '',
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
export type Config = { readonly [K in keyof Settings]: ReturnType<Settings[K]['parse']> };

/** The rules between variables that every process shares (the auth modes' own are in auth-proxy/src/modes/choice.ts). */
const RULES: readonly ConfigRule[] = [
  {
    uses: ['terminalSocket', 'port', 'terminalPort'],
    check: (config) =>
      !config.terminalSocket && config.port === (config.terminalPort ?? DEFAULT_TERMINAL_PORT) && config.port !== 0
        ? [`PORT and TERMINAL_PORT must differ (both are ${config.port})`]
        : [],
  },
  {
    // The service learns whose events they are from the hub, by the token they come with.
    uses: ['roomServiceUrl', 'hubApiToken'],
    check: (config) =>
      config.roomServiceUrl && !config.hubApiToken
        ? ['ROOM_SERVICE_URL needs JUPYTERHUB_API_TOKEN: the room service learns from the hub whose events they are']
        : [],
  },
];

/**
 * Parses every setting from env, then checks RULES and `rules`; throws
 * ConfigError listing every problem, each naming its variable.
 */
export function loadConfig(env: Env = process.env, rules: readonly ConfigRule[] = []): Config {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[setting.name];
    try {
      values[key] = raw === undefined || raw.trim() === '' ? setting.fallback(env, values) : setting.parse(raw);
    } catch (error) {
      const shown = setting.secret || raw === undefined ? '' : ` (got ${JSON.stringify(raw.slice(0, 80))})`;
      problems.push(`${setting.name} ${(error as Error).message}${shown}`);
    }
  }
  // A rule over a variable that failed would only repeat its problem, or guess.
  for (const rule of [...RULES, ...rules]) {
    if (rule.uses.every((key) => key in values)) problems.push(...rule.check(values as Config));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(values) as Config;
}

/** Names of the variables that must never reach the workshop user's shell. */
export const SECRET_VARIABLES: readonly string[] = Object.freeze(
  Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .filter((s) => s.secret)
    .map((s) => s.name),
);

/** The values of the secret settings (wherever they came from), so that no copy of one is passed on. */
export function secretValues(config: Config): string[] {
  return Object.entries(SETTINGS as Record<string, Setting<unknown>>)
    .filter(([, setting]) => setting.secret)
    .map(([key]) => (config as Record<string, unknown>)[key])
    .filter((value): value is string => typeof value === 'string');
}

/** One line per variable, for `--help` and the README. */
export function describeSettings(): string {
  return Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .map((s) => `${s.name.padEnd(24)} ${s.help}`)
    .join('\n');
}

/** The variables whoever deploys the terminal may set (not those the platform sets): each has a row in the README's table. */
export function deployerVariables(): string[] {
  return Object.values(SETTINGS as Record<string, Setting<unknown>>)
    .filter((s) => !s.setBy)
    .map((s) => s.name);
}
