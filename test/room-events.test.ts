// The room's sender (terminal-server/src/room-events.ts) against a real local
// HTTP server standing in for the room service: batches, the token, back-off and
// retry once the service is back, drops counted while it is away, refused batches.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Fields, Logger } from '../common/src/log.js';
import { ROOM_LIMITS, type RoomEvent } from '../common/src/protocol.js';
import { Room, TIE_MS } from '../terminal-server/src/room.js';
import { RoomSender } from '../terminal-server/src/room-events.js';
import { type RoomStandIn, startRoomStandIn } from './harness/room-stand-in.js';
import { eventually } from './harness/servers.js';

/** A logger that keeps its lines, to look at what was logged and how often. */
function keptLogger(): Logger & { lines: { event: string; fields: Fields }[] } {
  const lines: { event: string; fields: Fields }[] = [];
  const keep = (event: string, fields: Fields = {}) => void lines.push({ event, fields });
  const logger = { lines, debug: keep, info: keep, warn: keep, error: keep, child: () => logger };
  return logger;
}

const activity = (n: number): RoomEvent => ({ type: 'activity', at: n, active: n % 2 === 0 });
const numbers = (events: RoomEvent[]) => events.map((event) => event.at);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('room events sender', () => {
  let service: RoomStandIn;
  const senders: RoomSender[] = [];
  const sender = (options: Partial<ConstructorParameters<typeof RoomSender>[0]> = {}) => {
    const made = new RoomSender({
      url: service.url,
      token: 'the-hub-token',
      logger: keptLogger(),
      intervalMs: 50,
      backoffMs: 20,
      maxBackoffMs: 200,
      ...options,
    });
    senders.push(made);
    return made;
  };
  before(async () => {
    service = await startRoomStandIn();
  });
  after(async () => {
    for (const made of senders) await made.close(0);
    await service.stop();
  });

  test('events go in batches of ROOM_LIMITS.batchEvents, in order, each once, with the hub token', async () => {
    service.batches.length = 0;
    const room = sender({ intervalMs: 60_000 });
    for (let i = 0; i < 250; i++) room.add(activity(i));
    // Two whole batches go at once; the rest waits for the next tick (an hour here) or for close.
    await eventually(() => service.events.length === 200, 10_000, 'the two whole batches');
    assert.deepEqual(
      service.batches.map((batch) => batch.events.length),
      [ROOM_LIMITS.batchEvents, ROOM_LIMITS.batchEvents],
    );
    await room.close();
    assert.deepEqual(numbers(service.events), range(0, 250));
    assert.ok(service.batches.every((batch) => batch.authorization === 'token the-hub-token'));
  });

  test('a batch stays under ROOM_LIMITS.batchBytes', async () => {
    service.batches.length = 0;
    const room = sender({ intervalMs: 60_000 });
    const text = 'x'.repeat(ROOM_LIMITS.textChars);
    for (let i = 0; i < 200; i++) {
      room.add({ type: 'command', at: i, session: '1', exit: 1, command: text, output: text, page: text, block: 1 });
    }
    await room.close();
    await eventually(() => service.events.length > 0, 10_000, 'a batch');
    for (const batch of service.batches) {
      assert.ok(Buffer.byteLength(JSON.stringify({ events: batch.events })) <= ROOM_LIMITS.batchBytes);
    }
  });

  test('the service away, then back: retried with back-off until every event is there, in order', async () => {
    service.batches.length = 0;
    await service.stop();
    const logger = keptLogger();
    const room = sender({ logger });
    for (let i = 0; i < 30; i++) room.add(activity(i));
    await eventually(() => logger.lines.some((line) => line.event === 'room.unreachable'), 10_000, 'a failure');
    for (let i = 30; i < 60; i++) room.add(activity(i));
    await service.start();
    await eventually(() => service.events.length === 60, 10_000, 'every event once the service is back');
    assert.deepEqual(numbers(service.events), range(0, 60));
    // One line when it went away, one when it came back: not one per retry.
    assert.equal(logger.lines.filter((line) => line.event === 'room.unreachable').length, 1);
    assert.equal(logger.lines.filter((line) => line.event === 'room.reachable').length, 1);
  });

  test('503 and 429 are tried again; every event arrives once the service takes them', async () => {
    for (const status of [503, 429]) {
      service.batches.length = 0;
      service.failed = 0;
      service.failWith = status;
      const room = sender();
      for (let i = 0; i < 10; i++) room.add(activity(i));
      await eventually(() => service.failed >= 3, 10_000, `three ${status} answers`);
      service.failWith = null;
      await eventually(() => service.events.length === 10, 10_000, `the events after ${status}`);
      assert.deepEqual(numbers(service.events), range(0, 10));
    }
  });

  test('another 4xx drops that batch with one line; the next batch goes', async () => {
    service.batches.length = 0;
    service.failWith = 400;
    const logger = keptLogger();
    const room = sender({ logger, intervalMs: 60_000 });
    for (let i = 0; i < ROOM_LIMITS.batchEvents; i++) room.add(activity(i));
    await eventually(() => logger.lines.some((line) => line.event === 'room.batch_refused'), 10_000, 'the refusal');
    service.failWith = null;
    for (let i = 1000; i < 1000 + ROOM_LIMITS.batchEvents; i++) room.add(activity(i));
    await eventually(() => service.events.length === ROOM_LIMITS.batchEvents, 10_000, 'the next batch');
    assert.deepEqual(numbers(service.events), range(1000, 1000 + ROOM_LIMITS.batchEvents));
    assert.deepEqual(
      logger.lines.filter((line) => line.event === 'room.batch_refused').map((line) => line.fields),
      [{ status: 400, events: ROOM_LIMITS.batchEvents }],
    );
    assert.equal(room.waiting, 0);
  });

  test('away for long: the oldest beyond the queue are dropped, counted in one line per period', async () => {
    service.batches.length = 0;
    await service.stop();
    const logger = keptLogger();
    const room = sender({ logger, maxQueue: 50, dropLogMs: 100 });
    for (let i = 0; i < 80; i++) room.add(activity(i));
    assert.equal(room.dropped, 30);
    await eventually(() => logger.lines.some((line) => line.event === 'room.events_dropped'), 10_000, 'drop count');
    const dropLines = logger.lines.filter((line) => line.event === 'room.events_dropped');
    assert.equal(dropLines.length, 1, 'one line for the period, not one per event');
    assert.equal(dropLines[0]?.fields.count, 30);
    await service.start();
    await eventually(() => service.events.length === 50, 10_000, 'the kept events');
    assert.deepEqual(numbers(service.events), range(30, 80));
  });
});

