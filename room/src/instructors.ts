// Who may see the room: people logged in through the hub's OAuth (the cookie
// holds their token, sealed) who are hub admins, named in ROOM_INSTRUCTORS, or
// hold INSTRUCTOR_SCOPE. Everyone else is refused every page and API.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../../common/src/log.js';
import {
  hubLoginCookies,
  LOGIN_STATE_LIFETIME_MS,
  safeNext,
  sameText,
  usedStates,
} from '../../common/src/login-cookies.js';
import { type HubClient, HubUnavailable } from './hub.js';

/** The hub scope (a custom one, JupyterHub 3 and later) that makes its holders instructors; the README names it. */
export const INSTRUCTOR_SCOPE = 'custom:room:instruct';

const SESSION_SECONDS = 12 * 3600;

export type Admission =
  | { allowed: true; user: string }
  | { allowed: false; status: 302; location: string }
  | { allowed: false; status: 401 | 403 | 503; reason: string };

export interface Instructors {
  /** Answers the login routes (handshake, callback, logout); false for any other path. */
  route(req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams): Promise<boolean>;
  /** Whether this request comes from an instructor; `page`: a browser's page (not logged in: sent to log in). */
  admit(req: http.IncomingMessage, page: boolean): Promise<Admission>;
  /** Whether a hub user is an instructor (and so not an attendee of the room). */
  isInstructor(user: { name: string; admin: boolean; scopes?: readonly string[] }): boolean;
}

export function instructors(options: {
  prefix: string;
  clientId: string;
  callbackUrl: string;
  /** Where browsers find the hub's pages: the hub's host and base URL, like https://hub.example.com/hub/. */
  hubPages: string;
  names: readonly string[];
  secrets: readonly string[];
  hub: HubClient;
  logger: Logger;
}): Instructors {
  const { prefix, logger } = options;
  const cookiePath = `${prefix}/`;
  const { sessions, states } = hubLoginCookies({
    name: `${options.clientId}-login`,
    clientId: options.clientId,
    secrets: options.secrets,
    path: cookiePath,
    maxAgeSeconds: SESSION_SECONDS,
  });
  const used = usedStates();
  const callbackPath = new URL(options.callbackUrl, 'http://callback.invalid').pathname;

  const isInstructor = (user: { name: string; admin: boolean; scopes?: readonly string[] }) =>
    user.admin || options.names.includes(user.name) || (user.scopes ?? []).includes(INSTRUCTOR_SCOPE);

  const client = (req: http.IncomingMessage) => ({
    // The hub's proxy says how the browser came; a wrong https here only makes a cookie Secure.
    protocol: String(req.headers['x-forwarded-proto'] ?? '').startsWith('https')
      ? ('https' as const)
      : ('http' as const),
  });

  function plain(res: http.ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${text}\n`);
  }

  return {
    isInstructor,

    async route(req, res, path, query) {
      if (path === '/oauth_handshake') {
        const state = randomBytes(24).toString('base64url');
        states.write(res, { state, next: safeNext(prefix, query.get('next')), created: Date.now() }, client(req));
        const params = new URLSearchParams({
          client_id: options.clientId,
          redirect_uri: options.callbackUrl,
          response_type: 'code',
          state,
        });
        res.writeHead(302, { Location: `${options.hubPages}api/oauth2/authorize?${params}` });
        res.end();
        return true;
      }
      if (`${prefix}${path}` === callbackPath) {
        const saved = states.read(req);
        states.clear(res, client(req));
        const code = query.get('code');
        const state = query.get('state');
        if (
          !saved ||
          !code ||
          !state ||
          !sameText(state, saved.state) ||
          Date.now() - saved.created > LOGIN_STATE_LIFETIME_MS ||
          !used.use(state, saved.created + LOGIN_STATE_LIFETIME_MS)
        ) {
          logger.warn('login.bad_callback');
          plain(res, 400, 'This login link is not valid: it has expired or was already used. Open the room again.');
          return true;
        }
        try {
          const token = await options.hub.exchangeCode(code);
          const user = token ? await options.hub.whoIs(token) : null;
          if (!token || !user) {
            plain(res, 400, 'The hub did not accept this login. Open the room again.');
            return true;
          }
          sessions.write(res, { user: user.name, token }, client(req));
          logger.info('login', { user: user.name, instructor: isInstructor(user) });
          res.writeHead(302, { Location: saved.next });
          res.end();
        } catch (error) {
          if (!(error instanceof HubUnavailable)) throw error;
          logger.warn('hub.unreachable', { during: 'login', reason: error.message });
          plain(res, 503, 'The hub is not answering. Try again in a moment.');
        }
        return true;
      }
      if (path === '/logout') {
        sessions.clear(res, client(req));
        res.writeHead(302, { Location: `${options.hubPages}logout` });
        res.end();
        return true;
      }
      return false;
    },

    async admit(req, page) {
      const session = sessions.read(req);
      if (!session) {
        if (!page) return { allowed: false, status: 401, reason: 'not logged in: open the room page first' };
        return {
          allowed: false,
          status: 302,
          location: `${prefix}/oauth_handshake?next=${encodeURIComponent(req.url ?? `${prefix}/`)}`,
        };
      }
      let user: Awaited<ReturnType<HubClient['whoIs']>>;
      try {
        user = await options.hub.whoIs(session.token);
      } catch (error) {
        if (!(error instanceof HubUnavailable)) throw error;
        return { allowed: false, status: 503, reason: 'the hub is not answering; try again in a moment' };
      }
      if (!user) {
        if (!page) return { allowed: false, status: 401, reason: 'the hub login has ended' };
        return { allowed: false, status: 302, location: `${prefix}/oauth_handshake` };
      }
      if (!isInstructor(user)) {
        return {
          allowed: false,
          status: 403,
          reason: `The room is for its instructors. You are logged in to the hub as ${user.name}.`,
        };
      }
      return { allowed: true, user: user.name };
    },
  };
}
