// A program on a pseudo-terminal. Knows nothing of WebSockets or pages: output
// goes to one listener as bytes, exit is reported only after all output has been
// read, and input is written at once while the program takes it, in paced
// retries while it does not.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import * as nodePty from 'node-pty';

export interface PtyOptions {
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  /** Told how each interrupt typed while input was held back was delivered. */
  onInterrupt?: (report: InterruptReport) => void;
}

export interface ExitStatus {
  code: number;
  signal: number;
}

/** How an interrupt typed while the program was not taking its input was delivered. */
export interface InterruptReport {
  signal: NodeJS.Signals;
  /** 'signal': sent to the terminal's foreground process group; 'data': the terminal has ISIG off, so it is input. */
  delivery: 'signal' | 'data';
  /** The foreground process group signalled, when one was. */
  group?: number;
  /** True when the kernel's input queue was flushed, as the driver does on an interrupt. */
  flushed: boolean;
  /** Why the terminal's modes could not be read or its queue flushed, when so. */
  problem?: string;
}

/** Interrupt characters (VINTR and VQUIT at their defaults) and the signals the driver sends for them. */
const INTERRUPTS: ReadonlyMap<number, NodeJS.Signals> = new Map([
  [0x03, 'SIGINT'],
  [0x1c, 'SIGQUIT'],
]);
/** Longest pause between retries when the program is not reading its input. */
const MAX_RETRY_DELAY_MS = 50;
/**
 * Reads the terminal's modes and, when an interrupt character would signal
 * (ISIG, and no NOFLSH), flushes its input queue, from the slave side on stdin.
 * Node has no tcflush and node-pty does not expose one; perl's POSIX module
 * (in perl-base, which Debian always installs) does. tcflush(TCIFLUSH) empties
 * both the line discipline and the buffer in front of it, as the driver does
 * on an interrupt; reading and discarding from the slave instead would race
 * with the kernel moving that buffer into the line discipline, and could not
 * take an unfinished last line in canonical mode.
 */
const TERMINAL_HELPER = [
  'use POSIX;',
  'my $t = POSIX::Termios->new;',
  'defined $t->getattr(0) or die "tcgetattr: $!\\n";',
  'my $l = $t->getlflag;',
  'my $flush = ($l & ISIG) && !($l & NOFLSH);',
  'if ($flush) { defined tcflush(0, TCIFLUSH) or die "tcflush: $!\\n" }',
  'print(($l & ISIG) ? "isig" : "-isig", $flush ? " flushed" : "", "\\n");',
].join(' ');
const HELPER_TIMEOUT_MS = 5000;

export class PtyProcess {
  readonly pid: number;
  private readonly term: nodePty.IPty;
  private readonly fd: number;
  /** The slave side, held open by this process (see the constructor). */
  private readonly slave: number;
  private readonly helperPath: string;
  private readonly onInterrupt: ((report: InterruptReport) => void) | undefined;
  private readonly input: Uint8Array[] = [];
  private inputBytes = 0;
  /** True while a retry is scheduled or an interrupt is being delivered. */
  private writing = false;
  /** True when the kernel refused the last write: its input queue is full. */
  private blocked = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 1;
  /** An interrupt typed while input was held back, until it is delivered. */
  private interrupt: { signal: NodeJS.Signals; data: Uint8Array; again?: Uint8Array } | undefined;
  private closed = false;
  private paused = false;

