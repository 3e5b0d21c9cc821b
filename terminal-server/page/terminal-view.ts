// A terminal view: xterm.js wired to the protocol client, with its own status
// box. A page mounts one per session it shows (the stand-alone terminal page
// one, the dashboard several); each has its own socket, status and size.
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import type { Access, ServerControl } from '../../common/src/protocol.js';
import { FileTransfers } from './file-transfer.js';
import { KeyBar } from './key-bar.js';
import { OutputPacer } from './output-pacer.js';
import { ProtocolClient, type TerminalState } from './protocol-client.js';
import { Renderer } from './renderer.js';
import { handleFontSizeKey, SettingsMenu, terminalOptions, terminalSettings } from './settings.js';
import { ViewHeader } from './view-header.js';
import { followVisualViewport } from './visual-viewport.js';
import { WatchBox } from './watch-box.js';

export type { TerminalState } from './protocol-client.js';

export interface TerminalViewOptions {
  /** The page's URL prefix, e.g. '' or '/user/alice' (the socket is `${prefix}/terminal/socket/<session>` on this host, ws/wss after the page's scheme). */
  prefix: string;
  session: string;
  /**
   * Where to show the connection status; by default the view adds a box to its container.
   * Either way the box gets the class `terminal-status` and the state's (terminal-view.css).
   */
  statusBox?: HTMLElement;
  /** Called on each change of `state` (after the container's data-state and data-replay are set). */
  onStateChange?: (state: TerminalState) => void;
  /** A key bar the page's views share (key-bar.ts); by default the view has its own. */
  keyBar?: KeyBar;
}

/**
 * Latin monospace first; then CJK and symbol fonts for the characters those lack (the browser
 * looks for each character along the list): Debian's (the image's), then other systems'.
 */
const TERMINAL_FONTS = [
  '"DejaVu Sans Mono"',
  '"Cascadia Mono"',
  'Menlo',
  'Consolas',
  '"Liberation Mono"',
  '"Noto Sans Mono CJK SC"',
  '"WenQuanYi Micro Hei Mono"',
  '"Droid Sans Fallback"',
  '"Noto Sans Symbols 2"',
  '"Noto Sans Symbols"',
  'Symbola',
  '"Segoe UI Symbol"',
  '"Apple Symbols"',
  'monospace',
].join(', ');
const isMac = /Mac|iPhone|iPad/.test(navigator.platform);
const isWindows = /Win/.test(navigator.platform);
const encoder = new TextEncoder();
/** Input kept for a terminal that is not connected yet: a few commands, not a paste. */
const MAX_EARLY_INPUT = 64 << 10;

export class TerminalView {
  /** The xterm.js terminal (for tests, and people debugging in the console). */
  readonly terminal: Terminal;
  readonly session: string;
  private readonly client: ProtocolClient;
  private readonly fitAddon = new FitAddon();
  private readonly pacer: OutputPacer;
  private readonly statusBox: HTMLElement;
  private readonly ownStatusBox: boolean;
  private readonly resizeObserver: ResizeObserver;
  /** Esc, Tab, Ctrl, arrows… on touch devices (key-bar.ts). */
  private readonly keyBar: KeyBar;
  private readonly renderer: Renderer;
  private readonly settingsMenu: SettingsMenu;
  private readonly transfers: FileTransfers;
  /** The strip above the rows: buttons, watchers, keyboard notes (view-header.ts). */
  private readonly header: ViewHeader;
  private exitText = '';
  private lastError = '';
  private countdown: number | undefined;
  private connectingTimer: number | undefined;
  private disposed = false;
  /** Input given through input() before the terminal was connected. */
  private early = '';
  private readonly watchBox: WatchBox;
  /** How this page holds the session (from the server): the owner's until it says otherwise. */
  private access: Access = 'owner';
  /** The terminal's size as the server has it: a page that cannot type shows it at that size. */
  private sessionSize: { cols: number; rows: number } | undefined;
  private owner = '';
  /** Whether other people's servers share this page's origin (from the server), for the viewer's notice. */
  private sharedOrigin = false;
  /**
   * For each output write xterm.js has not finished parsing, oldest first: whether it is
   * replayed history. xterm.js parses writes in order and calls each one's callback
   * before it parses the next, so the first is the one being parsed now.
   */
  private readonly replayedWrites: boolean[] = [];

