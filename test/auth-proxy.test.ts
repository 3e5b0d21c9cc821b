// The auth proxy in front of a real terminal server: basic auth for HTTP and
// WebSockets alike, Origin checks, health, a terminal server that is down,
// security headers and bad requests.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import { WebSocket } from 'ws';
import { compileTrust } from '../auth-proxy/src/client-info.js';
import { encryptedCookie, MAX_REMEMBERED_LOGINS, shapeOf } from '../auth-proxy/src/login-session.js';
import { basicAuthMode } from '../auth-proxy/src/modes/basic.js';
import { jupyterHubMode } from '../auth-proxy/src/modes/jupyterhub.js';
import { loadConfig } from '../common/src/config.js';
import { createLogger } from '../common/src/log.js';
import { projectRoot } from '../common/src/paths.js';
import { startChromium, waitForScreen } from './harness/browser.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  runProcess,
  startAuthProxy,
  startTerminalServer,
  upgradeStatus,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';
import { requireTool } from './harness/tools.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GOOD = basic('grumpy', 'correct horse');

/** Logs in once, as a browser does: the right credentials and the cookie that comes back. */
async function logIn(base: string, authorization = GOOD): Promise<Record<string, string>> {
  const res = await request(`${base}/terminal/`, { headers: { Authorization: authorization } });
  assert.equal(res.status, 302);
  const cookie = (res.headers['set-cookie'] ?? [])[0]?.split(';')[0];
  assert.ok(cookie, 'a login cookie');
  return { Authorization: authorization, Cookie: cookie };
}

