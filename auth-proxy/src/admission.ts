// Admission: the one sequence of checks every HTTP request and every WebSocket
// upgrade goes through before anything reaches the terminal server. Written once
// for both, so that a check added for one cannot be missing from the other (the
// original image checked HTTP and let upgrades through). In this order:
//
//   1. no . or .. segments in the path, plain or percent-encoded (400);
//   2. a Host this terminal answers to (403; without authentication only: DNS rebinding);
//   3. under the prefix (404), or on an app host (app-ports.ts); an upgrade, to a
//      terminal socket or an app (404);
//   4. an upgrade, from a page of this terminal or one listed (403: cross-site WebSocket
//      hijacking); to an app also from its own sandboxed pages (Origin: null), never to
//      the terminal (its changing requests are checked by the terminal server: same-origin.ts);
//   5. HTTP only, not an app: the routes open to all (health, readiness) and the mode's own (logins) answer here;
//   6. the auth mode's verdict;
//   7. the terminal only: who this is, in the requester headers, replacing whatever the client sent.
//
// Each refusal is logged here, once, with its reason; the caller only answers it,
// as a page (HTTP) or a status line (upgrade).
import type http from 'node:http';
import type { RepeatLimit } from '../../common/src/log.js';
import { pathUnder } from '../../common/src/prefix.js';
import type { Access } from '../../common/src/protocol.js';
import { requesterHeaders } from '../../common/src/terminal-link.js';
import type { AppRoutes, AppTarget } from './app-ports.js';
import type { ClientInfo } from './client-info.js';
import type { AuthMode, RequestHandler } from './modes/types.js';
import type { Page } from './pages.js';
import { hostName, originAllowed } from './site-checks.js';

/** Why a request is not let in, with what its answer needs. */
export interface Refusal {
  status: number;
  /** For the log, and the page when there is no other. */
  reason: string;
  headers: Record<string, string>;
  /** Where a 302 sends the browser (to log in). */
  location?: string;
  /** The page an HTTP request is answered with, when not the one for its status. */
  page?: Page;
  /** A logout link for the page (the user is logged in, as someone else). */
  logout?: string;
}

export type Decision =
  /**
   * Let in: `route` is the path under the prefix ('' or '/' for the prefix itself);
   * `app` the attendee's app it is for, null for the terminal's own routes.
   */
  | { outcome: 'admitted'; route: string; access: Access; app: AppTarget | null }
  | { outcome: 'refused'; refusal: Refusal }
  /** An open route or the mode's own answered it (HTTP only). */
  | { outcome: 'answered' };

export type Entry =
  | { kind: 'http'; res: http.ServerResponse }
  /** An upgrade: it has no response to set a cookie on, and goes only to terminal sockets and apps. */
  | { kind: 'upgrade' };

export interface AdmissionOptions {
  prefix: string;
  allowedOrigins: readonly string[];
  mode: AuthMode;
  /** Whether the Host a browser used is one this terminal answers to. */
  hostAllowed: (host: string) => boolean;
  /** Which requests are for an attendee's app. */
  apps: AppRoutes;
  /** The routes that need no login (health, readiness): true when one answered. */
  openRoute: (req: http.IncomingMessage, res: http.ServerResponse, route: string) => boolean;
  refusals: RepeatLimit;
}

export type Admit = (req: http.IncomingMessage, client: ClientInfo, entry: Entry) => Promise<Decision>;

/** Where the terminal's WebSockets are, under the prefix. */
export const SOCKET_ROUTE = '/terminal/socket/';

