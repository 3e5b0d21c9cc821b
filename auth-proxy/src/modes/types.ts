// What every auth mode provides. The proxy core knows modes only through this.
import type http from 'node:http';
import type { Router } from 'express';
import type { ClientInfo } from '../client-info.js';

export type Verdict =
  | { allowed: true; user: string }
  /** Refused: the status (401, 403, or 429 for too many attempts), headers such as WWW-Authenticate, and a short reason for the log and page. */
  | { allowed: false; status: 401 | 403 | 429; reason: string; headers?: Record<string, string>; logout?: string }
  /** Cannot decide now: what the mode asks (an OAuth or API server) is not answering. */
  | { allowed: false; status: 503; reason: string }
  /** Not logged in yet, and the mode logs people in through the browser: send them here. */
  | { allowed: false; status: 302; reason: string; location: string };

export interface AuthMode {
  readonly name: string;
  /** Routes of the mode's own (login callbacks, logout), mounted under the prefix before the check. */
  mount?(router: Router): void;
  /** Decides about one request: an HTTP request or a WebSocket upgrade alike. */
  check(req: http.IncomingMessage, client: ClientInfo): Promise<Verdict>;
  /** One line for the start-up log. */
  describe(): string;
}
