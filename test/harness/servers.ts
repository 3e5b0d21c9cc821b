// Starting the real terminal server for a test: in-process through the real
// config pipeline on a free port, or as its own process.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { createAuthMode } from '../../auth-proxy/src/modes/index.js';
import { createAuthProxy } from '../../auth-proxy/src/server.js';
import { loadConfig } from '../../common/src/config.js';
import { createLogger } from '../../common/src/log.js';
import { pageAssetsDir, projectRoot } from '../../common/src/paths.js';
import type { AttachedPage } from '../../common/src/protocol.js';
import { terminalMounts } from '../../terminal-server/src/mounts.js';
import { createTerminalServer, type TerminalServer } from '../../terminal-server/src/server.js';

export interface RunningTerminalServer {
  server: TerminalServer;
  port: number;
  /** http://127.0.0.1:port + prefix */
  base: string;
  socketUrl(name: string): string;
  home: string;
  close(): Promise<void>;
}

/** Starts a terminal server in this process with the given environment on top of a clean one. */
export async function startTerminalServer(env: Record<string, string> = {}): Promise<RunningTerminalServer> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-home-'));
  const fullEnv = {
    PATH: process.env.PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    TERMINAL_PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    TERMINAL_COMMAND: JSON.stringify(['bash', '--norc', '--noprofile', '-i']),
    // Tests count their own sessions; the prestart has its own test.
    TERMINAL_PRESTART: '',
    ...env,
  };
  const config = loadConfig(fullEnv);
  const logger = createLogger('terminal-server', config.logLevel);
  const assetsDir = pageAssetsDir();
  const server = createTerminalServer({
    config,
    logger,
    assetsDir,
    env: fullEnv,
    mounts: terminalMounts({ config, logger, assetsDir }),
  });
  const port = await server.listen();
  const base = `http://127.0.0.1:${port}${config.prefix}`;
  return {
    server,
    port,
    base,
    home,
    socketUrl: (name) => `ws://127.0.0.1:${port}${config.prefix}/terminal/socket/${name}`,
    async close() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
}

/** Runs a program with a clean environment (PATH and LANG, plus `env`), collecting its output. */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  options: { detached?: boolean; cwd?: string } = {},
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Runs a script of the project (from dist/) with node, as its own process. */
export function startProcess(script: string, env: Record<string, string>): RunningProcess {
  return runProcess(process.execPath, [path.join(projectRoot(), script)], env);
}

/** What the tests read of the session API's answer. */
export interface SessionDescription {
  outputBytes: number;
  pages: number;
  attached: AttachedPage[];
}

export interface TerminalProcess {
  run: RunningProcess;
  pid: number;
  /** http://127.0.0.1:port (no prefix is set). */
  base: string;
  socketUrl(name: string): string;
  /** Resident set size of the server process in KiB (VmRSS). */
  rssKiB(): number;
  /** The session as the server's API describes it; undefined when there is none. */
  session(name: string): Promise<SessionDescription | undefined>;
  /** Stops the server (SIGTERM) and resolves with everything it wrote, once its output has ended. */
  stop(): Promise<string>;
}

/**
 * Starts the built terminal server (dist/) as its own process on a free port,
 * for tests that must see the process from outside: its memory, its log.
 */
export async function startTerminalProcess(env: Record<string, string> = {}): Promise<TerminalProcess> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-home-'));
  const port = await freePort();
  const run = startProcess('dist/terminal-server/src/main.js', {
    HOME: home,
    LOG_LEVEL: 'warn',
    TERMINAL_COMMAND: JSON.stringify(['bash', '--norc', '--noprofile', '-i']),
    // Tests count their own sessions; the prestart has its own test.
    TERMINAL_PRESTART: '',
    ...env,
    TERMINAL_PORT: String(port),
  });
  // 'close' comes once the process has exited and its output streams have ended.
  const closed = new Promise<void>((resolve) => run.child.once('close', () => resolve()));
  const pid = run.child.pid as number;
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 8000);
    await closed;
    clearTimeout(killer);
    rmSync(home, { recursive: true, force: true });
    return run.output();
  };
  try {
    await eventually(
      () => request(`${base}/terminal/api/status`).then((r) => r.status === 200),
      20_000,
      'the terminal server to start',
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; its output: ${run.output().slice(-2000)}`);
  }
  return {
    run,
    pid,
    base,
    socketUrl: (name) => `ws://127.0.0.1:${port}/terminal/socket/${name}`,
    rssKiB() {
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) throw new Error('no VmRSS for the terminal server process');
      return Number(match[1]);
    },
    async session(name) {
      const response = await request(`${base}/terminal/api/sessions/${name}`);
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw new Error(`session ${name}: HTTP ${response.status} ${response.body}`);
      return JSON.parse(response.body) as SessionDescription;
    },
    stop,
  };
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One plain HTTP request (no redirects followed). */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls until fn resolves truthy. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunningAuthProxy {
  port: number;
  base: string;
  socketUrl(name: string): string;
  close(): Promise<void>;
}

/** Starts the auth proxy in this process in front of a terminal server port. */
export async function startAuthProxy(env: Record<string, string>, terminalPort: number): Promise<RunningAuthProxy> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    ...env,
    TERMINAL_PORT: String(terminalPort),
  });
  const logger = createLogger('auth-proxy', config.logLevel);
  const proxy = createAuthProxy({ config, logger, mode: await createAuthMode(config, logger) });
  const port = await proxy.listen();
  return {
    port,
    base: `http://127.0.0.1:${port}${config.prefix}`,
    socketUrl: (name) => `ws://127.0.0.1:${port}${config.prefix}/terminal/socket/${name}`,
    close: () => proxy.close(),
  };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The status an upgrade request gets: 101 when a WebSocket opened, else the HTTP status. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
