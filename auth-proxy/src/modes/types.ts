// What every auth mode provides. The proxy core knows modes only through this.
import type http from 'node:http';
import type { Access } from '../../../common/src/protocol.js';
import type { ClientInfo } from '../client-info.js';

export type Verdict =
  /** Let in: as the terminal's owner, or as a viewer (read-only unless the owner hands over the keyboard). */
  | { allowed: true; user: string; access: Access }
  /** Refused: the status (401, 403, or 429 for too many attempts), headers such as WWW-Authenticate, and a short reason for the log and page. */
  | { allowed: false; status: 401 | 403 | 429; reason: string; headers?: Record<string, string>; logout?: string }
  /** Cannot decide now: what the mode asks (an OAuth or API server) is not answering. */
  | { allowed: false; status: 503; reason: string }
  /** Not logged in yet, and the mode logs people in through the browser: send them here. */
  | { allowed: false; status: 302; reason: string; location: string };

/** Answers a request, or calls next() (next(error) on a failure) to let the proxy go on with it. */
export type RequestHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  next: (error?: unknown) => void,
) => void;

export interface AuthMode {
  readonly name: string;
  /** Whose terminal this is, as viewers are shown it ('' when the mode does not know). */
  readonly owner: string;
  /**
   * Whether other people's servers are served from this terminal's web origin
   * (JupyterHub without subdomain_host): a page any of them serves can then use
   * a visitor's cookies here. Viewers are told so.
   */
  readonly sharedOrigin: boolean;
  /** Routes of the mode's own (login callbacks, logout) under the prefix, before the check. */
  handle?: RequestHandler;
  /**
   * Decides about one request: an HTTP request (with its response, where the
   * mode may set a cookie) or a WebSocket upgrade (without) alike.
   */
  check(req: http.IncomingMessage, client: ClientInfo, res?: http.ServerResponse): Promise<Verdict>;
  /** One line for the start-up log. */
  describe(): string;
}
