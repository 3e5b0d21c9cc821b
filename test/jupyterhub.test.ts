// Against a real JupyterHub 3: login through the hub, owner-only access, the
// admin switch, activity for the idle culler, and stopping without orphans.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeAttach, encodeInput } from '../common/src/protocol.js';
import { CONTENT_ATTACK_RAN, contentAttack, firstWordOnScript, SANDBOX_REFUSAL } from './harness/attacks.js';
import { launchBrowser, screenText, waitForScreen } from './harness/browser.js';
import { CookieClient } from './harness/cookie-client.js';
import { type Hub, hubSkip, spawnServer, startHub } from './harness/jupyterhub.js';
import { eventually, upgradeStatus } from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

/** Processes whose environment says they belong to this user's server. */
function processesOf(user: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`JUPYTERHUB_CLIENT_ID=jupyterhub-user-${user}\0`)) {
        pids.push(Number(entry));
      }
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** A process's environment, by name. */
function environOf(pid: number): Map<string, string> {
  const environ = new Map<string, string>();
  try {
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const at = entry.indexOf('=');
      if (at > 0) environ.set(entry.slice(0, at), entry.slice(at + 1));
    }
  } catch {
    // gone
  }
  return environ;
}

/** Logs in at the hub's login page in Chromium (DummyAuthenticator takes any password). */
async function logInInBrowser(page: Page, hub: Hub, user: string): Promise<void> {
  await page.goto(`${hub.url}/hub/login`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', 'any');
  await page.click('input[type=submit], button[type=submit]');
  await page.waitForLoadState();
}

/** Opens a page of a user's server; where the hub asks to authorize someone else's server, authorizes it. */
async function openServer(page: Page, url: string): Promise<void> {
  await page.goto(url);
  if (page.url().includes('/hub/api/oauth2/authorize')) {
    await Promise.all([
      page.waitForURL((u) => !u.pathname.includes('/hub/api/oauth2/')),
      page.click('input[value=Authorize]'),
    ]);
  }
}

/**
 * A page of `attacker`'s server (which its user controls: they can replace the server),
 * served through the hub's proxy on their origin, whose script opens `victim`'s terminal
 * socket with the browser's cookies and types a command; resolves to whether the socket opened.
 */
async function attackFromServerOf(page: Page, hub: Hub, attacker: string, victim: string): Promise<boolean> {
  const attach = Buffer.from(encodeAttach({ position: null, instance: '', cols: 80, rows: 24 })).toString('hex');
  const input = Buffer.from(encodeInput(Buffer.from('echo driven-by-$((6*7))\r'))).toString('hex');
  const socketUrl = `${hub.userOrigin(victim).replace(/^http/, 'ws')}/user/${victim}/terminal/socket/1`;
  const html = `<script>
    const bytes = (hex) => new Uint8Array(hex.match(/../g).map((b) => parseInt(b, 16)));
    const socket = new WebSocket(${JSON.stringify(socketUrl)});
    socket.onopen = () => { socket.send(bytes('${attach}')); socket.send(bytes('${input}')); document.title = 'opened'; };
    socket.onclose = () => { if (document.title !== 'opened') document.title = 'refused'; };
  </script>`;
  // A real server behind the hub's proxy, not a page made up in the browser: Chromium
  // treats those as from the internet and keeps them away from this machine's ports.
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end(html));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await hub.serveAs(
      attacker,
      `/user/${attacker}/attack`,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    );
    await page.goto(`${hub.userOrigin(attacker)}/user/${attacker}/attack`);
    await page.waitForFunction(() => document.title !== '');
    return (await page.title()) === 'opened';
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

describe('JupyterHub', { skip: hubSkip }, () => {
  let hub: Hub;
  before(async () => {
    hub = await startHub();
    // dave's workshop (as a workshop image ships it): its content folder is his to write, and served.
    mkdirSync(path.join(hub.home('dave'), 'workshop', 'content'), { recursive: true });
    await Promise.all([spawnServer(hub, 'alice'), spawnServer(hub, 'dave'), spawnServer(hub, 'erin')]);
  });
  after(async () => {
    await hub?.stop();
  });

  test('alice logs in at the hub, reaches her terminal through the hub proxy, and a session echoes', async () => {
    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    const page = await alice.open(`${hub.url}/user/alice/terminal/session/1`);
    assert.equal(page.status, 200, `${page.visited.join('\n')}\n${page.body.slice(0, 500)}`);
    assert.match(page.body, /terminal\.js\?v=/);
    assert.ok(
      alice.history.some((u) => u.includes('/hub/api/oauth2/authorize?client_id=jupyterhub-user-alice')),
      'went through the hub OAuth',
    );
    assert.ok(alice.cookies.has('jupyterhub-user-alice'), 'cookie named after the client id');
    const terminal = await TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/1`, {
      headers: { Cookie: alice.cookieHeader() },
    });
    terminal.type('echo "$JUPYTERHUB_USER says $((40+2))"; echo "$PS1"\r');
    await terminal.waitFor('alice says 42');
    await terminal.waitFor('[alice:\\w] $ ');
    await terminal.close();
  });

  test('two servers on one host, the hub configured as a user would: alice and dave both type', async () => {
    const users = ['alice', 'dave'];
    const terminals = await Promise.all(
      users.map(async (user) => {
        const client = new CookieClient();
        await client.logInToHub(hub, user);
        assert.equal((await client.open(`${hub.url}/user/${user}/terminal/session/1`)).status, 200);
        return TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/${user}/terminal/socket/both`, {
          headers: { Cookie: client.cookieHeader() },
        });
      }),
    );
    for (const terminal of terminals) terminal.type('echo "$JUPYTERHUB_USER types $((6*7))"\r');
    await Promise.all(terminals.map((terminal, i) => terminal.waitFor(`${users[i]} types 42`)));
    await Promise.all(terminals.map((terminal) => terminal.close()));
  });

  test("the hub's readiness probes (the prefix, and <prefix>api) get an answer below 500 without a login", async () => {
    const routes = await hub.api<Record<string, { target: string }>>('GET', '/proxy');
    const target = routes.body['/user/alice/']?.target;
    assert.ok(target);
    for (const path of ['/user/alice/', '/user/alice/api']) {
      const res = await fetch(`${target}${path}`, { redirect: 'manual' });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
    }
  });

  test('in Chromium: log in at the hub, type in the terminal, see the output', async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    try {
      const page = await browser.newPage();
      await page.goto(`${hub.url}/hub/login`);
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', 'any');
      await page.click('input[type=submit], button[type=submit]');
      await page.waitForLoadState();
      await page.goto(`${hub.url}/user/alice/terminal/session/browser`);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo hub-$((7*6))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^hub-42$/m);
      // A restart of the auth proxy makes a new cookie key: the page logs in again through the hub by itself.
      const proxyPid = processesOf('alice').find((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('auth-proxy/src/main.js'),
      );
      assert.ok(proxyPid, "alice's auth proxy");
      process.kill(proxyPid, 'SIGKILL');
      // The page's next reconnect (up to 10 s away), its refusal, then the hub's login round trip:
      // an event, bounded only against a stall (a loaded machine takes its time over each step).
      await page.waitForEvent('load', { timeout: 120_000 });
      await waitForScreen(page, /^hub-42$/m, 20_000);
      await page.keyboard.type('echo back-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^back-42$/m);
    } finally {
      await browser.close();
    }
  });

  test('bob, logged in, gets 403 at alice’s terminal; without a login nothing reaches a shell', async () => {
    const bob = new CookieClient();
    await bob.logInToHub(hub, 'bob');
    // The hub itself refuses to authorize bob for alice's server.
    const page = await bob.open(`${hub.url}/user/alice/terminal/session/1`);
    assert.equal(page.status, 403);
    assert.doesNotMatch(page.body, /terminal\.js/);
    assert.equal(
      await upgradeStatus(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/bob`, { Cookie: bob.cookieHeader() }),
      401,
    );
    const nobody = new CookieClient();
    const anonymous = await nobody.get(`${hub.url}/user/alice/terminal/session/1`);
    assert.match(anonymous.url, /\/hub\/login/, 'sent to the hub login');
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/anon`), 401);
    const sessions = await new CookieClient().get(`${hub.url}/user/alice/terminal/api/sessions`, { follow: false });
    assert.equal(sessions.status, 302);
  });

  test('a hub admin gets in only where allowed', async () => {
    const admin = new CookieClient();
    await admin.logInToHub(hub, 'admin');
    // The hub lets its admins authorize for any server; the terminal still says no.
    const refused = await admin.open(`${hub.url}/user/alice/terminal/session/1`);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /This terminal belongs to alice\. You are logged in to the hub as admin\./);
    assert.match(refused.body, /href="\/user\/alice\/logout"/);
    assert.equal(
      await upgradeStatus(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/1`, { Cookie: admin.cookieHeader() }),
      403,
    );
    // dave's server runs with ALLOW_HUB_ADMINS=true (see startHub): the admin may watch, read-only.
    const allowed = await admin.open(`${hub.url}/user/dave/terminal/session/1`);
    assert.equal(allowed.status, 200);
    assert.match(allowed.body, /terminal\.js\?v=/);
    const dave = new CookieClient();
    await dave.logInToHub(hub, 'dave');
    await dave.open(`${hub.url}/user/dave/terminal/session/1`);
    const socket = (user: CookieClient) =>
      TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/dave/terminal/socket/watched`, {
        headers: { Cookie: user.cookieHeader() },
      });
    const owner = await socket(dave);
    const watcher = await socket(admin);
    const attached = await watcher.attached;
    assert.deepEqual([attached.access, attached.canType, attached.owner], ['viewer', false, 'dave']);
    assert.equal((await owner.attached).access, 'owner');
    watcher.socket.send(encodeInput(Buffer.from('echo admin-$((6*7))\r')));
    await watcher.waitFor(() => watcher.errors().some((e) => /input refused/.test(e)));
    owner.type('echo dave-$((6*6))\r');
    await owner.waitFor('dave-36');
    assert.doesNotMatch(owner.text(), /admin-42/);
    await watcher.close();
    await owner.close();
  });

  test('TERMINAL_VIEWERS: erin, whom the hub lets in to dave’s server, watches it read-only; not alice’s', async () => {
    const erin = new CookieClient();
    await erin.logInToHub(hub, 'erin');
    assert.equal((await erin.open(`${hub.url}/user/alice/terminal/session/1`)).status, 403, 'not named there');
    assert.equal((await erin.open(`${hub.url}/user/dave/terminal/session/1`)).status, 200);
    const dave = new CookieClient();
    await dave.logInToHub(hub, 'dave');
    await dave.open(`${hub.url}/user/dave/terminal/session/1`);
    const socket = (user: CookieClient) =>
      TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/dave/terminal/socket/erin-watches`, {
        headers: { Cookie: user.cookieHeader() },
      });
    const owner = await socket(dave);
    const watcher = await socket(erin);
    assert.deepEqual([(await watcher.attached).access, (await watcher.attached).canType], ['viewer', false]);
    await owner.waitFor(() => owner.controls.some((m) => m.type === 'viewers' && m.watching.includes('erin')));
    await watcher.close();
    await owner.close();
  });

  test('erin, watching dave, opens the SVG he wrote: it runs nothing, and her own terminal gets no input', async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    // On the hub's one origin, a script of dave's content could reach erin's terminal with her cookie.
    const marker = path.join(hub.home('erin'), 'pwned-by-dave');
    const attack = contentAttack('/user/erin/terminal/socket/1', `echo pwned-by-dave; touch ${marker}`);
    for (const [name, text] of Object.entries(attack)) {
      writeFileSync(path.join(hub.home('dave'), 'workshop', 'content', name), text);
    }
    try {
      const context = await browser.newContext();
      const own = await context.newPage();
      await logInInBrowser(own, hub, 'erin');
      await openServer(own, `${hub.url}/user/erin/terminal/session/1`);
      await waitForScreen(own, /\$ $/m);
      const watching = await context.newPage();
      await openServer(watching, `${hub.url}/user/dave/terminal/session/1`);
      await watching.waitForURL(/\/user\/dave\/terminal\/session\/1$/);
      const logged: string[] = [];
      watching.on('console', (message) => logged.push(message.text()));
      const verdict = firstWordOnScript(watching);
      const answer = await watching.goto(`${hub.url}/user/dave/dashboard/content/diagram.svg`);
      assert.equal(answer?.status(), 200);
      assert.equal(answer?.headers()['content-type'], 'image/svg+xml');
      assert.match(await verdict, SANDBOX_REFUSAL);
      assert.ok(!logged.includes(CONTENT_ATTACK_RAN), 'the script never ran');
      // Her terminal is still hers alone: what she types comes out, and nothing else came in.
      await own.keyboard.type('echo erin-$((6*7))');
      await own.keyboard.press('Enter');
      await waitForScreen(own, /^erin-42$/m);
      assert.doesNotMatch(await screenText(own), /pwned-by-dave/);
      assert.ok(!existsSync(marker));
    } finally {
      await browser.close();
    }
  });

  test('in Chromium, on the shared origin: erin is told once what watching dave trusts him with, and a page of his server drives her terminal', async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await logInInBrowser(page, hub, 'erin');
      await openServer(page, `${hub.url}/user/erin/terminal/session/1`);
      await waitForScreen(page, /\$ $/m);

      const watching = await context.newPage();
      await openServer(watching, `${hub.url}/user/dave/terminal/session/1`);
      const notice = watching.locator('.terminal-watch [data-notice="shared-origin"]');
      await notice.waitFor();
      assert.match(
        String(await watching.locator('.terminal-watch').textContent()),
        /Viewing dave's terminal: read-only/,
      );
      assert.match(
        String(await notice.textContent()),
        /dave's own server, which shares its web origin with your terminal/,
      );
      await notice.getByRole('button', { name: 'Understood' }).click();
      await notice.waitFor({ state: 'detached' });
      await watching.reload();
      await watching.waitForSelector('.terminal-watch[data-for="viewer"]:not([hidden])');
      assert.match(String(await watching.locator('.terminal-watch').textContent()), /Viewing dave's terminal/);
      assert.equal(await notice.count(), 0, 'read once: not shown again');

      // What the notice says: any page dave's server serves is on erin's origin, and her cookies go with it.
      assert.equal(await attackFromServerOf(watching, hub, 'dave', 'erin'), true);
      await waitForScreen(page, /^driven-by-42$/m);
    } finally {
      await browser.close();
    }
  });

  test('a forged state or a replayed callback gets 400; next to another site is ignored', async () => {
    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    const forged = await alice.get(`${hub.url}/user/alice/oauth_callback?code=abc&state=forged`);
    assert.equal(forged.status, 400);
    const handshake = await alice.get(`${hub.url}/user/alice/oauth_handshake?next=//evil.example/x`);
    assert.equal(handshake.status, 200);
    assert.match(
      handshake.url,
      /^http:\/\/127\.0\.0\.1:\d+\/user\/alice\/terminal\/session\/1$/,
      'landed on the terminal',
    );
    const callback = handshake.visited.find((u) => u.includes('/oauth_callback?'));
    assert.ok(callback);
    const replay = await alice.get(callback);
    assert.equal(replay.status, 400);
  });

  test("the hub's secrets reach no shell, whatever the hub calls them (its real environment)", async () => {
    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    const terminal = await TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/env`, {
      headers: { Cookie: alice.cookieHeader() },
    });
    terminal.type('echo "shell $((6*7))"\r');
    await terminal.waitFor('shell 42');
    const environments = processesOf('alice').map((pid) => ({ pid, environ: environOf(pid) }));
    const token = environments.map(({ environ }) => environ.get('JUPYTERHUB_API_TOKEN')).find(Boolean);
    assert.ok(token, 'the hub gave the server a token');
    // The hub hands the same token out under a second name too.
    assert.ok(environments.some(({ environ }) => environ.get('JPY_API_TOKEN') === token));
    const shells = environments.filter(({ environ }) => environ.get('COLORTERM') === 'truecolor');
    assert.ok(shells.length > 0, 'found the shells');
    for (const { pid, environ } of shells) {
      const leaked: string[] = [...environ].filter(([, value]) => value.includes(token)).map(([name]) => name);
      assert.deepEqual(leaked, [], `shell ${pid} holds the hub token`);
    }
    await terminal.close();
  });

  test("a cookie sealed with a key made from the hub's token does not log anyone in", async () => {
    const token = processesOf('alice')
      .map((pid) => environOf(pid).get('JUPYTERHUB_API_TOKEN'))
      .find(Boolean) as string;
    // How the key was once derived when SESSION_SECRET was unset.
    const secret = createHash('sha256').update(`session:${token}`).digest('base64url');
    const key = Buffer.from(hkdfSync('sha256', secret, 'workshop-terminal', 'login-session', 32));
    const plain = JSON.stringify({ value: { user: 'alice', token }, expires: Date.now() + 3600_000 });
    const forged = new Map<string, string>();
    for (const aad of [null, 'workshop-terminal cookie jupyterhub-user-alice']) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      if (aad) cipher.setAAD(Buffer.from(aad));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      forged.set(String(aad), Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url'));
    }
    for (const value of forged.values()) {
      const res = await fetch(`${hub.url}/user/alice/terminal/session/1`, {
        headers: { Cookie: `jupyterhub-user-alice=${value}` },
        redirect: 'manual',
      });
      assert.equal(res.status, 302);
      assert.match(String(res.headers.get('location')), /\/user\/alice\/oauth_handshake/);
      assert.equal(
        await upgradeStatus(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/forged`, {
          Cookie: `jupyterhub-user-alice=${value}`,
        }),
        401,
      );
    }
  });

  test('next with .. segments cannot lead out of the prefix after the login', async () => {
    for (const next of [
      '/user/alice/../bob/',
      '/user/alice/../../hub/logout',
      '/user/alice/%2e%2e/%2e%2e/hub/logout',
    ]) {
      const alice = new CookieClient();
      await alice.logInToHub(hub, 'alice');
      const landed = await alice.get(`${hub.url}/user/alice/oauth_handshake?next=${encodeURIComponent(next)}`);
      const callback = landed.visited.findIndex((u) => u.includes('/user/alice/oauth_callback?'));
      assert.ok(callback >= 0, landed.visited.join('\n'));
      for (const url of landed.visited.slice(callback + 1)) {
        assert.match(new URL(url).pathname, /^\/user\/alice\//, `${next} led to ${url}`);
      }
      assert.equal(landed.status, 200, `${next}: ${landed.visited.join(' → ')}`);
    }
  });

  test('last_activity moves when alice types, and not while she is idle', async () => {
    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    await alice.get(`${hub.url}/user/alice/terminal/session/1`);
    const hubSays = async () => {
      const info = await hub.api<{ servers: Record<string, { last_activity: string }> }>('GET', '/users/alice');
      return Date.parse(info.body.servers['']?.last_activity ?? '');
    };
    // The terminal's own idea of its last input or output, the one thing the reporter passes on.
    const terminalSays = async () => {
      const status = await alice.get(`${hub.url}/user/alice/terminal/api/status`);
      return Date.parse((JSON.parse(status.body) as { lastActivity: string }).lastActivity);
    };
    const terminal = await TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/active`, {
      headers: { Cookie: alice.cookieHeader() },
    });
    await terminal.waitFor('$ ');
    // The attach's own output gets reported: the hub comes to hold exactly the terminal's timestamp.
    const attached = await eventually(
      async () => {
        const own = await terminalSays();
        return (await hubSays()) === own ? own : 0;
      },
      10_000,
      "the hub to hear of the attach's output",
    );
    terminal.type('echo typing\r');
    await terminal.waitFor('typing\r\n');
    const typed = await eventually(
      async () => {
        const own = await terminalSays();
        return own > attached && (await hubSays()) === own ? own : 0;
      },
      10_000,
      'last_activity to move to the typing',
    );
    // Idle now: reports go on every second, but they only ever carry the terminal's
    // own last activity, so the hub's value stays that moment, never "now".
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await terminalSays(), typed, 'the terminal was idle');
    assert.equal(await hubSays(), typed, 'nothing newer reported while idle');
    await terminal.close();
  });

  test('after logging out of the hub, the terminal asks for a login again, open WebSockets included', async () => {
    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    assert.equal((await alice.open(`${hub.url}/user/alice/terminal/session/1`)).status, 200);
    const terminal = await TerminalClient.connect(`ws://127.0.0.1:${hub.port}/user/alice/terminal/socket/logout`, {
      headers: { Cookie: alice.cookieHeader() },
    });
    const terminalCookie = `jupyterhub-user-alice=${alice.cookies.get('jupyterhub-user-alice')}`;
    await alice.get(`${hub.url}/hub/logout`);
    // The terminal's own cookie is still in the browser, but the hub has revoked its token.
    await terminal.closed;
    const after = await fetch(`${hub.url}/user/alice/terminal/session/1`, {
      headers: { Cookie: terminalCookie },
      redirect: 'manual',
    });
    assert.equal(after.status, 302);
    assert.match(String(after.headers.get('location')), /\/user\/alice\/oauth_handshake/);
  });

  test('stopping her server through the hub API ends all its processes', async () => {
    assert.ok(processesOf('alice').length >= 4, 'bash, pm2, proxy, terminal server and shells');
    const res = await hub.api('DELETE', '/users/alice/server');
    assert.ok(res.status === 202 || res.status === 204, String(res.status));
    await eventually(async () => {
      const info = await hub.api<{ servers: Record<string, unknown> }>('GET', '/users/alice');
      return !info.body.servers[''];
    }, 30_000);
    await eventually(() => processesOf('alice').length === 0, 5000, 'no process of alice left');
  });
});

