// Prepares pm2-runtime's start: checks the configuration of every process
// (so a bad variable stops the container at once, with one line each), makes
// pm2's working folder, and writes the ecosystem file: the auth proxy, the
// terminal server, and the workshop's extra apps. Prints the file's path.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { AUTH_MODE_RULES } from '../auth-proxy/src/modes/choice.js';
import { projectRoot } from '../common/src/paths.js';
import { configOrExit } from '../common/src/process.js';
import { withoutSecrets } from '../common/src/secrets.js';
import { SETUP_REPORT_FILE } from '../dashboard/src/setup-report.js';

interface App {
  name: string;
  script: string;
  [key: string]: unknown;
}

function fail(message: string): never {
  process.stderr.write(`supervisor: ${message}\n`);
  process.exit(2);
}

// The auth modes' rules too: a proxy that cannot start should stop the container before anything starts.
const config = configOrExit('supervisor', AUTH_MODE_RULES);

const root = projectRoot();
// pm2 also writes every line to files under PM2_HOME/logs, which nothing rotates:
// logs go to pm2-runtime's stdout only (the container's log, or the terminal).
const STDOUT_ONLY = { out_file: '/dev/null', error_file: '/dev/null' };
// pm2 wraps every Node app in its monitoring agent for PM2.io (@pm2/io, loaded
// whether used or not), which nothing here uses: about 2 MB a process.
const NO_AGENT = { pmx: false };
const ours: App[] = [
  { name: 'terminal-server', script: path.join(root, 'dist/terminal-server/src/main.js') },
  { name: 'auth-proxy', script: path.join(root, 'dist/auth-proxy/src/main.js') },
].map((app) => ({
  ...app,
  exec_mode: 'fork',
  ...NO_AGENT,
  // pm2 also turns on source-map support, so that Node reads and keeps the map of
  // every module it loads: ours run as they do outside pm2, with stack traces of dist/.
  disable_source_map_support: true,
  autorestart: true,
  // Back off from 0.2 s when a process keeps crashing; reset once it runs 30 s.
  exp_backoff_restart_delay: 200,
  max_restarts: 1000,
  // Both stop within a second of SIGINT; SIGKILL after this.
  kill_timeout: 2000,
  merge_logs: true,
  ...STDOUT_ONLY,
}));

/** Ports that cannot work stop the start here, with one line, rather than in a loop of restarts. */
async function checkPorts(): Promise<void> {
  if (config.terminalPort !== null && !config.terminalSocket) {
    if (config.terminalPort === 0) {
      fail(
        "TERMINAL_PORT=0 cannot work: the auth proxy must know the terminal server's port (leave TERMINAL_PORT unset: a private Unix socket is used)",
      );
    }
    if (!(await portFree('127.0.0.1', config.terminalPort))) {
      fail(
        `TERMINAL_PORT ${config.terminalPort} is in use on 127.0.0.1 (another terminal on this host?); leave it unset to use a private Unix socket`,
      );
    }
  }
  if (config.port !== 0 && !(await portFree(config.host, config.port))) {
    fail(`PORT ${config.port} is in use on ${config.host}`);
  }
}

/**
 * A PM2_HOME belongs to one pm2. A second stack given the folder of a running
 * one would hand its apps to that pm2, which restarts the first stack's servers
 * (and ends their shells) with the second's settings: seen with a hub that gave
 * every user the same PM2_HOME. A running pm2 answers on rpc.sock in its folder;
 * a socket file left by one that was killed refuses, and pm2 replaces it.
 */
