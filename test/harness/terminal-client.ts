// A headless page for tests and benchmarks: the page's own protocol client
// (positions, acks, input) on the `ws` package, with output kept as text and
// promises to wait on. It does not reconnect: tests look at each close.
import { WebSocket } from 'ws';
import { type ServerControl, ServerType } from '../../common/src/protocol.js';
import { ProtocolClient } from '../../terminal-server/page/protocol-client.js';

export interface ClientOptions {
  position?: number | null;
  instance?: string;
  cols?: number;
  rows?: number;
  /**
   * 'auto': acknowledge as the page does, each chunk counting as processed as soon
   * as it arrives (a page that draws instantly); 'manual': only when ack() is called.
   */
  ack?: 'auto' | 'manual';
  /** Keep the output text (off for large transfers). */
  keepText?: boolean;
  headers?: Record<string, string>;
  onOutput?: (bytes: Buffer) => void;
}

export class TerminalClient {
  readonly controls: ServerControl[] = [];
  pid = 0;
  /** Output bytes received since connecting (not counting what came before the attach position). */
  received = 0;
  /** Bytes of control frames received (type byte included), on every connection of this page. */
  controlBytes = 0;
  private chunks: Buffer[] = [];
  private waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly attached: Promise<ServerControl & { type: 'attached' }>;
  /** The protocol client, as the page runs it. */
  readonly client: ProtocolClient;

  /** The connection's socket (the protocol client opens it, with the attach in its URL). */
  socket!: WebSocket;

  private constructor(url: string, options: ClientOptions) {
    let closed: (value: { code: number; reason: string }) => void = () => {};
    this.closed = new Promise((resolve) => {
      closed = resolve;
    });
    let attached: (message: ServerControl & { type: 'attached' }) => void = () => {};
    let failed: (error: Error) => void = () => {};
    this.attached = new Promise((resolve, reject) => {
      attached = resolve;
      failed = reject;
    });
    this.attached.catch(() => {});
    this.client = new ProtocolClient({
      openSocket: (query) => {
        const socket = new WebSocket(`${url}${url.includes('?') ? '&' : '?'}${query}`, { headers: options.headers });
        this.socket = socket;
        socket.on('message', (data: Buffer, isBinary) => {
          if (isBinary && data[0] === ServerType.Control) this.controlBytes += data.length;
        });
        socket.on('close', (code, reason) => {
          closed({ code, reason: reason.toString() });
          failed(new Error(`closed before attach: ${code}`));
          this.wake();
        });
        socket.on('error', failed);
        return socket;
      },
      position: options.position ?? null,
      instance: options.instance ?? '',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      autoAck: options.ack !== 'manual',
      reconnect: false,
      onOutput: (data, processed) => {
        const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        this.received += bytes.length;
        if (options.keepText !== false) this.chunks.push(bytes);
        options.onOutput?.(bytes);
        processed();
        this.wake();
      },
      onControl: (message) => {
        this.controls.push(message);
        if (message.type === 'attached') {
          this.pid = message.pid;
          if (message.reset) this.chunks = [];
          attached(message);
        }
        this.wake();
      },
    });
  }

  /** Opens the page without waiting: for pages the server may refuse (`attached` rejects, `closed` says how). */
  static start(url: string, options: ClientOptions = {}): TerminalClient {
    const page = new TerminalClient(url, options);
    page.client.connect();
    return page;
  }

  static async connect(url: string, options: ClientOptions = {}): Promise<TerminalClient> {
    const page = TerminalClient.start(url, options);
    const socket = page.socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    await page.attached;
    return page;
  }

  /** Output position after the last byte received. */
  get position(): number {
    return this.client.position ?? 0;
  }

  get instance(): string {
    return this.client.instance;
  }

  /** Acknowledges output up to `position` (what ack: 'manual' relies on). */
  ack(position: number): void {
    this.client.ack(position);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  clearText(): void {
    this.chunks = [];
  }

  /** Input as the page sends it: dropped unless attached, in frames of at most Limits.inputChunkBytes. */
  type(text: string | Uint8Array): void {
    this.client.input(typeof text === 'string' ? Buffer.from(text) : text);
  }

  resize(cols: number, rows: number): void {
    this.client.resize(cols, rows);
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
    this.client.close();
    return this.closed;
  }
}
