// The peers of the side-by-side benchmark, each its own process(es) on 127.0.0.1
// running one `bash --norc` per connection, behind one small interface: open a
// connection, type, see output, and which processes are the server (for CPU and
// memory). Ours is the whole stack as users run it (supervisor/start.sh: pm2,
// the auth proxy and the terminal server on their private Unix socket), driven by
// the page's own protocol client; ttyd (when TTYD names its binary), wetty and a
// naive node-pty + ws server are driven by clients of their own protocols.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { WebSocket } from 'ws';
import { projectRoot } from '../../common/src/paths.js';
import { eventually, freePort, isAlive, request } from '../../test/harness/servers.js';
import { TerminalClient } from '../../test/harness/terminal-client.js';
import { commandLine, descendants } from '../processes.js';
import { startWetty, WettyClient } from '../wetty.js';

/** What every connection runs. */
export const SHELL = ['bash', '--norc'];

export type PeerName = 'ours' | 'ttyd' | 'wetty' | 'naive';

export interface PeerLink {
  /** Sends typed text. */
  type(text: string): void;
  /** Settles once the connection has closed. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface Peer {
  readonly name: PeerName;
  /** Name and version, for the report. */
  readonly label: string;
  /** ms from starting the peer to its being ready for connections. */
  readonly startMs: number;
  /** Where its WebSocket for a session is (the others ignore the session). */
  socketUrl(session: string): string;
  /** The processes that serve (not the shells they run): their CPU and memory count as the peer's. */
  serverPids(): number[];
  /** Every process the peer runs (idle: no shells), for the memory of the whole. */
  allPids(): number[];
  /** Opens a connection to a session (ours: by name; the others start a new shell per connection). */
  open(session: string, onOutput: (chunk: Uint8Array | string) => void): Promise<PeerLink>;
  stop(): Promise<void>;
}

/** The pid and every process below it. */
const tree = (pid: number) => [pid, ...descendants(pid).map((p) => p.pid)];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a process and everything below it: SIGTERM to it (and its group when it leads one), then SIGKILL. */
async function stopTree(child: ChildProcess, group: boolean): Promise<void> {
  const pid = child.pid as number;
  const tree = [pid, ...descendants(pid).map((p) => p.pid)];
  try {
    process.kill(group ? -pid : pid, 'SIGTERM');
  } catch {
    // Gone already.
  }
  const deadline = Date.now() + 8000;
  while (tree.some(isAlive) && Date.now() < deadline) await sleep(20);
  for (const p of tree.filter(isAlive)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** A WebSocket link: `send` frames what is typed; `onMessage` gets every message. */
function webSocketLink(
  url: string,
  protocols: string[],
  encodeInput: (text: string) => Buffer,
  onOpen: (socket: WebSocket) => void,
  onMessage: (data: Buffer, isBinary: boolean) => void,
): Promise<PeerLink> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.on('message', (data: Buffer, isBinary) => onMessage(data, isBinary));
    socket.once('open', () => {
      socket.off('error', reject);
      // ttyd closes with 1006 after a shell that exited non-zero, which ws reports as an error: the close follows.
      socket.on('error', () => {});
      onOpen(socket);
      resolve({
        type: (text) => socket.send(encodeInput(text)),
        closed,
        close: async () => {
          if (socket.readyState !== WebSocket.CLOSED) socket.close();
          await closed;
        },
      });
    });
  });
}

