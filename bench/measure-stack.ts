// Idle memory of the whole stack as users run it: `bash supervisor/start.sh`
// (the built dist/) → pm2-runtime → auth proxy + terminal server, with no session
// open: the memory of every process in the tree, summed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';
import { freePort, isAlive, request } from '../test/harness/servers.js';
import { descendants, type ProcessMemory, processMemory, processName, processTable } from './processes.js';

export interface StackProcess extends ProcessMemory {
  pid: number;
  /** Program and script, like `node dist/auth-proxy/src/main.js`. */
  name: string;
}

export interface StackResult {
  /** ms from starting start.sh to /readyz answering 200. */
  readyMs: number;
  /** ms waited after that before reading memory. */
  settleMs: number;
  /** start.sh and every process below it. */
  processes: StackProcess[];
  totalRssKiB: number;
  totalPssKiB: number;
  totalPrivateKiB: number;
  /** ms from SIGTERM to the process group until start.sh had exited and every process of the tree was gone. */
  stopMs: number;
  exitCode: number | null;
  /** What the stop left behind (and was cleaned up here): processes, a pm2 folder. Empty when all went. */
  leftovers: string[];
}

const READY_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when the promise settles within ms. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

export async function measureStack(settleMs: number): Promise<StackResult> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-stack-'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-home-'));
  const port = await freePort();
  const started = performance.now();
  const child = spawn('bash', [path.join(projectRoot(), 'supervisor', 'start.sh')], {
    cwd: projectRoot(),
    env: {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: home,
      // pm2's folder for the run is made here: it must be gone after the stop.
      TMPDIR: tmp,
      PORT: String(port),
      AUTH_USERNAME: '*',
      // No workshop apps: only the stack itself.
      PM2_APPS_DIR: path.join(home, 'no-apps'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, stopped as one
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  let exitCode: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  const pid = child.pid as number;

  /** SIGTERM to the group; then whatever is left of the tree is killed and reported. */
  async function stop(): Promise<{ stopMs: number; leftovers: string[] }> {
    const tree = [pid, ...descendants(pid).map((p) => p.pid)];
    const names = new Map(tree.map((p) => [p, processName(p, '?')]));
    const leftovers: string[] = [];
    const start = performance.now();
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // The group is gone already.
    }
    if (!(await within(exit, EXIT_TIMEOUT_MS))) leftovers.push(`start.sh did not exit within ${EXIT_TIMEOUT_MS} ms`);
    const deadline = Date.now() + 3000;
    while (tree.some(isAlive) && Date.now() < deadline) await sleep(20);
    const stopMs = performance.now() - start;
    for (const p of tree.filter(isAlive)) {
      leftovers.push(`process ${p} (${names.get(p)}) outlived the stop`);
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Nothing left in the group, as it should be.
    }
    for (const entry of readdirSync(tmp)) leftovers.push(`${entry} was left in TMPDIR`);
    return { stopMs, leftovers };
  }
  let stopped: ReturnType<typeof stop> | undefined;
  const stopOnce = () => {
    stopped ??= stop();
    return stopped;
  };

  try {
    let readyMs = 0;
    for (;;) {
      if (exitCode !== undefined)
        throw new Error(`start.sh exited (${exitCode}) before it was ready: ${output.trim()}`);
      if (performance.now() - started > READY_TIMEOUT_MS) {
        throw new Error(`the stack was not ready after ${READY_TIMEOUT_MS} ms: ${output.trim().slice(-2000)}`);
      }
      const status = await request(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) {
        readyMs = performance.now() - started;
        break;
      }
      await sleep(50);
    }
    await sleep(settleMs);

    const table = processTable();
    const self = table.find((p) => p.pid === pid);
    const processes: StackProcess[] = [];
    for (const entry of [...(self ? [self] : []), ...descendants(pid, table)]) {
      const memory = processMemory(entry.pid);
      if (memory) processes.push({ pid: entry.pid, name: processName(entry.pid, entry.comm), ...memory });
    }
    const sum = (key: keyof ProcessMemory) => processes.reduce((total, p) => total + p[key], 0);
    const { stopMs, leftovers } = await stopOnce();
    return {
      readyMs,
      settleMs,
      processes,
      totalRssKiB: sum('rssKiB'),
      totalPssKiB: sum('pssKiB'),
      totalPrivateKiB: sum('privateKiB'),
      stopMs,
      exitCode: exitCode ?? null,
      leftovers,
    };
  } finally {
    await stopOnce();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}
