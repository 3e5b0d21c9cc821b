// The key bar of touch devices: the keys an on-screen keyboard lacks (Esc, Tab,
// Ctrl, arrows) and the symbols it hides on a second page, in a row along the
// bottom of the view, so just above the on-screen keyboard.
import type { Terminal } from '@xterm/xterm';

/** Phones and tablets: a coarse pointer first, touch points as a fallback for browsers without the media query. */
const coarsePointer = window.matchMedia('(pointer: coarse)');
export function isTouchDevice(): boolean {
  return coarsePointer.matches || ('ontouchstart' in window && navigator.maxTouchPoints > 0 && !hasFinePointer());
}
function hasFinePointer(): boolean {
  return window.matchMedia('(pointer: fine)').matches;
}

/**
 * What Ctrl makes of a character, as a VT220 or xterm keyboard does: letters and @[\]^_ their
 * C0 control, space and 2 NUL, 3-7 ESC to US, 8 and ? DEL, / and - US (Ctrl+_, undo in
 * readline), ~ RS. Anything else is sent as it is.
 */
export function controlCharacter(text: string): string {
  if (text.length !== 1) return text;
  const code = text.charCodeAt(0);
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code - 0x40);
  if (code >= 0x61 && code <= 0x7a) return String.fromCharCode(code - 0x60);
  const other: Record<string, string> = {
    ' ': '\x00',
    '2': '\x00',
    '3': '\x1b',
    '4': '\x1c',
    '5': '\x1d',
    '6': '\x1e',
    '~': '\x1e',
    '7': '\x1f',
    '/': '\x1f',
    '-': '\x1f',
    '8': '\x7f',
    '?': '\x7f',
  };
  return other[text] ?? text;
}

type Arrow = 'A' | 'B' | 'C' | 'D';

interface Key {
  label: string;
  /**
   * For tooltips; for screen readers too when the label is a symbol. A label in words is the
   * button's name as it is (a spoken name that differs from the visible one confuses voice control).
   */
  name: string;
  /** What it sends: text, an arrow, or the sticky Ctrl. */
  send: string | { arrow: Arrow } | 'ctrl';
}

const KEYS: readonly Key[] = [
  { label: 'Esc', name: 'Escape', send: '\x1b' },
  { label: 'Tab', name: 'Tab', send: '\t' },
  { label: 'Ctrl', name: 'Control (applies to the next key)', send: 'ctrl' },
  { label: '←', name: 'Left', send: { arrow: 'D' } },
  { label: '↑', name: 'Up', send: { arrow: 'A' } },
  { label: '↓', name: 'Down', send: { arrow: 'B' } },
  { label: '→', name: 'Right', send: { arrow: 'C' } },
  { label: '|', name: 'Vertical bar', send: '|' },
  { label: '~', name: 'Tilde', send: '~' },
  { label: '/', name: 'Slash', send: '/' },
  { label: '-', name: 'Minus', send: '-' },
];

/**
 * A row of keys at the bottom of a terminal view, shown on touch devices. Keys are typed through
 * xterm.js (`terminal.input`), so they reach the view's input path exactly as typed keys do.
 * Ctrl is sticky: it applies to the next key, from the bar or from the on-screen keyboard (the
 * view passes what xterm.js reads through `modify`), and a second tap lets go of it.
 *
 * The container gets the class `terminal-key-bar-shown` while the bar shows: its bottom
 * padding (key-bar.css) keeps the bar off the terminal's rows, and changes its size, so the
 * view refits.
 *
 * A page with several terminals (the dashboard) has one bar for all, along its bottom (just above
 * the on-screen keyboard): it types into the terminal that last had the focus (`setTarget`).
 */
export class KeyBar {
  readonly element: HTMLElement;
  private readonly ctrlButton: HTMLButtonElement;
  private ctrl = false;
  private allowed = true;

