// Per-page flow control as a state machine, run with a clock moved by hand: the
// stall timeout is exact here, where against a real shell (terminal-flow.test.ts)
// only its effect can be waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowControl } from '../common/src/protocol.js';
import {
  type Clock,
  type FlowState,
  type LagReason,
  PageFlow,
  type Program,
  SessionFlow,
} from '../terminal-server/src/flow-control.js';

const { highWaterBytes: HIGH, lowWaterBytes: LOW, stallTimeoutMs: STALL } = FlowControl;

interface Timer {
  at: number;
  callback: () => void;
}

/** Time that moves only when told, running each timer due on the way in order. */
class FakeClock implements Clock {
  time = 1_000_000;
  private readonly timers = new Set<Timer>();

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + ms, callback };
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as Timer);
  }

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    // A timer that sets itself again for the same moment would spin here forever (and spin a core for real).
    for (let run = 0; ; run++) {
      const due = [...this.timers].filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      assert.ok(run < 1000, `timers keep firing at ${due.at} without time passing`);
      this.timers.delete(due);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}

class FakeProgram implements Program {
  isPaused = false;
  pausedTimes = 0;

  pause(): void {
    this.isPaused = true;
    this.pausedTimes++;
  }

  resume(): void {
    this.isPaused = false;
  }
}

/** The page's state (a call, so that one assertion does not narrow the type for the next). */
const kind = (page: PageFlow): FlowState['kind'] => page.state.kind;

function session() {
  const clock = new FakeClock();
  const program = new FakeProgram();
  const lagged: [string, LagReason][] = [];
  const flow = new SessionFlow({ program, clock, onLagging: (page, reason) => lagged.push([page.id, reason]) });
  /** A page attached at position 0; `socket.bytes` is what waits in its socket. */
  const page = (id: string, access: 'owner' | 'viewer' = 'owner') => {
    const socket = { bytes: 0 };
    const added = new PageFlow(id, access === 'owner', () => socket.bytes, { sent: 0, acked: 0 });
    flow.add(added);
    return Object.assign(added, { socket });
  };
  /** Output up to `position` goes to the pages that keep up, as the session sends it. */
  const send = (position: number, ...pages: PageFlow[]) => {
    for (const each of pages) if (!each.lagging) each.sent = position;
    flow.update();
  };
  const ack = (target: PageFlow, position: number) => {
    const catchUp = target.ack(position);
    flow.update();
    return catchUp;
  };
  return { clock, program, lagged, flow, page, send, ack };
}

