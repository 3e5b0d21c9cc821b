// The auth proxy: the one public port. Every HTTP request and every WebSocket
// upgrade under the prefix passes one check (the auth mode's) before anything
// reaches the terminal server on 127.0.0.1.
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { WebSocketServer } from 'ws';
import type { Config } from '../../common/src/config.js';
import { HttpError, refuseUpgrade } from '../../common/src/http-error.js';
import { send } from '../../common/src/http-send.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { type Access, CloseCode } from '../../common/src/protocol.js';
import {
  BUNDLE_FOLDERS,
  describeAddress,
  FRAME_SOURCES_HEADER,
  PROXY_TIMEOUT_MS,
  requesterHeaders,
  terminalAddress,
  terminalRequest,
} from '../../common/src/terminal-link.js';
import { type ClientInfo, clientInfo, compileTrust } from './client-info.js';
import type { AuthMode, Verdict } from './modes/types.js';
import { BROWSER_BLOCKED_PORTS, urlToOpen } from './open-url.js';
import { messagePage } from './pages.js';
import { hostAllowList, hostName, originAllowed } from './site-checks.js';

export type AuthProxyConfig = Pick<
  Config,
  | 'host'
  | 'port'
  | 'prefix'
  | 'terminalPort'
  | 'terminalSocket'
  | 'defaultRoute'
  | 'trustProxy'
  | 'allowedOrigins'
  | 'allowedHosts'
  | 'publicUrl'
  | 'frameAncestors'
  | 'authRecheckSeconds'
  | 'terminalToken'
>;