  constructor(options: PtyOptions, onData: (chunk: Buffer) => void, onExit: (status: ExitStatus) => void) {
    const [file, ...args] = options.command;
    this.term = nodePty.spawn(file as string, args, {
      name: 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: options.cwd,
      env: options.env,
      // Bytes, not strings: output goes to the page without decoding and re-encoding.
      encoding: null,
    } as nodePty.IPtyForkOptions);
    this.pid = this.term.pid;
    this.helperPath = options.env.PATH ?? '/usr/bin:/bin';
    this.onInterrupt = options.onInterrupt;
    const internals = nodePtyInternals(this.term);
    this.fd = internals.fd;
    this.term.onData((data) => onData(data as unknown as Buffer));
    // Linux discards what the program wrote but nobody read yet when the last
    // holder of the terminal's slave side closes it: node-pty loses the tail of
    // the output of most programs that exit (seen in 19 of 20 runs of `cat` of
    // 88 KB). Holding the slave open here keeps that output readable, and
    // reading everything left just before node-pty closes the master (200 ms
    // after the exit) makes sure it is all delivered, paused or not: first what
    // node's stream read ahead before a pause took hold (read() hands it to the
    // data listeners; destroying the stream would drop it), then the kernel's.
    const slave = fs.openSync(internals._pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    this.slave = slave;
    const socket = internals._socket;
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => {
      while (socket.read() !== null);
      drainSync(this.fd, onData);
      return destroy(error);
    };
    this.term.onExit(({ exitCode, signal }) => {
      this.closed = true;
      clearTimeout(this.retryTimer);
      fs.close(slave, () => {});
      this.input.length = 0;
      this.inputBytes = 0;
      onExit({ code: exitCode, signal: signal ?? 0 });
    });
  }

  /** Bytes of input not yet taken by the program. */
  get pendingInput(): number {
    return this.inputBytes;
  }

  /** Pieces (frames) of input not yet taken by the program. */
  get pendingPieces(): number {
    return this.input.length;
  }

  /** Queues input for the program; the caller bounds how much may wait (see pendingInput). */
  write(data: Uint8Array): void {
    if (this.closed || data.length === 0) return;
    const signal = interruptSignal(data);
    if (signal && (this.interrupt || this.heldBack())) {
      this.beginInterrupt(signal, data);
      return;
    }
    this.input.push(data);
    this.inputBytes += data.length;
    if (!this.writing) this.writeNext();
  }

  /** True when the program is not taking its input as fast as it comes. */
  private heldBack(): boolean {
    return this.blocked || this.input.length > 0;
  }

  /**
   * An interrupt typed while input is held back would wait behind it, forever
   * if the program is not reading: the kernel's queue is full, so the ^C cannot
   * reach the line discipline. It is delivered now, as the driver would:
   * everything typed before it is dropped (ours, and the kernel's queue unless
   * NOFLSH), and when the terminal has ISIG on the signal goes to its
   * foreground process group. With ISIG off (a program in raw mode) it is input
   * like any other byte, ahead of what is typed after it.
   */
  private beginInterrupt(signal: NodeJS.Signals, data: Uint8Array): void {
    this.input.length = 0;
    this.inputBytes = 0;
    if (this.interrupt) {
      // Typed again while the first is being delivered: it goes after it.
      this.interrupt.again = data;
      return;
    }
    this.interrupt = { signal, data };
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.writing = true;
    this.deliverInterrupt();
  }

  private deliverInterrupt(): void {
    const interrupt = this.interrupt;
    if (!interrupt) return;
    runTerminalHelper(this.slave, this.helperPath, (result) => {
      if (this.closed) return;
      const report: InterruptReport = { signal: interrupt.signal, delivery: 'signal', flushed: false };
      if (result.error !== undefined) report.problem = result.error;
      if (result.isig === false) {
        report.delivery = 'data';
        this.input.unshift(interrupt.data);
        this.inputBytes += interrupt.data.length;
      } else {
        // ISIG on, or not known: the program is not reading, so a byte would not reach it anyway.
        report.flushed = result.flushed;
        if (result.flushed) this.blocked = false;
        const group = foregroundGroup(this.pid);
        if (group !== undefined) {
          try {
            process.kill(-group, interrupt.signal);
            report.group = group;
          } catch (error) {
            report.problem = `kill: ${(error as Error).message}`;
          }
        }
      }
      this.onInterrupt?.(report);
      this.interrupt = undefined;
      this.writing = false;
      if (interrupt.again) this.write(interrupt.again);
      if (!this.writing) this.writeNext();
    });
  }

  // Written synchronously: the master is non-blocking, so a write takes what
  // the kernel has room for and returns at once. A keystroke then reaches the
  // program in the same turn of the event loop it arrived in, not after a round
  // trip through the thread pool. node-pty's own writer retries EAGAIN with
  // setImmediate, spinning a core while a program is not reading; this one
  // backs off instead.
  private writeNext(): void {
    this.retryTimer = undefined;
    this.writing = false;
    for (;;) {
      const chunk = this.input[0];
      if (this.closed || chunk === undefined) return;
      let written: number;
      try {
        written = fs.writeSync(this.fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.blocked = true;
          this.writing = true;
          this.retryTimer = setTimeout(() => this.writeNext(), this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_DELAY_MS);
          return;
        }
        // EIO/EBADF: the program has gone; its exit will be reported.
        this.input.length = 0;
        this.inputBytes = 0;
        return;
      }
      this.blocked = false;
      this.retryDelay = 1;
      this.inputBytes -= written;
      if (written < chunk.length) this.input[0] = chunk.subarray(written);
      else this.input.shift();
    }
  }

  resize(cols: number, rows: number): void {
    if (this.closed) return;
    try {
      this.term.resize(cols, rows);
    } catch {
      // The pty closed between the check and the call; exit follows.
    }
  }

  /** Stops reading output, which blocks the program once the kernel buffer is full. */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.term.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.closed) this.term.resume();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  kill(signal: NodeJS.Signals = 'SIGHUP'): void {
    if (this.closed) return;
    try {
      // A terminal hang-up goes to the session leader; SIGKILL to its whole group.
      process.kill(signal === 'SIGKILL' ? -this.pid : this.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * The node-pty release whose internals (NodePtyInternals) this module was
 * checked against. package.json pins it, and test/pty.test.ts fails on any
 * other release and checks each internal on the one installed: an upgrade
 * fails a test, rather than losing the end of programs' output in a workshop.
 */
export const NODE_PTY_CHECKED = '1.1.0';

/** What this module relies on inside node-pty's UnixTerminal, which it does not expose. */
export interface NodePtyInternals {
  /** The master side, non-blocking: written to directly, and drained at exit. */
  fd: number;
  /** Path of the slave side, e.g. /dev/pts/3: held open so that output written just before an exit is kept. */
  _pty: string;
  /**
   * The master's read stream (a net.Socket), which node-pty destroys after the
   * program exits, before it closes the master; its data listeners are
   * node-pty's onData.
   */
  _socket: { destroy(error?: Error): unknown; read(): unknown };
}

/** node-pty's internals as this module reads them (test/pty.test.ts checks them through this too). */
export function nodePtyInternals(term: nodePty.IPty): NodePtyInternals {
  return term as unknown as NodePtyInternals;
}

/** Reads whatever output is left on the (non-blocking) master, until it is empty. */
function drainSync(fd: number, onData: (chunk: Buffer) => void): void {
  for (;;) {
    const buffer = Buffer.allocUnsafe(64 << 10);
    let count: number;
    try {
      count = fs.readSync(fd, buffer, 0, buffer.length, null);
    } catch {
      return; // EAGAIN: nothing left; EIO/EBADF: closed
    }
    if (count <= 0) return;
    onData(buffer.subarray(0, count));
  }
}

/** The signal a lone interrupt character (Ctrl-C or Ctrl-\\) stands for; undefined for other input. */
function interruptSignal(data: Uint8Array): NodeJS.Signals | undefined {
  return data.length === 1 ? INTERRUPTS.get(data[0] as number) : undefined;
}

/** True for a lone interrupt character: it drops the input waiting before it. */
export function isInterrupt(data: Uint8Array): boolean {
  return interruptSignal(data) !== undefined;
}

/**
 * The foreground process group of the terminal whose session leader is `pid`
 * (its leader's pid), from /proc (Linux; synchronous: the file is small and read at once).
 */
export function foregroundGroup(pid: number): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone
  }
  // Field 2, the command name, is in parentheses and may hold spaces and parentheses
  // itself; tpgid is field 8, the sixth after it.
  const tpgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
  return Number.isSafeInteger(tpgid) && tpgid > 0 ? tpgid : undefined;
}

interface HelperResult {
  /** Whether the terminal has ISIG on; undefined when its modes could not be read. */
  isig: boolean | undefined;
  flushed: boolean;
  error?: string;
}

/** Runs TERMINAL_HELPER on the terminal's slave side. */
function runTerminalHelper(slave: number, searchPath: string, done: (result: HelperResult) => void): void {
  let stdout = '';
  let stderr = '';
  let finished = false;
  const finish = (result: HelperResult) => {
    if (finished) return;
    finished = true;
    done(result);
  };
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn('perl', ['-e', TERMINAL_HELPER], {
      stdio: [slave, 'pipe', 'pipe'],
      env: { PATH: searchPath },
      timeout: HELPER_TIMEOUT_MS,
    });
  } catch (error) {
    finish({ isig: undefined, flushed: false, error: `perl: ${(error as Error).message}` });
    return;
  }
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  child.on('error', (error) => finish({ isig: undefined, flushed: false, error: `perl: ${error.message}` }));
  child.on('close', (code, signal) => {
    const words = stdout.trim().split(' ');
    const isig = words[0] === 'isig' ? true : words[0] === '-isig' ? false : undefined;
    const problem = code === 0 ? undefined : stderr.trim().slice(0, 200) || `perl exited with ${code ?? signal}`;
    finish({ isig, flushed: words.includes('flushed'), ...(problem ? { error: problem } : {}) });
  });
}