describe('room', () => {
  let service: RoomStandIn;
  let room: Room;
  before(async () => {
    service = await startRoomStandIn();
    room = new Room({ url: service.url, token: 't', logger: keptLogger(), intervalMs: 50, idleMs: 200 });
  });
  after(async () => {
    await room.close();
    await service.stop();
  });

  test('no input for idleMs: idle, once; input again: active, once', async () => {
    await service.waitFor((event) => event.type === 'activity' && !event.active, 'idle');
    room.input('1');
    room.input('1');
    await service.waitFor((event) => event.type === 'activity' && event.active, 'active again');
    const changes = service.events.filter((event) => event.type === 'activity');
    assert.deepEqual(
      changes.slice(0, 2).map((event) => event.type === 'activity' && event.active),
      [false, true],
    );
  });

  test('a command is tied to the block that typed into its session, started after the click', async () => {
    room.typed('1', 'first', 2);
    room.commandStarted('2');
    room.commandEnded('2', { exit: 0, command: 'in another session', output: '' });
    room.commandStarted('1');
    room.commandEnded('1', { exit: 1, command: 'false', output: '' });
    room.commandStarted('1');
    room.commandEnded('1', { exit: 0, command: 'typed by hand', output: '' });
    await service.waitFor((event) => event.type === 'command' && event.command === 'typed by hand', 'commands');
    const commands = service.events.flatMap((event) =>
      event.type === 'command' ? [[event.session, event.command, event.page, event.block]] : [],
    );
    assert.deepEqual(commands, [
      ['2', 'in another session', null, null],
      ['1', 'false', 'first', 2],
      ['1', 'typed by hand', null, null],
    ]);
    assert.ok(TIE_MS >= 10_000, 'a slow shell still gets its tie');
  });
});