/** Sends raw bytes and returns the status line of the answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('auth proxy with basic authentication', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let AUTH: Record<string, string>;
  before(async () => {
    terminal = await startTerminalServer({ URI_ROOT_PATH: '/user/alice' });
    proxy = await startAuthProxy(
      {
        AUTH_USERNAME: 'grumpy',
        AUTH_PASSWORD: 'correct horse',
        URI_ROOT_PATH: '/user/alice',
        FRAME_ANCESTORS: "'self' https://dashboard.example",
        ALLOWED_ORIGINS: 'https://dashboard.example',
      },
      terminal.port,
    );
    AUTH = await logIn(proxy.base);
  });
  after(async () => {
    await proxy.close();
    await terminal.close();
  });

  test('no credentials: 401 with a Basic challenge for realm Terminal', async () => {
    const res = await request(`${proxy.base}/terminal/session/1`);
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="Terminal"/);
    assert.doesNotMatch(res.body, /terminal\.js/);
  });

  test('right credentials: the page; wrong ones: 401', async () => {
    const ok = await request(`${proxy.base}/terminal/session/1`, { headers: AUTH });
    assert.equal(ok.status, 200);
    assert.match(ok.body, /terminal\.js\?v=/);
    for (const wrong of [basic('grumpy', 'wrong'), basic('dopey', 'correct horse'), basic('', '')]) {
      const res = await request(`${proxy.base}/terminal/session/1`, { headers: { Authorization: wrong } });
      assert.equal(res.status, 401);
    }
  });

  test('malformed Authorization headers get 401 and change nothing', async () => {
    for (const header of [
      'Basic',
      'Basic !!!',
      'Bearer abc',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      'x'.repeat(4000),
    ]) {
      const res = await request(`${proxy.base}/terminal/`, { headers: { Authorization: header } });
      assert.equal(res.status, 401, header.slice(0, 20));
    }
    assert.equal((await request(`${proxy.base}/terminal/`, { headers: AUTH })).status, 302);
  });

  test('the prefix redirects to the default route; outside the prefix is 404', async () => {
    const res = await request(`${proxy.base}/`, { headers: AUTH });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/user/alice/terminal/');
    const bare = await request(`http://127.0.0.1:${proxy.port}/user/alice`, { headers: AUTH });
    assert.equal(bare.headers.location, '/user/alice/terminal/');
    assert.equal((await request(`http://127.0.0.1:${proxy.port}/terminal/`)).status, 404);
    assert.equal((await request(`http://127.0.0.1:${proxy.port}/user/alicex/terminal/`)).status, 404);
  });

  test('a WebSocket without credentials gets 401 and no shell starts; with them it works', async () => {
    assert.equal(await upgradeStatus(proxy.socketUrl('ws1')), 401);
    assert.equal(await upgradeStatus(proxy.socketUrl('ws1'), { Authorization: basic('grumpy', 'nope') }), 401);
    assert.equal(terminal.server.sessions.size, 0, 'no pty for refused upgrades');
    const page = await TerminalClient.connect(proxy.socketUrl('ws1'), { headers: AUTH });
    page.type('echo via-proxy-$((2*21))\r');
    await page.waitFor('via-proxy-42');
    await page.close();
  });

  test('a cross-origin WebSocket gets 403, even with credentials; allowed origins pass', async () => {
    const before = terminal.server.sessions.size;
    const status = await upgradeStatus(proxy.socketUrl('cross'), {
      ...AUTH,
      Origin: 'https://evil.example',
    });
    assert.equal(status, 403);
    assert.equal(terminal.server.sessions.size, before);
    const same = `http://127.0.0.1:${proxy.port}`;
    const page = await TerminalClient.connect(proxy.socketUrl('cross'), {
      headers: { ...AUTH, Origin: same },
    });
    await page.close();
    const dashboard = await TerminalClient.connect(proxy.socketUrl('cross'), {
      headers: { ...AUTH, Origin: 'https://dashboard.example' },
    });
    await dashboard.close();
  });

  test('the Origin must match the scheme too: an https page is not this http terminal', async () => {
    const before = terminal.server.sessions.size;
    for (const origin of [`https://127.0.0.1:${proxy.port}`, `ws://127.0.0.1:${proxy.port}`, 'null']) {
      const status = await upgradeStatus(proxy.socketUrl('scheme'), { ...AUTH, Origin: origin });
      assert.equal(status, 403, origin);
    }
    assert.equal(terminal.server.sessions.size, before, 'no shell for a refused upgrade');
    assert.equal(
      await upgradeStatus(proxy.socketUrl('scheme'), { ...AUTH, Origin: `http://127.0.0.1:${proxy.port}` }),
      101,
    );
  });

  test('the prefix is matched with its case, as the terminal server and the login redirect match it', async () => {
    const other = `http://127.0.0.1:${proxy.port}/USER/Alice`;
    // Refused at the proxy: not behind a login, not health, not the redirect of the prefix, not a socket.
    assert.equal((await request(`${other}/terminal/session/1`)).status, 404);
    assert.equal((await request(`${other}/healthz`)).status, 404);
    assert.equal((await request(other, { headers: AUTH })).status, 404);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/USER/Alice/terminal/socket/case`, AUTH), 404);
    // Past the prefix, the routes compare with their case too.
    assert.equal((await request(`${proxy.base}/HEALTHZ`)).status, 401);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/user/alice/terminal/SOCKET/case`, AUTH), 404);
    assert.equal(terminal.server.sessions.get('case'), undefined, 'no shell for a refused upgrade');
  });

  test('upgrades to paths that are not terminal sockets get 404', async () => {
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/user/alice/terminal/session/1`, AUTH), 404);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/elsewhere`, AUTH), 404);
    // Clients normalise dot segments; a raw request shows what the proxy does with them.
    const upgrade =
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
    const status = await rawRequest(
      proxy.port,
      `GET /user/alice/terminal/socket/../../x HTTP/1.1\r\nHost: x\r\n${upgrade}\r\n\r\n`,
    );
    assert.match(status, / 400 /);
  });

  test('health and readiness need no login and reveal nothing', async () => {
    const health = await request(`${proxy.base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok\n');
    const ready = await request(`${proxy.base}/readyz`);
    assert.equal(ready.status, 200);
  });

  test('security headers: scripts from our bundle folders only, frame-ancestors as configured, nosniff', async () => {
    const host = new URL(proxy.base).host;
    for (const res of [
      await request(`${proxy.base}/terminal/session/1`, { headers: AUTH }),
      await request(`${proxy.base}/healthz`),
    ]) {
      const csp = String(res.headers['content-security-policy']);
      assert.doesNotMatch(csp, /unsafe-eval/);
      assert.match(
        csp,
        new RegExp(
          `script-src ${host}/user/alice/terminal/assets/ ${host}/user/alice/dashboard/assets/ ${host}/user/alice/editor/assets/;`,
        ),
      );
      assert.match(csp, /frame-ancestors 'self' https:\/\/dashboard\.example/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    // The folders are named on the host the browser asked for; a policy cannot name an IPv6 address, nor take a word more.
    const scriptSources = async (asked: string) =>
      /script-src ([^;]*)/.exec(
        String(
          (await request(`${proxy.base}/healthz`, { headers: { Host: asked } })).headers['content-security-policy'],
        ),
      )?.[1];
    assert.equal(
      await scriptSources('terminal.example:8443'),
      'terminal.example:8443/user/alice/terminal/assets/ terminal.example:8443/user/alice/dashboard/assets/ terminal.example:8443/user/alice/editor/assets/',
    );
    assert.equal(await scriptSources('[::1]:10080'), "'self'");
    assert.equal(await scriptSources("x; script-src 'unsafe-inline'"), "'none'");
  });

  test('bad requests get a clear 4xx and nothing breaks', async () => {
    for (const path of [
      '/user/alice/terminal/../../etc/passwd',
      '/user/alice/%2e%2e/x',
      '/user/alice/terminal/.%2e/',
    ]) {
      const status = await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\n\r\n`);
      assert.match(status, / 400 /, path);
    }
    assert.match(
      await rawRequest(proxy.port, `GET /user/alice/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`),
      / 431 /,
    );
    assert.match(
      await rawRequest(proxy.port, `GET /user/alice/${'a'.repeat(20000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      / 431 /,
    );
    assert.match(await rawRequest(proxy.port, 'GARBAGE\r\n\r\n'), / 400 /);
    // CR/LF cannot reach a header: the only redirect target is configuration.
    const res = await request(`${proxy.base}/%0d%0aSet-Cookie:%20x=1`, { headers: AUTH });
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal((await request(`${proxy.base}/healthz`)).status, 200);
  });
});

/** A request from a chosen local address (all of 127.0.0.0/8 is this machine); `answered` settles with the status. */
function attempt(
  url: string,
  headers: Record<string, string>,
  from = '127.0.0.1',
): { answered: Promise<number>; status: number | null; abort(): void } {
  const result = { status: null as number | null, answered: Promise.resolve(0), abort: () => {} };
  const req = http.get(url, { headers, localAddress: from, agent: false });
  result.abort = () => req.destroy();
  result.answered = new Promise((resolve) => {
    req.on('response', (res) => {
      res.resume();
      result.status = res.statusCode ?? 0;
      resolve(result.status);
    });
    req.on('error', () => resolve(-1));
  });
  return result;
}

