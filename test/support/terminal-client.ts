// A headless page: speaks the terminal protocol over a real WebSocket, as the
// browser page does, for tests and benchmarks.
import { WebSocket } from 'ws';
import {
  decodeControl,
  encodeAck,
  encodeAttach,
  encodeInput,
  encodeResize,
  FlowControl,
  type ServerControl,
  ServerType,
} from '../../terminal-server/src/protocol.js';

export interface ClientOptions {
  position?: number | null;
  instance?: string;
  cols?: number;
  rows?: number;
  /** 'auto': acknowledge output as it arrives, like a fast page; 'manual': only when ack() is called. */
  ack?: 'auto' | 'manual';
  /** Keep the output text (off for large transfers). */
  keepText?: boolean;
  headers?: Record<string, string>;
  onOutput?: (bytes: Buffer) => void;
}

export class TerminalClient {
  readonly controls: ServerControl[] = [];
  /** Output position after the last byte received. */
  position = 0;
  instance = '';
  pid = 0;
  /** Output bytes received since connecting (not counting what came before the attach position). */
  received = 0;
  private chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly attached: Promise<ServerControl & { type: 'attached' }>;

  private constructor(
    readonly socket: WebSocket,
    options: ClientOptions,
  ) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      });
    });
    this.attached = new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('close', (code) => reject(new Error(`closed before attach: ${code}`)));
      socket.on('message', (data: Buffer) => {
        if (data[0] === ServerType.Output) {
          const bytes = data.subarray(1);
          this.position += bytes.length;
          this.received += bytes.length;
          if (options.keepText !== false) this.chunks.push(bytes);
          options.onOutput?.(bytes);
          if (options.ack !== 'manual') this.maybeAck();
        } else if (data[0] === ServerType.Control) {
          const message = decodeControl(data);
          if (!message) return;
          this.controls.push(message);
          if (message.type === 'attached') {
            this.position = message.position;
            this.instance = message.instance;
            this.pid = message.pid;
            if (message.reset) this.chunks = [];
            resolve(message);
          }
        }
        this.wake();
      });
    });
    this.attached.catch(() => {});
  }

  static async connect(url: string, options: ClientOptions = {}): Promise<TerminalClient> {
    const socket = new WebSocket(url, { headers: options.headers });
    const client = new TerminalClient(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    socket.send(
      encodeAttach({
        position: options.position ?? null,
        cols: options.cols ?? 80,
        rows: options.rows ?? 24,
        instance: options.instance ?? '',
      }),
    );
    await client.attached;
    return client;
  }

  private lastAck = 0;
  private maybeAck(): void {
    if (this.position - this.lastAck >= FlowControl.ackEveryBytes / 2) this.ack(this.position);
  }

  ack(position: number): void {
    this.lastAck = position;
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeAck(position));
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  clearText(): void {
    this.chunks = [];
  }

  type(text: string | Uint8Array): void {
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    this.socket.send(encodeInput(bytes));
  }

  resize(cols: number, rows: number): void {
    this.socket.send(encodeResize(cols, rows));
  }

  exitMessage(): (ServerControl & { type: 'exit' }) | undefined {
    return this.controls.find((m): m is ServerControl & { type: 'exit' } => m.type === 'exit');
  }

  errors(): string[] {
    return this.controls.flatMap((m) => (m.type === 'error' ? [m.message] : []));
  }

  /** Waits until the output text matches (or the predicate holds). */
  async waitFor(expected: string | RegExp | (() => boolean), timeoutMs = 10_000): Promise<void> {
    const test =
      typeof expected === 'function'
        ? expected
        : typeof expected === 'string'
          ? () => this.text().includes(expected)
          : () => expected.test(this.text());
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${String(expected)}; output so far: ${JSON.stringify(this.text().slice(-400))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}