/** Ours: `bash supervisor/start.sh` (dist/), no authentication, the default embedded set-up. */
export async function startOurs(): Promise<Peer> {
  const root = projectRoot();
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-ours-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn('bash', [path.join(root, 'supervisor', 'start.sh')], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: home,
      TMPDIR: home,
      PORT: String(port),
      TERMINAL_COMMAND: JSON.stringify(SHELL),
      PM2_APPS_DIR: path.join(home, 'no-apps'),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
    detached: true,
  });
  const stop = async () => {
    await stopTree(child, true);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => (await request(`http://127.0.0.1:${port}/readyz`)).status === 200,
      30_000,
      'the stack ready',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = performance.now() - started;
  const serverPids = () =>
    descendants(child.pid as number)
      .filter((p) => /dist\/(auth-proxy|terminal-server)\//.test(commandLine(p.pid).join(' ')))
      .map((p) => p.pid);
  return {
    name: 'ours',
    label: 'ours (auth proxy + terminal server, start.sh)',
    startMs,
    socketUrl: (session) => `ws://127.0.0.1:${port}/terminal/socket/${session}`,
    serverPids,
    allPids: () => tree(child.pid as number),
    async open(session, onOutput) {
      const client = await TerminalClient.connect(`ws://127.0.0.1:${port}/terminal/socket/${session}`, {
        keepText: false,
        onOutput: (bytes) => onOutput(bytes),
      });
      const closed = client.closed.then(() => {});
      return {
        type: (text) => client.type(text),
        closed,
        close: async () => {
          await client.close();
        },
      };
    },
    stop,
  };
}

/**
 * ttyd, from the binary TTYD names: `-W` (input allowed), one shell per connection.
 * Its protocol: subprotocol `tty`; the client first sends a JSON text with its
 * size (and an auth token, empty here); then every message starts with one ASCII
 * command byte: '0' input / output, '1' resize / window title, '2' pause / preferences, '3' resume.
 */
export async function startTtyd(binary: string): Promise<Peer> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-ttyd-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn(binary, ['-i', '127.0.0.1', '-p', String(port), '-W', ...SHELL], {
    cwd: home,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: home },
    stdio: 'ignore',
  });
  const stop = async () => {
    await stopTree(child, false);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => (await request(`http://127.0.0.1:${port}/token`)).status === 200,
      30_000,
      'ttyd ready',
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = performance.now() - started;
  let version = 'ttyd';
  try {
    version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // Named by its binary only.
  }
  return {
    name: 'ttyd',
    label: version,
    startMs,
    socketUrl: () => `ws://127.0.0.1:${port}/ws`,
    serverPids: () => [child.pid as number],
    allPids: () => tree(child.pid as number),
    open: (_session, onOutput) =>
      webSocketLink(
        `ws://127.0.0.1:${port}/ws`,
        ['tty'],
        (text) => Buffer.concat([Buffer.from('0'), Buffer.from(text)]),
        (socket) => socket.send(Buffer.from(JSON.stringify({ AuthToken: '', columns: 80, rows: 24 }))),
        (data) => {
          if (data[0] === 0x30) onOutput(data.subarray(1));
        },
      ),
    stop,
  };
}

/** The naive peer: node-pty piped to ws and back, nothing else (bench/peers/naive-server.ts). */
export async function startNaive(): Promise<Peer> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-naive-'));
  const port = await freePort();
  const started = performance.now();
  // Bundled to plain JavaScript, so it starts as a 20-line server would (no TypeScript loader).
  const script = path.join(projectRoot(), 'dist', 'bench', 'naive-server.mjs');
  await build({
    entryPoints: [path.join(projectRoot(), 'bench', 'peers', 'naive-server.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  const child = spawn(process.execPath, [script, String(port)], {
    cwd: home,
    env: { PATH: process.env.PATH, LANG: 'C.UTF-8', HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    await stopTree(child, false);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the naive server exited (${code})`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'naive',
    label: 'naive node-pty + ws (20 lines)',
    startMs: performance.now() - started,
    socketUrl: () => `ws://127.0.0.1:${port}/`,
    serverPids: () => [child.pid as number],
    allPids: () => tree(child.pid as number),
    open: (_session, onOutput) =>
      webSocketLink(
        `ws://127.0.0.1:${port}/`,
        [],
        (text) => Buffer.from(text),
        () => {},
        (data) => onOutput(data),
      ),
    stop,
  };
}

/** wetty (the npm package) running `bash --norc` per connection; its socket.io client. */
export async function startWettyPeer(version: string): Promise<Peer> {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-wetty-cwd-'));
  const wetty = await startWetty(SHELL.join(' '), cwd);
  return {
    name: 'wetty',
    label: `wetty ${version}`,
    startMs: wetty.startMs,
    socketUrl: () => `${wetty.pageUrl.replace('http:', 'ws:')}/socket.io/?EIO=4&transport=websocket`,
    serverPids: () => [wetty.pid],
    allPids: () => tree(wetty.pid),
    async open(_session, onOutput) {
      const client = await WettyClient.connect(wetty, { onOutput: (text) => onOutput(text) });
      const closed = client.loggedOut;
      return {
        type: (text) => {
          client.socket.emit('input', text);
        },
        closed,
        close: async () => {
          client.socket.disconnect();
        },
      };
    },
    async stop() {
      await wetty.stop();
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}
