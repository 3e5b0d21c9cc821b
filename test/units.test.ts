// Pure logic tested directly: configuration, the wire protocol, the history.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, test } from 'node:test';
import { compileTrust } from '../auth-proxy/src/client-info.js';
import { opaque } from '../auth-proxy/src/content-policy.js';
import { encryptedCookie, safeNext, shapeOf } from '../auth-proxy/src/login-session.js';
import { AUTH_MODE_RULES, chooseAuthMode } from '../auth-proxy/src/modes/choice.js';
import { ConfigError, loadConfig, normalizePrefix } from '../common/src/config.js';
import { pathUnder } from '../common/src/prefix.js';
import {
  decodeClientMessage,
  encodeAck,
  encodeAttach,
  encodeInput,
  encodeResize,
  ProtocolError,
  splitUtf8,
} from '../common/src/protocol.js';
import { History, TerminalModes } from '../terminal-server/src/history.js';
import { shellEnvironment } from '../terminal-server/src/shell-environment.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('latin1');

describe('configuration', () => {
  test('defaults', () => {
    const config = loadConfig({ HOME: '/home/x' });
    assert.equal(config.terminalPort, null);
    assert.equal(config.terminalSocket, '');
    assert.equal(config.prefix, '');
    assert.equal(config.terminalHome, '/home/x');
    assert.deepEqual(config.terminalCommand, ['bash', '-il']);
    assert.equal(config.historyBytes, 1 << 20);
    assert.ok(Object.isFrozen(config));
  });

  test('every bad variable is reported at once, naming it', () => {
    try {
      loadConfig({ TERMINAL_PORT: '70000', TERMINAL_MAX_SESSIONS: '0', TERMINAL_COMMAND: '[1]' });
      assert.fail('should throw');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 3);
      assert.match(error.problems[0] as string, /^TERMINAL_PORT /);
    }
  });

  test('sizes, prefixes and commands', () => {
    assert.equal(loadConfig({ TERMINAL_HISTORY_BYTES: '4MiB' }).historyBytes, 4 << 20);
    assert.equal(loadConfig({ TERMINAL_HISTORY_BYTES: '512k' }).historyBytes, 512 << 10);
    assert.equal(normalizePrefix('/user/alice/'), '/user/alice');
    assert.equal(normalizePrefix('/'), '');
    assert.throws(() => normalizePrefix('user'));
    assert.throws(() => normalizePrefix('/a/../b'));
    assert.throws(() => normalizePrefix('/a b'));
    assert.equal(loadConfig({ JUPYTERHUB_SERVICE_PREFIX: '/user/x/', URI_ROOT_PATH: '/other' }).prefix, '/other');
    assert.deepEqual(loadConfig({ TERMINAL_COMMAND: '["sh","-c","echo a b"]' }).terminalCommand, [
      'sh',
      '-c',
      'echo a b',
    ]);
    assert.deepEqual(loadConfig({ TERMINAL_COMMAND: ' top  -d 1 ' }).terminalCommand, ['top', '-d', '1']);
  });

  /** The problems loadConfig reports for env (with the auth modes' rules, as the supervisor checks), or []. */
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env, AUTH_MODE_RULES);
      return [];
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems;
    }
  };

  test('a bad JUPYTERHUB_SERVICE_URL or JUPYTERHUB_SERVICE_PREFIX is one problem under its own name', () => {
    const url = problems({ JUPYTERHUB_SERVICE_URL: 'ftp://hub/user/a/' });
    assert.equal(url.length, 1, url.join('\n'));
    assert.match(url[0] ?? '', /^JUPYTERHUB_SERVICE_URL must be a URL like/);
    const prefix = problems({ JUPYTERHUB_SERVICE_PREFIX: '/user/a b/' });
    assert.equal(prefix.length, 1, prefix.join('\n'));
    assert.match(prefix[0] ?? '', /^JUPYTERHUB_SERVICE_PREFIX must be a URL path/);
    assert.equal(loadConfig({ JUPYTERHUB_SERVICE_PREFIX: '/user/a/' }).prefix, '/user/a');
  });

  test('every problem at once: the rules between variables too, whichever others failed', () => {
    const found = problems({ PORT: 'eighty', AUTH_USERNAME: 'a', TERMINAL_VIEWERS: 'bob', LOG_LEVEL: 'loud' });
    assert.deepEqual(
      found.map((problem) => problem.split(' ')[0]),
      ['PORT', 'LOG_LEVEL', 'AUTH_PASSWORD', 'TERMINAL_VIEWERS'],
      found.join('\n'),
    );
    // A rule over a variable that failed is not checked: its one problem is enough.
    assert.deepEqual(problems({ TERMINAL_PORT: 'x', PORT: '10081' }).length, 1);
  });

  test('APP_PORTS, APP_DOMAIN and EDITOR_TAB: what they take, else one problem naming each', () => {
    assert.deepEqual(loadConfig({ APP_PORTS: '8080, 3000-3999' }).appPorts, [
      [8080, 8080],
      [3000, 3999],
    ]);
    assert.deepEqual(loadConfig({ APP_PORTS: 'None' }).appPorts, []);
    assert.equal(loadConfig({ APP_DOMAIN: 'Apps.Example.com.' }).appDomain, 'apps.example.com');
    for (const bad of ['0', '70000', '4000-3000', 'http', '8080-', '80;81']) {
      assert.match(problems({ APP_PORTS: bad }).join('\n'), /^APP_PORTS must be none, or ports and ranges/, bad);
    }
    for (const bad of ['localhost', 'http://apps.example.com', '*.apps.example.com', 'apps..example.com']) {
      assert.match(problems({ APP_DOMAIN: bad }).join('\n'), /^APP_DOMAIN must be a domain name/, bad);
    }
    assert.match(problems({ EDITOR_TAB: 'maybe' }).join('\n'), /^EDITOR_TAB /);
    // Each a line of its own, all at once.
    assert.equal(problems({ APP_PORTS: 'x', APP_DOMAIN: 'y', EDITOR_TAB: 'z' }).length, 3);
  });

  test('TRUST_PROXY is checked when read: what proxy-addr takes, else a problem naming it', () => {
    for (const good of [
      'true',
      'FALSE',
      '2',
      'loopback',
      '10.0.0.0/8, uniquelocal',
      '::1, fd00::/8',
      '10.1.0.0/255.255.0.0',
    ]) {
      const { trustProxy } = loadConfig({ TRUST_PROXY: good });
      assert.doesNotThrow(() => compileTrust(trustProxy), good);
    }
    for (const bad of [
      'yes please',
      '10.0.0.0/33',
      '10.0.0.1/255.0.255.0',
      'fd00::/129',
      'localhost',
      '10.0.0.0/8/8',
      ',',
    ]) {
      assert.match(problems({ TRUST_PROXY: bad }).join('\n'), /^TRUST_PROXY must be true, false, a hop count/, bad);
      if (bad !== ',') assert.throws(() => compileTrust([bad]), bad);
    }
  });

  test('values checked between variables: AUTH_USERNAME without ":", ALLOWED_HOSTS names', () => {
    assert.throws(
      () => loadConfig({ AUTH_USERNAME: 'a:b', AUTH_PASSWORD: 'secret' }, AUTH_MODE_RULES),
      (error: unknown) =>
        error instanceof ConfigError && /^AUTH_USERNAME must not contain ":"/.test(error.problems[0] ?? ''),
    );
    assert.deepEqual(loadConfig({ ALLOWED_HOSTS: 'Terminal.Example.com, .lab.example' }).allowedHosts, [
      'terminal.example.com',
      '.lab.example',
    ]);
    for (const bad of ['http://x.example', 'x.example:8080', '*,x.example', 'a b']) {
      assert.throws(() => loadConfig({ ALLOWED_HOSTS: bad }), /ALLOWED_HOSTS/, bad);
    }
  });

  test('the shell environment has no secrets and the workshop prompt', () => {
    const env = {
      HOME: '/h',
      AUTH_USERNAME: 'u',
      AUTH_PASSWORD: 'p',
      SESSION_SECRET: 's',
      JUPYTERHUB_USER: 'alice',
      KEEP: 'me',
    };
    const shell = shellEnvironment(loadConfig(env), env);
    assert.equal(shell.AUTH_PASSWORD, undefined);
    assert.equal(shell.SESSION_SECRET, undefined);
    assert.equal(shell.KEEP, 'me');
    assert.equal(shell.TERM, 'xterm-256color');
    assert.equal(shell.PS1, '[alice:\\w] $ ');
    assert.equal(shellEnvironment(loadConfig({}), {}).PS1, '[\\w] $ ');
  });
});

