// Jump scrolling for xterm.js. xterm.js draws the screen in every animation
// frame in which output changed it. While output floods in (a `cat` of a big
// file, a verbose build) that is a frame for every few dozen kilobytes, and
// frames can cost far more than parsing them: with WebGL drawn in software (no
// GPU) each one kept the main thread waiting ~80 ms for the rasterizer, and with
// the DOM renderer every frame rebuilt every row. So while output floods in, the
// pacer holds the drawing back with synchronized output (DEC private mode 2026,
// which xterm.js honours: rows changed meanwhile are drawn when it ends) and lets
// a frame through every 50 ms, or every three frames' cost where frames cost more
// (at most 250 ms): a few frames a second of text nobody can read at that speed.
// When the output stops, the screen is drawn at once.
//
// The mode's sequences go between two pieces of output only where the program's
// own escape sequences cannot be cut in two (VtTracker), and not at all while the
// program uses the mode itself. Output and its `processed` callbacks are passed
// on unchanged and in order.
import type { IDisposable, Terminal } from '@xterm/xterm';

const BEGIN_SYNC = '\x1b[?2026h';
const END_SYNC = '\x1b[?2026l';

/** Output counts as a flood from this many bytes within FLOOD_WINDOW_MS (far beyond typing, prompts and screen redraws). */
const FLOOD_BYTES = 64 << 10;
const FLOOD_WINDOW_MS = 100;
/** A hold lasts this many times what a frame costs... */
const HOLD_PER_FRAME_COST = 3;
/** ...and at least this (20 frames a second; shorter holds saved little with the DOM renderer)... */
const MIN_HOLD_MS = 50;
/** ...and at most this: well below xterm.js's own limit for synchronized output (1 s), after which it draws anyway. */
const MAX_HOLD_MS = 250;
/** A frame's cost is the least of the last few measured (a measurement can only come out too long). */
const FRAME_SAMPLES = 5;
/** A hold ends this long after the output stopped and xterm.js has parsed all of it. */
const IDLE_MS = 20;
/** After the program switched mode 2026 itself, no holds for this long: it paces its own drawing. */
const PROGRAM_SYNC_QUIET_MS = 2000;

export class OutputPacer {
  private readonly vt = new VtTracker();
  private readonly renders: IDisposable;
  /** Our BEGIN_SYNC is in the terminal, and our END_SYNC not yet. */
  private holding = false;
  /** A hold is over, but the output ended inside an escape sequence: END_SYNC goes before the next piece. */
  private releaseDue = false;
  /** From a release until the screen has been drawn: no new hold, so that a frame gets through. */
  private awaitingFrame = false;
  private windowStart = Number.NEGATIVE_INFINITY;
  private windowBytes = 0;
  private programSyncAt = Number.NEGATIVE_INFINITY;
  /** Pieces written to the terminal and not yet parsed. */
  private unparsed = 0;
  /** What the last frames took to draw (ms), oldest first. */
  private readonly frameCosts: number[] = [];
  private measuring = false;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly selection: { drawn(): void; dispose(): void };

  constructor(private readonly term: Terminal) {
    this.selection = deferSelectionRedraws(term);
    this.renders = term.onRender(() => this.drawn());
  }

