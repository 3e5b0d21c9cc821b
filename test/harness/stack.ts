// The whole stack as `npm start` runs it (supervisor/start.sh → pm2-runtime →
// auth proxy + terminal server), as real processes, for the tests that need all of it.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../common/src/paths.js';
import { eventually, freePort, type RunningProcess, request, runProcess } from './servers.js';

export interface Stack extends RunningProcess {
  port: number;
}

/**
 * Starts the stack as `npm start` does; nothing but the public port is chosen
 * for it, and not even that when `port` is given: then it is the default's.
 */
export async function startStack(env: Record<string, string>, port?: number): Promise<Stack & { tmp: string }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'wt-stack-'));
  const chosen = port === undefined ? await freePort() : null;
  const run = runProcess(
    'bash',
    [path.join(projectRoot(), 'supervisor/start.sh')],
    {
      TMPDIR: tmp,
      ...(chosen === null ? {} : { PORT: String(chosen) }),
      TERMINAL_COMMAND: 'bash --norc --noprofile -i',
      ...env,
    },
    { detached: true }, // its own process group, so a failed test can clean up everything
  );
  return { ...run, port: chosen ?? (port as number), tmp };
}

/** True when nothing listens on `port` of 127.0.0.1. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export async function waitReady(stack: Stack): Promise<void> {
  await eventually(
    () => request(`http://127.0.0.1:${stack.port}/readyz`).then((r) => r.status === 200),
    20_000,
    `the stack to be ready; output:\n${stack.output()}`,
  );
}

export async function stopStack(stack: Stack & { tmp: string }): Promise<void> {
  try {
    process.kill(-(stack.child.pid as number), 'SIGTERM');
    await Promise.race([stack.exited, new Promise((r) => setTimeout(r, 5000))]);
    process.kill(-(stack.child.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(stack.tmp, { recursive: true, force: true });
}
