// What the dashboard's page tells its server for the room (dashboard/page/room.ts):
// one event per POST to <prefix>/dashboard/room/events, checked here against the
// contract (common/src/protocol.ts, RoomEvent) and against the workshop: only its
// pages and checks, a block's place, the hand's short message. The server stamps
// the time. Only the owner's pages get here (a viewer's POST is refused before).
import { HttpError } from '../../common/src/http-error.js';
import { ROOM_LIMITS, type RoomEvent, SESSION_NAME } from '../../common/src/protocol.js';
import { cutText } from '../../terminal-server/src/shell-marks.js';

/** What a page's request asks the room to be told. */
export interface PageReport {
  event: RoomEvent;
  /** The sessions a clicked block types into: the next command started in each is that block's. */
  typedInto: string[];
}

/** The most sessions one block types into (execute-all on the three terminals, and a few tabs). */
const MAX_SESSIONS = 8;
/** Far more blocks than any page has. */
const MAX_BLOCK = 10_000;
const ACTION = /^[a-z][a-z0-9:-]{0,39}$/;

export function pageReport(
  body: unknown,
  workshop: { pages: readonly { name: string }[]; checks: ReadonlySet<string> },
  at: number,
): PageReport {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('an event is a JSON object');
  const fields = body as Record<string, unknown>;
  const page = () => {
    const name = fields.page;
    const index = workshop.pages.findIndex((p) => p.name === name);
    if (typeof name !== 'string' || index < 0) throw bad('page must name a page of the workshop');
    return { name: cutText(name), index: index + 1 };
  };
  const block = () => {
    const value = fields.block;
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_BLOCK) {
      throw bad(`block must be the block's place on its page, from 1 to ${MAX_BLOCK}`);
    }
    return value as number;
  };
  switch (fields.type) {
    case 'page': {
      const { name, index } = page();
      return { event: { type: 'page', at, page: name, index, pages: workshop.pages.length }, typedInto: [] };
    }
    case 'block': {
      const { name } = page();
      const place = block();
      if (typeof fields.action !== 'string' || !ACTION.test(fields.action)) {
        throw bad('action must be the kind of block (execute, examiner, …)');
      }
      const sessions = fields.sessions ?? [];
      if (
        !Array.isArray(sessions) ||
        sessions.length > MAX_SESSIONS ||
        !sessions.every((s) => typeof s === 'string' && SESSION_NAME.test(s))
      ) {
        throw bad(`sessions must be at most ${MAX_SESSIONS} session names`);
      }
      return {
        event: { type: 'block', at, page: name, block: place, action: fields.action },
        typedInto: [...new Set(sessions as string[])],
      };
    }
    case 'check': {
      const { name } = page();
      const place = block();
      if (typeof fields.name !== 'string' || !workshop.checks.has(fields.name)) {
        throw bad('name must be a check of the workshop');
      }
      if (typeof fields.passed !== 'boolean') throw bad('passed must be true or false');
      return {
        event: { type: 'check', at, page: name, block: place, name: cutText(fields.name), passed: fields.passed },
        typedInto: [],
      };
    }
    case 'hand': {
      if (typeof fields.raised !== 'boolean') throw bad('raised must be true or false');
      const message = fields.message ?? '';
      if (typeof message !== 'string' || Array.from(message).length > ROOM_LIMITS.textChars) {
        throw bad(`message must be text of at most ${ROOM_LIMITS.textChars} characters`);
      }
      // A lowered hand has nothing to say.
      const said = fields.raised ? message.replace(/[\p{Cc}\p{Cf}]/gu, ' ').trim() : '';
      return { event: { type: 'hand', at, raised: fields.raised, message: said }, typedInto: [] };
    }
    default:
      throw bad('type must be page, block, check or hand');
  }
}

function bad(message: string): HttpError {
  return new HttpError(400, message);
}
