// Files in and out of a terminal view: files dropped on it (or picked with its
// upload button) go up in pieces into the folder of the shell's foreground
// program, each with a progress bar; the shell's `download FILE` (shell/bin/download)
// prints a private OSC sequence naming a file, and the browser downloads it.
// The server side is terminal-server/src/files.ts.
//
// Output is not only what the attendee asked for: a cloned README, `kubectl logs`
// or a web page printed with curl can carry the sequence too. So the page acts on
// one only when it is new output (never history replayed to a page that attaches
// or comes back), dated within a minute of now by the server's clock, and not seen
// before in this browser, and the owner's page only. It then downloads at once
// rather than offering a button to click: what is left for a sequence someone else
// wrote to do is put one of the attendee's own files in their own browser's
// downloads, while they are looking, which is what the attendee's own `download`
// asks for each time; a click more per file would protect nothing further.
// The page answers the shell's `download` through the terminal, as terminals answer
// queries, so that it can say what became of its request.
import type { IDisposable, Terminal } from '@xterm/xterm';
import {
  DOWNLOAD_OSC,
  type DownloadAnswer,
  downloadAnswerSequence,
  EXISTING_HEADER,
  isFresh,
  parseDownloadSequence,
  RECEIVED_HEADER,
  UPLOAD_HEADER,
} from '../../common/src/protocol.js';
import { icon } from './icons.js';

/**
 * What became of a `download` sequence in a view's output, as a `terminal-download` CustomEvent
 * (bubbling) on its container: `replayed` (history replayed on attaching), `malformed`, `seen`
 * (this browser acted on it before), `stale` (not dated within a minute of now), `started`,
 * `refused` (by the server: `error` says why) or `failed` (the server could not be reached).
 */
export interface DownloadEventDetail {
  path: string;
  outcome: 'replayed' | 'malformed' | 'seen' | 'stale' | 'started' | 'refused' | 'failed';
  error?: string;
}
/** Pieces are sized to take about this long on the network seen so far, well within the servers' 60 s. */
const PIECE_TARGET_MS = 8000;
const MIN_PIECE_BYTES = 256 << 10;
const MAX_PIECE_BYTES = 8 << 20;
/** Failed pieces in a row (network down, server restarting) before an upload gives up. */
const MAX_ATTEMPTS = 5;
/** Downloads remembered per browser, so a reload that replays the output does not download again. */
const REMEMBERED_DOWNLOADS = 50;

export type UploadState = 'started' | 'progress' | 'done' | 'failed' | 'cancelled';

/** What a view's container hears about each upload, as a `terminal-upload` CustomEvent (bubbling). */
export interface UploadEventDetail {
  /** The file's name in the browser. */
  file: string;
  state: UploadState;
  loaded: number;
  total: number;
  /** The name it got, and where (once the server said). */
  savedAs?: string;
  directory?: string;
  error?: string;
}

/** The download URL of a file under the home folder (relative paths are relative to it). */
export function downloadUrl(prefix: string, filePath: string, name?: string): string {
  const query = new URLSearchParams({ path: filePath });
  if (name) query.set('name', name);
  return new URL(`${prefix}/files/download?${query}`, location.href).href;
}

