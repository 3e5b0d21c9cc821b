// Who else is on a terminal, in a small box in a corner of its view: a viewer
// sees whose terminal they are watching and whether they may type; the owner
// sees who is watching, and gives each of them the keyboard or takes it back.
import type { Access } from '../src/protocol.js';

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

  /** A viewer's page: whose terminal, and whether they have the keyboard. */
  showViewer(owner: string, canType: boolean): void {
    const whose = owner ? `${owner}'s terminal` : 'this terminal';
    this.element.hidden = false;
    this.element.dataset.for = 'viewer';
    this.element.replaceChildren(
      line(
        canType
          ? `Viewing ${whose}: you have the keyboard until its owner takes it back`
          : `Viewing ${whose}: read-only`,
      ),
    );
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

function line(text: string): HTMLElement {
  const row = document.createElement('div');
  row.className = 'terminal-watch-line';
  const span = document.createElement('span');
  span.textContent = text;
  row.append(span);
  return row;
}
