// The WebSockets admission let in, asked about again while they stay open: a
// login that ends (logged out, lost its rights) ends the WebSockets it opened
// too. One whose access changed (an owner who is now only a viewer) is ended
// too: the page comes back as what it now is.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../common/src/log.js';
import type { Access } from '../../common/src/protocol.js';
import type { ClientInfo } from './client-info.js';
import type { AuthMode } from './modes/types.js';

export interface AdmittedSockets {
  add(open: { req: http.IncomingMessage; socket: Duplex; client: ClientInfo; access: Access }): void;
  close(): void;
}

export function watchAdmittedSockets(options: { mode: AuthMode; recheckMs: number; logger: Logger }): AdmittedSockets {
  const { mode, logger } = options;
  const open = new Set<{ req: http.IncomingMessage; socket: Duplex; client: ClientInfo; access: Access }>();
  const timer = setInterval(
    async () => {
      for (const one of [...open]) {
        const verdict = await mode.check(one.req, one.client).catch(() => null);
        // The mode cannot tell now (its server is down): the login stands until it can.
        if (!verdict || (!verdict.allowed && verdict.status === 503)) continue;
        if (!verdict.allowed || verdict.access !== one.access) {
          const reason = verdict.allowed ? `now ${verdict.access}` : verdict.reason;
          logger.warn('upgrade.revoked', { reason, client: one.client.address });
          open.delete(one);
          one.socket.destroy();
        }
      }
    },
    Math.max(1000, options.recheckMs / 2),
  );
  timer.unref();
  return {
    add(one) {
      open.add(one);
      one.socket.once('close', () => open.delete(one));
    },
    close() {
      clearInterval(timer);
    },
  };
}
