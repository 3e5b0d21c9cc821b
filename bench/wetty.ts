// The peer we compare with: wetty (the npm package, a devDependency), run as its
// own process on 127.0.0.1 with a command and no login, and a headless page for
// it that speaks its wire (socket.io) and flow control as its browser page does.
//
// wetty's wire, from its server and client code: the server emits 'login' once
// the pty is spawned, then 'data' (a string: node-pty's UTF-8 decoding, batched
// by a 2 ms timer or at 512 Ki characters) and 'logout' when the program exits;
// the page emits 'input' (a string), 'resize' ({cols, rows}) and 'commit' (every
// 256 Ki characters written: the server pauses the pty at 2 Mi characters
// uncommitted and resumes below 512 Ki).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { projectRoot } from '../common/src/paths.js';
import { freePort, isAlive, request, runProcess } from '../test/harness/servers.js';
import { descendants } from './processes.js';

const BASE = '/wetty';
/** What wetty's page commits at a time, and how often (characters). */
const COMMIT_CHARS = 262_144;

export function wettyVersion(): string {
  const file = path.join(projectRoot(), 'node_modules', 'wetty', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export interface WettyProcess {
  pid: number;
  port: number;
  /** The page: http://127.0.0.1:<port>/wetty */
  pageUrl: string;
  /** ms from spawning wetty to its page answering 200. */
  startMs: number;
  /** Everything wetty printed. */
  output(): string;
  /** Stops wetty and whatever it started. */
  stop(): Promise<void>;
}

/**
 * Starts wetty running `command` for every connection. wetty runs it as
 * `/usr/bin/env -S <command>` (so it is split into words by env) in its own
 * working directory, without login only when it runs as root and its ssh host
 * is localhost (the defaults); as another user it would ssh to localhost.
 */
export async function startWetty(command: string, cwd: string): Promise<WettyProcess> {
  if (process.getuid?.() !== 0) throw new Error('wetty runs a command without login only as root');
  const main = path.join(projectRoot(), 'node_modules', 'wetty', 'build', 'main.js');
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-wetty-'));
  const port = await freePort();
  const started = performance.now();
  const run = runProcess(
    process.execPath,
    [main, '--host', '127.0.0.1', '--port', String(port), '--base', BASE, '--command', command, '--log-level', 'warn'],
    { HOME: home, NODE_ENV: 'production' },
    { cwd },
  );
  const { child, output } = run;
  let exited = false;
  const exit = run.exited.then(() => {
    exited = true;
  });
  const pid = child.pid as number;
  const pageUrl = `http://127.0.0.1:${port}${BASE}`;
  const wetty: WettyProcess = {
    pid,
    port,
    pageUrl,
    startMs: 0,
    output,
    async stop() {
      const below = descendants(pid);
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(killer);
      }
      // The programs on its ptys get a hang-up when it goes; anything left is killed.
      await new Promise((r) => setTimeout(r, 100));
      for (const p of [...below, ...descendants(pid)]) {
        if (isAlive(p.pid)) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            // Gone meanwhile.
          }
        }
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      await wetty.stop();
      throw new Error(`wetty did not start: ${output().trim().slice(-2000)}`);
    }
    const status = await request(pageUrl).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  wetty.startMs = performance.now() - started;
  return wetty;
}

export interface WettyClientOptions {
  cols?: number;
  rows?: number;
  /** Called with every 'data' message (a string). */
  onOutput?: (text: string) => void;
}

/**
 * A headless wetty page: connects with socket.io (the WebSocket transport
 * straight away, where the browser page starts with HTTP long-polling and then
 * upgrades), sends its size once the program runs ('login', as the page does),
 * and commits output every 256 Ki characters as the page does once xterm.js has
 * written them (here: as soon as they arrive, like a fast page).
 */
export class WettyClient {
  /** Characters received. */
  received = 0;
  /** performance.now() of the 'logout' (the program exited); 0 before. */
  logoutAt = 0;
  /** performance.now() of the last 'data'; 0 before. */
  lastDataAt = 0;
  readonly loggedOut: Promise<void>;
  private uncommitted = 0;

  private constructor(
    readonly socket: Socket,
    options: WettyClientOptions,
  ) {
    this.loggedOut = new Promise((resolve) => {
      socket.on('logout', () => {
        this.logoutAt = performance.now();
        resolve();
      });
      socket.on('disconnect', () => resolve());
    });
    socket.on('data', (data: string) => {
      this.received += data.length;
      this.lastDataAt = performance.now();
      options.onOutput?.(data);
      this.uncommitted += data.length;
      if (this.uncommitted >= COMMIT_CHARS) {
        this.uncommitted -= COMMIT_CHARS;
        socket.emit('commit', COMMIT_CHARS);
      }
    });
  }

  /** Connects and resolves once wetty has spawned the program ('login'). */
  static async connect(wetty: { port: number }, options: WettyClientOptions = {}): Promise<WettyClient> {
    const socket = io(`http://127.0.0.1:${wetty.port}`, {
      path: `${BASE}/socket.io`,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const client = new WettyClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('wetty did not start the program within 10 s')), 10_000);
      socket.once('login', () => {
        clearTimeout(timer);
        socket.emit('resize', { cols: options.cols ?? 80, rows: options.rows ?? 24 });
        resolve();
      });
      socket.once('connect_error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    return client;
  }

  type(text: string): void {
    this.socket.emit('input', text);
  }

  /** Waits until the predicate holds (checked on every message and every 50 ms). */
  async waitFor(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.socket.disconnect();
  }
}
