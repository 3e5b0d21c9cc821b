// A real JupyterHub 3 (Debian's jupyterhub and configurable-http-proxy) on
// 127.0.0.1 with free ports: DummyAuthenticator, SimpleLocalProcessSpawner
// running our start command, and a service token with admin rights for tests.
// Plus what the hub's spawn-pending page does in a browser (awaitSpawn).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../common/src/paths.js';
import type { BrowseResult, CookieClient } from './cookie-client.js';
import { eventually, freePort } from './servers.js';
import { findTool } from './tools.js';

/**
 * The `skip` of a suite that needs a real hub: false when jupyterhub and
 * configurable-http-proxy are installed, and always in CI, where .ci/run installs
 * them and a missing one fails loudly; otherwise why the suite is skipped.
 */
export const hubSkip: string | false =
  (findTool('jupyterhub') !== null && findTool('configurable-http-proxy') !== null) || process.env.CI
    ? false
    : 'jupyterhub and configurable-http-proxy are not installed (.ci/run installs them)';

export interface Hub {
  /** Where browsers reach the hub: http://127.0.0.1:<port>, or http://hub.localhost:<port> with subdomains. */
  url: string;
  port: number;
  /** Where browsers reach a user's server: the hub's origin, or http://<user>.hub.localhost:<port> with subdomains. */
  userOrigin(user: string): string;
  adminToken: string;
  /**
   * Sends `path` (a prefix) of `user`'s URL space, on their origin, to `target` through the
   * hub's own proxy: what a user who replaced their server could serve there.
   */
  serveAs(user: string, path: string, target: string): Promise<void>;
  /** The jupyterhub process (configurable-http-proxy runs below it; the servers it spawns too, each in its own session). */
  pid: number;
  output(): string;
  /** A user's home folder (their server starts there; it need not exist before). */
  home(user: string): string;
  api<T = unknown>(method: string, apiPath: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface HubOptions {
  /** More environment for every server, on top of (or instead of) the defaults below. */
  spawnerEnvironment?: Record<string, string>;
  /**
   * Activity reports every second and login re-checks every 2 s, so tests see them
   * quickly (the default); false leaves the terminal's own intervals, as a real hub runs it.
   */
  shortIntervals?: boolean;
  /** c.Spawner.start_timeout: seconds for a server to start (60 unless given). */
  startTimeoutSeconds?: number;
  /** c.Spawner.http_timeout: seconds for a started server to answer on its URL (60 unless given). */
  httpTimeoutSeconds?: number;
  /** c.JupyterHub.concurrent_spawn_limit: spawns at once before the hub answers 429 (its own default, 100, unless given; 0: none). */
  concurrentSpawnLimit?: number;
  /**
   * c.JupyterHub.subdomain_host = http://hub.localhost:<port>: each user's server on a host of
   * its own, <user>.hub.localhost (browsers resolve every *.localhost to this machine).
   */
  subdomains?: boolean;
  /**
   * The room service (room/, built in dist/) as a hub-managed service at /services/room/:
   * hub admins and carol (the custom:room:instruct scope) are instructors, with `instructors`
   * (ROOM_INSTRUCTORS) too; bob may log in to it but is none. Every server gets ROOM_SERVICE_URL.
   */
  room?: { database: string; instructors?: string; stuckMinutes?: number };
}

/** The room service's hub roles and entry, for startHub's config. */
async function roomServiceConfig(room: NonNullable<HubOptions['room']>, publicUrl: string): Promise<string> {
  const port = await freePort();
  const environment = {
    ROOM_DATABASE: room.database,
    ROOM_INSTRUCTORS: room.instructors ?? '',
    ROOM_STUCK_MINUTES: String(room.stuckMinutes ?? 10),
    LOG_LEVEL: 'info',
  };
  return `
c.JupyterHub.custom_scopes = {'custom:room:instruct': {'description': 'Open the room page'}}
c.JupyterHub.services.append({
    'name': 'room',
    'url': 'http://127.0.0.1:${port}',
    'command': [${JSON.stringify(process.execPath)}, ${JSON.stringify(path.join(projectRoot(), 'dist/room/src/main.js'))}],
    'environment': ${JSON.stringify(environment)},
    'oauth_no_confirm': True,
    'oauth_client_allowed_scopes': ['custom:room:instruct'],
})
c.JupyterHub.load_roles += [
    {'name': 'room-service', 'services': ['room'], 'scopes': ['list:users', 'read:users', 'read:servers']},
    {'name': 'room-instructors', 'users': ['carol'], 'scopes': ['custom:room:instruct', 'access:services!service=room']},
    {'name': 'room-visitors', 'users': ['bob', 'erin'], 'scopes': ['access:services!service=room']},
]
c.Spawner.environment['ROOM_SERVICE_URL'] = '${publicUrl}/services/room'
`;
}

/**
 * Starts a hub; dave's server lets hub admins watch (ALLOW_HUB_ADMINS=true), and erin
 * (TERMINAL_VIEWERS, with a hub role giving her access to it); everyone else's does not.
 */
export async function startHub(options: HubOptions = {}): Promise<Hub> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-hub-'));
  const port = await freePort();
  const hubPort = await freePort();
  const proxyApiPort = await freePort();
  const adminToken = randomBytes(16).toString('hex');
  const proxyToken = randomBytes(16).toString('hex');
  const environment = {
    ...(options.shortIntervals === false ? {} : { ACTIVITY_REPORT_INTERVAL: '1', AUTH_RECHECK_INTERVAL: '2' }),
    TERMINAL_COMMAND: 'bash --norc --noprofile -i',
    ...options.spawnerEnvironment,
  };
  const url = options.subdomains ? `http://hub.localhost:${port}` : `http://127.0.0.1:${port}`;
  const config = `
c.JupyterHub.subdomain_host = '${options.subdomains ? url : ''}'
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = ${port}
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${proxyApiPort}'
c.ConfigurableHTTPProxy.auth_token = '${proxyToken}'
c.ConfigurableHTTPProxy.pid_file = '${dir}/proxy.pid'
c.JupyterHub.db_url = 'sqlite:///${dir}/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '${dir}/cookie_secret'
c.JupyterHub.authenticator_class = 'dummy'
c.Authenticator.admin_users = {'admin'}
c.JupyterHub.admin_access = False
c.JupyterHub.spawner_class = 'simple'
c.Spawner.cmd = ['${path.join(projectRoot(), 'supervisor/start-singleuser')}']
c.Spawner.args = []
c.Spawner.env_keep = ['PATH', 'LANG', 'TMPDIR']
# Nothing per user but what the hub gives every server: several stacks share this host.
c.Spawner.environment = dict(${JSON.stringify(environment)},
    ALLOW_HUB_ADMINS=lambda spawner: 'true' if spawner.user.name == 'dave' else 'false',
    TERMINAL_VIEWERS=lambda spawner: 'erin' if spawner.user.name == 'dave' else '')
# erin, no admin, may log in to dave's server (the hub's side of TERMINAL_VIEWERS).
c.JupyterHub.load_roles = [{'name': 'dave-watchers', 'users': ['erin'], 'scopes': ['access:servers!user=dave']}]
c.Spawner.start_timeout = ${options.startTimeoutSeconds ?? 60}
c.Spawner.http_timeout = ${options.httpTimeoutSeconds ?? 60}
c.JupyterHub.concurrent_spawn_limit = ${options.concurrentSpawnLimit ?? 100}
# Each user's home (and the folder the server starts in) inside the hub's folder, gone with it.
c.SimpleLocalProcessSpawner.home_dir_template = '${dir}/home/{username}'
c.JupyterHub.last_activity_interval = 3600
c.JupyterHub.services = [{'name': 'tests', 'api_token': '${adminToken}', 'admin': True}]
${options.room ? await roomServiceConfig(options.room, url) : ''}`;
  writeFileSync(path.join(dir, 'jupyterhub_config.py'), config);
  const child: ChildProcess = spawn('jupyterhub', ['-f', path.join(dir, 'jupyterhub_config.py')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      TMPDIR: dir,
      // Debian's configurable-http-proxy finds its modules here.
      NODE_PATH: '/usr/share/nodejs:/usr/lib/nodejs',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  // The API by address: the hub answers it on any host, and Node does not resolve *.localhost.
  const api = async <T>(method: string, apiPath: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/hub/api${apiPath}`, {
      method,
      headers: { Authorization: `token ${adminToken}` },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };

  const hub: Hub = {
    url,
    port,
    userOrigin: (user) => (options.subdomains ? `http://${user}.hub.localhost:${port}` : url),
    adminToken,
    async serveAs(user, routePath, target) {
      // With host routing the proxy's routes begin with the host name (no port).
      const spec = options.subdomains ? `/${user}.hub.localhost${routePath}` : routePath;
      const res = await fetch(`http://127.0.0.1:${proxyApiPort}/api/routes${spec}`, {
        method: 'POST',
        headers: { Authorization: `token ${proxyToken}` },
        body: JSON.stringify({ target }),
      });
      if (res.status !== 201) throw new Error(`proxy route ${spec}: ${res.status} ${await res.text()}`);
    },
    pid: child.pid as number,
    output: () => output,
    home: (user) => path.join(dir, 'home', user),
    api,
    async stop() {
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await eventually(async () => (await api('GET', '/')).status === 200, 30_000, 'JupyterHub to start');
  } catch (error) {
    await hub.stop();
    throw new Error(`${(error as Error).message}\n${output.slice(-3000)}`);
  }
  return hub;
}

/**
 * Starts a user's server through the hub API (unless it is starting or running
 * already: logging in at the hub starts it) and waits until it is ready.
 */
export async function spawnServer(hub: Hub, user: string, timeoutMs = 60_000): Promise<void> {
  await hub.api('POST', `/users/${user}`);
  const started = await hub.api<{ message?: string }>('POST', `/users/${user}/server`);
  const underWay = started.status === 400 && /is (already running|pending)/.test(started.body?.message ?? '');
  if (started.status !== 201 && started.status !== 202 && !underWay) {
    throw new Error(`spawn ${user}: ${started.status} ${started.body?.message ?? ''}`);
  }
  await eventually(
    async () => {
      const info = await hub.api<{ servers: Record<string, { ready: boolean }> }>('GET', `/users/${user}`);
      return info.body.servers['']?.ready === true;
    },
    timeoutMs,
    `${user}'s server to be ready\n${hub.output().slice(-2000)}`,
  );
}

interface SpawnEvent {
  progress?: number;
  message?: string;
  ready?: boolean;
  failed?: boolean;
}

/** A spawn's progress events (text/event-stream) until one says ready or failed, or the stream ends. */
function spawnEvents(url: string, headers: Record<string, string>, timeoutMs: number): Promise<SpawnEvent[]> {
  return new Promise((resolve, reject) => {
    const events: SpawnEvent[] = [];
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(new Error(`progress events: HTTP ${res.statusCode} from ${url}`));
        return;
      }
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          const event = JSON.parse(data) as SpawnEvent;
          events.push(event);
          if (event.ready || event.failed) finish();
        }
      });
      res.on('end', () => finish());
    });
    const timer = setTimeout(
      () => finish(new Error(`no ready event within ${timeoutMs} ms: ${JSON.stringify(events.at(-1) ?? null)}`)),
      timeoutMs,
    );
    req.on('error', (error) => finish(error));
    let done = false;
    function finish(error?: Error): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      if (error) reject(error);
      else resolve(events);
    }
  });
}

