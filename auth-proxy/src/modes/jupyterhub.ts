// JupyterHub: the hub spawned this server for one user (JUPYTERHUB_USER). People
// log in through the hub's OAuth provider; only the owner gets in, and the hub's
// admins only when allowed. The hub token is re-validated now and then, so
// logging out of the hub logs out of the terminal too.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../../../common/src/log.js';
import { describeError } from '../../../common/src/log.js';
import { pathUnder } from '../../../common/src/prefix.js';
import type { Access } from '../../../common/src/protocol.js';
import { type ClientInfo, clientInfo, type TrustFunction } from '../client-info.js';
import {
  hubLoginCookies,
  hubTokenRequest,
  LOGIN_STATE_LIFETIME_MS,
  safeNext,
  sameText,
  tokenAnswers,
  usedStates,
} from '../login-session.js';
import { sendPage } from '../pages.js';
import { modeRoutes } from './routes.js';
import type { AuthMode, Verdict } from './types.js';

export interface JupyterHubOptions {
  prefix: string;
  owner: string;
  clientId: string;
  apiToken: string;
  /** e.g. http://127.0.0.1:8081/hub/api */
  apiUrl: string;
  /** The hub's public base path, ending in / */
  baseUrl: string;
  /**
   * The hub's public origin when each user's server has a host of its own
   * (subdomain_host); '' when every server shares the hub's origin.
   */
  hubHost: string;
  /** The redirect URI registered at the hub (a path; a full URL with subdomain_host): sent exactly like this. */
  callbackUrl: string;
  allowAdmins: boolean;
  /** Hub users let in to watch (the hub must let them log in to this server too). */
  viewers: readonly string[];
  recheckMs: number;
  secrets: readonly string[];
  trust: TrustFunction;
  logger: Logger;
}

interface HubUser {
  name: string;
  admin: boolean;
}

const HUB_TIMEOUT_MS = 10_000;
const SESSION_SECONDS = 24 * 3600;

class HubUnavailable extends Error {}

