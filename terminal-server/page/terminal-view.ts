// TEMPORARY stand-in, written for the dashboard: the same connection logic as
// terminal.ts (attach, flow control, reconnect, status), wrapped in a class so
// one page can hold several terminals. The reusable view being extracted from
// terminal.ts replaces this file at merge; only the interface below is relied on.
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import {
  CloseCode,
  decodeControl,
  encodeAck,
  encodeAttach,
  encodeInput,
  encodeResize,
  FlowControl,
  Reconnect,
  ServerType,
  splitUtf8,
} from '../src/protocol.js';

export interface TerminalViewOptions {
  /** The URL prefix the terminal server serves under ('' or '/user/alice'). */
  prefix: string;
  /** The session's name: letters, digits, _ and -. */
  session: string;
}

type State = 'connecting' | 'connected' | 'lost' | 'exited' | 'refused' | 'disposed';

/** Input typed before the socket is attached is kept (up to this much) and sent once it is. */
const MAX_EARLY_INPUT_BYTES = 64 * 1024;

export class TerminalView {
  private readonly term: Terminal;
  private readonly fitAddon = new FitAddon();
  private readonly statusBox: HTMLElement;
  private readonly socketUrl: string;
  private readonly encoder = new TextEncoder();
  private readonly resizeObserver: ResizeObserver;
  private socket: WebSocket | undefined;
  private instance = '';
  private received: number | null = null;
  private processed = 0;
  private acked = 0;
  private retries = 0;
  private retryTimer: number | undefined;
  private exitText = '';
  private lastError = '';
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private current: State = 'connecting';

  constructor(
    private readonly container: HTMLElement,
    options: TerminalViewOptions,
  ) {
    const url = new URL(`${options.prefix}/terminal/socket/${encodeURIComponent(options.session)}`, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.socketUrl = url.href;
    container.classList.add('terminal-view');
    this.statusBox = document.createElement('div');
    this.statusBox.className = 'terminal-view-status';
    this.statusBox.setAttribute('role', 'status');
    this.statusBox.hidden = true;
    const screen = document.createElement('div');
    screen.className = 'terminal-view-screen';
    container.append(screen, this.statusBox);

    this.term = new Terminal({
      allowProposedApi: true,
      cursorBlink: false,
      fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
      fontSize: 14,
      scrollback: 10000,
      macOptionIsMeta: true,
      rightClickSelectsWord: false,
    });
    this.term.loadAddon(this.fitAddon);
    this.term.loadAddon(new WebLinksAddon());
    const unicode = new Unicode11Addon();
    this.term.loadAddon(unicode);
    this.term.unicode.activeVersion = '11';
    this.term.open(screen);
    this.fit();

    this.term.onData((data) => {
      if (this.current === 'exited') {
        if (data === '\r') this.startNewShell();
        return;
      }
      this.send(this.encoder.encode(data));
    });
    this.term.onResize(({ cols, rows }) => {
      if (this.socket?.readyState === WebSocket.OPEN && this.current === 'connected')
        this.socket.send(encodeResize(cols, rows));
    });
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(screen);
    this.connect();
  }

  get state(): string {
    return this.current;
  }

  /** The xterm.js Terminal (the extracted view has it too). */
  get terminal(): Terminal {
    return this.term;
  }

  input(text: string): void {
    if (this.current === 'disposed') return;
    this.send(this.encoder.encode(text));
  }

  interrupt(): void {
    this.input('\x03');
  }

  clear(): void {
    this.term.clear();
  }

  focus(): void {
    this.term.focus();
  }

  fit(): void {
    // A hidden container has no size: fitting it would shrink the terminal to nothing.
    if (this.container.offsetWidth > 0 && this.container.offsetHeight > 0) this.fitAddon.fit();
  }

  dispose(): void {
    this.setState('disposed');
    window.clearTimeout(this.retryTimer);
    this.resizeObserver.disconnect();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    this.term.dispose();
    this.container.replaceChildren();
  }

  private send(bytes: Uint8Array): void {
    if (this.socket?.readyState === WebSocket.OPEN && this.current === 'connected') {
      for (const piece of splitUtf8(bytes)) this.socket.send(encodeInput(piece));
      return;
    }
    if (this.earlyBytes + bytes.length > MAX_EARLY_INPUT_BYTES) return;
    this.early.push(bytes);
    this.earlyBytes += bytes.length;
  }

  private connect(): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setState('connecting');
    const ws = new WebSocket(this.socketUrl);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onopen = () => {
      ws.send(
        encodeAttach({ position: this.received, cols: this.term.cols, rows: this.term.rows, instance: this.instance }),
      );
    };
    ws.onmessage = (event) => {
      const frame = new Uint8Array(event.data as ArrayBuffer);
      if (frame[0] === ServerType.Output) this.onOutput(ws, frame.subarray(1));
      else if (frame[0] === ServerType.Control) this.onControl(frame);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = undefined;
      if (this.current === 'exited' || event.code === CloseCode.SessionEnded) {
        this.setState('exited');
        return;
      }
      if (event.code === CloseCode.TooManySessions) {
        this.setState('refused');
        return;
      }
      this.scheduleReconnect();
    };
  }

