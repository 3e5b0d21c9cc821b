// A simulated OpenShift, the only fake in the suite: OpenShift and Kubernetes API
// servers cannot run here. It follows the documented shapes (REFERENCE.md §2):
// HTTPS with its own CA; OAuth discovery, authorize (with the service-account
// redirect rules and PKCE) and token endpoints; users/~; self subject access
// reviews backed by an RBAC table; /version. Plus a login page for named test users.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';

export interface OpenShiftRbac {
  /** Users who are admins of the namespace directly (a RoleBinding to them). */
  admins: Set<string>;
  /** Groups that are admins of the namespace. */
  adminGroups: Set<string>;
  /** Users bound to cluster-admin. */
  clusterAdmins: Set<string>;
  /** Group memberships. */
  groups: Map<string, string[]>;
}

export interface SimulatedOpenShift {
  url: string;
  port: number;
  /** The CA that signed the server certificate (PEM). */
  caPem: string;
  /** Files as mounted into a pod: token, namespace, ca.crt. */
  serviceAccountDir: string;
  namespace: string;
  rbac: OpenShiftRbac;
  /** The /version answer. */
  version: { major: string; minor: string; gitVersion: string };
  /** Replaces the service account token (in the file and as the only valid one). */
  rotateServiceAccountToken(): void;
  /** While true, every connection is dropped at once. */
  down: boolean;
  /** TLS connections accepted so far (handshakes completed). */
  readonly tlsConnections: number;
  /** Token requests from now on wait (unanswered) until released. */
  holdTokenRequests(): TokenHold;
  /** Redirect URIs the service account's annotations allow (scheme + host, optional path). */
  setRoute(publicUrl: string): void;
  close(): Promise<void>;
}

export interface TokenHold {
  /** Token requests waiting so far. */
  readonly count: number;
  /** Resolves when this many token requests are waiting. */
  arrived(count: number): Promise<void>;
  /** Lets every waiting token request through, and those that come later. */
  release(): void;
}

interface Grant {
  user: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  method: string;
  scopes: string[];
  expires: number;
}

const SA_SCOPES = /^(user:info|user:check-access|user:list-scoped-projects|user:list-projects|role:[^:]+:[^:]+)$/;

function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=simulated-openshift-ca',
  );
  writeFileSync(
    path.join(dir, 'ext.cnf'),
    'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');
  return { ca: read('ca.crt'), key: read('server.key'), cert: read('server.crt') };
}

