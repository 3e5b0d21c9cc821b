// A session's recent output, kept with absolute positions (bytes since the
// session started) so that a page coming back with its last position gets
// exactly the bytes it missed. Chunks are kept as the pty produced them (no
// copies); whole chunks are dropped from the front when over budget.

export interface Replay {
  /** Position of the first byte in `chunks`. */
  position: number;
  chunks: Uint8Array[];
  /** False when `chunks` continue the page's screen exactly; true when the page must clear first. */
  reset: boolean;
}

const ESC = 0x1b;
const LF = 0x0a;

export class History {
  private chunks: Uint8Array[] = [];
  private first = 0; // index of the oldest live chunk in `chunks`
  private startPosition = 0;
  private endPosition = 0;
  private bytes = 0;
  readonly modes = new TerminalModes();

  constructor(readonly budget: number) {}

  /** Position after the last byte of output. */
  get end(): number {
    return this.endPosition;
  }

  /** Position of the oldest byte still kept. */
  get start(): number {
    return this.startPosition;
  }

  get size(): number {
    return this.bytes;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.modes.scan(chunk);
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.endPosition += chunk.length;
    while (this.bytes - (this.chunks[this.first] as Uint8Array).length >= this.budget) {
      const dropped = this.chunks[this.first] as Uint8Array;
      this.chunks[this.first] = EMPTY;
      this.first++;
      this.bytes -= dropped.length;
      this.startPosition += dropped.length;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.first > 1024 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** The bytes from `position` to the end, or null when they are no longer all kept. */
  since(position: number): Uint8Array[] | null {
    if (position < this.startPosition || position > this.endPosition) return null;
    const result: Uint8Array[] = [];
    let chunkStart = this.startPosition;
    for (let i = this.first; i < this.chunks.length; i++) {
      const chunk = this.chunks[i] as Uint8Array;
      const chunkEnd = chunkStart + chunk.length;
      if (chunkEnd > position) result.push(position > chunkStart ? chunk.subarray(position - chunkStart) : chunk);
      chunkStart = chunkEnd;
    }
    return result;
  }

  /**
   * What a page should get: exactly what it missed when that is all kept, else
   * the kept history from a clean point (a line start, so no escape sequence is
   * cut) preceded by the sequences that restore the terminal's modes.
   */
  replay(position: number | null): Replay {
    if (position !== null) {
      const exact = this.since(position);
      if (exact) return { position, chunks: exact, reset: false };
    }
    if (this.startPosition === 0) {
      return { position: 0, chunks: this.since(0) ?? [], reset: true };
    }
    const clean = this.cleanStart();
    const chunks = this.since(clean) ?? [];
    const prefix = this.modes.restoreSequence();
    if (prefix.length === 0 || prefix.length > clean) return { position: clean, chunks, reset: true };
    // The restoring sequences stand in for the bytes just before the clean
    // point, so the page's position still ends at this.end.
    return { position: clean - prefix.length, chunks: [prefix, ...chunks], reset: true };
  }

  /** The position just after the first line feed in the kept history (or its start). */
  private cleanStart(): number {
    let chunkStart = this.startPosition;
    for (let i = this.first; i < this.chunks.length; i++) {
      const chunk = this.chunks[i] as Uint8Array;
      const at = chunk.indexOf(LF);
      if (at >= 0) return chunkStart + at + 1;
      chunkStart += chunk.length;
    }
    return this.startPosition;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Tracks the few DEC private modes that change how a screen must be drawn or
 * how keys are sent, so a page that gets history from the middle can be put in
 * the same state. Scanning is cheap: it looks for ESC [ ? only.
 */
export class TerminalModes {
  // Mode number → set. Only modes listed here are tracked.
  private static readonly TRACKED = new Set([1, 25, 47, 1047, 1049, 1000, 1002, 1003, 1005, 1006, 2004]);
  private readonly state = new Map<number, boolean>();
  private pending = ''; // an unfinished sequence at the end of the last chunk

  scan(chunk: Uint8Array): void {
    let from = 0;
    if (this.pending) {
      // Finish a sequence cut at the end of the previous chunk (rare).
      const carried = this.pending.length;
      const joined = this.pending + latin1(chunk.subarray(0, 48));
      const consumed = this.parseAt(joined);
      if (consumed < 0) {
        // Still unfinished: keep waiting unless it is too long to be a mode change.
        this.pending = joined.length <= 48 && chunk.length < 48 ? joined : '';
        if (this.pending) return;
      } else {
        this.pending = '';
        from = consumed > carried ? consumed - carried : 0;
      }
    }
    for (;;) {
      const at = chunk.indexOf(ESC, from);
      if (at < 0) return;
      if (at + 2 >= chunk.length) {
        this.pending = latin1(chunk.subarray(at));
        return;
      }
      if (chunk[at + 1] !== 0x5b || chunk[at + 2] !== 0x3f) {
        from = at + 1;
        continue;
      }
      const text = latin1(chunk.subarray(at, Math.min(chunk.length, at + 48)));
      const consumed = this.parseAt(text);
      if (consumed < 0) {
        this.pending = latin1(chunk.subarray(at));
        if (this.pending.length > 48) this.pending = '';
        return;
      }
      from = at + Math.max(consumed, 1);
    }
  }

  /** Parses ESC [ ? n;m h|l at the start of text; returns chars consumed, or -1 when the text ends first. */
  private parseAt(text: string): number {
    const match = /^\x1b\[\?([\d;]*)([hl]|[^\d;])?/.exec(text);
    if (!match) return text.length < 3 ? -1 : 1;
    if (match[2] === undefined) return -1;
    if (match[2] === 'h' || match[2] === 'l') {
      for (const part of (match[1] ?? '').split(';')) {
        const mode = Number(part);
        if (TerminalModes.TRACKED.has(mode)) this.state.set(mode, match[2] === 'h');
      }
    }
    return match[0].length;
  }

  isSet(mode: number): boolean {
    return this.state.get(mode) === true;
  }

  /** Sequences that bring a freshly reset terminal into the tracked state. */
  restoreSequence(): Uint8Array {
    let text = '';
    const alternate = [1049, 1047, 47].find((m) => this.isSet(m));
    if (alternate !== undefined) text += `\x1b[?${alternate}h`;
    for (const [mode, on] of this.state) {
      if (mode === 1049 || mode === 1047 || mode === 47) continue;
      if (mode === 25 ? !on : on) text += `\x1b[?${mode}${on ? 'h' : 'l'}`;
    }
    return new TextEncoder().encode(text);
  }
}

function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return text;
}
