// The shell's marks (OSC 133, sent by image/etc/shell-marks.bash when the room is
// configured): where each command starts (C) and ends (D;<status>;<text>), and
// where the prompt starts (A). They are read from a session's output and taken
// out of it before the history or any page sees it, so positions, flow control
// and replays count only the bytes pages get.
//
// Any program can print these bytes too, and so fake a command's end: that
// misreports only the attendee's own row in the room (which the attendee could
// do by typing anyway). Marks change nothing else: they are only ever removed
// from the output and turned into a report.
import { ROOM_LIMITS } from '../../common/src/protocol.js';

/** What a command that ended told (or what its output showed). */
export interface CommandEnd {
  exit: number;
  /** The command line as the shell's history has it ('' when it did not keep it). */
  command: string;
  /** The last non-empty line it printed, escape sequences removed. */
  output: string;
}

export interface ShellMarkListener {
  commandStarted(): void;
  commandEnded(end: CommandEnd): void;
}

const ESC = 0x1b;
const BEL = 0x07;
const BACKSLASH = 0x5c;
/** ESC ] 1 3 3 ; */
const PREFIX = Buffer.from('\x1b]133;', 'latin1');
/**
 * The longest mark taken as one: the shell cuts its text to 300 characters (at
 * most 1200 bytes). Longer, it is some other output, passed on as it is; this
 * bounds what is held back between two chunks of output.
 */
export const MAX_MARK_BYTES = 2048;
/** How much of a command's latest output is kept to find its last line. */
export const OUTPUT_TAIL_BYTES = 4096;

export class ShellMarks {
  /** Output from an ESC that may begin a mark, until the next chunk says whether it does. */
  private held: Buffer | null = null;
  /** Between a command's start (C) and its end (D). */
  private running = false;
  private readonly tail = Buffer.alloc(OUTPUT_TAIL_BYTES);
  private tailLength = 0;
  /** True when the command's output was longer than the tail: its first line there is cut. */
  private tailCut = false;

  constructor(private readonly listener: ShellMarkListener) {}

  /** The chunk without its marks (the same object when it has none), acting on each mark in order. */
  strip(chunk: Buffer): Buffer {
    let data = chunk;
    if (this.held) {
      data = Buffer.concat([this.held, chunk]);
      this.held = null;
    }
    const pieces: Buffer[] = [];
    let from = 0;
    let at = data.indexOf(ESC);
    while (at >= 0) {
      const found = this.markAt(data, at);
      if (found === 'no') {
        at = data.indexOf(ESC, at + 1);
        continue;
      }
      this.output(pieces, data.subarray(from, at));
      if (found === 'unfinished') {
        this.held = Buffer.from(data.subarray(at));
        from = data.length;
        break;
      }
      this.act(data.subarray(at + PREFIX.length, found.payloadEnd));
      from = found.end;
      at = data.indexOf(ESC, from);
    }
    if (from === 0 && data === chunk) {
      if (this.running) this.keep(chunk);
      return chunk;
    }
    this.output(pieces, data.subarray(from));
    return pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces);
  }

  /** What is held back (the start of a mark that never finished), as output: the program has ended. */
  flush(): Buffer {
    const rest = this.held ?? Buffer.alloc(0);
    this.held = null;
    return rest;
  }

  /** Whether a mark starts at `at`: where its payload and the mark end, 'no', or 'unfinished' (the data ends first). */
  private markAt(data: Buffer, at: number): { payloadEnd: number; end: number } | 'no' | 'unfinished' {
    const prefixEnd = Math.min(data.length, at + PREFIX.length);
    for (let i = at + 1; i < prefixEnd; i++) if (data[i] !== PREFIX[i - at]) return 'no';
    if (prefixEnd - at < PREFIX.length) return 'unfinished';
    const limit = Math.min(data.length, at + MAX_MARK_BYTES);
    for (let i = at + PREFIX.length; i < limit; i++) {
      const byte = data[i];
      if (byte === BEL) return { payloadEnd: i, end: i + 1 };
      if (byte === ESC) {
        if (i + 1 === data.length) return 'unfinished';
        return data[i + 1] === BACKSLASH ? { payloadEnd: i, end: i + 2 } : 'no';
      }
    }
    return limit === data.length && data.length - at < MAX_MARK_BYTES ? 'unfinished' : 'no';
  }

  private output(pieces: Buffer[], piece: Buffer): void {
    if (piece.length === 0) return;
    pieces.push(piece);
    if (this.running) this.keep(piece);
  }

  private act(payload: Buffer): void {
    const text = payload.toString('utf8');
    const kind = text[0];
    if ((kind === 'A' || kind === 'B' || kind === 'C' || kind === 'D') && text.length > 1 && text[1] !== ';') return;
    if (kind === 'C') {
      this.running = true;
      this.tailLength = 0;
      this.tailCut = false;
      this.listener.commandStarted();
    } else if (kind === 'D') {
      // A D with no C before it is a prompt after nothing ran (or a stray mark).
      if (!this.running) return;
      this.running = false;
      const [, status = '', ...command] = text.split(';');
      if (!/^\d{1,3}$/.test(status) || Number(status) > 255) return;
      this.listener.commandEnded({
        exit: Number(status),
        command: cutText(command.join(';').replace(CONTROLS, ' ').trim()),
        output: lastLine(this.tail.subarray(0, this.tailLength), this.tailCut),
      });
    } else if (kind === 'A') {
      this.running = false;
    }
  }

  /** Keeps the latest OUTPUT_TAIL_BYTES of the command's output, in one fixed buffer. */
  private keep(piece: Buffer): void {
    const size = OUTPUT_TAIL_BYTES;
    if (piece.length >= size) {
      piece.copy(this.tail, 0, piece.length - size);
      this.tailLength = size;
      this.tailCut = true;
      return;
    }
    const over = this.tailLength + piece.length - size;
    if (over > 0) {
      this.tail.copyWithin(0, over, this.tailLength);
      this.tailLength -= over;
      this.tailCut = true;
    }
    piece.copy(this.tail, this.tailLength);
    this.tailLength += piece.length;
  }
}

const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
/** Escape sequences: strings (OSC, DCS, APC, PM, SOS) to their end, CSI, then any other ESC sequence. */
const SEQUENCES = /\x1b[\]P_^X][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?/g;

/** The last line of `tail` that shows something, as the screen would show it after carriage returns. */
export function lastLine(tail: Buffer, cut: boolean): string {
  let text = tail.toString('utf8');
  // Cut output may start inside a line or an escape sequence: from the first whole line on.
  if (cut) text = text.slice(text.indexOf('\n') + 1);
  const lines = text.replace(SEQUENCES, '').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    // What follows the last carriage return (not the one ending the line) is what stays on screen.
    const line = (lines[i] as string).replace(/\r+$/, '');
    const shown = line
      .slice(line.lastIndexOf('\r') + 1)
      .replace(CONTROLS, ' ')
      .trim();
    if (shown !== '') return cutText(shown);
  }
  return '';
}

/** Text cut to ROOM_LIMITS.textChars characters (not UTF-16 units: no half of a pair). */
export function cutText(text: string): string {
  if (text.length <= ROOM_LIMITS.textChars) return text;
  return Array.from(text).slice(0, ROOM_LIMITS.textChars).join('');
}
