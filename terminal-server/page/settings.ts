// The terminal's settings, kept per browser: font size and theme. One store for
// the page (every terminal view on it follows it, and other tabs of the same
// site through the storage event), and a small menu behind a gear button in
// each view's corner.
import type { ITheme, Terminal } from '@xterm/xterm';
import { icon } from './icons.js';

export const THEME_NAMES = ['dark', 'light', 'high-contrast'] as const;
export type ThemeName = (typeof THEME_NAMES)[number];

export interface TerminalSettings {
  fontSize: number;
  theme: ThemeName;
}

export const DEFAULT_SETTINGS: Readonly<TerminalSettings> = Object.freeze({ fontSize: 14, theme: 'dark' });
/** Smaller is unreadable; larger leaves a phone a dozen columns. */
export const FONT_SIZE_RANGE = Object.freeze({ min: 8, max: 32 });
export const STORAGE_KEY = 'workshop-terminal-settings';

const THEME_LABELS: Record<ThemeName, string> = { dark: 'Dark', light: 'Light', 'high-contrast': 'High contrast' };

/** xterm.js colours of each theme, and the contrast xterm.js enforces between text and its background. */
export const THEMES: Record<ThemeName, { theme: ITheme; minimumContrastRatio: number }> = {
  // xterm.js's own colours, as before there were themes.
  dark: { theme: { background: '#000000', foreground: '#ffffff' }, minimumContrastRatio: 1 },
  // GitHub's light terminal colours; 4.5 (WCAG AA) keeps yellow and cyan output readable on white.
  light: {
    theme: {
      background: '#ffffff',
      foreground: '#1f2328',
      cursor: '#1f2328',
      cursorAccent: '#ffffff',
      selectionBackground: '#b6d7ff',
      black: '#24292f',
      red: '#cf222e',
      green: '#116329',
      yellow: '#4d2d00',
      blue: '#0969da',
      magenta: '#8250df',
      cyan: '#1b7c83',
      white: '#6e7781',
      brightBlack: '#57606a',
      brightRed: '#a40e26',
      brightGreen: '#1a7f37',
      brightYellow: '#633c01',
      brightBlue: '#218bff',
      brightMagenta: '#a475f9',
      brightCyan: '#3192aa',
      brightWhite: '#8c959f',
    },
    minimumContrastRatio: 4.5,
  },
  // Pure black and white, a yellow cursor and selection, and 7:1 (WCAG AAA) for every colour.
  'high-contrast': {
    theme: {
      background: '#000000',
      foreground: '#ffffff',
      cursor: '#ffff00',
      cursorAccent: '#000000',
      selectionBackground: '#ffff00',
      selectionForeground: '#000000',
      black: '#000000',
      red: '#ff6b6b',
      green: '#5cff5c',
      yellow: '#ffff00',
      blue: '#8cb4ff',
      magenta: '#ff8cff',
      cyan: '#5cffff',
      white: '#ffffff',
      brightBlack: '#c0c0c0',
      brightRed: '#ff9999',
      brightGreen: '#99ff99',
      brightYellow: '#ffff99',
      brightBlue: '#b3ccff',
      brightMagenta: '#ffb3ff',
      brightCyan: '#99ffff',
      brightWhite: '#ffffff',
    },
    minimumContrastRatio: 7,
  },
};

/** Settings from what was stored: anything missing, mistyped or out of range falls back to its default. */
export function parseSettings(stored: string | null): TerminalSettings {
  let value: unknown;
  try {
    value = stored === null ? null : JSON.parse(stored);
  } catch {
    value = null;
  }
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const fontSize = record.fontSize;
  const theme = record.theme;
  return {
    fontSize:
      typeof fontSize === 'number' &&
      Number.isInteger(fontSize) &&
      fontSize >= FONT_SIZE_RANGE.min &&
      fontSize <= FONT_SIZE_RANGE.max
        ? fontSize
        : DEFAULT_SETTINGS.fontSize,
    theme: THEME_NAMES.includes(theme as ThemeName) ? (theme as ThemeName) : DEFAULT_SETTINGS.theme,
  };
}

type Listener = (settings: TerminalSettings) => void;