  private onOutput(from: WebSocket, bytes: Uint8Array): void {
    const end = (this.received ?? 0) + bytes.length;
    this.received = end;
    this.term.write(bytes, () => {
      this.processed = Math.max(this.processed, end);
      if (this.processed - this.acked >= FlowControl.ackEveryBytes || this.processed === this.received) {
        this.acked = this.processed;
        if (from === this.socket && from.readyState === WebSocket.OPEN) from.send(encodeAck(this.processed));
      }
    });
  }

  private onControl(frame: Uint8Array): void {
    const message = decodeControl(frame);
    if (!message) return;
    switch (message.type) {
      case 'attached': {
        if (message.reset) this.term.reset();
        this.instance = message.instance;
        this.received = message.position;
        this.processed = message.position;
        this.acked = message.position;
        this.retries = 0;
        this.setState('connected');
        const early = this.early;
        this.early = [];
        this.earlyBytes = 0;
        for (const bytes of early) this.send(bytes);
        return;
      }
      case 'exit':
      case 'gone':
        this.exitText = 'The shell of this terminal has ended.';
        this.setState('exited');
        return;
      case 'error':
        this.lastError = message.message;
        return;
    }
  }

  private scheduleReconnect(): void {
    const jitter = 1 - Reconnect.jitter + Math.random() * 2 * Reconnect.jitter;
    const delay = Math.min(Reconnect.maxDelayMs, Reconnect.firstDelayMs * 2 ** this.retries) * jitter;
    this.retries++;
    this.setState('lost');
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  private startNewShell(): void {
    this.instance = '';
    this.received = null;
    this.term.reset();
    this.connect();
  }

  private setState(next: State): void {
    this.current = next;
    this.container.dataset.state = next;
    const box = this.statusBox;
    box.replaceChildren();
    const show = (text: string, action?: string, onAction?: () => void) => {
      box.hidden = false;
      box.textContent = text;
      if (action && onAction) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = action;
        button.addEventListener('click', () => {
          onAction();
          this.term.focus();
        });
        box.append(button);
      }
    };
    switch (next) {
      case 'connected':
      case 'connecting':
      case 'disposed':
        box.hidden = true;
        return;
      case 'lost':
        show('Connection lost. Reconnecting… ', 'Reconnect now', () => this.connect());
        return;
      case 'exited':
        show(`${this.exitText || 'The session ended.'} Press Enter, or `, 'start a new shell', () =>
          this.startNewShell(),
        );
        return;
      case 'refused':
        show(`${this.lastError || 'The terminal server refused this session.'} `, 'Try again', () => this.connect());
        return;
    }
  }
}