/**
 * What the hub's spawn-pending page does in a browser: it listens to the spawn's
 * progress events (an EventSource, sent with the page as Referer, which the hub's
 * API requires of a cookie login) until one says ready, then loads itself again,
 * which the hub answers with a redirect to the server. `page` is where the client
 * landed; any other page is given back as it is. `onReady`: called on the ready event.
 */
export async function awaitSpawn(
  client: CookieClient,
  page: BrowseResult,
  timeoutMs: number,
  onReady: () => void = () => {},
): Promise<BrowseResult> {
  if (page.status !== 200 || !new URL(page.url).pathname.includes('/hub/spawn-pending/')) return page;
  const progress = /new EventSource\("([^"]+)"\)/.exec(page.body)?.[1];
  if (!progress) throw new Error(`no progress events named on ${page.url}`);
  const events = await spawnEvents(
    new URL(progress, page.url).href,
    { Accept: 'text/event-stream', Cookie: client.cookieHeader(), Referer: page.url },
    timeoutMs,
  );
  if (!events.at(-1)?.ready) {
    throw new Error(`the spawn did not get ready: ${events.map((e) => e.message ?? '').join(' / ')}`);
  }
  onReady();
  const next = await client.open(page.url);
  return { ...next, visited: [...page.visited, ...next.visited] };
}