describe('auth mode choice', () => {
  const mode = (env: Record<string, string>) => chooseAuthMode(loadConfig(env, AUTH_MODE_RULES));

  test('AUTH_MODE wins; else JupyterHub, OpenShift, AUTH_USERNAME=*, basic, nothing', () => {
    assert.equal(mode({ AUTH_MODE: 'none', AUTH_USERNAME: 'a', AUTH_PASSWORD: 'b' }).mode, 'none');
    const hub = {
      JUPYTERHUB_CLIENT_ID: 'jupyterhub-user-a',
      JUPYTERHUB_API_TOKEN: 't',
      JUPYTERHUB_API_URL: 'http://hub:8081/hub/api',
      JUPYTERHUB_OAUTH_CALLBACK_URL: '/user/a/oauth_callback',
      JUPYTERHUB_USER: 'a',
    };
    assert.equal(mode({ ...hub, OAUTH_SERVICE_ACCOUNT: 's', AUTH_USERNAME: '*' }).mode, 'jupyterhub');
    assert.throws(
      () => loadConfig({ JUPYTERHUB_CLIENT_ID: 'c' }, AUTH_MODE_RULES),
      /JUPYTERHUB_API_TOKEN, .* must be set/,
    );
    assert.equal(
      mode({ OAUTH_SERVICE_ACCOUNT: 's', KUBERNETES_SERVICE_HOST: 'api', AUTH_USERNAME: 'a', AUTH_PASSWORD: 'b' }).mode,
      'openshift',
    );
    assert.throws(
      () => loadConfig({ OAUTH_SERVICE_ACCOUNT: 's' }, AUTH_MODE_RULES),
      /KUBERNETES_SERVICE_HOST must be set/,
    );
    assert.equal(mode({ AUTH_USERNAME: '*', AUTH_PASSWORD: 'b' }).mode, 'none');
    assert.equal(mode({ AUTH_USERNAME: 'a', AUTH_PASSWORD: 'b' }).mode, 'basic');
    assert.deepEqual(mode({}), { mode: 'none', reason: 'no authentication is configured' });
  });

  test('basic authentication needs both variables: a half-configured password never means no password', () => {
    for (const env of [{ AUTH_USERNAME: 'a' }, { AUTH_PASSWORD: 'b' }, { AUTH_MODE: 'basic' }]) {
      assert.throws(() => loadConfig(env, AUTH_MODE_RULES), /AUTH_PASSWORD and AUTH_USERNAME must both be set/);
    }
  });

  test('JUPYTERHUB_SERVICE_URL gives the host and port to listen on; an empty host means all interfaces', () => {
    const at = (url: string) => {
      const config = loadConfig({ JUPYTERHUB_SERVICE_URL: url });
      return `${config.host} ${config.port}`;
    };
    assert.equal(at('http://127.0.0.1:41234/user/a/'), '127.0.0.1 41234');
    assert.equal(at('http://:8888/user/a/'), '0.0.0.0 8888');
    assert.equal(at('http://[::1]:8888/'), '::1 8888');
    assert.equal(loadConfig({ JUPYTERHUB_SERVICE_URL: 'http://x:1/', PORT: '5', HOST: 'h' }).port, 5);
  });

  test('DEFAULT_ROUTE cannot point at another site', () => {
    assert.equal(loadConfig({ DEFAULT_ROUTE: '/terminal/session/2' }).defaultRoute, '/terminal/session/2');
    for (const bad of ['//evil.example/', 'https://evil.example/', '/a/../b', '/a\r\nX: y']) {
      assert.throws(() => loadConfig({ DEFAULT_ROUTE: bad }), /DEFAULT_ROUTE/);
    }
  });
});

