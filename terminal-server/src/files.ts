// Files in and out of the shell, under <prefix>/files:
//
//   GET|HEAD files/download?path=…[&name=…]  a file under the home folder, as an attachment
//   POST     files/uploads?session=&name=&size=  starts an upload into the folder of the
//            session's foreground program: picks a free name, creates it (O_EXCL) and
//            answers its id
//   POST     files/uploads?into=uploads&name=&size=[&replace=<mtime>]  starts an upload
//            into ~/uploads under exactly that name (a workshop page's files:upload-file(s)):
//            written beside it under a temporary name and renamed over it once complete,
//            so the file is never seen half written; a file of that name is replaced only
//            when `replace` gives its modification time (so, only when the attendee was
//            told of that very file and chose to replace it: a newer one is kept)
//   PUT      files/uploads/<id>?offset=N      the next piece (at most MAX_CHUNK_BYTES);
//            the one that reaches the declared size completes the upload
//   DELETE   files/uploads/<id>               cancels it; the partial file is removed
//
// An upload comes in pieces because workshop networks are slow and every request
// must end within the servers' request timeout (60 s); each piece goes straight
// to disk. Uploads change files, so they must come from a page of this terminal:
// same origin (Sec-Fetch-Site, Origin), Content-Type application/octet-stream
// and the UPLOAD_HEADER, which no form of another site can send, and no CORS.
import { randomBytes } from 'node:crypto';
import { constants, readlinkSync, type Stats, statSync } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';
import { HttpError } from '../../common/src/http-error.js';
import { sendJson } from '../../common/src/http-send.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { isInside, OutsideFolderError, openInside } from '../../common/src/open-inside.js';
import { pathUnder } from '../../common/src/prefix.js';
import {
  EXISTING_HEADER,
  FILES_API_PATH,
  RECEIVED_HEADER,
  SESSION_NAME,
  UPLOAD_HEADER,
  UPLOADS_FOLDER,
} from '../../common/src/protocol.js';
import { crossSiteRefusal } from '../../common/src/same-origin.js';
import { foregroundGroup } from './pty.js';
import type { SessionManager } from './sessions.js';

export type FilesConfig = Pick<Config, 'prefix' | 'terminalHome' | 'uploadMaxBytes'>;

/** The largest piece of an upload in one request: a few seconds on a slow network, well within the request timeout. */
export const MAX_CHUNK_BYTES = 16 << 20;
/** Uploads in progress at once (of all pages together). */
export const MAX_UPLOADS = 8;
/** An upload that receives nothing for this long is abandoned: its partial file is removed. */
export const UPLOAD_IDLE_MS = 120_000;
/** Longest file name kept (bytes), leaving room for a suffix within the file system's 255. */
const MAX_NAME_BYTES = 240;

export interface Files {
  /** True for the requests this handles: everything under <prefix>/files. */
  owns(req: http.IncomingMessage): boolean;
  /** Answers a request it owns; rejects with an HttpError (or a bug) for the server's one error handler. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Uploads in progress (for tests and the log). */
  readonly uploadCount: number;
  /** Abandons every upload in progress (their partial files are removed). */
  close(): Promise<void>;
}

interface Upload {
  id: string;
  file: FileHandle;
  /** Where the file is, and which file it is (so that only ours is ever removed). */
  path: string;
  dev: number;
  ino: number;
  size: number;
  received: number;
  busy: boolean;
  timer: NodeJS.Timeout;
  /** For an upload into ~/uploads: the file it becomes, and the time of the one it may replace. */
  target?: { path: string; replaces: number | null };
}

/**
 * A name as a plain file name: its last path segment, without control,
 * invisible (zero-width, BOM, soft hyphen), line-separator and bidirectional
 * characters, so what an attendee sees in `ls` is what the file is called; one
 * that begins with "-" gets a "_" before it, so `rm *` or `tar cf x *` in that
 * folder cannot read it as an option. Null when nothing usable is left.
 */
export function plainName(raw: string): string | null {
  // Cc: controls; Cf: format characters (U+200B-U+200F, U+202A-U+202E, U+2060-U+206F, U+FEFF, U+00AD, ...).
  const cleaned = raw.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '');
  const segments = cleaned.split('/').filter((segment) => segment.trim() !== '');
  const last = (segments.at(-1) ?? '').trim();
  if (last === '' || last === '.' || last === '..') return null;
  const name = last.startsWith('-') ? `_${last}` : last;
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return null;
  return name;
}

