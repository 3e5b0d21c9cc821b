// The terminal server's HTTP side and its process: routes under a prefix,
// bad names and paths, assets and caching, refused upgrades, configuration
// errors, localhost only, and stopping on SIGTERM.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pageAssetsDir } from '../common/src/paths.js';
import {
  eventually,
  freePort,
  isAlive,
  request,
  startProcess,
  startTerminalServer,
  upgradeStatus,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

describe('terminal server HTTP under a prefix', () => {
  let terminal: Awaited<ReturnType<typeof startTerminalServer>>;
  before(async () => {
    terminal = await startTerminalServer({ URI_ROOT_PATH: '/user/alice/' });
  });
  after(() => terminal.close());

  test('/terminal/ and /terminal redirect to session 1 under the prefix', async () => {
    for (const path of ['/terminal/', '/terminal']) {
      const res = await request(`${terminal.base}${path}`);
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, '/user/alice/terminal/session/1');
    }
  });

  test('a session page loads its versioned assets with relative URLs', async () => {
    const page = await request(`${terminal.base}/terminal/session/my-work_2`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const script = /src="(\.\.\/assets\/terminal\.js\?v=([0-9a-f]+))"/.exec(page.body);
    assert.ok(script, 'script tag with a version');
    assert.doesNotMatch(page.body, /<script>/, 'no inline script');
    const asset = await request(new URL(script[1] as string, `${terminal.base}/terminal/session/x`).href, {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers['content-encoding'], 'gzip');
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    const etag = String(asset.headers.etag);
    const again = await request(`${terminal.base}/terminal/assets/terminal.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const unversioned = await request(`${terminal.base}/terminal/assets/terminal.css`);
    assert.equal(unversioned.headers['cache-control'], 'no-cache');
    assert.match(String(unversioned.headers['content-type']), /^text\/css/);
    // Kept compressed only: a client without gzip gets the file as built.
    assert.equal(unversioned.headers['content-encoding'], undefined);
    assert.equal(unversioned.body, readFileSync(path.join(pageAssetsDir(), 'terminal.css'), 'utf8'));
  });

  test('source maps are served from disk: plain, gzipped, and 304 with their ETag', async () => {
    const map = await request(`${terminal.base}/terminal/assets/terminal.js.map`);
    assert.equal(map.status, 200);
    assert.match(String(map.headers['content-type']), /^application\/json/);
    assert.equal(map.headers['cache-control'], 'no-cache');
    assert.equal((JSON.parse(map.body) as { version: number }).version, 3);
    const etag = String(map.headers.etag);
    const gzipped = await request(`${terminal.base}/terminal/assets/terminal.js.map`, {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(gzipped.headers.etag, etag);
    const again = await request(`${terminal.base}/terminal/assets/terminal.js.map`, {
      headers: { 'If-None-Match': etag },
    });
    assert.equal(again.status, 304);
  });

  test('bad session names get 400 with a short message', async () => {
    for (const name of ['bad%20name', 'a.b', '..%2f', 'x'.repeat(65), '%E0%A4%A', 'semi;colon', '']) {
      const res = await request(`${terminal.base}/terminal/session/${name}`);
      assert.equal(res.status, 400, name);
      assert.match(res.body, /letters, digits/);
      assert.ok(res.body.length < 100);
    }
  });

  test('unknown paths and traversal attempts get 404, outside the prefix too', async () => {
    for (const path of [
      '/user/alice/terminal/session/a/b',
      '/user/alice/terminal/assets/../../../etc/passwd',
      '/user/alice/terminal/assets/%2e%2e%2f%2e%2e%2fpackage.json',
      '/user/alice/terminal/nothing',
      '/terminal/',
      '/user/alicex/terminal/',
    ]) {
      const res = await request(`http://127.0.0.1:${terminal.port}${path}`);
      assert.equal(res.status, 404, path);
    }
  });

  test('the API answers JSON, and errors in JSON', async () => {
    const list = await request(`${terminal.base}/terminal/api/sessions`);
    assert.equal(list.status, 200);
    assert.deepEqual(JSON.parse(list.body), { sessions: [] });
    const missing = await request(`${terminal.base}/terminal/api/sessions/none`);
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { error: 'no session named none' });
    const wrong = await request(`${terminal.base}/terminal/api/sessions`, { method: 'POST' });
    assert.equal(wrong.status, 405);
    const status = await request(`${terminal.base}/terminal/api/status`);
    assert.deepEqual(JSON.parse(status.body), { sessions: 0, lastActivity: null });
  });

  test('upgrades to other paths, bad names or from other origins are refused; no session starts', async () => {
    const base = `ws://127.0.0.1:${terminal.port}/user/alice/terminal`;
    assert.equal(await upgradeStatus(`${base}/session/1`), 404);
    assert.equal(await upgradeStatus(`${base}/socket/bad%20name`), 400);
    assert.equal(await upgradeStatus(`ws://127.0.0.1:${terminal.port}/terminal/socket/1`), 404);
    assert.equal(await upgradeStatus(`${base}/socket/1`, { Origin: 'https://evil.example' }), 403);
    assert.equal(await upgradeStatus(`${base}/socket/1`, { Origin: 'null' }), 403);
    assert.equal(terminal.server.sessions.size, 0);
    // The same origin is welcome.
    const page = await TerminalClient.connect(`${base}/socket/1`, {
      headers: { Origin: `http://127.0.0.1:${terminal.port}` },
    });
    assert.equal(terminal.server.sessions.size, 1);
    await page.close();
  });
});

describe('the shared token between proxy and terminal server', () => {
  test('with TERMINAL_SERVER_TOKEN set, requests and upgrades without it get 403 and start nothing', async () => {
    const terminal = await startTerminalServer({ TERMINAL_SERVER_TOKEN: 'between-us' });
    try {
      assert.equal((await request(`${terminal.base}/terminal/session/1`)).status, 403);
      const wrong = { 'X-Terminal-Server-Token': 'guess' };
      assert.equal((await request(`${terminal.base}/terminal/session/1`, { headers: wrong })).status, 403);
      assert.equal(await upgradeStatus(terminal.socketUrl('1')), 403);
      assert.equal(terminal.server.sessions.size, 0);
      const right = { 'X-Terminal-Server-Token': 'between-us' };
      assert.equal((await request(`${terminal.base}/terminal/session/1`, { headers: right })).status, 200);
      const page = await TerminalClient.connect(terminal.socketUrl('1'), { headers: right });
      await page.close();
    } finally {
      await terminal.close();
    }
  });
});

describe('prefix from JupyterHub', () => {
  test('JUPYTERHUB_SERVICE_PREFIX sets the prefix when URI_ROOT_PATH is not set', async () => {
    const terminal = await startTerminalServer({ JUPYTERHUB_SERVICE_PREFIX: '/user/bob/' });
    try {
      const res = await request(`http://127.0.0.1:${terminal.port}/user/bob/terminal/`);
      assert.equal(res.headers.location, '/user/bob/terminal/session/1');
    } finally {
      await terminal.close();
    }
  });
});

describe('terminal server process', () => {
  test('bad configuration stops it with one line per bad variable, no stack trace', async () => {
    const run = startProcess('dist/terminal-server/src/main.js', {
      TERMINAL_PORT: 'eighty',
      TERMINAL_HISTORY_BYTES: '12 parsecs',
      URI_ROOT_PATH: '/a/../b',
      LOG_LEVEL: 'loud',
    });
    assert.equal(await run.exited, 2);
    const lines = run.output().trim().split('\n');
    assert.equal(lines.length, 4, run.output());
    assert.match(
      run.output(),
      /^terminal-server: TERMINAL_PORT must be a whole number from 0 to 65535 \(got "eighty"\)$/m,
    );
    assert.match(run.output(), /^terminal-server: TERMINAL_HISTORY_BYTES must be a size/m);
    assert.match(run.output(), /^terminal-server: URI_ROOT_PATH must be a URL path/m);
    assert.match(run.output(), /^terminal-server: LOG_LEVEL must be one of debug, info, warn, error/m);
    assert.doesNotMatch(run.output(), /\n\s+at /, 'no stack trace');
  });

  test('listens on 127.0.0.1 only, and SIGTERM ends every shell and exits 0', async () => {
    const port = await freePort();
    const run = startProcess('dist/terminal-server/src/main.js', {
      TERMINAL_PORT: String(port),
      HOME: os.tmpdir(),
      TERMINAL_COMMAND: 'bash --norc --noprofile -i',
    });
    try {
      await eventually(() => request(`http://127.0.0.1:${port}/terminal/api/status`).then((r) => r.status === 200));
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      if (external) {
        await assert.rejects(request(`http://${external.address}:${port}/terminal/`), /ECONNREFUSED/);
      }
      const page = await TerminalClient.connect(`ws://127.0.0.1:${port}/terminal/socket/1`);
      const shell = page.pid;
      assert.ok(isAlive(shell));
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0);
      assert.equal((await page.closed).code, 4004);
      await eventually(() => !isAlive(shell), 3000, 'the shell to end');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
