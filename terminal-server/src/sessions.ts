// Named terminal sessions and their lifecycle: created on first attach, kept
// while no page is attached, ended when their program exits or is terminated.
// Pages are reached through the small PageLink interface, so nothing here knows
// about WebSockets.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/src/log.js';
import {
  type Access,
  type AttachedPage,
  FlowControl,
  Limits,
  type ServerControl,
  ServerType,
  VIEWERS_EVERY_MS,
} from '../../common/src/protocol.js';
import type { Requester } from '../../common/src/terminal-link.js';
import { History } from './history.js';
import { type ExitStatus, isInterrupt, type PtyOptions, PtyProcess } from './pty.js';

/** One attached page, as the session sees it. */
export interface PageLink {
  readonly id: string;
  /** Sends one output frame (type byte included); the same frame may go to several pages. */
  sendFrame(frame: Uint8Array): void;
  sendControl(message: ServerControl): void;
  /**
   * Bytes queued for this page and not yet handed to the network. An ack is
   * only the page's word; these bytes are in this process's memory whatever
   * the page says.
   */
  readonly bufferedBytes: number;
  close(code: number, reason: string): void;
}

/** What a page asked of a session is not for it to do (a viewer typing, say): the page is told, nothing changes. */
export class RefusedError extends Error {
  override name = 'RefusedError';
}

/** The session has all the pages of this kind it takes (Limits.maxPagesPerSession). */
export class TooManyPagesError extends Error {
  override name = 'TooManyPagesError';
}

export interface SessionInfo {
  name: string;
  instance: string;
  pid: number;
  created: string;
  lastActivity: string;
  pages: number;
  /** Who is attached, and how. */
  attached: AttachedPage[];
  /** Viewers the owner has given the keyboard to (attached now or not). */
  keyboard: string[];
  cols: number;
  rows: number;
  outputBytes: number;
  /** Input waiting for the program: more than a little means it is not reading. */
  pendingInputBytes: number;
}

export interface SessionOptions {
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  historyBytes: number;
  logger: Logger;
}

interface Attachment {
  link: PageLink;
  who: Requester;
  since: Date;
  cols: number;
  rows: number;
  /** Output position sent to this page. */
  sent: number;
  /** Output position the page says it has processed. */
  acked: number;
  /** Since when this page has been holding the session back (see measure()); 0 when not. */
  behindSince: number;
  /** True while the page is too slow to hold the session back: it gets no output until it catches up. */
  lagging: boolean;
  /** Times this page became lagging (only the first is logged; the detach line has the count). */
  lagged: number;
  /** Times the program was paused because this page was behind. */
  pauses: number;
  /** The `viewers` message last sent to this (owner's) page, as sent; '' before the first. */
  viewersSent: string;
  /** True when a `viewers` message was held back because the page was behind: its next ack asks again. */
  viewersHeld: boolean;
  /** For choosing the terminal size: the page used most recently decides. */
  lastUsed: number;
  /** Bytes of this page's input dropped since the program last had room for it (0: none). */
  droppedInput: number;
}

let useCounter = 0;

interface ViewersMessage {
  message: ServerControl & { type: 'viewers' };
  text: string;
}

export class Session {
  readonly instance = randomBytes(9).toString('base64url');
  readonly created = new Date();
  lastActivity = Date.now();
  /** False until a page first attaches: a shell started ahead of time (TERMINAL_PRESTART) nobody has seen yet. */
  private seen = false;
  private readonly history: History;
  private readonly pty: PtyProcess;
  private readonly pages = new Map<string, Attachment>();
  /** Viewers whose input is taken, until the owner takes the keyboard back. */
  private readonly keyboard = new Set<string>();
  private cols: number;
  private rows: number;
  private ended = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  private flushSoon: { timer?: NodeJS.Timeout; immediate?: NodeJS.Immediate } | undefined;
  private lastFlush = 0;
  private viewersTimer: NodeJS.Timeout | undefined;
  private lastViewersRound = 0;

