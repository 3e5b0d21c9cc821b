// The room on disk (SQLite, better-sqlite3): every event as it came, for the
// export, and each attendee's row as it stands, so a restart finds the room as
// it was without replaying hours of events. One write transaction per posted
// batch; WAL so the export's reads never wait for the writes.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { RoomEvent, RoomRow } from '../../common/src/protocol.js';

export interface StoredEvent {
  id: number;
  user: string;
  /** When the service received it (its own clock, ms). */
  received: number;
  event: RoomEvent;
}

export interface RoomStore {
  /** The rows kept, as they were last saved. */
  rows(): RoomRow[];
  /** Keeps a batch's events and the rows they changed, all or nothing. */
  saveBatch(user: string, received: number, events: readonly RoomEvent[], row: RoomRow): void;
  /** Keeps rows changed by something else than events (the hub's view of servers). */
  saveRows(rows: readonly RoomRow[]): void;
  /** Up to `limit` events after the one numbered `after`, oldest first. */
  events(after: number, limit: number): StoredEvent[];
  /** How many events are kept. */
  count(): number;
  /**
   * A secret of the room's own, made at the first start and kept: it seals the
   * instructors' login cookies when no SESSION_SECRET is set, so that a restart
   * does not log them out. Only the service reads its database.
   */
  cookieSecret(): string;
  /** Forgets every event and row. */
  clear(): void;
  close(): void;
}

export function openStore(file: string): RoomStore {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // With WAL, NORMAL syncs at checkpoints only: a committed batch survives the
  // process ending (the OS has it); only a power cut may lose the last ones.
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY,
      user TEXT NOT NULL,
      received INTEGER NOT NULL,
      event TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS rows (
      user TEXT PRIMARY KEY,
      row TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS settings (
      name TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
  db.prepare("INSERT OR IGNORE INTO settings (name, value) VALUES ('cookie-secret', ?)").run(
    randomBytes(32).toString('base64url'),
  );
  const secret = (db.prepare("SELECT value FROM settings WHERE name = 'cookie-secret'").get() as { value: string })
    .value;
  const insertEvent = db.prepare('INSERT INTO events (user, received, event) VALUES (?, ?, ?)');
  const saveRow = db.prepare(
    'INSERT INTO rows (user, row) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET row = excluded.row',
  );
  const selectRows = db.prepare('SELECT row FROM rows ORDER BY user');
  const selectEvents = db.prepare('SELECT id, user, received, event FROM events WHERE id > ? ORDER BY id LIMIT ?');
  const countEvents = db.prepare('SELECT count(*) AS n FROM events');

  const batch = db.transaction((user: string, received: number, events: readonly RoomEvent[], row: RoomRow) => {
    for (const event of events) insertEvent.run(user, received, JSON.stringify(event));
    saveRow.run(user, JSON.stringify(row));
  });
  const many = db.transaction((rows: readonly RoomRow[]) => {
    for (const row of rows) saveRow.run(row.user, JSON.stringify(row));
  });
  const wipe = db.transaction(() => {
    db.exec('DELETE FROM events; DELETE FROM rows;');
  });

  return {
    rows: () => (selectRows.all() as { row: string }[]).map(({ row }) => JSON.parse(row) as RoomRow),
    saveBatch: (user, received, events, row) => batch(user, received, events, row),
    saveRows: (rows) => {
      if (rows.length > 0) many(rows);
    },
    events: (after, limit) =>
      (selectEvents.all(after, limit) as { id: number; user: string; received: number; event: string }[]).map((r) => ({
        id: r.id,
        user: r.user,
        received: r.received,
        event: JSON.parse(r.event) as RoomEvent,
      })),
    count: () => (countEvents.get() as { n: number }).n,
    cookieSecret: () => secret,
    clear: () => wipe(),
    close: () => db.close(),
  };
}
