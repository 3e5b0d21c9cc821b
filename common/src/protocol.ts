// The contract between the parts: the wire protocol between the terminal page and
// the terminal server, and what the auth proxy, the dashboard and the shell's
// `download` agree on with them. Every part imports it (the pages bundle it), so
// it imports nothing itself and uses only what both Node and browsers have.
// docs/protocol.md describes it for people.
//
// Every WebSocket message is one binary frame whose first byte is its type.
// Output and input carry raw bytes (no base64, no JSON); only rare control
// messages from the server are JSON.

/** Page → server. */
export const ClientType = {
  /** Bytes typed or pasted: UTF-8. */
  Input: 0x01,
  /** u16 cols, u16 rows (big-endian). */
  Resize: 0x02,
  /** f64 output position the page has processed (written to the screen). */
  Ack: 0x03,
  /** First message: f64 last position (-1: none), u16 cols, u16 rows, then the session instance id (ASCII). */
  Attach: 0x04,
  /** The owner gives (u8 1) or takes back (u8 0) the keyboard of the viewer named next (UTF-8). */
  Keyboard: 0x05,
} as const;

/**
 * How a page holds a session: its owner's, or a viewer's (someone let in to
 * watch: read-only unless the owner gives them the keyboard).
 */
export type Access = 'owner' | 'viewer';

/** One page attached to a session, as the session API describes it. */
export interface AttachedPage {
  page: string;
  /** Who opened it, as the auth proxy knows them ('' when it knows nobody: no login). */
  user: string;
  access: Access;
  /** Whether its input and size are taken: always for the owner, for a viewer while they have the keyboard. */
  canType: boolean;
  since: string;
  /** True while the page is too far behind to be sent output: it gets what it missed once it catches up. */
  lagging: boolean;
  /** How many times the session's program was paused because this page fell behind (never for a viewer's). */
  pauses: number;
}

/** Server → page. */
export const ServerType = {
  /** Terminal output bytes, continuing at the page's current position. */
  Output: 0x81,
  /** A JSON ServerControl message. */
  Control: 0x82,
} as const;

export type ServerControl =
  /**
   * Attached; output that follows starts at `position`. `reset`: clear the screen first (not a continuation).
   * `live`: the session's position at this attach. Output before it is history replayed to this page,
   * made before it attached; from it on, output is new (the page acts on requests in output only then).
   * `page`: this page's id; `access` and `canType`: what it may do; `owner`: whose terminal it is
   * ('' when the proxy knows nobody); `sharedOrigin`: whether other people's servers share this
   * terminal's web origin (JupyterHub without subdomain_host); `cols` and `rows`: the terminal's size now.
   */
  | {
      type: 'attached';
      session: string;
      instance: string;
      position: number;
      reset: boolean;
      live: number;
      pid: number;
      page: string;
      access: Access;
      canType: boolean;
      owner: string;
      sharedOrigin: boolean;
      cols: number;
      rows: number;
    }
  /** The terminal's size changed (a page that cannot type shows it at this size). */
  | { type: 'size'; cols: number; rows: number }
  /** This page was given (true) or lost (false) the keyboard; the terminal's size now. */
  | { type: 'access'; canType: boolean; cols: number; rows: number }
  /**
   * To the owner's pages: who is watching (each viewer once, however many pages
   * they have open) and the viewers who have the keyboard (watching or not).
   * Sent on attach, then only when it changes, at most every VIEWERS_EVERY_MS.
   */
  | { type: 'viewers'; watching: string[]; keyboard: string[] }
  /** The program in the session ended; nothing follows. */
  | { type: 'exit'; code: number; signal: number }
  /** The page attached to an instance that no longer exists (its shell exited, or the server restarted since); nothing follows. */
  | { type: 'gone' }
  /** A message from the page was refused; the connection goes on. */
  | { type: 'error'; message: string };

