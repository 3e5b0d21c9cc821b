// The terminal server as its own process (the built one in dist/, as `npm start`
// runs it), for figures that must not include the benchmark's own work: its
// memory, and output throughput without the page sharing the server's thread.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';
import { eventually, isAlive, request, runProcess } from '../test/harness/servers.js';

export interface ServerProcess {
  pid: number;
  port: number;
  socketUrl(name: string): string;
  /** Resident set size of the server process in KiB (VmRSS). */
  rssKiB(): number;
  /** Runs a full garbage collection in the server (it is started with a SIGUSR2 hook for that). */
  collectGarbage(): Promise<void>;
  /** Pids of the sessions' programs, from the server's API. */
  sessionPids(): Promise<number[]>;
  /** Stops the server (SIGTERM, then SIGKILL) and makes sure no session program outlives it. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

// Preloaded into the server: a full collection on SIGUSR2, so memory is measured without garbage.
const GC_HOOK = `data:text/javascript,${encodeURIComponent("process.on('SIGUSR2', () => globalThis.gc?.());")}`;

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const root = projectRoot();
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-home-'));
  const port = await freePort();
  const run = runProcess(
    process.execPath,
    ['--expose-gc', '--import', GC_HOOK, path.join(root, 'dist', 'terminal-server', 'src', 'main.js')],
    { HOME: home, LOG_LEVEL: 'warn', TERMINAL_PRESTART: '', ...env, TERMINAL_PORT: `${port}` },
    { cwd: root },
  );
  const { child, output } = run;
  let exited = false;
  const exit = run.exited.then(() => {
    exited = true;
  });
  const pid = child.pid as number;
  const api = `http://127.0.0.1:${port}/terminal/api`;
  const knownPids = new Set<number>();

  const server: ServerProcess = {
    pid,
    port,
    socketUrl: (name) => `ws://127.0.0.1:${port}/terminal/socket/${name}`,
    rssKiB() {
      const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!match) throw new Error('no VmRSS for the server process');
      return Number(match[1]);
    },
    async collectGarbage() {
      process.kill(pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 150));
    },
    async sessionPids() {
      const response = await request(`${api}/sessions`);
      const pids = (JSON.parse(response.body) as { sessions: { pid: number }[] }).sessions.map((s) => s.pid);
      for (const p of pids) knownPids.add(p);
      return pids;
    },
    async stop() {
      if (!exited) {
        await server.sessionPids().catch(() => []);
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 8000);
        await exit;
        clearTimeout(killer);
      }
      // The server hangs up its sessions when it stops; anything still there is killed.
      await eventually(() => [...knownPids].every((p) => !isAlive(p)), 3000, 'session programs to end').catch(() => {
        for (const p of knownPids) if (isAlive(p)) process.kill(p, 'SIGKILL');
      });
      rmSync(home, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited || Date.now() > deadline) {
      await server.stop();
      throw new Error(`the terminal server did not start: ${output().trim().slice(-2000)}`);
    }
    const status = await request(`${api}/status`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
}
