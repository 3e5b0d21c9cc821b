// The attendee's own web apps (`python -m http.server 8080`), as jupyter-server-proxy
// serves them: `<prefix>/port/<n>/…` goes to 127.0.0.1:<n> with the path under it
// (`<prefix>/port/absolute/<n>/…` with the whole path), and with APP_DOMAIN every
// path of `<n>.<APP_DOMAIN>`. Only after admission (the same as the terminal's), and
// only to ports APP_PORTS allows that are not the stack's own.
//
// An app is content an attendee wrote: it must never run script with the terminal's
// credentials, nor a watcher's. On the terminal's origin its answers are sandboxed
// (an origin of their own: no cookies, no terminal socket) and may set no cookie
// there; on an app host it is its own origin. Either way the app gets none of our
// credentials: not the Basic login, not our cookies, not the terminal server's token.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { PortRanges } from '../../common/src/config.js';
import { refuseUpgrade } from '../../common/src/http-error.js';
import { describeError, type Logger, type RepeatLimit } from '../../common/src/log.js';
import type { Access } from '../../common/src/protocol.js';
import { DEFAULT_TERMINAL_PORT } from '../../common/src/terminal-link.js';
import { redirect, sendHtml } from './answers.js';
import type { ClientInfo } from './client-info.js';
import { appPolicy, type PolicyOptions } from './content-policy.js';
import { hostName } from './site-checks.js';

/** Where an admitted request for an app goes. */
export interface AppTarget {
  port: number;
  /** What the app is sent: the path (and query) under the mount, or the whole one. */
  url: string;
  /** Where the app is for the browser: `<prefix>/port/<n>`, '' on an app host. */
  mount: string;
  /** On the terminal's origin (the path forms): sandboxed, and no cookies either way. */
  sandboxed: boolean;
  /** The app is sent the path under the mount (told in X-Forwarded-Prefix), not the whole one. */
  stripped: boolean;
  /** `<prefix>/port/<n>` without its slash: redirected to the slash form first. */
  slashless: boolean;
}

/** The route under the prefix that holds the apps. */
export const APP_ROUTE = '/port';

/** Why a request for an app is refused before it is proxied (the port allow-list, a viewer). */
export interface AppRefusal {
  status: number;
  title: string;
  message: string;
}

export interface AppRoutes {
  /** The port an app host serves (`8080.apps.example.com` → 8080); null when `host` is not one. */
  hostPort(host: string): number | null;
  /**
   * The app a request is for: any path on an app host (`route` is then the whole
   * path), else a route under /port/ of the prefix; null when not an app's. A
   * /port route that names no port is an app's too, with port 0 (refused).
   */
  target(client: ClientInfo, route: string, url: string): AppTarget | null;
}

/** Chooses the app routes; usable before anything listens (admission uses them). */
export function appRoutes(options: { prefix: string; appDomain: string }): AppRoutes {
  const domain = options.appDomain;
  const hostPort = (host: string): number | null => {
    if (!domain) return null;
    const name = hostName(host);
    if (!name.endsWith(`.${domain}`)) return null;
    return portNumber(name.slice(0, -domain.length - 1));
  };
  return {
    hostPort,
    target(client, route, url) {
      const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      const onHost = hostPort(client.host);
      if (onHost !== null) return { port: onHost, url, mount: '', sandboxed: false, stripped: false, slashless: false };
      if (route !== APP_ROUTE && !route.startsWith(`${APP_ROUTE}/`)) return null;
      const match = /^\/port\/(absolute\/)?([^/]*)(\/.*)?$/.exec(route);
      const port = portNumber(match?.[2] ?? '') ?? 0;
      const absolute = Boolean(match?.[1]);
      const mount = `${options.prefix}${APP_ROUTE}/${absolute ? 'absolute/' : ''}${port}`;
      const rest = match?.[3];
      return {
        port,
        url: absolute ? url : `${rest ?? '/'}${query}`,
        mount,
        sandboxed: true,
        stripped: !absolute,
        slashless: rest === undefined,
      };
    },
  };
}

