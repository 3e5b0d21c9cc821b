// A real JupyterHub 3 (Debian's jupyterhub and configurable-http-proxy) on
// 127.0.0.1 with free ports: DummyAuthenticator, SimpleLocalProcessSpawner
// running our start command, and a service token with admin rights for tests.
// Plus a small cookie-keeping HTTP client that follows redirects like a browser.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../common/src/paths.js';
import { eventually, freePort } from './servers.js';

export interface Hub {
  url: string;
  port: number;
  adminToken: string;
  output(): string;
  api<T = unknown>(method: string, apiPath: string): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** Starts a hub; dave's server lets hub admins in (ALLOW_HUB_ADMINS=true), everyone else's does not. */
export async function startHub(options: { spawnerEnvironment?: Record<string, string> } = {}): Promise<Hub> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-hub-'));
  const port = await freePort();
  const hubPort = await freePort();
  const proxyApiPort = await freePort();
  const adminToken = randomBytes(16).toString('hex');
  const environment = {
    ACTIVITY_REPORT_INTERVAL: '1',
    AUTH_RECHECK_INTERVAL: '2',
    TERMINAL_COMMAND: 'bash --norc --noprofile -i',
    ...options.spawnerEnvironment,
  };
  const config = `
import socket
def free_port(spawner):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])

c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = ${port}
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = ${hubPort}
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${proxyApiPort}'
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
c.Spawner.environment = dict(${JSON.stringify(environment)}, TERMINAL_PORT=free_port,
    ALLOW_HUB_ADMINS=lambda spawner: 'true' if spawner.user.name == 'dave' else 'false')
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60
c.JupyterHub.last_activity_interval = 3600
c.JupyterHub.services = [{'name': 'tests', 'api_token': '${adminToken}', 'admin': True}]
`;
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
  const url = `http://127.0.0.1:${port}`;

  const api = async <T>(method: string, apiPath: string) => {
    const res = await fetch(`${url}/hub/api${apiPath}`, { method, headers: { Authorization: `token ${adminToken}` } });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };

  const hub: Hub = {
    url,
    port,
    adminToken,
    output: () => output,
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

/** Starts a user's server through the hub API and waits until it is ready. */
export async function spawnServer(hub: Hub, user: string): Promise<void> {
  await hub.api('POST', `/users/${user}`);
  const started = await hub.api('POST', `/users/${user}/server`);
  if (started.status !== 201 && started.status !== 202) throw new Error(`spawn ${user}: ${started.status}`);
  await eventually(
    async () => {
      const info = await hub.api<{ servers: Record<string, { ready: boolean }> }>('GET', `/users/${user}`);
      return info.body.servers['']?.ready === true;
    },
    60_000,
    `${user}'s server to be ready\n${hub.output().slice(-2000)}`,
  );
}

export interface BrowseResult {
  status: number;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Every URL visited, in order. */
  visited: string[];
}

/** A browser without a browser: keeps cookies (by name) and follows redirects. */
export class CookieClient {
  readonly cookies = new Map<string, string>();

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(headers: http.IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair, ...attributes] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, at).trim();
      const value = (pair ?? '').slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '' || value === '""') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Every URL this client has visited. */
  readonly history: string[] = [];

  async get(
    url: string,
    options: {
      method?: string;
      form?: Record<string, string> | [string, string][];
      follow?: boolean;
      referer?: string;
    } = {},
  ): Promise<BrowseResult> {
    const visited: string[] = [];
    let current = url;
    let method = options.method ?? 'GET';
    let body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    for (let hop = 0; hop < 15; hop++) {
      visited.push(current);
      this.history.push(current);
      const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
        (resolve, reject) => {
          const req = http.request(
            current,
            {
              method,
              headers: {
                Cookie: this.cookieHeader(),
                ...(options.referer && hop === 0 ? { Referer: options.referer } : {}),
                ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
              },
            },
            (response) => {
              let text = '';
              response.setEncoding('utf8');
              response.on('data', (d) => {
                text += d;
              });
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );
      this.keep(res.headers);
      const location = res.headers.location;
      if (options.follow === false || res.status < 300 || res.status >= 400 || !location) {
        return { ...res, url: current, visited };
      }
      current = new URL(location, current).href;
      method = 'GET';
      body = undefined;
    }
    throw new Error(`too many redirects: ${visited.join(' → ')}`);
  }

  /**
   * Opens a URL; when the hub asks to confirm an OAuth authorization (it does for
   * anyone but the server's owner), confirms it as a person would.
   */
  async open(url: string): Promise<BrowseResult> {
    const result = await this.get(url);
    if (result.status !== 200 || !result.url.includes('/hub/api/oauth2/authorize')) return result;
    const scopes = [...result.body.matchAll(/name="scopes" value="([^"]*)"/g)].map((m): [string, string] => [
      'scopes',
      m[1] as string,
    ]);
    // The hub takes the form only from its own page.
    const confirmed = await this.get(result.url, { method: 'POST', form: scopes, referer: result.url });
    return { ...confirmed, visited: [...result.visited, ...confirmed.visited] };
  }

  /** Logs in at the hub (DummyAuthenticator takes any password). */
  async logInToHub(hub: Hub, user: string): Promise<void> {
    const res = await this.get(`${hub.url}/hub/login`, { method: 'POST', form: { username: user, password: 'any' } });
    if (res.status >= 400) throw new Error(`hub login as ${user}: ${res.status}`);
  }
}