/** The page's settings; `update` stores them and tells every view. */
class SettingsStore {
  private value: TerminalSettings = parseSettings(readStored());
  private readonly listeners = new Set<Listener>();

  constructor() {
    // Another tab changed them: follow.
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY && event.key !== null) return;
      this.value = parseSettings(readStored());
      this.notify();
    });
    markPage(this.value);
  }

  get current(): TerminalSettings {
    return this.value;
  }

  update(change: Partial<TerminalSettings>): void {
    const next = parseSettings(JSON.stringify({ ...this.value, ...change }));
    if (next.fontSize === this.value.fontSize && next.theme === this.value.theme) return;
    this.value = next;
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    } catch {
      // Storage refused (private mode, full, disabled): the change holds for this page.
    }
    this.notify();
  }

  /** Font size one step bigger (+1), smaller (-1), or back to the default (0). */
  stepFontSize(step: -1 | 0 | 1): void {
    const size = step === 0 ? DEFAULT_SETTINGS.fontSize : this.value.fontSize + step;
    this.update({ fontSize: Math.min(FONT_SIZE_RANGE.max, Math.max(FONT_SIZE_RANGE.min, size)) });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(): void {
    markPage(this.value);
    for (const listener of this.listeners) listener(this.value);
  }
}

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: defaults
  }
}

/** The page's surroundings follow the theme through `<html data-terminal-theme>` (terminal.css). */
function markPage(settings: TerminalSettings): void {
  document.documentElement.dataset.terminalTheme = settings.theme;
}

let store: SettingsStore | undefined;
/** The one store of the page, made when the first view asks. */
export function terminalSettings(): SettingsStore {
  store ??= new SettingsStore();
  return store;
}

/** The xterm.js options for settings (for the constructor, or to assign one by one). */
export function terminalOptions(settings: TerminalSettings): {
  fontSize: number;
  theme: ITheme;
  minimumContrastRatio: number;
} {
  const { theme, minimumContrastRatio } = THEMES[settings.theme];
  return { fontSize: settings.fontSize, theme, minimumContrastRatio };
}

/**
 * Ctrl+= (or Ctrl++), Ctrl+- and Ctrl+0 change the font size, as they zoom a browser page: for a
 * key handler of xterm.js. True when the key was one of them; its default (the browser's zoom) is
 * then prevented, and the caller must not let xterm.js send it.
 */
export function handleFontSizeKey(event: KeyboardEvent): boolean {
  if (!event.ctrlKey || event.altKey || event.metaKey) return false;
  // By character, not key position, so it follows the keyboard's layout; Ctrl+Shift+- (Ctrl+_) stays the shell's.
  const step = event.key === '=' || event.key === '+' ? 1 : event.key === '-' ? -1 : event.key === '0' ? 0 : null;
  if (step === null) return false;
  event.preventDefault();
  terminalSettings().stepFontSize(step);
  return true;
}

let menuCount = 0;

/**
 * The gear button in a view's top right corner and its menu: font size and theme. Keyboard
 * accessible: Enter or Space opens it, Tab moves inside it, Escape closes it and gives the
 * keyboard back to the terminal.
 */