/** The n-th other name for a file: `notes-1.txt`, `archive-2.tar.gz`, `.bashrc-1`. */
export function suffixedName(name: string, n: number): string {
  const dot = name.indexOf('.', 1);
  return dot < 0 ? `${name}-${n}` : `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
}

/** A Content-Disposition header that names the file safely, in ASCII and in UTF-8 (RFC 6266). */
export function attachmentHeader(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function createFiles(options: { config: FilesConfig; sessions: SessionManager; logger: Logger }): Files {
  const { config, sessions, logger } = options;
  const base = `${options.config.prefix}/files`;
  const uploads = new Map<string, Upload>();
  // A page can repeat any of these as fast as it likes: a few lines a minute of each, then a count.
  const repeats = repeatLimit(logger, { burst: 10, windowMs: 60_000 });

  function owns(req: http.IncomingMessage): boolean {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    // The file API (file-api.ts) has files/api, whichever mount is asked first.
    return pathUnder(base, pathname) !== null && pathUnder(`${config.prefix}/${FILES_API_PATH}`, pathname) === null;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rest = url.pathname.slice(base.length + 1);
    try {
      if (rest === 'download') return await download(req, res, url.searchParams);
      if (rest === 'uploads') return await startUpload(req, res, url.searchParams);
      const match = /^uploads\/([A-Za-z0-9_-]{1,64})$/.exec(rest);
      if (match) return await continueUpload(req, res, match[1] as string, url.searchParams);
      throw new HttpError(404, 'not found');
    } catch (error) {
      if (error instanceof HttpError) {
        repeats.log('warn', `refused ${error.status}`, 'files.refused', {
          method: req.method,
          path: url.pathname.slice(0, 200),
          status: error.status,
          reason: error.message.slice(0, 200),
        });
      }
      throw error;
    }
  }

  // ---- Download ------------------------------------------------------------

  async function download(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'downloads are GET', { Allow: 'GET, HEAD' });
    }
    // A link on another site may not make the browser fetch the attendee's files (and
    // CORP below keeps other sites' pages from embedding them); a typed URL may.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HttpError(403, `downloads are for this terminal's own pages, not another site's (${site})`);
    }
    const requested = query.get('path') ?? '';
    if (requested === '' || requested.includes('\0')) throw new HttpError(400, 'say which file: ?path=<file>');
    const home = await realpath(config.terminalHome);
    const lexical = path.resolve(home, requested);
    let real: string;
    try {
      real = await realpath(lexical);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new HttpError(404, `there is no file ${requested}`);
      if (code === 'EACCES') throw new HttpError(403, `${requested} cannot be read`);
      throw error;
    }
    if (!isInside(home, real)) {
      throw new HttpError(
        403,
        `only files in the home folder (${config.terminalHome}) can be downloaded; ${requested} is ${real === lexical ? 'outside it' : `a link to ${real}, outside it`}`,
      );
    }
    let file: FileHandle;
    let stats: Stats;
    try {
      // Not blocking on a FIFO. The check above names the file; this one is on the
      // file opened, for a folder on the way may have become a link since.
      ({ handle: file, stats } = await openInside(
        home,
        real,
        constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW,
      ));
    } catch (error) {
      if (error instanceof OutsideFolderError) {
        throw new HttpError(
          403,
          `only files in the home folder (${config.terminalHome}) can be downloaded; ${requested} changed while it was opened, and is outside it now`,
        );
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES') throw new HttpError(403, `${requested} cannot be read`);
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') {
        throw new HttpError(404, `there is no file ${requested}`);
      }
      throw error;
    }
    if (!stats.isFile()) {
      await file.close();
      throw new HttpError(
        400,
        `${requested} is ${stats.isDirectory() ? 'a folder' : 'not a regular file'}: only files can be downloaded`,
      );
    }
    const name = plainName(query.get('name') ?? '') ?? plainName(path.basename(lexical)) ?? 'download';
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': stats.size,
      'Content-Disposition': attachmentHeader(name),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    if (req.method === 'HEAD' || stats.size === 0) {
      await file.close();
      res.end();
      return;
    }
    repeats.log('info', 'download', 'download.sent', { path: real.slice(0, 200), bytes: stats.size });
    const stream = file.createReadStream({ start: 0, end: stats.size - 1 });
    await new Promise<void>((resolve) => {
      // A file that shrank meanwhile, or a reader that went away: the answer is cut short.
      stream.once('error', () => {
        res.destroy();
        resolve();
      });
      stream.once('close', resolve);
      res.once('close', () => stream.destroy());
      stream.pipe(res);
    });
  }

  // ---- Upload --------------------------------------------------------------

  function checkUploadRequest(req: http.IncomingMessage): void {
    const refusal = crossSiteRefusal(req);
    if (refusal) throw new HttpError(403, `uploads come from this terminal's own pages: ${refusal}`);
    if (req.headers[UPLOAD_HEADER] !== '1') throw new HttpError(400, `an upload request carries ${UPLOAD_HEADER}: 1`);
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/octet-stream\s*(;|$)/i.test(type)) {
      throw new HttpError(415, 'an upload request is application/octet-stream');
    }
  }

  async function startUpload(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams) {
    if (req.method !== 'POST') throw new HttpError(405, 'uploads start by POST', { Allow: 'POST' });
    checkUploadRequest(req);
    if (Number(req.headers['content-length'] ?? 0) !== 0 || req.headers['transfer-encoding']) {
      throw new HttpError(400, 'the request that starts an upload has no body (the file follows in PUT requests)');
    }
    const into = query.get('into');
    const session = query.get('session') ?? '';
    if (into !== null && into !== UPLOADS_FOLDER) throw new HttpError(400, `uploads go into ${UPLOADS_FOLDER} only`);
    if (into === null && !SESSION_NAME.test(session)) throw new HttpError(400, 'say which session: ?session=<name>');
    const rawName = query.get('name') ?? '';
    const name = plainName(rawName);
    if (!name) throw new HttpError(400, `${JSON.stringify(rawName.slice(0, 100))} is not a usable file name`);
    const sizeText = query.get('size') ?? '';
    if (!/^\d{1,16}$/.test(sizeText)) throw new HttpError(400, 'say how big the file is: ?size=<bytes>');
    const size = Number(sizeText);
    if (size > config.uploadMaxBytes) {
      throw new HttpError(
        413,
        `${name} is ${describeBytes(size)}; uploads are limited to ${describeBytes(config.uploadMaxBytes)} (UPLOAD_MAX_BYTES)`,
      );
    }
    if (uploads.size >= MAX_UPLOADS) {
      throw new HttpError(429, `${MAX_UPLOADS} uploads are in progress already; try again when one has finished`);
    }
    let directory: string;
    let target: Upload['target'];
    let created: { file: FileHandle; filePath: string };
    if (into === null) {
      directory = uploadDirectory(sessions.get(session)?.pid, config.terminalHome);
      created = await createExclusive(directory, name);
    } else {
      directory = await uploadsFolder();
      const replaces = await checkReplace(path.join(directory, name), query.get('replace'));
      target = { path: path.join(directory, name), replaces };
      // Beside it, hidden, under a name of its own until it is complete.
      created = await createExclusive(directory, `.${name}.part-${randomSuffix()}`);
    }
    const { file, filePath } = created;
    const stats = await file.stat();
    // Unguessable, as every id of ours: it names an open file that PUTs write into.
    const id = randomBytes(16).toString('base64url');
    const upload: Upload = {
      id,
      file,
      path: filePath,
      dev: stats.dev,
      ino: stats.ino,
      size,
      received: 0,
      busy: false,
      timer: setTimeout(() => abandon(upload), UPLOAD_IDLE_MS),
      ...(target ? { target } : {}),
    };
    upload.timer.unref();
    const savedAs = path.basename(target?.path ?? filePath);
    repeats.log('info', 'upload.started', 'upload.started', { session, path: filePath.slice(0, 200), size });
    if (size === 0) {
      clearTimeout(upload.timer);
      await file.close();
      await complete(upload);
      repeats.log('info', 'upload.done', 'upload.done', { path: filePath.slice(0, 200), size });
      sendJson(res, 201, { id, name: savedAs, directory, size, received: 0, done: true });
      return;
    }
    uploads.set(id, upload);
    sendJson(res, 201, {
      id,
      name: savedAs,
      directory,
      size,
      received: 0,
      done: false,
      maxChunkBytes: MAX_CHUNK_BYTES,
    });
  }

  async function continueUpload(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    id: string,
    query: URLSearchParams,
  ): Promise<void> {
    if (req.method !== 'PUT' && req.method !== 'DELETE') {
      throw new HttpError(405, 'an upload goes on by PUT, or is cancelled by DELETE', { Allow: 'PUT, DELETE' });
    }
    checkUploadRequest(req);
    const upload = uploads.get(id);
    if (!upload) throw new HttpError(404, 'no such upload (finished, cancelled, or abandoned after a long pause)');
    if (req.method === 'DELETE') {
      if (upload.busy) throw new HttpError(409, 'a piece of this upload is arriving; cancel it after');
      await remove(upload);
      repeats.log('info', 'upload.cancelled', 'upload.cancelled', { path: upload.path.slice(0, 200) });
      sendJson(res, 200, { cancelled: true });
      return;
    }
    // The page carries on from where this upload is (after a piece it thinks was lost, say).
    const conflict = (message: string) => new HttpError(409, message, { [RECEIVED_HEADER]: String(upload.received) });
    if (upload.busy) throw conflict('a piece of this upload is arriving already');
    const offset = query.get('offset') ?? '';
    if (offset !== String(upload.received)) {
      throw conflict(`the next piece starts at ${upload.received}, not ${offset.slice(0, 20) || '(no offset)'}`);
    }
    if (req.headers['transfer-encoding']) throw new HttpError(411, 'a piece of an upload says its Content-Length');
    const length = Number(req.headers['content-length']);
    if (!Number.isInteger(length) || length <= 0)
      throw new HttpError(411, 'a piece of an upload says its Content-Length');
    if (length > MAX_CHUNK_BYTES) {
      throw new HttpError(413, `a piece of an upload is at most ${describeBytes(MAX_CHUNK_BYTES)}`);
    }
    if (upload.received + length > upload.size) {
      throw new HttpError(400, `this piece would make the file bigger than the ${upload.size} bytes declared`);
    }
    upload.busy = true;
    upload.timer.refresh();
    let written = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        // Each piece on its way to disk before the next is read: memory stays at the socket's buffers.
        await upload.file.write(chunk, 0, chunk.length, upload.received + written);
        written += chunk.length;
      }
    } catch (error) {
      upload.busy = false;
      // The piece did not all arrive (or could not be written): as if it never came.
      await upload.file.truncate(upload.received).catch(() => {});
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        await remove(upload);
        repeats.log('warn', 'upload.failed', 'upload.failed', { path: upload.path.slice(0, 200), reason: code });
        throw new HttpError(507, 'the disk is full: the upload was stopped and its partial file removed');
      }
      if (req.destroyed || req.readableAborted) {
        res.destroy();
        return;
      }
      throw error;
    }
    upload.busy = false;
    upload.timer.refresh();
    if (written !== length) {
      await upload.file.truncate(upload.received);
      throw conflict(`the piece was ${written} bytes, not the ${length} its Content-Length said`);
    }
    upload.received += written;
    if (upload.received < upload.size) {
      sendJson(res, 200, { received: upload.received, done: false });
      return;
    }
    uploads.delete(id);
    clearTimeout(upload.timer);
    await upload.file.close();
    await complete(upload);
    repeats.log('info', 'upload.done', 'upload.done', { path: upload.path.slice(0, 200), size: upload.size });
    sendJson(res, 200, { received: upload.received, done: true });
  }

  /** ~/uploads, made when missing; refused when it is (or leads) outside the home folder. */
  async function uploadsFolder(): Promise<string> {
    const home = await realpath(config.terminalHome);
    const folder = path.join(home, UPLOADS_FOLDER);
    await mkdir(folder, { mode: 0o777 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw new HttpError(403, `${folder} cannot be made (${error.code})`);
    });
    const real = await realpath(folder);
    if (!isInside(home, real) || !statSync(real).isDirectory()) {
      throw new HttpError(
        403,
        `~/${UPLOADS_FOLDER} leads to ${real}, outside the home folder: nothing is uploaded there`,
      );
    }
    return real;
  }

  /**
   * Whether a file at `file` may be replaced: when there is none, or when `replace` is its
   * modification time (the attendee saw that one and chose to replace it). Answers that time.
   */
  async function checkReplace(file: string, replace: string | null): Promise<number | null> {
    const existing = await lstat(file).catch(() => null);
    if (!existing) return null;
    const shown = `~/${UPLOADS_FOLDER}/${path.basename(file)}`;
    if (!existing.isFile()) {
      throw new HttpError(
        409,
        `${shown} is ${existing.isDirectory() ? 'a folder' : 'not a plain file'}: it is not replaced`,
      );
    }
    const modified = Math.floor(existing.mtimeMs);
    if (replace !== String(modified)) {
      throw new HttpError(
        409,
        `${shown} exists (changed ${new Date(modified).toISOString()}): it is replaced only when you say so`,
        { [EXISTING_HEADER]: String(modified) },
      );
    }
    return modified;
  }

  /** An upload into ~/uploads, complete: renamed over its name, unless that file changed since it was asked. */
  async function complete(upload: Upload): Promise<void> {
    if (!upload.target) return;
    try {
      const now = await lstat(upload.target.path).catch(() => null);
      const modified = now ? Math.floor(now.mtimeMs) : null;
      if (now && (!now.isFile() || modified !== upload.target.replaces)) {
        throw new HttpError(
          409,
          `~/${UPLOADS_FOLDER}/${path.basename(upload.target.path)} changed while this upload was arriving: it is kept, and this upload dropped`,
          modified === null ? {} : { [EXISTING_HEADER]: String(modified) },
        );
      }
      await rename(upload.path, upload.target.path);
    } catch (error) {
      await unlink(upload.path).catch(() => {});
      throw error;
    }
  }

  async function abandon(upload: Upload): Promise<void> {
    if (upload.busy) {
      upload.timer.refresh();
      return;
    }
    await remove(upload);
    repeats.log('warn', 'upload.abandoned', 'upload.abandoned', {
      path: upload.path.slice(0, 200),
      received: upload.received,
      size: upload.size,
    });
  }

  /** Ends an upload that will not complete: closes its file and removes it (when it is still ours). */
  async function remove(upload: Upload): Promise<void> {
    if (uploads.get(upload.id) !== upload) return;
    uploads.delete(upload.id);
    clearTimeout(upload.timer);
    await upload.file.close().catch(() => {});
    try {
      const now = await lstat(upload.path);
      if (now.dev === upload.dev && now.ino === upload.ino) await unlink(upload.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn('upload.remove_failed', { path: upload.path.slice(0, 200), reason: describeError(error) });
      }
    }
  }

  return {
    owns,
    handle,
    get uploadCount() {
      return uploads.size;
    },
    async close() {
      await Promise.all([...uploads.values()].map((upload) => remove(upload)));
    },
  };
}

