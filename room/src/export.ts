// The room taken away: every event as it came (CSV or JSON) with the rows as
// they stand (JSON), written a page of events at a time so a long workshop's
// thousands of events neither sit in memory nor hold up the posts meanwhile.
import { once } from 'node:events';
import type http from 'node:http';
import type { RoomRow } from '../../common/src/protocol.js';
import type { RoomStore, StoredEvent } from './store.js';

const PAGE = 2000;

const COLUMNS = [
  'id',
  'received',
  'user',
  'at',
  'type',
  'page',
  'index',
  'pages',
  'block',
  'action',
  'session',
  'exit',
  'command',
  'output',
  'name',
  'passed',
  'active',
  'raised',
  'message',
] as const;

/**
 * One CSV cell. Attendee text that a spreadsheet would take for a formula
 * (=, +, -, @, a tab or a carriage return first) gets a leading ' so that it
 * stays text when the file is opened.
 */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(stored: StoredEvent): string {
  const fields: Record<string, unknown> = {
    ...stored.event,
    id: stored.id,
    received: new Date(stored.received).toISOString(),
    user: stored.user,
    at: new Date(stored.event.at).toISOString(),
  };
  return `${COLUMNS.map((column) => cell(fields[column])).join(',')}\r\n`;
}

async function writeAll(res: http.ServerResponse, text: string): Promise<void> {
  if (!res.write(text)) await once(res, 'drain');
}

export async function exportRoom(
  res: http.ServerResponse,
  store: RoomStore,
  rows: readonly RoomRow[],
  format: 'csv' | 'json',
): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.writeHead(200, {
    'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Disposition': `attachment; filename="room-${stamp}.${format}"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (format === 'csv') await writeAll(res, `${COLUMNS.join(',')}\r\n`);
  else
    await writeAll(
      res,
      `{"exported":${JSON.stringify(new Date().toISOString())},"rows":${JSON.stringify(rows)},"events":[`,
    );
  let after = 0;
  let first = true;
  for (;;) {
    if (res.destroyed) return;
    const page = store.events(after, PAGE);
    if (page.length === 0) break;
    let chunk = '';
    for (const stored of page) {
      if (format === 'csv') chunk += csvLine(stored);
      else {
        chunk += `${first ? '' : ','}${JSON.stringify({ id: stored.id, user: stored.user, received: stored.received, ...stored.event })}`;
        first = false;
      }
    }
    after = page[page.length - 1]?.id ?? after;
    await writeAll(res, chunk);
  }
  res.end(format === 'json' ? ']}\n' : undefined);
}
