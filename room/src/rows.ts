// One row per attendee, kept from their events (in the order they arrive) and
// from what the hub says of their server. Pure: the store keeps the rows, the
// stream sends them.
import type { RoomEvent, RoomRow } from '../../common/src/protocol.js';

export function emptyRow(user: string): RoomRow {
  return {
    user,
    server: 'stopped',
    serverUrl: null,
    page: null,
    reached: 0,
    checksPassed: 0,
    checksFailed: 0,
    lastAt: null,
    active: false,
    lastFailure: null,
    problem: null,
    hand: null,
  };
}

/** The place of a page when it is the page shown, else 0 (events name pages; the row knows the place of one). */
function indexOf(row: RoomRow, page: string | null): number {
  return row.page && page === row.page.name ? row.page.index : 0;
}

type Problem = NonNullable<RoomRow['problem']>;
type OnBlock = Pick<Problem, 'page' | 'block'>;

/** Whether the row's problem is on the block `event` is about. */
function onProblemBlock(row: RoomRow, event: OnBlock): boolean {
  return row.problem?.page === event.page && row.problem.block === event.block;
}

/** The problem a failure on a block is, counted from the first failure there while it stays. */
function problemAt(row: RoomRow, kind: Problem['kind'], event: OnBlock & { at: number }, output: string): Problem {
  return {
    kind,
    at: onProblemBlock(row, event) ? (row.problem as Problem).at : event.at,
    page: event.page,
    index: indexOf(row, event.page),
    block: event.block,
    output,
  };
}

/** `row` after `event` (a new object; `row` is not changed). */
export function applyEvent(row: RoomRow, event: RoomEvent): RoomRow {
  const next: RoomRow = { ...row, lastAt: Math.max(row.lastAt ?? 0, event.at) };
  if (event.type !== 'activity') next.active = true;
  switch (event.type) {
    case 'page':
      next.page = { name: event.page, index: event.index, pages: event.pages, at: event.at };
      next.reached = Math.max(row.reached, event.index);
      // Moving to another page leaves what failed on the last one behind.
      if (row.problem && row.problem.page !== event.page) next.problem = null;
      break;
    case 'block':
      break;
    case 'command':
      if (event.exit !== 0) {
        next.lastFailure = {
          at: event.at,
          exit: event.exit,
          command: event.command,
          output: event.output,
          page: event.page,
          block: event.block,
        };
        next.problem = problemAt(row, 'command', event, event.output);
      } else if (onProblemBlock(row, event)) {
        next.problem = null;
      }
      break;
    case 'check':
      if (event.passed) {
        next.checksPassed = row.checksPassed + 1;
        if (onProblemBlock(row, event)) next.problem = null;
      } else {
        next.checksFailed = row.checksFailed + 1;
        // A check has no output of its own: a failing command's on the same block stays.
        next.problem = problemAt(row, 'check', event, onProblemBlock(row, event) ? (row.problem?.output ?? '') : '');
      }
      break;
    case 'activity':
      next.active = event.active;
      break;
    case 'hand':
      // Raising again keeps the wait counted from the first raise.
      next.hand = event.raised ? { at: row.hand?.at ?? event.at, message: event.message } : null;
      break;
  }
  return next;
}

/** A user's server as the hub's API describes it (GET /hub/api/users). */
export interface HubServer {
  ready?: boolean;
  pending?: string | null;
  url?: string;
}

/** `row` with its server's state from the hub: running, starting or stopped, and where it is. */
export function withServer(row: RoomRow, server: HubServer | undefined, hubHost: string): RoomRow {
  const state: RoomRow['server'] = !server ? 'stopped' : server.ready ? 'running' : 'starting';
  let url: string | null = null;
  if (server && typeof server.url === 'string' && server.url.startsWith('/')) url = `${hubHost}${server.url}`;
  else if (server && typeof server.url === 'string' && /^https?:\/\//.test(server.url)) url = server.url;
  if (row.server === state && row.serverUrl === url) return row;
  return { ...row, server: state, serverUrl: url };
}
