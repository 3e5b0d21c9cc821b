// The editor's part of the terminal server: the stand-alone page at
// <prefix>/editor/ and the editor's bundle at <prefix>/editor/assets/ (an ES
// module entry and its chunks, one per language; the dashboard imports the
// entry from here when its Editor tab is first opened). The files themselves
// go through the file API (<prefix>/files/api), not through here.
import type http from 'node:http';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';
import { HttpError } from '../../common/src/http-error.js';
import { send } from '../../common/src/http-send.js';
import { markOwnPage } from '../../common/src/inert-content.js';
import { assetVersion, loadPageFolder, type PageFile, sendPageAsset } from '../../common/src/page-assets.js';
import { pathUnder } from '../../common/src/prefix.js';

/** The folder of the editor's bundle under the page assets (dist/page/editor), and under <prefix>/editor/. */
export const EDITOR_ASSETS = 'assets';

export interface EditorMount {
  owns(req: http.IncomingMessage): boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

export function createEditor(options: { config: Pick<Config, 'prefix'>; assetsDir: string }): EditorMount {
  const base = `${options.config.prefix}/editor`;
  const assets = loadPageFolder(path.join(options.assetsDir, 'editor'), ['editor.js', 'editor-page.js', 'editor.css']);

  function owns(req: http.IncomingMessage): boolean {
    return pathUnder(base, rawPath(req)) !== null;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET' });
    const raw = rawPath(req);
    const rest = pathUnder(base, raw) ?? '';
    if (rest === '') {
      res.writeHead(302, { Location: `${base}/${(req.url ?? '').slice(raw.length)}`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (rest === '/') {
      markOwnPage(res);
      send(
        res,
        200,
        editorHtml(assets),
        { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' },
        req.method === 'HEAD',
      );
      return;
    }
    const file = rest.startsWith(`/${EDITOR_ASSETS}/`) ? rest.slice(EDITOR_ASSETS.length + 2) : null;
    if (file === null || file.includes('/')) throw new HttpError(404, 'not found');
    const version = new URL(req.url ?? '/', 'http://localhost').searchParams.get('v');
    return sendPageAsset(req, res, assets.get(file), version);
  }

  return { owns, handle };
}

function rawPath(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function editorHtml(assets: Map<string, PageFile>): string {
  const version = (file: string) => assetVersion(assets, file);
  // No inline script (the CSP allows scripts from the bundle folders only); the page finds the prefix in its URL.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Editor</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${EDITOR_ASSETS}/editor.css?v=${version('editor.css')}">
<script type="module" src="${EDITOR_ASSETS}/editor-page.js?v=${version('editor-page.js')}"></script>
</head>
<body class="wt-editor-page">
<main id="wt-editor" aria-label="Editor"></main>
<noscript>The editor needs JavaScript.</noscript>
</body>
</html>
`;
}
