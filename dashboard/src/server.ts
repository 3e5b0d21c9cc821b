import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';
import { HttpError } from '../../common/src/http-error.js';
import { send, sendJson } from '../../common/src/http-send.js';
import { markOwnPage } from '../../common/src/inert-content.js';
import type { Logger } from '../../common/src/log.js';
import { assetVersion, loadPageAssets, type PageFile, sendPageAsset } from '../../common/src/page-assets.js';
import { pathUnder } from '../../common/src/prefix.js';
import { crossSiteRefusal } from '../../common/src/same-origin.js';
import { FRAME_SOURCES_HEADER } from '../../common/src/terminal-link.js';
import type { Room } from '../../terminal-server/src/room.js';
import type { InputField } from './actions.js';
import type { Content } from './content.js';
import { escapeHtml } from './escape.js';
import { createExaminer, type Examiner, runRemoteCheck } from './examiner.js';
import { DATA_ELEMENT_ID, type DashboardData } from './page-data.js';
import { pageReport } from './room-requests.js';
import { setupProblems } from './setup-report.js';
import { builtInVariables, type VariableConfig } from './variables.js';

export type DashboardConfig = VariableConfig &
  Pick<Config, 'workshopDir' | 'terminalHome' | 'frameAncestors' | 'workshopSetupReport' | 'editorTab'>;

export interface Dashboard {
  /** True for the requests this handles: everything under <prefix>/dashboard. */
  owns(req: http.IncomingMessage): boolean;
  /** Answers a request it owns; rejects with an HttpError (or a bug) for the server's one error handler. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Resolves once the workshop is loaded and rendered (at once when there is none). */
  readonly ready: Promise<void>;
}

// How files of the content folder are answered. What can carry script (.js,
// .html, .xml, ...) is plain text, shown and never run; anything not named here
// is a download. The terminal server's inert policy (sandbox, no script) covers
// them all: an SVG stays image/svg+xml for <img>, and opened by itself runs nothing.
const PLAIN_TEXT = 'text/plain; charset=utf-8';
const CONTENT_TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.txt': PLAIN_TEXT,
  '.md': PLAIN_TEXT,
  '.yaml': PLAIN_TEXT,
  '.yml': PLAIN_TEXT,
  '.sh': PLAIN_TEXT,
  '.js': PLAIN_TEXT,
  '.mjs': PLAIN_TEXT,
  '.html': PLAIN_TEXT,
  '.htm': PLAIN_TEXT,
  '.xhtml': PLAIN_TEXT,
  '.xml': PLAIN_TEXT,
};

/**
 * The slides' files: their scripts are scripts, for their pages only (those
 * run sandboxed; our pages take scripts from our bundle folders alone).
 */
const SLIDES_TYPES: Record<string, string> = {
  ...CONTENT_TYPES,
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
};

/**
 * Slides are web pages of the workshop's own, with their scripts (reveal.js
 * and the like, inline ones too): served sandboxed, so they run in an origin
 * of their own, which has none of the terminal's cookies nor its pages (one
 * JupyterHub serves everyone's terminals under one origin). This policy
 * replaces the auth proxy's for these pages only.
 */
