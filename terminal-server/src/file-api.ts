// The file API (its routes and answers: common/src/protocol.ts, "The file API";
// its one client: terminal-server/page/file-client.ts), under <prefix>/files/api.
//
// Everything stays in the home folder after links are resolved, whatever else
// changes the tree meanwhile (the attendee's shell runs beside us):
// - a folder is opened (openInside: the kernel's name for the opened descriptor
//   must be inside home), and everything done in it goes through
//   /proc/self/fd/<fd>/<name>, so a folder on the way swapped for a link after
//   the check cannot redirect it: only the last name is looked up again;
// - that last name is never followed by a change: writes, renames and deletes
//   act on a link itself (O_NOFOLLOW, lstat, rename, unlink never follow it);
//   reading and listing may follow a link, and then check where they landed;
// - a write goes into a hidden temporary file beside the file (O_EXCL), is
//   synced, given the old file's mode and renamed over it, the version checked
//   right before; a new name is taken with link(), which fails if it exists, so
//   nothing is ever replaced unasked; a failed write removes its temporary file.
import { createHash, randomBytes } from 'node:crypto';
import { type BigIntStats, constants } from 'node:fs';
import {
  access,
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  opendir,
  realpath,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';
import { HttpError } from '../../common/src/http-error.js';
import { sendJson } from '../../common/src/http-send.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { isInside, OutsideFolderError, openInside } from '../../common/src/open-inside.js';
import { pathUnder } from '../../common/src/prefix.js';
import {
  EDITABLE_MAX_BYTES,
  FILES_API_PATH,
  FILES_HEADER,
  type FileApiFailure,
  type FileEntry,
  type FileFailureCode,
  type FileText,
  type FileVersion,
  type FolderListing,
  LIST_MAX_ENTRIES,
  type ReadOnlyReason,
} from '../../common/src/protocol.js';
import { crossSiteRefusal } from '../../common/src/same-origin.js';
import { readRequester } from '../../common/src/terminal-link.js';
import type { Mount } from './server.js';

export type FileApiConfig = Pick<Config, 'prefix' | 'terminalHome'>;

/** How far into a file a NUL byte makes it binary (what git and grep look at, roughly). */
const BINARY_SNIFF_BYTES = 8192;
/** A recursive delete goes no deeper: each level holds a descriptor open. */
const MAX_DELETE_DEPTH = 128;
/** Attempts to read a file that keeps changing under us before answering the last read (its version is then stale, so a save is refused). */
const READ_ATTEMPTS = 3;
const CHUNK_BYTES = 1 << 16;

const METHODS = {
  list: 'GET',
  read: 'GET',
  stat: 'GET',
  write: 'PUT',
  create: 'POST',
  copy: 'POST',
  rename: 'POST',
  delete: 'DELETE',
} as const;
type Operation = keyof typeof METHODS;

/** A refusal with the contract's code (and, for conflicts, the file as it is now). */
export class FileApiRefusal extends HttpError {
  constructor(
    status: number,
    readonly code: FileFailureCode,
    message: string,
    readonly current?: FileVersion,
    headers: Record<string, string> = {},
  ) {
    super(status, message, headers);
    this.name = 'FileApiRefusal';
  }
}

interface Home {
  /** Without links: what opened descriptors are compared with. */
  real: string;
  /** As configured (absolute): an absolute path the attendee gives may use it. */
  given: string;
}

/** A path as asked, placed inside the home folder lexically (`..` resolved, links not yet). */
interface Place {
  /** Relative to the home folder, '' for itself. */
  rel: string;
  /** Under the real home folder. */
  abs: string;
  /** For messages: ~/<rel>. Never a path outside the home folder. */
  shown: string;
}

/** A name inside an open folder: everything is done through the descriptor, so only `name` is looked up again. */
interface InFolder {
  dir: FileHandle;
  name: string;
  /** The folder's own path relative to home (links resolved), joined with `name`. */
  rel: string;
  shown: string;
}

const at = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;
const fdPath = (handle: FileHandle) => `/proc/self/fd/${handle.fd}`;
const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;
const shownOf = (rel: string) => (rel === '' ? '~' : `~/${rel}`);

/**
 * Opaque, and different whenever the content may differ: the file's identity,
 * size and modification time in nanoseconds, and (for files small enough to
 * edit) a digest of the content, so that two writes of the same size within
 * one tick of the file system's clock (a few ms) are still told apart.
 */
function versionOf(stats: BigIntStats, digest: string | null): string {
  return createHash('sha256')
    .update(`${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${digest ?? ''}`)
    .digest('base64url')
    .slice(0, 24);
}

const digestOfBytes = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The content's digest, read in pieces (no copy of the file in memory); null for a file too large to edit. */
async function digestOf(handle: FileHandle, stats: BigIntStats): Promise<string | null> {
  if (!stats.isFile() || stats.size > BigInt(EDITABLE_MAX_BYTES)) return null;
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(CHUNK_BYTES);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

async function canWrite(file: string): Promise<boolean> {
  return access(file, constants.W_OK).then(
    () => true,
    () => false,
  );
}

function fileVersion(rel: string, stats: BigIntStats, digest: string | null, writable: boolean): FileVersion {
  return {
    path: rel,
    version: versionOf(stats, digest),
    size: Number(stats.size),
    mtimeMs: Number(stats.mtimeNs) / 1e6,
    writable,
  };
}

export function createFileApi(options: { config: FileApiConfig; logger: Logger }): Mount {
  const { config, logger } = options;
  const base = `${config.prefix}/${FILES_API_PATH}`;
  // A page can repeat any refusal as fast as it likes: a few lines a minute of each, then a count.
  const repeats = repeatLimit(logger, { burst: 10, windowMs: 60_000 });
  // Our own changes, one at a time from the version check to the rename: two saves of the
  // same file cannot both pass the check. (The shell's writes are not ours to order; the
  // check right before the rename leaves them a window of microseconds.)
  let commits: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = commits.then(work, work);
    commits = next.catch(() => {});
    return next;
  }

  function owns(req: http.IncomingMessage): boolean {
    // The raw path, as the auth proxy admitted it: `..` in it is not resolved into another route.
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    return pathUnder(base, pathname) !== null;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const operation = pathname.slice(base.length + 1);
    // What the request acts on, for a message about a failure that names no file itself.
    const context = { shown: 'that file' };
    try {
      // The server refuses viewers anything under <prefix>/files already; this says so again
      // here, where the files are, so that no change of routes there can let one in.
      if (readRequester(req).access !== 'owner') {
        throw new FileApiRefusal(403, 'failed', 'you are viewing this terminal: only its owner can use its files');
      }
      if (!Object.hasOwn(METHODS, operation)) throw new FileApiRefusal(404, 'bad-request', 'no such file operation');
      const method = METHODS[operation as Operation];
      if (req.method !== method) {
        throw new FileApiRefusal(405, 'bad-request', `${operation} is ${method}`, undefined, { Allow: method });
      }
      checkSite(req, method);
      // Another site's page may not even embed an answer (the contents of a file) where it could measure it.
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const home = await homeFolder();
      const place = (name: string) => placeOf(query.get(name), home, context);
      switch (operation as Operation) {
        case 'list':
          return sendJson(res, 200, await list(place('path'), home, query.get('hidden') === '1'));
        case 'read':
          return sendJson(res, 200, await read(place('path'), home));
        case 'stat':
          return sendJson(res, 200, await statOf(place('path'), home));
        case 'write':
          return sendJson(res, 200, await write(req, place('path'), home, query.get('version')));
        case 'create':
          return sendJson(res, 201, await create(place('path'), home, query.get('type')));
        case 'copy':
          return sendJson(res, 200, await copy(place('path'), place('to'), home, query.get('replace')));
        case 'rename':
          return sendJson(res, 200, await move(place('path'), place('to'), home, query.get('replace')));
        case 'delete':
          await remove(place('path'), home, query.get('version'), query.get('recursive') === '1');
          res.writeHead(204, { 'Cache-Control': 'no-store' });
          res.end();
          return;
      }
    } catch (error) {
      const refusal = asRefusal(error, context.shown);
      if (refusal) {
        // 404s and 409s are an editor's daily bread (a file gone, a save refused); the rest is worth a look.
        const level = refusal.status === 404 || refusal.status === 409 ? 'info' : 'warn';
        repeats.log(level, `refused ${refusal.status}`, 'file_api.refused', {
          method: req.method,
          operation: operation.slice(0, 20),
          status: refusal.status,
          code: refusal.code,
          reason: refusal.message.slice(0, 200),
        });
      } else {
        logger.error('file_api.failed', { operation: operation.slice(0, 20), reason: describeError(error) });
      }
      const answer = refusal ?? new FileApiRefusal(500, 'failed', 'the file could not be handled (an internal error)');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      const body: FileApiFailure = {
        error: answer.message,
        code: answer.code,
        ...(answer.current ? { current: answer.current } : {}),
      };
      sendJson(res, answer.status, body);
    }
  }

  /**
   * Changes come from a page of this terminal only: same origin and the files
   * header, which no form of another site can send (and no CORS lets its
   * scripts). Reads answer a file's contents, so another site's page may not
   * have them either: a browser names the site a request comes from
   * (Sec-Fetch-Site) and `none` when the address was typed; a program that is
   * not a browser sends none and has no cookies to borrow. Browsers too old to
   * say still get nothing readable: no CORS, and CORP same-origin on the answer.
   */
  function checkSite(req: http.IncomingMessage, method: string): void {
    if (method === 'GET') {
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        throw new FileApiRefusal(
          403,
          'failed',
          `files are for this terminal's own pages, not another site's (${site})`,
        );
      }
      return;
    }
    const refusal = crossSiteRefusal(req);
    if (refusal)
      throw new FileApiRefusal(403, 'failed', `files change from this terminal's own pages only: ${refusal}`);
    if (req.headers[FILES_HEADER] !== '1') {
      throw new FileApiRefusal(403, 'failed', `a request that changes files carries ${FILES_HEADER}: 1`);
    }
  }

  async function homeFolder(): Promise<Home> {
    const given = path.resolve(config.terminalHome);
    return { given, real: await realpath(given) };
  }

  // ---- Places -------------------------------------------------------------

  /** The folder holding `place`, open, checked to be inside home; `name` is looked up in it later. */
  async function openParent(place: Place, home: Home): Promise<InFolder> {
    if (place.rel === '') throw new FileApiRefusal(400, 'bad-request', 'that is the home folder itself');
    const { handle, opened } = await openChecked(path.dirname(place.abs), place, home, constants.O_DIRECTORY);
    const name = path.basename(place.abs);
    return { dir: handle, name, rel: path.join(path.relative(home.real, opened), name), shown: place.shown };
  }

  /**
   * Opens `file` following links, then checks where the descriptor really is:
   * inside home, whatever was swapped meanwhile. O_NONBLOCK: a FIFO does not hang us.
   */
  async function openChecked(
    file: string,
    place: Place,
    home: Home,
    flags: number,
  ): Promise<{ handle: FileHandle; opened: string }> {
    try {
      const { handle, opened } = await openInside(home.real, file, constants.O_RDONLY | constants.O_NONBLOCK | flags);
      return { handle, opened: opened.replace(/ \(deleted\)$/, '') };
    } catch (error) {
      if (error instanceof OutsideFolderError) {
        throw new FileApiRefusal(403, 'outside', `${place.shown} leads outside the home folder`);
      }
      const code = errnoOf(error);
      if (code === 'ENOENT') throw new FileApiRefusal(404, 'not-found', `there is no ${place.shown}`);
      if (code === 'ENOTDIR') {
        throw new FileApiRefusal(
          flags & constants.O_DIRECTORY ? 400 : 404,
          flags & constants.O_DIRECTORY ? 'bad-request' : 'not-found',
          `${place.shown}: a file is where a folder should be`,
        );
      }
      if (code === 'ENXIO') throw new FileApiRefusal(400, 'bad-request', `${place.shown} is not a file or folder`);
      throw error;
    }
  }

  /** The entry `name` (never following a link): its FileVersion, or null when there is none. */
  async function describeAt(folder: InFolder): Promise<{ stats: BigIntStats; version: FileVersion } | null> {
    const entry = at(folder.dir, folder.name);
    let stats = await lstat(entry, { bigint: true }).catch((error) => {
      if (errnoOf(error) === 'ENOENT') return null;
      throw error;
    });
    if (!stats) return null;
    let digest: string | null = null;
    if (stats.isFile()) {
      // The descriptor's own stat goes with the digest (the name may be another file by now).
      const file = await open(entry, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
        () => null,
      );
      if (file) {
        try {
          stats = await file.stat({ bigint: true });
          digest = await digestOf(file, stats);
        } finally {
          await file.close();
        }
      }
    }
    const writable = (await canWrite(fdPath(folder.dir))) && (stats.isSymbolicLink() || (await canWrite(entry)));
    return { stats, version: fileVersion(folder.rel, stats, digest, writable) };
  }

  // ---- Reading ------------------------------------------------------------

  async function list(place: Place, home: Home, hidden: boolean): Promise<FolderListing> {
    const { handle, opened } = await openChecked(place.abs, place, home, constants.O_DIRECTORY);
    try {
      const folder = fdPath(handle);
      const entries: FileEntry[] = [];
      let truncated = false;
      const dir = await opendir(folder, { bufferSize: 128 });
      for await (const { name } of dir) {
        if (!hidden && name.startsWith('.')) continue;
        if (entries.length === LIST_MAX_ENTRIES) {
          truncated = true;
          break; // closes the folder
        }
        const entry = await describeEntry(folder, name, home);
        if (entry) entries.push(entry);
      }
      entries.sort(byFoldersThenName);
      return { path: path.relative(home.real, opened), entries, ...(truncated ? { truncated } : {}) };
    } finally {
      await handle.close();
    }
  }

  async function read(place: Place, home: Home): Promise<FileText> {
    const { handle, opened } = await openChecked(place.abs, place, home, 0);
    try {
      const rel = path.relative(home.real, opened);
      const shown = shownOf(rel);
      const writable = (await canWrite(fdPath(handle))) && (await canWrite(path.dirname(opened)));
      for (let attempt = 1; ; attempt++) {
        const before = await handle.stat({ bigint: true });
        if (before.isDirectory()) throw new FileApiRefusal(400, 'bad-request', `${shown} is a folder`);
        if (!before.isFile()) throw new FileApiRefusal(400, 'bad-request', `${shown} is not a regular file`);
        if (before.size > BigInt(EDITABLE_MAX_BYTES)) {
          return { ...fileVersion(rel, before, null, writable), text: null, readOnly: 'too-large' };
        }
        // One byte more than the size: a file that grew meanwhile shows it, and is read again.
        const bytes = Buffer.alloc(Number(before.size) + 1);
        let length = 0;
        while (length < bytes.length) {
          const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length);
          if (bytesRead === 0) break;
          length += bytesRead;
        }
        const after = await handle.stat({ bigint: true });
        const steady = length === Number(before.size) && after.size === before.size && after.mtimeNs === before.mtimeNs;
        if (!steady && attempt < READ_ATTEMPTS) continue;
        // Unsteady after every attempt: the version is the one from before the read, which the
        // file no longer has, so a save of what was read is refused rather than taken as current.
        const content = bytes.subarray(0, Math.min(length, EDITABLE_MAX_BYTES));
        const version = fileVersion(rel, before, steady ? digestOfBytes(content) : 'unsteady', writable);
        const { text, reason } = decodeText(content);
        const readOnly: ReadOnlyReason | null = reason ?? (writable ? null : 'not-writable');
        return { ...version, text, readOnly };
      }
    } finally {
      await handle.close();
    }
  }

  async function statOf(place: Place, home: Home): Promise<FileVersion> {
    const { handle, opened } = await openChecked(place.abs, place, home, 0);
    try {
      const stats = await handle.stat({ bigint: true });
      const writable = (await canWrite(fdPath(handle))) && (await canWrite(path.dirname(opened)));
      return fileVersion(path.relative(home.real, opened), stats, await digestOf(handle, stats), writable);
    } finally {
      await handle.close();
    }
  }

  // ---- Changing -----------------------------------------------------------

  async function write(
    req: http.IncomingMessage,
    place: Place,
    home: Home,
    version: string | null,
  ): Promise<FileVersion> {
    if (!version) throw new FileApiRefusal(400, 'bad-request', 'say which version is replaced: ?version=<v> or new');
    if (!/^application\/octet-stream\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''))) {
      throw new FileApiRefusal(415, 'bad-request', 'the text is sent as application/octet-stream');
    }
    const body = await readBody(req);
    if (decodeText(body).reason) {
      throw new FileApiRefusal(400, 'bad-request', 'the text is UTF-8 without NUL bytes');
    }
    const target = await openParent(place, home);
    try {
      const current = await describeAt(target);
      if (version === 'new') {
        if (current) throw exists(target, current.version);
      } else {
        if (!current) throw new FileApiRefusal(409, 'changed', `${target.shown} was removed since it was read`);
        checkPlainFile(target, current.stats);
        if (current.version.version !== version) throw changed(target, current.version);
        if (!current.version.writable) {
          throw new FileApiRefusal(403, 'failed', `${target.shown} is read-only (its permissions or its folder's)`);
        }
      }
      return await putInPlace(target, {
        fill: async (handle) => {
          await handle.writeFile(body);
          return digestOfBytes(body);
        },
        mode: current ? Number(current.stats.mode) & 0o7777 : null,
        fresh: version === 'new',
        check: (now) => {
          if (now?.version.version !== version) {
            throw now
              ? changed(target, now.version)
              : new FileApiRefusal(409, 'changed', `${target.shown} was removed meanwhile`);
          }
        },
      });
    } finally {
      await target.dir.close();
    }
  }

  async function create(place: Place, home: Home, type: string | null): Promise<FileVersion> {
    if (type !== 'file' && type !== 'folder')
      throw new FileApiRefusal(400, 'bad-request', 'say what to create: ?type=file or folder');
    const target = await openParent(place, home);
    try {
      try {
        if (type === 'folder') await mkdir(at(target.dir, target.name), { mode: 0o777 });
        else {
          const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
          await (await open(at(target.dir, target.name), flags, 0o666)).close();
        }
      } catch (error) {
        if (errnoOf(error) !== 'EEXIST') throw error;
        throw exists(target, (await describeAt(target))?.version);
      }
      const made = await describeAt(target);
      if (!made) throw new FileApiRefusal(409, 'changed', `${target.shown} was removed as soon as it was made`);
      return made.version;
    } finally {
      await target.dir.close();
    }
  }

  async function copy(from: Place, to: Place, home: Home, replace: string | null): Promise<FileVersion> {
    const source = await openChecked(from.abs, from, home, 0);
    try {
      const stats = await source.handle.stat({ bigint: true });
      if (!stats.isFile()) {
        throw new FileApiRefusal(
          400,
          'bad-request',
          `${from.shown} is ${stats.isDirectory() ? 'a folder' : 'not a regular file'}: only files are copied`,
        );
      }
      const target = await openParent(to, home);
      try {
        const existing = await describeAt(target);
        if (existing) checkReplace(target, existing, replace);
        return await putInPlace(target, {
          fill: async (handle) => {
            const buffer = Buffer.alloc(CHUNK_BYTES);
            const hash = createHash('sha256');
            let position = 0;
            for (;;) {
              const { bytesRead } = await source.handle.read(buffer, 0, buffer.length, position);
              if (bytesRead === 0) break;
              await handle.write(buffer, 0, bytesRead);
              hash.update(buffer.subarray(0, bytesRead));
              position += bytesRead;
            }
            return position <= EDITABLE_MAX_BYTES ? hash.digest('hex') : null;
          },
          mode: Number(stats.mode) & 0o777,
          fresh: !existing,
          check: (now) => {
            if (now) checkReplace(target, now, replace);
          },
        });
      } finally {
        await target.dir.close();
      }
    } finally {
      await source.handle.close();
    }
  }

  async function move(from: Place, to: Place, home: Home, replace: string | null): Promise<FileVersion> {
    if (from.rel === to.rel) throw new FileApiRefusal(400, 'bad-request', `${from.shown} has that name already`);
    const source = await openParent(from, home);
    try {
      const target = await openParent(to, home);
      try {
        const moved = await lstat(at(source.dir, source.name), { bigint: true }).catch((error) => {
          if (errnoOf(error) === 'ENOENT') throw new FileApiRefusal(404, 'not-found', `there is no ${from.shown}`);
          throw error;
        });
        const existing = await describeAt(target);
        if (existing) {
          if (moved.isDirectory()) throw exists(target, existing.version);
          checkReplace(target, existing, replace);
        }
        await exclusive(async () => {
          const now = await describeAt(target);
          if (now) {
            if (!existing) throw exists(target, now.version);
            checkReplace(target, now, replace);
          }
          // A folder cannot replace anything that matters (rename refuses a file or a
          // folder that is not empty); anything else takes its new name with link(),
          // which refuses one that appeared meanwhile, unless it is to replace one.
          if (now || moved.isDirectory()) await rename(at(source.dir, source.name), at(target.dir, target.name));
          else await linkThenUnlink(source, target);
        });
        await target.dir.sync().catch(() => {});
        const result = await describeAt(target);
        if (!result) throw new FileApiRefusal(409, 'changed', `${target.shown} was removed as soon as it was renamed`);
        return result.version;
      } finally {
        await target.dir.close();
      }
    } finally {
      await source.dir.close();
    }
  }

  async function remove(place: Place, home: Home, version: string | null, recursive: boolean): Promise<void> {
    const target = await openParent(place, home);
    try {
      const entry = at(target.dir, target.name);
      const check = async () => {
        const current = await describeAt(target);
        if (!current) throw new FileApiRefusal(404, 'not-found', `there is no ${target.shown}`);
        if (version !== null && current.version.version !== version) throw changed(target, current.version);
        return current.stats;
      };
      await check();
      await exclusive(async () => {
        const stats = await check();
        if (!stats.isDirectory()) return await unlink(entry);
        try {
          await rmdir(entry);
        } catch (error) {
          const code = errnoOf(error);
          // A folder swapped for a link meanwhile: the link goes, never what it leads to.
          if (code === 'ENOTDIR') return await unlink(entry);
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
          if (!recursive) throw new FileApiRefusal(409, 'not-empty', `${target.shown} is not empty`);
          await removeTree(fdPath(target.dir), target.name, 1);
        }
      });
    } finally {
      await target.dir.close();
    }
  }

  // ---- Helpers ------------------------------------------------------------

  function changed(target: InFolder, current: FileVersion): FileApiRefusal {
    return new FileApiRefusal(409, 'changed', `${target.shown} changed since it was read`, current);
  }

  function exists(target: InFolder, current: FileVersion | undefined): FileApiRefusal {
    return new FileApiRefusal(409, 'exists', `${target.shown} exists already`, current);
  }

  function checkPlainFile(target: InFolder, stats: BigIntStats): void {
    if (stats.isFile()) return;
    // The last name is never followed: a link there would let a write land wherever it leads.
    const what = stats.isSymbolicLink() ? 'a link' : stats.isDirectory() ? 'a folder' : 'not a regular file';
    throw new FileApiRefusal(400, 'bad-request', `${target.shown} is ${what}: it is not written`);
  }

  /** A file at the target is replaced only when `replace` is its version now, and only a plain file. */
  function checkReplace(
    target: InFolder,
    existing: { stats: BigIntStats; version: FileVersion },
    replace: string | null,
  ) {
    if (!existing.stats.isFile()) {
      throw new FileApiRefusal(
        409,
        'exists',
        `${target.shown} exists and is not a plain file: it is not replaced`,
        existing.version,
      );
    }
    if (replace === null) throw exists(target, existing.version);
    if (replace !== existing.version.version) throw changed(target, existing.version);
  }

  /** The temporary file a change is written into: beside its target (so a rename is atomic), hidden, new (O_EXCL). */
  /**
   * Makes the file anew beside `target` under a temporary name (`fill` writes it and
   * answers its digest; `mode` as given, else the umask's), then puts it in target's
   * place: by link when there was no file (`fresh`: fails if one appeared meanwhile),
   * else by rename once `check` passes on the file there now, under the lock, so no
   * other save of ours comes between the check and the rename. The temporary file is
   * removed on any failure.
   */
  async function putInPlace(
    target: InFolder,
    options: {
      fill(handle: FileHandle): Promise<string | null>;
      mode: number | null;
      fresh: boolean;
      check(now: { stats: BigIntStats; version: FileVersion } | null): void;
    },
  ): Promise<FileVersion> {
    const temp = await createTemp(target);
    try {
      const digest = await options.fill(temp.handle);
      if (options.mode !== null) await temp.handle.chmod(options.mode);
      await temp.handle.sync();
      await exclusive(async () => {
        if (options.fresh) return await linkNew(temp.name, target);
        options.check(await describeAt(target));
        await rename(at(target.dir, temp.name), at(target.dir, target.name));
      });
      await target.dir.sync().catch(() => {});
      const stats = await temp.handle.stat({ bigint: true });
      return fileVersion(target.rel, stats, digest, await canWrite(fdPath(temp.handle)));
    } catch (error) {
      await removeTemp(target.dir, temp.name);
      throw error;
    } finally {
      await temp.handle.close();
    }
  }

  async function createTemp(target: InFolder): Promise<{ handle: FileHandle; name: string }> {
    const name = `.${randomBytes(6).toString('hex')}.file-api-part`;
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    return { handle: await open(at(target.dir, name), flags, 0o666), name };
  }

  async function removeTemp(dir: FileHandle, name: string): Promise<void> {
    await unlink(at(dir, name)).catch((error) => {
      if (errnoOf(error) !== 'ENOENT') logger.warn('file_api.temp_left', { reason: describeError(error) });
    });
  }

  /** Gives the temporary file its name only if nothing has that name (link() is atomic about it), then drops the temporary one. */
  async function linkNew(tempName: string, target: InFolder): Promise<void> {
    try {
      await link(at(target.dir, tempName), at(target.dir, target.name));
    } catch (error) {
      if (errnoOf(error) === 'EEXIST') throw exists(target, (await describeAt(target))?.version);
      throw error;
    }
    await removeTemp(target.dir, tempName);
  }

  async function linkThenUnlink(source: InFolder, target: InFolder): Promise<void> {
    try {
      await link(at(source.dir, source.name), at(target.dir, target.name));
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'EEXIST') throw exists(target, (await describeAt(target))?.version);
      // A file system without hard links: checked just before, under our lock.
      if (code === 'EPERM' || code === 'EOPNOTSUPP' || code === 'EMLINK') {
        await rename(at(source.dir, source.name), at(target.dir, target.name));
        return;
      }
      throw error;
    }
    await unlink(at(source.dir, source.name));
  }

  /**
   * Empties and removes the folder `name` in `parent` through descriptors only:
   * a folder inside it swapped for a link is unlinked as a link (O_NOFOLLOW),
   * never entered. (fs.rm follows paths again at each level.)
   */
  async function removeTree(parent: string, name: string, depth: number): Promise<void> {
    if (depth > MAX_DELETE_DEPTH) {
      throw new FileApiRefusal(
        400,
        'bad-request',
        `folders nested deeper than ${MAX_DELETE_DEPTH} are not deleted here`,
      );
    }
    let folder: FileHandle;
    try {
      folder = await open(`${parent}/${name}`, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT') return;
      if (code === 'ELOOP' || code === 'ENOTDIR') return await unlink(`${parent}/${name}`);
      throw error;
    }
    try {
      const here = fdPath(folder);
      for await (const entry of await opendir(here, { bufferSize: 128 })) {
        if (entry.isDirectory()) {
          await removeTree(here, entry.name, depth + 1);
          continue;
        }
        await unlink(`${here}/${entry.name}`).catch(async (error) => {
          const code = errnoOf(error);
          if (code === 'EISDIR') return await removeTree(here, entry.name, depth + 1);
          if (code !== 'ENOENT') throw error;
        });
      }
    } finally {
      await folder.close();
    }
    await rmdir(`${parent}/${name}`);
  }

  /**
   * The request's body, refused (413) as soon as it is larger than a file the editor
   * takes: never held beyond that. The rest is read and dropped as it comes (the
   * server's request timeout bounds it), not cut off: a connection closed on a
   * sender often loses the answer too.
   */
  function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const tooLarge = () =>
      new FileApiRefusal(
        413,
        'bad-request',
        `the text is larger than ${EDITABLE_MAX_BYTES >> 20} MiB, the most the editor saves`,
      );
    if (Number(req.headers['content-length'] ?? 0) > EDITABLE_MAX_BYTES) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const onData = (chunk: Buffer) => {
        length += chunk.length;
        if (length <= EDITABLE_MAX_BYTES) return void chunks.push(chunk);
        req.off('data', onData);
        chunks.length = 0;
        req.resume();
        reject(tooLarge());
      };
      req.on('data', onData);
      req.once('end', () => resolve(Buffer.concat(chunks, length)));
      req.once('error', reject);
      req.once('aborted', () => reject(new FileApiRefusal(400, 'bad-request', 'the text did not all arrive')));
    });
  }

  return { owns, handle };
}

