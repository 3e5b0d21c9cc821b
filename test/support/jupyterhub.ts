// A real JupyterHub 3 (Debian's jupyterhub and configurable-http-proxy) on
// 127.0.0.1 with free ports: DummyAuthenticator, SimpleLocalProcessSpawner
// running our start command, and a service token with admin rights for tests.
// Plus a small cookie-keeping HTTP client that follows redirects like a browser.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
# Nothing per user but what the hub gives every server: several stacks share this host.
c.Spawner.environment = dict(${JSON.stringify(environment)},
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