describe('basic authentication under guessing', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  /** The real user's browser, logged in before the attacks. */
  let browser: Record<string, string>;
  before(async () => {
    terminal = await startTerminalServer();
    proxy = await startAuthProxy(
      { AUTH_USERNAME: 'grumpy', AUTH_PASSWORD: 'correct horse', TRUST_PROXY: 'true' },
      terminal.port,
    );
    browser = await logIn(proxy.base);
  });
  after(async () => {
    await proxy.close();
    await terminal.close();
  });

  test('after a few attempts the right password waits like a wrong one, while the real user elsewhere gets in at once', async () => {
    const url = `${proxy.base}/terminal/`;
    const attacker = '127.0.0.2';
    // A success early on does not make the next guesses cheap.
    const first = await attempt(url, { Authorization: GOOD }, attacker).answered;
    assert.equal(first, 302);
    for (let i = 0; i < 4; i++) {
      assert.equal(await attempt(url, { Authorization: basic('grumpy', `guess${i}`) }, attacker).answered, 401);
    }
    // The next guess happens to be right; it must not come back before the real user's login from another address.
    const lucky = attempt(url, { Authorization: GOOD }, attacker);
    const user = await attempt(url, { Authorization: GOOD }, '127.0.0.3').answered;
    assert.equal(user, 302, 'the real user, elsewhere, is not slowed by the attack');
    assert.equal(lucky.status, null, 'the right guess is still waiting for its turn');
    lucky.abort();
    // Dropping the slow answer did not give the turn back: a wrong guess now is not checked at once either.
    const next = attempt(url, { Authorization: basic('grumpy', 'again') }, attacker);
    assert.equal(await attempt(url, { Authorization: GOOD }, '127.0.0.4').answered, 302);
    assert.equal(next.status, null);
    next.abort();
  });

  test('a burst of concurrent guesses from one client: all but a few are refused unchecked with 429', async () => {
    const url = `${proxy.base}/terminal/`;
    const guesses = Array.from({ length: 60 }, (_, i) =>
      attempt(url, { Authorization: basic('grumpy', `burst${i}`) }, '127.0.0.5'),
    );
    const refused = await eventually(
      () => {
        const count = guesses.filter((g) => g.status === 429).length;
        // Five are checked at once and five more get the next turns (the last 30 s out): the other 50 are refused.
        return count >= 49 ? count : 0;
      },
      10_000,
      'most guesses refused',
    );
    const checked = guesses.filter((g) => g.status === 401).length;
    assert.ok(checked <= 5, `${checked} checked at once`);
    assert.ok(refused + checked + guesses.filter((g) => g.status === null).length === 60);
    assert.ok(guesses.filter((g) => g.status === null).length <= 6, 'only the next few turns are kept waiting');
    for (const g of guesses) g.abort();
  });

  test('with TRUST_PROXY, a new X-Forwarded-For per guess does not escape the count', async () => {
    const url = `${proxy.base}/terminal/`;
    const guesses = Array.from({ length: 80 }, (_, i) =>
      attempt(url, { Authorization: basic('grumpy', `xff${i}`), 'X-Forwarded-For': `198.51.100.${i}` }, '127.0.0.6'),
    );
    await eventually(() => guesses.filter((g) => g.status !== null).length >= 40, 10_000, 'answers');
    const refused = guesses.filter((g) => g.status === 429).length;
    assert.ok(refused >= 40, `${refused} of 80 refused`);
    for (const g of guesses) g.abort();
  });

  test('a browser that logged in is never slowed, even now: its cookie spares it the count', async () => {
    const headers = browser;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => attempt(`${proxy.base}/terminal/`, headers).answered),
    );
    assert.deepEqual(new Set(answers), new Set([302]));
    const page = await TerminalClient.connect(proxy.socketUrl('cookie'), { headers });
    await page.close();
  });
});

