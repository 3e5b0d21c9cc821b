// The page's protocol client on its own, over a socket the test plays the
// server on: the attach, when acks go, which connection they go on, input
// framing, and what each kind of close leads to.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ATTACH_QUERY,
  type ClientMessage,
  CloseCode,
  decodeAttachQuery,
  decodeClientMessage,
  encodeControl,
  FlowControl,
  Limits,
  Reconnect,
  type ServerControl,
  ServerType,
} from '../common/src/protocol.js';
import { ProtocolClient, type ProtocolSocket, type TerminalState } from '../terminal-server/page/protocol-client.js';

class FakeSocket implements ProtocolSocket {
  readyState = 0;
  /** What the page told the server, the attach in the socket's URL first. */
  readonly sent: ClientMessage[] = [];
  closedWith: number | undefined | null = null;
  onopen: ProtocolSocket['onopen'] = null;
  onmessage: ProtocolSocket['onmessage'] = null;
  onclose: ProtocolSocket['onclose'] = null;

  constructor(query: string) {
    this.sent.push(decodeAttachQuery(new URLSearchParams(query).get(ATTACH_QUERY) ?? ''));
  }

  send(data: Uint8Array): void {
    this.sent.push(decodeClientMessage(data));
  }
  close(code?: number): void {
    this.closedWith = code;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  control(message: ServerControl): void {
    this.onmessage?.({ data: encodeControl(message) });
  }
  output(length: number): void {
    const frame = new Uint8Array(length + 1);
    frame[0] = ServerType.Output;
    // As the browser delivers it (binaryType 'arraybuffer').
    this.onmessage?.({ data: frame.buffer });
  }
  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }
  acks(): number[] {
    return this.sent.flatMap((m) => (m.type === 'ack' ? [m.position] : []));
  }
}

function attached(position: number, reset = false, live = position): ServerControl {
  return {
    type: 'attached',
    session: 's',
    instance: 'i-1',
    position,
    reset,
    live,
    pid: 1,
    page: 'p',
    access: 'owner',
    canType: true,
    owner: '',
    sharedOrigin: false,
    cols: 80,
    rows: 24,
  };
}

/** A client whose output is processed only when the test says so, as xterm.js's write callback does. */
function setUp(options: { autoAck?: boolean; position?: number | null; instance?: string } = {}) {
  const sockets: FakeSocket[] = [];
  let socketOpened: () => void = () => {};
  const pending: (() => void)[] = [];
  const states: { state: TerminalState; retryInMs: number }[] = [];
  const events: string[] = [];
  const delivered: { length: number; replayed: boolean }[] = [];
  const client = new ProtocolClient({
    openSocket: (query) => {
      const socket = new FakeSocket(query);
      sockets.push(socket);
      socketOpened();
      return socket;
    },
    cols: 80,
    rows: 24,
    ...options,
    onOutput: (bytes, processed, replayed) => {
      pending.push(processed);
      delivered.push({ length: bytes.length, replayed });
    },
    onControl: (message) => events.push(`control ${message.type}`),
    onStateChange: (state, retryInMs) => {
      states.push({ state, retryInMs });
      events.push(`state ${state}`);
    },
  });
  const nextSocket = () => new Promise<void>((resolve) => (socketOpened = resolve));
  const last = () => sockets.at(-1) as FakeSocket;
  return { client, sockets, last, pending, states, events, delivered, nextSocket };
}

