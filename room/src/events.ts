// What a stack posts, checked before anything is kept: the batch's shape, then
// each event on its own. A bad event is refused with its reason and the others
// are kept; texts are cut to ROOM_LIMITS.textChars rather than refused (a long
// output line is still worth its first part).
import { ROOM_LIMITS, type RoomEvent } from '../../common/src/protocol.js';

export interface CheckedBatch {
  events: RoomEvent[];
  refused: { index: number; reason: string }[];
}

/** Times more than this far from the service's clock are not a stack's clock being off: refused. */
const CLOCK_SKEW_MS = 24 * 3600_000;
/** Page and block numbers, and pages in a workshop, at most. */
const MAX_PLACE = 10_000;

class BadEvent extends Error {}

type Fields = Record<string, unknown>;

function cutText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new BadEvent(`${field} must be a string`);
  // Cut by code points, so a cut never leaves half a surrogate pair.
  const chars = Array.from(
    value.length > ROOM_LIMITS.textChars * 2 ? value.slice(0, ROOM_LIMITS.textChars * 2) : value,
  );
  return chars.length > ROOM_LIMITS.textChars ? chars.slice(0, ROOM_LIMITS.textChars).join('') : value;
}

function place(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PLACE) {
    throw new BadEvent(`${field} must be a whole number from 1 to ${MAX_PLACE}`);
  }
  return value as number;
}

function flag(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new BadEvent(`${field} must be true or false`);
  return value;
}

function time(value: unknown, now: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value - now) > CLOCK_SKEW_MS) {
    throw new BadEvent('at must be a time in ms since 1970 within a day of now');
  }
  return Math.round(value);
}

/** One event as the contract has it (unknown fields dropped), or BadEvent saying why not. */
function checkEvent(raw: unknown, now: number): RoomEvent {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadEvent('an event must be an object');
  const e = raw as Fields;
  const at = time(e.at, now);
  switch (e.type) {
    case 'page': {
      const index = place(e.index, 'index');
      const pages = place(e.pages, 'pages');
      if (index > pages) throw new BadEvent('index must not be above pages');
      return { type: 'page', at, page: cutText(e.page, 'page'), index, pages };
    }
    case 'block':
      return {
        type: 'block',
        at,
        page: cutText(e.page, 'page'),
        block: place(e.block, 'block'),
        action: cutText(e.action, 'action'),
      };
    case 'command': {
      if (!Number.isInteger(e.exit) || (e.exit as number) < -1 || (e.exit as number) > 65_535) {
        throw new BadEvent('exit must be a whole number from -1 to 65535');
      }
      return {
        type: 'command',
        at,
        session: cutText(e.session, 'session'),
        exit: e.exit as number,
        command: cutText(e.command, 'command'),
        output: cutText(e.output, 'output'),
        page: e.page === null ? null : cutText(e.page, 'page'),
        block: e.block === null ? null : place(e.block, 'block'),
      };
    }
    case 'check':
      return {
        type: 'check',
        at,
        page: cutText(e.page, 'page'),
        block: place(e.block, 'block'),
        name: cutText(e.name, 'name'),
        passed: flag(e.passed, 'passed'),
      };
    case 'activity':
      return { type: 'activity', at, active: flag(e.active, 'active') };
    case 'hand':
      return { type: 'hand', at, raised: flag(e.raised, 'raised'), message: cutText(e.message, 'message') };
    default:
      throw new BadEvent(
        typeof e.type === 'string' ? `unknown type ${JSON.stringify(e.type.slice(0, 40))}` : 'type must be a string',
      );
  }
}

/** Thrown for a batch refused whole: its HTTP status and why. */
export class BadBatch extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The events of a posted body (already within ROOM_LIMITS.batchBytes), each checked; BadBatch for a body refused whole. */
export function checkBatch(body: string, now: number = Date.now()): CheckedBatch {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadBatch(400, 'the body must be JSON');
  }
  const list = parsed && typeof parsed === 'object' ? (parsed as { events?: unknown }).events : undefined;
  if (!Array.isArray(list)) throw new BadBatch(400, 'the body must be {"events": [...]}');
  if (list.length > ROOM_LIMITS.batchEvents) {
    throw new BadBatch(413, `at most ${ROOM_LIMITS.batchEvents} events in one batch`);
  }
  const batch: CheckedBatch = { events: [], refused: [] };
  list.forEach((raw, index) => {
    try {
      batch.events.push(checkEvent(raw, now));
    } catch (error) {
      if (!(error instanceof BadEvent)) throw error;
      batch.refused.push({ index, reason: error.message });
    }
  });
  return batch;
}
