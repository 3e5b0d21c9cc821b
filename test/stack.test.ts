// The whole stack as `npm start` runs it: supervisor/start.sh → pm2-runtime →
// auth proxy + terminal server (+ extra apps), as real processes.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../common/src/paths.js';
import { FILES_API_PATH, FILES_HEADER } from '../common/src/protocol.js';
import { startChromium, waitForScreen } from './harness/browser.js';
import { eventually, freePort, isAlive, request, runProcess } from './harness/servers.js';
import { portFree, type Stack, startStack, stopStack, waitReady } from './harness/stack.js';
import { TerminalClient } from './harness/terminal-client.js';
import { requireTool } from './harness/tools.js';

/** The Unix socket linking the stack's auth proxy and terminal server. */
function linkSocket(stack: Stack & { tmp: string }): string {
  const home = readdirSync(stack.tmp).find((name) => name.startsWith('workshop-pm2-')) as string;
  const link = readdirSync(path.join(stack.tmp, home)).find((name) => name.startsWith('link-')) as string;
  return path.join(stack.tmp, home, link, 'terminal.sock');
}

/** Every file below dir, with its size. */
function filesUnder(dir: string): { name: string; size: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const name = path.join(entry.parentPath, entry.name);
      return { name, size: statSync(name).size };
    });
}

/** Every process below pid, from /proc. */
function descendants(pid: number): { pid: number; command: string }[] {
  const children = new Map<number, number[]>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
    } catch {
      // the process ended while being read
    }
  }
  const result: { pid: number; command: string }[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      result.push({ pid: child, command: commands.get(child) ?? '' });
      queue.push(child);
    }
  }
  return result;
}

function pidOf(stack: Stack, script: string): number | undefined {
  return descendants(stack.child.pid as number).find((p) => p.command.includes(script))?.pid;
}

