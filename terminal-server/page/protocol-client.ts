// The one client of the terminal protocol: the terminal view in the browser and
// the headless page of the tests and the benchmark both run it, so what they
// measure is what people use. It owns the socket, the attach with position and
// instance, positions, acknowledgements, reconnecting and the connection state;
// what shows the output (xterm.js, or a test) only tells it when output has been
// processed. No DOM and no Node here: the socket comes from a factory (the
// browser's WebSocket, or the `ws` package's).
import {
  ATTACH_QUERY,
  attachQueryValue,
  CloseCode,
  decodeControl,
  encodeAck,
  encodeAttach,
  encodeInput,
  encodeKeyboard,
  encodeResize,
  FlowControl,
  Reconnect,
  type ServerControl,
  ServerType,
  splitUtf8,
} from '../../common/src/protocol.js';

export type TerminalState = 'connecting' | 'connected' | 'lost' | 'exited' | 'refused';

/**
 * A listener as the browser and `ws` declare theirs. Written as a method so that it is
 * checked bivariantly: either implementation's own event type then fits.
 */
type Listener<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The little of a WebSocket this client uses; the browser's and the `ws` package's both have it. */
export interface ProtocolSocket {
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: Listener<unknown> | null;
  /** Binary frames arrive as an ArrayBuffer (browser, binaryType 'arraybuffer') or a Uint8Array (`ws`'s Buffer). */
  onmessage: Listener<{ data: unknown }> | null;
  onclose: Listener<{ code: number; reason: string }> | null;
}

/** WebSocket.OPEN, the same in every implementation. */
const OPEN = 1;

/** Closes that trying again at once would not cure: the page says why (the error message before them) and waits for a click. */
const refusals = new Set<number>([CloseCode.TooManySessions, CloseCode.NotStarted, CloseCode.TooManyPages]);

export interface ProtocolClientOptions {
  /**
   * Opens a new socket to the session; called for each connection attempt, with
   * the query to put in its URL (`attach=…`): the server attaches at once, so the
   * page sends no attach message.
   */
  openSocket: (query: string) => ProtocolSocket;
  /** Position and instance to attach with the first time: null and '' for "whatever the session has". */
  position?: number | null;
  instance?: string;
  cols: number;
  rows: number;
  /** Acknowledge output once it is processed (the default); false: only ack() does, for tests of flow control. */
  autoAck?: boolean;
  /** Reconnect after a close that reconnecting can cure (the default); false: stay 'lost'. */
  reconnect?: boolean;
  /**
   * Output, in order. Call `processed` once the bytes are on the screen: acknowledgements follow from it.
   * `replayed`: the bytes are history the server replayed on attaching (made before this attach, see
   * `live` in the attached message), not new output; a frame is split where the replay ends.
   */
  onOutput: (bytes: Uint8Array, processed: () => void, replayed: boolean) => void;
  /** Every control message, after the client has applied it and before any state change it brings. */
  onControl?: (message: ServerControl) => void;
  /** `retryInMs`: for 'lost', when the next attempt is due (Infinity when none is). */
  onStateChange?: (state: TerminalState, retryInMs: number) => void;
  /** After the socket closed and the state changed. `opened`: whether it had opened at all. */
  onClose?: (event: { code: number; reason: string; opened: boolean }) => void;
}