/** Every control message's type: the compiler holds this list to ServerControl (none missing, none extra). */
export const CONTROL_TYPES = Object.keys({
  attached: true,
  size: true,
  access: true,
  viewers: true,
  exit: true,
  gone: true,
  error: true,
} satisfies Record<ServerControl['type'], true>) as readonly ServerControl['type'][];

/** WebSocket close codes (4000–4999 are the application's own). */
export const CloseCode = {
  /** Too many bad frames on one connection (Limits.maxBadMessages). */
  PolicyViolation: 1008,
  /** A frame over Limits.maxFrameBytes (sent by the ws library, which enforces the limit). */
  TooBig: 1009,
  /** Sent by the auth proxy when the terminal server is not reachable right now. */
  TryAgainLater: 1013,
  /** The session's program exited (the exit control message said how). */
  SessionEnded: 4000,
  /** No more sessions may be created. Reconnecting will not help until one ends. */
  TooManySessions: 4001,
  /** The page did not attach in time or sent a frame that cannot be a valid attach. */
  AttachFailed: 4003,
  /** The server is shutting down. */
  ServerStopping: 4004,
  /** A viewer asked for a session its owner has not started: a viewer never starts one. */
  NotStarted: 4005,
  /** The session has as many of the owner's pages, or of viewers' pages, as it takes (Limits.maxPagesPerSession). */
  TooManyPages: 4006,
} as const;

/** Session names: letters, digits, `_` and `-`, 1 to 64 of them. */
export const SESSION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const Limits = {
  /** Largest frame the server accepts; the page splits pastes well below it. */
  maxFrameBytes: 1 << 20,
  /** The page sends input in pieces of at most this many bytes. */
  inputChunkBytes: 16 << 10,
  /**
   * Input waiting for a session's program beyond which a page's input is
   * dropped (with an error message); the page's socket is never paused for it.
   * Big enough for any paste a person makes into a program that reads it.
   */
  maxPendingInputBytes: 8 << 20,
  minCols: 2,
  maxCols: 1000,
  minRows: 1,
  maxRows: 1000,
  maxInstanceIdLength: 64,
  /** Longest user name in a keyboard message, in bytes. */
  maxUserBytes: 256,
  /** A connection sending this many bad frames is closed (1008); nothing it sends after is read. */
  maxBadMessages: 100,
  /**
   * Pages a session takes from its owner, and as many again from viewers (so
   * neither can shut the other out). Someone's own tabs and the few people who
   * watch them (an instructor, a helper) are a handful; this leaves room for
   * forgotten tabs and for reconnects whose old socket has not timed out yet,
   * while bounding what one login can make a session do: every output frame is
   * written to every page that keeps up, and each attach or leave is news to
   * the owner's pages.
   */
  maxPagesPerSession: 64,
} as const;

/**
 * The owner's pages are told who is watching at most this often (and only
 * when it changed): a crowd of pages coming and going costs each page a few
 * small messages a second, not one per attach.
 */
export const VIEWERS_EVERY_MS = 250;

/** How the page reconnects after a close it can recover from: doubling delays, with jitter so a room does not come back in lockstep. */
export const Reconnect = {
  firstDelayMs: 250,
  maxDelayMs: 10_000,
  /** Each delay is multiplied by a random factor within 1 ± this. */
  jitter: 0.25,
} as const;

export const FlowControl = {
  /**
   * The server pauses a session's program when a page is this many bytes behind...
   * (xterm.js stays responsive with up to about 1 MB queued; a bigger window keeps
   * the pipe full while the page draws.)
   */
  highWaterBytes: 512 << 10,
  /** ...and resumes it when every page is back below this. */
  lowWaterBytes: 128 << 10,
  /**
   * The page acknowledges every this many processed bytes, and only then. Less
   * than lowWaterBytes, so the last ack of any burst leaves the page below it.
   */
  ackEveryBytes: 64 << 10,
  /** A page that makes no progress for this long stops holding the session back. */
  stallTimeoutMs: 5000,
} as const;

/**
 * Files in and out of the shells: terminal-server/src/files.ts serves them under
 * `<prefix>/files`, the pages send uploads in pieces. Header names in lower case,
 * as Node gives them (HTTP compares them without case).
 */