  constructor(
    private readonly container: HTMLElement,
    private readonly options: TerminalViewOptions,
  ) {
    this.session = options.session;
    const term = new Terminal({
      allowProposedApi: true, // unicode11
      // A blinking cursor redraws the screen on its own timer: during a flood of
      // output that more than doubled the frames drawn (measured in bench/).
      cursorBlink: false,
      fontFamily: TERMINAL_FONTS,
      ...terminalOptions(terminalSettings().current), // font size and theme, kept per browser
      scrollback: 10000,
      macOptionIsMeta: true,
      rightClickSelectsWord: false,
    });
    this.terminal = term;
    term.loadAddon(this.fitAddon);
    term.loadAddon(new WebLinksAddon());
    const unicode = new Unicode11Addon();
    term.loadAddon(unicode);
    term.unicode.activeVersion = '11';
    term.open(container);
    // Fitted again when the DOM renderer takes over: its cells may be another size.
    this.renderer = new Renderer(term, container, () => this.fit());
    this.header = new ViewHeader(container, term);
    this.settingsMenu = new SettingsMenu(container, term, () => this.fit());
    this.keyBar = options.keyBar ?? new KeyBar(container, term);
    if (options.keyBar) {
      const claim = () => this.keyBar.setTarget(term, this.client.canType);
      term.textarea?.addEventListener('focus', claim);
      // The first view has the keys until another takes the focus (a page's view can type until the server says otherwise).
      if (!this.keyBar.target) this.keyBar.setTarget(term, true);
    }
    followVisualViewport();
    this.fitAddon.fit();
    this.pacer = new OutputPacer(term);

    this.ownStatusBox = !options.statusBox;
    if (options.statusBox) {
      this.statusBox = options.statusBox;
    } else {
      this.statusBox = document.createElement('div');
      this.statusBox.setAttribute('role', 'status');
      this.statusBox.setAttribute('aria-live', 'polite');
      this.statusBox.hidden = true;
      container.append(this.statusBox);
    }

    const url = new URL(`${options.prefix}/terminal/socket/${encodeURIComponent(options.session)}`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socketUrl = url.href;
    this.client = new ProtocolClient({
      openSocket: (query) => {
        const socket = new WebSocket(`${socketUrl}?${query}`);
        socket.binaryType = 'arraybuffer';
        return socket;
      },
      cols: term.cols,
      rows: term.rows,
      onOutput: (bytes, processed, replayed) => {
        if (this.disposed) return;
        // Before the write: xterm.js may parse it at once, inside write().
        this.replayedWrites.push(replayed);
        this.pacer.write(bytes, () => {
          this.replayedWrites.shift();
          processed();
        });
      },
      onControl: (message) => this.onControl(message),
      onStateChange: (state, retryInMs) => {
        this.showState(state, retryInMs);
        if (state === 'connected' && this.early) {
          const text = this.early;
          this.early = '';
          this.client.input(encoder.encode(text));
        }
      },
      onClose: ({ opened }) => {
        // A socket refused before it opened may mean the login has ended (logged
        // out, or the proxy restarted with a new key): the page itself then knows.
        if (!opened && !this.disposed && this.client.state === 'lost') void reloadIfLoggedOut();
      },
    });

    this.watchBox = new WatchBox(container, (user, allow) => this.client.setKeyboard(user, allow));

    term.onData((typed) => {
      if (!this.client.canType) return;
      const data = this.keyBar.modify(typed);
      if (this.client.state === 'exited') {
        if (data === '\r') this.startNewShell();
        return;
      }
      this.client.input(encoder.encode(data));
    });
    // Mouse reports in the legacy encoding are bytes, one per character.
    term.onBinary((data) => {
      const bytes = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
      this.client.input(bytes);
    });
    term.onResize(({ cols, rows }) => this.client.resize(cols, rows));
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(container);
    this.wireClipboard();
    this.transfers = new FileTransfers(container, term, {
      prefix: options.prefix,
      session: options.session,
      // Output parsed outside a write of ours is not known to be new.
      replaying: () => this.replayedWrites[0] ?? true,
      answer: (text) => this.client.input(encoder.encode(text)),
    });
    this.header.placeControls(this.transfers.uploadButton, this.settingsMenu.button, this.settingsMenu.panel);
    this.header.placeBelow(this.watchBox.element);
    window.addEventListener('online', this.onOnline);
    document.addEventListener('visibilitychange', this.onVisibilityChange);

    this.client.connect();
  }

  /** 'connecting' | 'connected' | 'lost' | 'exited' | 'refused' */
  get state(): TerminalState {
    return this.client.state;
  }

  /** Whether this page's input reaches the shell: false while viewing someone else's terminal without the keyboard. */
  get canType(): boolean {
    return this.client.canType;
  }

  /** Types text into the session (as if pasted/typed; `\r` is Enter). */
  input(text: string): void {
    this.terminal.scrollToBottom();
    if (this.client.state === 'connected') {
      this.client.input(encoder.encode(text));
      return;
    }
    // A click on a workshop's command just after the page opened (or during a
    // reconnect) goes in once the terminal is there, not nowhere.
    if (this.early.length + text.length <= MAX_EARLY_INPUT) this.early += text;
  }

  /**
   * Types a command and Enter, as a workshop's execute block does. At a prompt
   * (the normal screen, not a full-screen program's) what is already on the input
   * line goes first, as Ctrl-E Ctrl-U would (end of line, erase to its start:
   * readline, zsh's editor, and a terminal's own line editing all know them), so a
   * stray key or a half-typed word does not become part of the command.
   */
  runCommand(command: string): void {
    const clearLine = this.terminal.buffer.active.type === 'alternate' ? '' : '\x05\x15';
    this.input(`${clearLine}${command}\r`);
  }

  /** Ctrl-C. */
  interrupt(): void {
    this.input('\x03');
  }

  /** Clears the screen and scrollback on this page (like xterm's clear) and sends Ctrl-L to the shell. */
  clear(): void {
    this.terminal.clear();
    this.input('\x0c');
  }

  focus(): void {
    this.terminal.focus();
  }

  /** False hides the touch devices' key bar (a page that cannot type); true shows it again on touch devices. */
  allowKeyBar(allowed: boolean): void {
    this.allowKeys(allowed);
  }

  /**
   * Fits the terminal to its container (call after the container changes size).
   * A page that cannot type shows the terminal at the size its owner gave it instead.
   */
  fit(): void {
    if (this.disposed) return;
    const size = this.sessionSize;
    if (this.client.canType || !size) this.fitAddon.fit();
    else if (size.cols !== this.terminal.cols || size.rows !== this.terminal.rows)
      this.terminal.resize(size.cols, size.rows);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.transfers.dispose();
    this.client.close();
    this.resizeObserver.disconnect();
    if (!this.options.keyBar) this.keyBar.dispose();
    else if (this.keyBar.target === this.terminal) this.keyBar.setTarget(null, false);
    this.settingsMenu.dispose();
    this.header.dispose();
    window.removeEventListener('online', this.onOnline);
    document.removeEventListener('visibilitychange', this.onVisibilityChange);
    window.clearInterval(this.countdown);
    window.clearTimeout(this.connectingTimer);
    this.watchBox.element.remove();
    if (this.ownStatusBox) this.statusBox.remove();
    else this.statusBox.hidden = true;
    this.pacer.dispose();
    this.renderer.dispose();
    this.terminal.dispose();
  }

  /** Shows or hides the key bar, a shared one only while it types into this view. */
  private allowKeys(allowed: boolean): void {
    if (this.keyBar.target === this.terminal) this.keyBar.setAllowed(allowed);
  }

  private readonly onOnline = () => {
    if (this.client.state === 'lost') this.client.connect();
  };

  private readonly onVisibilityChange = () => {
    if (document.visibilityState === 'visible' && this.client.state === 'lost') this.client.connect();
  };

  private startNewShell(): void {
    this.resetTerminal();
    this.client.startNewShell();
  }

  private resetTerminal(): void {
    this.pacer.reset();
    this.terminal.reset();
  }

  private onControl(message: ServerControl): void {
    switch (message.type) {
      case 'attached':
        if (message.reset) this.resetTerminal();
        // How the last attach went, for whoever looks at the page (tests do): an exact continuation or a replay.
        this.container.dataset.replay = message.reset ? 'reset' : 'exact';
        this.access = message.access;
        this.owner = message.owner;
        this.sharedOrigin = message.sharedOrigin;
        this.sessionSize = { cols: message.cols, rows: message.rows };
        this.showAccess();
        return;
      case 'size':
        this.sessionSize = { cols: message.cols, rows: message.rows };
        this.fit();
        return;
      case 'access':
        this.sessionSize = { cols: message.cols, rows: message.rows };
        this.showAccess();
        return;
      case 'viewers':
        if (this.access === 'owner') this.watchBox.showOwner(message.watching, message.keyboard);
        return;
      case 'exit':
        this.exitText = `The shell exited${message.code ? ` with code ${message.code}` : ''}${message.signal ? ` (signal ${message.signal})` : ''}.`;
        return;
      case 'gone':
        this.exitText =
          'The shell of this session has ended while the page was away (the terminal server restarted, or the shell exited).';
        return;
      case 'error':
        console.warn(`terminal server: ${message.message}`);
        this.lastError = message.message;
        return;
    }
  }

  /** After the server said what this page may do: read-only or not, the box, the size. */
  private showAccess(): void {
    const canType = this.client.canType;
    this.container.dataset.access = WatchBox.label(this.access, canType);
    this.terminal.options.disableStdin = !canType;
    this.allowKeys(canType);
    // Files are the owner's: the server refuses a viewer's, keyboard or not.
    this.transfers.setEnabled(this.access === 'owner');
    if (this.access === 'viewer') this.watchBox.showViewer(this.owner, canType, this.sharedOrigin);
    else if (this.watchBox.element.dataset.for === 'viewer') this.watchBox.hide();
    this.fit();
  }

  // ---- Status --------------------------------------------------------------

  private showState(state: TerminalState, retryInMs: number): void {
    if (this.disposed) return;
    this.container.dataset.state = state;
    this.options.onStateChange?.(state);
    window.clearInterval(this.countdown);
    window.clearTimeout(this.connectingTimer);
    const box = this.statusBox;
    box.className = `terminal-status ${state}`;
    switch (state) {
      case 'connected':
        box.hidden = true;
        return;
      case 'connecting':
        // Only show "connecting" when it takes a moment.
        box.hidden = true;
        this.connectingTimer = window.setTimeout(() => {
          if (this.client.state === 'connecting') this.show('Connecting…');
        }, 400);
        return;
      case 'lost': {
        const until = Date.now() + retryInMs;
        const tick = () =>
          this.show(
            `Connection lost. Reconnecting in ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s… `,
            'Reconnect now',
            () => this.client.connect(),
          );
        tick();
        this.countdown = window.setInterval(tick, 1000);
        return;
      }
      case 'exited':
        this.show(`${this.exitText || 'The session ended.'} Press Enter, or `, 'start a new shell', () =>
          this.startNewShell(),
        );
        return;
      case 'refused':
        this.show(`${this.lastError || 'The terminal server refused this session.'} `, 'Try again', () =>
          this.client.connect(),
        );
        return;
    }
  }

  private show(text: string, action?: string, onAction?: () => void): void {
    const box = this.statusBox;
    box.hidden = false;
    box.textContent = text;
    if (action && onAction) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = action;
      button.addEventListener('click', () => {
        onAction();
        this.terminal.focus();
      });
      box.append(button);
    }
  }

