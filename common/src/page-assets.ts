// The browser bundles (dist/page/<name>.js and .css, with their source maps),
// served with a version for caching. The bundles every page loads are read and
// compressed once at start; the source maps (over 5 MB, asked for only by a
// browser's developer tools) are read from disk when asked for and not kept.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback, gzipSync } from 'node:zlib';
import { HttpError } from './http-error.js';
import { send } from './http-send.js';

const gzip = promisify(gzipCallback);

export interface PageAsset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  /** A digest of the body: URLs carry it as ?v=, and it is the ETag. */
  version: string;
}

/** A file of the bundle: in memory, or (a source map) the path to read it from. */
export type PageFile = PageAsset | { file: string };

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

function typeOf(file: string): string {
  return TYPES[path.extname(file)] ?? 'application/octet-stream';
}

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
    if (file.endsWith('.map')) {
      assets.set(file, { file: full });
      continue;
    }
    const body = readFileSync(full);
    assets.set(file, { body, gzipped: gzipSync(body), type: typeOf(file), version: versionOf(body) });
  }
  return assets;
}

/** The version of a file kept in memory, for the ?v= of a page's URLs. */
export function assetVersion(assets: Map<string, PageFile>, file: string): string {
  const found = assets.get(file);
  return found && 'version' in found ? found.version : '0';
}

/** Answers a GET or HEAD for one asset: 304 when the browser has it, gzip when accepted. */
export async function sendPageAsset(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  found: PageFile | undefined,
  version: string | null,
): Promise<void> {
  if (!found || (req.method !== 'GET' && req.method !== 'HEAD')) throw new HttpError(404, 'not found');
  const body = 'file' in found ? await readFile(found.file).catch(() => null) : found.body;
  if (!body) throw new HttpError(404, 'not found');
  const current = 'file' in found ? versionOf(body) : found.version;
  const etag = `"${current}"`;
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': 'file' in found ? typeOf(found.file) : found.type,
    ETag: etag,
    Vary: 'Accept-Encoding',
    // Versioned URLs never change; unversioned ones are revalidated.
    'Cache-Control': version === current ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  if (!/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    send(res, 200, body, headers, req.method === 'HEAD');
    return;
  }
  headers['Content-Encoding'] = 'gzip';
  // A source map is compressed off the event loop: the terminals' output goes on meanwhile.
  const gzipped = 'file' in found ? await gzip(body) : found.gzipped;
  send(res, 200, gzipped, headers, req.method === 'HEAD');
}