describe('the stack under pm2', () => {
  let stack: Stack & { tmp: string };
  let appsDir: string;
  before(async () => {
    appsDir = mkdtempSync(path.join(os.tmpdir(), 'wt-apps-'));
    writeFileSync(
      path.join(appsDir, 'extra.config.js'),
      `module.exports = { apps: [{ name: 'extra-service', script: ${JSON.stringify(path.join(appsDir, 'extra.js'))} }] };\n`,
    );
    writeFileSync(
      path.join(appsDir, 'extra.js'),
      `require('fs').writeFileSync(${JSON.stringify(path.join(appsDir, 'ran'))}, String(process.pid));\nconsole.log('extra service up');\nsetInterval(() => {}, 1000);\n`,
    );
    stack = await startStack({
      AUTH_USERNAME: 'grumpy',
      AUTH_PASSWORD: 'secret',
      PM2_APPS_DIR: appsDir,
    });
    await waitReady(stack);
  });
  after(async () => {
    await stopStack(stack);
    rmSync(appsDir, { recursive: true, force: true });
  });

  const auth = { Authorization: `Basic ${Buffer.from('grumpy:secret').toString('base64')}` };

  test('the terminal server is reached by a private Unix socket, and answers only the proxy', async () => {
    const socket = linkSocket(stack);
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(socket)).mode & 0o777, 0o700, 'a folder only this user can open');
    const direct = await new Promise<number>((resolve, reject) =>
      http
        .get({ socketPath: socket, path: '/terminal/session/1' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject),
    );
    assert.equal(direct, 403, 'without the token the proxy shows it');
    assert.doesNotMatch(stack.output(), /listening address=127\.0\.0\.1:10081/);
  });

  test('basic authentication is on when the two variables are set', async () => {
    assert.equal((await request(`http://127.0.0.1:${stack.port}/terminal/session/1`)).status, 401);
    assert.equal((await request(`http://127.0.0.1:${stack.port}/terminal/session/1`, { headers: auth })).status, 200);
  });

  test('a flood of wrong passwords: a few log lines and a count, and no log files that grow', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
    const wrong = { Authorization: `Basic ${Buffer.from('grumpy:wrong').toString('base64')}` };
    let answered = 0;
    const one = () =>
      new Promise<void>((resolve) => {
        // From an address of its own (all of 127/8 is this machine): the other tests' turns stay theirs.
        const url = `http://127.0.0.1:${stack.port}/terminal/session/1`;
        const req = http.get(url, { agent, headers: wrong, localAddress: '127.0.0.2' }, (res) => {
          res.resume();
          res.on('end', () => {
            answered++;
            resolve();
          });
        });
        // An attempt that got a turn waits for it: this flood does not.
        req.setTimeout(500, () => req.destroy());
        req.on('error', () => resolve());
      });
    for (let round = 0; round < 40; round++) await Promise.all(Array.from({ length: 50 }, one));
    agent.destroy();
    assert.ok(answered >= 1900, `${answered} of 2000 answered`);
    await eventually(() => /auth\.refused/.test(stack.output()), 5000, 'a refusal in the log');
    const lines = stack.output().split('\n');
    const refusals = lines.filter((line) => /auth-proxy.*auth\.(refused|challenge) /.test(line));
    assert.ok(refusals.length <= 12, `${refusals.length} refusal lines:\n${refusals.slice(0, 20).join('\n')}`);
    const home = readdirSync(stack.tmp).find((name) => name.startsWith('workshop-pm2-'));
    assert.ok(home, 'the temporary PM2_HOME');
    // Logs go to stdout only: pm2 writes none of its own files, which nothing would rotate.
    const written = filesUnder(path.join(stack.tmp, home)).filter((file) => /\.log$|\/logs\//.test(file.name));
    const bytes = written.reduce((sum, file) => sum + file.size, 0);
    assert.equal(bytes, 0, `pm2 wrote ${written.map((f) => `${f.name} ${f.size}`).join(', ')}`);
  });

  test('an extra app from the apps folder runs, with its logs named', async () => {
    await eventually(() => existsSync(path.join(appsDir, 'ran')), 10_000, 'the extra app to run');
    await eventually(() => /extra-service\s*\| extra service up/.test(stack.output()), 5000, 'its named log line');
    assert.match(stack.output(), /terminal-server\s*\| .* listening/);
    assert.match(stack.output(), /auth-proxy\s*\| .* listening/);
  });

  test('the shell does not see the secrets or pm2 variables, and finds the shell’s own commands', async () => {
    const page = await TerminalClient.connect(`ws://127.0.0.1:${stack.port}/terminal/socket/env`, { headers: auth });
    page.type('env | sort | tr "\\n" " "; echo EN""D\r');
    await page.waitFor(/END\r\n/);
    const env = page.text();
    assert.doesNotMatch(env, /AUTH_PASSWORD|secret/);
    assert.doesNotMatch(env, /\bpm_id=|PM2_HOME=|\bpm_exec_path=/);
    assert.match(env, /TERM=xterm-256color/);
    // The shell's own commands (`download`) are there, after the machine's.
    assert.ok(env.includes(`:${path.join(projectRoot(), 'shell', 'bin')} `), 'shell/bin last on PATH');
    await page.close();
  });

  test('a killed terminal server is restarted and readiness recovers', async () => {
    const before = pidOf(stack, 'dist/terminal-server/src/main.js');
    assert.ok(before, 'terminal server running');
    process.kill(before, 'SIGKILL');
    await eventually(
      () => {
        const now = pidOf(stack, 'dist/terminal-server/src/main.js');
        return now !== undefined && now !== before;
      },
      10_000,
      'a new terminal server',
    );
    await waitReady(stack);
  });

  test('restarting the auth proxy alone: the page reconnects to the same session, no byte lost', async () => {
    const url = `ws://127.0.0.1:${stack.port}/terminal/socket/keep`;
    const page = await TerminalClient.connect(url, { headers: auth });
    page.type('stty -echo; for i in $(seq 1 400); do echo "n$i"; sleep 0.005; done; echo FIN""ISHED\r');
    await page.waitFor('n20\r\n');
    const proxyPid = pidOf(stack, 'dist/auth-proxy/src/main.js') as number;
    process.kill(proxyPid, 'SIGKILL');
    await page.closed;
    let seen = page.text();
    // Reconnect as the page does: with its position and the session instance.
    const back = (await eventually(
      () =>
        TerminalClient.connect(url, { headers: auth, position: page.position, instance: page.instance }).catch(
          () => undefined,
        ),
      15_000,
      'the proxy to come back',
    )) as TerminalClient;
    assert.equal((await back.attached).reset, false, 'an exact continuation');
    assert.equal(back.pid, page.pid, 'the same shell');
    await back.waitFor('FINISHED\r\n', 15_000);
    seen += back.text();
    const numbers = [...seen.matchAll(/n(\d+)\r\n/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      numbers,
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    await back.close();
  });
});

describe('the auth proxy and the terminal server over their private socket', () => {
  let stack: Stack & { tmp: string };
  let home: string;
  before(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'wt-socket-home-'));
    stack = await startStack({ TERMINAL_HOME: home });
    await waitReady(stack);
  });
  after(async () => {
    await stopStack(stack);
    rmSync(home, { recursive: true, force: true });
  });

  test('requests with a body get the terminal server’s own answer over the private socket, never a 502', async () => {
    // Sent as a browser may: the head, then the body a moment later. The
    // terminal server answers some before their body arrives (a wrong method)
    // and the rest after reading it (a save of a file that is not there). A
    // connection it closed after each answer failed a few in a hundred of
    // these with EPIPE on the socket, and the page got the proxy’s 502.
    const origin = `http://127.0.0.1:${stack.port}`;
    const send = (method: string, target: string, body: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(stack.port, '127.0.0.1', () => {
          socket.write(
            `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${stack.port}\r\nOrigin: ${origin}\r\n` +
              `Sec-Fetch-Site: same-origin\r\n${FILES_HEADER}: 1\r\n` +
              `Content-Type: application/octet-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`,
          );
          setImmediate(() => socket.write(body));
        });
        let answer = '';
        socket.setEncoding('latin1');
        const statusLine = () => answer.slice(0, answer.indexOf('\r\n'));
        socket.on('data', (chunk) => {
          answer += chunk;
          const head = answer.indexOf('\r\n\r\n');
          const length = /\r\ncontent-length: (\d+)/i.exec(answer.slice(0, head))?.[1];
          if (head >= 0 && length !== undefined && answer.length >= head + 4 + Number(length)) {
            socket.destroy();
            resolve(statusLine());
          }
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(statusLine()));
      });
    const statuses = new Map<string, number>();
    const missing = `/${FILES_API_PATH}/write?path=not-there.txt&version=gone`;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) {
          for (const [method, target] of [
            ['POST', `/${FILES_API_PATH}/write?path=a.txt&version=new`],
            ['PUT', missing],
          ] as const) {
            const line = await send(method, target, `text ${i}\n`);
            statuses.set(line, (statuses.get(line) ?? 0) + 1);
          }
        }
      }),
    );
    assert.deepEqual(
      Object.fromEntries(statuses),
      { 'HTTP/1.1 405 Method Not Allowed': 400, 'HTTP/1.1 409 Conflict': 400 },
      'each its own answer',
    );
  });
});