  constructor(
    readonly name: string,
    size: { cols: number; rows: number },
    private readonly options: SessionOptions,
    private readonly onEnd: (session: Session, status: ExitStatus) => void,
  ) {
    this.cols = size.cols;
    this.rows = size.rows;
    this.history = new History(options.historyBytes);
    const ptyOptions: PtyOptions = {
      command: options.command,
      cwd: options.cwd,
      env: options.env,
      ...size,
      onInterrupt: (report) => {
        const fields = { session: this.name, ...report };
        if (report.problem) options.logger.warn('session.interrupt', fields);
        else options.logger.info('session.interrupt', fields);
      },
    };
    this.pty = new PtyProcess(
      ptyOptions,
      (chunk) => this.output(chunk),
      (status) => this.exit(status),
    );
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** True once any page has attached to this shell. */
  get seenByAPage(): boolean {
    return this.seen;
  }

  get pageCount(): number {
    return this.pages.size;
  }

  /** Output position after the last byte produced so far. */
  get position(): number {
    return this.history.end;
  }

  info(): SessionInfo {
    return {
      name: this.name,
      instance: this.instance,
      pid: this.pid,
      created: this.created.toISOString(),
      lastActivity: new Date(this.lastActivity).toISOString(),
      pages: this.pages.size,
      attached: this.attachedPages(),
      keyboard: [...this.keyboard],
      cols: this.cols,
      rows: this.rows,
      outputBytes: this.history.end,
      pendingInputBytes: this.pty.pendingInput,
    };
  }

  /**
   * Attaches a page. `position` is where the page's screen left off in this
   * session instance (null for a new page or another instance).
   */
  attach(
    link: PageLink,
    request: { position: number | null; instance: string; cols: number; rows: number },
    who: Requester = OWNER,
  ): void {
    const sameKind = this.countPages(who.access);
    if (sameKind >= Limits.maxPagesPerSession) {
      const whose = who.access === 'owner' ? "of its owner's pages" : "viewers' pages";
      throw new TooManyPagesError(
        `this terminal has ${sameKind} ${whose} open, the most it takes: close one of them, then try again`,
      );
    }
    // Pages already attached get what is pending first: the replay covers it for this one.
    this.flush();
    this.seen = true;
    const position = request.instance === this.instance ? request.position : null;
    const replay = this.history.replay(position);
    const page: Attachment = {
      link,
      who,
      since: new Date(),
      cols: request.cols,
      rows: request.rows,
      sent: this.history.end,
      acked: replay.position,
      behindSince: 0,
      lagging: false,
      lagged: 0,
      pauses: 0,
      viewersSent: '',
      viewersHeld: false,
      lastUsed: ++useCounter,
      droppedInput: 0,
    };
    link.sendControl(this.attachedMessage(page, replay));
    for (const frame of outputFrames(replay.chunks)) link.sendFrame(frame);
    this.pages.set(link.id, page);
    this.options.logger.info('session.attach', {
      session: this.name,
      page: link.id,
      ...(who.user ? { user: who.user } : {}),
      access: who.access,
      pages: this.pages.size,
      replay: replay.reset ? 'reset' : 'exact',
      replayBytes: this.history.end - replay.position,
    });
    const resized = this.applySize();
    // A page that starts from the middle of the history cannot rebuild a
    // full-screen program's display; a size change makes the program redraw.
    if (replay.reset && replay.position > 0 && !resized) this.nudgeRedraw();
    this.updateFlowAll();
    // A new owner's page learns who watches at once; the others hear of a new viewer with the next round.
    if (who.access === 'owner') this.sendViewers(page, this.viewersMessage());
    if (who.access === 'viewer') this.tellOwners();
  }

  detach(link: PageLink, reason: string): void {
    const page = this.pages.get(link.id);
    if (!page) return;
    this.pages.delete(link.id);
    this.options.logger.info('session.detach', {
      session: this.name,
      page: link.id,
      pages: this.pages.size,
      reason,
      ...(page.lagged > 1 ? { lagged: page.lagged } : {}),
    });
    this.applySize();
    this.updateFlowAll();
    if (page.who.access === 'viewer') this.tellOwners();
  }

  /**
   * The owner gives a viewer the keyboard (their input and size are taken, on
   * every page they have open) or takes it back. Throws RefusedError when the
   * page is not the owner's, or there is no such viewer to give it to.
   */
  setKeyboard(link: PageLink, user: string, allow: boolean): void {
    const from = this.pages.get(link.id);
    if (!from) return;
    if (from.who.access !== 'owner') throw new RefusedError("only the terminal's owner can hand over the keyboard");
    if (allow === this.keyboard.has(user)) return;
    if (allow) {
      const watching = [...this.pages.values()].some((page) => page.who.access === 'viewer' && page.who.user === user);
      if (!watching) throw new RefusedError(`${user} is not watching this terminal`);
      this.keyboard.add(user);
    } else {
      this.keyboard.delete(user);
    }
    this.options.logger.info('session.keyboard', { session: this.name, viewer: user, given: allow, by: from.who.user });
    this.applySize();
    for (const page of this.pages.values()) {
      if (page.who.access === 'viewer' && page.who.user === user) {
        page.link.sendControl({ type: 'access', canType: allow, cols: this.cols, rows: this.rows });
      }
    }
    this.tellOwners();
  }

  input(link: PageLink, data: Uint8Array): void {
    const page = this.pages.get(link.id);
    if (!page || this.ended) return;
    if (!this.canType(page)) throw new RefusedError(viewOnlyMessage(page, 'input'));
    this.lastActivity = Date.now();
    if (page.lastUsed !== useCounter) {
      page.lastUsed = ++useCounter;
      this.applySize();
    }
    // The page's socket is never paused for input: acks, pongs, resizes and
    // interrupts must get through while a program is not reading. What waits
    // for the program is bounded instead; past the bound input is dropped,
    // whole frames (an interrupt always goes through: it drops what waits).
    // Each frame counts INPUT_FRAME_COST more than its bytes: a page sending
    // tiny frames would otherwise queue far more memory in objects than in bytes.
    const waiting = this.pty.pendingInput + this.pty.pendingPieces * INPUT_FRAME_COST;
    if (!isInterrupt(data) && waiting + data.length + INPUT_FRAME_COST > Limits.maxPendingInputBytes) {
      if (page.droppedInput === 0) {
        link.sendControl({
          type: 'error',
          message: `the program is not taking its input: more than ${Limits.maxPendingInputBytes >> 20} MiB is waiting, so input is dropped until it catches up`,
        });
        this.options.logger.warn('session.input_dropped', { session: this.name, page: link.id });
      }
      page.droppedInput += data.length;
      return;
    }
    if (page.droppedInput > 0) {
      this.options.logger.info('session.input_dropped_total', {
        session: this.name,
        page: link.id,
        bytes: page.droppedInput,
      });
      page.droppedInput = 0;
    }
    this.pty.write(data);
  }

  resize(link: PageLink, cols: number, rows: number): void {
    const page = this.pages.get(link.id);
    if (!page) return;
    if (!this.canType(page)) throw new RefusedError(viewOnlyMessage(page, 'resize'));
    page.cols = cols;
    page.rows = rows;
    page.lastUsed = ++useCounter;
    this.applySize();
  }

  ack(link: PageLink, position: number): void {
    const page = this.pages.get(link.id);
    if (!page) return;
    // A page cannot have processed more than it was sent.
    if (position > page.acked) page.acked = Math.min(position, page.sent);
    if (page.lagging && backlog(page) <= FlowControl.lowWaterBytes) this.catchUp(page);
    this.updateFlowAll();
    if (page.viewersHeld) this.tellOwners();
  }

  /** Ends the session: hang up the program, and kill it if it does not go. */
  terminate(): void {
    if (this.ended) return;
    this.options.logger.info('session.terminate', { session: this.name, pid: this.pid });
    this.pty.kill('SIGHUP');
    setTimeout(() => {
      if (!this.ended) this.pty.kill('SIGKILL');
    }, 2000).unref();
  }

  private output(chunk: Buffer): void {
    this.history.append(chunk);
    this.lastActivity = Date.now();
    if (this.pages.size === 0) return;
    // The kernel hands over at most about 4 KiB per read; sending one frame per
    // read costs a frame, a message event and a write call each on both ends.
    // Output read in the same turn of the event loop goes out as one frame.
    this.unsent.push(chunk);
    this.unsentBytes += chunk.length;
    if (this.unsentBytes >= FRAME_BYTES) this.flush();
    else if (!this.flushSoon) {
      // Small output (an echo, a prompt) goes at once. Large reads in quick
      // succession (a flood) are gathered for a few milliseconds, so the page
      // gets fewer, larger frames.
      const bursting = this.unsentBytes >= BURST_MIN_BYTES && performance.now() - this.lastFlush < BURST_GATHER_MS;
      this.flushSoon = bursting
        ? { timer: setTimeout(() => this.flush(), BURST_GATHER_MS) }
        : { immediate: setImmediate(() => this.flush()) };
    }
  }

  /** Sends output read but not yet sent to the pages that keep up. */
  private flush(): void {
    // Each kind of handle must be cleared by its own function (clearImmediate on a
    // timer corrupts Node's count of pending immediates).
    if (this.flushSoon?.timer) clearTimeout(this.flushSoon.timer);
    if (this.flushSoon?.immediate) clearImmediate(this.flushSoon.immediate);
    this.flushSoon = undefined;
    if (this.unsent.length === 0) return;
    this.lastFlush = performance.now();
    const frame = outputFrame(this.unsent, this.unsentBytes);
    this.unsent = [];
    this.unsentBytes = 0;
    const end = this.history.end;
    let behind = false;
    for (const page of this.pages.values()) {
      if (page.lagging) continue;
      page.link.sendFrame(frame);
      page.sent = end;
      if (backlog(page) > FlowControl.highWaterBytes) behind = true;
    }
    if (behind) this.updateFlowAll();
  }

  /**
   * Pauses the program while any owner's page that keeps up is more than the
   * high-water mark behind, and resumes it when all are below the low-water
   * mark. An owner's page that stays behind for stallTimeoutMs becomes
   * lagging: it stops holding the session back (a session never stalls for a
   * page that has gone quiet). A viewer's page never holds it back: past the
   * high-water mark it is lagging at once.
   */
  private updateFlowAll(): void {
    let hold = false;
    let blocked = false;
    for (const page of this.pages.values()) {
      const pending = this.measure(page);
      if (page.lagging) continue;
      if (!holdsSession(page)) {
        if (pending > FlowControl.highWaterBytes) this.dropToLagging(page, 'viewer behind');
        continue;
      }
      if (pending > FlowControl.highWaterBytes) hold = true;
      if (pending > FlowControl.lowWaterBytes) blocked = true;
    }
    if (hold && !this.pty.isPaused) {
      this.pty.pause();
      for (const page of this.pages.values()) {
        if (!page.lagging && holdsSession(page) && backlog(page) > FlowControl.highWaterBytes) page.pauses++;
      }
    } else if (!blocked && this.pty.isPaused) this.pty.resume();
    this.scheduleStallCheck();
  }

  /** The page's backlog now; notes when it started holding the session back. */
  private measure(page: Attachment): number {
    const pending = backlog(page);
    // Over the high-water mark a page pauses the program; once paused, the
    // program waits until every page is under the low-water mark. A page that
    // goes quiet in between holds it as surely, so the stall clock runs then too.
    const holding =
      holdsSession(page) &&
      (pending > FlowControl.highWaterBytes || (this.pty.isPaused && pending > FlowControl.lowWaterBytes));
    if (page.lagging || !holding) page.behindSince = 0;
    else if (page.behindSince === 0) page.behindSince = Date.now();
    return pending;
  }

  /**
   * The page gets no more output until it has caught up (its ack says it is
   * under the low-water mark and its socket has drained): then catchUp() sends
   * what it missed from the history.
   */
  private dropToLagging(page: Attachment, reason: 'stalled' | 'viewer behind'): void {
    page.lagging = true;
    page.behindSince = 0;
    page.lagged++;
    // A page that keeps falling behind would log a line each time; the detach line has the count.
    if (page.lagged === 1) {
      this.options.logger.info('session.page_lagging', { session: this.name, page: page.link.id, reason });
    }
  }

  private scheduleStallCheck(): void {
    if (this.stallTimer || this.ended) return;
    let earliest = 0;
    for (const page of this.pages.values()) {
      if (page.behindSince && (earliest === 0 || page.behindSince < earliest)) earliest = page.behindSince;
    }
    if (earliest === 0) return;
    const due = Math.max(0, earliest + FlowControl.stallTimeoutMs - Date.now());
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      const now = Date.now();
      for (const page of this.pages.values()) {
        // Measured again: what waited in its socket may have gone out since.
        this.measure(page);
        if (page.behindSince && now - page.behindSince >= FlowControl.stallTimeoutMs) {
          this.dropToLagging(page, 'stalled');
        }
      }
      this.updateFlowAll();
    }, due);
    this.stallTimer.unref();
  }

  /** Sends a lagging page what it has not had yet, from history, and lets it keep up again. */
  private catchUp(page: Attachment): void {
    this.flush();
    page.lagging = false;
    const missed = this.history.since(page.sent);
    if (missed) {
      for (const frame of outputFrames(missed)) page.link.sendFrame(frame);
    } else {
      // Too far behind: start the page over from a clean point.
      const replay = this.history.replay(null);
      page.link.sendControl(this.attachedMessage(page, { position: replay.position, reset: true }));
      for (const frame of outputFrames(replay.chunks)) page.link.sendFrame(frame);
      page.acked = replay.position;
    }
    page.sent = this.history.end;
  }

  private canType(page: Attachment): boolean {
    return page.who.access === 'owner' || this.keyboard.has(page.who.user);
  }

  private attachedMessage(page: Attachment, replay: { position: number; reset: boolean }): ServerControl {
    return {
      type: 'attached',
      session: this.name,
      instance: this.instance,
      position: replay.position,
      reset: replay.reset,
      // Every replay ends where the session's output is now; what comes after is new.
      live: this.history.end,
      pid: this.pid,
      page: page.link.id,
      access: page.who.access,
      canType: this.canType(page),
      owner: page.who.owner,
      sharedOrigin: page.who.sharedOrigin,
      cols: this.cols,
      rows: this.rows,
    };
  }

  private attachedPages(): AttachedPage[] {
    return [...this.pages.values()].map((page) => ({
      page: page.link.id,
      user: page.who.user,
      access: page.who.access,
      canType: this.canType(page),
      since: page.since.toISOString(),
      lagging: page.lagging,
      pauses: page.pauses,
    }));
  }

  private countPages(access: Access): number {
    let count = 0;
    for (const page of this.pages.values()) if (page.who.access === access) count++;
    return count;
  }

  /** Who is watching and who has the keyboard, for the owner's pages (each viewer once, in order), and as text to compare. */
  private viewersMessage(): ViewersMessage {
    const watching = new Set<string>();
    for (const page of this.pages.values()) if (page.who.access === 'viewer') watching.add(page.who.user);
    const message: ViewersMessage['message'] = {
      type: 'viewers',
      watching: [...watching].sort(),
      keyboard: [...this.keyboard].sort(),
    };
    return { message, text: JSON.stringify(message) };
  }

  /**
   * The owner's pages always know who is watching, but hear of it at most every
   * VIEWERS_EVERY_MS and only when it changed: pages attaching and leaving by
   * the hundred cost each owner's page a few small messages, not one per attach.
   */
  private tellOwners(): void {
    if (this.viewersTimer || this.ended) return;
    const wait = Math.max(0, this.lastViewersRound + VIEWERS_EVERY_MS - performance.now());
    this.viewersTimer = setTimeout(() => {
      this.viewersTimer = undefined;
      this.lastViewersRound = performance.now();
      const viewers = this.viewersMessage();
      for (const page of this.pages.values()) if (page.who.access === 'owner') this.sendViewers(page, viewers);
    }, wait);
    this.viewersTimer.unref();
  }

  /**
   * Sends the message unless the page has it already. It counts in the page's
   * backlog like output: a page that is behind is sent none until it catches
   * up, and then only the latest, so one that stops reading never piles them up.
   */
  private sendViewers(page: Attachment, { message, text }: ViewersMessage): void {
    if (text === page.viewersSent) return;
    if (page.lagging || backlog(page) > FlowControl.highWaterBytes) {
      page.viewersHeld = true;
      return;
    }
    page.viewersHeld = false;
    page.viewersSent = text;
    page.link.sendControl(message);
  }

  /**
   * Size of the page used most recently among those that can type (a viewer's
   * window never changes the terminal); returns true when the pty was resized.
   * Pages that cannot type are told the new size, to show the terminal at it.
   */
  private applySize(): boolean {
    let latest: Attachment | undefined;
    for (const page of this.pages.values()) {
      if (this.canType(page) && (!latest || page.lastUsed > latest.lastUsed)) latest = page;
    }
    if (!latest || (latest.cols === this.cols && latest.rows === this.rows)) return false;
    this.cols = latest.cols;
    this.rows = latest.rows;
    this.pty.resize(this.cols, this.rows);
    for (const page of this.pages.values()) {
      if (!this.canType(page)) page.link.sendControl({ type: 'size', cols: this.cols, rows: this.rows });
    }
    return true;
  }

  private nudgeRedraw(): void {
    // Two size changes send SIGWINCH twice; full-screen programs repaint.
    this.pty.resize(this.cols, Math.max(1, this.rows - 1));
    setTimeout(() => this.pty.resize(this.cols, this.rows), 20).unref();
  }

  private exit(status: ExitStatus): void {
    this.flush();
    this.ended = true;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.viewersTimer) clearTimeout(this.viewersTimer);
    this.options.logger.info('session.exit', {
      session: this.name,
      pid: this.pid,
      code: status.code,
      signal: status.signal,
    });
    for (const page of this.pages.values()) {
      // Pages that fell behind still get every byte before they hear of the exit.
      if (page.lagging) this.catchUp(page);
      page.link.sendControl({ type: 'exit', code: status.code, signal: status.signal });
    }
    this.onEnd(this, status);
  }

  /** Closes every page link (after exit, or when the server stops). */
  closePages(code: number, reason: string): void {
    for (const page of this.pages.values()) page.link.close(code, reason);
    this.pages.clear();
  }
}

