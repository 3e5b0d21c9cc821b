// The room service: a JupyterHub service under its prefix (/services/<name>/).
// Attendees' stacks post their events with their hub token; instructors, logged
// in through the hub, see the room live. Built by createRoomServer from a typed
// options object, so tests start it in-process as well as main.ts does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '../../common/src/http-error.js';
import { sendJson } from '../../common/src/http-send.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { assetVersion, loadPageAssets, sendPageAsset } from '../../common/src/page-assets.js';
import { pathUnder } from '../../common/src/prefix.js';
import { ROOM_LIMITS, type RoomRow, type RoomStreamMessage } from '../../common/src/protocol.js';
import { crossSiteRefusal } from '../../common/src/same-origin.js';
import { BadBatch, checkBatch } from './events.js';
import { exportRoom } from './export.js';
import { type HubClient, HubUnavailable, hubClient } from './hub.js';
import { instructors } from './instructors.js';
import { roomPage } from './page.js';
import { rateLimit } from './rate-limit.js';
import { applyEvent, emptyRow, withServer } from './rows.js';
import { openStore } from './store.js';
import { roomStream } from './stream.js';

export interface RoomServerOptions {
  /** The service's prefix, like /services/room ('' or /a/b, no final slash). */
  prefix: string;
  host: string;
  port: number;
  /** The hub's API, like http://127.0.0.1:8081/hub/api. */
  hubApiUrl: string;
  /** The service's token at the hub (its OAuth client secret too). */
  hubApiToken: string;
  /** The service's OAuth client id (service-<name>). */
  clientId: string;
  /** The OAuth callback registered at the hub: a path (or a full URL with subdomain_host). */
  callbackUrl: string;
  /** The hub's public base path, ending in /. */
  hubBaseUrl: string;
  /** The hub's public origin with subdomain_host, else '' (every server on the hub's origin). */
  hubHost: string;
  /** Hub users who may open the room besides the hub's admins. */
  instructorNames: readonly string[];
  /** The SQLite file. */
  database: string;
  stuckMinutes: number;
  /** Secrets sealing the login cookie (the first seals); none: the room's own, kept in its database. */
  secrets: readonly string[];
  /** Where the page bundle (room.js, room.css) is. */
  pageDir: string;
  /** How often the hub's users and servers are read again. */
  hubRefreshMs?: number;
  logger: Logger;
}

export interface RoomServer {
  /** Listens; resolves to the port. */
  listen(): Promise<number>;
  close(): Promise<void>;
  /** Reads the hub's users now (as it does every hubRefreshMs once listening). */
  refreshUsers(): Promise<void>;
  readonly server: http.Server;
}

/** The hub's users and servers are read again this often (a server started or stopped shows within it). */
const HUB_REFRESH_MS = 30_000;

