// The room pushed to the instructors' pages (Server-Sent Events): a snapshot,
// then the rows that changed, gathered and sent at most every FLUSH_MS however
// many events come in. A page that cannot keep up is let go (its EventSource
// reconnects and starts again from a snapshot) rather than buffered for.
import type http from 'node:http';
import { ROOM_PING_MS, type RoomRow, type RoomStreamMessage } from '../../common/src/protocol.js';

/** At most four updates a second reach a page. */
const FLUSH_MS = 250;
/**
 * A ping this often keeps proxies from closing a quiet stream, and tells the
 * page the stream is alive: the hub's proxy does not end a page's stream when
 * the service behind it goes away, so the page counts on these (ROOM_PING_MS).
 */
const HEARTBEAT_MS = ROOM_PING_MS;
/** Bytes waiting for a page before it is let go. */
const MAX_BUFFERED = 8 << 20;

export interface RoomStream {
  /** Serves one page's stream, starting with `snapshot`. */
  open(req: http.IncomingMessage, res: http.ServerResponse, snapshot: RoomStreamMessage): void;
  /** Marks a row changed (or gone, as null), to be sent at the next flush. */
  changed(user: string, row: RoomRow | null): void;
  /** Sends everyone a new snapshot at once (after the room was cleared). */
  restart(snapshot: RoomStreamMessage): void;
  readonly clients: number;
  close(): void;
}

export function roomStream(): RoomStream {
  const clients = new Set<http.ServerResponse>();
  const dirty = new Map<string, RoomRow | null>();
  let timer: NodeJS.Timeout | undefined;

  function write(res: http.ServerResponse, message: RoomStreamMessage | string): void {
    if (res.writableLength > MAX_BUFFERED) {
      clients.delete(res);
      res.destroy();
      return;
    }
    res.write(typeof message === 'string' ? message : `data: ${JSON.stringify(message)}\n\n`);
  }

  function flush(): void {
    timer = undefined;
    if (dirty.size === 0) return;
    const rows: RoomRow[] = [];
    const removed: string[] = [];
    for (const [user, row] of dirty) {
      if (row) rows.push(row);
      else removed.push(user);
    }
    dirty.clear();
    // Serialised once for every page.
    const frame = `data: ${JSON.stringify({ type: 'rows', rows, removed, now: Date.now() } satisfies RoomStreamMessage)}\n\n`;
    for (const res of clients) write(res, frame);
  }

  const heartbeat = setInterval(() => {
    for (const res of clients) write(res, 'event: ping\ndata: {}\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    open(req, res, snapshot) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        // Proxies (nginx, OpenShift's router) must pass each event on as it comes.
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      req.socket.setNoDelay(true);
      clients.add(res);
      write(res, snapshot);
      res.on('close', () => clients.delete(res));
    },
    changed(user, row) {
      dirty.set(user, row);
      if (!timer && clients.size > 0) timer = setTimeout(flush, FLUSH_MS);
      if (clients.size === 0) dirty.clear();
    },
    restart(snapshot) {
      dirty.clear();
      for (const res of clients) write(res, snapshot);
    },
    get clients() {
      return clients.size;
    },
    close() {
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
