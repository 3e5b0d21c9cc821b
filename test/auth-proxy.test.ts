// The auth proxy in front of a real terminal server: basic auth for HTTP and
// WebSockets alike, Origin checks, health, a terminal server that is down,
// security headers and bad requests.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import {
  freePort,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  startAuthProxy,
  startTerminalServer,
  upgradeStatus,
} from './support/servers.js';
import { TerminalClient } from './support/terminal-client.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GOOD = basic('grumpy', 'correct horse');

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
    const ok = await request(`${proxy.base}/terminal/session/1`, { headers: { Authorization: GOOD } });
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
    assert.equal((await request(`${proxy.base}/terminal/`, { headers: { Authorization: GOOD } })).status, 302);
  });

  test('the prefix redirects to the default route; outside the prefix is 404', async () => {
    const res = await request(`${proxy.base}/`, { headers: { Authorization: GOOD } });
    assert.equal(res.status, 302);
    assert.equal(res.headers.location, '/user/alice/terminal/');
    const bare = await request(`http://127.0.0.1:${proxy.port}/user/alice`, { headers: { Authorization: GOOD } });
    assert.equal(bare.headers.location, '/user/alice/terminal/');
    assert.equal((await request(`http://127.0.0.1:${proxy.port}/terminal/`)).status, 404);
    assert.equal((await request(`http://127.0.0.1:${proxy.port}/user/alicex/terminal/`)).status, 404);
  });

  test('a WebSocket without credentials gets 401 and no shell starts; with them it works', async () => {
    assert.equal(await upgradeStatus(proxy.socketUrl('ws1')), 401);
    assert.equal(await upgradeStatus(proxy.socketUrl('ws1'), { Authorization: basic('grumpy', 'nope') }), 401);
    assert.equal(terminal.server.sessions.size, 0, 'no pty for refused upgrades');
    const page = await TerminalClient.connect(proxy.socketUrl('ws1'), { headers: { Authorization: GOOD } });
    page.type('echo via-proxy-$((2*21))\r');
    await page.waitFor('via-proxy-42');
    await page.close();
  });

  test('a cross-origin WebSocket gets 403, even with credentials; allowed origins pass', async () => {
    const before = terminal.server.sessions.size;
    const status = await upgradeStatus(proxy.socketUrl('cross'), {
      Authorization: GOOD,
      Origin: 'https://evil.example',
    });
    assert.equal(status, 403);
    assert.equal(terminal.server.sessions.size, before);
    const same = `http://127.0.0.1:${proxy.port}`;
    const page = await TerminalClient.connect(proxy.socketUrl('cross'), {
      headers: { Authorization: GOOD, Origin: same },
    });
    await page.close();
    const dashboard = await TerminalClient.connect(proxy.socketUrl('cross'), {
      headers: { Authorization: GOOD, Origin: 'https://dashboard.example' },
    });
    await dashboard.close();
  });

  test('upgrades to paths that are not terminal sockets get 404', async () => {
    assert.equal(
      await upgradeStatus(`ws://127.0.0.1:${proxy.port}/user/alice/terminal/session/1`, { Authorization: GOOD }),
      404,
    );
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${proxy.port}/elsewhere`, { Authorization: GOOD }), 404);
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

  test('security headers: a CSP without unsafe-eval, frame-ancestors as configured, nosniff', async () => {
    for (const res of [
      await request(`${proxy.base}/terminal/session/1`, { headers: { Authorization: GOOD } }),
      await request(`${proxy.base}/healthz`),
    ]) {
      const csp = String(res.headers['content-security-policy']);
      assert.doesNotMatch(csp, /unsafe-eval/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'self' https:\/\/dashboard\.example/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
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
    const res = await request(`${proxy.base}/%0d%0aSet-Cookie:%20x=1`, { headers: { Authorization: GOOD } });
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal((await request(`${proxy.base}/healthz`)).status, 200);
  });

  test('repeated failures from one client are slowed down; the right password still gets in', async () => {
    const wrong = { headers: { Authorization: basic('grumpy', 'guess') } };
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      const start = performance.now();
      assert.equal((await request(`${proxy.base}/healthz-not`, wrong)).status, 401);
      times.push(performance.now() - start);
    }
    assert.ok(Math.max(...times.slice(0, 5)) < 200, `the first failures are not delayed: ${times.map(Math.round)}`);
    assert.ok((times[7] as number) >= 900, `the eighth failure waited ${Math.round(times[7] as number)} ms`);
    assert.equal((await request(`${proxy.base}/terminal/`, { headers: { Authorization: GOOD } })).status, 302);
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

describe('auth proxy with the terminal server down', () => {
  let proxy: RunningAuthProxy;
  before(async () => {
    proxy = await startAuthProxy({ AUTH_MODE: 'none' }, await freePort());
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
