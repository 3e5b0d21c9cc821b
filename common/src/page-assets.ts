// The browser bundles (dist/page/<name>.js and .css, with their source maps):
// loaded and compressed once at start, served with a version for caching.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { HttpError } from './http-error.js';
import { send } from './http-send.js';

export interface PageAsset {
  body: Buffer;
  gzipped: Buffer;
  type: string;
  /** A digest of the body: URLs carry it as ?v=, and it is the ETag. */
  version: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** The bundle `name` (name.js, name.css and their maps) from `dir`; throws when the bundle was not built. */
export function loadPageAssets(dir: string, name: string): Map<string, PageAsset> {
  const assets = new Map<string, PageAsset>();
  for (const file of [`${name}.js`, `${name}.css`, `${name}.js.map`, `${name}.css.map`]) {
    const full = path.join(dir, file);
    if (!existsSync(full)) {
      if (file.endsWith('.map')) continue;
      throw new Error(`the page bundle ${full} is missing: run "npm run build" first`);
    }
    const body = readFileSync(full);
    assets.set(file, {
      body,
      gzipped: gzipSync(body),
      type: TYPES[path.extname(file)] ?? 'application/octet-stream',
      version: createHash('sha256').update(body).digest('hex').slice(0, 12),
    });
  }
  return assets;
}

/** Answers a GET or HEAD for one asset: 304 when the browser has it, gzip when accepted. */
export function sendPageAsset(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  asset: PageAsset | undefined,
  version: string | null,
): void {
  if (!asset || (req.method !== 'GET' && req.method !== 'HEAD')) throw new HttpError(404, 'not found');
  const etag = `"${asset.version}"`;
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': asset.type,
    ETag: etag,
    Vary: 'Accept-Encoding',
    // Versioned URLs never change; unversioned ones are revalidated.
    'Cache-Control': version === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (gzip) headers['Content-Encoding'] = 'gzip';
  send(res, 200, gzip ? asset.gzipped : asset.body, headers, req.method === 'HEAD');
}
