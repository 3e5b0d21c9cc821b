// What this stack tells the room service (only when ROOM_SERVICE_URL is set: the
// server makes no Room otherwise, and its sessions read no shell marks). The
// sessions report input and commands; the dashboard reports pages, clicks,
// checks and the raised hand, and which block typed into which session, so the
// command that block started carries its page and block.
import type { Logger } from '../../common/src/log.js';
import { ROOM_LIMITS, type RoomEvent } from '../../common/src/protocol.js';
import { RoomSender, type RoomSenderOptions } from './room-events.js';
import type { SessionObserver } from './sessions.js';
import type { CommandEnd } from './shell-marks.js';

/** A block that typed into a session waits this long for the command it typed to start. */
export const TIE_MS = 30_000;
/** Sessions whose ties are remembered at once (a page may name any session; this bounds the map). */
const MAX_TIES = 64;

export interface RoomOptions extends Omit<RoomSenderOptions, 'logger'> {
  logger: Logger;
  /** No input for this long: idle (ROOM_LIMITS.idleMs; tests shorten it). */
  idleMs?: number;
}

interface Tie {
  page: string;
  block: number;
  at: number;
}

export interface Hand {
  raised: boolean;
  message: string;
}

export class Room implements SessionObserver {
  readonly sender: RoomSender;
  /** Blocks that typed into a session whose command has not started yet, by session. */
  private readonly typedInto = new Map<string, Tie>();
  /** The block each session's running command came from (null: typed by hand). */
  private readonly running = new Map<string, Tie | null>();
  private hand: Hand = { raised: false, message: '' };
  private lastInput = Date.now();
  private active = true;
  private readonly idleMs: number;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(options: RoomOptions) {
    this.sender = new RoomSender({ ...options, logger: options.logger });
    this.idleMs = options.idleMs ?? ROOM_LIMITS.idleMs;
    // Checked a few times per idle period: idleness is told within a quarter of it.
    this.idleTimer = setInterval(() => this.checkIdle(), Math.max(50, Math.floor(this.idleMs / 4)));
    this.idleTimer.unref();
    options.logger.info('room.configured', { url: options.url });
  }

  /** An event from the dashboard (checked there against the contract). */
  record(event: RoomEvent): void {
    this.sender.add(event);
  }

  /** A clicked block typed into `session`: the next command to start there is that block's. */
  typed(session: string, page: string, block: number): void {
    this.typedInto.delete(session);
    if (this.typedInto.size >= MAX_TIES) this.typedInto.delete(this.typedInto.keys().next().value as string);
    this.typedInto.set(session, { page, block, at: Date.now() });
  }

  get raisedHand(): Hand {
    return { ...this.hand };
  }

  setHand(hand: Hand): void {
    this.hand = { ...hand };
    this.sender.add({ type: 'hand', at: Date.now(), ...hand });
  }

  input(_session: string): void {
    this.lastInput = Date.now();
    if (this.active) return;
    this.active = true;
    this.sender.add({ type: 'activity', at: this.lastInput, active: true });
  }

  commandStarted(session: string): void {
    const tie = this.typedInto.get(session);
    this.typedInto.delete(session);
    this.running.delete(session);
    if (this.running.size >= MAX_TIES) this.running.delete(this.running.keys().next().value as string);
    this.running.set(session, tie && Date.now() - tie.at <= TIE_MS ? tie : null);
  }

  commandEnded(session: string, end: CommandEnd): void {
    const tie = this.running.get(session) ?? null;
    this.running.delete(session);
    this.sender.add({
      type: 'command',
      at: Date.now(),
      session,
      exit: end.exit,
      command: end.command,
      output: end.output,
      page: tie?.page ?? null,
      block: tie?.block ?? null,
    });
  }

  close(): Promise<void> {
    clearInterval(this.idleTimer);
    return this.sender.close();
  }

  private checkIdle(): void {
    if (!this.active || Date.now() - this.lastInput < this.idleMs) return;
    this.active = false;
    this.sender.add({ type: 'activity', at: Date.now(), active: false });
  }
}