export function createAdmission(options: AdmissionOptions): Admit {
  const { prefix, mode, refusals } = options;

  return async function admit(req, client, entry) {
    const upgrade = entry.kind === 'upgrade';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '';
    const refuse = (step: string, refusal: Refusal): Decision => {
      logRefusal(step, refusal);
      return { outcome: 'refused', refusal };
    };
    const logRefusal = (step: string, refusal: Refusal) => {
      const fields = {
        status: refusal.status,
        reason: refusal.reason,
        client: client.address,
        path: path.slice(0, 200),
        ...(upgrade ? { upgrade: true } : {}),
      };
      const key = `${client.address} ${step} ${refusal.status} ${refusal.reason}`;
      // A first visit without credentials is normal, and so is a path that is not ours; the rest is worth a warning.
      if (step === 'auth' && (refusal.reason === 'no credentials' || refusal.status === 302))
        refusals.log('info', key, 'auth.challenge', fields);
      else refusals.log(step === 'path' ? 'info' : 'warn', key, `${step}.refused`, fields);
    };
    const plain = (status: number, message: string): Refusal => ({ status, reason: message, headers: {} });

    if (hasDotSegments(path)) return refuse('path', plain(400, 'the path has . or .. segments'));
    if (!options.hostAllowed(client.host)) {
      return refuse('host', {
        ...plain(403, 'unknown host name (see ALLOWED_HOSTS)'),
        page: {
          title: 'Unknown host name',
          message: `This terminal does not answer to the name ${hostName(client.host) || '(none)'}. If that is its name, add it to ALLOWED_HOSTS.`,
        },
      });
    }
    // On an app host every path is the app's: nothing of the terminal is there.
    const route = options.apps.hostPort(client.host) !== null ? path : pathUnder(prefix, path);
    if (route === null) return refuse('path', plain(404, 'Nothing is served here.'));
    const app = options.apps.target(client, route, url);
    if (upgrade && !app && !route.startsWith(SOCKET_ROUTE)) return refuse('path', plain(404, 'not a terminal socket'));
    if (upgrade) {
      const origin = req.headers.origin;
      // A sandboxed app page's own sockets say Origin: null; the terminal never takes one.
      if (!originAllowed(origin, client, options.allowedOrigins) && !(app && origin === 'null'))
        return refuse('origin', plain(403, 'cross-origin WebSocket'));
    }
    if (!upgrade && !app) {
      if (options.openRoute(req, entry.res, route)) return { outcome: 'answered' };
      if (mode.handle && (await modeRoute(mode.handle, req, entry.res))) return { outcome: 'answered' };
    }

    const verdict = await mode.check(req, client, upgrade ? undefined : entry.res);
    if (!verdict.allowed) {
      return refuse('auth', {
        status: verdict.status,
        reason: verdict.reason,
        headers: 'headers' in verdict ? (verdict.headers ?? {}) : {},
        ...('location' in verdict ? { location: verdict.location } : {}),
        ...('logout' in verdict && verdict.logout ? { logout: verdict.logout } : {}),
      });
    }
    // An app gets the request without our headers (app-ports.ts).
    if (app) return { outcome: 'admitted', route, access: verdict.access, app };
    // An upgrade's Origin was checked here against the public host; the terminal
    // server behind sees the internal one, so it is not passed on.
    if (upgrade) delete req.headers.origin;
    Object.assign(
      req.headers,
      requesterHeaders({
        user: verdict.user,
        access: verdict.access,
        owner: mode.owner,
        sharedOrigin: mode.sharedOrigin,
      }),
    );
    return { outcome: 'admitted', route, access: verdict.access, app: null };
  };
}

/**
 * Runs the mode's own routes: true when one of them took the request (answered,
 * or will), false when none did. Its routes may rewrite req.url on the way
 * (express does): the proxy goes on with the URL as it came.
 */
function modeRoute(handle: RequestHandler, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
  const url = req.url;
  return new Promise((resolve, reject) => {
    handle(req, res, (error?: unknown) => {
      req.url = url;
      if (error) reject(error);
      else resolve(false);
    });
    // A route that answers never calls next: its answer ending (or the client leaving) settles this.
    res.once('close', () => resolve(true));
  });
}

/** True when the path has . or .. segments, written plainly or percent-encoded. */
export function hasDotSegments(path: string): boolean {
  return /(^|\/)(\.|%2e){1,2}(\/|%2f|$)/i.test(path);
}