describe('protocol', () => {
  test('round trips', () => {
    assert.deepEqual(decodeClientMessage(encodeInput(bytes('ls\r'))), { type: 'input', data: bytes('ls\r') });
    assert.deepEqual(decodeClientMessage(encodeResize(120, 40)), { type: 'resize', cols: 120, rows: 40 });
    assert.deepEqual(decodeClientMessage(encodeAck(2 ** 40 + 5)), { type: 'ack', position: 2 ** 40 + 5 });
    assert.deepEqual(decodeClientMessage(encodeAttach({ position: null, cols: 80, rows: 24, instance: 'Ab-9_' })), {
      type: 'attach',
      position: null,
      cols: 80,
      rows: 24,
      instance: 'Ab-9_',
    });
  });

  test('invalid frames throw ProtocolError', () => {
    const negative = encodeAck(0);
    new DataView(negative.buffer).setFloat64(1, -3);
    const fraction = encodeAck(0);
    new DataView(fraction.buffer).setFloat64(1, 1.5);
    for (const frame of [
      new Uint8Array(0),
      new Uint8Array([9]),
      encodeResize(1, 24),
      encodeResize(80, 0),
      encodeResize(1001, 24),
      negative,
      fraction,
      new Uint8Array([4, 1, 2]),
    ]) {
      assert.throws(() => decodeClientMessage(frame), ProtocolError);
    }
  });

  test('splitUtf8 never cuts a character', () => {
    const input = bytes('aé日🙂'.repeat(5000));
    for (const max of [1, 2, 3, 5, 16, 1000]) {
      const pieces = splitUtf8(input, max);
      assert.deepEqual(Buffer.concat(pieces), Buffer.from(input));
      for (const piece of pieces) {
        assert.ok(piece.length <= Math.max(max, 4));
        if (max >= 4) assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(piece));
      }
    }
  });
});