  constructor(
    private readonly container: HTMLElement,
    /** The terminal the keys go to; none (null) until a view claims a shared bar. */
    private terminal: Terminal | null,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'terminal-key-bar';
    this.element.setAttribute('role', 'toolbar');
    this.element.setAttribute('aria-label', 'Keys');
    let ctrlButton: HTMLButtonElement | undefined;
    for (const key of KEYS) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = key.label;
      button.title = key.name;
      if (!/^[A-Za-z]+$/.test(key.label)) button.setAttribute('aria-label', key.name);
      button.dataset.key = key.label;
      // The terminal keeps the focus, so the on-screen keyboard stays up: no focus
      // for the button, whether from a touch, a pen or a mouse (nor from Tab, which is the shell's).
      button.tabIndex = -1;
      button.addEventListener('pointerdown', preventDefault);
      button.addEventListener('mousedown', preventDefault);
      button.addEventListener('click', () => this.press(key));
      if (key.send === 'ctrl') {
        ctrlButton = button;
        button.setAttribute('aria-pressed', 'false');
      }
      this.element.append(button);
    }
    this.ctrlButton = ctrlButton as HTMLButtonElement;
    container.append(this.element);
    coarsePointer.addEventListener('change', this.update);
    this.update();
  }

  /** The terminal the keys go to. */
  get target(): Terminal | null {
    return this.terminal;
  }

  /** Sends the keys to another terminal from now on (a shared bar), shown when that terminal may be typed into. */
  setTarget(terminal: Terminal | null, allowed: boolean): void {
    if (terminal !== this.terminal) this.setCtrl(false);
    this.terminal = terminal;
    this.setAllowed(allowed && terminal !== null);
  }

  /** Whether Ctrl waits for the next key. */
  get ctrlPending(): boolean {
    return this.ctrl;
  }

  get shown(): boolean {
    return !this.element.hidden;
  }

  /** False hides the bar whatever the device (a page that cannot type: a read-only viewer's); true shows it on touch devices. */
  setAllowed(allowed: boolean): void {
    this.allowed = allowed;
    this.update();
  }

  /** What the terminal read from the keyboard, with the sticky Ctrl applied to it when it is pending. */
  modify(data: string): string {
    if (!this.ctrl || data === '') return data;
    this.setCtrl(false);
    const arrow = /^\x1b[[O]([ABCD])$/.exec(data);
    if (arrow) return `\x1b[1;5${arrow[1]}`;
    // An on-screen keyboard may hand over a whole word at once: Ctrl goes with its first character.
    const first = String.fromCodePoint(data.codePointAt(0) as number);
    return controlCharacter(first) + data.slice(first.length);
  }

  dispose(): void {
    coarsePointer.removeEventListener('change', this.update);
    this.element.remove();
    this.container.classList.remove('terminal-key-bar-shown');
  }

  private press(key: Key): void {
    const terminal = this.terminal;
    if (!terminal) return;
    if (key.send === 'ctrl') {
      this.setCtrl(!this.ctrl);
      // Ctrl is for the on-screen keyboard's next key: bring the keyboard up.
      if (this.ctrl) terminal.focus();
      return;
    }
    let text: string;
    if (typeof key.send === 'string') {
      text = this.ctrl ? controlCharacter(key.send) : key.send;
    } else if (this.ctrl) {
      text = `\x1b[1;5${key.send.arrow}`;
    } else {
      // As xterm.js sends arrows: SS3 in application cursor mode (vim, less), CSI otherwise.
      text = `${terminal.modes.applicationCursorKeysMode ? '\x1bO' : '\x1b['}${key.send.arrow}`;
    }
    this.setCtrl(false);
    terminal.input(text, true);
  }

  private setCtrl(on: boolean): void {
    this.ctrl = on;
    this.ctrlButton.setAttribute('aria-pressed', String(on));
    this.ctrlButton.classList.toggle('active', on);
  }

  private readonly update = (): void => {
    const show = this.allowed && isTouchDevice();
    this.element.hidden = !show;
    this.container.classList.toggle('terminal-key-bar-shown', show);
    if (!show) this.setCtrl(false);
  };
}

function preventDefault(event: Event): void {
  event.preventDefault();
}
