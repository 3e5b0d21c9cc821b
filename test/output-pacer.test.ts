// The page's jump scrolling (terminal-server/page/output-pacer.ts) against a real
// xterm.js parser (headless): the escape-sequence tracker never says "ground"
// where the parser is not, so the pacer's mode-2026 sequences never cut one of
// the program's in two; a flood is held and released, output and callbacks pass
// unchanged, small output is never held, and a program's own mode 2026 is left
// alone. (The selection redraws it puts off are xterm.js's browser part: the
// browser tests cover them.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import xtermHeadless from '@xterm/headless';
import type { Terminal as BrowserTerminal, IDisposable } from '@xterm/xterm';
import { OutputPacer, VtTracker } from '../terminal-server/page/output-pacer.js';

const { Terminal } = xtermHeadless;
type Headless = InstanceType<typeof Terminal>;

const encoder = new TextEncoder();
const BEGIN_SYNC = '\x1b[?2026h';
const END_SYNC = '\x1b[?2026l';

/** The state of the parser inside xterm.js (0: GROUND). Private, so only for tests. */
function parserState(term: Headless): number {
  return (term as unknown as { _core: { _inputHandler: { _parser: { currentState: number } } } })._core._inputHandler
    ._parser.currentState;
}

function written(term: Headless, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/** A small deterministic random generator (tests must repeat). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = [
  'plain text ',
  'line\r\n',
  'é€😀 ',
  '\x1b[31m',
  '\x1b[0m',
  '\x1b[38;2;10;20;30m',
  '\x1b[?25l',
  '\x1b[12;40H',
  '\x1b[?2026h',
  '\x1b[?2026l',
  '\x1b]0;a title\x07',
  '\x1b]8;;http://example.com/\x1b\\link\x1b]8;;\x1b\\',
  '\x1bP1$r0m\x1b\\',
  '\x1b_apc string\x1b\\',
  '\x1bXsos string\x1b\\',
  '\x1b^pm string\x1b\\',
  '\x1b(B',
  '\x1b#8',
  '\x1b7',
  '\x1b=',
  '\u009b32m',
  '\u009d2;c1 title\u009c',
  '\u0090q\u009c',
  '\x18',
  '\x1a',
  '\x1b[',
  '\x1b]0;unterminated ',
  '\x1bP',
  '\x1b',
  '\x07\x08\t',
];

const WITHOUT_MODE_2026 = PIECES.filter((p) => !p.includes('2026'));

function randomStream(next: () => number, pieces: number, from: readonly string[] = PIECES): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pieces; i++) {
    if (next() < 0.1) {
      // Bytes that need not be UTF-8 at all.
      parts.push(Uint8Array.from({ length: 1 + Math.floor(next() * 4) }, () => Math.floor(next() * 256)));
    } else {
      parts.push(encoder.encode(from[Math.floor(next() * from.length)] as string));
    }
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Cuts the bytes into pieces of 1..max bytes. */
function cut(bytes: Uint8Array, next: () => number, max: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * max);
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

describe('VtTracker', () => {
  test('says ground only where xterm.js parser is in its ground state', async () => {
    let grounds = 0;
    let parserGrounds = 0;
    let boundaries = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const next = random(seed);
      const term = new Terminal({ allowProposedApi: true, logLevel: 'off' });
      const tracker = new VtTracker();
      const wrong: string[] = [];
      for (const piece of cut(randomStream(next, 300), next, 24)) {
        tracker.scan(piece);
        const atGround = tracker.atGround;
        boundaries++;
        if (atGround) grounds++;
        // The callback runs right after xterm.js has parsed this piece, before the next one.
        term.write(piece, () => {
          if (parserState(term) === 0) parserGrounds++;
          if (atGround && parserState(term) !== 0) wrong.push(`seed ${seed}: parser in state ${parserState(term)}`);
        });
      }
      await written(term, '');
      assert.deepEqual(wrong, [], 'the tracker said ground where the parser was not');
      term.dispose();
    }
    // And it is not right merely by never saying so.
    assert.ok(
      grounds > 0.9 * parserGrounds,
      `ground at ${grounds} boundaries, the parser at ${parserGrounds} of ${boundaries}`,
    );
  });

  test('is at ground after complete sequences, and notices a program switching mode 2026', () => {
    const tracker = new VtTracker();
    tracker.scan(encoder.encode('ls\r\n\x1b[01;34mdir\x1b[0m \x1b]0;title\x07é\r\n'));
    assert.ok(tracker.atGround);
    tracker.scan(encoder.encode('\x1b[38;5;'));
    assert.ok(!tracker.atGround);
    tracker.scan(encoder.encode('1mx'));
    assert.ok(tracker.atGround);
    assert.ok(!tracker.sawProgramSync);
    tracker.scan(encoder.encode('\x1b[?2026h'));
    assert.ok(tracker.sawProgramSync);
  });
});

/** The part of a browser Terminal the pacer uses, on a headless one; renders happen when the test says. */
class FakeTerminal {
  readonly term = new Terminal({ cols: 80, rows: 24, scrollback: 100_000, allowProposedApi: true, logLevel: 'off' });
  readonly writes: (string | Uint8Array)[] = [];
  private readonly renderListeners = new Set<() => void>();