describe('history', () => {
  test('since() gives exactly the bytes after a position', () => {
    const history = new History(1000);
    history.append(bytes('hello '));
    history.append(bytes('world\n'));
    history.append(bytes('again'));
    assert.equal(history.end, 17);
    assert.equal(text(history.since(0) ?? []), 'hello world\nagain');
    assert.equal(text(history.since(3) ?? []), 'lo world\nagain');
    assert.equal(text(history.since(12) ?? []), 'again');
    assert.deepEqual(history.since(17), []);
    assert.equal(history.since(18), null);
  });

  test('keeps at least the budget, dropping whole chunks from the front', () => {
    const history = new History(10);
    for (let i = 0; i < 10; i++) history.append(bytes(`${i}abcd\n`));
    assert.ok(history.size >= 10 && history.size < 16);
    assert.equal(history.start, history.end - history.size);
    assert.equal(history.since(0), null);
    const replay = history.replay(0);
    assert.equal(replay.reset, true);
    assert.equal(text(replay.chunks), '9abcd\n');
    assert.equal(replay.position + text(replay.chunks).length, history.end, 'page position ends at the end');
  });

  test('replay restores tracked modes before history from a line start', () => {
    const history = new History(16);
    history.append(bytes('\x1b[?1049h\x1b[?2004h\x1b[?25l'));
    for (let i = 0; i < 10; i++) history.append(bytes(`line ${i}\n`));
    const replay = history.replay(null);
    const replayed = text(replay.chunks);
    assert.ok(replayed.startsWith('\x1b[?1049h'), JSON.stringify(replayed));
    assert.match(replayed, /\x1b\[\?2004h/);
    assert.match(replayed, /\x1b\[\?25l/);
    assert.equal(replay.position + replayed.length, history.end);
  });

  test('mode tracking survives sequences split across chunks, and turning modes off', () => {
    const modes = new TerminalModes();
    modes.scan(bytes('abc\x1b'));
    modes.scan(bytes('[?1049'));
    modes.scan(bytes('h more'));
    assert.equal(modes.isSet(1049), true);
    modes.scan(bytes('x\x1b[?1;2004hy'));
    assert.equal(modes.isSet(1), true);
    assert.equal(modes.isSet(2004), true);
    modes.scan(bytes('\x1b[?1049l\x1b[?1l'));
    assert.equal(modes.isSet(1049), false);
    assert.equal(modes.isSet(1), false);
    assert.equal(text([modes.restoreSequence()]), '\x1b[?2004h');
  });
});

describe('the prefix rule', () => {
  test('a path is under a prefix when it is the prefix or goes on after a slash, compared with its case', () => {
    assert.equal(pathUnder('/user/alice', '/user/alice'), '');
    assert.equal(pathUnder('/user/alice', '/user/alice/'), '/');
    assert.equal(pathUnder('/user/alice', '/user/alice/terminal/x'), '/terminal/x');
    assert.equal(pathUnder('', '/terminal/x'), '/terminal/x');
    for (const path of ['/user/alicex', '/user/alice-x/', '/USER/ALICE/', '/user/Alice', '/user', '/', ''])
      assert.equal(pathUnder('/user/alice', path), null, path);
  });

  test("a mode's own routes (logins) compare with their case", async () => {
    const { modeRoutes } = await import('../auth-proxy/src/modes/routes.js');
    const routes = modeRoutes('/user/alice', (router) =>
      router.get('/oauth_handshake', (_req, res) => res.end('login')),
    );
    const server = http.createServer((req, res) => routes(req, res, () => res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const status = (path: string) =>
      new Promise<number>((resolve, reject) =>
        http
          .get({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', path }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject),
      );
    try {
      assert.equal(await status('/user/alice/oauth_handshake'), 200);
      assert.equal(await status('/user/alice/OAUTH_HANDSHAKE'), 404);
      assert.equal(await status('/USER/ALICE/oauth_handshake'), 404);
    } finally {
      server.close();
    }
  });

  test('the redirect after a login follows the same rule', () => {
    assert.equal(safeNext('/user/alice', '/USER/ALICE/terminal/'), '/user/alice/');
    assert.equal(safeNext('/user/alice', '/user/alice'), '/user/alice');
  });
});

describe('login cookies', () => {
  const shape = shapeOf<{ user: string; token: string }>({ user: 'string', token: 'string' });
  const jar = (name: string) =>
    encryptedCookie({ name, secrets: ['s3cret-for-tests'], path: '/', maxAgeSeconds: 60, shape });
  const client = { address: '127.0.0.1', protocol: 'http' as const, host: 'localhost' };
  function sealed(name: string, value: unknown): string {
    const res = new http.ServerResponse(new http.IncomingMessage(new net.Socket()));
    (jar(name) as ReturnType<typeof jar>).write(res, value as { user: string; token: string }, client);
    const header = String(res.getHeader('Set-Cookie'));
    return (header.split(';')[0] ?? '').split('=')[1] ?? '';
  }
  const read = (name: string, value: string) => {
    const req = new http.IncomingMessage(new net.Socket());
    req.headers.cookie = `${name}=${value}`;
    return jar(name).read(req);
  };

  test('a value reads back only under the name it was sealed for', () => {
    const value = sealed('login-a', { user: 'alice', token: 't' });
    assert.deepEqual(read('login-a', value), { user: 'alice', token: 't' });
    assert.equal(read('login-b', value), null);
  });

  test('a value of another shape is not used', () => {
    assert.equal(read('login-a', sealed('login-a', { user: 'alice' })), null);
    assert.equal(read('login-a', sealed('login-a', { user: 'alice', token: 1 })), null);
    assert.equal(read('login-a', sealed('login-a', ['alice', 't'])), null);
    assert.equal(read('login-a', sealed('login-a', { user: 'alice', token: 't', admin: true })), null);
  });

  test('next stays a path under the prefix, normalised as a browser would', () => {
    assert.equal(safeNext('/user/alice', '/user/alice/terminal/?a=1'), '/user/alice/terminal/?a=1');
    for (const next of [
      '/user/alice/../bob/',
      '/user/alice/%2e%2e/bob/',
      '/user/alice/..%2fbob/x/../../../hub/logout',
      '//evil.example/user/alice/',
      '/\\evil.example',
      'https://evil.example/user/alice/',
      '/user/alice-x/',
      '/user/alice/\r\nSet-Cookie: x=1',
    ]) {
      const safe = safeNext('/user/alice', next);
      assert.match(safe, /^\/user\/alice(\/|$)/, next);
      assert.equal(new URL(safe, 'http://h').pathname.startsWith('/user/alice/'), true, next);
    }
  });
});

describe('policies from the terminal server', () => {
  test('only a sandbox without allow-same-origin counts as opaque (and may stand in for our script rules)', () => {
    assert.equal(opaque("sandbox; default-src 'none'"), true);
    assert.equal(opaque("sandbox allow-scripts allow-popups; script-src 'self' 'unsafe-inline'"), true);
    assert.equal(opaque("SANDBOX Allow-Scripts; default-src 'self'"), true);
    assert.equal(opaque('sandbox allow-scripts allow-same-origin'), false);
    assert.equal(opaque('sandbox; sandbox allow-same-origin'), false);
    assert.equal(opaque("script-src 'self'"), false);
    assert.equal(opaque("sandbox, script-src 'unsafe-inline'"), false, 'a list of policies is not one policy');
  });
});
