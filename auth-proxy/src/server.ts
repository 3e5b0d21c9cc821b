// The auth proxy: the one public port. Every HTTP request and every WebSocket
// upgrade passes admission (admission.ts: one sequence for both) before anything
// reaches the terminal server behind (backend.ts) or an attendee's app
// (app-ports.ts). This file only wires them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../../common/src/config.js';
import { refuseUpgrade } from '../../common/src/http-error.js';
import { describeError, type Logger, repeatLimit } from '../../common/src/log.js';
import { describeAddress, terminalAddress } from '../../common/src/terminal-link.js';
import { createAdmission } from './admission.js';
import { watchAdmittedSockets } from './admitted-sockets.js';
import { answerError, answerRefusal, redirect, sendText } from './answers.js';
import { appRoutes, createAppProxy, stackPorts } from './app-ports.js';
import { createBackend } from './backend.js';
import { clientInfo, compileTrust } from './client-info.js';
import { setSecurityHeaders } from './content-policy.js';
import type { AuthMode } from './modes/types.js';
import { BROWSER_BLOCKED_PORTS, urlToOpen } from './open-url.js';
import { hostAllowList } from './site-checks.js';

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
  | 'appPorts'
  | 'appDomain'
  | 'hubApiUrl'
  | 'hubActivityUrl'
>;

export interface AuthProxy {
  listen(): Promise<number>;
  close(): Promise<void>;
}

export function createAuthProxy(options: { config: AuthProxyConfig; logger: Logger; mode: AuthMode }): AuthProxy {
  const { config, logger, mode } = options;
  const prefix = config.prefix;
  const address = terminalAddress(config);
  const trust = compileTrust(config.trustProxy);
  const policy = { prefix, frameAncestors: config.frameAncestors };
  // Refusals repeat as fast as a client can send: a few lines per client a minute, then a count.
  const refusals = repeatLimit(logger, { burst: 5, windowMs: 60_000 });
  const backend = createBackend({
    address,
    terminalToken: config.terminalToken,
    prefix,
    policy,
    clientHost: (req) => clientInfo(req, trust).host,
    logger,
    refusals,
  });
  const apps = appRoutes({ prefix, appDomain: config.appDomain });
  let listeningPort = 0;
  const ownPorts = stackPorts(config);
  const appProxy = createAppProxy({
    ranges: config.appPorts,
    ownPorts: () => [...ownPorts, listeningPort],
    authorizationIsOurs: mode.name === 'basic',
    policy,
    logger,
    refusals,
  });
  const allowList = hostAllowList(config);
  const sockets = watchAdmittedSockets({ mode, recheckMs: config.authRecheckSeconds * 1000, logger });
  const admit = createAdmission({
    prefix,
    allowedOrigins: config.allowedOrigins,
    mode,
    // Without authentication, the Host is what tells our own pages from those of
    // a site whose name was made to resolve to this machine (DNS rebinding).
    hostAllowed: mode.name === 'none' ? (host) => apps.hostPort(host) !== null || allowList(host) : () => true,
    apps,
    openRoute,
    refusals,
  });

  /** Health and readiness: for probes, without a login, saying nothing about anyone. */
  function openRoute(req: http.IncomingMessage, res: http.ServerResponse, route: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const name = route.replace(/\/$/, '');
    if (name === '/healthz') {
      sendText(req, res, 200, 'ok\n');
      return true;
    }
    if (name === '/readyz') {
      backend
        .ready()
        .then((ready) =>
          sendText(req, res, ready ? 200 : 503, ready ? 'ready\n' : 'the terminal server is not reachable\n'),
        );
      return true;
    }
    return false;
  }

  // Plain node:http: express is loaded only by the modes whose login routes use it.
  const server = http.createServer((req, res) => {
    handleRequest(req, res).catch((error) => answerError(req, res, error, logger));
  });

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const client = clientInfo(req, trust);
    setSecurityHeaders(res, policy, client.host);
    const decision = await admit(req, client, { kind: 'http', res });
    if (decision.outcome === 'refused') return answerRefusal(req, res, decision.refusal);
    if (decision.outcome === 'answered') return;
    if (decision.app) return appProxy.web(req, res, client, decision.app, decision.access);
    // Only the prefix itself (with or without its slash) redirects.
    if ((req.method === 'GET' || req.method === 'HEAD') && (decision.route === '' || decision.route === '/')) {
      return redirect(req, res, `${prefix}${config.defaultRoute}`, {});
    }
    // The terminal server serves under the same prefix: the URL goes on as it came.
    backend.web(req, res, client);
  }

  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.on('clientError', (error, socket) => {
    // Malformed requests and oversized headers: answer and close; nothing else is affected.
    const status = (error as NodeJS.ErrnoException).code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    if (socket.writable) refuseUpgrade(socket, status);
    else socket.destroy();
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    handleUpgrade(req, socket, head).catch((error) => {
      logger.error('upgrade.failed', { reason: describeError(error) });
      refuseUpgrade(socket, 500);
    });
  });

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const client = clientInfo(req, trust);
    const decision = await admit(req, client, { kind: 'upgrade' });
    if (decision.outcome === 'refused') {
      const { status, headers } = decision.refusal;
      // A browser cannot follow a redirect on a WebSocket: a login is needed first.
      return refuseUpgrade(socket, status === 302 ? 401 : status, headers);
    }
    if (decision.outcome !== 'admitted') return;
    if (decision.app) {
      // Re-checked with the credentials it came with: the app is sent the request without them.
      const asAdmitted = Object.create(req, { headers: { value: { ...req.headers } } }) as http.IncomingMessage;
      sockets.add({ req: asAdmitted, socket, client, access: decision.access });
      appProxy.ws(req, socket, head, client, decision.app, decision.access);
      return;
    }
    sockets.add({ req, socket, client, access: decision.access });
    backend.ws(req, socket, head, client);
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const port = (server.address() as AddressInfo).port;
          listeningPort = port;
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
        sockets.close();
        backend.close();
        appProxy.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