describe('a restart of the terminal server, in Chromium', () => {
  test('the README’s first command, as written: its URL opens in a browser and the log names it', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    const readme = readFileSync(path.join(projectRoot(), 'README.md'), 'utf8');
    const url = readme.match(/^Then open <(http:\/\/localhost:\d+)>/m)?.[1];
    assert.ok(url, 'the README says which URL to open');
    const port = Number(new URL(url).port);
    if (!(await portFree(port))) {
      const message = `port ${port}, the README's, is taken on this machine`;
      if (process.env.CI) assert.fail(message);
      t.skip(message);
      return;
    }
    const stack = await startStack({}, port);
    const browser = await startChromium();
    try {
      await waitReady(stack);
      assert.match(stack.output(), new RegExp(`auth-proxy listening .* open=${url}/(\\s|$)`, 'm'));
      const page = await browser.newPage();
      const response = await page.goto(url);
      assert.equal(response?.status(), 200);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo opened-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^opened-42$/m);
    } finally {
      await browser.close();
      await stopStack(stack);
    }
  });

  test('the page comes back by itself, says the shell ended, and Enter starts a new one', async (t) => {
    if (!requireTool(t, 'chromium')) return;
    const stack = await startStack({ AUTH_USERNAME: '*' });
    const browser = await startChromium();
    try {
      await waitReady(stack);
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${stack.port}/terminal/session/1`);
      await waitForScreen(page, /\$ $/m);
      await page.keyboard.type('echo before-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^before-42$/m);
      const old = pidOf(stack, 'dist/terminal-server/src/main.js') as number;
      process.kill(old, 'SIGKILL');
      await page.waitForFunction(() => document.documentElement.dataset.state === 'exited', null, { timeout: 30_000 });
      assert.match(String(await page.textContent('#status')), /has ended.*terminal server restarted/);
      assert.notEqual(pidOf(stack, 'dist/terminal-server/src/main.js'), old, 'pm2 restarted it');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.documentElement.dataset.state === 'connected');
      await page.keyboard.type('echo after-$((6*7))');
      await page.keyboard.press('Enter');
      await waitForScreen(page, /^after-42$/m);
    } finally {
      await browser.close();
      await stopStack(stack);
    }
  });
});

describe('stopping and bad configuration', () => {
  test('SIGTERM stops every process within 3 s, exit code 0, and leaves no pm2 folder', async () => {
    const stack = await startStack({ AUTH_USERNAME: '*' });
    try {
      await waitReady(stack);
      const page = await TerminalClient.connect(`ws://127.0.0.1:${stack.port}/terminal/socket/1`);
      const processes = descendants(stack.child.pid as number);
      assert.ok(
        processes.some((p) => p.pid === page.pid),
        'the shell is part of the stack',
      );
      assert.ok(processes.length >= 4, processes.map((p) => p.command).join('\n'));
      const start = performance.now();
      stack.child.kill('SIGTERM');
      assert.equal(await stack.exited, 0, stack.output());
      assert.ok(performance.now() - start < 3000, `stopped after ${Math.round(performance.now() - start)} ms`);
      await eventually(() => processes.every((p) => !isAlive(p.pid)), 2000, 'every process to be gone');
      assert.deepEqual(readdirSync(stack.tmp), [], 'no temporary pm2 folder left');
    } finally {
      await stopStack(stack);
    }
  });

  test('`npm start` stopped by a signal to npm’s own process (as a spawner sends it) leaves nothing running', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'wt-npm-'));
    const port = await freePort();
    const npm = runProcess(
      'npm',
      ['start'],
      { HOME: process.env.HOME, TMPDIR: tmp, PORT: String(port), AUTH_USERNAME: '*' },
      { cwd: projectRoot(), detached: true },
    );
    let processes: { pid: number; command: string }[] = [];
    try {
      // npm builds first: the stack is ready once the build and the start are done.
      await eventually(
        () => request(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200),
        120_000,
        `the stack to be ready; output:\n${npm.output()}`,
      );
      processes = descendants(npm.child.pid as number);
      assert.ok(processes.length >= 4, processes.map((p) => p.command).join('\n'));
      process.kill(npm.child.pid as number, 'SIGTERM');
      await npm.exited;
      await eventually(
        () => processes.every((p) => !isAlive(p.pid)),
        10_000,
        `every process to be gone: ${processes.filter((p) => isAlive(p.pid)).map((p) => p.command)}`,
      );
    } finally {
      for (const pid of [-(npm.child.pid as number), ...processes.map((p) => p.pid)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('two stacks on one host, nothing set but their public ports: both work', async () => {
    const stacks = await Promise.all([startStack({ AUTH_USERNAME: '*' }), startStack({ AUTH_USERNAME: '*' })]);
    try {
      await Promise.all(stacks.map(waitReady));
      const pages = await Promise.all(
        stacks.map((stack) => TerminalClient.connect(`ws://127.0.0.1:${stack.port}/terminal/socket/1`)),
      );
      for (const [i, page] of pages.entries()) page.type(`echo stack-${i}-$((6*7))\r`);
      await Promise.all(pages.map((page, i) => page.waitFor(`stack-${i}-42`)));
      assert.notEqual(pages[0]?.pid, pages[1]?.pid);
      await Promise.all(pages.map((page) => page.close()));
    } finally {
      await Promise.all(stacks.map(stopStack));
    }
  });

  test('a second stack given the PM2_HOME of a running one refuses with one line; the first goes on untouched', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'wt-pm2-home-'));
    const first = await startStack({ AUTH_USERNAME: '*', PM2_HOME: home });
    let second: Awaited<ReturnType<typeof startStack>> | undefined;
    try {
      await waitReady(first);
      const servers = () =>
        ['terminal-server/src/main.js', 'auth-proxy/src/main.js'].map((script) => pidOf(first, script));
      const before = servers();
      assert.ok(before.every(Boolean), 'the first stack’s servers run');
      second = await startStack({ AUTH_USERNAME: '*', PM2_HOME: home });
      const started = second;
      // It stops, or it hands its apps to the first one's pm2, which restarts the first one's servers.
      const outcome = await eventually(
        async () => {
          if (started.child.exitCode !== null) return `exit ${started.child.exitCode}`;
          if (servers().some((pid, i) => pid !== undefined && pid !== before[i])) return 'took over the first stack';
          const ready = await request(`http://127.0.0.1:${started.port}/readyz`).catch(() => null);
          return ready?.status === 200 ? 'started' : null;
        },
        20_000,
        'the second stack to stop or start',
      );
      assert.equal(outcome, 'exit 2', second.output());
      assert.match(
        second.output().trim(),
        new RegExp(`^supervisor: PM2_HOME ${home} is in use by a running pm2[^\n]*$`),
      );
      assert.deepEqual(servers(), before, 'the first stack’s servers were not restarted');
      assert.equal((await request(`http://127.0.0.1:${first.port}/readyz`)).status, 200);
    } finally {
      if (second) await stopStack(second);
      await stopStack(first);
      rmSync(home, { recursive: true, force: true });
    }
  });

  test('TERMINAL_PORT still works when set; a value that cannot work stops the start with one line', async () => {
    const terminalPort = await freePort();
    const stack = await startStack({ AUTH_USERNAME: '*', TERMINAL_PORT: String(terminalPort) });
    try {
      await waitReady(stack);
      const direct = await request(`http://127.0.0.1:${terminalPort}/terminal/session/1`);
      assert.equal(direct.status, 403, 'the terminal server is on that port, for the proxy only');
      const taken = await startStack({ AUTH_USERNAME: '*', TERMINAL_PORT: String(terminalPort) });
      assert.equal(await taken.exited, 2);
      await stopStack(taken);
      assert.match(taken.output().trim(), new RegExp(`^supervisor: TERMINAL_PORT ${terminalPort} is in use[^\n]*$`));
    } finally {
      await stopStack(stack);
    }
    const zero = await startStack({ AUTH_USERNAME: '*', TERMINAL_PORT: '0' });
    assert.equal(await zero.exited, 2);
    await stopStack(zero);
    assert.match(zero.output().trim(), /^supervisor: TERMINAL_PORT=0 cannot work[^\n]*$/);
  });

  test('a bad variable stops the start with one line naming it', async () => {
    // Everything else valid: the rules between variables are checked beside a bad one, and would add their lines.
    const stack = await startStack({ AUTH_USERNAME: 'grumpy', AUTH_PASSWORD: 'correct horse', PORT: 'x' });
    assert.equal(await stack.exited, 2);
    await stopStack(stack);
    const lines = stack.output().trim().split('\n');
    assert.deepEqual(lines, ['supervisor: PORT must be a whole number from 0 to 65535 (got "x")']);
  });
});