/** The header every upload request carries, with the value 1 (a form of another site cannot set a header). */
export const UPLOAD_HEADER = 'x-terminal-upload';
/** The header of a 409 answer that says how many bytes of the upload the server has. */
export const RECEIVED_HEADER = 'x-upload-received';
/** The header of a 409 answer that says when the file in the way was last changed (ms since 1970). */
export const EXISTING_HEADER = 'x-upload-existing';
/** The folder of the home folder that workshop pages upload into (`into=uploads`; Educates' default). */
export const UPLOADS_FOLDER = 'uploads';

/**
 * The file API, for the editor and the files:* / editor:* actions: served by
 * terminal-server/src/file-api.ts at `<prefix>/files/api/<operation>`, used
 * through terminal-server/page/file-client.ts (the pages, the tests and the
 * bench alike). Files are named by `path`: relative to the home folder (`''` is
 * the home folder itself), or `~/…`, or absolute inside the home folder;
 * anything that resolves outside it, links included, is refused (403).
 *
 *   GET    list?path=[&hidden=1]          FolderListing (hidden files only when asked;
 *          at most LIST_MAX_ENTRIES of them, `truncated` when there were more)
 *   GET    read?path=                     FileText
 *   GET    stat?path=                     FileVersion (404 when there is none)
 *   PUT    write?path=&version=<v>|new    body: the text (UTF-8); answers FileVersion.
 *          `new` creates the file and refuses one that exists; `<v>` replaces the
 *          file only while it is still that version: otherwise 409 `changed` with
 *          the current version, so nothing is ever overwritten unasked
 *   POST   create?path=&type=file|folder  201 FileVersion; 409 `exists`
 *   POST   copy?path=&to=[&replace=<v>]   FileVersion of the copy; a file at `to` is
 *          replaced only when `replace` is its current version (else 409)
 *   POST   rename?path=&to=[&replace=<v>] FileVersion at `to`; the same rule for `to`
 *   DELETE delete?path=[&version=<v>][&recursive=1]  204; a file only while it is
 *          that version (when given); a folder only when empty unless `recursive`
 *
 * Every answer is JSON (errors `FileApiFailure`). Anything but a GET must carry
 * FILES_HEADER: 1 and come from a page of this terminal (same origin); only the
 * terminal's owner is answered, never a viewer.
 */
export const FILES_API_PATH = 'files/api';
/** The header every changing request of the file API carries, with the value 1 (a form of another site cannot set a header). */
export const FILES_HEADER = 'x-terminal-files';
/** Files larger than this open read-only in the editor (their text is not sent). */
export const EDITABLE_MAX_BYTES = 5 << 20;
/**
 * The most entries one listing answers: a folder of 100 000 files (a build's
 * output, a cache) costs the server and the page a bounded answer, not one per file.
 */
export const LIST_MAX_ENTRIES = 5000;

export type FileEntryType = 'file' | 'folder' | 'link' | 'other';

export interface FileEntry {
  name: string;
  type: FileEntryType;
  /** For a link: what it leads to inside the home folder (`file` or `folder`), or null when that is outside it or nothing. */
  target: 'file' | 'folder' | null;
  size: number;
  mtimeMs: number;
}

export interface FolderListing {
  /** The folder, relative to the home folder ('' for it). */
  path: string;
  entries: FileEntry[];
  /** True when the folder has more entries than LIST_MAX_ENTRIES (which ones are answered is then the file system's order). */
  truncated?: boolean;
}

export interface FileVersion {
  /** The file, relative to the home folder. */
  path: string;
  /** Opaque: changes whenever the file's content may have changed (the file replaced, written, resized). */
  version: string;
  size: number;
  mtimeMs: number;
  /** Whether the attendee may write it (its permissions). */
  writable: boolean;
}

/** Why a file opens read-only: too large to edit here, not text, text not in UTF-8, or not writable. */
export type ReadOnlyReason = 'too-large' | 'binary' | 'not-utf8' | 'not-writable';