  /** Writes output to the terminal; `done` is called once xterm.js has parsed it. */
  write(bytes: Uint8Array, done: () => void): void {
    const now = performance.now();
    const atGround = this.vt.atGround;
    this.vt.scan(bytes);
    if (this.vt.sawProgramSync) {
      this.vt.sawProgramSync = false;
      this.programSyncAt = now;
      // The program's own mode 2026 governs from here: ours ends before its sequence
      // (where it can: else the program's own end, or xterm.js's limit, ends it).
      if (this.holding && atGround) this.term.write(END_SYNC);
      this.holding = false;
      this.releaseDue = false;
      this.clearTimers();
    }
    if (this.releaseDue && atGround) this.release();
    if (now - this.windowStart > FLOOD_WINDOW_MS) {
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes.length;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (
      !this.holding &&
      !this.awaitingFrame &&
      atGround &&
      this.windowBytes >= FLOOD_BYTES &&
      now - this.programSyncAt > PROGRAM_SYNC_QUIET_MS &&
      !this.term.modes.synchronizedOutputMode
    ) {
      this.term.write(BEGIN_SYNC);
      this.holding = true;
      const frameCost = this.frameCosts.length > 0 ? Math.min(...this.frameCosts) : 0;
      const hold = Math.min(MAX_HOLD_MS, Math.max(MIN_HOLD_MS, HOLD_PER_FRAME_COST * frameCost));
      this.holdTimer = setTimeout(() => this.endHold(), hold);
    }
    this.unparsed++;
    this.term.write(bytes, () => {
      this.unparsed--;
      done();
      if (this.holding && this.unparsed === 0 && this.idleTimer === undefined) {
        this.idleTimer = setTimeout(() => this.endHold(), IDLE_MS);
      }
    });
  }

  /** Forgets holds and escape-sequence state: call it with the terminal's reset(). */
  reset(): void {
    this.clearTimers();
    this.holding = false;
    this.releaseDue = false;
    this.awaitingFrame = false;
    this.vt.reset();
  }

  dispose(): void {
    this.clearTimers();
    this.renders.dispose();
    this.selection.dispose();
  }

  private endHold(): void {
    this.clearTimers();
    if (!this.holding) return;
    if (this.vt.atGround) this.release();
    else this.releaseDue = true;
  }

  private release(): void {
    this.holding = false;
    this.releaseDue = false;
    this.awaitingFrame = true;
    this.term.write(END_SYNC);
  }

  private drawn(): void {
    this.awaitingFrame = false;
    this.selection.drawn();
    if (this.measuring) return;
    this.measuring = true;
    // xterm.js renders in an animation frame callback; the browser finishes the frame
    // (layout, paint, and for WebGL without a GPU the wait for the rasterizer) after
    // it, and a task queued now runs once that is done. Tasks queued before may run
    // first, which is why the least of several measurements counts.
    const start = performance.now();
    setTimeout(() => {
      this.measuring = false;
      this.frameCosts.push(performance.now() - start);
      if (this.frameCosts.length > FRAME_SAMPLES) this.frameCosts.shift();
    });
  }

  private clearTimers(): void {
    clearTimeout(this.holdTimer);
    clearTimeout(this.idleTimer);
    this.holdTimer = undefined;
    this.idleTimer = undefined;
  }
}

/**
 * xterm.js (6.0) redraws the selection after every line the output scrolls, in the
 * next animation frame, even during synchronized output: with the DOM renderer
 * that rebuilds every row in every frame, and holding frames back saved nothing.
 * While the mode is on, such redraws are put off; the returned function (called
 * after each frame xterm.js draws, which it does only with the mode off) makes up
 * for them. The selection service is internal to xterm.js: where it is not found,
 * nothing changes.
 */
function deferSelectionRedraws(term: Terminal): { drawn(): void; dispose(): void } {
  type SelectionService = { refresh?: (isLinuxMouseSelection?: boolean) => void };
  const service = (term as unknown as { _core?: { _selectionService?: SelectionService } })._core?._selectionService;
  const refresh = service?.refresh;
  if (!service || typeof refresh !== 'function') return { drawn() {}, dispose() {} };
  // The mode as parsed, followed through the parser's hooks: term.modes builds an
  // object on every call, and the selection is refreshed for every scrolled line.
  let synchronized = term.modes.synchronizedOutputMode;
  const follow = (on: boolean) => (params: (number | number[])[]) => {
    if (params.includes(2026)) synchronized = on;
    return false; // xterm.js's own handler sets the mode
  };
  const hooks = [
    term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, follow(true)),
    term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, follow(false)),
  ];
  let deferred = false;
  service.refresh = (isLinuxMouseSelection?: boolean) => {
    // A mouse selection on Linux also sets the primary selection: never put off.
    if (synchronized && !isLinuxMouseSelection) deferred = true;
    else refresh.call(service, isLinuxMouseSelection);
  };
  return {
    drawn() {
      // Also where the mode ended without a sequence (xterm.js's time limit, a reset).
      synchronized = term.modes.synchronizedOutputMode;
      if (!deferred || synchronized) return;
      deferred = false;
      refresh.call(service);
    },
    dispose() {
      for (const hook of hooks) hook.dispose();
      service.refresh = refresh;
    },
  };
}

// States of a VT parser, as far as a sequence put in between is concerned (the
// transitions follow xterm.js's EscapeSequenceParser; several of its states are
// one here). Only in GROUND does a sequence put between two pieces of output
// leave the meaning of both alone.
const GROUND = 0;
const ESCAPE = 1;
const ESCAPE_INTERMEDIATE = 2;
const CSI = 3;
const OSC = 4;
/** DCS, SOS, PM and APC: strings that end with ST (ESC \), or CAN/SUB. */
const STRING = 5;

const ESC = 0x1b;
const CAN = 0x18;
const SUB = 0x1a;
const BEL = 0x07;
/** UTF-8 lead byte of U+0080..U+00BF: the C1 controls (U+0080..U+009F) among them. */
const C2 = 0xc2;
/** `?2026` after `ESC [`: the program switches synchronized output itself. */
const PROGRAM_SYNC = [0x3f, 0x32, 0x30, 0x32, 0x36];