describe('basic authentication: what a check computes', () => {
  test('the password digest is computed whether the user name matched or not', async () => {
    const mode = basicAuthMode({ username: 'grumpy', password: 'correct horse', prefix: '' });
    // Counted where the digests are made: createHash, as basic.ts imports it (a
    // builtin's named export follows its module object once synced).
    const createHash = mock.method(crypto, 'createHash');
    syncBuiltinESMExports();
    const digests = new Map<string, number>();
    try {
      const cases: [string, string, string][] = [
        ['wrong user name and password', 'someone', 'guess'],
        ['wrong user name, right password', 'someone', 'correct horse'],
        ['right user name, wrong password', 'grumpy', 'guess'],
        ['both right', 'grumpy', 'correct horse'],
      ];
      for (const [i, [what, user, password]] of cases.entries()) {
        const req = { headers: { authorization: basic(user, password) } } as http.IncomingMessage;
        const before = createHash.mock.callCount();
        // An address of its own for each, so that no attempt waits for its turn.
        const verdict = await mode.check(req, { address: `192.0.2.${i + 1}`, protocol: 'http', host: 'x' }, undefined);
        assert.equal(verdict.allowed, what === 'both right', what);
        digests.set(what, createHash.mock.callCount() - before);
      }
    } finally {
      createHash.mock.restore();
      syncBuiltinESMExports();
    }
    assert.ok((digests.get('both right') ?? 0) >= 2, 'both digests are counted');
    assert.equal(new Set(digests.values()).size, 1, `digests made per check: ${JSON.stringify([...digests])}`);
  });
});