const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function createRoomServer(options: RoomServerOptions): RoomServer {
  const { prefix, logger } = options;
  const store = openStore(options.database);
  const rows = new Map<string, RoomRow>(store.rows().map((row) => [row.user, row]));
  const stream = roomStream();
  const limit = rateLimit();
  const refusals = repeatLimit(logger, { burst: 3, windowMs: 60_000 });
  const assets = loadPageAssets(options.pageDir, 'room');
  const hub: HubClient = hubClient({
    apiUrl: options.hubApiUrl,
    apiToken: options.hubApiToken,
    clientId: options.clientId,
    callbackUrl: options.callbackUrl,
  });
  const hubPages = `${options.hubHost}${options.hubBaseUrl}hub/`;
  const login = instructors({
    prefix,
    clientId: options.clientId,
    callbackUrl: options.callbackUrl,
    hubPages,
    names: options.instructorNames,
    secrets: options.secrets.length > 0 ? options.secrets : [store.cookieSecret()],
    hub,
    logger,
  });
  /** Hub users who are instructors: not rows of the room unless they post events themselves. */
  let instructorsSeen = new Set<string>();
  let refreshing: Promise<void> | null = null;
  logger.info('room.opened', { database: options.database, rows: rows.size, events: store.count() });

  const snapshot = (): RoomStreamMessage => ({
    type: 'snapshot',
    rows: [...rows.values()],
    stuckMinutes: options.stuckMinutes,
    sharedOrigin: !options.hubHost,
    now: Date.now(),
  });

  function setRow(row: RoomRow): void {
    rows.set(row.user, row);
    stream.changed(row.user, row);
  }

  async function refreshUsers(): Promise<void> {
    const listed = await hub.users();
    const seen = new Set<string>();
    const nextInstructors = new Set<string>();
    for (const user of listed) {
      seen.add(user.name);
      const existing = rows.get(user.name);
      if (login.isInstructor(user) && !existing?.lastAt) {
        nextInstructors.add(user.name);
        if (existing) {
          rows.delete(user.name);
          stream.changed(user.name, null);
        }
        continue;
      }
      const row = withServer(existing ?? emptyRow(user.name), user.servers[''], options.hubHost);
      if (row !== existing) setRow(row);
    }
    instructorsSeen = nextInstructors;
    // Users gone from the hub leave the room, unless their events are kept.
    for (const [name, row] of rows) {
      if (!seen.has(name) && row.lastAt === null) {
        rows.delete(name);
        stream.changed(name, null);
      }
    }
  }

  async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
    // A declared length is checked before the hub is asked (postEvents); this counts what comes.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw new BadBatch(413, `at most ${maxBytes} bytes in one batch`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function postEvents(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^(?:token|bearer)\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!match) throw new HttpError(401, 'an Authorization: token <your hub API token> header is needed');
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > ROOM_LIMITS.batchBytes) {
      throw new BadBatch(413, `at most ${ROOM_LIMITS.batchBytes} bytes in one batch`);
    }
    let user: Awaited<ReturnType<HubClient['whoIs']>>;
    try {
      user = await hub.whoIs(match[1] as string);
    } catch (error) {
      if (!(error instanceof HubUnavailable)) throw error;
      logger.warn('hub.unreachable', { during: 'events', reason: error.message });
      throw new HttpError(503, 'the hub is not answering; send the batch again later', { 'Retry-After': '5' });
    }
    if (!user) throw new HttpError(401, 'the hub does not know this token');
    const name = user.name;
    const body = await readBody(req, ROOM_LIMITS.batchBytes);
    const batch = checkBatch(body);
    const wait = limit.take(name, Math.max(1, batch.events.length));
    if (wait > 0) {
      refusals.log('warn', `rate:${name}`, 'events.too_fast', { user: name, events: batch.events.length });
      throw new HttpError(429, 'too many events: send them again later', { 'Retry-After': String(wait) });
    }
    if (batch.refused.length > 0) {
      refusals.log('warn', `bad:${name}`, 'events.refused', {
        user: name,
        refused: batch.refused.length,
        first: batch.refused[0]?.reason,
      });
    }
    if (batch.events.length > 0) {
      let row = rows.get(name) ?? emptyRow(name);
      for (const event of batch.events) row = applyEvent(row, event);
      store.saveBatch(name, Date.now(), batch.events, row);
      if (instructorsSeen.has(name)) instructorsSeen.delete(name);
      setRow(row);
    }
    sendJson(res, 200, { accepted: batch.events.length, refused: batch.refused });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://room.invalid');
    const path = pathUnder(prefix, url.pathname);
    if (path === null) throw new HttpError(404, 'not found');
    if (path === '/api/events') {
      if (req.method !== 'POST') throw new HttpError(405, 'POST events here', { Allow: 'POST' });
      return postEvents(req, res);
    }
    // For the pod's probes: answers without asking the hub anything.
    if (path === '/healthz') return sendJson(res, 200, { ok: true });
    if (await login.route(req, res, path, url.searchParams)) return;

    const page = req.method === 'GET' && (path === '' || path === '/');
    const admission = await login.admit(req, page);
    if (!admission.allowed) {
      if (admission.status === 302) {
        res.writeHead(302, { Location: admission.location, 'Cache-Control': 'no-store' });
        res.end();
        return;
      }
      logger.info('refused', { path, status: admission.status, reason: admission.reason });
      throw new HttpError(admission.status, admission.reason);
    }

    if (page) {
      if (path === '') {
        res.writeHead(302, { Location: `${prefix}/` });
        res.end();
        return;
      }
      const body = roomPage({
        prefix,
        script: `${prefix}/static/room.js?v=${assetVersion(assets, 'room.js')}`,
        style: `${prefix}/static/room.css?v=${assetVersion(assets, 'room.css')}`,
      });
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Content-Security-Policy': PAGE_POLICY,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cross-Origin-Opener-Policy': 'same-origin',
      });
      res.end(body);
      return;
    }
    const asset = /^\/static\/([a-z.]+)$/.exec(path)?.[1];
    if (asset) return sendPageAsset(req, res, assets.get(asset), url.searchParams.get('v'));
    if (req.method === 'GET' && path === '/api/room') return sendJson(res, 200, snapshot());
    if (req.method === 'GET' && path === '/api/stream') return stream.open(req, res, snapshot());
    if (req.method === 'GET' && (path === '/api/export.csv' || path === '/api/export.json')) {
      logger.info('room.exported', { user: admission.user, format: path.slice(-4).replace('.', '') });
      return exportRoom(res, store, [...rows.values()], path.endsWith('.csv') ? 'csv' : 'json');
    }
    if (path === '/api/clear') {
      if (req.method !== 'POST') throw new HttpError(405, 'POST to clear the room', { Allow: 'POST' });
      const crossSite = crossSiteRefusal(req);
      if (crossSite) throw new HttpError(403, `refused: ${crossSite}`);
      const events = store.count();
      store.clear();
      for (const [name, row] of rows)
        rows.set(name, { ...emptyRow(name), server: row.server, serverUrl: row.serverUrl });
      for (const name of [...rows.keys()]) if (instructorsSeen.has(name)) rows.delete(name);
      logger.info('room.cleared', { user: admission.user, events });
      stream.restart(snapshot());
      return sendJson(res, 200, { cleared: events });
    }
    throw new HttpError(404, 'not found');
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError || error instanceof BadBatch ? error.status : 500;
      if (status === 500)
        logger.error('request.failed', { path: req.url?.slice(0, 200), reason: describeError(error) });
      if (error instanceof BadBatch)
        refusals.log('warn', 'batch', 'events.batch_refused', { status, reason: error.message });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers = error instanceof HttpError ? error.headers : {};
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      // A body not read to its end (too big) is not waited for.
      if (status === 413) res.setHeader('Connection', 'close');
      sendJson(res, status, {
        error: status === 500 ? 'the room service failed; see its log' : (error as Error).message,
      });
    });
  });
  server.keepAliveTimeout = 65_000;

  function refreshNow(): Promise<void> {
    refreshing ??= refreshUsers()
      .catch((error: unknown) => logger.warn('hub.unreachable', { during: 'users', reason: describeError(error) }))
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }
  let refresher: NodeJS.Timeout | undefined;

  return {
    server,
    refreshUsers: refreshNow,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          void refreshNow();
          refresher = setInterval(refreshNow, options.hubRefreshMs ?? HUB_REFRESH_MS);
          refresher.unref();
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      clearInterval(refresher);
      stream.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      store.close();
    },
  };
}