export async function startOpenShift(options: {
  namespace?: string;
  serviceAccount: string;
}): Promise<SimulatedOpenShift> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wt-openshift-'));
  const certificates = makeCertificates(dir);
  const namespace = options.namespace ?? 'workshop';
  const serviceAccountDir = path.join(dir, 'serviceaccount');
  mkdirSync(serviceAccountDir);
  writeFileSync(path.join(serviceAccountDir, 'namespace'), namespace);
  writeFileSync(path.join(serviceAccountDir, 'ca.crt'), certificates.ca);
  let serviceAccountToken = '';
  const rotateServiceAccountToken = () => {
    serviceAccountToken = `sha256~sa-${randomBytes(16).toString('hex')}`;
    writeFileSync(path.join(serviceAccountDir, 'token'), serviceAccountToken);
  };
  rotateServiceAccountToken();

  const clientId = `system:serviceaccount:${namespace}:${options.serviceAccount}`;
  const rbac: OpenShiftRbac = {
    admins: new Set(),
    adminGroups: new Set(),
    clusterAdmins: new Set(),
    groups: new Map(),
  };
  const grants = new Map<string, Grant>();
  const tokens = new Map<string, { user: string; scopes: string[] }>();
  const sessions = new Map<string, string>(); // login cookie of the OAuth server → user
  let route = '';
  const sockets = new Set<Duplex>();
  let tokenHold: { waiting: (() => void)[]; watchers: { count: number; resolve: () => void }[] } | null = null;

  function holdTokenRequests(): TokenHold {
    const hold = { waiting: [] as (() => void)[], watchers: [] as { count: number; resolve: () => void }[] };
    tokenHold = hold;
    return {
      get count() {
        return hold.waiting.length;
      },
      arrived: (count) =>
        new Promise<void>((resolve) => {
          if (hold.waiting.length >= count) resolve();
          else hold.watchers.push({ count, resolve });
        }),
      release() {
        if (tokenHold === hold) tokenHold = null;
        for (const go of hold.waiting.splice(0)) go();
      },
    };
  }

  /** Waits while token requests are held. */
  function tokenTurn(): Promise<void> {
    const hold = tokenHold;
    if (!hold) return Promise.resolve();
    return new Promise<void>((resolve) => {
      hold.waiting.push(resolve);
      for (const watcher of hold.watchers.filter((w) => hold.waiting.length >= w.count)) {
        hold.watchers.splice(hold.watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    });
  }

  const sim = {
    url: '',
    port: 0,
    caPem: certificates.ca,
    serviceAccountDir,
    namespace,
    rbac,
    version: { major: '1', minor: '29', gitVersion: 'v1.29.5+openshift' },
    rotateServiceAccountToken,
    down: false,
    tlsConnections: 0,
    holdTokenRequests,
    setRoute(publicUrl: string) {
      route = publicUrl.replace(/\/$/, '');
    },
    close: async () => {},
  } satisfies SimulatedOpenShift;

  function send(
    res: import('node:http').ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(text);
  }

  function status(res: import('node:http').ServerResponse, code: number, reason: string, message: string) {
    send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }

  function bearer(req: import('node:http').IncomingMessage): { user: string; scopes: string[] } | undefined {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return match ? tokens.get(match[1] as string) : undefined;
  }

  function readBody(req: import('node:http').IncomingMessage): Promise<string> {
    return new Promise((resolve) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => resolve(body));
    });
  }

  /** The redirect rules for a service account client: same scheme and host as the route, path at or below it. */
  function redirectAllowed(uri: string): boolean {
    if (!route) return false;
    try {
      const wanted = new URL(uri);
      const registered = new URL(route);
      return (
        wanted.protocol === registered.protocol &&
        wanted.host === registered.host &&
        wanted.pathname.startsWith(registered.pathname)
      );
    } catch {
      return false;
    }
  }

  const server = https.createServer({ key: certificates.key, cert: certificates.cert }, async (req, res) => {
    if (sim.down) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', sim.url);
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /.well-known/oauth-authorization-server') {
      send(res, 200, {
        issuer: sim.url,
        authorization_endpoint: `${sim.url}/oauth/authorize`,
        token_endpoint: `${sim.url}/oauth/token`,
        scopes_supported: [
          'user:check-access',
          'user:full',
          'user:info',
          'user:list-projects',
          'user:list-scoped-projects',
        ],
        response_types_supported: ['code', 'token'],
        grant_types_supported: ['authorization_code', 'implicit'],
        code_challenge_methods_supported: ['plain', 'S256'],
      });
      return;
    }
    if (route === 'GET /login') {
      // The cluster's login page: a form for a user name (test users need no password).
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(
        `<form method="POST" action="/login"><input name="username"><input type="hidden" name="return_to" value="${(url.searchParams.get('return_to') ?? '/').replaceAll('"', '&quot;')}"><button type="submit">Log in</button></form>`,
      );
      return;
    }
    if (route === 'POST /login') {
      const form = new URLSearchParams(await readBody(req));
      const session = randomBytes(16).toString('hex');
      sessions.set(session, form.get('username') ?? '');
      res.writeHead(302, {
        Location: form.get('return_to') ?? '/',
        'Set-Cookie': `ssn=${session}; Path=/; HttpOnly; Secure`,
      });
      res.end();
      return;
    }
    if (route === 'GET /oauth/authorize') {
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== clientId) return status(res, 400, 'BadRequest', 'unauthorized_client');
      if (!redirectAllowed(redirectUri))
        return status(res, 400, 'BadRequest', 'The redirect URI is not allowed by the service account');
      const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
      if (scopes.length === 0 || !scopes.every((s) => SA_SCOPES.test(s)))
        return status(res, 400, 'BadRequest', 'invalid_scope');
      if (q.get('response_type') !== 'code') return status(res, 400, 'BadRequest', 'unsupported_response_type');
      const user = sessions.get(/(?:^|;\s*)ssn=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '');
      if (!user) {
        res.writeHead(302, { Location: `/login?return_to=${encodeURIComponent(url.pathname + url.search)}` });
        res.end();
        return;
      }
      const code = randomBytes(16).toString('hex');
      grants.set(code, {
        user,
        clientId,
        redirectUri,
        challenge: q.get('code_challenge') ?? '',
        method: q.get('code_challenge_method') ?? 'plain',
        scopes,
        expires: Date.now() + 60_000,
      });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { Location: back.href });
      res.end();
      return;
    }
    if (route === 'POST /oauth/token') {
      const form = new URLSearchParams(await readBody(req));
      await tokenTurn();
      const grant = grants.get(form.get('code') ?? '');
      grants.delete(form.get('code') ?? '');
      const fail = (error: string) => send(res, 400, { error });
      if (form.get('grant_type') !== 'authorization_code') return fail('unsupported_grant_type');
      if (form.get('client_id') !== clientId || form.get('client_secret') !== serviceAccountToken)
        return send(res, 401, { error: 'unauthorized_client' });
      if (!grant || grant.expires < Date.now() || grant.redirectUri !== form.get('redirect_uri'))
        return fail('invalid_grant');
      const verifier = form.get('code_verifier') ?? '';
      const computed = grant.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
      if (!grant.challenge || computed !== grant.challenge) return fail('invalid_grant');
      const token = `sha256~${randomBytes(24).toString('base64url')}`;
      tokens.set(token, { user: grant.user, scopes: grant.scopes });
      send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 86400, scope: grant.scopes.join(' ') });
      return;
    }
    if (route === 'GET /apis/user.openshift.io/v1/users/~') {
      const who = bearer(req);
      if (!who) return status(res, 401, 'Unauthorized', 'Unauthorized');
      send(res, 200, {
        kind: 'User',
        apiVersion: 'user.openshift.io/v1',
        metadata: { name: who.user, uid: createHash('md5').update(who.user).digest('hex'), resourceVersion: '1' },
        identities: [`htpasswd:${who.user}`],
        groups: rbac.groups.get(who.user) ?? [],
      });
      return;
    }
    if (route === 'POST /apis/authorization.openshift.io/v1/subjectaccessreviews') {
      const who = bearer(req);
      if (!who) return status(res, 401, 'Unauthorized', 'Unauthorized');
      if (!who.scopes.includes('user:check-access') && !who.scopes.includes('user:full')) {
        return status(res, 403, 'Forbidden', 'scopes do not allow access reviews');
      }
      const review = JSON.parse(await readBody(req)) as Record<string, unknown>;
      const groups = rbac.groups.get(who.user) ?? [];
      const askedForAdmin =
        review.kind === 'SubjectAccessReview' &&
        review.verb === 'create' &&
        review.resource === 'rolebindings' &&
        review.resourceAPIGroup === 'rbac.authorization.k8s.io' &&
        review.user === '' &&
        Array.isArray(review.groups) &&
        review.groups.length === 0;
      const allowed =
        askedForAdmin &&
        review.namespace === namespace &&
        (rbac.clusterAdmins.has(who.user) || rbac.admins.has(who.user) || groups.some((g) => rbac.adminGroups.has(g)));
      send(res, 201, {
        kind: 'SubjectAccessReviewResponse',
        apiVersion: 'authorization.openshift.io/v1',
        namespace: String(review.namespace ?? ''),
        allowed,
        reason: allowed ? 'RBAC: allowed by a binding' : '',
      });
      return;
    }
    if (route === 'GET /version') {
      send(res, 200, { ...sim.version, platform: 'linux/amd64' });
      return;
    }
    status(res, 404, 'NotFound', 'the server could not find the requested resource');
  });
  server.on('secureConnection', () => {
    sim.tlsConnections++;
  });
  server.on('connection', (socket) => {
    if (sim.down) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  sim.port = (server.address() as AddressInfo).port;
  sim.url = `https://127.0.0.1:${sim.port}`;
  sim.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      });
    });
  return sim;
}
