// Per-page flow control: how far behind each page of a session is, and whether
// the session's program waits for it. A page is in one of three states:
//
//   keeping-up  it gets output as it comes;
//   behind      an owner's page over the high-water mark, or, while the program
//               is paused, over the low-water mark: the program waits for it,
//               and its stall clock runs;
//   lagging     too slow to wait for (an owner's page behind for stallTimeoutMs,
//               a viewer's page over the high-water mark at once): it is sent no
//               output until it has caught up, then what it missed, from history.
//
// The program is paused while an owner's page that keeps up is over the
// high-water mark, and resumed once every one is under the low-water mark, so a
// session never stalls for a page that has gone quiet nor for anyone watching.
// Time comes from a Clock, so a test runs it by hand.
import { FlowControl } from '../../common/src/protocol.js';

export interface Clock {
  /** Milliseconds, only ever compared with one another. */
  now(): number;
  /** Runs `callback` after `ms`; the handle is for clearTimeout. A pending timer never keeps the process alive. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The program whose output the pages read: paused (its output no longer read) while a page it waits for is behind. */
export interface Program {
  pause(): void;
  resume(): void;
  readonly isPaused: boolean;
}

export type FlowState = { kind: 'keeping-up' } | { kind: 'behind'; since: number } | { kind: 'lagging' };

export type LagReason = 'stalled' | 'viewer behind';

const KEEPING_UP: FlowState = { kind: 'keeping-up' };
const LAGGING: FlowState = { kind: 'lagging' };

/** One page's place in the output, and its state. */
export class PageFlow {
  state: FlowState = KEEPING_UP;
  /** Output position sent to this page. */
  sent: number;
  /** Output position the page says it has processed. */
  acked: number;
  /** Times this page became lagging. */
  lagged = 0;
  /** Times the program was paused because this page was behind. */
  pauses = 0;

  constructor(
    /** The page's id, for the log. */
    readonly id: string,
    /** Whether its backlog may pause the program: the owner's pages may, a viewer's never (it lags instead). */
    readonly holdsSession: boolean,
    /** Bytes queued for the page and not yet handed to the network. */
    private readonly buffered: () => number,
    position: { sent: number; acked: number },
  ) {
    this.sent = position.sent;
    this.acked = position.acked;
  }

  get lagging(): boolean {
    return this.state.kind === 'lagging';
  }

  /**
   * How far behind the page is: what it has not acknowledged, or what still waits
   * in its socket when that is more. A page that acknowledges output it never
   * read still has that output queued here; counting it keeps such a page from
   * making this process buffer without limit (it becomes lagging instead).
   * For a page that tells the truth the first is the larger (frame headers aside).
   */
  backlog(): number {
    return Math.max(this.sent - this.acked, this.buffered());
  }

  /** Records the page's ack; true when it is lagging and has now caught up enough to be sent what it missed. */
  ack(position: number): boolean {
    // A page cannot have processed more than it was sent.
    if (position > this.acked) this.acked = Math.min(position, this.sent);
    return this.lagging && this.backlog() <= FlowControl.lowWaterBytes;
  }

  /** The page was sent what it missed, up to `sent` (from `acked` when it was started over from a clean point). */
  caughtUp(sent: number, acked = this.acked): void {
    this.state = KEEPING_UP;
    this.sent = sent;
    this.acked = acked;
  }
}

/** The flow of all the pages of one session, and the pausing of its program. */
export class SessionFlow {
  private readonly pages = new Set<PageFlow>();
  private stallTimer: unknown;
  private stopped = false;

  constructor(
    private readonly options: {
      program: Program;
      clock: Clock;
      /** Told each time a page becomes lagging. */
      onLagging: (page: PageFlow, reason: LagReason) => void;
    },
  ) {}

  add(page: PageFlow): void {
    this.pages.add(page);
  }

  remove(page: PageFlow): void {
    this.pages.delete(page);
  }

  /** Pauses or resumes the program for the pages' backlogs now; call it whenever one may have changed. */
  update(): void {
    const { program } = this.options;
    let hold = false;
    let blocked = false;
    for (const page of this.pages) {
      const pending = this.measure(page);
      if (page.lagging) continue;
      if (!page.holdsSession) {
        if (pending > FlowControl.highWaterBytes) this.dropToLagging(page, 'viewer behind');
        continue;
      }
      if (pending > FlowControl.highWaterBytes) hold = true;
      if (pending > FlowControl.lowWaterBytes) blocked = true;
    }
    if (hold && !program.isPaused) {
      program.pause();
      for (const page of this.pages) {
        if (!page.lagging && page.holdsSession && page.backlog() > FlowControl.highWaterBytes) page.pauses++;
      }
    } else if (!blocked && program.isPaused) program.resume();
    this.scheduleStallCheck();
  }

  /** The session ended: no stall check runs from now on. */
  stop(): void {
    this.stopped = true;
    if (this.stallTimer !== undefined) this.options.clock.clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** The page's backlog now; moves it between keeping-up and behind. */
  private measure(page: PageFlow): number {
    const pending = page.backlog();
    if (page.lagging) return pending;
    // Over the high-water mark a page pauses the program; once paused, the
    // program waits until every page is under the low-water mark. A page that
    // goes quiet in between holds it as surely, so the stall clock runs then too.
    const holding =
      page.holdsSession &&
      (pending > FlowControl.highWaterBytes || (this.options.program.isPaused && pending > FlowControl.lowWaterBytes));
    if (!holding) page.state = KEEPING_UP;
    else if (page.state.kind === 'keeping-up') page.state = { kind: 'behind', since: this.options.clock.now() };
    return pending;
  }

  /**
   * The page gets no more output until it has caught up (its ack says it is
   * under the low-water mark and its socket has drained).
   */
  private dropToLagging(page: PageFlow, reason: LagReason): void {
    page.state = LAGGING;
    page.lagged++;
    this.options.onLagging(page, reason);
  }

  private scheduleStallCheck(): void {
    if (this.stallTimer !== undefined || this.stopped) return;
    let earliest: number | undefined;
    for (const page of this.pages) {
      if (page.state.kind === 'behind' && (earliest === undefined || page.state.since < earliest)) {
        earliest = page.state.since;
      }
    }
    if (earliest === undefined) return;
    const { clock } = this.options;
    const due = Math.max(0, earliest + FlowControl.stallTimeoutMs - clock.now());
    this.stallTimer = clock.setTimeout(() => {
      this.stallTimer = undefined;
      const now = clock.now();
      for (const page of this.pages) {
        // Measured again: what waited in its socket may have gone out since.
        this.measure(page);
        if (page.state.kind === 'behind' && now - page.state.since >= FlowControl.stallTimeoutMs) {
          this.dropToLagging(page, 'stalled');
        }
      }
      this.update();
    }, due);
  }
}
