// Runs a workshop's checks: the executable workshop/examiner/tests/<name>, as
// the terminal server's user (the attendee's), in the shells' environment and
// start folder, with a timeout. Exit 0 is a pass. Only programs of that folder
// run, by a name that cannot leave it, with the arguments a page declared.
// When a check ends, whatever it started ends too: its process group, and every
// process carrying its mark in the environment (a `setsid` child leaves the
// group, and would keep the check's output open and its slot taken).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HttpError } from '../../common/src/http-error.js';
import type { Logger } from '../../common/src/log.js';
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
  run(check: { name: string; args: readonly string[]; timeout: number }): Promise<CheckResult>;
}

export function createExaminer(options: {
  testsDir: string;
  cwd: string;
  env: Readonly<Record<string, string>>;
  logger: Logger;
}): Examiner {
  let running = 0;
  return {
    run({ name, args, timeout }) {
      if (!validExaminerName(name)) throw new HttpError(400, 'a check is named by a file name, without / or ..');
      if (running >= MAX_RUNNING) throw new HttpError(429, 'too many checks are running; try again in a moment');
      running++;
      const file = path.join(options.testsDir, name);
      const mark = randomBytes(12).toString('hex');
      return new Promise<CheckResult>((resolve) => {
        let output = Buffer.alloc(0);
        let timedOut = false;
        const child = spawn(file, [...args], {
          cwd: options.cwd,
          env: { ...options.env, [CHECK_MARK_VARIABLE]: mark },
          stdio: ['ignore', 'pipe', 'pipe'],
          // Its own process group, so a timeout ends whatever it started too.
          detached: true,
        });
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
