// A program on a pseudo-terminal. Knows nothing of WebSockets or pages: output
// goes to one listener as bytes, exit is reported only after all output has been
// read, and input is written in paced pieces.
import fs from 'node:fs';
import * as nodePty from 'node-pty';

export interface PtyOptions {
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
}

export interface ExitStatus {
  code: number;
  signal: number;
}

const CTRL_C = 0x03;
const CTRL_BACKSLASH = 0x1c;
/** Longest pause between retries when the program is not reading its input. */
const MAX_RETRY_DELAY_MS = 50;

export class PtyProcess {
  readonly pid: number;
  private readonly term: nodePty.IPty;
  private readonly fd: number;
  private readonly input: Uint8Array[] = [];
  private inputBytes = 0;
  /** True while a retry or the next write is scheduled. */
  private writing = false;
  /** True while fs.write holds input[0]. */
  private inFlight = false;
  private retryDelay = 1;
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
    const internals = this.term as unknown as NodePtyInternals;
    this.fd = internals.fd;
    this.term.onData((data) => onData(data as unknown as Buffer));
    // Linux discards what the program wrote but nobody read yet when the last
    // holder of the terminal's slave side closes it: node-pty loses the tail of
    // the output of most programs that exit (seen in 19 of 20 runs of `cat` of
    // 88 KB). Holding the slave open here keeps that output readable, and
    // reading everything left just before node-pty closes the master (200 ms
    // after the exit) makes sure it is all delivered, paused or not.
    const slave = fs.openSync(internals._pty, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    const socket = internals._socket;
    const destroy = socket.destroy.bind(socket);
    socket.destroy = (error?: Error) => {
      drainSync(this.fd, onData);
      return destroy(error);
    };
    this.term.onExit(({ exitCode, signal }) => {
      this.closed = true;
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
    if (isInterrupt(data)) this.discardQueuedInput();
    this.input.push(data);
    this.inputBytes += data.length;
    if (!this.writing) this.writeNext();
  }

  /**
   * An interrupt typed while a large paste is still queued would otherwise wait
   * behind it (forever, if the program is not reading). The terminal driver
   * itself flushes pending input on an interrupt; this does the same for what
   * has not reached the driver yet.
   */
  private discardQueuedInput(): void {
    const keep = this.inFlight ? this.input.slice(0, 1) : [];
    this.input.length = 0;
    this.input.push(...keep);
    this.inputBytes = keep.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  // node-pty's own writer retries EAGAIN with setImmediate, spinning a core while
  // a program is not reading; this one backs off instead.
  private writeNext(): void {
    const chunk = this.input[0];
    if (this.closed || chunk === undefined) {
      this.writing = false;
      return;
    }
    this.writing = true;
    this.inFlight = true;
    fs.write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      this.inFlight = false;
      if (this.closed) return;
      if (error) {
        if (error.code === 'EAGAIN') {
          setTimeout(() => this.writeNext(), this.retryDelay);
          this.retryDelay = Math.min(this.retryDelay * 2, MAX_RETRY_DELAY_MS);
          return;
        }
        // EIO/EBADF: the program has gone; its exit will be reported.
        this.input.length = 0;
        this.inputBytes = 0;
        this.writing = false;
        return;
      }
      this.retryDelay = 1;
      this.inputBytes -= written;
      if (written < chunk.length) this.input[0] = chunk.subarray(written);
      else this.input.shift();
      this.writeNext();
    });
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

/** True for a lone interrupt character (Ctrl-C or Ctrl-\\): it drops the input waiting before it. */
export function isInterrupt(data: Uint8Array): boolean {
  return data.length === 1 && (data[0] === CTRL_C || data[0] === CTRL_BACKSLASH);
}

/** What this module relies on inside node-pty's UnixTerminal (node-pty is pinned for that reason). */
interface NodePtyInternals {
  fd: number;
  /** Path of the slave side, e.g. /dev/pts/3. */
  _pty: string;
  _socket: { destroy(error?: Error): unknown };
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