async function checkPm2Home(home: string): Promise<void> {
  if (await socketAnswers(path.join(home, 'rpc.sock'))) {
    fail(
      `PM2_HOME ${home} is in use by a running pm2 (another terminal's?): give each terminal its own, or leave PM2_HOME unset for a new temporary folder`,
    );
  }
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

/**
 * Turns off pm2's host metrics for PM2.io, which run `df` every 30 s in an idle
 * container (in its module_conf.json, keeping what a given PM2_HOME holds).
 */
function quietPm2(home: string): void {
  const file = path.join(home, 'module_conf.json');
  let conf: Record<string, unknown> = {};
  try {
    const read: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (read && typeof read === 'object' && !Array.isArray(read)) conf = read as Record<string, unknown>;
  } catch {
    // none yet (pm2 would write {}), or not JSON (pm2 would ignore it)
  }
  const own = conf.pm2 && typeof conf.pm2 === 'object' ? conf.pm2 : {};
  writeFileSync(file, JSON.stringify({ ...conf, pm2: { ...own, sysmonit: 'false' } }, null, 2));
}

/** Apps a workshop adds: each *.config.js exports { apps: [...] } (pm2's ecosystem format) or one app. */
function extraApps(dir: string): App[] {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((file) => file.endsWith('.config.js'))
      .sort();
  } catch {
    return []; // no such folder: no extra apps
  }
  const require = createRequire(path.join(dir, 'index.js'));
  const apps: App[] = [];
  for (const file of files) {
    const where = path.join(dir, file);
    let loaded: unknown;
    try {
      loaded = require(where);
    } catch (error) {
      fail(`${where} could not be loaded: ${(error as Error).message.split('\n')[0]}`);
    }
    const list = (loaded as { apps?: unknown })?.apps ?? loaded;
    for (const app of Array.isArray(list) ? list : [list]) {
      if (!app || typeof app !== 'object' || typeof app.name !== 'string' || typeof app.script !== 'string') {
        fail(`${where} must export { apps: [{ name, script, ... }] }`);
      }
      if (ours.some((own) => own.name === app.name)) fail(`${where}: the app name ${app.name} is taken`);
      apps.push({ cwd: dir, ...NO_AGENT, ...STDOUT_ONLY, ...app });
    }
  }
  return apps;
}

if (config.pm2Home) await checkPm2Home(config.pm2Home);
await checkPorts();

const home = config.pm2Home || mkdtempSync(path.join(os.tmpdir(), 'workshop-pm2-'));
mkdirSync(home, { recursive: true });
quietPm2(home);

// pm2 adds dozens of variables of its own (pm_id, PM2_HOME, status, …) to the
// environment of the processes it starts; shells start from this one instead.
const shellEnvironmentFile = path.join(home, 'shell-environment.json');
const shellEnvironment = withoutSecrets(process.env);
delete shellEnvironment.PM2_HOME;
writeFileSync(shellEnvironmentFile, JSON.stringify(shellEnvironment), { mode: 0o600 });
// The terminal server listens on 127.0.0.1, which other local users reach too:
// it answers only requests carrying this token, which only the auth proxy has.
const token = config.terminalToken || randomBytes(32).toString('base64url');
// The link between the two needs no port (several stacks share a host under
// JupyterHub): a Unix socket in a folder only this user can open, unless
// TERMINAL_PORT (or TERMINAL_SOCKET) says otherwise.
const link: Record<string, string> = { TERMINAL_SERVER_TOKEN: token };
if (config.terminalPort === null && !config.terminalSocket) {
  link.TERMINAL_SOCKET = path.join(mkdtempSync(path.join(home, 'link-')), 'terminal.sock');
}
const terminalServer = ours.find((app) => app.name === 'terminal-server') as App;
terminalServer.env = {
  SHELL_ENVIRONMENT_FILE: shellEnvironmentFile,
  // Written by setup-workshop.js, which start.sh runs next.
  WORKSHOP_SETUP_REPORT: path.join(home, SETUP_REPORT_FILE),
  ...link,
};
const authProxy = ours.find((app) => app.name === 'auth-proxy') as App;
authProxy.env = { ...link };

const ecosystem = path.join(home, 'ecosystem.json');
writeFileSync(ecosystem, JSON.stringify({ apps: [...ours, ...extraApps(config.pm2AppsDir)] }, null, 2), {
  mode: 0o600,
});
process.stdout.write(`${ecosystem}\n`);