export class SettingsMenu {
  readonly button: HTMLButtonElement;
  readonly panel: HTMLElement;
  private readonly sizeOutput: HTMLOutputElement;
  private readonly radios = new Map<ThemeName, HTMLInputElement>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly container: HTMLElement,
    private readonly terminal: Terminal,
    /** Called after new settings are applied to the terminal: the view refits it to the new font size. */
    private readonly onApplied: () => void,
  ) {
    const id = `terminal-settings-${++menuCount}`;
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.className = 'terminal-settings-button';
    this.button.append(icon('settings'));
    this.button.title = 'Terminal settings';
    this.button.setAttribute('aria-label', 'Terminal settings');
    this.button.setAttribute('aria-haspopup', 'dialog');
    this.button.setAttribute('aria-expanded', 'false');
    this.button.setAttribute('aria-controls', id);

    this.panel = document.createElement('div');
    this.panel.className = 'terminal-settings';
    this.panel.id = id;
    this.panel.hidden = true;
    this.panel.setAttribute('role', 'dialog');
    this.panel.setAttribute('aria-label', 'Terminal settings');

    const sizeRow = document.createElement('div');
    sizeRow.className = 'terminal-settings-row';
    sizeRow.setAttribute('role', 'group');
    sizeRow.setAttribute('aria-label', 'Font size');
    const sizeLabel = document.createElement('span');
    sizeLabel.textContent = 'Font size';
    this.sizeOutput = document.createElement('output');
    this.sizeOutput.className = 'terminal-settings-size';
    this.sizeOutput.setAttribute('aria-live', 'polite');
    const store = terminalSettings();
    sizeRow.append(
      sizeLabel,
      this.action('−', 'Smaller text (Ctrl+-)', 'smaller', () => store.stepFontSize(-1)),
      this.sizeOutput,
      this.action('+', 'Larger text (Ctrl+=)', 'larger', () => store.stepFontSize(1)),
      this.action('Reset', 'Default size (Ctrl+0)', 'reset', () => store.stepFontSize(0)),
    );

    const themes = document.createElement('fieldset');
    themes.className = 'terminal-settings-themes';
    const legend = document.createElement('legend');
    legend.textContent = 'Theme';
    themes.append(legend);
    for (const name of THEME_NAMES) {
      const label = document.createElement('label');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = `${id}-theme`;
      radio.value = name;
      radio.addEventListener('change', () => {
        if (radio.checked) store.update({ theme: name });
      });
      this.radios.set(name, radio);
      label.append(radio, ` ${THEME_LABELS[name]}`);
      themes.append(label);
    }
    this.panel.append(sizeRow, themes);

    this.button.addEventListener('click', () => this.toggle(this.panel.hidden));
    this.panel.addEventListener('keydown', this.onKeyDown);
    // Tabbing past its last control (or back past the gear) closes it: no menu left open behind the focus.
    this.panel.addEventListener('focusout', this.onFocusOut);
    this.button.addEventListener('keydown', this.onKeyDown);
    // Before xterm.js's element: the first stop when tabbing into the page (xterm.js keeps Tab for the shell).
    container.prepend(this.button, this.panel);

    this.unsubscribe = store.subscribe((settings) => this.apply(settings));
    this.show(store.current);
  }

  get open(): boolean {
    return !this.panel.hidden;
  }

  toggle(open: boolean): void {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      document.addEventListener('pointerdown', this.onOutside, true);
      this.panel.querySelector<HTMLElement>('button, input:checked')?.focus();
    } else {
      document.removeEventListener('pointerdown', this.onOutside, true);
    }
  }

  dispose(): void {
    this.unsubscribe();
    document.removeEventListener('pointerdown', this.onOutside, true);
    this.button.remove();
    this.panel.remove();
  }

  private apply(settings: TerminalSettings): void {
    const options = terminalOptions(settings);
    this.terminal.options.theme = options.theme;
    this.terminal.options.minimumContrastRatio = options.minimumContrastRatio;
    this.terminal.options.fontSize = options.fontSize;
    this.show(settings);
    this.onApplied();
  }

  /** The menu and the container say what is set (the container's background is the theme's). */
  private show(settings: TerminalSettings): void {
    this.sizeOutput.value = `${settings.fontSize}px`;
    for (const [name, radio] of this.radios) radio.checked = name === settings.theme;
    this.container.dataset.terminalTheme = settings.theme;
    this.container.style.backgroundColor = THEMES[settings.theme].theme.background ?? '';
  }

  private action(text: string, label: string, name: string, onClick: () => void): HTMLButtonElement {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text;
    button.title = label;
    button.dataset.action = name;
    button.setAttribute('aria-label', label);
    button.addEventListener('click', onClick);
    return button;
  }

  private readonly onKeyDown = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape' || !this.open) return;
    event.preventDefault();
    this.toggle(false);
    this.terminal.focus();
  };

  private readonly onFocusOut = (event: FocusEvent): void => {
    const next = event.relatedTarget as Node | null;
    if (next && (this.panel.contains(next) || this.button.contains(next))) return;
    if (next) this.toggle(false);
  };

  private readonly onOutside = (event: PointerEvent): void => {
    const target = event.target as Node;
    if (!this.panel.contains(target) && !this.button.contains(target)) this.toggle(false);
  };
}
