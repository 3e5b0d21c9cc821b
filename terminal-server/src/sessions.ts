// Named terminal sessions and their lifecycle: created on first attach, kept
// while no page is attached, ended when their program exits or is terminated.
// Pages are reached through the small PageLink interface, so nothing here knows
// about WebSockets. Beside it: flow-control.ts (how far behind each page is),
// viewers.ts (who watches, who types), output-frames.ts (output into frames).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/src/log.js';
import {
  type Access,
  type AttachedPage,
  CloseCode,
  FlowControl,
  Limits,
  type ServerControl,
} from '../../common/src/protocol.js';
import type { Requester } from '../../common/src/terminal-link.js';
import { type LagReason, PageFlow, SessionFlow, systemClock } from './flow-control.js';
import { History } from './history.js';
import { OutputGatherer, outputFrames } from './output-frames.js';
import { type ExitStatus, isInterrupt, type PtyOptions, PtyProcess } from './pty.js';
import { type CommandEnd, ShellMarks } from './shell-marks.js';
import { RefusedError, Viewers, viewOnlyMessage, type WatchingPage } from './viewers.js';

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
  /** Told of input and of the commands the shell marks (the room's, when it is configured; else none, and no marks are read). */
  observer?: SessionObserver;
}

/** What the room learns from a session. */
export interface SessionObserver {
  input(session: string): void;
  commandStarted(session: string): void;
  commandEnded(session: string, end: CommandEnd): void;
}

interface Attachment extends WatchingPage {
  readonly link: PageLink;
  readonly flow: PageFlow;
  since: Date;
  cols: number;
  rows: number;
  /** For choosing the terminal size: the page used most recently decides. */
  lastUsed: number;
  /** Bytes of this page's input dropped since the program last had room for it (0: none). */
  droppedInput: number;
}

let useCounter = 0;

export class Session {
  readonly instance = randomBytes(9).toString('base64url');
  readonly created = new Date();
  lastActivity = Date.now();
  /** False until a page first attaches: a shell started ahead of time (TERMINAL_PRESTART) nobody has seen yet. */
  private seen = false;
  private readonly history: History;
  private readonly pty: PtyProcess;
  private readonly pages = new Map<string, Attachment>();
  private readonly flow: SessionFlow;
  private readonly viewers = new Viewers(() => this.pages.values());
  private readonly output = new OutputGatherer((frame) => this.sendOutput(frame));
  private readonly marks: ShellMarks | null;
  private cols: number;
  private rows: number;
  private ended = false;

