// The way to the terminal server behind (on 127.0.0.1 or a private Unix socket):
// admitted requests and upgrades go on as they came, under the same prefix, with
// the shared token; answers come back with our policy. A terminal server that is
// not there gets a page that retries, or a WebSocket closed with "try again later".
import http from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { WebSocketServer } from 'ws';
import { describeError, type Logger, type RepeatLimit } from '../../common/src/log.js';
import { CloseCode } from '../../common/src/protocol.js';
import {
  PROXY_KEEP_ALIVE_MS,
  PROXY_TIMEOUT_MS,
  type TerminalAddress,
  terminalRequest,
} from '../../common/src/terminal-link.js';
import { sendHtml } from './answers.js';
import type { ClientInfo } from './client-info.js';
import { type PolicyOptions, setProxiedPolicy } from './content-policy.js';

const READY_TIMEOUT_MS = 2000;

export interface Backend {
  web(req: http.IncomingMessage, res: http.ServerResponse, client: ClientInfo): void;
  ws(req: http.IncomingMessage, socket: Duplex, head: Buffer, client: ClientInfo): void;
  /** Whether the terminal server answers its status now. */
  ready(): Promise<boolean>;
  close(): void;
}

export function createBackend(options: {
  address: TerminalAddress;
  terminalToken: string;
  prefix: string;
  policy: PolicyOptions;
  /** The host the browser used, for our policy on the answer. */
  clientHost: (req: http.IncomingMessage) => string;
  logger: Logger;
  refusals: RepeatLimit;
}): Backend {
  const { address, logger, refusals } = options;
  // The terminal server answers only requests that carry the shared token (when there is one).
  const terminal = terminalRequest(address, options.terminalToken);
  // Requests go over kept-alive connections. A connection closed after each answer
  // (what http-proxy does without an agent) can end a request in EPIPE: the
  // terminal server answers and closes while the rest of the request (its end, or
  // a body it did not need) is still being written, which a Unix socket refuses
  // at once, and the page got a 502 for a save that had been answered. Upgrades
  // keep a connection of their own.
  const agent = new http.Agent({ keepAlive: true, timeout: PROXY_KEEP_ALIVE_MS });
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
  // Every answer from behind gets our policy here, in one place.
  proxy.on('proxyRes', (proxyRes, req, res) => {
    setProxiedPolicy(proxyRes, res, options.policy, options.clientHost(req));
    // The browser's connection still ends with each answer from behind, as it did
    // when the terminal server closed every connection: kept alive, it met Node's
    // keep-alive timer closing it just as the next request came (every few seconds
    // for a client whose logins wait their turn).
    proxyRes.headers.connection = 'close';
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

  const unreachable = (error: Error, client: ClientInfo, url: string) =>
    refusals.log('warn', `${client.address} backend`, 'proxy.backend_unreachable', {
      reason: describeError(error),
      client: client.address,
      path: url.slice(0, 200),
    });

  // Completes the WebSocket handshake only to close it with a code the page
  // understands. Needed only while the terminal server is down: loaded then, at
  // once (http-proxy ends the socket as soon as its error callback returns).
  let closer: WebSocketServer | undefined;
  const tryAgainLater = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    closer ??= new (createRequire(import.meta.url)('ws') as typeof import('ws')).WebSocketServer({ noServer: true });
    closer.handleUpgrade(req, socket, head, (ws) => ws.close(CloseCode.TryAgainLater, 'terminal server unavailable'));
  };

  return {
    web(req, res, client) {
      const url = req.url ?? '/';
      proxy.web(req, res, { agent }, (error) => {
        unreachable(error, client, url);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendHtml(
          req,
          res,
          502,
          {
            title: 'The terminal is starting',
            message: 'The terminal server is not answering right now. This page tries again in a few seconds.',
            retrySeconds: 3,
          },
          { 'Cache-Control': 'no-store' },
        );
      });
    },
    ws(req, socket, head, client) {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      proxy.ws(req, socket, head, {}, (error) => {
        unreachable(error, client, path);
        const raw = socket as Duplex & { bytesWritten?: number };
        if (raw.writable && !raw.bytesWritten) tryAgainLater(req, socket, head);
      });
    },
    ready() {
      return new Promise((resolve) => {
        const req = http.get(
          { ...terminal, path: `${options.prefix}/terminal/api/status`, timeout: READY_TIMEOUT_MS },
          (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => resolve(false));
      });
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}
