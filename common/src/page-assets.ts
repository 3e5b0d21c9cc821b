// The browser bundles (dist/page/<name>.js and .css, with their source maps),
// served with a version for caching. The bundles every page loads are read and
// compressed once at start, and kept compressed only (every browser takes gzip;
// anything else gets them uncompressed on the fly); the source maps (over 5 MB,
// asked for only by a browser's developer tools) are read from disk when asked
// for and not kept.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback, gzipSync } from 'node:zlib';
import { HttpError } from './http-error.js';
import { send } from './http-send.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** A file of the bundle. */
export interface PageFile {
  file: string;
  type: string;
  /**
   * A bundle every page loads, compressed at start, with its version (a digest
   * of the file: URLs carry it as ?v=, and it is the ETag). Null for a source
   * map, read when asked for.
   */
  kept: { gzipped: Buffer; version: string } | null;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function versionOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 12);
}

/** The bundle `name` (name.js, name.css and their maps) from `dir`; throws when the bundle was not built. */
export function loadPageAssets(dir: string, name: string): Map<string, PageFile> {
  const assets = new Map<string, PageFile>();
  for (const file of [`${name}.js`, `${name}.css`, `${name}.js.map`, `${name}.css.map`]) {
    const full = path.join(dir, file);
    if (!existsSync(full)) {
      if (file.endsWith('.map')) continue;
      throw new Error(`the page bundle ${full} is missing: run "npm run build" first`);
    }
    assets.set(file, pageFile(full, TYPES[path.extname(file)] ?? 'application/octet-stream'));
  }
  return assets;
}

/** A file of a bundle: a script or style sheet kept compressed, with its version; a source map read when asked for. */
function pageFile(full: string, type: string): PageFile {
  if (full.endsWith('.map')) return { file: full, type, kept: null };
  const body = readFileSync(full);
  return { file: full, type, kept: { gzipped: gzipSync(body), version: versionOf(body) } };
}

/**
 * A bundle split into chunks (an ES module entry and the chunks it imports when
 * needed, all in `dir`): every script and style sheet kept compressed, like
 * loadPageAssets's, the source maps read when asked for. `entries` must be there.
 */
export function loadPageFolder(dir: string, entries: readonly string[]): Map<string, PageFile> {
  const assets = new Map<string, PageFile>();
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const entry of entries) {
    if (!names.includes(entry))
      throw new Error(`the page bundle ${path.join(dir, entry)} is missing: run "npm run build" first`);
  }
  for (const file of names) {
    const type = TYPES[path.extname(file)];
    if (!type) continue;
    assets.set(file, pageFile(path.join(dir, file), type));
  }
  return assets;
}

/** The version of a bundle every page loads, for the ?v= of a page's URLs. */
export function assetVersion(assets: Map<string, PageFile>, file: string): string {
  return assets.get(file)?.kept?.version ?? '0';
}

/**
 * A file as it is answered: its version, and its content compressed or not.
 * Whatever needs work (reading and compressing a source map, uncompressing a
 * bundle for a client without gzip) runs off the event loop: the terminals'
 * output goes on meanwhile.
 */
async function contentOf(
  found: PageFile,
): Promise<{ version: string; gzipped(): Promise<Buffer>; plain(): Promise<Buffer> }> {
  const { kept } = found;
  if (kept) return { version: kept.version, gzipped: async () => kept.gzipped, plain: () => gunzip(kept.gzipped) };
  const body = await readFile(found.file).catch(() => null);
  if (!body) throw new HttpError(404, 'not found');
  return { version: versionOf(body), gzipped: () => gzip(body), plain: async () => body };
}

/** Answers a GET or HEAD for one asset: 304 when the browser has it, gzip when accepted. */
export async function sendPageAsset(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  found: PageFile | undefined,
  version: string | null,
): Promise<void> {
  if (!found || (req.method !== 'GET' && req.method !== 'HEAD')) throw new HttpError(404, 'not found');
  const content = await contentOf(found);
  const etag = `"${content.version}"`;
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': found.type,
    ETag: etag,
    Vary: 'Accept-Encoding',
    // Versioned URLs never change; unversioned ones are revalidated.
    'Cache-Control': version === content.version ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzipped = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzipped) headers['Content-Encoding'] = 'gzip';
  send(res, 200, await (gzipped ? content.gzipped() : content.plain()), headers, req.method === 'HEAD');
}
