// OpenShift: people log in with their cluster account through OpenShift's OAuth
// server, with the pod's service account as the OAuth client; only admins of the
// pod's project get in. "Admin" is asked of the cluster itself (a self subject
// access review for creating rolebindings), so admin through a group and
// cluster-admin both count, and it is asked again every few minutes.
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Request, Response } from 'express';
import passport from 'passport';
import { Strategy as OAuth2Strategy, type VerifyCallback } from 'passport-oauth2';
import type { Logger } from '../../../common/src/log.js';
import { type ClientInfo, clientInfo, type TrustFunction } from '../client-info.js';
import { type Cluster, ClusterUnavailable } from '../kubernetes-client.js';
import {
  cookieNameFor,
  encryptedCookie,
  LOGIN_STATE_LIFETIME_MS,
  loginLimit,
  type RevokedLogins,
  safeNext,
  sameText,
  shapeOf,
  tokenAnswers,
  usedStates,
} from '../login-session.js';
import { sendPage } from '../pages.js';
import { modeRoutes } from './routes.js';
import type { AuthMode, Verdict } from './types.js';

export interface OpenShiftOptions {
  prefix: string;
  serviceAccount: string;
  cluster: Cluster;
  /** The terminal's public URL, or '' to take it from each request. */
  publicUrl: string;
  recheckMs: number;
  /** Users let in to watch who are not admins of the project. */
  viewers: readonly string[];
  secrets: readonly string[];
  /** Logins ended by a logout: refused whatever cookie copy brings them. */
  revoked: RevokedLogins;
  trust: TrustFunction;
  logger: Logger;
}

interface LoginSession {
  user: string;
  token: string;
}