/** A port as a URL names it: digits without a leading zero, 1 to 65535. */
function portNumber(text: string): number | null {
  if (!/^[1-9]\d{0,4}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

/**
 * The ports the stack itself listens on, or talks to on this machine: never an
 * app's, whatever APP_PORTS says (the terminal server's port is the private link,
 * and a hub on loopback is not the attendee's either).
 */
export function stackPorts(config: {
  port: number;
  terminalPort: number | null;
  terminalSocket: string;
  hubApiUrl: string;
  hubActivityUrl: string;
}): number[] {
  const ports = [config.port];
  if (!config.terminalSocket) ports.push(config.terminalPort ?? DEFAULT_TERMINAL_PORT);
  for (const url of [config.hubApiUrl, config.hubActivityUrl]) {
    if (!url) continue;
    const parsed = new URL(url);
    if (['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname) || parsed.hostname.startsWith('127.')) {
      ports.push(Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80));
    }
  }
  return ports.filter((port) => port > 0);
}

export interface AppProxy {
  web(req: http.IncomingMessage, res: http.ServerResponse, client: ClientInfo, app: AppTarget, access: Access): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, client: ClientInfo, app: AppTarget, access: Access): void;
  close(): void;
}

export function createAppProxy(options: {
  ranges: PortRanges;
  /** The stack's own ports; the proxy's own is added once it listens (it may be chosen then). */
  ownPorts: () => readonly number[];
  /** The auth mode's credentials travel in Authorization (basic): never passed on. */
  authorizationIsOurs: boolean;
  policy: PolicyOptions;
  logger: Logger;
  refusals: RepeatLimit;
}): AppProxy {
  const { logger, refusals } = options;
  const targets = new WeakMap<http.IncomingMessage, AppTarget>();
  // No target of its own: each request names its port. No X-Forwarded-* of its own
  // either: ours replace the client's (forwardedHeaders), which it would append to.
  const proxy = httpProxy.createProxyServer({ xfwd: false, ws: true });
  proxy.on('error', (error) => logger.warn('app.proxy_error', { reason: describeError(error) }));
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const app = targets.get(req);
    if (app) answerHeaders(proxyRes, res, app, options.policy);
  });
  proxy.on('proxyReqWs', (proxyReq, req, socket) => {
    // Added before http-proxy's own listener, so the 101 it writes is already cleaned.
    proxyReq.on('upgrade', (proxyRes, proxySocket) => {
      const app = targets.get(req);
      if (app) cleanCookies(proxyRes.headers, app);
      socket.once('close', () => proxySocket.destroy());
      proxySocket.once('close', () => socket.destroy());
    });
  });

  function refusal(req: http.IncomingMessage, app: AppTarget, access: Access, upgrade: boolean): AppRefusal | null {
    if (app.port === 0) return { status: 404, title: 'Not Found', message: 'Apps are at port/<number>/.' };
    if (!allowed(app.port)) {
      return {
        status: 403,
        title: `Port ${app.port} is not open to the browser`,
        message: `This terminal serves the apps of the ports its workshop allows (APP_PORTS), and never its own; ${app.port} is not one of them.`,
      };
    }
    const reading = !upgrade && (req.method === 'GET' || req.method === 'HEAD');
    if (access !== 'owner' && !reading) {
      return {
        status: 403,
        title: 'You are watching this terminal',
        message: "Watchers may look at the terminal's apps, not change anything in them.",
      };
    }
    return null;
  }

  function allowed(port: number): boolean {
    if (options.ownPorts().includes(port)) return false;
    return options.ranges.some(([low, high]) => port >= low && port <= high);
  }

  const log = (event: string, client: ClientInfo, app: AppTarget, fields: Record<string, unknown>) =>
    refusals.log('warn', `${client.address} ${event} ${app.port}`, event, {
      client: client.address,
      port: app.port,
      ...fields,
    });

  return {
    web(req, res, client, app, access) {
      const refused = refusal(req, app, access, false);
      if (refused) {
        log('app.refused', client, app, { status: refused.status, reason: refused.title });
        sendHtml(req, res, refused.status, refused, { 'Cache-Control': 'no-store' });
        return;
      }
      if (app.slashless) {
        // Built from the prefix and the port's digits only: never another site.
        const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
        redirect(req, res, `${app.mount}/${query}`, { 'Cache-Control': 'no-store' });
        return;
      }
      forwardedHeaders(req, client, app, options.authorizationIsOurs);
      req.url = app.url;
      targets.set(req, app);
      proxy.web(req, res, { target: `http://127.0.0.1:${app.port}` }, (error) => {
        log('app.unreachable', client, app, { reason: describeError(error) });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        // Our own page, under our own policy (set before the app could answer).
        sendHtml(
          req,
          res,
          502,
          {
            title: `Nothing is answering on port ${app.port}`,
            message: `Start the app on port ${app.port} (listening on 127.0.0.1 or 0.0.0.0). This page tries again every few seconds.`,
            retrySeconds: 3,
          },
          { 'Cache-Control': 'no-store' },
        );
      });
    },
    ws(req, socket, head, client, app, access) {
      const refused =
        refusal(req, app, access, true) ?? (app.slashless ? { status: 404, title: '', message: '' } : null);
      if (refused) {
        log('app.refused', client, app, { status: refused.status, reason: refused.title, upgrade: true });
        refuseUpgrade(socket, refused.status);
        return;
      }
      forwardedHeaders(req, client, app, options.authorizationIsOurs);
      req.url = app.url;
      targets.set(req, app);
      proxy.ws(req, socket, head, { target: `http://127.0.0.1:${app.port}` }, (error) => {
        log('app.unreachable', client, app, { reason: describeError(error), upgrade: true });
        const raw = socket as Duplex & { bytesWritten?: number };
        if (raw.writable && !raw.bytesWritten) refuseUpgrade(socket, 502);
        else socket.destroy();
      });
    },
    close() {
      proxy.close();
    },
  };
}

