// Viewers and the keyboard: who may type in a session (its owner, and the
// viewers the owner gives the keyboard to), and what the owner's pages are told
// of who is watching.
import { FlowControl, type ServerControl, VIEWERS_EVERY_MS } from '../../common/src/protocol.js';
import type { Requester } from '../../common/src/terminal-link.js';

/** What a page asked of a session is not for it to do (a viewer typing, say): the page is told, nothing changes. */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

/** A page attached to a session, as far as who watches and who types go. */
export interface WatchingPage {
  readonly who: Requester;
  readonly link: { sendControl(message: ServerControl): void };
  readonly flow: { readonly lagging: boolean; backlog(): number };
  /** The `viewers` message last sent to this (owner's) page, as sent; '' before the first. */
  viewersSent: string;
  /** True when a `viewers` message was held back because the page was behind: its next ack asks again. */
  viewersHeld: boolean;
}

interface ViewersMessage {
  message: ServerControl & { type: 'viewers' };
  text: string;
}

export class Viewers {
  /** Viewers whose input is taken, until the owner takes the keyboard back. */
  private readonly keyboard = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastRound = 0;
  private stopped = false;

  constructor(private readonly pages: () => Iterable<WatchingPage>) {}

  /** Viewers who have the keyboard (watching now or not). */
  get keyboardUsers(): string[] {
    return [...this.keyboard];
  }

  canType(page: WatchingPage): boolean {
    return page.who.access === 'owner' || this.keyboard.has(page.who.user);
  }

  /**
   * The owner gives a viewer the keyboard or takes it back. Throws RefusedError
   * when the page is not the owner's, or there is no such viewer to give it to;
   * false when nothing changes.
   */
  setKeyboard(from: WatchingPage, user: string, allow: boolean): boolean {
    if (from.who.access !== 'owner') throw new RefusedError("only the terminal's owner can hand over the keyboard");
    if (allow === this.keyboard.has(user)) return false;
    if (allow) {
      const watching = [...this.pages()].some((page) => page.who.access === 'viewer' && page.who.user === user);
      if (!watching) throw new RefusedError(`${user} is not watching this terminal`);
      this.keyboard.add(user);
    } else {
      this.keyboard.delete(user);
    }
    return true;
  }

  /** Tells each page of `user` whether it can type now, and the terminal's size. */
  tellAccess(user: string, size: { cols: number; rows: number }): void {
    const canType = this.keyboard.has(user);
    for (const page of this.pages()) {
      if (page.who.access === 'viewer' && page.who.user === user) {
        page.link.sendControl({ type: 'access', canType, ...size });
      }
    }
  }

  /** A new owner's page learns who watches at once. */
  greet(page: WatchingPage): void {
    this.send(page, this.message());
  }

  /**
   * The owner's pages always know who is watching, but hear of it at most every
   * VIEWERS_EVERY_MS and only when it changed: pages attaching and leaving by
   * the hundred cost each owner's page a few small messages, not one per attach.
   */
  tellOwners(): void {
    if (this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastRound + VIEWERS_EVERY_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRound = performance.now();
      const viewers = this.message();
      for (const page of this.pages()) if (page.who.access === 'owner') this.send(page, viewers);
    }, wait);
    this.timer.unref();
  }

  /** The session ended: nobody is told anything more. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Who is watching and who has the keyboard, for the owner's pages (each viewer once, in order), and as text to compare. */
  private message(): ViewersMessage {
    const watching = new Set<string>();
    for (const page of this.pages()) if (page.who.access === 'viewer') watching.add(page.who.user);
    const message: ViewersMessage['message'] = {
      type: 'viewers',
      watching: [...watching].sort(),
      keyboard: [...this.keyboard].sort(),
    };
    return { message, text: JSON.stringify(message) };
  }

  /**
   * Sends the message unless the page has it already. It counts in the page's
   * backlog like output: a page that is behind is sent none until it catches
   * up, and then only the latest, so one that stops reading never piles them up.
   */
  private send(page: WatchingPage, { message, text }: ViewersMessage): void {
    if (text === page.viewersSent) return;
    if (page.flow.lagging || page.flow.backlog() > FlowControl.highWaterBytes) {
      page.viewersHeld = true;
      return;
    }
    page.viewersHeld = false;
    page.viewersSent = text;
    page.link.sendControl(message);
  }
}

/** Why a page that cannot type was refused. */
export function viewOnlyMessage(who: Requester, what: 'input' | 'resize'): string {
  const whose = who.owner ? `${who.owner}'s terminal` : 'this terminal';
  return `${what} refused: you are viewing ${whose}, and its owner has not given you the keyboard`;
}
