// The strip above a terminal view's rows: its buttons (upload, settings), who else is on it, and
// notes for the keyboard. It sits in the container's top padding and the padding follows its
// height, so nothing in it ever covers the terminal's text (the fit addon sizes the terminal to the
// container's content box).
//
// Leaving by keyboard: a terminal needs Tab, Shift+Tab and Esc for its programs, so they cannot move
// the focus. Ctrl+Shift+L (which no program can tell from Ctrl+L, and no browser takes) arms the
// next key: Tab or Shift+Tab then moves the focus out as on any page; any other key goes to the
// program as usual. Tab (or Shift+Tab) from the controls around it comes back in.
import type { Terminal } from '@xterm/xterm';

/** The chord, as the hint and the README name it. */
export const LEAVE_CHORD = 'Ctrl+Shift+L';
const MODIFIERS = new Set(['Shift', 'Control', 'Alt', 'Meta', 'AltGraph', 'CapsLock']);
/** How long the read-only notice stays after the last key. */
const NOTICE_MS = 4000;

let headerCount = 0;

export function isLeaveChord(event: KeyboardEvent): boolean {
  return event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey && event.key.toLowerCase() === 'l';
}

export class ViewHeader {
  readonly element = document.createElement('div');
  private readonly hint = document.createElement('span');
  private readonly notice = document.createElement('span');
  private readonly controls = document.createElement('span');
  private readonly resizeObserver: ResizeObserver;
  /** The leave chord was pressed: the next Tab or Shift+Tab leaves. */
  private leaving = false;
  private noticeTimer: number | undefined;

  constructor(
    private readonly container: HTMLElement,
    terminal: Terminal,
  ) {
    const id = `terminal-hint-${++headerCount}`;
    this.element.className = 'terminal-header';
    this.hint.className = 'terminal-hint';
    this.hint.id = id;
    this.notice.className = 'terminal-notice';
    this.notice.setAttribute('role', 'status');
    this.notice.hidden = true;
    this.controls.className = 'terminal-header-controls';
    this.element.append(this.hint, this.notice, this.controls);
    container.prepend(this.element);
    this.showHint();
    const textarea = terminal.textarea;
    if (textarea) {
      textarea.setAttribute('aria-describedby', id);
      textarea.addEventListener('focus', () => container.classList.add('terminal-focused'));
      textarea.addEventListener('blur', () => {
        container.classList.remove('terminal-focused');
        this.setLeaving(false);
      });
    }
    // Now, not only when the observer first reports: the view fits the terminal and attaches with
    // its size right after this (the strip's min-height does not wait for its buttons).
    const sync = () => {
      container.style.paddingTop = `${this.element.offsetHeight}px`;
    };
    sync();
    this.resizeObserver = new ResizeObserver(sync);
    this.resizeObserver.observe(this.element);
  }

  /** Puts buttons (in order) at the right end of the strip. */
  placeControls(...elements: HTMLElement[]): void {
    this.controls.append(...elements);
  }

  /** Puts something on a line of its own under the buttons (the watching box). */
  placeBelow(element: HTMLElement): void {
    this.element.append(element);
  }

  /**
   * For the terminal's key handler, before anything else: false when the key was the header's
   * (the leave chord, or the Tab it armed, which the browser then uses to move the focus).
   */
  handleKey(event: KeyboardEvent, canType: boolean): boolean {
    if (event.type !== 'keydown' || MODIFIERS.has(event.key)) return true;
    if (this.leaving) {
      this.setLeaving(false);
      if (event.key === 'Tab' && !event.ctrlKey && !event.altKey && !event.metaKey) return false;
    } else if (isLeaveChord(event)) {
      event.preventDefault();
      this.setLeaving(true);
      return false;
    }
    if (!canType) {
      // Nothing to type into: Tab leaves at once.
      if (event.key === 'Tab') return false;
      this.showReadOnly(event);
    }
    return true;
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    window.clearTimeout(this.noticeTimer);
    this.element.remove();
    this.container.style.paddingTop = '';
  }

  private setLeaving(on: boolean): void {
    if (this.leaving === on) return;
    this.leaving = on;
    this.container.classList.toggle('terminal-leaving', on);
    this.showHint();
  }

  private showHint(): void {
    this.hint.textContent = this.leaving
      ? 'Tab or Shift+Tab: leave the terminal · any other key: stay'
      : `${LEAVE_CHORD}, then Tab: leave the terminal`;
  }

  /**
   * A page that cannot type (a read-only viewer's) says so when a key is pressed, instead of
   * taking it: the key's default (the helper textarea taking the text) would scroll the view.
   */
  private showReadOnly(event: KeyboardEvent): void {
    // Copying a selection is still reading.
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'c') return;
    event.preventDefault();
    this.notice.textContent = 'Read-only: your keys are not sent';
    this.notice.hidden = false;
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => {
      this.notice.hidden = true;
    }, NOTICE_MS);
  }
}