/** Names of the cookies this terminal sets (login-session.ts cookieNameFor; basic mode's too). */
const OUR_COOKIE = /^workshop-terminal-/;

/**
 * The request as the app gets it: none of our credentials, and who asked and how
 * from us, not from the client. Origin and Host stay as the browser sent them
 * (an app may compare them, as Jupyter does).
 */
function forwardedHeaders(
  req: http.IncomingMessage,
  client: ClientInfo,
  app: AppTarget,
  authorizationIsOurs: boolean,
): void {
  const headers = req.headers;
  if (authorizationIsOurs) delete headers.authorization;
  delete headers['proxy-authorization'];
  if (app.sandboxed) {
    // The app can set no cookie on the terminal's origin: every cookie sent there is
    // ours, or (on a hub's shared origin) the hub's and other servers'.
    delete headers.cookie;
  } else if (headers.cookie) {
    const kept = headers.cookie
      .split(';')
      .filter((pair) => !OUR_COOKIE.test(pair.trim()))
      .join(';')
      .trim();
    if (kept) headers.cookie = kept;
    else delete headers.cookie;
  }
  // The terminal server's token and the requester headers admission set: the terminal server's alone.
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-terminal-') || name.startsWith('x-forwarded-') || name === 'forwarded') delete headers[name];
  }
  const [, port] = /:(\d+)$/.exec(client.host) ?? [];
  Object.assign(headers, {
    'x-forwarded-for': client.address,
    'x-forwarded-proto': client.protocol,
    'x-forwarded-host': client.host,
    'x-forwarded-port': port ?? (client.protocol === 'https' ? '443' : '80'),
    ...(app.stripped ? { 'x-forwarded-prefix': app.mount } : {}),
  });
}

/** The app's answer as the browser gets it: on the terminal's origin sandboxed, and setting no cookie. */
function answerHeaders(
  proxyRes: http.IncomingMessage,
  res: http.ServerResponse,
  app: AppTarget,
  policy: PolicyOptions,
): void {
  cleanCookies(proxyRes.headers, app);
  const theirs = proxyRes.headers['content-security-policy'];
  delete proxyRes.headers['content-security-policy'];
  if (app.sandboxed) {
    // Clear-Site-Data would wipe the terminal's own cookies and storage.
    delete proxyRes.headers['clear-site-data'];
    // Theirs beside ours: each is enforced, so it can only narrow ours (a sandbox's flags add up).
    res.setHeader('Content-Security-Policy', [appPolicy(policy), ...(theirs === undefined ? [] : [theirs].flat())]);
  } else {
    // On its own origin the app is its own: none of our pages' headers (set for every answer first).
    res.removeHeader('Content-Security-Policy');
    res.removeHeader('Referrer-Policy');
    res.removeHeader('X-Content-Type-Options');
    if (theirs !== undefined) res.setHeader('Content-Security-Policy', theirs);
  }
}

/**
 * No cookie from an app on the terminal's origin; on an app host, only for that
 * host (a Domain would reach sibling hosts, the terminal's among them).
 */
function cleanCookies(headers: http.IncomingHttpHeaders, app: AppTarget): void {
  const cookies = headers['set-cookie'];
  if (!cookies) return;
  if (app.sandboxed) {
    delete headers['set-cookie'];
    return;
  }
  headers['set-cookie'] = cookies.map((line) => line.replace(/;\s*domain=[^;]*/gi, ''));
}