  // ---- Clipboard -----------------------------------------------------------

  private wireClipboard(): void {
    const term = this.terminal;
    const copySelection = (): void => {
      const text = term.getSelection();
      if (!text) return;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).catch(() => document.execCommand('copy'));
      } else {
        document.execCommand('copy');
      }
    };

    // Copy on selection, as terminals on Linux do.
    term.onSelectionChange(() => {
      if (term.hasSelection()) copySelection();
    });

    term.attachCustomKeyEventHandler((event) => {
      if (!this.header.handleKey(event, this.client.canType)) return false;
      if (event.type !== 'keydown') return true;
      if (handleFontSizeKey(event)) return false;
      const key = event.key.toLowerCase();
      const ctrlShift = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
      if (ctrlShift && key === 'c') {
        copySelection();
        event.preventDefault(); // Ctrl+Shift+C would open the browser's inspector
        return false;
      }
      // Returning false without preventing the default lets the browser fire its
      // own paste event, which xterm.js turns into input (bracketed when asked).
      // This works in Chromium, Firefox and Safari without clipboard permissions.
      if (ctrlShift && key === 'v') return false;
      if (isWindows && event.ctrlKey && !event.shiftKey && !event.altKey) {
        if (key === 'v') return false; // Windows users expect Ctrl+V to paste
        if (key === 'c' && term.hasSelection()) {
          copySelection();
          term.clearSelection();
          event.preventDefault();
          return false;
        }
      }
      if (isMac && event.metaKey && (key === 'c' || key === 'v')) return false;
      return true;
    });
  }
}

/** Reloads the page (through the login) when loading it again would not give the terminal. */
async function reloadIfLoggedOut(): Promise<void> {
  let response: Response;
  try {
    response = await fetch(location.href, { redirect: 'manual', cache: 'no-store', credentials: 'same-origin' });
  } catch {
    return; // the server is away: reconnecting goes on
  }
  if (response.type !== 'opaqueredirect' && response.status !== 401 && response.status !== 403) return;
  // At most once a minute, so a login that cannot stick never turns into a reload loop.
  const last = Number(sessionStorage.getItem('terminal-login-reload') ?? 0);
  if (Date.now() - last < 60_000) return;
  sessionStorage.setItem('terminal-login-reload', String(Date.now()));
  location.reload();
}