/**
 * How far behind a page is: what it has not acknowledged, or what still waits
 * in its socket when that is more. A page that acknowledges output it never
 * read still has that output queued here; counting it keeps such a page from
 * making this process buffer without limit (it becomes lagging instead).
 * For a page that tells the truth the first is the larger (frame headers aside).
 */
function backlog(page: Attachment): number {
  return Math.max(page.sent - page.acked, page.link.bufferedBytes);
}

/** Whether the page's backlog may pause the program: the owner's may, a viewer's never (it lags instead). */
function holdsSession(page: Attachment): boolean {
  return page.who.access === 'owner';
}

/** Pages opened without a word from the proxy (no login): the owner's. */
const OWNER: Requester = { user: '', access: 'owner', owner: '', sharedOrigin: false };

function viewOnlyMessage(page: Attachment, what: 'input' | 'resize'): string {
  const whose = page.who.owner ? `${page.who.owner}'s terminal` : 'this terminal';
  return `${what} refused: you are viewing ${whose}, and its owner has not given you the keyboard`;
}

/** What a frame of input waiting for the program costs besides its bytes (the objects holding it), for the cap. */
const INPUT_FRAME_COST = 256;

/** How long output is gathered into one frame while it keeps coming. */
const BURST_GATHER_MS = 4;
/** Reads at least this large count as a flood (the kernel hands over about 4 KiB per read then). */
const BURST_MIN_BYTES = 1024;

