// The terminal page: xterm.js attached to one named session over a WebSocket,
// reconnecting by itself and acknowledging output as it reaches the screen.
import { FitAddon } from '@xterm/addon-fit';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
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

type State = 'connecting' | 'connected' | 'lost' | 'exited' | 'refused';

const container = document.getElementById('terminal') as HTMLElement;
const statusBox = document.getElementById('status') as HTMLElement;
const sessionName = decodeURIComponent(location.pathname.split('/').pop() || '1');
const socketUrl = (() => {
  const url = new URL(location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = url.pathname.replace(/\/session\/[^/]*$/, `/socket/${encodeURIComponent(sessionName)}`);
  url.search = '';
  url.hash = '';
  return url.href;
})();

const isMac = /Mac|iPhone|iPad/.test(navigator.platform);
const isWindows = /Win/.test(navigator.platform);

const term = new Terminal({
  allowProposedApi: true, // unicode11
  // A blinking cursor redraws the screen on its own timer: during a flood of
  // output that more than doubled the frames drawn (measured in bench/).
  cursorBlink: false,
  fontFamily: '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
  fontSize: 14,
  scrollback: 10000,
  macOptionIsMeta: true,
  rightClickSelectsWord: false,
});
const fit = new FitAddon();
term.loadAddon(fit);
term.loadAddon(new WebLinksAddon());
const unicode = new Unicode11Addon();
term.loadAddon(unicode);
term.unicode.activeVersion = '11';
term.open(container);
try {
  const webgl = new WebglAddon();
  webgl.onContextLoss(() => webgl.dispose()); // falls back to the DOM renderer
  term.loadAddon(webgl);
} catch {
  // No WebGL here: the DOM renderer is used.
}
fit.fit();
term.focus();
// For tests and for people debugging in the console.
(window as unknown as { terminal: Terminal }).terminal = term;

// ---- Output position and flow control ------------------------------------

let socket: WebSocket | undefined;
let instance = '';
/** Output position of the last byte received (written or queued in xterm). */
let received: number | null = null;
/** Output position of the last byte xterm has processed. */
let processed = 0;
let acked = 0;

function onOutput(bytes: Uint8Array): void {
  const end = (received ?? 0) + bytes.length;
  received = end;
  const sentOn = socket;
  term.write(bytes, () => {
    processed = Math.max(processed, end);
    if (processed - acked >= FlowControl.ackEveryBytes || processed === received) {
      acked = processed;
      if (sentOn && sentOn === socket && sentOn.readyState === WebSocket.OPEN) sentOn.send(encodeAck(processed));
    }
  });
}

function onControl(frame: Uint8Array): void {
  const message = decodeControl(frame);
  if (!message) return;
  switch (message.type) {
    case 'attached':
      if (message.reset) term.reset();
      // How the last attach went, for whoever looks at the page (tests do): an exact continuation or a replay.
      document.documentElement.dataset.replay = message.reset ? 'reset' : 'exact';
      instance = message.instance;
      received = message.position;
      processed = message.position;
      acked = message.position;
      retries = 0;
      setState('connected');
      return;
    case 'exit':
      exitText = `The shell exited${message.code ? ` with code ${message.code}` : ''}${message.signal ? ` (signal ${message.signal})` : ''}.`;
      setState('exited');
      return;
    case 'gone':
      exitText =
        'The shell of this session has ended while the page was away (the terminal server restarted, or the shell exited).';
      setState('exited');
      return;
    case 'error':
      console.warn(`terminal server: ${message.message}`);
      lastError = message.message;
      return;
  }
}

// ---- Connection ----------------------------------------------------------

let state: State = 'connecting';
let retries = 0;
let retryTimer: number | undefined;
let exitText = '';
let lastError = '';

function connect(): void {
  window.clearTimeout(retryTimer);
  retryTimer = undefined;
  setState('connecting');
  const ws = new WebSocket(socketUrl);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  let opened = false;
  ws.onopen = () => {
    opened = true;
    ws.send(encodeAttach({ position: received, cols: term.cols, rows: term.rows, instance }));
  };
  ws.onmessage = (event) => {
    const frame = new Uint8Array(event.data as ArrayBuffer);
    if (frame[0] === ServerType.Output) onOutput(frame.subarray(1));
    else if (frame[0] === ServerType.Control) onControl(frame);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = undefined;
    if (state === 'exited' || event.code === CloseCode.SessionEnded) {
      setState('exited');
      return;
    }
    if (event.code === CloseCode.TooManySessions) {
      setState('refused');
      return;
    }
    scheduleReconnect();
    // A socket refused before it opened may mean the login has ended (logged
    // out, or the proxy restarted with a new key): the page itself then knows.
    if (!opened) void reloadIfLoggedOut();
  };
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

function scheduleReconnect(): void {
  // Back off from a quarter second to ten seconds, with jitter so a room full of
  // pages does not come back in lockstep after a restart.
  const jitter = 1 - Reconnect.jitter + Math.random() * 2 * Reconnect.jitter;
  const delay = Math.min(Reconnect.maxDelayMs, Reconnect.firstDelayMs * 2 ** retries) * jitter;
  retries++;
  setState('lost', delay);
  retryTimer = window.setTimeout(connect, delay);
}

function startNewShell(): void {
  instance = '';
  received = null;
  term.reset();
  connect();
}

// ---- Status --------------------------------------------------------------

let countdown: number | undefined;

function setState(next: State, retryInMs = 0): void {
  state = next;
  document.documentElement.dataset.state = next;
  window.clearInterval(countdown);
  statusBox.className = next;
  switch (next) {
    case 'connected':
      statusBox.hidden = true;
      return;
    case 'connecting':
      // Only show "connecting" when it takes a moment.
      statusBox.hidden = true;
      window.setTimeout(() => {
        if (state === 'connecting') show('Connecting…');
      }, 400);
      return;
    case 'lost': {
      const until = Date.now() + retryInMs;
      const tick = () =>
        show(
          `Connection lost. Reconnecting in ${Math.max(0, Math.ceil((until - Date.now()) / 1000))} s… `,
          'Reconnect now',
          connect,
        );
      tick();
      countdown = window.setInterval(tick, 1000);
      return;
    }
    case 'exited':
      show(`${exitText || 'The session ended.'} Press Enter, or `, 'start a new shell', startNewShell);
      return;
    case 'refused':
      show(`${lastError || 'The terminal server refused this session.'} `, 'Try again', connect);
      return;
  }
}

function show(text: string, action?: string, onAction?: () => void): void {
  statusBox.hidden = false;
  statusBox.textContent = text;
  if (action && onAction) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action;
    button.addEventListener('click', () => {
      onAction();
      term.focus();
    });
    statusBox.append(button);
  }
}

window.addEventListener('online', () => {
  if (state === 'lost') connect();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state === 'lost') connect();
});