  constructor(
    readonly name: string,
    size: { cols: number; rows: number },
    private readonly options: SessionOptions,
    private readonly onEnd: (session: Session, status: ExitStatus) => void,
  ) {
    this.cols = size.cols;
    this.rows = size.rows;
    this.history = new History(options.historyBytes);
    const observer = options.observer;
    this.marks = observer
      ? new ShellMarks({
          commandStarted: () => observer.commandStarted(this.name),
          commandEnded: (end) => observer.commandEnded(this.name, end),
        })
      : null;
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
      (chunk) => this.read(chunk),
      (status) => this.exit(status),
    );
    this.flow = new SessionFlow({
      program: this.pty,
      clock: systemClock,
      onLagging: (page, reason) => this.lagging(page, reason),
    });
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
      keyboard: this.viewers.keyboardUsers,
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
    this.output.flush();
    this.seen = true;
    const position = request.instance === this.instance ? request.position : null;
    const replay = this.history.replay(position);
    const flow = new PageFlow(link.id, who.access === 'owner', () => link.bufferedBytes, {
      sent: this.history.end,
      acked: replay.position,
    });
    const page: Attachment = {
      link,
      who,
      flow,
      since: new Date(),
      cols: request.cols,
      rows: request.rows,
      viewersSent: '',
      viewersHeld: false,
      lastUsed: ++useCounter,
      droppedInput: 0,
    };
    link.sendControl(this.attachedMessage(page, replay));
    for (const frame of outputFrames(replay.chunks)) link.sendFrame(frame);
    this.pages.set(link.id, page);
    this.flow.add(flow);
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
    this.flow.update();
    // A new owner's page learns who watches at once; the others hear of a new viewer with the next round.
    if (who.access === 'owner') this.viewers.greet(page);
    if (who.access === 'viewer') this.viewers.tellOwners();
  }

  detach(link: PageLink, reason: string): void {
    const page = this.pages.get(link.id);
    if (!page) return;
    this.pages.delete(link.id);
    this.flow.remove(page.flow);
    this.options.logger.info('session.detach', {
      session: this.name,
      page: link.id,
      pages: this.pages.size,
      reason,
      ...(page.flow.lagged > 1 ? { lagged: page.flow.lagged } : {}),
    });
    this.applySize();
    this.flow.update();
    if (page.who.access === 'viewer') this.viewers.tellOwners();
  }

  /**
   * The owner gives a viewer the keyboard (their input and size are taken, on
   * every page they have open) or takes it back. Throws RefusedError when the
   * page is not the owner's, or there is no such viewer to give it to.
   */
  setKeyboard(link: PageLink, user: string, allow: boolean): void {
    const from = this.pages.get(link.id);
    if (!from) return;
    if (!this.viewers.setKeyboard(from, user, allow)) return;
    this.options.logger.info('session.keyboard', { session: this.name, viewer: user, given: allow, by: from.who.user });
    this.applySize();
    this.viewers.tellAccess(user, { cols: this.cols, rows: this.rows });
    this.viewers.tellOwners();
  }

  input(link: PageLink, data: Uint8Array): void {
    const page = this.pages.get(link.id);
    if (!page || this.ended) return;
    if (!this.viewers.canType(page)) throw new RefusedError(viewOnlyMessage(page.who, 'input'));
    this.lastActivity = Date.now();
    this.options.observer?.input(this.name);
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
    if (!this.viewers.canType(page)) throw new RefusedError(viewOnlyMessage(page.who, 'resize'));
    page.cols = cols;
    page.rows = rows;
    page.lastUsed = ++useCounter;
    this.applySize();
  }

  ack(link: PageLink, position: number): void {
    const page = this.pages.get(link.id);
    if (!page) return;
    if (page.flow.ack(position)) this.catchUp(page);
    this.flow.update();
    if (page.viewersHeld) this.viewers.tellOwners();
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

  /** Closes every page link (after exit, or when the server stops). */
  closePages(code: number, reason: string): void {
    for (const page of this.pages.values()) page.link.close(code, reason);
    this.pages.clear();
  }

  private read(chunk: Buffer): void {
    // The marks go before the history: positions, replays and flow control count what pages get.
    this.deliver(this.marks ? this.marks.strip(chunk) : chunk);
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.history.append(chunk);
    this.lastActivity = Date.now();
    if (this.pages.size === 0) return;
    this.output.push(chunk);
  }

  /** Sends a frame of new output to the pages that keep up. */
  private sendOutput(frame: Uint8Array): void {
    const end = this.history.end;
    let behind = false;
    for (const page of this.pages.values()) {
      if (page.flow.lagging) continue;
      page.link.sendFrame(frame);
      page.flow.sent = end;
      if (page.flow.backlog() > FlowControl.highWaterBytes) behind = true;
    }
    if (behind) this.flow.update();
  }

  private lagging(page: PageFlow, reason: LagReason): void {
    // A page that keeps falling behind would log a line each time; the detach line has the count.
    if (page.lagged === 1)
      this.options.logger.info('session.page_lagging', { session: this.name, page: page.id, reason });
  }

  /** Sends a lagging page what it has not had yet, from history, and lets it keep up again. */
  private catchUp(page: Attachment): void {
    this.output.flush();
    const missed = this.history.since(page.flow.sent);
    if (missed) {
      for (const frame of outputFrames(missed)) page.link.sendFrame(frame);
      page.flow.caughtUp(this.history.end);
    } else {
      // Too far behind: start the page over from a clean point.
      const replay = this.history.replay(null);
      page.link.sendControl(this.attachedMessage(page, { position: replay.position, reset: true }));
      for (const frame of outputFrames(replay.chunks)) page.link.sendFrame(frame);
      page.flow.caughtUp(this.history.end, replay.position);
    }
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
      canType: this.viewers.canType(page),
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
      canType: this.viewers.canType(page),
      since: page.since.toISOString(),
      lagging: page.flow.lagging,
      pauses: page.flow.pauses,
    }));
  }

  private countPages(access: Access): number {
    let count = 0;
    for (const page of this.pages.values()) if (page.who.access === access) count++;
    return count;
  }

  /**
   * Size of the page used most recently among those that can type (a viewer's
   * window never changes the terminal); returns true when the pty was resized.
   * Pages that cannot type are told the new size, to show the terminal at it.
   */
  private applySize(): boolean {
    let latest: Attachment | undefined;
    for (const page of this.pages.values()) {
      if (this.viewers.canType(page) && (!latest || page.lastUsed > latest.lastUsed)) latest = page;
    }
    if (!latest || (latest.cols === this.cols && latest.rows === this.rows)) return false;
    this.cols = latest.cols;
    this.rows = latest.rows;
    this.pty.resize(this.cols, this.rows);
    for (const page of this.pages.values()) {
      if (!this.viewers.canType(page)) page.link.sendControl({ type: 'size', cols: this.cols, rows: this.rows });
    }
    return true;
  }

  private nudgeRedraw(): void {
    // Two size changes send SIGWINCH twice; full-screen programs repaint.
    this.pty.resize(this.cols, Math.max(1, this.rows - 1));
    setTimeout(() => this.pty.resize(this.cols, this.rows), 20).unref();
  }

  private exit(status: ExitStatus): void {
    if (this.marks) this.deliver(this.marks.flush());
    this.output.flush();
    this.ended = true;
    this.flow.stop();
    this.viewers.stop();
    this.options.logger.info('session.exit', {
      session: this.name,
      pid: this.pid,
      code: status.code,
      signal: status.signal,
    });
    for (const page of this.pages.values()) {
      // Pages that fell behind still get every byte before they hear of the exit.
      if (page.flow.lagging) this.catchUp(page);
      page.link.sendControl({ type: 'exit', code: status.code, signal: status.signal });
    }
    this.onEnd(this, status);
  }
}

/** Pages opened without a word from the proxy (no login): the owner's. */
const OWNER: Requester = { user: '', access: 'owner', owner: '', sharedOrigin: false };

/** What a frame of input waiting for the program costs besides its bytes (the objects holding it), for the cap. */
const INPUT_FRAME_COST = 256;

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
      ended.closePages(CloseCode.SessionEnded, 'session ended');
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