/** Output frames carry at most about this much: big enough to be cheap, small enough to keep the page responsive. */
const FRAME_BYTES = 64 << 10;

/** One output frame holding the chunks (one copy: into the frame). */
function outputFrame(chunks: Uint8Array[], size: number): Uint8Array {
  const frame = Buffer.allocUnsafe(size + 1);
  frame[0] = ServerType.Output;
  let at = 1;
  for (const chunk of chunks) {
    frame.set(chunk, at);
    at += chunk.length;
  }
  return frame;
}

/** Packs chunks of history into frames of about FRAME_BYTES. */
function outputFrames(chunks: Uint8Array[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 0;
  for (const chunk of chunks) {
    group.push(chunk);
    size += chunk.length;
    if (size >= FRAME_BYTES) {
      frames.push(outputFrame(group, size));
      group = [];
      size = 0;
    }
  }
  if (group.length > 0) frames.push(outputFrame(group, size));
  return frames;
}

export class TooManySessionsError extends Error {
  override name = 'TooManySessionsError';
}

/** The server is stopping: no session starts now, but one will after the restart. */
export class ServerStoppingError extends Error {
  override name = 'ServerStoppingError';
}

export interface SessionManagerOptions extends SessionOptions {
  maxSessions: number;
}

export class SessionManager {
  private readonly sessions = new Map<string, Session>();
  private stopping = false;

  constructor(private readonly options: SessionManagerOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  get(name: string): Session | undefined {
    return this.sessions.get(name);
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info());
  }

  /** The most recent input or output in any session (ms since the epoch), 0 if none. */
  lastActivity(): number {
    let latest = 0;
    for (const session of this.sessions.values()) latest = Math.max(latest, session.lastActivity);
    return latest;
  }

  /** The named session, started now if it does not exist. */
  open(name: string, size: { cols: number; rows: number }): Session {
    const existing = this.sessions.get(name);
    if (existing) return existing;
    if (this.stopping) throw new ServerStoppingError('the terminal server is stopping');
    if (this.sessions.size >= this.options.maxSessions) {
      throw new TooManySessionsError(
        `no more sessions: ${this.options.maxSessions} are open (the most allowed); close one first`,
      );
    }
    const session = new Session(name, size, this.options, (ended) => {
      if (this.sessions.get(ended.name) === ended) this.sessions.delete(ended.name);
      ended.closePages(4000, 'session ended');
    });
    this.sessions.set(name, session);
    this.options.logger.info('session.start', {
      session: name,
      pid: session.pid,
      command: this.options.command[0],
      sessions: this.sessions.size,
    });
    return session;
  }

  /** Ends every session, waiting up to `timeoutMs` for the programs to exit. */
  async stopAll(timeoutMs = 3000): Promise<void> {
    this.stopping = true;
    const remaining = [...this.sessions.values()];
    for (const session of remaining) session.terminate();
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }
}