export interface FileText extends FileVersion {
  /** The text; null when the file is not text this editor can show (`readOnly` says why). */
  text: string | null;
  readOnly: ReadOnlyReason | null;
}

export type FileFailureCode = 'not-found' | 'exists' | 'changed' | 'outside' | 'not-empty' | 'bad-request' | 'failed';

export interface FileApiFailure {
  /** One line, for the attendee. */
  error: string;
  code: FileFailureCode;
  /** With `changed` and `exists`: the file as it is now. */
  current?: FileVersion;
}

/**
 * The private OSC of the shell's `download FILE` (shell/bin/download prints it):
 * `ESC ] 7717 ; download ; <nonce> ; <unix time> ; <base64 path> BEL`. The page
 * answers a new one with `ESC ] 7717 ; answer ; <nonce> ; <DownloadAnswer> BEL` as input.
 */
export const DOWNLOAD_OSC = 7717;
/**
 * A `download` is acted on only within this window of its time (seconds, by the server's clock):
 * older, it is output printed again (a file, a log); later, it was dated ahead to never go stale.
 * The few seconds before allow for the clock's seconds being cut, not rounded.
 */
export const DOWNLOAD_FRESH_SECONDS = { before: 5, after: 60 } as const;
/** What the page answers the shell's `download`: started, or the server's refusal (its status), or no server. */
export type DownloadAnswer = 'ok' | `refused-${number}` | 'failed';

export interface DownloadRequest {
  /** Absolute path of the file, as the shell named it. */
  path: string;
  /** 16 hex digits, new for each request: a browser acts on each once. */
  nonce: string;
  /** Unix seconds, by the clock of the machine the shell runs on. */
  issuedAt: number;
}

/** The request in a `download` sequence's data (what follows `7717;`), or null when it is not one. */
export function parseDownloadSequence(data: string): DownloadRequest | null {
  const match = /^download;([0-9a-f]{16});(\d{1,12});([A-Za-z0-9+/]{1,16384}={0,2})$/.exec(data);
  if (!match) return null;
  let text: string;
  try {
    const bytes = Uint8Array.from(atob(match[3] as string), (c) => c.charCodeAt(0));
    text = strictDecoder.decode(bytes);
  } catch {
    return null;
  }
  if (!text.startsWith('/') || /[\u0000-\u001f\u007f]/.test(text)) return null;
  return { path: text, nonce: match[1] as string, issuedAt: Number(match[2]) };
}

/** Whether a request dated `issuedAt` is fresh at `now` (unix seconds, both by the server's clock). */
export function isFresh(issuedAt: number, now: number): boolean {
  if (!Number.isSafeInteger(issuedAt) || !Number.isFinite(now)) return false;
  const age = now - issuedAt;
  return age >= -DOWNLOAD_FRESH_SECONDS.before && age <= DOWNLOAD_FRESH_SECONDS.after;
}

/** The page's answer to a `download`, as the terminal input that carries it. */
export function downloadAnswerSequence(nonce: string, answer: DownloadAnswer): string {
  return `\x1b]${DOWNLOAD_OSC};answer;${nonce};${answer}\x07`;
}

export type ClientMessage =
  | { type: 'input'; data: Uint8Array }
  | { type: 'resize'; cols: number; rows: number }
  | { type: 'ack'; position: number }
  | { type: 'attach'; position: number | null; cols: number; rows: number; instance: string }
  | { type: 'keyboard'; allow: boolean; user: string };

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

function validSize(cols: number, rows: number): boolean {
  return cols >= Limits.minCols && cols <= Limits.maxCols && rows >= Limits.minRows && rows <= Limits.maxRows;
}