export function jupyterHubMode(options: JupyterHubOptions): AuthMode {
  const { prefix, logger } = options;
  const cookiePath = prefix || '/';
  // The cookie is named after the client id, as the hub's own single-user servers do.
  const { sessions, states } = hubLoginCookies({
    name: options.clientId,
    clientId: options.clientId,
    secrets: options.secrets,
    path: cookiePath,
    maxAgeSeconds: SESSION_SECONDS,
  });
  const used = usedStates();
  /** Last answer of the hub about each login's token: who. */
  const checked = tokenAnswers<HubUser>(SESSION_SECONDS * 1000);

  async function hubUser(token: string): Promise<HubUser | null> {
    let res: Response;
    try {
      res = await fetch(`${options.apiUrl}/user`, {
        headers: { Authorization: `token ${token}` },
        signal: AbortSignal.timeout(HUB_TIMEOUT_MS),
      });
    } catch (error) {
      throw new HubUnavailable(describeError(error));
    }
    if (res.status === 401 || res.status === 403) return null;
    if (!res.ok) throw new HubUnavailable(`hub answered ${res.status}`);
    const body = (await res.json()) as { name?: unknown; admin?: unknown };
    if (typeof body.name !== 'string') throw new HubUnavailable('hub answered without a user name');
    return { name: body.name, admin: body.admin === true };
  }

  /** The user behind a token, asking the hub again when the last answer is older than the re-check interval. */
  async function validate(token: string): Promise<HubUser | null> {
    const known = checked.get(token);
    if (known && Date.now() - known.at < options.recheckMs) return known.value;
    try {
      const user = await hubUser(token);
      if (user) checked.set(token, user);
      else checked.delete(token);
      return user;
    } catch (error) {
      // The hub being away for a moment must not throw the owner out.
      logger.warn('hub.unreachable', { during: 'token check', reason: (error as Error).message });
      if (known) return known.value;
      throw error;
    }
  }

  /** How the user may hold this terminal: the owner's, watching (admins where allowed, and named viewers), or not at all. */
  function access(user: HubUser): Access | null {
    if (user.name === options.owner) return 'owner';
    if ((options.allowAdmins && user.admin) || options.viewers.includes(user.name)) return 'viewer';
    return null;
  }

  function loginRedirect(req: http.IncomingMessage, reason: string): Verdict {
    const path = (req as http.IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    return {
      allowed: false,
      status: 302,
      reason,
      location: `${prefix}/oauth_handshake?next=${encodeURIComponent(path)}`,
    };
  }

  const page = (res: http.ServerResponse, status: number, title: string, message: string) =>
    sendPage(res, status, { title, message, link: { href: `${prefix}/`, text: 'Try again' } });

  const callbackPath = new URL(options.callbackUrl, 'http://callback.invalid').pathname;
  const callbackRoute = pathUnder(prefix, callbackPath) || '/oauth_callback';
  // Where browsers find the hub: on a host of its own with subdomain_host (this
  // server's host is not the hub's, and the hub's login cookie is only on its
  // host), else on the host every server shares.
  const hubPages = `${options.hubHost}${options.baseUrl}hub/`;

  return {
    name: 'jupyterhub',
    owner: options.owner,
    sharedOrigin: !options.hubHost,
    describe: () =>
      `JupyterHub login; owner ${options.owner}${options.allowAdmins ? '; hub admins watch' : ''}${options.viewers.length ? `; ${options.viewers.join(', ')} watch` : ''} (hub API ${options.apiUrl}; ${options.hubHost ? 'on a host of its own' : "on the hub's shared origin"})`,

    handle: modeRoutes(prefix, (router) => {
      router.get('/oauth_handshake', (req, res) => {
        const client = clientInfo(req, options.trust);
        const state = randomBytes(24).toString('base64url');
        states.write(res, { state, next: safeNext(prefix, req.query.next), created: Date.now() }, client);
        const query = new URLSearchParams({
          client_id: options.clientId,
          redirect_uri: options.callbackUrl,
          response_type: 'code',
          state,
        });
        res.redirect(302, `${hubPages}api/oauth2/authorize?${query}`);
      });

      router.get(callbackRoute, async (req, res) => {
        const client = clientInfo(req, options.trust);
        const saved = states.read(req);
        states.clear(res, client);
        const { code, state } = req.query;
        if (
          !saved ||
          typeof code !== 'string' ||
          typeof state !== 'string' ||
          !sameText(state, saved.state) ||
          Date.now() - saved.created > LOGIN_STATE_LIFETIME_MS ||
          !used.use(state, saved.created + LOGIN_STATE_LIFETIME_MS)
        ) {
          logger.warn('login.bad_callback', { client: client.address });
          page(
            res,
            400,
            'This login link is not valid',
            'It has expired or was already used. Start again from the terminal.',
          );
          return;
        }
        try {
          const token = await exchangeCode(code);
          if (!token) {
            page(res, 400, 'The hub did not accept this login', 'Start again from the terminal.');
            return;
          }
          const user = await hubUser(token);
          if (!user) {
            page(res, 400, 'The hub did not accept this login', 'Start again from the terminal.');
            return;
          }
          checked.set(token, user);
          sessions.write(res, { user: user.name, token }, client);
          logger.info('login', { user: user.name, access: access(user) ?? 'none' });
          res.redirect(302, saved.next);
        } catch (error) {
          logger.warn('hub.unreachable', { during: 'login', reason: (error as Error).message });
          page(
            res,
            503,
            'The hub is not answering',
            'Logging in needs JupyterHub, which is not reachable right now. Try again in a moment.',
          );
        }
      });

      router.get('/logout', (req, res) => {
        sessions.clear(res, clientInfo(req, options.trust));
        res.redirect(302, `${hubPages}logout`);
      });
    }),

    async check(req: http.IncomingMessage, _client: ClientInfo): Promise<Verdict> {
      const session = sessions.read(req);
      if (!session) return loginRedirect(req, 'not logged in');
      let user: HubUser | null;
      try {
        user = await validate(session.token);
      } catch {
        return { allowed: false, status: 503, reason: 'the hub is not answering; try again in a moment' };
      }
      if (!user) return loginRedirect(req, 'the hub login has ended');
      const given = access(user);
      if (!given) {
        return {
          allowed: false,
          status: 403,
          reason: `This terminal belongs to ${options.owner}. You are logged in to the hub as ${user.name}.`,
          logout: `${prefix}/logout`,
        };
      }
      return { allowed: true, user: user.name, access: given };
    },
  };

  async function exchangeCode(code: string): Promise<string | null> {
    let res: Response;
    try {
      const request = hubTokenRequest(options, code);
      res = await fetch(request.url, {
        method: 'POST',
        body: request.body,
        signal: AbortSignal.timeout(HUB_TIMEOUT_MS),
      });
    } catch (error) {
      throw new HubUnavailable(describeError(error));
    }
    if (res.status >= 500) throw new HubUnavailable(`hub answered ${res.status}`);
    if (!res.ok) return null;
    const body = (await res.json()) as { access_token?: unknown };
    return typeof body.access_token === 'string' ? body.access_token : null;
  }
}