describe('JupyterHub mode: what it remembers of the hub’s answers', () => {
  test('answers for at most a bounded number of logins: the oldest is forgotten, and asked again', async () => {
    // The hub's API as far as the check uses it: who a token belongs to, each question counted.
    const asked = new Map<string, number>();
    const hub = http.createServer((req, res) => {
      const token = String(req.headers.authorization).replace(/^token /, '');
      asked.set(token, (asked.get(token) ?? 0) + 1);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ name: 'alice', admin: false }));
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    const secrets = ['a-secret-for-tests'];
    const mode = jupyterHubMode({
      prefix: '/user/alice',
      owner: 'alice',
      clientId: 'jupyterhub-user-alice',
      apiToken: 'api-token',
      apiUrl: `http://127.0.0.1:${(hub.address() as net.AddressInfo).port}`,
      baseUrl: '/',
      hubHost: '',
      callbackUrl: '/user/alice/oauth_callback',
      allowAdmins: false,
      viewers: [],
      recheckMs: 3600_000,
      secrets,
      trust: compileTrust(false),
      logger: createLogger('auth-proxy', 'error'),
    });
    // Login cookies as the hub login writes them (same name, secrets and shape).
    const jar = encryptedCookie({
      name: 'jupyterhub-user-alice',
      secrets,
      path: '/user/alice',
      maxAgeSeconds: 3600,
      shape: shapeOf<{ user: string; token: string }>({ user: 'string', token: 'string' }),
    });
    const check = async (token: string) => {
      const headers: Record<string, unknown> = {};
      const res = {
        getHeader: (name: string) => headers[name.toLowerCase()],
        setHeader: (name: string, value: unknown) => {
          headers[name.toLowerCase()] = value;
        },
      } as unknown as http.ServerResponse;
      jar.write(res, { user: 'alice', token }, { protocol: 'http' });
      const cookie = String((headers['set-cookie'] as string[])[0]).split(';')[0];
      const req = { headers: { cookie }, url: '/user/alice/terminal/' } as http.IncomingMessage;
      const verdict = await mode.check(req, { address: '127.0.0.1', protocol: 'http', host: 'x' });
      assert.equal(verdict.allowed, true);
    };
    try {
      await check('first');
      await check('first');
      assert.equal(asked.get('first'), 1, 'a recent answer is used again');
      const others = Array.from({ length: MAX_REMEMBERED_LOGINS }, (_, i) => `login-${i}`);
      for (let i = 0; i < others.length; i += 50) await Promise.all(others.slice(i, i + 50).map(check));
      await check('first');
      assert.equal(asked.get('first'), 2, 'after as many newer logins as are remembered, the first is asked again');
      const newest = others.at(-1) as string;
      await check(newest);
      assert.equal(asked.get(newest), 1, 'the newest are still remembered');
    } finally {
      hub.close();
    }
  });
});

describe('auth proxy without authentication', () => {
  test('AUTH_USERNAME=* turns authentication off (and the proxy shows the terminal server its token)', async () => {
    const terminal = await startTerminalServer({ TERMINAL_SERVER_TOKEN: 'shared' });
    const proxy = await startAuthProxy({ AUTH_USERNAME: '*', TERMINAL_SERVER_TOKEN: 'shared' }, terminal.port);
    try {
      assert.equal((await request(`${proxy.base}/terminal/session/1`)).status, 200);
      const page = await TerminalClient.connect(proxy.socketUrl('open'));
      page.type('echo open-$((1+2))\r');
      await page.waitFor('open-3');
      await page.close();
      assert.equal((await request(`${proxy.base}/readyz`)).status, 200);
    } finally {
      await proxy.close();
      await terminal.close();
    }
  });
});

