// Runs a workshop's checks: the executable workshop/examiner/tests/<name>, as
// the terminal server's user (the attendee's), in the shells' environment and
// start folder, with a timeout. Exit 0 is a pass. Only programs of that folder
// run, by a name that cannot leave it (links resolved), with the arguments a
// page declared; what the attendee typed into a check's form arrives as JSON on
// its standard input. A check a page gives a `url` is asked of that service
// instead (Educates' protocol: POST {args, form, timeout}, answer {success}).
// When a check ends, whatever it started ends too: its process group, and every
// process carrying its mark in the environment (a `setsid` child leaves the
// group, and would keep the check's output open and its slot taken).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from '../../common/src/http-error.js';
import type { Logger } from '../../common/src/log.js';
import { isInside } from '../../common/src/open-inside.js';
import { validExaminerName } from './actions.js';

export interface CheckResult {
  passed: boolean;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The end of what it printed (stdout and stderr together). */
  output: string;
}

/** What a check may print that is kept and shown: its last lines matter most. */
const MAX_OUTPUT_BYTES = 16 * 1024;
/** Checks at once: a page (or several) clicking fast cannot start a crowd of processes. */
const MAX_RUNNING = 4;
/** The variable that marks every process a check starts, and that it inherits. */
const CHECK_MARK_VARIABLE = 'WORKSHOP_CHECK_ID';
/**
 * After the check itself exits and what it started is killed: how long its
 * output may stay open (a child that dropped the mark) before it is cut.
 */
const OUTPUT_GRACE_MS = 1000;

export interface Examiner {
  /** Runs a program of examiner/tests; `input` (the form's JSON) is its standard input. */
  run(check: { name: string; args: readonly string[]; timeout: number; input?: string }): Promise<CheckResult>;
}

export function createExaminer(options: {
  testsDir: string;
  cwd: string;
  env: Readonly<Record<string, string>>;
  logger: Logger;
}): Examiner {
  let running = 0;
  return {
    run({ name, args, timeout, input }) {
      if (!validExaminerName(name))
        throw new HttpError(400, 'a check is named by a file name, without . or .. segments');
      const file = programOf(options.testsDir, name);
      if (running >= MAX_RUNNING) throw new HttpError(429, 'too many checks are running; try again in a moment');
      running++;
      const mark = randomBytes(12).toString('hex');
      return new Promise<CheckResult>((resolve) => {
        let output = Buffer.alloc(0);
        let timedOut = false;
        const child = spawn(file, [...args], {
          cwd: options.cwd,
          env: { ...options.env, [CHECK_MARK_VARIABLE]: mark },
          stdio: ['pipe', 'pipe', 'pipe'],
          // Its own process group, so a timeout ends whatever it started too.
          detached: true,
        });
        // Without a form, an empty input (at once at its end, as /dev/null would be). A check that
        // does not read its input closes the pipe: that is not a failure of the check.
        child.stdin.on('error', () => {});
        child.stdin.end(input ?? '');
        const collect = (chunk: Buffer) => {
          output = Buffer.concat([output, chunk]);
          if (output.length > 2 * MAX_OUTPUT_BYTES) output = output.subarray(output.length - MAX_OUTPUT_BYTES);
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        const killAll = () => {
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            // already gone
          }
          for (const pid of markedProcesses(`${CHECK_MARK_VARIABLE}=${mark}`)) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // gone meanwhile
            }
          }
        };
        const timer = setTimeout(() => {
          timedOut = true;
          killAll();
        }, timeout * 1000);
        let done = false;
        const finish = (result: Omit<CheckResult, 'output' | 'timedOut'>) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          running--;
          const text = output.subarray(Math.max(0, output.length - MAX_OUTPUT_BYTES)).toString('utf8');
          options.logger.info('check.finished', {
            name,
            passed: result.passed,
            exitCode: result.exitCode,
            signal: result.signal,
            timedOut,
          });
          resolve({ ...result, timedOut, output: timedOut ? `${text}\n(stopped after ${timeout} s)` : text });
        };
        child.once('error', (error) => {
          options.logger.warn('check.failed_to_start', { name, reason: error.message });
          collect(Buffer.from(`The check could not be started: ${error.message}\n`));
          finish({ passed: false, exitCode: null, signal: null });
        });
        child.once('exit', (code, signal) => {
          // Whatever it left running is not the attendee's to keep.
          killAll();
          const result = { passed: code === 0 && !timedOut, exitCode: code, signal };
          // Its output is complete once the pipes close; one still held open is cut after a moment.
          const grace = setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            finish(result);
          }, OUTPUT_GRACE_MS);
          child.once('close', () => {
            clearTimeout(grace);
            finish(result);
          });
        });
      });
    },
  };
}

/** The program a check names, really inside the tests folder (a link out of it is refused). */
function programOf(testsDir: string, name: string): string {
  try {
    const root = realpathSync(testsDir);
    const file = realpathSync(path.join(root, name));
    if (isInside(root, file) && file !== root) return file;
  } catch {
    // missing: refused below as well
  }
  throw new HttpError(404, `examiner/tests/${name} is not a program of the tests folder`);
}

/** What a check's service answers, at most: a verdict and a message. */
const MAX_REMOTE_BYTES = 16 * 1024;

/** Asks the service at `url` (declared by a page) for a check's verdict. */
export async function runRemoteCheck(check: {
  url: string;
  args: readonly string[];
  inputs: Record<string, unknown> | null;
  timeout: number;
  logger: Logger;
}): Promise<CheckResult> {
  const verdict = (passed: boolean, output: string, timedOut = false): CheckResult => {
    check.logger.info('check.finished', { url: check.url.slice(0, 200), passed, timedOut });
    return { passed, exitCode: null, signal: null, timedOut, output };
  };
  let response: Response;
  try {
    response = await fetch(check.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ args: check.args, form: check.inputs ?? {}, timeout: check.timeout }),
      redirect: 'error',
      signal: AbortSignal.timeout(check.timeout * 1000),
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return verdict(
      false,
      timedOut
        ? `(no answer after ${check.timeout} s)`
        : `The check's service could not be reached: ${(error as Error).message}`,
      timedOut,
    );
  }
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_REMOTE_BYTES) {
      await reader.cancel();
      return verdict(false, "The check's service answered more than a verdict can be");
    }
    chunks.push(value);
  }
  let body: { success?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return verdict(false, `The check's service answered ${response.status}, not JSON`);
  }
  const message = typeof body.message === 'string' ? body.message : '';
  return verdict(response.ok && body.success === true, message);
}

/** The processes (of any user we may read) whose environment holds `entry`, as `NAME=value`. */
function markedProcesses(entry: string): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found; // no /proc: the process group is all there is
  }
  const wanted = `\0${entry}\0`;
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (`\0${readFileSync(`/proc/${name}/environ`, 'latin1')}`.includes(wanted)) found.push(Number(name));
    } catch {
      // another user's, or gone meanwhile
    }
  }
  return found;
}