/**
 * Where an upload for a session goes: the folder of the terminal's foreground
 * program (the leader of its foreground process group), else the shell's own,
 * else the home folder. Synchronous: /proc files are small and read at once.
 */
export function uploadDirectory(shellPid: number | undefined, home: string): string {
  if (shellPid === undefined) return home;
  const group = foregroundGroup(shellPid);
  const candidates = group === undefined ? [shellPid] : [group, shellPid];
  for (const pid of candidates) {
    const directory = readCwd(pid);
    if (directory) return directory;
  }
  return home;
}

function readCwd(pid: number): string | null {
  try {
    const directory = readlinkSync(`/proc/${pid}/cwd`);
    // A folder removed while a program is in it reads as "<path> (deleted)".
    if (!directory.startsWith('/') || !statSync(directory).isDirectory()) return null;
    return directory;
  } catch {
    return null;
  }
}

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** Creates `name` in `directory`, or the first free `name-N`; never opens a file that exists (O_EXCL). */
async function createExclusive(directory: string, name: string): Promise<{ file: FileHandle; filePath: string }> {
  for (let n = 0; n < 1000; n++) {
    const filePath = path.join(directory, n === 0 ? name : suffixedName(name, n));
    try {
      return { file: await open(filePath, 'wx', 0o666), filePath };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
        throw new HttpError(403, `files cannot be created in ${directory}`);
      }
      if (code === 'ENAMETOOLONG') throw new HttpError(400, `${name} is too long a file name`);
      throw error;
    }
  }
  throw new HttpError(409, `${directory} has ${name} and 999 other versions of it already`);
}

function describeBytes(bytes: number): string {
  if (bytes >= 1 << 30 && bytes % (1 << 30) === 0) return `${bytes / (1 << 30)} GiB`;
  if (bytes >= 1 << 20) return `${Math.round((bytes / (1 << 20)) * 10) / 10} MiB`;
  if (bytes >= 1 << 10) return `${Math.round((bytes / (1 << 10)) * 10) / 10} KiB`;
  return `${bytes} bytes`;
}