/** The server refused a download (its status and reason). */
export class DownloadRefused extends Error {
  override name = 'DownloadRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Makes the browser download a file under the home folder. Asks first (HEAD), so
 * a refusal is a DownloadRefused with the server's reason instead of a download of
 * an error page. With `issuedAt` (unix seconds, the server's clock), a request
 * outside a small window around the server's now is left alone and false returned.
 */
export async function startDownload(options: {
  prefix: string;
  path: string;
  name?: string;
  issuedAt?: number;
}): Promise<boolean> {
  const url = downloadUrl(options.prefix, options.path, options.name);
  const head = await fetch(url, { method: 'HEAD', credentials: 'same-origin', cache: 'no-store' });
  if (options.issuedAt !== undefined) {
    const now = Date.parse(head.headers.get('Date') ?? '') / 1000;
    if (!isFresh(options.issuedAt, now)) return false;
  }
  if (!head.ok) throw new DownloadRefused(head.status, await errorOf(url, head.status));
  const link = document.createElement('a');
  link.href = url;
  link.download = options.name ?? '';
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  return true;
}

/** The server's reason for refusing a download (a HEAD answer has no body to say it). */
async function errorOf(url: string, status: number): Promise<string> {
  try {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    const body = (await response.json()) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // no reason given
  }
  return `the server answered ${status}`;
}

/** True the first time this browser sees a download's nonce (any tab, any view): then it is remembered. */
function firstSighting(prefix: string, nonce: string): boolean {
  const key = `terminal-downloads:${prefix}`;
  let seen: string[] = [];
  try {
    const stored = JSON.parse(localStorage.getItem(key) ?? '[]') as unknown;
    if (Array.isArray(stored)) seen = stored.filter((item): item is string => typeof item === 'string');
  } catch {
    // a bad entry is replaced
  }
  if (seen.includes(nonce)) return false;
  try {
    localStorage.setItem(key, JSON.stringify([...seen, nonce].slice(-REMEMBERED_DOWNLOADS)));
  } catch {
    // storage refused: the freshness check still applies
  }
  return true;
}

interface Item {
  row: HTMLElement;
  bar: HTMLProgressElement;
  text: HTMLElement;
  button: HTMLButtonElement;
}

/** Uploads by drop and button, downloads by the shell's `download`, for one terminal view. */
export class FileTransfers {
  private enabled = true;
  private readonly panel: HTMLElement;
  /** Placed by the view (in its header). */
  readonly uploadButton: HTMLButtonElement;
  private readonly picker: HTMLInputElement;
  private readonly osc: IDisposable;
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly cancels = new Set<() => void>();

  constructor(
    private readonly container: HTMLElement,
    terminal: Terminal,
    private readonly options: {
      prefix: string;
      session: string;
      /** True while the output being parsed is history replayed on attaching, not new output. */
      replaying: () => boolean;
      /** Sends text to the shell as input (a terminal's answer); dropped when this page cannot type. */
      answer: (text: string) => void;
    },
  ) {
    this.panel = document.createElement('div');
    this.panel.className = 'terminal-transfers';
    this.panel.setAttribute('role', 'status');
    this.panel.setAttribute('aria-live', 'polite');
    this.picker = document.createElement('input');
    this.picker.type = 'file';
    this.picker.multiple = true;
    this.picker.hidden = true;
    this.picker.addEventListener('change', () => {
      if (this.picker.files) this.upload([...this.picker.files]);
      this.picker.value = '';
    });
    this.uploadButton = document.createElement('button');
    this.uploadButton.type = 'button';
    this.uploadButton.className = 'terminal-upload-button';
    this.uploadButton.title = 'Upload files into the shell’s current folder (or drop them on the terminal)';
    this.uploadButton.setAttribute('aria-label', 'Upload files');
    this.uploadButton.append(icon('upload'));
    this.uploadButton.addEventListener('click', () => this.picker.click());
    container.append(this.panel, this.picker, this.uploadButton);
    container.addEventListener('dragover', this.onDragOver);
    container.addEventListener('dragleave', this.onDragLeave);
    container.addEventListener('drop', this.onDrop);
    this.osc = terminal.parser.registerOscHandler(DOWNLOAD_OSC, (data) => {
      this.onDownloadSequence(data);
      return true; // ours: never shown, whatever it holds
    });
  }

  /** Off: no upload button, drops ignored, `download` sequences ignored (a read-only viewer's page). */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.uploadButton.hidden = !enabled;
    if (!enabled) this.container.classList.remove('terminal-drop-target');
  }

  dispose(): void {
    this.disposed = true;
    for (const cancel of this.cancels) cancel();
    this.osc.dispose();
    this.container.removeEventListener('dragover', this.onDragOver);
    this.container.removeEventListener('dragleave', this.onDragLeave);
    this.container.removeEventListener('drop', this.onDrop);
    this.panel.remove();
    this.picker.remove();
    this.uploadButton.remove();
  }

  /** Uploads files one after the other into the shell's current folder. */
  upload(files: readonly File[]): void {
    if (!this.enabled) return;
    for (const file of files) {
      const item = this.addItem(file.name, file.size);
      this.queue = this.queue.then(() => this.uploadOne(file, item));
    }
  }

  private readonly onDragOver = (event: DragEvent) => {
    if (!this.enabled || !event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    this.container.classList.add('terminal-drop-target');
  };

  private readonly onDragLeave = (event: DragEvent) => {
    if (event.relatedTarget instanceof Node && this.container.contains(event.relatedTarget)) return;
    this.container.classList.remove('terminal-drop-target');
  };

  private readonly onDrop = (event: DragEvent) => {
    this.container.classList.remove('terminal-drop-target');
    if (!this.enabled || !event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.upload([...event.dataTransfer.files]);
  };

  private onDownloadSequence(data: string): void {
    if (!this.enabled || this.disposed) return;
    const tell = (detail: DownloadEventDetail) =>
      this.container.dispatchEvent(
        new CustomEvent<DownloadEventDetail>('terminal-download', { detail, bubbles: true }),
      );
    const request = parseDownloadSequence(data);
    if (!request) {
      console.warn('terminal: a download sequence that is not one was ignored');
      tell({ path: '', outcome: 'malformed' });
      return;
    }
    const { path } = request;
    // Asked before this page was here (a new page, a reload, a reconnect): nobody waits for it now.
    if (this.options.replaying()) {
      tell({ path, outcome: 'replayed' });
      return;
    }
    if (!firstSighting(this.options.prefix, request.nonce)) {
      tell({ path, outcome: 'seen' });
      return;
    }
    // Only a fresh request is answered: a `download` waits a few seconds for its answer, and an
    // answer to old output (a file shown again) would be typed into whatever reads the terminal.
    const answer = (status: DownloadAnswer) => this.options.answer(downloadAnswerSequence(request.nonce, status));
    startDownload({ prefix: this.options.prefix, path, issuedAt: request.issuedAt }).then(
      (started) => {
        if (!started) {
          this.notice(`A download of ${path} was ignored: the request is not from the last minute`);
          tell({ path, outcome: 'stale' });
          return;
        }
        answer('ok');
        tell({ path, outcome: 'started' });
      },
      (error: unknown) => {
        const message = (error as Error).message;
        this.notice(`Download of ${path} refused: ${message}`);
        const refused = error instanceof DownloadRefused;
        answer(refused ? `refused-${error.status}` : 'failed');
        tell({ path, outcome: refused ? 'refused' : 'failed', error: message });
      },
    );
  }

  // ---- Uploads -------------------------------------------------------------

  private emit(detail: UploadEventDetail): void {
    this.container.dispatchEvent(new CustomEvent<UploadEventDetail>('terminal-upload', { detail, bubbles: true }));
  }

  private addItem(name: string, size: number): Item {
    const row = document.createElement('div');
    row.className = 'terminal-transfer';
    row.dataset.state = 'waiting';
    const text = document.createElement('span');
    text.className = 'terminal-transfer-text';
    text.textContent = `${name}: waiting`;
    const bar = document.createElement('progress');
    bar.max = Math.max(size, 1);
    bar.value = 0;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Cancel';
    row.append(text, bar, button);
    this.panel.append(row);
    return { row, bar, text, button };
  }

  /** A message in the panel until clicked away. */
  private notice(message: string): void {
    const row = document.createElement('div');
    row.className = 'terminal-transfer';
    row.dataset.state = 'failed';
    const text = document.createElement('span');
    text.className = 'terminal-transfer-text';
    text.textContent = message;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'OK';
    button.addEventListener('click', () => row.remove());
    row.append(text, button);
    this.panel.append(row);
  }

  private async uploadOne(file: File, item: Item): Promise<void> {
    const total = file.size;
    let cancelled = false;
    let current: XMLHttpRequest | null = null;
    const cancel = () => {
      cancelled = true;
      current?.abort();
    };
    this.cancels.add(cancel);
    item.button.onclick = cancel;
    const finish = (state: UploadState, message: string, extra: Partial<UploadEventDetail> = {}) => {
      this.cancels.delete(cancel);
      item.row.dataset.state = state;
      item.text.textContent = message;
      item.button.textContent = 'OK';
      item.button.onclick = () => item.row.remove();
      // A finished upload steps aside by itself; a failure stays until read.
      if (state === 'done') window.setTimeout(() => item.row.remove(), 5000);
      this.emit({ file: file.name, state, loaded: state === 'done' ? total : Number(item.bar.value), total, ...extra });
    };
    try {
      if (this.disposed || !this.enabled) throw new Cancelled();
      item.row.dataset.state = 'uploading';
      item.text.textContent = `${file.name}: starting`;
      let where: { savedAs: string; directory: string } | null = null;
      const sent = await sendFile({
        prefix: this.options.prefix,
        file,
        query: { session: this.options.session },
        cancelled: () => cancelled,
        onRequest: (xhr) => (current = xhr),
        onStarted: (started) => {
          where = { savedAs: started.name, directory: started.directory };
          this.emit({ file: file.name, state: 'started', loaded: 0, total, ...where });
        },
        onProgress: (loaded) => {
          item.bar.value = loaded;
          item.text.textContent = `${where?.savedAs ?? file.name}: ${Math.floor((loaded / Math.max(total, 1)) * 100)} %`;
          this.emit({ file: file.name, state: 'progress', loaded, total, ...where });
        },
      });
      finish('done', `${sent.name} uploaded to ${sent.directory}`, {
        savedAs: sent.name,
        directory: sent.directory,
        loaded: total,
      });
    } catch (error) {
      if (error instanceof Cancelled || cancelled) {
        finish('cancelled', `${file.name}: cancelled`);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      finish('failed', `${file.name} not uploaded: ${message}`, { error: message });
    }
  }
}

/**
 * Sends one file to the server in pieces (files/uploads, see terminal-server/src/files.ts):
 * `query` says where (a session's folder, or `into=uploads`); the pieces are sized to the
 * network and retried from where the server is. Answers the name it got and its folder;
 * throws UploadRefused (the server's status and reason) or UploadCancelled. What is left of
 * an upload that does not complete is removed.
 */
export async function sendFile(options: {
  prefix: string;
  file: File;
  /** The name to save it as (the file's own when not given). */
  name?: string;
  query: Record<string, string>;
  cancelled?: () => boolean;
  onRequest?: (xhr: XMLHttpRequest) => void;
  onStarted?: (started: { name: string; directory: string }) => void;
  onProgress?: (loaded: number) => void;
}): Promise<{ name: string; directory: string }> {
  const { file } = options;
  const total = file.size;
  const cancelled = options.cancelled ?? (() => false);
  const base = `${options.prefix}/files/uploads`;
  let id = '';
  try {
    const query = new URLSearchParams({ ...options.query, name: options.name ?? file.name, size: String(total) });
    const started = JSON.parse(
      (await send({ method: 'POST', url: `${base}?${query}`, onRequest: options.onRequest })).body,
    ) as { id: string; name: string; directory: string; done: boolean };
    id = started.id;
    options.onStarted?.(started);
    let offset = 0;
    let piece = MIN_PIECE_BYTES * 4;
    let failures = 0;
    while (!started.done && offset < total) {
      if (cancelled()) throw new Cancelled();
      const end = Math.min(total, offset + piece);
      const sent = end - offset;
      const startedAt = performance.now();
      try {
        const answer = await send({
          method: 'PUT',
          url: `${base}/${encodeURIComponent(id)}?offset=${offset}`,
          body: file.slice(offset, end),
          onProgress: (loaded) => options.onProgress?.(offset + Math.min(loaded, end - offset)),
          onRequest: options.onRequest,
        });
        const done = (JSON.parse(answer.body) as { done: boolean }).done;
        offset = end;
        failures = 0;
        options.onProgress?.(offset);
        if (done) break;
        // Bytes per millisecond of this piece: the next takes about PIECE_TARGET_MS at that rate.
        const rate = sent / Math.max(1, performance.now() - startedAt);
        piece = Math.max(MIN_PIECE_BYTES, Math.min(MAX_PIECE_BYTES, Math.floor(rate * PIECE_TARGET_MS)));
      } catch (error) {
        if (cancelled() || !(error instanceof UploadRefused)) throw cancelled() ? new Cancelled() : error;
        // The piece that completes the upload is refused as a whole (the file in the way changed): no retry.
        if (end === total && error.existing !== null) throw error;
        // The server says where it is (a piece it has after all, or one it dropped): go on from there.
        const received = error.received;
        const retryable = error.status === 0 || error.status === 502 || error.status === 503 || received !== null;
        if (!retryable || ++failures >= MAX_ATTEMPTS) throw error;
        if (received !== null) offset = received;
        piece = MIN_PIECE_BYTES;
        await new Promise((resolve) => window.setTimeout(resolve, 500 * 2 ** failures));
      }
    }
    return { name: started.name, directory: started.directory };
  } catch (error) {
    // What is left of a failed upload is removed (the server also does so after a pause).
    if (id) void send({ method: 'DELETE', url: `${base}/${encodeURIComponent(id)}` }).catch(() => {});
    throw error;
  }
}

/** An upload stopped by the page (its cancel button, the page going away). */
export class Cancelled extends Error {
  override name = 'UploadCancelled';
}

/** The server refused an upload request (status 0: it could not be reached). */
export class UploadRefused extends Error {
  override name = 'UploadRefused';
  constructor(
    message: string,
    readonly status: number,
    /** Bytes the server has of the upload, when it said (409). */
    readonly received: number | null,
    /** When the file in the way was last changed, when that is why (409): what to send as `replace`. */
    readonly existing: string | null = null,
  ) {
    super(message);
  }
}

/** One upload request (XMLHttpRequest: fetch has no upload progress). */
function send(options: {
  method: string;
  url: string;
  body?: Blob;
  onProgress?: (loaded: number) => void;
  onRequest?: (xhr: XMLHttpRequest) => void;
}): Promise<{ body: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    options.onRequest?.(xhr);
    xhr.open(options.method, options.url);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader(UPLOAD_HEADER, '1');
    xhr.setRequestHeader('Accept', 'application/json');
    if (options.onProgress) {
      const onProgress = options.onProgress;
      xhr.upload.addEventListener('progress', (event) => onProgress(event.loaded));
    }
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve({ body: xhr.responseText });
        return;
      }
      let message = `the server answered ${xhr.status}`;
      try {
        const body = JSON.parse(xhr.responseText) as { error?: unknown };
        if (typeof body.error === 'string') message = body.error;
      } catch {
        // not JSON: the status says it
      }
      const received = xhr.getResponseHeader(RECEIVED_HEADER);
      const existing = xhr.getResponseHeader(EXISTING_HEADER);
      reject(new UploadRefused(message, xhr.status, received === null ? null : Number(received), existing));
    });
    xhr.addEventListener('error', () => reject(new UploadRefused('the connection failed', 0, null)));
    xhr.addEventListener('abort', () => reject(new Cancelled()));
    xhr.send(options.body ?? null);
  });
}
