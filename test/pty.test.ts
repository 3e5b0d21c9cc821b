// node-pty's internals that terminal-server/src/pty.ts relies on (node-pty does
// not expose them): pinned to the release they were checked against, and each
// checked on the one installed, so an upgrade of node-pty fails here first.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import * as nodePty from 'node-pty';
import { projectRoot } from '../common/src/paths.js';
import { NODE_PTY_CHECKED, nodePtyInternals, PtyProcess } from '../terminal-server/src/pty.js';

const require = createRequire(import.meta.url);

/** Output of a pty as text, and a way to wait for some of it. */
function collect(term: nodePty.IPty): { text(): string; waitFor(pattern: RegExp): Promise<RegExpMatchArray> } {
  let text = '';
  const waiting = new Set<() => void>();
  term.onData((data) => {
    text += Buffer.from(data as unknown as Uint8Array).toString('latin1');
    for (const wake of waiting) wake();
  });
  return {
    text: () => text,
    waitFor: (pattern) =>
      new Promise((resolve) => {
        const wake = () => {
          const match = pattern.exec(text);
          if (!match) return;
          waiting.delete(wake);
          resolve(match);
        };
        waiting.add(wake);
        wake();
      }),
  };
}

describe('node-pty internals', () => {
  test('the installed node-pty is the release pty.ts was checked against, pinned exactly', () => {
    const installed = (require('node-pty/package.json') as { version: string }).version;
    const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(manifest.dependencies['node-pty'], NODE_PTY_CHECKED, 'package.json pins node-pty, no range');
    assert.equal(
      installed,
      NODE_PTY_CHECKED,
      `node-pty ${installed} is installed: check each internal NodePtyInternals names (this file's other tests), then set NODE_PTY_CHECKED`,
    );
  });

  // Without the destroy, node-pty would never report the exit: the timeout says so instead of a hang.
  test('fd is the master, _pty the slave’s path, and _socket is destroyed after the exit with the master still open', {
    timeout: 30_000,
  }, async () => {
    const term = nodePty.spawn('bash', ['--norc', '--noprofile', '-c', 'tty; read -r line; echo "got $line"'], {
      name: 'xterm-256color',
      cols: 80,
      rows: 24,
      cwd: '/',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      encoding: null,
    } as nodePty.IPtyForkOptions);
    try {
      await checkInternals(term);
    } finally {
      term.kill('SIGKILL');
    }
  });

  /** Each internal pty.ts uses, used as it uses them, on a bash that prints its tty and echoes a line. */
  async function checkInternals(term: nodePty.IPty): Promise<void> {
    const output = collect(term);
    const internals = nodePtyInternals(term);
    assert.equal(typeof internals.fd, 'number', 'fd');
    assert.equal(fs.readlinkSync(`/proc/self/fd/${internals.fd}`), '/dev/ptmx', 'fd is a pty master');
    assert.equal(typeof internals._pty, 'string', '_pty');
    assert.equal((await output.waitFor(/^(\/dev\/pts\/\d+)\r\n/))[1], internals._pty, '_pty is the program’s terminal');
    // As pty.ts holds it: the slave open here too.
    const slave = fs.openSync(internals._pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const events: string[] = [];
    const socket = internals._socket;
    assert.equal(typeof socket?.destroy, 'function', '_socket.destroy');
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => {
      let master = 'open';
      try {
        fs.fstatSync(internals.fd);
      } catch {
        master = 'closed';
      }
      events.push(`destroy, the master ${master}`);
      return destroy(error);
    };
    const exited = new Promise<void>((resolve) =>
      term.onExit(() => {
        events.push('exit');
        resolve();
      }),
    );
    // Written to the master directly, as pty.ts writes input.
    fs.writeSync(internals.fd, 'hello\r');
    await output.waitFor(/got hello/);
    await exited;
    fs.closeSync(slave);
    assert.deepEqual(events, ['destroy, the master open', 'exit']);
  }

  // A program whose output did not fit would never exit: the timeout says so instead of a hang.
  test('through PtyProcess: output left unread, paused, at the exit is all delivered before it', {
    timeout: 30_000,
  }, async () => {
    // Small enough for the kernel to hold while nobody reads, so the program exits with it unread:
    // only what pty.ts does when node-pty destroys its read stream (the internals above) delivers
    // it. Paused, node's stream still reads once ahead; the pause between the two halves makes it
    // likely that the first is in the stream by then and the second still in the kernel, so that
    // each of the two places is emptied in some of the runs.
    const half = 1500;
    const bytes = 2 * half;
    const write = `head -c ${half} /dev/zero | tr '\\0' x`;
    for (let run = 0; run < 5; run++) {
      let received = 0;
      const status = await new Promise<{ code: number }>((resolve, reject) => {
        try {
          const pty = new PtyProcess(
            {
              command: ['bash', '--norc', '--noprofile', '-c', `${write}; sleep 0.05; ${write}`],
              cwd: '/',
              env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
              cols: 80,
              rows: 24,
            },
            (chunk) => {
              for (const byte of chunk) if (byte === 0x78) received++;
            },
            resolve,
          );
          pty.pause();
        } catch (error) {
          reject(error);
        }
      });
      assert.equal(status.code, 0);
      assert.equal(received, bytes, `run ${run}: ${received} of ${bytes} bytes before the exit`);
    }
  });
});
