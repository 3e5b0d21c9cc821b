// Output framing: what a session's program writes goes to its pages as output
// frames (the type byte, then the bytes), few and large while it floods, at
// once when it is a keystroke's echo.
import { ServerType } from '../../common/src/protocol.js';

/** Output frames carry at most about this much: big enough to be cheap, small enough to keep the page responsive. */
export const FRAME_BYTES = 64 << 10;
/** How long output is gathered into one frame while it keeps coming. */
const BURST_GATHER_MS = 4;
/** Reads at least this large count as a flood (the kernel hands over about 4 KiB per read then). */
const BURST_MIN_BYTES = 1024;

/** One output frame holding the chunks (one copy: into the frame). */
export function outputFrame(chunks: readonly Uint8Array[], size: number): Uint8Array {
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
export function outputFrames(chunks: readonly Uint8Array[]): Uint8Array[] {
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

/**
 * Gathers a program's output into frames. The kernel hands over at most about
 * 4 KiB per read; sending one frame per read costs a frame, a message event and
 * a write call each on both ends. Output read in the same turn of the event
 * loop goes out as one frame.
 */
export class OutputGatherer {
  private unsent: Uint8Array[] = [];
  private unsentBytes = 0;
  private soon: { timer?: NodeJS.Timeout; immediate?: NodeJS.Immediate } | undefined;
  private lastFlush = 0;

  constructor(private readonly send: (frame: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    this.unsent.push(chunk);
    this.unsentBytes += chunk.length;
    if (this.unsentBytes >= FRAME_BYTES) this.flush();
    else if (!this.soon) {
      // Small output (an echo, a prompt) goes at once. Large reads in quick
      // succession (a flood) are gathered for a few milliseconds, so the page
      // gets fewer, larger frames.
      const bursting = this.unsentBytes >= BURST_MIN_BYTES && performance.now() - this.lastFlush < BURST_GATHER_MS;
      this.soon = bursting
        ? { timer: setTimeout(() => this.flush(), BURST_GATHER_MS) }
        : { immediate: setImmediate(() => this.flush()) };
    }
  }

  /** Sends what was gathered, now, as one frame. */
  flush(): void {
    // Each kind of handle must be cleared by its own function (clearImmediate on a
    // timer corrupts Node's count of pending immediates).
    if (this.soon?.timer) clearTimeout(this.soon.timer);
    if (this.soon?.immediate) clearImmediate(this.soon.immediate);
    this.soon = undefined;
    if (this.unsent.length === 0) return;
    this.lastFlush = performance.now();
    const frame = outputFrame(this.unsent, this.unsentBytes);
    this.unsent = [];
    this.unsentBytes = 0;
    this.send(frame);
  }
}