export interface AuthProxy {
  listen(): Promise<number>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 2000;

export function createAuthProxy(options: { config: AuthProxyConfig; logger: Logger; mode: AuthMode }): AuthProxy {
  const { config, logger, mode } = options;
  const prefix = config.prefix;
  const address = terminalAddress(config);
  // The terminal server answers only requests that carry the shared token (when there is one).
  const terminal = terminalRequest(address, config.terminalToken);
  const trust = compileTrust(config.trustProxy);
  const socketPrefix = `${prefix}/terminal/socket/`;
  // Without authentication, the Host is what tells our own pages from those of
  // a site whose name was made to resolve to this machine (DNS rebinding).
  const hostAllowed = mode.name === 'none' ? hostAllowList(config) : () => true;
  /**
   * The policy of every answer (the proxy's own, and the pages behind it): scripts
   * only from our bundle folders on the host the browser used (not from all of
   * 'self', where an attendee's files and, on a hub's shared origin, other
   * users' servers are too); frames only 'self' and the origins a page names.
   */
  function contentSecurityPolicy(client: ClientInfo, frameOrigins: readonly string[] = []): string {
    return [
      "default-src 'self'",
      `script-src ${scriptSources(client.host, prefix)}`,
      // xterm.js adds <style> elements for its renderers.
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self' data:",
      "connect-src 'self'",
      `frame-ancestors ${config.frameAncestors}`,
      "base-uri 'self'",
      "form-action 'self'",
      "object-src 'none'",
      ...(frameOrigins.length > 0 ? [`frame-src 'self' ${frameOrigins.join(' ')}`] : []),
    ].join('; ');
  }

  // Refusals repeat as fast as a client can send: a few lines per client a minute, then a count.
  const refusals = repeatLimit(logger, { burst: 5, windowMs: 60_000 });
  const proxy = httpProxy.createProxyServer({
    // http-proxy passes socketPath on to http.request; its types ask for a host and port it then ignores.
    target:
      'socketPath' in address ? ({ socketPath: address.socketPath } as never) : `http://127.0.0.1:${address.port}`,
    xfwd: true,
    proxyTimeout: PROXY_TIMEOUT_MS,
    headers: terminal.headers as Record<string, string>,
  });
  // Without a listener http-proxy throws on backend errors; each call passes its own handler too.
  proxy.on('error', (error) => logger.warn('proxy.error', { reason: describeError(error) }));
  // Every answer from behind gets our policy here, in one place. The terminal server names the
  // origins a page of its frames (the dashboard: its console and tabs): that page may frame exactly
  // those. A policy of the terminal server's own is kept: http-proxy would copy it over ours
  // (setHeader), losing frame-ancestors and our script-src. One that makes the document opaque
  // (sandbox without allow-same-origin: attendees' files, a workshop's slides) decides alone what
  // runs there, since nothing that runs can reach our origin, with our frame-ancestors beside it;
  // any other is sent beside ours, each enforced, so it can only narrow ours.
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const named = proxyRes.headers[FRAME_SOURCES_HEADER];
    delete proxyRes.headers[FRAME_SOURCES_HEADER];
    const ours = contentSecurityPolicy(clientInfo(req, trust), named === undefined ? [] : webOrigins(String(named)));
    const theirs = proxyRes.headers['content-security-policy'];
    delete proxyRes.headers['content-security-policy'];
    if (theirs === undefined) res.setHeader('Content-Security-Policy', ours);
    else if (typeof theirs === 'string' && opaque(theirs))
      res.setHeader('Content-Security-Policy', [theirs, `frame-ancestors ${config.frameAncestors}`]);
    else res.setHeader('Content-Security-Policy', [ours, ...[theirs].flat()]);
  });
  // http-proxy pipes the two sockets of a WebSocket, which ends one only when the
  // other ends cleanly: a destroyed one (revoked login, vanished peer) would
  // leave its partner open, and the page attached in the terminal server.
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    proxyReq.on('upgrade', (_res, proxySocket) => {
      socket.once('close', () => proxySocket.destroy());
      proxySocket.once('close', () => socket.destroy());
    });
  });

  // Every request: the security headers; the checks that apply everywhere (dot
  // segments, Host); then, under the prefix, health and readiness, the mode's own
  // routes (logins), the mode's check, the redirect of the prefix itself, and the
  // terminal server behind. Plain node:http: express is loaded only by the modes
  // whose login routes use it.
  const server = http.createServer((req, res) => {
    const failed = (error: unknown) => fail(req, res, error);
    try {
      if (!ownRequest(req, res)) return;
      const url = req.url ?? '/';
      const next = (error?: unknown) => {
        if (error) return failed(error);
        req.url = url;
        checkAndProxy(req, res).catch(failed);
      };
      if (mode.handle) mode.handle(req, res, next);
      else next();
    } catch (error) {
      failed(error);
    }
  });

  /** What every request goes through first. False once it has been answered here. */
  function ownRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const client = clientInfo(req, trust);
    res.setHeader('Content-Security-Policy', contentSecurityPolicy(client));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'same-origin');
    const url = req.url ?? '/';
    if (hasDotSegments(url)) throw new HttpError(400, 'the path has . or .. segments');
    if (!hostAllowed(client.host)) {
      refusals.log('warn', `${client.address} host`, 'host.refused', {
        host: client.host.slice(0, 100),
        client: client.address,
      });
      sendHtml(
        req,
        res,
        403,
        messagePage({
          title: 'Unknown host name',
          message: `This terminal does not answer to the name ${hostName(client.host) || '(none)'}. If that is its name, add it to ALLOWED_HOSTS.`,
        }),
        { 'Cache-Control': 'no-store' },
      );
      return false;
    }
    const route = routeUnderPrefix(prefix, url);
    if (route === null) throw new HttpError(404, 'Nothing is served here.');
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (route === '/healthz') {
        sendText(req, res, 200, 'ok\n');
        return false;
      }
      if (route === '/readyz') {
        terminalServerReady().then((ready) =>
          sendText(req, res, ready ? 200 : 503, ready ? 'ready\n' : 'the terminal server is not reachable\n'),
        );
        return false;
      }
    }
    return true;
  }

  async function checkAndProxy(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const client = clientInfo(req, trust);
    const verdict = await mode.check(req, client, res);
    if (!verdict.allowed) {
      logRefusal(verdict, client, url);
      answerRefusal(req, res, verdict);
      return;
    }
    Object.assign(
      req.headers,
      requesterHeaders({
        user: verdict.user,
        access: verdict.access,
        owner: mode.owner,
        sharedOrigin: mode.sharedOrigin,
      }),
    );
    // Only the prefix itself (with or without its slash) redirects.
    const path = url.split('?')[0];
    if ((req.method === 'GET' || req.method === 'HEAD') && (path === prefix || path === `${prefix}/`)) {
      redirect(req, res, `${prefix}${config.defaultRoute}`, {});
      return;
    }
    // The terminal server serves under the same prefix: the URL goes on as it came.
    proxy.web(req, res, {}, (error) => {
      refusals.log('warn', `${client.address} backend`, 'proxy.backend_unreachable', {
        reason: describeError(error),
        client: client.address,
        path: url.slice(0, 200),
      });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendHtml(
        req,
        res,
        502,
        messagePage({
          title: 'The terminal is starting',
          message: 'The terminal server is not answering right now. This page tries again in a few seconds.',
          retrySeconds: 3,
        }),
        { 'Cache-Control': 'no-store' },
      );
    });
  }

  function fail(req: http.IncomingMessage, res: http.ServerResponse, error: unknown): void {
    const status = error instanceof HttpError ? error.status : 500;
    if (status >= 500) logger.error('http.failed', { path: req.url?.slice(0, 200), reason: describeError(error) });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const message = error instanceof HttpError ? error.message : 'Something went wrong on our side.';
    sendHtml(req, res, status, messagePage({ title: http.STATUS_CODES[status] ?? 'Error', message }), {});
  }

  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.on('clientError', (error, socket) => {
    // Malformed requests and oversized headers: answer and close; nothing else is affected.
    const status = (error as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    if (socket.writable) refuseUpgrade(socket, status);
    else socket.destroy();
  });

  // Completes the WebSocket handshake only to close it with a code the page
  // understands. Needed only while the terminal server is down: loaded then, at
  // once (http-proxy ends the socket as soon as its error callback returns).
  let closer: WebSocketServer | undefined;
  const tryAgainLater = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    closer ??= new (createRequire(import.meta.url)('ws') as typeof import('ws')).WebSocketServer({ noServer: true });
    closer.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.TryAgainLater, 'terminal server unavailable'));
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(req, socket, head).catch((error) => {
      logger.error('upgrade.failed', { reason: describeError(error) });
      refuseUpgrade(socket, 500);
    });
  });

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const client = clientInfo(req, trust);
    const refuse = (status: number, reason: string, headers: Record<string, string> = {}) => {
      refusals.log('warn', `${client.address} upgrade ${status}`, 'upgrade.refused', {
        status,
        reason,
        client: client.address,
        path: path.slice(0, 200),
      });
      refuseUpgrade(socket, status, headers);
    };
    if (hasDotSegments(url)) return refuse(400, 'the path has . or .. segments');
    if (!hostAllowed(client.host)) return refuse(403, 'unknown host name (see ALLOWED_HOSTS)');
    if (!path.startsWith(socketPrefix)) return refuse(404, 'not a terminal socket');
    if (!originAllowed(req.headers.origin, client, config.allowedOrigins)) return refuse(403, 'cross-origin WebSocket');
    const verdict = await mode.check(req, client);
    if (!verdict.allowed) {
      // A browser cannot follow a redirect on a WebSocket: a login is needed first.
      const status = verdict.status === 302 ? 401 : verdict.status;
      return refuse(status, verdict.reason, 'headers' in verdict ? (verdict.headers ?? {}) : {});
    }
    // The Origin was checked here against the public host; the terminal server
    // behind sees the internal one, so it is not passed on.
    delete req.headers.origin;
    // Who this is replaces whatever the client said it was.
    Object.assign(
      req.headers,
      requesterHeaders({
        user: verdict.user,
        access: verdict.access,
        owner: mode.owner,
        sharedOrigin: mode.sharedOrigin,
      }),
    );
    const admitted = { req, socket, client, access: verdict.access };
    openSockets.add(admitted);
    socket.once('close', () => openSockets.delete(admitted));
    proxy.ws(req, socket, head, {}, (error) => {
      refusals.log('warn', `${client.address} backend`, 'proxy.backend_unreachable', {
        reason: describeError(error),
        client: client.address,
        path: path.slice(0, 200),
      });
      const raw = socket as Duplex & { bytesWritten?: number };
      if (raw.writable && !raw.bytesWritten) tryAgainLater(req, socket, head);
    });
  }

  // A login that ends (logged out, lost its rights) ends the WebSockets it opened too.
  // One whose access changed (an owner who is now only a viewer) is ended too: the page comes back as what it now is.
  const openSockets = new Set<{ req: http.IncomingMessage; socket: Duplex; client: ClientInfo; access: Access }>();
  const recheckTimer = setInterval(
    async () => {
      for (const open of [...openSockets]) {
        const verdict = await mode.check(open.req, open.client).catch(() => null);
        if (!verdict || (!verdict.allowed && verdict.status === 503)) continue;
        if (!verdict.allowed || verdict.access !== open.access) {
          const reason = verdict.allowed ? `now ${verdict.access}` : verdict.reason;
          logger.warn('upgrade.revoked', { reason, client: open.client.address });
          openSockets.delete(open);
          open.socket.destroy();
        }
      }
    },
    Math.max(1000, (config.authRecheckSeconds * 1000) / 2),
  );
  recheckTimer.unref();

  function logRefusal(verdict: Verdict & { allowed: false }, client: ClientInfo, path: string): void {
    const fields = { status: verdict.status, reason: verdict.reason, client: client.address, path: path.slice(0, 200) };
    // A first visit without credentials is normal; wrong credentials and refusals are worth a warning.
    const key = `${client.address} ${verdict.status} ${verdict.reason}`;
    if (verdict.reason === 'no credentials' || verdict.status === 302)
      refusals.log('info', key, 'auth.challenge', fields);
    else refusals.log('warn', key, 'auth.refused', fields);
  }

  function answerRefusal(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    verdict: Verdict & { allowed: false },
  ): void {
    const headers = { 'Cache-Control': 'no-store', ...('headers' in verdict ? (verdict.headers ?? {}) : {}) };
    if (verdict.status === 302) {
      redirect(req, res, verdict.location, headers);
      return;
    }
    const page =
      verdict.status === 401
        ? { title: 'Log in to use this terminal', message: 'This terminal needs a user name and password.' }
        : verdict.status === 429
          ? { title: 'Too many login attempts', message: 'Wait a minute, then try again.' }
          : verdict.status === 503
            ? { title: 'Cannot check your login right now', message: verdict.reason, retrySeconds: 5 }
            : {
                title: 'Not your terminal',
                message: verdict.reason,
                ...(verdict.logout ? { link: { href: verdict.logout, text: 'Log out' } } : {}),
              };
    sendHtml(req, res, verdict.status, messagePage(page), headers);
  }

  function terminalServerReady(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get({ ...terminal, path: `${prefix}/terminal/api/status`, timeout: READY_TIMEOUT_MS }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
    });
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const port = (server.address() as AddressInfo).port;
          const url = urlToOpen({ publicUrl: config.publicUrl, host: config.host, port, prefix });
          logger.info('listening', {
            address: `${config.host}:${port}`,
            prefix: prefix || '/',
            target: describeAddress(address),
            ...(url ? { open: url } : {}),
          });
          if (url && !config.publicUrl && BROWSER_BLOCKED_PORTS.has(port)) {
            logger.warn('port.blocked_by_browsers', {
              port,
              hint: 'browsers refuse to open this port (ERR_UNSAFE_PORT): set PORT to another, like 8080',
            });
          }
          resolve(port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        clearInterval(recheckTimer);
        proxy.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The script sources of our pages: the bundle folders, as host sources without a
 * scheme (so the page's own scheme, whatever a router in front terminates).
 */
export function scriptSources(host: string, prefix: string): string {
  // A name or an IPv4 address, with its port; nothing that could end the directive.
  if (/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host))
    return BUNDLE_FOLDERS.map((folder) => `${host}${prefix}${folder}`).join(' ');
  // A CSP source cannot name an IPv6 address: pages reached by one take scripts from their whole origin.
  if (/^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return "'self'";
  // No browser sends anything else.
  return "'none'";
}

/** Whether a policy (one, not a list) gives its document an origin of its own: sandbox without allow-same-origin. */
export function opaque(policy: string): boolean {
  if (policy.includes(',')) return false;
  const sandbox = policy
    .split(';')
    .map((directive) => directive.trim().toLowerCase().split(/\s+/))
    .filter((words) => words[0] === 'sandbox');
  return sandbox.length > 0 && sandbox.every((words) => !words.includes('allow-same-origin'));
}

/** The http(s) origins among space-separated words; anything else could widen the policy, and is dropped. */
function webOrigins(words: string): string[] {
  return words.split(/\s+/).filter((word) => {
    try {
      const url = new URL(word);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === word;
    } catch {
      return false;
    }
  });
}

/** True when the path has . or .. segments, written plainly or percent-encoded. */
function hasDotSegments(url: string): boolean {
  const path = url.split('?')[0] ?? '';
  return /(^|\/)(\.|%2e){1,2}(\/|%2f|$)/i.test(path);
}

/**
 * The path under the prefix as the routes here compare it: lower case, without
 * its query or a final slash ('' for the prefix itself); null outside the prefix.
 */
export function routeUnderPrefix(prefix: string, url: string): string | null {
  const path = (url.split('?')[0] ?? '').toLowerCase();
  if (!path.startsWith(prefix.toLowerCase())) return null;
  const rest = path.slice(prefix.length);
  if (rest !== '' && !rest.startsWith('/')) return null;
  return rest.replace(/\/$/, '');
}

function sendText(req: http.IncomingMessage, res: http.ServerResponse, status: number, text: string): void {
  send(
    res,
    status,
    text,
    { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    req.method === 'HEAD',
  );
}

function sendHtml(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  html: string,
  headers: http.OutgoingHttpHeaders,
): void {
  send(res, status, html, { 'Content-Type': 'text/html; charset=utf-8', ...headers }, req.method === 'HEAD');
}

function redirect(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  location: string,
  headers: http.OutgoingHttpHeaders,
): void {
  const target = encodeLocation(location);
  send(
    res,
    302,
    `Found. Redirecting to ${target}`,
    { 'Content-Type': 'text/plain; charset=utf-8', ...headers, Location: target },
    req.method === 'HEAD',
  );
}

/** A URL as a Location header may carry it: what is not allowed in a URL percent-encoded, escapes left as they are. */
function encodeLocation(url: string): string {
  return url
    .replace(/(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uD800-\uDBFF]([^\uDC00-\uDFFF]|$)/g, '$1\uFFFD$2')
    .replace(
      /(?:[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E]|%(?:[^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|$))+/g,
      encodeURI,
    );
}
