// The attendee's web apps behind the auth proxy (<prefix>/port/<n>/, and <n>.<APP_DOMAIN>):
// a Python http.server and a WebSocket echo app, in basic-auth mode and behind a real
// JupyterHub. Nothing reaches an app before admission, none of our credentials reach
// it, the stack's own ports are not apps, and an app's script cannot drive the terminal
// (the attack: its page opens the terminal's socket and types, and posts to a check).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { WebSocket, WebSocketServer } from 'ws';
import { ATTACH_QUERY, attachQueryValue, ClientType, encodeAttach } from '../common/src/protocol.js';
import { startChromium } from './harness/browser.js';
import { CookieClient } from './harness/cookie-client.js';
import { type Hub, hubSkip, spawnServer, startHub } from './harness/jupyterhub.js';
import { eventually, freePort, request, upgradeStatus } from './harness/servers.js';
import { type Stack, startStack, stopStack, waitReady } from './harness/stack.js';
import { findTool, requireTool } from './harness/tools.js';

const USER = 'grumpy';
const PASSWORD = 'secret';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** An app that records every connection and request it gets, and echoes on WebSockets. */
interface RecordingApp {
  port: number;
  connections: number;
  requests: { url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function recordingApp(): Promise<RecordingApp> {
  const app: RecordingApp = { port: 0, connections: 0, requests: [], close: async () => {} };
  const server = http.createServer((req, res) => {
    app.requests.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      'Set-Cookie': 'app-session=1; Path=/; Domain=localhost',
      'Content-Security-Policy': "img-src 'none'",
    });
    res.end(`app saw ${req.url}`);
  });
  server.on('connection', () => app.connections++);
  const echo = new WebSocketServer({ server });
  echo.on('connection', (socket, req) => {
    app.requests.push({ url: req.url ?? '', headers: req.headers });
    socket.on('message', (data) => socket.send(`echo ${data}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  app.port = (server.address() as AddressInfo).port;
  app.close = () =>
    new Promise((resolve) => {
      echo.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return app;
}

/** `python3 -m http.server` on a free port serving `dir`; resolves once it answers. */
async function pythonServer(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1'], {
    cwd: dir,
    stdio: 'ignore',
  });
  await eventually(() => request(`http://127.0.0.1:${port}/`).then((r) => r.status === 200), 10_000, 'http.server');
  return { port, child };
}

/** One WebSocket: resolves to the first message after sending `text`. */
function echoOnce(url: string, headers: Record<string, string>, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => socket.send(text));
    socket.once('message', (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once('error', reject);
  });
}

/**
 * An app's page whose script tries to drive the terminal: it opens the terminal's
 * socket (`socketUrl`), attaches and types `command`, and posts to the workshop's check
 * (`checkUrl`), which would touch a file; its title then says what happened to each,
 * and whether it could use cookies and storage (an origin of its own, or opaque).
 */
function attackPage(socketUrl: string, checkUrl: string, command: string): string {
  const attach = attachQueryValue(encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }));
  const input = [ClientType.Input, ...new TextEncoder().encode(`${command}\r`)];
  return `<!doctype html><title>app</title><p>the attendee's app</p><script>
const socketUrl = new URL(${JSON.stringify(`${socketUrl}?${ATTACH_QUERY}=${attach}`)}, location.href.replace(/^http/, 'ws'));
const socket = new Promise((resolve) => {
  const ws = new WebSocket(socketUrl);
  ws.onopen = () => { ws.send(new Uint8Array(${JSON.stringify(input)})); setTimeout(() => resolve('opened'), 500); };
  ws.onerror = () => resolve('refused');
});
const check = fetch(${JSON.stringify(checkUrl)}, {
  method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '{}',
}).then((r) => String(r.status), () => 'refused');
let storage;
try { localStorage.setItem('x', '1'); storage = 'storage'; } catch { storage = 'no storage'; }
Promise.all([socket, check]).then(([s, c]) => { document.title = 'done ' + s + ' ' + c + ' ' + storage; });
</script>
`;
}

describe('the port proxy, basic authentication', () => {
  let stack: Stack & { tmp: string };
  let home: string;
  let site: string;
  let app: RecordingApp;
  let python: { port: number; child: ChildProcess };
  let terminalPort: number;
  let base: string;
  /** Our credentials: the Basic login and the cookie that spares it the counting of attempts. */
  const auth: Record<string, string> = { Authorization: BASIC };

  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'wt-app-home-'));
    site = path.join(home, 'site');
    mkdirSync(site);
    writeFileSync(
      path.join(site, 'index.html'),
      '<!doctype html><title>hello</title><p>Hello from port 8080-ish</p>\n',
    );
    app = await recordingApp();
    python = await pythonServer(site);
    const workshop = path.join(home, 'workshop');
    mkdirSync(path.join(workshop, 'content'), { recursive: true });
    mkdirSync(path.join(workshop, 'examiner', 'tests'), { recursive: true });
    writeFileSync(
      path.join(workshop, 'workshop.yaml'),
      `name: Apps\nmodules:\n  activate: [one]\ntabs:\n- name: My app\n  url: port:${python.port}/index.html\n`,
    );
    // The check a page declares (only those run): it touches a file, so a run is seen.
    writeFileSync(
      path.join(workshop, 'content', 'one.md'),
      '# One\n\nStart the app.\n\n```examiner:execute-test\nname: mark\n```\n',
    );
    const check = path.join(workshop, 'examiner', 'tests', 'mark');
    writeFileSync(check, `#!/bin/sh\ntouch '${home}/examined'\n`);
    chmodSync(check, 0o755);
    terminalPort = await freePort();
    stack = await startStack({
      AUTH_USERNAME: USER,
      AUTH_PASSWORD: PASSWORD,
      TERMINAL_HOME: home,
      WORKSHOP_DIR: workshop,
      TERMINAL_PORT: String(terminalPort),
      APP_DOMAIN: 'apps.localhost',
    });
    await waitReady(stack);
    base = `http://127.0.0.1:${stack.port}`;
    const login = await request(`${base}/terminal/`, { headers: auth });
    auth.Cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0] ?? '';
    // The attack, as the attendee's app serves it: on the terminal's origin (relative URLs)
    // and for an app host (the terminal's own origin named in full).
    writeFileSync(
      path.join(site, 'attack.html'),
      attackPage('/terminal/socket/1', '/dashboard/examiner/mark', `touch ${home}/pwned`),
    );
    writeFileSync(
      path.join(site, 'attack-cross.html'),
      attackPage(
        `ws://127.0.0.1:${stack.port}/terminal/socket/1`,
        `${base}/dashboard/examiner/mark`,
        `touch ${home}/pwned`,
      ),
    );
  });
  after(async () => {
    if (stack) await stopStack(stack);
    python?.child.kill();
    await app?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('without credentials nothing reaches the app: not a request, not an upgrade, not a connection', async () => {
    const before = app.connections;
    assert.equal((await request(`${base}/port/${app.port}/`)).status, 401);
    const wrong = { Authorization: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` };
    assert.equal((await request(`${base}/port/${app.port}/`, { headers: wrong })).status, 401);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${stack.port}/port/${app.port}/ws`), 401);
    const onAppHost = await request(`${base}/`, { headers: { Host: `${app.port}.apps.localhost:${stack.port}` } });
    assert.equal(onAppHost.status, 401);
    assert.equal(app.connections, before, 'the app saw a connection');
  });

  test('the app gets the path under its mount, and none of our credentials; its answer is sandboxed and sets no cookie', async () => {
    const ours = auth.Cookie ?? '';
    assert.match(ours, /^workshop-terminal-basic-/);
    app.requests.length = 0;
    const answer = await request(`${base}/port/${app.port}/some/path?q=1`, {
      headers: {
        Authorization: BASIC,
        Cookie: `${ours}; other=1`,
        'X-Terminal-Server-Token': 'made-up',
        'X-Forwarded-For': '6.6.6.6',
      },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'app saw /some/path?q=1');
    const seen = app.requests[0]?.headers ?? {};
    assert.equal(seen.authorization, undefined, 'the Basic login reached the app');
    assert.equal(seen.cookie, undefined, 'cookies of the terminal origin reached the app');
    assert.deepEqual(
      Object.keys(seen).filter((name) => name.startsWith('x-terminal-')),
      [],
      'the terminal server token or requester headers reached the app',
    );
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen['x-forwarded-prefix'], `/port/${app.port}`);
    assert.equal(seen['x-forwarded-proto'], 'http');
    assert.equal(seen.host, `127.0.0.1:${stack.port}`);
    const policies = [answer.headers['content-security-policy']].flat().join(', ');
    assert.match(
      policies,
      /sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; frame-ancestors 'self'/,
    );
    assert.doesNotMatch(policies, /allow-same-origin/);
    assert.match(policies, /img-src 'none'/, "the app's own policy is kept beside ours");
    assert.doesNotMatch(String(answer.headers['set-cookie'] ?? ''), /app-session/);

    const absolute = await request(`${base}/port/absolute/${app.port}/x?y`, { headers: auth });
    assert.equal(absolute.body, `app saw /port/absolute/${app.port}/x?y`);
  });

  test('port/<n> without its slash redirects to the slash form, on this terminal only', async () => {
    const answer = await request(`${base}/port/${app.port}?a=b`, { headers: auth });
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, `/port/${app.port}/?a=b`);
    const odd = await request(`${base}/port/0${app.port}/`, { headers: auth });
    assert.equal(odd.status, 404);
  });

  test('a WebSocket echo app answers through the proxy; Origin null reaches an app, never the terminal', async () => {
    const url = `ws://127.0.0.1:${stack.port}/port/${app.port}/ws`;
    assert.equal(await echoOnce(url, auth, 'hi'), 'echo hi');
    const upgrade = app.requests.at(-1)?.headers ?? {};
    assert.equal(upgrade.authorization, undefined);
    assert.equal(await upgradeStatus(url, { ...auth, Origin: 'null' }), 101);
    assert.equal(await upgradeStatus(url, { ...auth, Origin: 'http://evil.example' }), 403);
    assert.equal(
      await upgradeStatus(`ws://127.0.0.1:${stack.port}/terminal/socket/1`, { ...auth, Origin: 'null' }),
      403,
    );
    const post = await request(`${base}/dashboard/examiner/mark`, {
      method: 'POST',
      headers: { ...auth, Origin: 'null', 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(post.status, 403);
    assert.equal(existsSync(path.join(home, 'examined')), false);
  });

  test("ports outside APP_PORTS and the stack's own are refused: the private link is not reachable", async () => {
    const before = app.connections;
    for (const port of [80, 1023, terminalPort, stack.port]) {
      const answer = await request(`${base}/port/${port}/terminal/api/status`, { headers: auth });
      assert.equal(answer.status, 403, `port ${port}: ${answer.body.slice(0, 200)}`);
      assert.match(answer.body, /not open to the browser/);
      assert.equal(await upgradeStatus(`ws://127.0.0.1:${stack.port}/port/${port}/terminal/socket/1`, auth), 403);
    }
    // The terminal server itself answers on that port (to the auth proxy, with its token).
    assert.equal((await request(`http://127.0.0.1:${terminalPort}/terminal/api/status`)).status, 403);
    assert.equal(app.connections, before);
  });

  test('a port with nothing listening gets a 502 page that retries by itself, without script', async () => {
    const idle = await freePort();
    const answer = await request(`${base}/port/${idle}/<b>`, { headers: auth });
    assert.equal(answer.status, 502);
    assert.match(answer.body, new RegExp(`Nothing is answering on port ${idle}`));
    assert.match(answer.body, /<meta http-equiv="refresh" content="3">/);
    assert.doesNotMatch(answer.body, /<script|<b>/);
    assert.match(String(answer.headers['content-security-policy']), /script-src [^;]*\/terminal\/assets\//);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${stack.port}/port/${idle}/`, auth), 502);
  });

  describe('in Chromium', () => {
    let browser: Browser | undefined;
    before(async () => {
      if (findTool('chromium')) browser = await startChromium();
    });
    after(async () => {
      await browser?.close();
    });

    /** A browser context logged in (Basic, for every host), or null when the test is skipped (see requireTool). */
    const context = async (t: TestContext) => {
      if (!browser) {
        requireTool(t, 'chromium');
        return null;
      }
      return browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
    };

    test('a port: tab shows the app in the dashboard', async (t) => {
      const ctx = await context(t);
      if (!ctx) return;
      const page = await ctx.newPage();
      await page.goto(`${base}/dashboard/`);
      const problems = await page.locator('.wt-problems[role=alert]').allTextContents();
      assert.deepEqual(problems, []);
      await page.getByRole('tab', { name: 'My app' }).click();
      const frame = page.frameLocator('iframe[title="My app"]');
      await frame.getByText('Hello from port 8080-ish').waitFor();
      assert.equal(await page.locator('iframe[title="My app"]').getAttribute('src'), `/port/${python.port}/index.html`);
      await ctx.close();
    });

    test('THE ATTACK on the terminal origin: the sandboxed app cannot type into the terminal nor run a check', async (t) => {
      const ctx = await context(t);
      if (!ctx) return;
      const page = await ctx.newPage();
      await page.goto(`${base}/port/${python.port}/attack.html`);
      await page.waitForFunction(() => document.title.startsWith('done'), undefined, { timeout: 15_000 });
      assert.equal(await page.title(), 'done refused refused no storage');
      assert.equal(existsSync(path.join(home, 'pwned')), false, 'the app typed into the terminal');
      assert.equal(existsSync(path.join(home, 'examined')), false, 'the app ran a check');
      await ctx.close();
    });

    test('THE ATTACK from an app host (APP_DOMAIN): unsandboxed, with storage, and still no terminal', async (t) => {
      const ctx = await context(t);
      if (!ctx) return;
      const page = await ctx.newPage();
      await page.goto(`http://${python.port}.apps.localhost:${stack.port}/attack-cross.html`);
      await page.waitForFunction(() => document.title.startsWith('done'), undefined, { timeout: 15_000 });
      assert.equal(await page.title(), 'done refused refused storage');
      assert.equal(existsSync(path.join(home, 'pwned')), false, 'the app typed into the terminal');
      assert.equal(existsSync(path.join(home, 'examined')), false, 'the app ran a check');
      // An app's own WebSocket works, on its own origin.
      await page.goto(`http://${app.port}.apps.localhost:${stack.port}/`);
      const echo = await page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws`);
            ws.onopen = () => ws.send('from the page');
            ws.onmessage = (event) => resolve(String(event.data));
            ws.onclose = () => resolve('closed');
          }),
      );
      assert.equal(echo, 'echo from the page');
      await ctx.close();
    });
  });
});

describe('the port proxy behind JupyterHub', { skip: hubSkip }, () => {
  let hub: Hub;
  let app: RecordingApp;
  before(async () => {
    app = await recordingApp();
    hub = await startHub();
    await spawnServer(hub, 'alice');
  });
  after(async () => {
    await hub?.stop();
    await app?.close();
  });

  test('alice reaches her app over HTTP and WebSocket with her hub login, which the app never sees', async () => {
    const before = app.connections;
    const stranger = await request(`${hub.url}/user/alice/port/${app.port}/`);
    assert.equal(stranger.status, 302);
    assert.match(String(stranger.headers.location), /oauth_handshake/);
    assert.equal(app.connections, before, 'the app saw a connection before a login');

    const alice = new CookieClient();
    await alice.logInToHub(hub, 'alice');
    await alice.open(`${hub.url}/user/alice/terminal/`);
    const page = await alice.open(`${hub.url}/user/alice/port/${app.port}/hello`);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    assert.equal(page.body, 'app saw /hello');
    const seen = app.requests.at(-1)?.headers ?? {};
    assert.equal(seen.cookie, undefined, 'the hub login cookie reached the app');
    assert.equal(seen['x-forwarded-prefix'], `/user/alice/port/${app.port}`);
    const url = `ws://127.0.0.1:${hub.port}/user/alice/port/${app.port}/ws`;
    assert.equal(await echoOnce(url, { Cookie: alice.cookieHeader() }, 'hub'), 'echo hub');
    assert.equal(app.requests.at(-1)?.headers.cookie, undefined);
    assert.equal(await upgradeStatus(url), 401);
  });

  test('a watcher (the admin, on dave’s server) may look at dave’s app, and change nothing in it', async () => {
    await spawnServer(hub, 'dave');
    const admin = new CookieClient();
    await admin.logInToHub(hub, 'admin');
    await admin.open(`${hub.url}/user/dave/terminal/`);
    const base = `${hub.url}/user/dave/port/${app.port}`;
    const seen = app.requests.length;
    const look = await admin.get(`${base}/look`);
    assert.equal(look.status, 200, look.body.slice(0, 300));
    assert.equal(look.body, 'app saw /look');
    assert.equal((await admin.get(`${base}/peek`, { method: 'HEAD' })).status, 200);
    assert.deepEqual(
      app.requests.slice(seen).map((r) => r.url),
      ['/look', '/peek'],
    );

    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      // (Node sends a DELETE's body without a length: none is sent.)
      const change = await admin.get(`${base}/change`, {
        method,
        ...(method === 'DELETE' ? {} : { form: { a: '1' } }),
      });
      assert.equal(change.status, 403, `${method}: ${change.body.slice(0, 200)}`);
      assert.match(change.body, /You are watching this terminal/);
    }
    const ws = `ws://127.0.0.1:${hub.port}/user/dave/port/${app.port}/ws`;
    assert.equal(await upgradeStatus(ws, { Cookie: admin.cookieHeader() }), 403);
    assert.deepEqual(
      app.requests.slice(seen).map((r) => r.url),
      ['/look', '/peek'],
      'no change and no WebSocket reached the app',
    );
  });
});