/** Where a requested path is, lexically, in the home folder: '' or relative, ~/…, or absolute inside it. */
function placeOf(raw: string | null, home: Home, context: { shown: string }): Place {
  if (raw === null) throw new FileApiRefusal(400, 'bad-request', 'say which file: ?path=<file>');
  if (raw.includes('\0')) throw new FileApiRefusal(400, 'bad-request', 'a path has no NUL character');
  let abs: string;
  if (raw === '~' || raw.startsWith('~/')) abs = path.resolve(home.real, `.${raw.slice(1)}`);
  else if (path.isAbsolute(raw)) {
    const normal = path.resolve(raw);
    if (isInside(home.given, normal)) abs = path.join(home.real, path.relative(home.given, normal));
    else abs = normal;
  } else abs = path.resolve(home.real, raw);
  if (!isInside(home.real, abs)) throw new FileApiRefusal(403, 'outside', 'that path is outside the home folder');
  const rel = path.relative(home.real, abs);
  context.shown = shownOf(rel);
  return { rel, abs, shown: shownOf(rel) };
}

/** The text of a file, or why it is not shown as text. */
function decodeText(bytes: Uint8Array): { text: string | null; reason: ReadOnlyReason | null } {
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return { text: null, reason: 'binary' };
  try {
    // ignoreBOM keeps a byte order mark in the text, so that saving it writes it back.
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes), reason: null };
  } catch {
    return { text: null, reason: 'not-utf8' };
  }
}

