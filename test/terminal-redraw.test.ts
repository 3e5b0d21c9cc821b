// A page that arrives after the history budget has been exceeded must still see
// a correct screen: the terminal modes are restored and a full-screen program
// redraws. The page's screen is computed by a real xterm.js (headless).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import xtermHeadless from '@xterm/headless';
import { type RunningTerminalServer, startTerminalServer } from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';
import { requireTool } from './harness/tools.js';

const { Terminal } = xtermHeadless;

function screenOf(term: InstanceType<typeof Terminal>): string[] {
  const buffer = term.buffer.active;
  return Array.from(
    { length: term.rows },
    (_, i) => buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? '',
  );
}

async function settle(term: InstanceType<typeof Terminal>, page: TerminalClient, quietMs = 300): Promise<void> {
  // Wait until no output has arrived for a while, then until xterm has parsed it all.
  let last = page.received;
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    if (page.received === last) break;
    last = page.received;
  }
  await new Promise<void>((resolve) => term.write('', resolve));
}

describe('redraw after the history budget', () => {
  let terminal: RunningTerminalServer;
  before(async () => {
    terminal = await startTerminalServer({ TERMINAL_HISTORY_BYTES: '64KiB' });
  });
  after(() => terminal.close());

  test('a new page sees vim on the alternate screen, fully drawn', async (t) => {
    if (!requireTool(t, 'vim')) return;
    const file = path.join(terminal.home, 'notes.txt');
    const text = 'some text '.repeat(14);
    writeFileSync(
      file,
      Array.from({ length: 500 }, (_, i) => `LINE-${String(i + 1).padStart(4, '0')} ${text}`).join('\n'),
    );
    const size = { cols: 160, rows: 50 };
    const firstScreen = new Terminal({ ...size, allowProposedApi: true });
    const first = await TerminalClient.connect(terminal.socketUrl('vim'), {
      ...size,
      keepText: false,
      onOutput: (bytes) => firstScreen.write(bytes),
    });
    const topLine = () => screenOf(firstScreen)[0] ?? '';
    first.type(`vim -u NONE -N -i NONE ${file}\r`);
    await first.waitFor(() => topLine().startsWith('LINE-0001'));
    // Have vim redraw its whole screen (Ctrl-L) until far more than the history budget has been drawn.
    while (first.received < 200 << 10) {
      const before = first.received;
      first.type('\x0c');
      await first.waitFor(() => first.received > before + 4000);
    }
    // Then only cursor movements, until that last full drawing has left the history too.
    // Then only small changes (delete a character, undo it: vim redraws one line),
    // one at a time (vim draws nothing while keys are queued), until that last full
    // drawing has left the history too.
    const drawn = first.received;
    while (first.received - drawn < 100 << 10) {
      for (const key of ['x', 'u']) {
        const before = first.received;
        first.type(key);
        await first.waitFor(() => first.received > before);
      }
    }
    await settle(firstScreen, first);
    firstScreen.dispose();
    await first.close();

    const term = new Terminal({ ...size, allowProposedApi: true });
    const second = await TerminalClient.connect(terminal.socketUrl('vim'), {
      ...size,
      onOutput: (bytes) => term.write(bytes),
    });
    assert.equal((await second.attached).reset, true, 'the history was exceeded');
    await settle(term, second);
    const screen = screenOf(term);
    assert.equal(term.buffer.active.type, 'alternate', 'vim runs on the alternate screen');
    assert.equal(screen[0], `LINE-0001 ${text}`.trimEnd(), screen.join('\n'));
    assert.equal(screen[48], `LINE-0049 ${text}`.trimEnd(), screen.join('\n'));

    // Quitting vim leaves the alternate screen on this page too.
    second.type(':q!\r');
    await second.waitFor(() => term.buffer.active.type === 'normal', 5000);
    await second.close();
    term.dispose();
  });
});
