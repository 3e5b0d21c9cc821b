import type { Stats } from 'node:fs';
import { chmod, lstat, unlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import type { Config } from '../../common/src/config.js';
import { HttpError, refuseUpgrade } from '../../common/src/http-error.js';
import { send, sendJson } from '../../common/src/http-send.js';
import { markInert, markOwnPage } from '../../common/src/inert-content.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { assetVersion, loadPageAssets, type PageFile, sendPageAsset } from '../../common/src/page-assets.js';
import { pathUnder } from '../../common/src/prefix.js';
import { ATTACH_QUERY, CloseCode, Limits, SESSION_NAME } from '../../common/src/protocol.js';
import {
  describeAddress,
  readRequester,
  TERMINAL_KEEP_ALIVE_MS,
  terminalAddress,
  tokenCheck,
} from '../../common/src/terminal-link.js';
import { handleConnection } from './connection.js';
import { Room } from './room.js';
import { SessionManager } from './sessions.js';
import { shellEnvironment } from './shell-environment.js';

export type TerminalServerConfig = Pick<
  Config,
  | 'terminalPort'
  | 'terminalSocket'
  | 'prefix'
  | 'terminalHome'
  | 'terminalCommand'
  | 'historyBytes'
  | 'maxSessions'
  | 'terminalPrestart'
  | 'user'
  | 'terminalToken'
  | 'roomServiceUrl'
  | 'hubApiToken'
>;

/**
 * A part served beside the terminals under a path of its own (the workshop
 * dashboard, files in and out). The entry point hands the server its mounts, so
 * the server imports none of them and reads one layer at a time.
 */
export interface Mount {
  /** True for the requests it answers: everything under its path. */
  owns(req: http.IncomingMessage): boolean;
  /** Answers a request it owns; rejects with an HttpError (or a bug) for the server's one error handler. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Resolves once it is ready (the server's `ready` waits for it). */
  readonly ready?: Promise<void>;
  /** Stops it, once the sessions have ended. */
  close?(): Promise<void>;
}

/** What a mount is made with from the server: its sessions, and the shells' environment (no secrets). */
export interface MountParts {
  sessions: SessionManager;
  shellEnv: Readonly<Record<string, string>>;
  /** What the room is told (null when ROOM_SERVICE_URL is unset: then nothing is). */
  room: Room | null;
}

export type MountFactory = (parts: MountParts) => Mount;

export interface TerminalServer {
  readonly sessions: SessionManager;
  /** Null when ROOM_SERVICE_URL is unset: no events are made, no shell marks read. */
  readonly room: Room | null;
  /** Resolves once every mount is ready (the workshop, when there is one, loaded and rendered). */
  readonly ready: Promise<void>;
  /** Starts listening on 127.0.0.1; resolves with the port. */
  listen(): Promise<number>;
  /** Ends every session and stops listening. */
  close(): Promise<void>;
}

function pageHtml(name: string, assets: Map<string, PageFile>): string {
  const version = (file: string) => assetVersion(assets, file);
  // Relative asset URLs work under any prefix. No inline script: a strict CSP applies.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Terminal ${name}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="../assets/terminal.css?v=${version('terminal.css')}">
<script src="../assets/terminal.js?v=${version('terminal.js')}" defer></script>
</head>
<body>
<main>
<div id="terminal" aria-label="Terminal ${name}"></div>
<div id="status" role="status" aria-live="polite" hidden></div>
</main>
</body>
</html>
`;
}

export function createTerminalServer(options: {
  config: TerminalServerConfig;
  logger: Logger;
  assetsDir: string;
  /** Environment of the server; the sessions get it less secrets. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The parts served beside the terminals, in the order they are asked whether they own a request. */
  mounts?: readonly MountFactory[];
}): TerminalServer {
  const { config, logger } = options;
  const prefix = config.prefix;
  const assets = loadPageAssets(options.assetsDir, 'terminal');
  const shellEnv = shellEnvironment(config as Config, options.env);
  const room = config.roomServiceUrl
    ? new Room({ url: config.roomServiceUrl, token: config.hubApiToken, logger: logger.child('room') })
    : null;
  const sessions = new SessionManager({
    command: config.terminalCommand,
    cwd: config.terminalHome,
    env: shellEnv,
    historyBytes: config.historyBytes,
    maxSessions: config.maxSessions,
    logger: logger.child('sessions'),
    ...(room ? { observer: room } : {}),
  });

  const mounts = (options.mounts ?? []).map((mount) => mount({ sessions, shellEnv, room }));
  const base = `${prefix}/terminal`;

  function route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    if (pathname === base || pathname === `${base}/`) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
      res.writeHead(302, { Location: `${base}/session/1`, 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    const rest = pathUnder(base, pathname)?.slice(1);
    if (rest === undefined) throw new HttpError(404, 'not found');
    const [section, ...parts] = rest.split('/');
    if (section === 'session' && parts.length === 1) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
      const name = decodeName(parts[0] as string);
      markOwnPage(res);
      send(res, 200, pageHtml(name, assets), {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
      });
      return;
    }
    if (section === 'assets' && parts.length === 1) {
      sendPageAsset(req, res, assets.get(parts[0] as string), url.searchParams.get('v')).catch((error) =>
        fail(req, res, error),
      );
      return;
    }
    if (section === 'api') {
      serveApi(req, res, parts);
      return;
    }
    throw new HttpError(404, 'not found');
  }

  function serveApi(req: http.IncomingMessage, res: http.ServerResponse, parts: string[]) {
    if (parts[0] === 'sessions' && parts.length === 1) {
      if (req.method !== 'GET') throw new HttpError(405, 'method not allowed');
      sendJson(res, 200, { sessions: sessions.list() });
      return;
    }
    if (parts[0] === 'sessions' && parts.length === 2) {
      const name = decodeName(parts[1] as string);
      const session = sessions.get(name);
      if (!session) throw new HttpError(404, `no session named ${name}`);
      if (req.method === 'GET') {
        sendJson(res, 200, session.info());
        return;
      }
      if (req.method === 'DELETE') {
        session.terminate();
        sendJson(res, 202, { terminating: name });
        return;
      }
      throw new HttpError(405, 'method not allowed');
    }
    if (parts[0] === 'status' && parts.length === 1) {
      const last = sessions.lastActivity();
      sendJson(res, 200, { sessions: sessions.size, lastActivity: last ? new Date(last).toISOString() : null });
      return;
    }
    throw new HttpError(404, 'not found');
  }

  /**
   * A viewer (let in to watch someone else's terminal) reads pages; anything
   * that changes something (ending a session, running a check, a file) is the
   * owner's. Their terminals are read-only on the socket (connection.ts).
   */
  function viewOnlyCheck(req: http.IncomingMessage): void {
    if (readRequester(req).access === 'owner') return;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || pathUnder(`${prefix}/files`, path) !== null) {
      throw new HttpError(403, 'you are viewing this terminal: only its owner can do that');
    }
  }

  // Other local users can reach 127.0.0.1 too: with a token set, only the auth
  // proxy (which adds it to every request) gets anything from this port.
  const fromProxy = tokenCheck(config.terminalToken);

  const fail = (req: http.IncomingMessage, res: http.ServerResponse, error: unknown) => {
    if (error instanceof HttpError) {
      sendError(req, res, error.status, error.message, error.headers);
      return;
    }
    logger.error('http.failed', { path: req.url?.slice(0, 200), reason: describeError(error) });
    sendError(req, res, 500, 'internal error');
  };
  const server = http.createServer((req, res) => {
    // Inert unless it is one of our own pages: whatever else is answered here may be an attendee's bytes.
    markInert(res);
    try {
      if (!fromProxy(req)) throw new HttpError(403, 'this port serves the auth proxy only');
      viewOnlyCheck(req);
      const mount = mounts.find((candidate) => candidate.owns(req));
      if (mount) {
        mount.handle(req, res).catch((error) => fail(req, res, error));
        return;
      }
      route(req, res);
    } catch (error) {
      fail(req, res, error);
    }
  });
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = TERMINAL_KEEP_ALIVE_MS;

  const wss = new WebSocketServer({ noServer: true, maxPayload: Limits.maxFrameBytes, perMessageDeflate: false });
  const pageLogger = logger.child('page');
  // Whatever a page sends, it adds a few lines to the log and a count, not a line per frame.
  const pageRepeats = repeatLimit(pageLogger, { burst: 5, windowMs: 60_000 });
  const socketPrefix = `${base}/socket/`;

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    const fail = (status: number, message: string) => {
      logger.warn('socket.refused', { path: pathname.slice(0, 200), status, reason: message });
      refuseUpgrade(socket, status);
    };
    if (!fromProxy(req)) return fail(403, 'this port serves the auth proxy only');
    if (!pathname.startsWith(socketPrefix)) return fail(404, 'not a terminal socket');
    let name: string;
    try {
      name = decodeName(pathname.slice(socketPrefix.length));
    } catch (error) {
      return fail(400, (error as Error).message);
    }
    if (!sameOrigin(req)) return fail(403, 'cross-origin WebSocket refused');
    wss.handleUpgrade(req, socket, head, (ws) => {
      handleConnection({
        socket: ws,
        sessionName: name,
        sessions,
        logger: pageLogger,
        repeats: pageRepeats,
        attachQuery: url.searchParams.get(ATTACH_QUERY) ?? undefined,
        requester: readRequester(req),
      });
    });
  });

  return {
    sessions,
    room,
    ready: Promise.all(mounts.map((mount) => mount.ready)).then(() => undefined),
    async listen() {
      const address = terminalAddress(config);
      if ('socketPath' in address) await removeStaleSocket(address.socketPath);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if ('socketPath' in address) server.listen(address.socketPath, done);
        else server.listen(address.port, address.host, done);
      });
      // Only this user may connect; the folder the supervisor makes is private too.
      if ('socketPath' in address) await chmod(address.socketPath, 0o600);
      const bound = server.address();
      const port = typeof bound === 'object' && bound ? bound.port : 0;
      const shown = 'socketPath' in address ? address : { ...address, port };
      logger.info('listening', { address: describeAddress(shown), prefix: prefix || '/' });
      // The first page then finds its shell started and its prompt in the history.
      for (const name of config.terminalPrestart) {
        try {
          sessions.open(name, { cols: 80, rows: 24 });
        } catch (error) {
          logger.warn('session.prestart_failed', { session: name, reason: describeError(error) });
        }
      }
      return port;
    },
    async close() {
      for (const client of wss.clients) client.close(CloseCode.ServerStopping, 'server stopping');
      await sessions.stopAll();
      for (const mount of mounts) await mount.close?.();
      await room?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A socket file left by a server that is gone would make listen fail; anything else there is not ours to remove. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await lstat(socketPath);
  } catch {
    return;
  }
  if (!stats.isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
  if (inUse) throw new Error(`another server listens on ${socketPath}`);
  await unlink(socketPath);
}

/** Validates a session name from a URL segment; throws HttpError 400 when it is not one. */
function decodeName(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'session names are letters, digits, _ and -, 1 to 64 of them');
  }
  if (!SESSION_NAME.test(name)) throw new HttpError(400, 'session names are letters, digits, _ and -, 1 to 64 of them');
  return name;
}

/** A WebSocket from a page must come from a page of this same host (when the browser says where from). */
function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function sendError(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (String(req.headers.accept ?? '').includes('application/json') || req.url?.includes('/terminal/api/')) {
    sendJson(res, status, { error: message });
    return;
  }
  send(res, status, `${message}\n`, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
}