async function describeEntry(folder: string, name: string, home: Home): Promise<FileEntry | null> {
  const entry = `${folder}/${name}`;
  const stats = await lstat(entry).catch(() => null);
  if (!stats) return null; // removed while the folder was read
  const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'folder' : stats.isSymbolicLink() ? 'link' : 'other';
  let target: FileEntry['target'] = null;
  if (type === 'link') {
    // Where it leads, only when that is inside home: a link out shows as leading nowhere.
    const real = await realpath(entry).catch(() => null);
    const leads = real && isInside(home.real, real) ? await stat(real).catch(() => null) : null;
    target = leads?.isFile() ? 'file' : leads?.isDirectory() ? 'folder' : null;
  }
  return { name, type, target, size: stats.size, mtimeMs: stats.mtimeMs };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Folders (and links to folders) first, then by name as people read it (case aside, numbers by value). */
function byFoldersThenName(a: FileEntry, b: FileEntry): number {
  const folder = (entry: FileEntry) => entry.type === 'folder' || entry.target === 'folder';
  if (folder(a) !== folder(b)) return folder(a) ? -1 : 1;
  return collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** An error as the answer it becomes: a refusal of ours, or a system error named for the attendee; null for a bug. */
function asRefusal(error: unknown, shown: string): FileApiRefusal | null {
  if (error instanceof FileApiRefusal) return error;
  if (error instanceof HttpError)
    return new FileApiRefusal(error.status, 'failed', error.message, undefined, error.headers);
  // System errors' own messages name /proc/self/fd paths; these name the file as asked.
  switch (errnoOf(error)) {
    case 'ENOENT':
      return new FileApiRefusal(404, 'not-found', `there is no ${shown}`);
    case 'ENOTDIR':
      return new FileApiRefusal(404, 'not-found', `${shown}: a file is where a folder should be`);
    case 'EACCES':
    case 'EPERM':
      return new FileApiRefusal(403, 'failed', `${shown}: permission denied`);
    case 'EROFS':
      return new FileApiRefusal(403, 'failed', `${shown} is on a read-only file system`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new FileApiRefusal(507, 'failed', `the disk is full: ${shown} was not changed`);
    case 'EISDIR':
      return new FileApiRefusal(400, 'bad-request', `${shown} is a folder`);
    case 'ELOOP':
      return new FileApiRefusal(400, 'bad-request', `${shown} is a link: it is not followed there`);
    case 'ENAMETOOLONG':
      return new FileApiRefusal(400, 'bad-request', `${shown} is too long a name`);
    case 'EINVAL':
      return new FileApiRefusal(400, 'bad-request', `${shown} cannot go there (into itself?)`);
    case 'EXDEV':
      return new FileApiRefusal(400, 'bad-request', `${shown} cannot move to another file system`);
    case 'ENOTEMPTY':
    case 'EEXIST':
      return new FileApiRefusal(409, 'exists', `${shown}: something has that name already`);
    case 'EMFILE':
    case 'ENFILE':
      return new FileApiRefusal(503, 'failed', 'too many files are open on the server; try again');
    default:
      return null;
  }
}