interface LoginState {
  handle: string;
  verifier: string;
  next: string;
  created: number;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

const SESSION_SECONDS = 24 * 3600;
const SCOPES = ['user:info', 'user:check-access'];
/**
 * Logins talking to the cluster at once (fewer than the connections the
 * cluster client keeps per server): a room logging in together fits, a flood
 * from someone without an account is turned away before it reaches the cluster.
 */
const MAX_LOGINS_IN_FLIGHT = 16;

export function openShiftMode(options: OpenShiftOptions): AuthMode {
  const { prefix, cluster, logger } = options;
  const cookiePath = prefix || '/';
  const namespace = () => cluster.namespace();
  const sessions = encryptedCookie<LoginSession>({
    name: cookieNameFor(prefix, 'session'),
    secrets: options.secrets,
    path: cookiePath,
    maxAgeSeconds: SESSION_SECONDS,
    shape: shapeOf<LoginSession>({ user: 'string', token: 'string' }),
  });
  const states = encryptedCookie<LoginState>({
    name: cookieNameFor(prefix, 'oauth-state'),
    secrets: options.secrets,
    path: cookiePath,
    maxAgeSeconds: LOGIN_STATE_LIFETIME_MS / 1000,
    shape: shapeOf<LoginState>({ handle: 'string', verifier: 'string', next: 'string', created: 'number' }),
  });
  const used = usedStates();
  const logins = loginLimit(MAX_LOGINS_IN_FLIGHT);
  /** The cluster's last answer about each login's token: whether its user is an admin of the project. */
  const decisions = tokenAnswers<boolean>(SESSION_SECONDS * 1000);
  const authenticator = new passport.Passport();
  let oauthServer: Promise<Discovery> | undefined;

  /**
   * The OAuth state lives in an encrypted cookie of its own: bound to this
   * browser, single use, ten minutes. passport-oauth2 calls store() when it
   * sends the browser away and verify() when it comes back.
   */
  const stateStore = {
    store(
      req: Request,
      verifier: string,
      appState: { next?: string },
      _meta: unknown,
      done: (e: Error | null, handle?: string) => void,
    ) {
      const handle = randomBytes(24).toString('base64url');
      const state: LoginState = { handle, verifier, next: safeNext(prefix, appState?.next), created: Date.now() };
      states.write(req.res as Response, state, clientInfo(req, options.trust));
      done(null, handle);
    },
    verify(req: Request, provided: string, done: (e: Error | null, ok: string | false, state?: unknown) => void) {
      const saved = states.read(req);
      states.clear(req.res as Response, clientInfo(req, options.trust));
      if (
        !saved ||
        typeof provided !== 'string' ||
        !sameText(provided, saved.handle) ||
        Date.now() - saved.created > LOGIN_STATE_LIFETIME_MS ||
        !used.use(saved.handle, saved.created + LOGIN_STATE_LIFETIME_MS)
      ) {
        done(null, false, { message: 'the login state is missing, expired, forged or already used' });
        return;
      }
      done(null, saved.verifier, { next: saved.next });
    },
  };

  /** Finds the OAuth server through the API server (done when first needed, and again after a failure). */
  function discovered(): Promise<Discovery> {
    // Logins arriving together share one discovery.
    oauthServer ??= discover().catch((error: unknown) => {
      oauthServer = undefined;
      throw error;
    });
    return oauthServer;
  }

  async function discover(): Promise<Discovery> {
    const discovery = await cluster.request<Discovery>(
      'GET',
      `${cluster.apiUrl}/.well-known/oauth-authorization-server`,
    );
    if (discovery.status !== 200 || !discovery.body?.authorization_endpoint || !discovery.body.token_endpoint) {
      throw new ClusterUnavailable(`OAuth discovery answered ${discovery.status}`);
    }
    logger.info('oauth.discovered', { authorize: discovery.body.authorization_endpoint });
    return discovery.body;
  }

  /**
   * The OAuth client for one request. The client secret is the service account
   * token, read by the caller when it is needed (it rotates), and held by this
   * request's strategy only: a strategy shared by every login would keep it,
   * and be written under the feet of the logins in flight.
   */
  function strategyFor(server: Discovery, clientSecret: string): OAuth2Strategy {
    const created = new OAuth2Strategy(
      {
        authorizationURL: server.authorization_endpoint,
        tokenURL: server.token_endpoint,
        clientID: `system:serviceaccount:${namespace()}:${options.serviceAccount}`,
        clientSecret,
        callbackURL: `${prefix}/oauth_callback`,
        scope: SCOPES,
        state: true,
        pkce: true,
        store: stateStore as never,
        skipUserProfile: true,
      },
      (accessToken: string, _refreshToken: string, _params: unknown, _profile: unknown, done: VerifyCallback) =>
        done(null, { token: accessToken }),
    );
    // The token request goes through the agent that trusts the cluster's CA and times out.
    (created as unknown as { _oauth2: { setAgent(agent: unknown): void } })._oauth2.setAgent(cluster.agent);
    return created;
  }

  function callbackUrl(req: http.IncomingMessage): string {
    const client = clientInfo(req, options.trust);
    const base = options.publicUrl || `${client.protocol}://${client.host}`;
    return `${base}${prefix}/oauth_callback`;
  }

  /** Asks the cluster whether the token's user may create rolebindings in the pod's project. */
  async function isProjectAdmin(token: string): Promise<boolean | null> {
    const review = await cluster.request<{ allowed?: boolean }>(
      'POST',
      `${cluster.apiUrl}/apis/authorization.openshift.io/v1/subjectaccessreviews`,
      {
        token,
        body: {
          kind: 'SubjectAccessReview',
          apiVersion: 'authorization.openshift.io/v1',
          namespace: namespace(),
          verb: 'create',
          resourceAPIGroup: 'rbac.authorization.k8s.io',
          resource: 'rolebindings',
          user: '',
          groups: [],
          scopes: [],
        },
      },
    );
    if (review.status === 401) return null; // the token is no longer valid
    if (review.status !== 201 && review.status !== 200)
      throw new ClusterUnavailable(`access review answered ${review.status}`);
    return review.body?.allowed === true;
  }

  async function userName(token: string): Promise<string | null> {
    const res = await cluster.request<{ metadata?: { name?: string } }>(
      'GET',
      `${cluster.apiUrl}/apis/user.openshift.io/v1/users/~`,
      { token },
    );
    if (res.status === 401) return null;
    const name = res.body?.metadata?.name;
    if (res.status !== 200 || typeof name !== 'string') throw new ClusterUnavailable(`users/~ answered ${res.status}`);
    return name;
  }

  const unavailablePage = (res: http.ServerResponse) =>
    sendPage(res, 503, {
      title: 'OpenShift is not answering',
      message:
        'Logging in needs the OpenShift API and OAuth servers, which are not reachable right now. This page tries again by itself.',
      retrySeconds: 10,
    });

  const busyPage = (res: http.ServerResponse, client: ClientInfo) => {
    logger.warn('login.busy', { client: client.address, limit: MAX_LOGINS_IN_FLIGHT });
    res.setHeader('Retry-After', '10');
    sendPage(res, 503, {
      title: 'Too many logins at once',
      message: 'Logging in is busy right now. This page tries again by itself.',
      retrySeconds: 10,
    });
  };

  const loginRedirect = (req: http.IncomingMessage, reason: string): Verdict => ({
    allowed: false,
    status: 302,
    reason,
    location: `${prefix}/oauth_handshake?next=${encodeURIComponent((req as Request).originalUrl ?? req.url ?? '/')}`,
  });

  return {
    name: 'openshift',
    sharedOrigin: false,
    get owner() {
      try {
        return `the ${namespace()} project`;
      } catch {
        return '';
      }
    },
    describe: () =>
      `OpenShift login; admins of the pod's project${options.viewers.length ? `, and ${options.viewers.join(', ')} watch` : ' only'} (client system:serviceaccount:…:${options.serviceAccount})`,

    handle: modeRoutes(prefix, (router) => {
      router.get('/oauth_handshake', async (req, res, next) => {
        const release = logins.enter();
        if (!release) return busyPage(res, clientInfo(req, options.trust));
        try {
          // Only sends the browser to the OAuth server: no secret is needed for that.
          const oauth = strategyFor(await discovered(), '');
          // Sends the browser to the OAuth server at once (the state store is synchronous).
          authenticator.authenticate(oauth, {
            session: false,
            callbackURL: callbackUrl(req),
            // passport-oauth2 hands this to the state store, which keeps it in the state cookie.
            state: { next: typeof req.query.next === 'string' ? req.query.next : '' },
          } as unknown as passport.AuthenticateOptions)(req, res, next);
        } catch (error) {
          logger.warn('cluster.unreachable', { during: 'login', reason: (error as Error).message });
          unavailablePage(res);
        } finally {
          release();
        }
      });

      router.get('/oauth_callback', async (req, res, next) => {
        const client = clientInfo(req, options.trust);
        if (typeof req.query.code !== 'string' && typeof req.query.error !== 'string') {
          // Without either, passport-oauth2 would start a new login from here.
          sendPage(res, 400, {
            title: 'This login link is not valid',
            message: 'Start again from the terminal.',
            link: { href: `${prefix}/`, text: 'Try again' },
          });
          return;
        }
        // Held until the answer is decided, not until the browser goes: a client
        // that hangs up must not free its slot while the cluster still works on it.
        const release = logins.enter();
        if (!release) return busyPage(res, client);
        let oauth: OAuth2Strategy;
        try {
          oauth = strategyFor(await discovered(), cluster.serviceAccountToken());
        } catch (error) {
          release();
          logger.warn('cluster.unreachable', { during: 'login', reason: (error as Error).message });
          unavailablePage(res);
          return;
        }
        const passOn = (error?: unknown) => {
          release();
          next(error);
        };
        authenticator.authenticate(
          oauth,
          { session: false, callbackURL: callbackUrl(req) } as passport.AuthenticateOptions,
          async (error: unknown, user: { token: string } | false, info: { state?: { next?: string } } | undefined) => {
            try {
              await finishLogin(error, user, info);
            } finally {
              release();
            }
          },
        )(req, res, passOn);

        async function finishLogin(
          error: unknown,
          user: { token: string } | false,
          info: { state?: { next?: string } } | undefined,
        ): Promise<void> {
          if (error) {
            // An OAuth error answer (RFC 6749 4.1.2.1 on the callback, 5.2 from the token
            // endpoint, like invalid_grant for a bad or used code) comes as an
            // AuthorizationError or TokenError with its code; no answer, or one without
            // an OAuth error, as an InternalOAuthError with the HTTP status, if any.
            const failure = error as { name?: string; code?: unknown; oauthError?: { statusCode?: number } };
            const oauthCode =
              failure.name === 'TokenError' || failure.name === 'AuthorizationError' ? String(failure.code) : undefined;
            const status = failure.oauthError?.statusCode;
            logger.warn('login.failed', {
              client: client.address,
              reason: (error as Error).message,
              status,
              error: oauthCode,
            });
            const unavailable =
              oauthCode === undefined
                ? status === undefined || status >= 500
                : oauthCode === 'server_error' || oauthCode === 'temporarily_unavailable';
            if (unavailable) unavailablePage(res);
            else
              sendPage(res, 400, {
                title: 'OpenShift did not accept this login',
                message: 'Start again from the terminal.',
                link: { href: `${prefix}/`, text: 'Try again' },
              });
            return;
          }
          if (!user) {
            logger.warn('login.bad_callback', { client: client.address });
            sendPage(res, 400, {
              title: 'This login link is not valid',
              message: 'It has expired or was already used. Start again from the terminal.',
              link: { href: `${prefix}/`, text: 'Try again' },
            });
            return;
          }
          try {
            const name = await userName(user.token);
            const admin = await isProjectAdmin(user.token);
            if (name === null || admin === null) throw new ClusterUnavailable('the new token was refused');
            decisions.set(user.token, admin);
            sessions.write(res, { user: name, token: user.token }, client);
            logger.info('login', { user: name, allowed: admin });
            res.redirect(302, safeNext(prefix, info?.state?.next));
          } catch (failure) {
            logger.warn('cluster.unreachable', { during: 'login', reason: (failure as Error).message });
            unavailablePage(res);
          }
        }
      });

      router.get('/logout', (req, res) => {
        const session = sessions.read(req);
        if (session) {
          // Copies of the cookie cannot be taken back, and the token cannot delete
          // itself with the scopes asked for: the proxy refuses it from now on,
          // until any cookie holding it would have expired.
          options.revoked.add(session.token, Date.now() + SESSION_SECONDS * 1000);
          decisions.delete(session.token);
          logger.info('logout', { user: session.user });
        }
        sessions.clear(res, clientInfo(req, options.trust));
        sendPage(res, 200, {
          title: 'Logged out of the terminal',
          message: 'You are logged out of this terminal (not of OpenShift).',
          link: { href: `${prefix}/`, text: 'Log in again' },
        });
      });
    }),

    async check(req: http.IncomingMessage, _client: ClientInfo): Promise<Verdict> {
      const session = sessions.read(req);
      if (!session) return loginRedirect(req, 'not logged in');
      if (options.revoked.has(session.token)) return loginRedirect(req, 'logged out');
      let decision = decisions.get(session.token);
      if (!decision || Date.now() - decision.at >= options.recheckMs) {
        try {
          const admin = await isProjectAdmin(session.token);
          if (admin === null) {
            decisions.delete(session.token);
            return loginRedirect(req, 'the OpenShift login has ended');
          }
          decision = decisions.set(session.token, admin);
        } catch (error) {
          // A blip of the API must not throw a room out: the last answer stands.
          logger.warn('cluster.unreachable', { during: 'access check', reason: (error as Error).message });
          if (!decision)
            return { allowed: false, status: 503, reason: 'OpenShift is not answering; try again in a moment' };
        }
      }
      if (!decision.value) {
        if (options.viewers.includes(session.user)) return { allowed: true, user: session.user, access: 'viewer' };
        let project = '';
        try {
          project = namespace();
        } catch {
          project = 'this project';
        }
        return {
          allowed: false,
          status: 403,
          reason: `You are logged in as ${session.user}, who is not an admin of project ${project}.`,
          logout: `${prefix}/logout`,
        };
      }
      return { allowed: true, user: session.user, access: 'owner' };
    },
  };
}