/** Decodes and validates one frame from a page; throws ProtocolError when it is not valid. */
export function decodeClientMessage(frame: Uint8Array): ClientMessage {
  if (frame.length === 0) throw new ProtocolError('empty frame');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  switch (frame[0]) {
    case ClientType.Input:
      return { type: 'input', data: frame.subarray(1) };
    case ClientType.Resize: {
      if (frame.length !== 5) throw new ProtocolError('resize must be 5 bytes');
      const cols = view.getUint16(1);
      const rows = view.getUint16(3);
      if (!validSize(cols, rows)) throw new ProtocolError(`terminal size ${cols}x${rows} is out of range`);
      return { type: 'resize', cols, rows };
    }
    case ClientType.Ack: {
      if (frame.length !== 9) throw new ProtocolError('ack must be 9 bytes');
      const position = view.getFloat64(1);
      if (!Number.isSafeInteger(position) || position < 0) throw new ProtocolError('ack position is not valid');
      return { type: 'ack', position };
    }
    case ClientType.Attach: {
      if (frame.length < 13 || frame.length > 13 + Limits.maxInstanceIdLength) {
        throw new ProtocolError('attach has the wrong length');
      }
      const raw = view.getFloat64(1);
      const cols = view.getUint16(9);
      const rows = view.getUint16(11);
      if (!(raw === -1 || (Number.isSafeInteger(raw) && raw >= 0)))
        throw new ProtocolError('attach position is not valid');
      if (!validSize(cols, rows)) throw new ProtocolError(`terminal size ${cols}x${rows} is out of range`);
      let instance = '';
      for (let i = 13; i < frame.length; i++) {
        const c = frame[i] as number;
        if (c < 0x21 || c > 0x7e) throw new ProtocolError('attach instance id is not printable ASCII');
        instance += String.fromCharCode(c);
      }
      return { type: 'attach', position: raw === -1 ? null : raw, cols, rows, instance };
    }
    case ClientType.Keyboard: {
      if (frame.length < 3 || frame.length > 2 + Limits.maxUserBytes) {
        throw new ProtocolError('keyboard has the wrong length');
      }
      if (frame[1] !== 0 && frame[1] !== 1) throw new ProtocolError('keyboard must give (1) or take back (0)');
      const name = frame.subarray(2);
      if (!isUtf8Text(name)) throw new ProtocolError('keyboard user name is not UTF-8 text');
      return { type: 'keyboard', allow: frame[1] === 1, user: decoder.decode(name) };
    }
    default:
      throw new ProtocolError(`unknown message type ${frame[0]}`);
  }
}

export function encodeInput(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(data.length + 1);
  frame[0] = ClientType.Input;
  frame.set(data, 1);
  return frame;
}

export function encodeResize(cols: number, rows: number): Uint8Array {
  const frame = new Uint8Array(5);
  const view = new DataView(frame.buffer);
  frame[0] = ClientType.Resize;
  view.setUint16(1, cols);
  view.setUint16(3, rows);
  return frame;
}

export function encodeKeyboard(allow: boolean, user: string): Uint8Array {
  const name = encoder.encode(user);
  const frame = new Uint8Array(2 + name.length);
  frame[0] = ClientType.Keyboard;
  frame[1] = allow ? 1 : 0;
  frame.set(name, 2);
  return frame;
}

export function encodeAck(position: number): Uint8Array {
  const frame = new Uint8Array(9);
  frame[0] = ClientType.Ack;
  new DataView(frame.buffer).setFloat64(1, position);
  return frame;
}

/**
 * The attach message may instead ride in the socket's URL, as `?attach=<its
 * frame in hex>`: the server then attaches as soon as the socket opens, and the
 * page's first output comes one round trip sooner.
 */
export const ATTACH_QUERY = 'attach';