  get modes() {
    return this.term.modes;
  }
  write(data: string | Uint8Array, callback?: () => void): void {
    this.writes.push(data);
    this.term.write(data, callback);
  }
  onRender(listener: () => void): IDisposable {
    this.renderListeners.add(listener);
    return { dispose: () => this.renderListeners.delete(listener) };
  }
  /** A frame drawn: xterm.js's render event. */
  render(): void {
    for (const listener of this.renderListeners) listener();
  }
  asTerminal(): BrowserTerminal {
    return this as unknown as BrowserTerminal;
  }
}

function cellsOf(term: Headless): string {
  const buffer = term.buffer.active;
  const cell = buffer.getNullCell();
  const rows: string[] = [];
  for (let y = 0; y < buffer.length; y++) {
    const line = buffer.getLine(y);
    if (!line) continue;
    let row = '';
    for (let x = 0; x < term.cols; x++) {
      line.getCell(x, cell);
      row += `${cell.getChars() || ' '}${cell.getFgColorMode()}:${cell.getFgColor()};`;
    }
    rows.push(row);
  }
  return rows.join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function floodOf(bytes: number): Uint8Array {
  return encoder.encode('flood line of text that goes on and on\r\n'.repeat(Math.ceil(bytes / 40)));
}

describe('OutputPacer', () => {
  test('holds a flood back, lets it go when it stops, and changes nothing in the output', async () => {
    const next = random(7);
    const fake = new FakeTerminal();
    const pacer = new OutputPacer(fake.asTerminal());
    const reference = new Terminal({
      cols: 80,
      rows: 24,
      scrollback: 100_000,
      allowProposedApi: true,
      logLevel: 'off',
    });
    // Coloured lines with sequences of all kinds in between, far more than a flood's threshold.
    const lines: Uint8Array[] = [];
    for (let i = 0; lines.length < 6000; i++) {
      lines.push(encoder.encode(`\x1b[3${i % 8}mline ${i}\x1b[0m é€ ${'x'.repeat(i % 50)}\r\n`));
      if (i % 7 === 0) lines.push(randomStream(next, 3, WITHOUT_MODE_2026));
    }
    const stream = concat(lines);
    const pieces = cut(stream, next, 8192);
    const done: number[] = [];
    for (const [i, piece] of pieces.entries()) {
      pacer.write(piece, () => done.push(i));
      reference.write(piece);
      // Now and then the screen is drawn, as the browser would.
      if (i % 25 === 0) fake.render();
      if (i % 50 === 0) await sleep(1);
    }
    await written(reference, '');
    await written(fake.term, '');
    assert.deepEqual(
      done,
      pieces.map((_, i) => i),
      'every callback, once, in order',
    );
    const ours = fake.writes.filter((w) => typeof w === 'string');
    assert.ok(ours.includes(BEGIN_SYNC), 'the flood was held');
    assert.ok(ours.every((w) => w === BEGIN_SYNC || w === END_SYNC));
    // The output itself went through unchanged and in order.
    assert.deepEqual(concat(fake.writes.filter((w): w is Uint8Array => typeof w !== 'string')), stream);
    // Once the output stops, the hold ends.
    await sleep(100);
    await written(fake.term, '');
    assert.equal(fake.modes.synchronizedOutputMode, false);
    assert.equal(fake.writes.filter((w) => w === BEGIN_SYNC).length, fake.writes.filter((w) => w === END_SYNC).length);
    // And the screen is what it is without the pacer: no sequence was cut in two.
    assert.equal(cellsOf(fake.term), cellsOf(reference));
    pacer.dispose();
    fake.term.dispose();
    reference.dispose();
  });

  test('never holds small output (typing, prompts, screen redraws)', async () => {
    const fake = new FakeTerminal();
    const pacer = new OutputPacer(fake.asTerminal());
    for (let i = 0; i < 200; i++) {
      pacer.write(encoder.encode(`\x1b[H\x1b[2J${'row of a full-screen program\r\n'.repeat(20)}`), () => {});
      await sleep(1);
    }
    await written(fake.term, '');
    assert.ok(!fake.writes.some((w) => typeof w === 'string'));
    pacer.dispose();
    fake.term.dispose();
  });

  test("leaves a program's own synchronized output alone", async () => {
    const fake = new FakeTerminal();
    const pacer = new OutputPacer(fake.asTerminal());
    const flood = floodOf(80 << 10);
    pacer.write(flood, () => {});
    assert.ok(fake.writes.includes(BEGIN_SYNC), 'the flood was held');
    pacer.write(encoder.encode(`${BEGIN_SYNC}the program draws`), () => {});
    pacer.write(flood, () => {});
    // Longer than any hold of the pacer's: the program's mode must still be on.
    await sleep(400);
    await written(fake.term, '');
    assert.equal(fake.modes.synchronizedOutputMode, true);
    pacer.write(encoder.encode(END_SYNC), () => {});
    await written(fake.term, '');
    assert.equal(fake.modes.synchronizedOutputMode, false);
    pacer.dispose();
    fake.term.dispose();
  });
});
