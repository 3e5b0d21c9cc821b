// Who else is on a terminal, in a small box in a corner of its view: a viewer
// sees whose terminal they are watching and whether they may type (and, on a
// shared origin, once, what watching trusts its owner with); the owner sees who
// is watching, and gives each of them the keyboard or takes it back.
import type { Access } from '../../common/src/protocol.js';

/**
 * Where the browser remembers that the watcher has read the shared-origin notice.
 * On a shared origin every server there can write this too: the notice is a
 * courtesy of an honest server, and the README says the same for everyone.
 */
const SHARED_ORIGIN_NOTICE_KEY = 'workshop-terminal-shared-origin-notice';

export class WatchBox {
  readonly element = document.createElement('div');

  constructor(
    container: HTMLElement,
    private readonly setKeyboard: (user: string, allow: boolean) => void,
  ) {
    this.element.className = 'terminal-watch';
    this.element.setAttribute('role', 'status');
    this.element.setAttribute('aria-live', 'polite');
    this.element.hidden = true;
    container.append(this.element);
  }

  /**
   * A viewer's page: whose terminal, and whether they have the keyboard. On a
   * shared origin, until the watcher has read it once: what watching trusts the owner with.
   */
  showViewer(owner: string, canType: boolean, sharedOrigin: boolean): void {
    const whose = owner ? `${owner}'s terminal` : 'this terminal';
    this.element.hidden = false;
    this.element.dataset.for = 'viewer';
    const lines = [
      line(
        canType
          ? `Viewing ${whose}: you have the keyboard until its owner takes it back`
          : `Viewing ${whose}: read-only`,
      ),
    ];
    if (sharedOrigin && !noticeRead()) {
      const notice = line(
        `This page comes from ${owner ? `${owner}'s` : 'its owner’s'} own server, which shares its web origin with your terminal and your hub login. ` +
          `Whoever runs a server can change its pages, so a page of theirs can act as you there (type in your terminal, use the hub as you). ` +
          'Watch only someone you trust with that; the hub’s admin can give every server an origin of its own (subdomain_host).',
      );
      notice.dataset.notice = 'shared-origin';
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Understood';
      button.addEventListener('click', () => {
        rememberNoticeRead();
        notice.remove();
      });
      notice.append(button);
      lines.push(notice);
    }
    this.element.replaceChildren(...lines);
  }

  /** The owner's page: every viewer watching, and those given the keyboard who are away. */
  showOwner(watching: readonly string[], keyboard: readonly string[]): void {
    const viewers = new Map<string, { attached: boolean }>();
    for (const user of watching) viewers.set(user, { attached: true });
    for (const user of keyboard) if (!viewers.has(user)) viewers.set(user, { attached: false });
    this.element.dataset.for = 'owner';
    this.element.hidden = viewers.size === 0;
    const lines = [...viewers].map(([user, { attached }]) => {
      const typing = keyboard.includes(user);
      const text = typing
        ? `${user || 'someone'} has the keyboard${attached ? '' : ' (not watching now)'}`
        : `${user || 'someone'} is watching`;
      const row = line(text);
      row.dataset.user = user;
      row.dataset.keyboard = String(typing);
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = typing ? 'Take the keyboard back' : 'Give the keyboard';
      button.addEventListener('click', () => this.setKeyboard(user, !typing));
      row.append(button);
      return row;
    });
    this.element.replaceChildren(...lines);
  }

  hide(): void {
    this.element.hidden = true;
  }

  static label(access: Access, canType: boolean): 'owner' | 'viewer' | 'keyboard' {
    return access === 'owner' ? 'owner' : canType ? 'keyboard' : 'viewer';
  }
}

function noticeRead(): boolean {
  try {
    return localStorage.getItem(SHARED_ORIGIN_NOTICE_KEY) === 'read';
  } catch {
    return false; // storage disabled: shown on each page
  }
}

function rememberNoticeRead(): void {
  try {
    localStorage.setItem(SHARED_ORIGIN_NOTICE_KEY, 'read');
  } catch {
    // Storage refused: gone from this page only.
  }
}

function line(text: string): HTMLElement {
  const row = document.createElement('div');
  row.className = 'terminal-watch-line';
  const span = document.createElement('span');
  span.textContent = text;
  row.append(span);
  return row;
}
