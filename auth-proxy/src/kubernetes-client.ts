// Talking to the cluster from inside the pod: the API server's address, the
// service account's files (the token is read again each time: it rotates), the
// CAs to trust, and JSON requests that always end within a timeout.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { Socket } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

const TIMEOUT_MS = 10_000;
/**
 * Connections per server (API and OAuth). More than the logins that may be in
 * flight at once (16), so the re-checks of people already logged in never
 * wait behind a burst of logins.
 */
const MAX_SOCKETS = 32;
/** Idle connections kept per server for the next request. */
const MAX_FREE_SOCKETS = 16;

export class ClusterUnavailable extends Error {
  override name = 'ClusterUnavailable';
}

/**
 * A keep-alive HTTPS agent whose connections end with an error when silent for
 * too long while in use (node-oauth's token request sets no timeout of its own).
 * Idle ones simply close after the same time.
 */
class TimeoutAgent extends https.Agent {
  constructor(options: https.AgentOptions & { timeout: number }) {
    super(options);
  }

  override createConnection(...args: Parameters<https.Agent['createConnection']>): Socket {
    const socket = super.createConnection(...args) as Socket;
    // Not once: a kept-alive socket can time out again on a later request. An
    // idle one destroyed here is dropped from the pool by the agent.
    socket.on('timeout', () => socket.destroy(new ClusterUnavailable('timed out')));
    return socket;
  }
}

export interface ClusterOptions {
  host: string;
  port: number;
  serviceAccountDir: string;
  extraCaFile: string;
  /** Also trust the public CAs Node ships (an OAuth route with a certificate from one). */
  trustPublicCas: boolean;
  insecure: boolean;
}

export interface Cluster {
  readonly apiUrl: string;
  readonly agent: https.Agent;
  namespace(): string;
  serviceAccountToken(): string;
  /** A JSON request; ClusterUnavailable when the server cannot be reached, is slow, or fails (5xx). */
  request<T>(
    method: string,
    url: string,
    options?: { token?: string; body?: unknown },
  ): Promise<{ status: number; body: T }>;
}

function readIfThere(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export function connectCluster(options: ClusterOptions): Cluster {
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const apiUrl = `https://${host}:${options.port}`;
  // One secure context for every connection: building one parses each CA
  // certificate again (about 145 of them with the public roots), tens of ms of
  // CPU and native memory per connection when done per request.
  const ca = [
    ...(options.trustPublicCas ? tls.rootCertificates : []),
    readIfThere(path.join(options.serviceAccountDir, 'ca.crt')),
    readIfThere(path.join(options.serviceAccountDir, 'service-ca.crt')),
    options.extraCaFile ? readIfThere(options.extraCaFile) : null,
  ].filter((pem): pem is string => Boolean(pem));
  // An explicit list, even empty: without one Node would trust its public roots.
  const secureContext = tls.createSecureContext({ ca });
  const agent = new TimeoutAgent({
    secureContext,
    rejectUnauthorized: !options.insecure,
    keepAlive: true,
    maxSockets: MAX_SOCKETS,
    maxFreeSockets: MAX_FREE_SOCKETS,
    timeout: TIMEOUT_MS,
  });

  const file = (name: string) => {
    const text = readIfThere(path.join(options.serviceAccountDir, name));
    if (text === null) throw new ClusterUnavailable(`no service account ${name} in ${options.serviceAccountDir}`);
    return text.trim();
  };

  return {
    apiUrl,
    agent,
    namespace: () => file('namespace'),
    serviceAccountToken: () => file('token'),
    request<T>(method: string, url: string, request: { token?: string; body?: unknown } = {}) {
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        const body = request.body === undefined ? undefined : JSON.stringify(request.body);
        const req = https.request(
          url,
          {
            method,
            agent,
            timeout: TIMEOUT_MS,
            headers: {
              Accept: 'application/json',
              ...(body ? { 'Content-Type': 'application/json' } : {}),
              ...(request.token ? { Authorization: `Bearer ${request.token}` } : {}),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              if (status >= 500) {
                reject(new ClusterUnavailable(`${new URL(url).pathname} answered ${status}`));
                return;
              }
              try {
                resolve({ status, body: (text ? JSON.parse(text) : null) as T });
              } catch {
                reject(new ClusterUnavailable(`${new URL(url).pathname} answered with something that is not JSON`));
              }
            });
            res.on('error', (error) => reject(new ClusterUnavailable(error.message)));
          },
        );
        req.on('timeout', () => req.destroy(new ClusterUnavailable('timed out')));
        req.on('error', (error) =>
          reject(error instanceof ClusterUnavailable ? error : new ClusterUnavailable(error.message)),
        );
        req.end(body);
      });
    },
  };
}