describe('auth proxy without authentication: DNS rebinding', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  before(async () => {
    terminal = await startTerminalServer();
    proxy = await startAuthProxy(
      { PUBLIC_URL: 'https://terminal.example.com', ALLOWED_HOSTS: 'workshop.internal,.lab.example' },
      terminal.port,
    );
  });
  after(async () => {
    await proxy.close();
    await terminal.close();
  });

  test('a foreign Host gets a short 403 naming ALLOWED_HOSTS: no page, no API, no WebSocket, no shell', async () => {
    const foreign = `attacker.example:${proxy.port}`;
    const origin = `http://${foreign}`;
    const page = await request(`${proxy.base}/terminal/session/1`, { headers: { Host: foreign } });
    assert.equal(page.status, 403);
    assert.match(page.body, /ALLOWED_HOSTS/);
    assert.doesNotMatch(page.body, /terminal\.js/);
    const api = await request(`${proxy.base}/terminal/api/sessions`, { headers: { Host: foreign, Origin: origin } });
    assert.equal(api.status, 403);
    const victim = await TerminalClient.connect(proxy.socketUrl('victim'));
    const removal = await request(`${proxy.base}/terminal/api/sessions/victim`, {
      method: 'DELETE',
      headers: { Host: foreign, Origin: origin },
    });
    assert.equal(removal.status, 403);
    for (const host of [foreign, 'attacker.example', 'localhost.attacker.example', '127.0.0.1.nip.io', '']) {
      assert.equal(
        await upgradeStatus(proxy.socketUrl('rebound'), { Host: host, Origin: `http://${host}` }),
        403,
        `Host: ${host}`,
      );
    }
    assert.equal(terminal.server.sessions.size, 1, 'only the victim session: no shell for the other site');
    victim.type('echo still-$((3*3))\r');
    await victim.waitFor('still-9');
    await victim.close();
  });

  test('addresses, localhost, the public URL host and ALLOWED_HOSTS get in', async () => {
    for (const host of [
      `127.0.0.1:${proxy.port}`,
      `localhost:${proxy.port}`,
      'LOCALHOST',
      `[::1]:${proxy.port}`,
      `10.1.2.3:${proxy.port}`,
      'app.localhost:8080',
      'terminal.example.com',
      'workshop.internal:10080',
      'a.lab.example',
    ]) {
      const res = await request(`${proxy.base}/terminal/session/1`, { headers: { Host: host } });
      assert.equal(res.status, 200, host);
    }
    assert.equal(await upgradeStatus(proxy.socketUrl('local'), { Host: `localhost:${proxy.port}` }), 101);
  });

  test('in Chromium, a page of another site whose name resolves to 127.0.0.1 gets no terminal', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    const browser = await startChromium([`--host-resolver-rules=MAP attacker.example 127.0.0.1`]);
    try {
      const page = await browser.newPage();
      const before = terminal.server.sessions.size;
      const res = await page.goto(`http://attacker.example:${proxy.port}/terminal/session/rebind`);
      assert.equal(res?.status(), 403);
      assert.match(await page.content(), /ALLOWED_HOSTS/);
      // The attacker's own script, running on its own page under that name, tries the socket and the API.
      const tried = await page.evaluate(async (port) => {
        const socket = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://attacker.example:${port}/terminal/socket/rebind`);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        });
        const api = await fetch(`http://attacker.example:${port}/terminal/api/sessions`).then((r) => r.status);
        return { socket, api };
      }, proxy.port);
      assert.deepEqual(tried, { socket: 'refused', api: 403 });
      assert.equal(terminal.server.sessions.size, before, 'no shell started');
      // The same browser at localhost gets its terminal.
      const own = await page.goto(`http://localhost:${proxy.port}/terminal/session/rebind`);
      assert.equal(own?.status(), 200);
      await waitForScreen(page, /\$ $/m);
    } finally {
      await browser.close();
    }
  });
});

describe('auth proxy with the terminal server down', () => {
  let proxy: RunningAuthProxy;
  before(async () => {
    // Port 1: nothing listens there, and no port 0 listener (this proxy's own) is ever given it.
    proxy = await startAuthProxy({ AUTH_MODE: 'none' }, 1);
  });
  after(() => proxy.close());

  test('HTTP gets a clear 502 page, readiness fails, health does not', async () => {
    const res = await request(`${proxy.base}/terminal/session/1`);
    assert.equal(res.status, 502);
    assert.match(res.body, /terminal server is not answering/);
    assert.equal((await request(`${proxy.base}/readyz`)).status, 503);
    assert.equal((await request(`${proxy.base}/healthz`)).status, 200);
  });

  test('a WebSocket is closed with 1013 (try again later), and the proxy goes on', async () => {
    const socket = new WebSocket(proxy.socketUrl('1'));
    const code = await new Promise<number>((resolve, reject) => {
      socket.once('close', resolve);
      socket.once('error', reject);
    });
    assert.equal(code, 1013);
    assert.equal((await request(`${proxy.base}/healthz`)).status, 200);
  });
});

