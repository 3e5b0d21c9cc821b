// Building and running the container image with podman in tests. podman-base.sh
// (next to this file) installs podman if needed, configures it and builds
// cached stand-ins for the base images the Dockerfile names, since nothing can
// be pulled here; preparePodman runs it once a process and hands back the
// environment podman commands need.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  /** Exit code; -1 when the command could not start or was killed. */
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CommandOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs a command without blocking the event loop; on timeout it is killed (TERM, then KILL). */
export function runCommand(command: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const { env = {}, timeoutMs = 5 * 60_000 } = opts;
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    const finish = (code: number, extra = '') => {
      clearTimeout(timer);
      clearTimeout(killer);
      if (timedOut) extra += `\n${command} timed out after ${timeoutMs} ms`;
      resolve({ code, stdout, stderr: stderr + extra, timedOut });
    };
    child.on('error', (error) => finish(-1, `\n${error.message}`));
    child.on('close', (code) => finish(code ?? -1));
  });
}

/** Runs podman; pass the env from preparePodman. */
export function podman(args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return runCommand('podman', args, opts);
}

let prepared: Promise<{ env: Record<string, string> } | null> | undefined;

/**
 * Makes podman usable with the stand-in base images (a few minutes the first
 * time on a machine, well under a second after). Null when it cannot be set
 * up here (not root, no apt, ...); the reason goes to stderr in CI.
 */
export function preparePodman(): Promise<{ env: Record<string, string> } | null> {
  prepared ??= (async () => {
    const script = fileURLToPath(new URL('./podman-base.sh', import.meta.url));
    const result = await runCommand('bash', [script], { timeoutMs: 30 * 60_000 });
    if (result.code !== 0) {
      if (process.env.CI) console.error(`podman-base.sh failed (${result.code}):\n${result.stderr.slice(-3000)}`);
      return null;
    }
    const env: Record<string, string> = {};
    for (const line of result.stdout.split('\n')) {
      const match = /^(CONTAINERS_[A-Z_]+)=(.*)$/.exec(line.trim());
      if (match?.[1]) env[match[1]] = match[2] ?? '';
    }
    return env.CONTAINERS_CONF && env.CONTAINERS_STORAGE_CONF ? { env } : null;
  })();
  return prepared;
}
