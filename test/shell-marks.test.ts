// The shell marks' reader (terminal-server/src/shell-marks.ts) as a unit: marks
// taken out of the output wherever the chunks are cut, each command's status,
// text and last line, garbage, and output without marks held to a bound.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ROOM_LIMITS } from '../common/src/protocol.js';
import { type CommandEnd, MAX_MARK_BYTES, OUTPUT_TAIL_BYTES, ShellMarks } from '../terminal-server/src/shell-marks.js';

const C = '\x1b]133;C\x07';
const A = '\x1b]133;A\x07';
const D = (status: number | string, text = '') => `\x1b]133;D;${status};${text}\x07`;

/** Feeds `chunks` through one reader: what comes out, and what it told. */
function read(chunks: Buffer[]): { output: Buffer; events: string[]; ends: CommandEnd[] } {
  const events: string[] = [];
  const ends: CommandEnd[] = [];
  const marks = new ShellMarks({
    commandStarted: () => events.push('start'),
    commandEnded: (end) => {
      events.push('end');
      ends.push(end);
    },
  });
  const out = chunks.map((chunk) => marks.strip(chunk));
  out.push(marks.flush());
  return { output: Buffer.concat(out), events, ends };
}

const session = Buffer.from(
  [
    '[~] $ ',
    'false\r\n',
    C,
    D(1, 'false'),
    A,
    '[~] $ ',
    'ls --color\r\n',
    C,
    '\x1b[01;34mbin\x1b[0m  \x1b[01;32mrun.sh\x1b[0m\r\n',
    'done 10%\rdone 100%\r\n',
    '\r\n',
    D(0, 'ls --color'),
    A,
    '[~] $ ',
    'echo ünïcödé; printf "\\033]133;X\\a"\r\n',
    C,
    'ünïcödé\r\n',
    D(0, 'echo ünïcödé; printf "\\033]133;X\\a"'),
    A,
    '[~] $ \x1b]0;a title\x07\x1b\\',
  ].join(''),
);

const expectedOutput = Buffer.from(
  [
    '[~] $ false\r\n',
    '[~] $ ls --color\r\n',
    '\x1b[01;34mbin\x1b[0m  \x1b[01;32mrun.sh\x1b[0m\r\n',
    'done 10%\rdone 100%\r\n\r\n',
    '[~] $ echo ünïcödé; printf "\\033]133;X\\a"\r\n',
    'ünïcödé\r\n',
    '[~] $ \x1b]0;a title\x07\x1b\\',
  ].join(''),
);

const expectedEnds: CommandEnd[] = [
  { exit: 1, command: 'false', output: '' },
  { exit: 0, command: 'ls --color', output: 'done 100%' },
  { exit: 0, command: 'echo ünïcödé; printf "\\033]133;X\\a"', output: 'ünïcödé' },
];