// ---- Input ---------------------------------------------------------------

const encoder = new TextEncoder();

function sendInput(bytes: Uint8Array): void {
  if (!socket || socket.readyState !== WebSocket.OPEN || state !== 'connected') return;
  for (const piece of splitUtf8(bytes)) socket.send(encodeInput(piece));
}

term.onData((data) => {
  if (state === 'exited') {
    if (data === '\r') startNewShell();
    return;
  }
  sendInput(encoder.encode(data));
});
// Mouse reports in the legacy encoding are bytes, one per character.
term.onBinary((data) => {
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 0xff;
  sendInput(bytes);
});

term.onResize(({ cols, rows }) => {
  if (socket && socket.readyState === WebSocket.OPEN && state === 'connected') socket.send(encodeResize(cols, rows));
});
new ResizeObserver(() => fit.fit()).observe(container);

term.onTitleChange((title) => {
  document.title = title || `Terminal ${sessionName}`;
});

// ---- Clipboard -----------------------------------------------------------

function copySelection(): void {
  const text = term.getSelection();
  if (!text) return;
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).catch(() => document.execCommand('copy'));
  } else {
    document.execCommand('copy');
  }
}

// Copy on selection, as terminals on Linux do.
term.onSelectionChange(() => {
  if (term.hasSelection()) copySelection();
});

term.attachCustomKeyEventHandler((event) => {
  if (event.type !== 'keydown') return true;
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

connect();