/**
 * Follows the escape sequences in a byte stream (UTF-8, as xterm.js decodes it)
 * far enough to tell where a sequence of our own can go: `atGround` is true only
 * where xterm.js's parser is surely in its ground state. Where it cannot tell,
 * it says no (a missed chance to pace, never a sequence cut in two); any ESC,
 * CAN or SUB brings it back in step.
 */
export class VtTracker {
  /** The program switched mode 2026 itself in what was scanned (reset by the reader). */
  sawProgramSync = false;
  private state = GROUND;
  /** The last piece ended with a C2 byte: the next byte tells which code point it was. */
  private pendingC2 = false;

  get atGround(): boolean {
    return this.state === GROUND && !this.pendingC2;
  }

  reset(): void {
    this.state = GROUND;
    this.pendingC2 = false;
  }

  scan(bytes: Uint8Array): void {
    const n = bytes.length;
    let state = this.state;
    let i = 0;
    if (this.pendingC2 && n > 0) {
      this.pendingC2 = false;
      // A continuation makes a code point of the two; anything else: the decoder drops the C2.
      if (isContinuation(bytes[0] as number)) {
        state = afterC2(state, bytes[0] as number);
        i = 1;
      }
    }
    // In GROUND only ESC and C1 controls matter: jump from one to the next.
    let nextEsc = -1;
    let nextC2 = -1;
    while (i < n) {
      let at = i;
      if (state === GROUND) {
        if (nextEsc < i) nextEsc = indexOrEnd(bytes, ESC, i);
        if (nextC2 < i) nextC2 = indexOrEnd(bytes, C2, i);
        at = Math.min(nextEsc, nextC2);
        if (at >= n) break;
      }
      const b = bytes[at] as number;
      if (b === C2) {
        if (at + 1 >= n) {
          this.pendingC2 = true;
          break;
        }
        const next = bytes[at + 1] as number;
        if (isContinuation(next)) {
          state = afterC2(state, next);
          i = at + 2;
        } else {
          i = at + 1;
        }
        continue;
      }
      if (state === ESCAPE && b === 0x5b && matchesAt(bytes, at + 1, PROGRAM_SYNC)) this.sawProgramSync = true;
      state = step(state, b);
      i = at + 1;
    }
    this.state = state;
  }
}

function indexOrEnd(bytes: Uint8Array, value: number, from: number): number {
  const at = bytes.indexOf(value, from);
  return at < 0 ? bytes.length : at;
}

function matchesAt(bytes: Uint8Array, at: number, pattern: readonly number[]): boolean {
  if (at + pattern.length > bytes.length) return false;
  for (let k = 0; k < pattern.length; k++) if (bytes[at + k] !== pattern[k]) return false;
  return true;
}

function isContinuation(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/** The state after the code point whose UTF-8 bytes are C2 and `next` (a continuation byte). */
function afterC2(state: number, next: number): number {
  if (next >= 0xa0) {
    // U+00A0..U+00BF. xterm.js: ESCAPE and ESCAPE_INTERMEDIATE end in GROUND; strings
    // keep going, and of CSI's states one keeps going (CSI_IGNORE): staying is never wrong to say.
    return state === ESCAPE || state === ESCAPE_INTERMEDIATE ? GROUND : state;
  }
  // A C1 control: the same in every state.
  if (next === 0x9b) return CSI;
  if (next === 0x9d) return OSC;
  if (next === 0x90 || next === 0x98 || next === 0x9e || next === 0x9f) return STRING;
  return GROUND;
}

/** One byte other than C2 (handled by the caller). */
function step(state: number, b: number): number {
  if (b === ESC) return ESCAPE;
  if (b === CAN || b === SUB) return GROUND;
  // Other bytes from 0x80 up are parts of code points from U+00C0 up (or not UTF-8 at
  // all). Such a code point can end ESCAPE or a CSI, but only once it is complete and
  // valid, which a piece of output may not show yet: staying is never wrong to say.
  if (b >= 0x80) return state;
  switch (state) {
    case ESCAPE:
      if (b < 0x20 || b === 0x7f) return ESCAPE; // executed, or ignored
      if (b < 0x30) return ESCAPE_INTERMEDIATE;
      if (b === 0x5b) return CSI; // [
      if (b === 0x5d) return OSC; // ]
      if (b === 0x50 || b === 0x58 || b === 0x5e || b === 0x5f) return STRING; // P X ^ _
      return GROUND;
    case ESCAPE_INTERMEDIATE:
      return b >= 0x30 && b < 0x7f ? GROUND : ESCAPE_INTERMEDIATE;
    case CSI:
      return b >= 0x40 && b < 0x7f ? GROUND : CSI;
    case OSC:
      return b === BEL ? GROUND : OSC;
    default:
      return state;
  }
}