describe('JupyterHub with subdomain_host: each server on a host of its own', { skip: hubSkip }, () => {
  let hub: Hub;
  before(async () => {
    hub = await startHub({ subdomains: true });
    await Promise.all([spawnServer(hub, 'dave'), spawnServer(hub, 'erin')]);
  });
  after(async () => {
    await hub?.stop();
  });

  test("erin logs in on her own host through the hub's; a socket from dave's host is refused", async () => {
    const erin = new CookieClient();
    await erin.logInToHub(hub, 'erin');
    const own = hub.userOrigin('erin');
    const page = await erin.open(`${own}/user/erin/terminal/session/1`);
    assert.equal(page.status, 200, `${page.visited.join('\n')}\n${page.body.slice(0, 500)}`);
    assert.equal(page.url, `${own}/user/erin/terminal/session/1`);
    // (The hub's login itself led there, through the OAuth flow.)
    assert.ok(
      erin.history.some((u) => u.startsWith(`${hub.url}/hub/api/oauth2/authorize?client_id=jupyterhub-user-erin&`)),
      `authorized at the hub's own host: ${erin.history.join(' → ')}`,
    );
    assert.ok(
      erin.history.some((u) => u.startsWith(`${own}/user/erin/oauth_callback?`)),
      'back on her own host',
    );
    const socketUrl = `ws://127.0.0.1:${hub.port}/user/erin/terminal/socket/1`;
    const from = (origin: string) => ({
      Host: new URL(own).host,
      Origin: origin,
      // A server on a sibling host can set a cookie of this name for the whole domain, which may come first.
      Cookie: `jupyterhub-user-erin=set-by-another-host; ${erin.cookieHeader()}`,
    });
    const terminal = await TerminalClient.connect(socketUrl, { headers: from(own) });
    const attached = await terminal.attached;
    assert.deepEqual([attached.access, attached.sharedOrigin], ['owner', false]);
    terminal.type('echo own-$((6*7))\r');
    await terminal.waitFor('own-42');
    await terminal.close();
    assert.equal(await upgradeStatus(socketUrl, from(hub.userOrigin('dave'))), 403);
  });

  test("in Chromium: a page of dave's host cannot drive erin's terminal nor get her cookies; watching him shows no notice", async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await logInInBrowser(page, hub, 'erin');
      await openServer(page, `${hub.userOrigin('erin')}/user/erin/terminal/session/1`);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo erin-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^erin-42$/m);

      const watching = await context.newPage();
      await openServer(watching, `${hub.userOrigin('dave')}/user/dave/terminal/session/1`);
      await watching.waitForSelector('.terminal-watch[data-for="viewer"]:not([hidden])');
      assert.match(
        String(await watching.locator('.terminal-watch').textContent()),
        /Viewing dave's terminal: read-only/,
      );
      assert.equal(await watching.locator('[data-notice="shared-origin"]').count(), 0, 'an origin of its own');
      // The terminals' cookies are host-only (no Domain attribute): the browser sends none of erin's to dave's
      // host. (JupyterHub 3 puts its own on the whole domain; 4.1 and later keep them on the hub's host
      // with cookie_host_prefix_enabled, which the room's jupyterhub_config.py sets.)
      const cookies = await context.cookies();
      assert.deepEqual(
        cookies
          .filter((c) => c.name.startsWith('jupyterhub-user-') && c.domain.startsWith('.'))
          .map((c) => `${c.name} for ${c.domain}`),
        [],
      );
      assert.equal(cookies.find((c) => c.name === 'jupyterhub-user-erin')?.domain, 'erin.hub.localhost');
      assert.equal(cookies.find((c) => c.name === 'jupyterhub-user-dave')?.domain, 'dave.hub.localhost');

      // Any page dave's server serves (he can replace it): it tries erin's terminal with her cookies.
      assert.equal(await attackFromServerOf(watching, hub, 'dave', 'erin'), false, 'refused by Origin');
      // Her own shell never saw it: a command typed after it shows, the attack's output does not.
      await page.keyboard.type('echo after-$((6*7))');
      await page.keyboard.press('Enter');
      const screen = await waitForScreen(page, /^after-42$/m);
      assert.doesNotMatch(screen, /driven-by-42/);
    } finally {
      await browser.close();
    }
  });
});
