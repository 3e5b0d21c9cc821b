// OpenShift login against the simulated OpenShift (test/harness/openshift.ts):
// project admins only, decided by the cluster, re-checked while logged in.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../common/src/paths.js';
import { launchBrowser, waitForScreen } from './harness/browser.js';
import { CookieClient } from './harness/cookie-client.js';
import { type SimulatedOpenShift, startOpenShift } from './harness/openshift.js';
import {
  eventually,
  freePort,
  type RunningAuthProxy,
  type RunningProcess,
  type RunningTerminalServer,
  request,
  runProcess,
  startAuthProxy,
  startTerminalServer,
  upgradeStatus,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

describe('OpenShift login', () => {
  let openshift: SimulatedOpenShift;
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let proxyEnv: Record<string, string>;
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'wt-openshift-proxy-'));
  const revokedFile = path.join(stateDir, 'state', 'revoked-logins');

  before(async () => {
    openshift = await startOpenShift({ serviceAccount: 'terminal-user' });
    openshift.rbac.admins.add('alice');
    openshift.rbac.groups.set('carol', ['workshop-hosts']);
    openshift.rbac.adminGroups.add('workshop-hosts');
    openshift.rbac.clusterAdmins.add('root-user');
    terminal = await startTerminalServer();
    proxyEnv = {
      OAUTH_SERVICE_ACCOUNT: 'terminal-user',
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(openshift.port),
      SERVICE_ACCOUNT_DIR: openshift.serviceAccountDir,
      AUTH_RECHECK_INTERVAL: '1',
      SESSION_SECRET: 'a-secret-for-tests,an-older-one',
      REVOKED_LOGINS_FILE: revokedFile,
    };
    proxy = await startAuthProxy(proxyEnv, terminal.port);
    openshift.setRoute(`http://127.0.0.1:${proxy.port}`);
  });
  after(async () => {
    await proxy?.close();
    await terminal?.close();
    await openshift?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** A browser-less person logged in at the cluster's login page (not yet at the terminal). */
  async function loggedInToCluster(user: string): Promise<CookieClient> {
    const person = new CookieClient({ ca: openshift.caPem });
    await person.get(`${openshift.url}/login`, { method: 'POST', form: { username: user, return_to: '/' } });
    return person;
  }

  /** A browser-less person: logs in at the cluster as `user`, then opens `path` of the terminal. */
  async function visit(user: string, path = '/terminal/session/1') {
    const person = await loggedInToCluster(user);
    const page = await person.get(`${proxy.base}${path}`);
    return { person, page };
  }

  test('alice (admin) is sent through the OAuth server and gets the terminal; a WebSocket echoes', async () => {
    const { person, page } = await visit('alice');
    assert.equal(page.status, 200, page.visited.join('\n'));
    assert.match(page.body, /terminal\.js\?v=/);
    const authorize = person.history.find((u) => u.includes('/oauth/authorize'));
    assert.ok(authorize, 'went to the OAuth server');
    const query = new URL(authorize).searchParams;
    assert.equal(query.get('client_id'), 'system:serviceaccount:workshop:terminal-user');
    assert.equal(query.get('scope'), 'user:info user:check-access');
    assert.equal(query.get('code_challenge_method'), 'S256');
    assert.equal(query.get('redirect_uri'), `http://127.0.0.1:${proxy.port}/oauth_callback`);
    const socket = await TerminalClient.connect(proxy.socketUrl('os'), { headers: { Cookie: person.cookieHeader() } });
    socket.type('echo openshift-$((6*7))\r');
    await socket.waitFor('openshift-42');
    await socket.close();
  });

  test('the login cookie is HttpOnly, SameSite=Lax and scoped to the prefix', async () => {
    const person = await loggedInToCluster('alice');
    const handshake = await person.get(`${proxy.base}/oauth_handshake?next=/terminal/`, { follow: false });
    const stateCookie = String(handshake.headers['set-cookie']);
    assert.match(stateCookie, /HttpOnly/);
    assert.match(stateCookie, /SameSite=Lax/);
    assert.match(stateCookie, /Path=\//);
    assert.doesNotMatch(stateCookie, /Secure/, 'not over plain http');
  });

  test('bob (edit only) gets a 403 naming him and the project, with a way to log out', async () => {
    const { person, page } = await visit('bob');
    assert.equal(page.status, 403);
    assert.match(page.body, /logged in as bob, who is not an admin of project workshop/);
    assert.match(page.body, /href="\/logout"/);
    assert.equal(await upgradeStatus(proxy.socketUrl('bob'), { Cookie: person.cookieHeader() }), 403);
    const out = await person.get(`${proxy.base}/logout`);
    assert.equal(out.status, 200);
    assert.equal(await upgradeStatus(proxy.socketUrl('bob'), { Cookie: person.cookieHeader() }), 401);
  });

  test('carol (admin through a group) and a cluster-admin get in', async () => {
    assert.equal((await visit('carol')).page.status, 200);
    assert.equal((await visit('root-user')).page.status, 200);
  });

  test('a forged or replayed state gets 400; next to another site is ignored', async () => {
    const person = await loggedInToCluster('alice');
    assert.equal((await person.get(`${proxy.base}/oauth_callback?code=x&state=forged`)).status, 400);
    const login = await person.get(`${proxy.base}/oauth_handshake?next=//evil.example/`);
    assert.equal(login.status, 200);
    assert.equal(new URL(login.url).origin, `http://127.0.0.1:${proxy.port}`, 'stayed on the terminal');
    const callback = login.visited.find((u) => u.includes('/oauth_callback?'));
    assert.ok(callback);
    assert.equal((await person.get(callback)).status, 400, 'replayed');
  });

  test('a code the OAuth server refuses gets 400 (not the 503 of an unreachable cluster)', async () => {
    const person = await loggedInToCluster('alice');
    const handshake = await person.get(`${proxy.base}/oauth_handshake?next=/terminal/`, { follow: false });
    const state = new URL(String(handshake.headers.location)).searchParams.get('state') ?? '';
    const res = await person.get(`${proxy.base}/oauth_callback?code=bogus&state=${encodeURIComponent(state)}`);
    assert.equal(res.status, 400);
    assert.match(res.body, /OpenShift did not accept this login/);
  });

  /** Someone without an account starting a login: the state cookie, and the state the OAuth server would return. */
  async function startLogin(): Promise<{ status: number; cookie: string; state: string }> {
    const res = await request(`${proxy.base}/oauth_handshake?next=/terminal/`);
    const cookie = (res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
    const state = res.headers.location ? (new URL(res.headers.location).searchParams.get('state') ?? '') : '';
    return { status: res.status, cookie, state };
  }

  /** Comes back from the OAuth server with a code it never issued. */
  function finishLogin(login: { cookie: string; state: string }, code: string) {
    return request(`${proxy.base}/oauth_callback?code=${code}&state=${encodeURIComponent(login.state)}`, {
      headers: { Cookie: login.cookie },
    });
  }

  test('a flood of logins with made-up codes reuses connections to the cluster; a logged-in user keeps typing', async () => {
    const { person } = await visit('alice');
    const socket = await TerminalClient.connect(proxy.socketUrl('flood'), {
      headers: { Cookie: person.cookieHeader() },
    });
    try {
      const PAIRS = 400;
      const connectionsBefore = openshift.tlsConnections;
      const statuses: number[] = [];
      let sent = 0;
      let typed = false;
      // Eight at a time (below the limit on logins in flight), until PAIRS are
      // sent and alice has had her answers: so she typed during the flood.
      const worker = async () => {
        while (sent < PAIRS || !typed) {
          sent++;
          const login = await startLogin();
          statuses.push(login.status, (await finishLogin(login, `made-up-${sent}`)).status);
        }
      };
      const flood = Promise.all(Array.from({ length: 8 }, worker));
      for (const n of [1, 2, 3]) {
        socket.type(`echo during-flood-$((${n}*11))\r`);
        await socket.waitFor(new RegExp(`^during-flood-${n * 11}\\r?$`, 'm'));
      }
      typed = true;
      await flood;
      assert.deepEqual(new Set(statuses), new Set([302, 400]), 'handshakes redirect, made-up codes are refused');
      const opened = openshift.tlsConnections - connectionsBefore;
      assert.ok(opened <= 16, `${opened} TLS connections to the cluster for ${sent} logins`);
    } finally {
      await socket.close();
    }
  });

  test('logins past the limit in flight get 503 at once, without reaching the cluster', async () => {
    const LIMIT = 16;
    const logins = await Promise.all(Array.from({ length: LIMIT + 6 }, startLogin));
    const hold = openshift.holdTokenRequests();
    try {
      const inFlight = logins.slice(0, LIMIT).map((login, i) => finishLogin(login, `held-${i}`));
      await hold.arrived(LIMIT);
      const excess = Promise.all(logins.slice(LIMIT).map((login, i) => finishLogin(login, `excess-${i}`)));
      const first = await Promise.race([excess, hold.arrived(LIMIT + 1).then(() => 'reached the cluster' as const)]);
      assert.notEqual(first, 'reached the cluster', 'a login past the limit was sent on to the token endpoint');
      for (const res of first as Awaited<typeof excess>) {
        assert.equal(res.status, 503);
        assert.match(res.body, /Too many logins at once/);
        assert.equal(res.headers['retry-after'], '10');
      }
      assert.equal((await startLogin()).status, 503, 'a new login is refused too while the limit is reached');
      assert.equal(hold.count, LIMIT, 'the logins in flight are still held');
      hold.release();
      for (const res of await Promise.all(inFlight)) assert.equal(res.status, 400);
    } finally {
      hold.release();
    }
    assert.equal((await visit('alice')).page.status, 200, 'logins work again');
  });

  test('the service account token changes between requests: logins still work', async () => {
    openshift.rotateServiceAccountToken();
    assert.equal((await visit('alice')).page.status, 200);
    openshift.rotateServiceAccountToken();
    assert.equal((await visit('alice')).page.status, 200);
  });

  test('a demoted user loses access within the re-check interval, open WebSocket included', async () => {
    openshift.rbac.admins.add('dora');
    const { person, page } = await visit('dora');
    assert.equal(page.status, 200);
    const socket = await TerminalClient.connect(proxy.socketUrl('dora'), {
      headers: { Cookie: person.cookieHeader() },
    });
    openshift.rbac.admins.delete('dora');
    await Promise.race([
      socket.closed,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the WebSocket stayed open')), 5000)),
    ]);
    assert.equal((await person.get(`${proxy.base}/terminal/session/1`)).status, 403);
  });

  test('the API server down: 503 and recovery; a logged-in user is not thrown out by a blip', async () => {
    const { person } = await visit('alice');
    // Someone half-way through logging in when the cluster goes away.
    const late = await loggedInToCluster('alice');
    let step = await late.get(`${proxy.base}/oauth_handshake?next=/terminal/`, { follow: false });
    while (step.headers.location && !step.headers.location.includes('/oauth_callback')) {
      step = await late.get(new URL(step.headers.location, step.url).href, { follow: false });
    }
    const callback = new URL(String(step.headers.location), step.url).href;
    openshift.down = true;
    try {
      const res = await late.get(callback);
      assert.equal(res.status, 503);
      assert.match(res.body, /OpenShift is not answering/);
      await new Promise((r) => setTimeout(r, 1200)); // past the re-check interval
      assert.equal((await person.get(`${proxy.base}/terminal/session/1`)).status, 200, 'the last answer stands');
      // A proxy with no answer yet for this login cannot decide: 503, not a refusal.
      const restarted = await startAuthProxy(proxyEnv, terminal.port);
      try {
        const res2 = await person.get(`${restarted.base}/terminal/session/1`);
        assert.equal(res2.status, 503);
      } finally {
        await restarted.close();
      }
    } finally {
      openshift.down = false;
    }
    assert.equal((await visit('alice')).page.status, 200, 'recovered');
    assert.equal((await person.get(`${proxy.base}/terminal/session/1`)).status, 200);
  });

  test('the login survives a restart of the proxy when SESSION_SECRET is set', async () => {
    const { person } = await visit('alice');
    await proxy.close();
    proxy = await startAuthProxy(proxyEnv, terminal.port);
    openshift.setRoute(`http://127.0.0.1:${proxy.port}`);
    // Same cookie, new proxy process state (and a new port: cookies do not care about ports).
    const again = await person.get(`${proxy.base}/terminal/session/1`, { follow: false });
    assert.equal(again.status, 200);
  });

  test('logout ends the login for every copy of the cookie, open terminals too, and a restart keeps it ended', {
    timeout: 60_000,
  }, async () => {
    const { person } = await visit('alice');
    const copy = { Cookie: person.cookieHeader() };
    const terminalPage = () => request(`${proxy.base}/terminal/session/1`, { headers: copy });
    assert.equal((await terminalPage()).status, 200);
    const socket = await TerminalClient.connect(proxy.socketUrl('copied'), { headers: copy });
    assert.equal((await person.get(`${proxy.base}/logout`)).status, 200);

    const page = await terminalPage();
    assert.equal(page.status, 302, 'the copied cookie no longer opens the terminal');
    assert.match(page.headers.location ?? '', /^\/oauth_handshake\?next=/);
    assert.equal(await upgradeStatus(proxy.socketUrl('copied'), copy), 401);
    await socket.closed; // at the next re-check of open sockets
    assert.equal(statSync(revokedFile).mode & 0o777, 0o600);

    await proxy.close();
    proxy = await startAuthProxy(proxyEnv, terminal.port);
    openshift.setRoute(`http://127.0.0.1:${proxy.port}`);
    assert.equal((await terminalPage()).status, 302, 'still ended after a restart');
    assert.equal(await upgradeStatus(proxy.socketUrl('copied'), copy), 401);
    assert.equal((await visit('alice')).page.status, 200, 'a new login works');
  });

  test('in Chromium: the whole login, then a command', async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(`${proxy.base}/`);
      await page.fill('input[name=username]', 'alice');
      await page.click('button[type=submit]');
      await page.waitForURL(/\/terminal\/session\/1$/);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo browser-os-$((2+3))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^browser-os-5$/m);
    } finally {
      await context.close();
      await browser.close();
    }
  });
});