describe('the protocol client', () => {
  test('attaches in the socket URL with its position, instance and size; attached makes it connected', () => {
    const { client, last, events } = setUp({ position: 42, instance: 'i-1' });
    client.connect();
    assert.equal(client.state, 'connecting');
    last().open();
    assert.deepEqual(
      last().sent,
      [{ type: 'attach', position: 42, cols: 80, rows: 24, instance: 'i-1' }],
      'the attach in the URL, and no attach frame after the open',
    );
    last().control(attached(50));
    assert.equal(client.state, 'connected');
    assert.equal(client.position, 50);
    assert.deepEqual(events, ['state connecting', 'control attached', 'state connected']);
  });

  test('output before the attached message’s live position is marked replayed, and after it new, split where it ends', () => {
    const { client, last, delivered, pending } = setUp();
    client.connect();
    last().open();
    last().control(attached(100, true, 130));
    last().output(20);
    last().output(20); // 120..140: the replay ends at 130
    last().output(5);
    assert.deepEqual(delivered, [
      { length: 20, replayed: true },
      { length: 10, replayed: true },
      { length: 10, replayed: false },
      { length: 5, replayed: false },
    ]);
    assert.equal(client.position, 145);
    for (const processed of pending.splice(0)) processed();
    // A page that comes back gets what it missed as replay too: it was made while it was away.
    delivered.length = 0;
    client.connect();
    last().open();
    last().control(attached(145, false, 150));
    last().output(5);
    last().output(1);
    assert.deepEqual(delivered, [
      { length: 5, replayed: true },
      { length: 1, replayed: false },
    ]);
  });

  test('acks once processed, every ackEveryBytes and only then', () => {
    // Below the low-water mark, so the last ack of a burst always lets the server resume.
    assert.ok(FlowControl.ackEveryBytes < FlowControl.lowWaterBytes);
    const { client, last, pending } = setUp();
    client.connect();
    last().open();
    last().control(attached(0));
    const third = Math.floor(FlowControl.ackEveryBytes * 0.3);
    for (let i = 0; i < 3; i++) last().output(third);
    assert.deepEqual(last().acks(), [], 'nothing is acked on arrival');
    pending.shift()?.();
    assert.deepEqual(last().acks(), [], 'behind, and less than ackEveryBytes since the last ack');
    pending.shift()?.();
    assert.deepEqual(last().acks(), [], 'still less than ackEveryBytes');
    pending.shift()?.();
    assert.deepEqual(last().acks(), [], 'caught up, but less than ackEveryBytes: no ack (a keystroke costs none)');
    const big = FlowControl.ackEveryBytes + 1;
    last().output(big);
    last().output(big);
    pending.shift()?.();
    assert.deepEqual(last().acks(), [3 * third + big], 'ackEveryBytes processed, though behind');
    pending.shift()?.();
    assert.deepEqual(last().acks(), [3 * third + big, 3 * third + 2 * big]);
  });

  test('an ack belongs to the connection its output came on', () => {
    const { client, sockets, last, pending } = setUp();
    client.connect();
    last().open();
    last().control(attached(0));
    last().output(100);
    client.connect(); // "Reconnect now"
    last().open();
    pending.shift()?.();
    assert.deepEqual(sockets[0]?.acks(), []);
    assert.deepEqual(sockets[1]?.acks(), []);
    assert.deepEqual(sockets[1]?.sent, [{ type: 'attach', position: 100, cols: 80, rows: 24, instance: 'i-1' }]);
  });

  test('with autoAck off only ack() acknowledges', () => {
    const { client, last, pending } = setUp({ autoAck: false });
    client.connect();
    last().open();
    last().control(attached(0));
    last().output(10);
    pending.shift()?.();
    assert.deepEqual(last().acks(), []);
    client.ack(7);
    assert.deepEqual(last().acks(), [7]);
  });

  test('input goes only when connected, in frames the server takes; resize too, and the size is kept for attaches', () => {
    const { client, last } = setUp();
    client.connect();
    client.input(new Uint8Array([0x61]));
    last().open();
    client.input(new Uint8Array([0x62]));
    client.resize(100, 30);
    last().control(attached(0));
    last().sent.length = 0;
    client.input(new Uint8Array(Limits.inputChunkBytes * 2 + 1).fill(0x63));
    assert.deepEqual(
      last().sent.map((m) => (m.type === 'input' ? m.data.length : m.type)),
      [Limits.inputChunkBytes, Limits.inputChunkBytes, 1],
    );
    client.resize(120, 40);
    assert.deepEqual(last().sent.at(-1), { type: 'resize', cols: 120, rows: 40 });
    client.connect();
    last().open();
    assert.deepEqual(last().sent, [{ type: 'attach', position: 0, cols: 120, rows: 40, instance: 'i-1' }]);
  });

  test('exit and gone end in exited; a session or page limit in refused; neither reconnects', () => {
    for (const [message, code, state] of [
      [{ type: 'exit', code: 0, signal: 0 }, CloseCode.SessionEnded, 'exited'],
      [{ type: 'gone' }, CloseCode.SessionEnded, 'exited'],
      [null, CloseCode.SessionEnded, 'exited'],
      [{ type: 'error', message: 'too many sessions' }, CloseCode.TooManySessions, 'refused'],
      [{ type: 'error', message: 'not started' }, CloseCode.NotStarted, 'refused'],
      [{ type: 'error', message: 'too many pages' }, CloseCode.TooManyPages, 'refused'],
    ] as const) {
      const { client, sockets, last, events } = setUp();
      client.connect();
      last().open();
      if (message) last().control(message);
      last().serverClose(code);
      assert.equal(client.state, state);
      assert.equal(sockets.length, 1);
      if (message?.type === 'gone')
        assert.deepEqual(events.slice(-3), ['control gone', 'state exited', 'state exited']);
    }
  });

  test('any other close: lost, then reconnects after a back-off that doubles, until attached', async () => {
    const { client, last, states, nextSocket } = setUp();
    client.connect();
    last().open();
    last().control(attached(5));
    let next = nextSocket();
    last().serverClose(1006);
    const within = (retryInMs: number | undefined, base: number) =>
      retryInMs !== undefined &&
      retryInMs >= base * (1 - Reconnect.jitter) &&
      retryInMs <= base * (1 + Reconnect.jitter);
    assert.equal(states.at(-1)?.state, 'lost');
    assert.ok(within(states.at(-1)?.retryInMs, Reconnect.firstDelayMs), String(states.at(-1)?.retryInMs));
    await next;
    assert.equal(client.state, 'connecting');
    next = nextSocket();
    last().serverClose(1006); // refused before it opened
    assert.ok(within(states.at(-1)?.retryInMs, Reconnect.firstDelayMs * 2), String(states.at(-1)?.retryInMs));
    await next;
    last().open();
    assert.deepEqual(last().sent, [{ type: 'attach', position: 5, cols: 80, rows: 24, instance: 'i-1' }]);
    last().control(attached(5));
    last().serverClose(1006);
    assert.ok(within(states.at(-1)?.retryInMs, Reconnect.firstDelayMs), 'back to the first delay once attached');
    client.close();
  });

  test('close() stops reconnecting; startNewShell attaches without instance or position', () => {
    const { client, sockets, last } = setUp();
    client.connect();
    last().open();
    last().control(attached(9));
    client.startNewShell();
    last().open();
    assert.deepEqual(last().sent, [{ type: 'attach', position: null, cols: 80, rows: 24, instance: '' }]);
    client.close();
    assert.equal(last().closedWith, undefined);
    last().serverClose(1005);
    assert.equal(client.state, 'lost');
    client.connect();
    assert.equal(sockets.length, 2, 'a closed client does not connect again');
  });
});
