// One WebSocket from one page: attaches (with the attach from its URL at once,
// or its first frame's), then turns frames into session calls. Every frame is validated; a bad one gets an error message
// on this connection and changes nothing else.
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Logger, RepeatLimit } from '../../common/src/log.js';
import {
  type ClientMessage,
  CloseCode,
  decodeAttachQuery,
  decodeClientMessage,
  encodeControl,
  Limits,
  ProtocolError,
  type ServerControl,
} from '../../common/src/protocol.js';
import type { Requester } from '../../common/src/terminal-link.js';
import {
  type PageLink,
  ServerStoppingError,
  type SessionManager,
  TooManyPagesError,
  TooManySessionsError,
} from './sessions.js';
import { RefusedError } from './viewers.js';

/** How long a page has to send its attach message. */
export const ATTACH_TIMEOUT_MS = 10_000;
/** Server pings keep idle connections alive through routers and find dead ones. */
export const PING_INTERVAL_MS = 25_000;
/**
 * A connection closed for sending too many bad frames is no longer read, so
 * its close frame in reply (queued behind whatever else it sent) never arrives:
 * it is dropped once the server's close frame has had time to go out and be
 * read. Dropping it sooner resets the connection (it has unread data), and a
 * reset throws away the close frame too if the page has not read it yet: a busy
 * page (one still sending its flood) then never learns why. A few seconds of an
 * idle, unread socket cost nothing.
 */
const CUT_OFF_GRACE_MS = 5000;