// Builds the proxy (from dist/) in a process of its own, as main.js does, and
// prints the packages it has loaded: ESM imports of CommonJS packages land in
// require's cache too.
const LOADED_PACKAGES = `
import { createRequire } from 'node:module';
const root = process.env.PROJECT_ROOT;
const { loadConfig } = await import(root + '/dist/common/src/config.js');
const { createLogger } = await import(root + '/dist/common/src/log.js');
const { createAuthMode } = await import(root + '/dist/auth-proxy/src/modes/index.js');
const { createAuthProxy } = await import(root + '/dist/auth-proxy/src/server.js');
const config = loadConfig(process.env);
const logger = createLogger('auth-proxy', 'error');
createAuthProxy({ config, logger, mode: await createAuthMode(config, logger) });
const files = Object.keys(createRequire(root + '/').cache);
const names = files.flatMap((file) => /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file)?.slice(1, 2) ?? []);
process.stdout.write(JSON.stringify([...new Set(names)]));
process.exit(0);
`;

describe('auth modes', () => {
  async function loadedPackages(env: Record<string, string>): Promise<string[]> {
    const run = runProcess(process.execPath, ['--input-type=module', '-e', LOADED_PACKAGES], {
      PROJECT_ROOT: projectRoot(),
      HOME: '/nonexistent',
      ...env,
    });
    assert.equal(await run.exited, 0, run.output());
    return JSON.parse(run.output()) as string[];
  }
  const OAUTH = ['express', 'passport', 'passport-oauth2', 'oauth'];

  test('each loads only its own modules: none and basic no express, passport or ws', async () => {
    const none = await loadedPackages({ AUTH_USERNAME: '*' });
    for (const name of [...OAUTH, 'ws', 'basic-auth', 'cookie']) assert.ok(!none.includes(name), `none: ${name}`);
    assert.ok(none.includes('http-proxy'));
    const basic = await loadedPackages({ AUTH_USERNAME: 'grumpy', AUTH_PASSWORD: 'correct horse' });
    for (const name of [...OAUTH, 'ws']) assert.ok(!basic.includes(name), `basic: ${name}`);
    assert.ok(basic.includes('basic-auth'));
    const hub = await loadedPackages({
      JUPYTERHUB_API_TOKEN: 'token',
      JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-alice',
      JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/alice/oauth_callback',
      JUPYTERHUB_USER: 'alice',
    });
    assert.ok(hub.includes('express'));
    for (const name of ['passport', 'passport-oauth2', 'ws']) assert.ok(!hub.includes(name), `jupyterhub: ${name}`);
    const openshift = await loadedPackages({
      OAUTH_SERVICE_ACCOUNT: 'terminal-user',
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      SERVICE_ACCOUNT_DIR: '/nonexistent',
    });
    for (const name of OAUTH) assert.ok(openshift.includes(name), `openshift: ${name}`);
  });
});

describe("JupyterHub's settings for a server on a host of its own (subdomain_host)", () => {
  const HUB = {
    JUPYTERHUB_API_TOKEN: 'token',
    JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-alice',
    JUPYTERHUB_API_URL: 'http://127.0.0.1:8081/hub/api',
    JUPYTERHUB_USER: 'alice',
  };

  test('the hub origin and a full callback URL are taken; anything else stops the start naming the variable', () => {
    const config = loadConfig({
      ...HUB,
      JUPYTERHUB_HOST: 'https://hub.example.com',
      JUPYTERHUB_OAUTH_CALLBACK_URL: 'https://alice.hub.example.com/user/alice/oauth_callback',
    });
    assert.equal(config.hubHost, 'https://hub.example.com');
    assert.equal(config.hubCallbackUrl, 'https://alice.hub.example.com/user/alice/oauth_callback');
    assert.equal(loadConfig({ ...HUB, JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/alice/oauth_callback' }).hubHost, '');
    for (const [name, value] of [
      ['JUPYTERHUB_HOST', 'https://hub.example.com/hub/'],
      ['JUPYTERHUB_HOST', 'javascript:alert(1)'],
      ['JUPYTERHUB_OAUTH_CALLBACK_URL', 'ftp://alice.hub.example.com/user/alice/oauth_callback'],
      ['JUPYTERHUB_OAUTH_CALLBACK_URL', 'https://alice.hub.example.com/user/alice/oauth_callback?next=x'],
    ] as const) {
      assert.throws(
        () => loadConfig({ JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/alice/oauth_callback', ...HUB, [name]: value }),
        (error: Error) => error.message.split('\n').filter((line) => line.includes(name)).length === 1,
        `${name}=${value}`,
      );
    }
  });
});