describe('shell marks', () => {
  test('whole: the marks are taken out, each command told with its status, text and last line', () => {
    const { output, events, ends } = read([session]);
    assert.equal(output.toString('utf8'), expectedOutput.toString('utf8'));
    assert.deepEqual(events, ['start', 'end', 'start', 'end', 'start', 'end']);
    assert.deepEqual(ends, expectedEnds);
  });

  test('cut in two at every byte: the same output and the same commands', () => {
    for (let at = 0; at <= session.length; at++) {
      const { output, ends } = read([session.subarray(0, at), session.subarray(at)]);
      assert.ok(output.equals(expectedOutput), `cut at ${at}: ${JSON.stringify(output.toString('latin1'))}`);
      assert.deepEqual(ends, expectedEnds, `cut at ${at}`);
    }
  });

  test('one byte at a time: the same output and the same commands', () => {
    const bytes = [...session].map((byte) => Buffer.from([byte]));
    const { output, ends } = read(bytes);
    assert.ok(output.equals(expectedOutput));
    assert.deepEqual(ends, expectedEnds);
  });

  test('a chunk without marks is passed on as the same object (no copy)', () => {
    const marks = new ShellMarks({ commandStarted() {}, commandEnded() {} });
    const chunk = Buffer.from('plain output \x1b[1mbold\x1b[0m\r\n');
    assert.equal(marks.strip(chunk), chunk);
  });

  test('an end without a start, a bad status, another OSC: nothing told, the marks still taken out', () => {
    const { output, ends } = read([
      Buffer.from(`a${D(0, 'x')}b${C}c${D('1x', 'y')}d${C}${D(999, 'z')}e\x1b]1337;D;0\x07f${C}${D(7)}`),
    ]);
    assert.equal(output.toString('latin1'), 'abcde\x1b]1337;D;0\x07f');
    assert.deepEqual(ends, [{ exit: 7, command: '', output: '' }]);
  });

  test('the text of a mark is cut to ROOM_LIMITS.textChars, control characters made spaces', () => {
    const long = 'é'.repeat(300);
    const { ends } = read([Buffer.from(`${C}${'x'.repeat(300)}\r\n${D(2, `\t${long}\x01q`)}`)]);
    assert.equal(ends.length, 1);
    assert.equal((ends[0] as CommandEnd).command, 'é'.repeat(ROOM_LIMITS.textChars));
    assert.equal((ends[0] as CommandEnd).output, 'x'.repeat(ROOM_LIMITS.textChars));
  });

  test('the last line of a long output comes from its end, whatever came before', () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} \x1b[32mgreen\x1b[0m`).join('\r\n');
    const { ends } = read([Buffer.from(`${C}${lines}\r\n\x1b[?25h\r\n   \r\n`), Buffer.from(D(0, 'seq'))]);
    assert.equal((ends[0] as CommandEnd).output, 'line 1999 green');
    assert.ok(lines.length > OUTPUT_TAIL_BYTES);
  });

  test('garbage, with pieces of marks in it, never throws and loses no byte that is not a mark', () => {
    const pieces = ['\x1b', '\x1b]', '\x1b]133', '\x1b]133;', '\x07', '\x1b\\', 'D;1;', 'C', ';'];
    for (let round = 0; round < 200; round++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < 30; i++) {
        parts.push(
          Math.random() < 0.5
            ? randomBytes(Math.floor(Math.random() * 64))
            : Buffer.from(pieces[Math.floor(Math.random() * pieces.length)] as string, 'latin1'),
        );
      }
      const input = Buffer.concat(parts);
      const { output } = read(parts);
      assert.ok(output.length <= input.length);
      // Without marks the same bytes come out whole, however the chunks are cut.
      const withoutMarks = input.toString('latin1').replace(/\x1b\]133;[^\x07\x1b]*(\x07|\x1b\\)/g, '');
      if (!/\x1b\]133;/.test(withoutMarks)) assert.equal(output.toString('latin1'), withoutMarks);
    }
  });

  test('huge output without marks: at most MAX_MARK_BYTES held back at any time, whatever it holds', () => {
    const marks = new ShellMarks({ commandStarted() {}, commandEnded() {} });
    let inBytes = 0;
    let outBytes = 0;
    // 64 MiB in 64 KiB chunks, each ending in the start of a mark that never finishes: random
    // bytes without BEL or ESC, so no mark ends and every byte not passed on is a byte held.
    const noise = randomBytes(65536 - 8).map((byte) => (byte === 0x07 || byte === 0x1b ? 0x78 : byte));
    const chunk = Buffer.concat([noise, Buffer.from('\x1b]133;D;', 'latin1')]);
    for (let i = 0; i < 1024; i++) {
      inBytes += chunk.length;
      outBytes += marks.strip(chunk).length;
      assert.ok(inBytes - outBytes <= MAX_MARK_BYTES, `${inBytes - outBytes} bytes held after chunk ${i}`);
    }
    outBytes += marks.flush().length;
    assert.equal(outBytes, inBytes);
  });

  test('an unfinished mark longer than MAX_MARK_BYTES is output, not a mark', () => {
    const text = `${C}\x1b]133;D;0;${'y'.repeat(MAX_MARK_BYTES)}\x07tail`;
    const { output, ends } = read([Buffer.from(text)]);
    assert.equal(output.toString('latin1'), text.slice(C.length));
    assert.deepEqual(ends, []);
  });
});