export function handleConnection(options: {
  socket: WebSocket;
  sessionName: string;
  sessions: SessionManager;
  logger: Logger;
  /** For lines a page can cause again and again; keyed by page. */
  repeats: RepeatLimit;
  /** The value of the URL's attach parameter, when it had one. */
  attachQuery?: string | undefined;
  /** Who opened the page, as the auth proxy said (the owner when it said nothing). */
  requester: Requester;
}): void {
  const { socket, sessionName, sessions, logger, repeats, requester } = options;
  const id = randomBytes(6).toString('base64url');
  let session: ReturnType<SessionManager['open']> | undefined;
  let errors = 0;
  let alive = true;
  let cutOffTimer: NodeJS.Timeout | undefined;

  const link: PageLink = {
    id,
    sendFrame(frame) {
      if (socket.readyState === socket.OPEN) socket.send(frame, { binary: true });
    },
    sendControl(message: ServerControl) {
      if (socket.readyState === socket.OPEN) socket.send(encodeControl(message), { binary: true });
    },
    get bufferedBytes() {
      return socket.bufferedAmount;
    },
    close(code, reason) {
      socket.close(code, reason);
    },
  };

  /** Closes the connection and reads nothing more from it: what it sent after is never parsed. */
  const cutOff = (code: number, reason: string) => {
    socket.close(code, reason);
    socket.pause();
    cutOffTimer = setTimeout(() => socket.terminate(), CUT_OFF_GRACE_MS);
  };

  const refuse = (message: string) => {
    errors++;
    repeats.log('warn', id, 'page.bad_message', { session: sessionName, page: id, reason: message });
    link.sendControl({ type: 'error', message });
    if (errors >= Limits.maxBadMessages) cutOff(CloseCode.PolicyViolation, 'too many bad messages');
  };

  const attachTimer = setTimeout(() => {
    if (!session) socket.close(CloseCode.AttachFailed, 'no attach message');
  }, ATTACH_TIMEOUT_MS);

  const pinger = setInterval(() => {
    if (!alive) {
      logger.info('page.timeout', { session: sessionName, page: id });
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, PING_INTERVAL_MS);
  socket.on('pong', () => {
    alive = true;
  });

  const attach = (message: ClientMessage & { type: 'attach' }) => {
    clearTimeout(attachTimer);
    const existing = sessions.get(sessionName);
    if (message.instance && (!existing || (existing.instance !== message.instance && !existing.seenByAPage))) {
      // The page shows a shell that is gone (it exited, or this server restarted
      // since): say so, rather than start a new one nobody asked for, or slip it
      // one that was started ahead of time (TERMINAL_PRESTART) in its place.
      logger.info('session.gone', { session: sessionName, page: id });
      link.sendControl({ type: 'gone' });
      socket.close(CloseCode.SessionEnded, 'session ended');
      return;
    }
    if (!existing && requester.access === 'viewer') {
      // Starting a shell is the owner's to do: a viewer only ever watches one.
      logger.info('session.not_started', { session: sessionName, page: id, user: requester.user });
      link.sendControl({
        type: 'error',
        message: `There is no terminal session named ${sessionName} open right now, and only its owner can start one`,
      });
      socket.close(CloseCode.NotStarted, 'not started');
      return;
    }
    try {
      session = existing ?? sessions.open(sessionName, message);
    } catch (error) {
      if (error instanceof ServerStoppingError) {
        // The page comes back by itself once the server has restarted.
        socket.close(CloseCode.ServerStopping, 'server stopping');
        return;
      }
      if (!(error instanceof TooManySessionsError)) throw error;
      logger.warn('session.refused', { session: sessionName, page: id, reason: error.message });
      link.sendControl({ type: 'error', message: error.message });
      socket.close(CloseCode.TooManySessions, 'too many sessions');
      return;
    }
    try {
      session.attach(link, message, requester);
    } catch (error) {
      if (!(error instanceof TooManyPagesError)) throw error;
      // Keyed by session: a crowd of refused pages adds a few lines and a count.
      repeats.log('warn', `pages ${sessionName}`, 'session.refused', {
        session: sessionName,
        page: id,
        access: requester.access,
        reason: error.message,
      });
      link.sendControl({ type: 'error', message: error.message });
      socket.close(CloseCode.TooManyPages, 'too many pages');
      session = undefined;
    }
  };

  socket.on('message', (data, isBinary) => {
    // Once closing, frames ws had already read (a whole burst of them) are still
    // delivered: they are not decoded, answered or logged.
    if (socket.readyState !== socket.OPEN) return;
    alive = true;
    if (!isBinary) {
      refuse('text frames are not part of the protocol; send binary frames');
      return;
    }
    let message: ClientMessage;
    try {
      message = decodeClientMessage(toBytes(data));
    } catch (error) {
      if (error instanceof ProtocolError) {
        if (!session) {
          socket.close(CloseCode.AttachFailed, error.message.slice(0, 120));
          return;
        }
        refuse(error.message);
        return;
      }
      throw error;
    }
    if (!session) {
      if (message.type !== 'attach') {
        socket.close(CloseCode.AttachFailed, 'the first message must be attach');
        return;
      }
      attach(message);
      return;
    }
    try {
      switch (message.type) {
        case 'input':
          // Input goes to the program as bytes; it must be text the page typed or pasted.
          if (!isUtf8(message.data)) {
            refuse('input was not valid UTF-8 and was ignored');
            return;
          }
          session.input(link, message.data);
          return;
        case 'resize':
          session.resize(link, message.cols, message.rows);
          return;
        case 'ack':
          session.ack(link, message.position);
          return;
        case 'keyboard':
          session.setKeyboard(link, message.user, message.allow);
          return;
        case 'attach':
          refuse('already attached');
          return;
      }
    } catch (error) {
      // Whatever the page sends, a viewer's input never reaches the program.
      if (error instanceof RefusedError) {
        refuse(error.message);
        return;
      }
      throw error;
    }
  });

  socket.on('close', (code) => {
    clearTimeout(attachTimer);
    clearTimeout(cutOffTimer);
    clearInterval(pinger);
    repeats.flush(id);
    repeats.flush(`${id} socket`);
    session?.detach(link, `closed ${code}`);
  });
  socket.on('error', (error) => {
    // Oversized or malformed WebSocket frames end up here; ws closes the socket
    // (and reports one error per socket today, but a page must not be able to fill the log).
    repeats.log('warn', `${id} socket`, 'page.socket_error', { session: sessionName, page: id, reason: error.message });
  });

  // The attach in the URL: the page's first output goes out now, not after a round trip.
  if (options.attachQuery !== undefined) {
    try {
      attach(decodeAttachQuery(options.attachQuery));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      socket.close(CloseCode.AttachFailed, error.message.slice(0, 120));
    }
  }
}

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}