/** The attach frame as the URL's query value (hex: the same in the browser and Node). */
export function attachQueryValue(frame: Uint8Array): string {
  let hex = '';
  for (const byte of frame) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** The attach message in a URL's query value; throws ProtocolError when it is not one. */
export function decodeAttachQuery(value: string): ClientMessage & { type: 'attach' } {
  if (value.length === 0 || value.length > 2 * (13 + Limits.maxInstanceIdLength) || !/^(?:[0-9a-f]{2})+$/.test(value)) {
    throw new ProtocolError('the attach in the URL is not a hex attach message');
  }
  const frame = new Uint8Array(value.length / 2);
  for (let i = 0; i < frame.length; i++) frame[i] = Number.parseInt(value.slice(2 * i, 2 * i + 2), 16);
  const message = decodeClientMessage(frame);
  if (message.type !== 'attach') throw new ProtocolError('the attach in the URL is not an attach message');
  return message;
}

export function encodeAttach(options: {
  position: number | null;
  cols: number;
  rows: number;
  instance: string;
}): Uint8Array {
  const instance = options.instance.slice(0, Limits.maxInstanceIdLength);
  const frame = new Uint8Array(13 + instance.length);
  const view = new DataView(frame.buffer);
  frame[0] = ClientType.Attach;
  view.setFloat64(1, options.position ?? -1);
  view.setUint16(9, options.cols);
  view.setUint16(11, options.rows);
  for (let i = 0; i < instance.length; i++) frame[13 + i] = instance.charCodeAt(i) & 0x7f;
  return frame;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Valid UTF-8 without control characters (a name, not terminal input). */
function isUtf8Text(bytes: Uint8Array): boolean {
  try {
    return !/[\u0000-\u001f\u007f-\u009f]/.test(strictDecoder.decode(bytes));
  } catch {
    return false;
  }
}

export function encodeControl(message: ServerControl): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  const frame = new Uint8Array(body.length + 1);
  frame[0] = ServerType.Control;
  frame.set(body, 1);
  return frame;
}

/** Decodes a control frame from the server (the page trusts its own server, but still checks the shape). */
export function decodeControl(frame: Uint8Array): ServerControl | null {
  try {
    const value = JSON.parse(decoder.decode(frame.subarray(1))) as ServerControl;
    return value && typeof value === 'object' && typeof value.type === 'string' ? value : null;
  } catch {
    return null;
  }
}

/**
 * Splits UTF-8 bytes into pieces of at most `max` bytes without cutting a
 * character in two, so each piece is valid UTF-8 on its own.
 */
export function splitUtf8(bytes: Uint8Array, max: number = Limits.inputChunkBytes): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  while (bytes.length - start > max) {
    let end = start + max;
    // Step back over continuation bytes (10xxxxxx) to a character boundary.
    while (end > start && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    if (end === start) end = start + max;
    pieces.push(bytes.subarray(start, end));
    start = end;
  }
  if (start < bytes.length || pieces.length === 0) pieces.push(bytes.subarray(start));
  return pieces;
}

/**
 * The editor:* blocks: what the dashboard reads from a block (dashboard/src/actions.ts)
 * and the editor's text changes act on (editor/page/edits.ts).
 */
/** A step of a YAML path: a key, an index in a list (negative from its end), or the list item whose `key` is `value`. */
export type YamlStep = string | number | { key: string; value: string };

/** What to look for: plain text or a regular expression (its `group`), in lines start to stop (stop not searched). */
export interface TextSearch {
  pattern: string;
  isRegex: boolean;
  group: number;
  /** The first line searched (negative: counted from the end); null: the first. */
  start: number | null;
  /** The line where the search stops, not searched (negative: counted from the end); null: the end. */
  stop: number | null;
}

/**
 * The room (issue 25): each attendee's stack tells a room service (a JupyterHub
 * service, room/) what the attendee does, and the instructors' room page shows it.
 * A stack posts batches to `<ROOM_SERVICE_URL>/api/events` with
 * `Authorization: token <its JUPYTERHUB_API_TOKEN>`; the service asks the hub
 * whose token it is (/hub/api/user), so a stack speaks only for its own user.
 * The body is JSON `{"events": [RoomEvent, …]}` (at most ROOM_LIMITS.batchEvents
 * events and batchBytes bytes). Answers: 200 `{"accepted": n, "refused":
 * [{"index": i, "reason": "…"}]}` (bad events are refused one by one, the others
 * kept); 400 (not such JSON), 413 (too many events or bytes) and 401 (a token the
 * hub does not know) refuse the whole batch, which must not be sent again; 429
 * (too fast) and 503 (the hub not answering) refuse it for now: send it again
 * after Retry-After seconds.
 * Times are ms since 1970 by the stack's clock. Every text is the attendee's or
 * their programs': shown as text, cut to ROOM_LIMITS.textChars.
 */
export type RoomEvent =
  /** A page of the instructions shown: its name, its place (from 1) and how many pages there are. */
  | { type: 'page'; at: number; page: string; index: number; pages: number }
  /** A clickable block clicked: its page and its place on the page (from 1), and what it does (`execute`, `examiner`, …). */
  | { type: 'block'; at: number; page: string; block: number; action: string }
  /**
   * A command ended in a terminal (the shell's OSC 133 marks): its exit status, its text and
   * the last line it printed; `page` and `block` when a clicked block typed it, else null.
   */
  | {
      type: 'command';
      at: number;
      session: string;
      exit: number;
      command: string;
      output: string;
      page: string | null;
      block: number | null;
    }
  /** An examiner check ran (clicked or by autostart): passed or not. */
  | { type: 'check'; at: number; page: string; block: number; name: string; passed: boolean }
  /** The attendee became idle (no input for ROOM_LIMITS.idleMs) or active again. */
  | { type: 'activity'; at: number; active: boolean }
  /** The attendee raised their hand (with a short message, maybe empty) or lowered it. */
  | { type: 'hand'; at: number; raised: boolean; message: string };

export const ROOM_LIMITS = {
  /** Events in one post, and its bytes. */
  batchEvents: 100,
  batchBytes: 64 << 10,
  /** Any text in an event (a command, an output line, a message, a page name), in characters. */
  textChars: 200,
  /** No input for this long: idle. */
  idleMs: 5 * 60_000,
} as const;

/** The room page's view of one attendee, which the room service keeps from their events and the hub. */
export interface RoomRow {
  user: string;
  /** Their server, as the hub says. */
  server: 'running' | 'starting' | 'stopped';
  /** Where their server is (a path on the hub's origin, or a URL on a host of its own); null when stopped. */
  serverUrl: string | null;
  /** The page shown last: its name, place (from 1) and the number of pages; null before any. */
  page: { name: string; index: number; pages: number; at: number } | null;
  /** The furthest page reached (from 1; 0 before any). */
  reached: number;
  checksPassed: number;
  checksFailed: number;
  /** The last event's time (the stack's clock, ms), or null before any. */
  lastAt: number | null;
  active: boolean;
  /** The last command that failed, as the stack told it. */
  lastFailure: {
    at: number;
    exit: number;
    command: string;
    output: string;
    page: string | null;
    block: number | null;
  } | null;
  /**
   * What fails now and has not passed since: a command (exit status not 0) or a
   * check, on a page and maybe a block; null once a command or check of that
   * block succeeds, or the attendee opens another page.
   */
  problem: {
    kind: 'command' | 'check';
    at: number;
    page: string | null;
    /** The page's place (from 1) when it was the page shown, else 0. */
    index: number;
    block: number | null;
    output: string;
  } | null;
  hand: { at: number; message: string } | null;
}

/** What the room service pushes to the room page (Server-Sent Events, one JSON object per `data:`). */
export type RoomStreamMessage =
  /** First: every row, and what the page needs to judge them. */
  | {
      type: 'snapshot';
      rows: RoomRow[];
      stuckMinutes: number;
      /** True when every user's server shares the hub's origin (no subdomain_host): watching trusts the watched. */
      sharedOrigin: boolean;
      /** The service's clock when sent (ms), so the page can judge times against the stacks'. */
      now: number;
    }
  /** Then: the rows that changed since (whole rows), and users gone from the hub. */
  | { type: 'rows'; rows: RoomRow[]; removed: string[]; now: number };

/** The room stream's ping (an SSE `ping` event) comes this often; a page that hears nothing for three of them connects again. */
export const ROOM_PING_MS = 5000;