describe('OpenShift login: the client secret', () => {
  let openshift: SimulatedOpenShift;
  let terminal: RunningTerminalServer;
  let proxy: RunningProcess;
  let base: string;
  const diagnostics = mkdtempSync(path.join(os.tmpdir(), 'wt-openshift-heap-'));

  before(async () => {
    openshift = await startOpenShift({ serviceAccount: 'terminal-user' });
    openshift.rbac.admins.add('alice');
    terminal = await startTerminalServer();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Its own process, so that its heap is the proxy's alone, written on a signal.
    proxy = runProcess(
      process.execPath,
      [
        '--heapsnapshot-signal=SIGUSR2',
        `--diagnostic-dir=${diagnostics}`,
        path.join(projectRoot(), 'dist/auth-proxy/src/main.js'),
      ],
      {
        OAUTH_SERVICE_ACCOUNT: 'terminal-user',
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(openshift.port),
        SERVICE_ACCOUNT_DIR: openshift.serviceAccountDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        TERMINAL_PORT: String(terminal.port),
        LOG_LEVEL: 'error',
      },
    );
    await eventually(
      () => request(`${base}/healthz`).then((r) => r.status === 200),
      20_000,
      `the auth proxy to start: ${proxy.output()}`,
    );
    openshift.setRoute(base);
  });
  after(async () => {
    proxy?.child.kill('SIGKILL');
    await proxy?.exited;
    await terminal?.close();
    await openshift?.close();
    rmSync(diagnostics, { recursive: true, force: true });
  });

  test('the service account token a login used is not kept once it is done: nothing shared holds it', async () => {
    // Read as bytes: this process holds no string of it.
    const used = readFileSync(path.join(openshift.serviceAccountDir, 'token'));
    const person = new CookieClient({ ca: openshift.caPem });
    await person.get(`${openshift.url}/login`, { method: 'POST', form: { username: 'alice', return_to: '/' } });
    assert.equal((await person.get(`${base}/terminal/session/1`)).status, 200);
    openshift.rotateServiceAccountToken();
    // A heap snapshot holds every string still reachable (garbage is collected first).
    proxy.child.kill('SIGUSR2');
    const snapshot = (await eventually(
      () => {
        const name = readdirSync(diagnostics).find((file) => file.endsWith('.heapsnapshot'));
        const text = name ? readFileSync(path.join(diagnostics, name)) : null;
        // Written out whole once its JSON is closed.
        return text?.subarray(-2).toString() === ']}' ? text : null;
      },
      30_000,
      'the heap snapshot',
    )) as Buffer;
    assert.ok(snapshot.includes('terminal-user'), 'the snapshot holds the proxy’s strings');
    assert.ok(!snapshot.includes(used), 'a copy of the client secret is still reachable after the login');
  });
});