export class ProtocolClient {
  private socket: ProtocolSocket | undefined;
  private currentState: TerminalState = 'connecting';
  private currentInstance: string;
  /** Output position of the last byte received (handed to onOutput). */
  private received: number | null;
  /** Output position of the last byte processed. */
  private processed = 0;
  private acked = 0;
  /** Output position where the last attach's replay ends and new output starts. */
  private live = 0;
  private size: { cols: number; rows: number };
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Whether the server takes this page's input and size (a viewer's it does not, until the owner hands over the keyboard). */
  private typing = true;

  constructor(private readonly options: ProtocolClientOptions) {
    this.received = options.position ?? null;
    this.currentInstance = options.instance ?? '';
    this.size = { cols: options.cols, rows: options.rows };
  }

  get state(): TerminalState {
    return this.currentState;
  }

  /** Output position after the last byte received; null before the first attach when none was given. */
  get position(): number | null {
    return this.received;
  }

  /** The session instance attached to ('' before the first attach, or for a new shell). */
  get instance(): string {
    return this.currentInstance;
  }

  /** Whether input and size are sent: false for a viewer without the keyboard (the server would refuse them). */
  get canType(): boolean {
    return this.typing;
  }

  /** Connects (again) now, attaching where the output left off. */
  connect(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setState('connecting');
    const attach = encodeAttach({
      position: this.received,
      cols: this.size.cols,
      rows: this.size.rows,
      instance: this.instance,
    });
    const ws = this.options.openSocket(`${ATTACH_QUERY}=${attachQueryValue(attach)}`);
    this.socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (event) => {
      const data = event.data;
      const frame = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : undefined;
      if (!frame) return;
      if (frame[0] === ServerType.Output) this.onOutput(frame.subarray(1));
      else if (frame[0] === ServerType.Control) this.onControl(frame);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      if (this.currentState === 'exited' || event.code === CloseCode.SessionEnded) this.setState('exited');
      else if (refusals.has(event.code)) this.setState('refused');
      else this.scheduleReconnect();
      this.options.onClose?.({ code: event.code, reason: event.reason, opened });
    };
  }

  /** Attaches without an instance or position: a new shell if the session's has ended. */
  startNewShell(): void {
    this.currentInstance = '';
    this.received = null;
    this.connect();
  }

  /** Sends input (typed or pasted) when connected, in frames the server takes; otherwise drops it. */
  input(bytes: Uint8Array): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN || this.currentState !== 'connected' || !this.typing) return;
    for (const piece of splitUtf8(bytes)) socket.send(encodeInput(piece));
  }

  /** The terminal's size: sent now when connected, and with every attach. */
  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    const socket = this.socket;
    if (socket && socket.readyState === OPEN && this.currentState === 'connected' && this.typing)
      socket.send(encodeResize(cols, rows));
  }

  /** The owner gives a viewer the keyboard, or takes it back. */
  setKeyboard(user: string, allow: boolean): void {
    const socket = this.socket;
    if (socket && socket.readyState === OPEN && this.currentState === 'connected')
      socket.send(encodeKeyboard(allow, user));
  }

  /** Acknowledges output up to `position` (with autoAck off, the only way acks are sent). */
  ack(position: number): void {
    this.acked = position;
    const socket = this.socket;
    if (socket && socket.readyState === OPEN) socket.send(encodeAck(position));
  }

  /**
   * Closes the connection for good: no reconnecting. What was already on its way
   * is still reported until the socket has closed. No code: none is sent (1005).
   */
  close(code?: number): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.socket?.close(code);
  }

  private onOutput(bytes: Uint8Array): void {
    const start = this.received ?? 0;
    // The server ends a replay with a frame of its own; one across the end is split all the same.
    if (start < this.live && start + bytes.length > this.live) {
      const cut = this.live - start;
      this.deliver(bytes.subarray(0, cut));
      this.deliver(bytes.subarray(cut));
      return;
    }
    this.deliver(bytes);
  }

  private deliver(bytes: Uint8Array): void {
    const start = this.received ?? 0;
    const end = start + bytes.length;
    this.received = end;
    const sentOn = this.socket;
    const replayed = start < this.live;
    this.options.onOutput(
      bytes,
      () => {
        this.processed = Math.max(this.processed, end);
        // Every ackEveryBytes, and only then: an ack is a frame of its own, and one
        // for less could not change what the server decides (it resumes a session
        // and lets a lagging page catch up at lowWaterBytes, which is more), so
        // typing costs one frame each way, as it would without flow control.
        if (this.options.autoAck === false) return;
        if (this.processed - this.acked >= FlowControl.ackEveryBytes) {
          this.acked = this.processed;
          // An ack belongs to the connection the output came on.
          if (sentOn && sentOn === this.socket && sentOn.readyState === OPEN) sentOn.send(encodeAck(this.processed));
        }
      },
      replayed,
    );
  }

  private onControl(frame: Uint8Array): void {
    const message = decodeControl(frame);
    if (!message) return;
    if (message.type === 'attached') {
      this.currentInstance = message.instance;
      this.received = message.position;
      this.processed = message.position;
      this.acked = message.position;
      this.live = message.live;
      this.retries = 0;
      this.typing = message.canType;
    } else if (message.type === 'access') {
      this.typing = message.canType;
    }
    this.options.onControl?.(message);
    if (message.type === 'attached') this.setState('connected');
    else if (message.type === 'exit' || message.type === 'gone') this.setState('exited');
  }

  private scheduleReconnect(): void {
    if (this.options.reconnect === false || this.closed) {
      this.setState('lost', Number.POSITIVE_INFINITY);
      return;
    }
    // Doubling delays, with jitter so a room full of pages does not come back in lockstep after a restart.
    const jitter = 1 - Reconnect.jitter + Math.random() * 2 * Reconnect.jitter;
    const delay = Math.min(Reconnect.maxDelayMs, Reconnect.firstDelayMs * 2 ** this.retries) * jitter;
    this.retries++;
    this.setState('lost', delay);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private setState(next: TerminalState, retryInMs = 0): void {
    this.currentState = next;
    this.options.onStateChange?.(next, retryInMs);
  }
}