describe('flow control', () => {
  test('an owner’s page over the high-water mark pauses the program once; under the low-water mark resumes it', () => {
    const { program, page, send, ack } = session();
    const owner = page('a');
    send(HIGH, owner);
    assert.equal(program.isPaused, false, 'at the mark, not over it');
    send(HIGH + 1, owner);
    assert.equal(program.isPaused, true);
    assert.equal(kind(owner), 'behind');
    send(HIGH + 2, owner);
    assert.equal(program.pausedTimes, 1);
    assert.equal(owner.pauses, 1);
    ack(owner, HIGH + 2 - (LOW + 1));
    assert.equal(program.isPaused, true, 'paused, it waits for the low-water mark');
    assert.equal(kind(owner), 'behind');
    ack(owner, HIGH + 2 - LOW);
    assert.equal(program.isPaused, false);
    assert.equal(kind(owner), 'keeping-up');
  });

  test('an owner’s page behind for exactly stallTimeoutMs becomes lagging, and the program goes on without it', () => {
    const { clock, program, lagged, page, send, ack } = session();
    const owner = page('a');
    send(HIGH + 1, owner);
    clock.advance(STALL - 1);
    assert.equal(kind(owner), 'behind');
    assert.equal(program.isPaused, true);
    clock.advance(1);
    assert.equal(kind(owner), 'lagging');
    assert.deepEqual(lagged, [['a', 'stalled']]);
    assert.equal(program.isPaused, false);
    send(10 * HIGH, owner);
    assert.equal(program.isPaused, false, 'a lagging page holds nothing back');
    assert.equal(owner.sent, HIGH + 1, 'and is sent nothing');
    assert.equal(ack(owner, 100), false, 'still too far behind to catch up');
    assert.equal(ack(owner, HIGH + 1 - LOW), true, 'under the low-water mark: it may catch up');
    owner.caughtUp(10 * HIGH);
    assert.equal(kind(owner), 'keeping-up');
    assert.equal(owner.lagged, 1);
  });

  test('the stall clock runs from when the page fell behind, through acks that leave it behind', () => {
    const { clock, page, send, ack } = session();
    const owner = page('a');
    send(HIGH + 1, owner);
    clock.advance(STALL / 2);
    ack(owner, 10);
    clock.advance(STALL / 2 - 1);
    ack(owner, 20);
    assert.equal(kind(owner), 'behind');
    clock.advance(1);
    assert.equal(kind(owner), 'lagging', 'acks that leave it over the low-water mark do not restart the clock');
  });

  test('a page that catches up in time is not dropped, and its stall clock starts afresh next time', () => {
    const { clock, lagged, page, send, ack } = session();
    const owner = page('a');
    send(HIGH + 1, owner);
    clock.advance(STALL - 1);
    ack(owner, HIGH + 1);
    assert.equal(kind(owner), 'keeping-up');
    send(2 * HIGH + 2, owner);
    clock.advance(STALL - 1);
    assert.equal(kind(owner), 'behind');
    assert.deepEqual(lagged, []);
  });

  test('a viewer’s page never pauses the program: over the high-water mark it lags at once', () => {
    const { clock, program, lagged, page, send } = session();
    const viewer = page('v', 'viewer');
    send(HIGH + 1, viewer);
    assert.equal(program.isPaused, false);
    assert.equal(kind(viewer), 'lagging');
    assert.deepEqual(lagged, [['v', 'viewer behind']]);
    assert.equal(clock.pending, 0, 'no stall clock for it');
    assert.equal(viewer.pauses, 0);
  });

  test('the program waits for the slowest owner’s page, and for no viewer', () => {
    const { program, page, send, ack } = session();
    const fast = page('fast');
    const slow = page('slow');
    const viewer = page('v', 'viewer');
    send(HIGH + 1, fast, slow, viewer);
    assert.equal(program.isPaused, true);
    assert.equal(kind(viewer), 'lagging');
    ack(fast, HIGH + 1);
    assert.equal(program.isPaused, true, 'the slow page still holds it');
    ack(slow, HIGH + 1 - LOW);
    assert.equal(program.isPaused, false);
  });

  test('a page that acknowledges what it never read is as far behind as what waits in its socket', () => {
    const { program, page, send, ack } = session();
    const liar = page('liar');
    send(HIGH + 1, liar);
    liar.socket.bytes = HIGH + 1;
    ack(liar, HIGH + 1);
    assert.equal(liar.acked, HIGH + 1);
    assert.equal(program.isPaused, true, 'its socket still holds the output');
    assert.equal(ack(liar, 10 * HIGH), false);
    assert.equal(liar.acked, HIGH + 1, 'an ack counts no more than was sent');
    liar.socket.bytes = 0;
    ack(liar, HIGH + 1);
    assert.equal(program.isPaused, false);
  });

  test('once the session has ended, no stall check is scheduled', () => {
    const { clock, flow, page, send } = session();
    const owner = page('a');
    send(HIGH + 1, owner);
    assert.equal(clock.pending, 1);
    flow.stop();
    assert.equal(clock.pending, 0);
    send(HIGH + 2, owner);
    assert.equal(clock.pending, 0);
    clock.advance(2 * STALL);
    assert.equal(kind(owner), 'behind');
  });
});