function slidesPolicy(frameAncestors: string): string {
  return [
    'sandbox allow-scripts allow-popups allow-modals',
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join('; ');
}

/** A fenced block of an editor:* action (Markdown's ``` or ~~~, AsciiDoc's [source,editor:…]). */
const EDITOR_FENCE = /^\s*(?:```|~~~)\s*editor:|^\[source,\s*editor:/m;

/** The largest examiner request body: a list of arguments. */
const MAX_BODY_BYTES = 16 * 1024;

export function createDashboard(options: {
  config: DashboardConfig;
  logger: Logger;
  assetsDir: string;
  /** The shells' environment (no secrets): variables may come from it, checks run in it. */
  env: Readonly<Record<string, string>>;
  /** What the room is told (null: no room, and the page shows and sends nothing for it). */
  room?: Room | null;
}): Dashboard {
  const { config, logger } = options;
  const room = options.room ?? null;
  const base = `${config.prefix}/dashboard`;
  const assets = loadPageAssets(options.assetsDir, 'dashboard');
  const slidesHeaders = { headers: { 'Content-Security-Policy': slidesPolicy(config.frameAncestors) } };
  let content: Content | null = null;
  let examiner: Examiner | null = null;

  const ready = existsSync(config.workshopDir)
    ? import('./content.js').then(async ({ loadContent }) => {
        content = await loadContent({
          dir: config.workshopDir,
          variables: builtInVariables(config, options.env),
          env: options.env,
          consoleUrl: config.consoleUrl,
          logger,
        });
        if (content) {
          // How the setup.d scripts ran (the supervisor ran them before this process started).
          const setup = setupProblems(config.workshopSetupReport);
          for (const problem of setup) logger.warn('workshop.problem', { problem });
          content.workshop.problems.push(...setup);
          examiner = createExaminer({
            testsDir: content.workshop.examinerDir,
            cwd: config.terminalHome,
            env: options.env,
            logger: logger.child('examiner'),
          });
        }
      })
    : Promise.resolve();
  // A workshop that cannot be loaded at all is the author's to fix; the terminals still work.
  const loaded = ready.catch((error: unknown) => {
    logger.error('workshop.failed', { dir: config.workshopDir, reason: (error as Error).message });
  });

  function owns(req: http.IncomingMessage): boolean {
    const raw = rawPath(req);
    return pathUnder(base, raw) !== null;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await loaded;
    // The path as sent: the URL parser would fold . and .. segments away before they could be refused.
    const raw = rawPath(req);
    if (raw === base) {
      onlyGet(req);
      const query = (req.url ?? '').slice(raw.length);
      res.writeHead(302, { Location: `${base}/${query}`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const rest = raw.slice(base.length + 1);
    if (rest === '') {
      onlyGet(req);
      const requested = new URL(req.url ?? '/', 'http://localhost').searchParams.get('page');
      sendPage(req, res, requested);
      return;
    }
    const [section, ...parts] = rest.split('/');
    if (section === 'assets' && parts.length === 1) return serveAsset(req, res, parts[0] as string);
    if (section === 'api' && parts[0] === 'pages' && parts.length > 1) {
      onlyGet(req);
      const name = decodeSegments(parts.slice(1)).join('/');
      const page = content?.pages.get(name);
      if (!page) throw new HttpError(404, 'no such page');
      sendJson(res, 200, page);
      return;
    }
    if (section === 'content' && parts.length > 0) {
      // Hugo serves static/ at the site's root beside the pages (and their bundles' files): content/ first.
      const roots = [content?.workshop.contentDir, content?.workshop.staticDir];
      return serveFile(req, res, roots, parts);
    }
    if (section === 'slides') {
      // slides/ opens on its index.html; nothing of the workshop outside slides/ is served here.
      const file = parts.length > 0 && parts.at(-1) !== '' ? parts : [...parts.filter(Boolean), 'index.html'];
      return serveFile(
        req,
        res,
        [content?.workshop.slidesDir, content?.workshop.slidesLibraryDir],
        file,
        slidesHeaders,
      );
    }
    if (section === 'examiner' && parts.length === 1) return runCheck(req, res, parts[0] as string);
    if (section === 'room' && parts.length === 1) return roomRequest(req, res, parts[0] as string);
    throw new HttpError(404, 'not found');
  }

  function sendPage(req: http.IncomingMessage, res: http.ServerResponse, requested: string | null): void {
    const workshop = content?.workshop ?? null;
    const first = workshop?.pages[0]?.name;
    const page = content?.pages.get(requested ?? '') ?? (first ? content?.pages.get(first) : undefined) ?? null;
    const data: DashboardData = {
      prefix: config.prefix,
      workshop: workshop?.name ?? null,
      layout: workshop?.layout ?? 'single',
      console: workshop?.consoleEnabled === false ? null : config.consoleUrl || null,
      tabs: workshop?.tabs ?? [],
      slides: Boolean(workshop?.slidesDir),
      editor: editorShown(),
      pages: (workshop?.pages ?? []).map(({ name, title }) => ({ name, title })),
      page,
      problems: workshop?.problems ?? [],
      room: room !== null,
    };
    const frames = frameOrigins(data, content?.frames ?? []);
    markOwnPage(res);
    send(
      res,
      200,
      dashboardHtml(data, assets),
      {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        // The auth proxy turns this into the frame-src of its Content-Security-Policy.
        ...(frames.length > 0 ? { [FRAME_SOURCES_HEADER]: frames.join(' ') } : {}),
      },
      req.method === 'HEAD',
    );
  }

  /**
   * EDITOR_TAB says, or in auto the workshop does: its setting, else whether a page has an editor:* block.
   * A tab of the workshop's own named Editor (a terminal, say) keeps its place: then there is no built-in one.
   */
  function editorShown(): boolean {
    const workshop = content?.workshop;
    if (workshop?.tabs.some((tab) => tab.name.toLowerCase() === 'editor')) return false;
    if (config.editorTab !== 'auto') return config.editorTab === 'on';
    if (!workshop) return false;
    if (workshop.editorEnabled !== null) return workshop.editorEnabled;
    editorBlocks ??= workshop.pages.some((page) => EDITOR_FENCE.test(page.text));
    return editorBlocks;
  }
  let editorBlocks: boolean | undefined;

  function serveAsset(req: http.IncomingMessage, res: http.ServerResponse, file: string): Promise<void> {
    const version = new URL(req.url ?? '/', 'http://localhost').searchParams.get('v');
    return sendPageAsset(req, res, assets.get(file), version);
  }

  /** A file from the first of `roots` that has it; never anything outside them, however the path is written. */
  async function serveFile(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    roots: (string | null | undefined)[],
    parts: string[],
    html?: { headers: Record<string, string> },
  ): Promise<void> {
    onlyGet(req);
    const notFound = new HttpError(404, 'not found');
    if (!content) throw notFound;
    let segments: string[];
    try {
      segments = decodeSegments(parts);
    } catch {
      throw notFound;
    }
    // Every segment a plain name: no . or .., no hidden separators, nothing empty.
    if (segments.some((s) => s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s))) throw notFound;
    let file: string | null = null;
    let info: Awaited<ReturnType<typeof stat>> | null = null;
    for (const dir of roots) {
      if (!dir) continue;
      const root = await realpath(dir).catch(() => null);
      if (!root) continue;
      // Through symbolic links too: what is served must really be inside its folder.
      const real = await realpath(path.join(root, ...segments)).catch(() => null);
      if (!real?.startsWith(`${root}${path.sep}`)) continue;
      const found = await stat(real).catch(() => null);
      if (!found?.isFile()) continue;
      file = real;
      info = found;
      break;
    }
    if (!file || !info) throw notFound;
    const extension = path.extname(file).toLowerCase();
    const page = html && (extension === '.html' || extension === '.htm');
    const type = page ? 'text/html; charset=utf-8' : (html ? SLIDES_TYPES : CONTENT_TYPES)[extension];
    res.writeHead(200, {
      ...(page ? html.headers : {}),
      'Content-Type': type ?? 'application/octet-stream',
      ...(type ? {} : { 'Content-Disposition': 'attachment' }),
      'Content-Length': info.size,
      'Cache-Control': 'no-cache',
      'Last-Modified': info.mtime.toUTCString(),
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      stream.on('end', resolve);
      stream.pipe(res);
    });
  }

  async function runCheck(req: http.IncomingMessage, res: http.ServerResponse, segment: string): Promise<void> {
    // Running something is never a GET, and never on behalf of another site's page.
    if (req.method !== 'POST') throw new HttpError(405, 'checks are run by POST', { Allow: 'POST' });
    const refusal = crossSiteRefusal(req);
    if (refusal) {
      logger.warn('check.refused', { reason: refusal, origin: String(req.headers.origin ?? '').slice(0, 100) });
      throw new HttpError(403, refusal);
    }
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      throw new HttpError(415, 'a check request is JSON');
    }
    if (!content || !examiner) throw new HttpError(404, 'this workshop has no checks');
    const [name] = decodeSegments([segment]);
    const body = await readJson(req);
    const args = (body as { args?: unknown })?.args ?? [];
    if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
      throw new HttpError(400, 'args must be a list of strings');
    }
    const inputs = (body as { inputs?: unknown })?.inputs ?? null;
    const asked = (body as { timeout?: unknown })?.timeout;
    if (asked !== undefined && typeof asked !== 'number') {
      throw new HttpError(400, 'timeout must be a number of seconds');
    }
    // Only as a page declares it: the name and the arguments of one of its blocks, with a form or without,
    // and the block's own timeout when the request names one (a check declared twice, with a short timeout
    // that must fail and a long one that must pass, is two checks).
    const declared = (content.checks.get(name as string) ?? []).filter(
      (check) =>
        check.args.length === args.length &&
        check.args.every((arg, i) => arg === args[i]) &&
        (check.inputs === null) === (inputs === null) &&
        (asked === undefined || check.timeout === asked),
    );
    if (declared.length === 0) throw new HttpError(404, 'no page declares this check with these arguments and timeout');
    // With a form: the values must fit the form of one of the blocks (one program may serve several forms).
    const first = inputs === null ? declared[0] : declared.find((check) => fitsInputs(check.inputs ?? [], inputs));
    if (!first) {
      checkInputs(declared[0]?.inputs ?? [], inputs);
      throw new HttpError(400, 'the values fit no form of this check');
    }
    const timeout = Math.max(...declared.map((check) => check.timeout));
    const result = first.url
      ? await runRemoteCheck({
          url: first.url,
          args,
          inputs: inputs as Record<string, unknown> | null,
          timeout,
          logger: logger.child('examiner'),
        })
      : await examiner.run({
          name: name as string,
          args,
          timeout,
          ...(inputs === null ? {} : { input: JSON.stringify(inputs) }),
        });
    sendJson(res, 200, result);
  }

  /**
   * room/events (POST, one event from the page) and room/hand (GET: whether the hand is
   * raised, for a page that reloads). Viewers never get here with a POST (the server refuses it).
   */
  async function roomRequest(req: http.IncomingMessage, res: http.ServerResponse, name: string): Promise<void> {
    if (!room) throw new HttpError(404, 'this terminal reports to no room');
    if (name === 'hand') {
      onlyGet(req);
      sendJson(res, 200, room.raisedHand);
      return;
    }
    if (name !== 'events') throw new HttpError(404, 'not found');
    if (req.method !== 'POST') throw new HttpError(405, 'events are sent by POST', { Allow: 'POST' });
    const refusal = crossSiteRefusal(req);
    if (refusal) {
      logger.warn('room.refused', { reason: refusal, origin: String(req.headers.origin ?? '').slice(0, 100) });
      throw new HttpError(403, refusal);
    }
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      throw new HttpError(415, 'an event is JSON');
    }
    const workshop = { pages: content?.workshop.pages ?? [], checks: new Set(content?.checks.keys() ?? []) };
    const { event, typedInto } = pageReport(await readJson(req), workshop, Date.now());
    if (event.type === 'hand') room.setHand({ raised: event.raised, message: event.message });
    else room.record(event);
    if (event.type === 'block') for (const session of typedInto) room.typed(session, event.page, event.block);
    res.writeHead(204, { 'Cache-Control': 'no-store' });
    res.end();
  }

  return { owns, handle, ready: loaded };
}

function rawPath(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}

function onlyGet(req: http.IncomingMessage): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET' });
}

function decodeSegments(parts: string[]): string[] {
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    throw new HttpError(404, 'not found');
  }
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > MAX_BODY_BYTES) return; // refused already: the rest is read and dropped
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        // Answered, not cut: a destroyed request reaches the browser as the proxy's 502.
        reject(new HttpError(413, 'the request is too large', { Connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text.trim() === '' ? {} : JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'the request is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** What a check's form sent: only its fields, each of its type, the required ones there. */
/** Whether `inputs` are values checkInputs accepts for `fields`. */
function fitsInputs(fields: readonly InputField[], inputs: unknown): boolean {
  try {
    checkInputs(fields, inputs);
    return true;
  } catch {
    return false;
  }
}

/** Refuses, with what is wrong, values that are not those of a form of `fields`. */
function checkInputs(fields: readonly InputField[], inputs: unknown): void {
  if (!inputs || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new HttpError(400, 'inputs must be the fields of the check’s form');
  }
  const values = inputs as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!fields.some((field) => field.name === key)) throw new HttpError(400, `the check's form has no field ${key}`);
  }
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === '') {
      if (field.required) throw new HttpError(400, `${field.title} is required`);
      continue;
    }
    const fits =
      field.type === 'string'
        ? typeof value === 'string'
        : field.type === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'number' && Number.isFinite(value) && (field.type === 'number' || Number.isInteger(value));
    if (!fits)
      throw new HttpError(
        400,
        `${field.title} must be ${field.type === 'integer' ? 'a whole number' : `a ${field.type}`}`,
      );
    if (field.choices && !field.choices.includes(String(value))) {
      throw new HttpError(400, `${field.title} must be one of ${field.choices.join(', ')}`);
    }
  }
}

function frameOrigins(data: DashboardData, opened: readonly string[]): string[] {
  const urls = [data.console ?? '', ...data.tabs.map((tab) => ('url' in tab ? tab.url : '')), ...opened].filter(
    Boolean,
  );
  // A path (an app through the auth proxy's port route) is on our own origin: 'self' frames it.
  return [...new Set(urls.filter((url) => !url.startsWith('/')).map((url) => new URL(url).origin))];
}

function dashboardHtml(data: DashboardData, assets: Map<string, PageFile>): string {
  const version = (file: string) => assetVersion(assets, file);
  // A JSON data block is not script: the CSP (scripts from our bundle folders only) lets it be. "<" is escaped so no tag can end it.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const title = data.workshop ?? 'Terminal';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/dashboard.css?v=${version('dashboard.css')}">
<script src="assets/dashboard.js?v=${version('dashboard.js')}" defer></script>
</head>
<body class="${data.workshop === null ? 'wt-terminals-only' : 'wt-with-workshop'}">
<script type="application/json" id="${DATA_ELEMENT_ID}">${json}</script>
<noscript>The dashboard needs JavaScript.</noscript>
</body>
</html>
`;
}
