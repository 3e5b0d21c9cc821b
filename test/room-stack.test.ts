// What an attendee's stack tells the room (issue 25), end to end: a real bash
// through the real terminal server marks its commands, the marks never reach a
// page or the history, the dashboard's page reports what is clicked, and the
// stand-in room service (a real HTTP server, test/harness/room-stand-in.ts)
// receives it all. Without ROOM_SERVICE_URL nothing of it runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../common/src/paths.js';
import type { RoomEvent } from '../common/src/protocol.js';
import { requesterHeaders } from '../common/src/terminal-link.js';
import { dashboardCursorLine, launchBrowser } from './harness/browser.js';
import { type RoomStandIn, startRoomStandIn } from './harness/room-stand-in.js';
import { eventually, type RunningTerminalServer, request, startTerminalServer } from './harness/servers.js';
import { startStack, stopStack, waitReady } from './harness/stack.js';
import { TerminalClient } from './harness/terminal-client.js';

const WORKSHOP = path.join(projectRoot(), 'test/fixtures/workshop-room/workshop');
const MARK = '\x1b]133;';

type Command = RoomEvent & { type: 'command' };
const isCommand =
  (command: string) =>
  (event: RoomEvent): event is Command =>
    event.type === 'command' && event.command === command;

describe('the room: commands from a real bash through the terminal server', () => {
  let service: RoomStandIn;
  let terminal: RunningTerminalServer;
  before(async () => {
    service = await startRoomStandIn();
    terminal = await startTerminalServer({
      ROOM_SERVICE_URL: service.url,
      JUPYTERHUB_API_TOKEN: 'the-hub-token',
      WORKSHOP_DIR: WORKSHOP,
    });
    await terminal.server.ready;
  });
  after(async () => {
    await terminal.close();
    await service.stop();
  });

  test('false ends with 1, true with 0, with their text and last line; no mark reaches a page or the history', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('marks'));
    page.type('false\r');
    const failed = await service.waitFor(isCommand('false'), 'false');
    page.type('true\r');
    const passed = await service.waitFor(isCommand('true'), 'true');
    page.type("printf 'one\\n\\033[31mtwo\\033[0m\\n\\n'; exit_with() { return $1; }; exit_with 3\r");
    const printed = await service.waitFor(
      (event): event is Command => event.type === 'command' && event.exit === 3,
      'the printf',
    );
    assert.deepEqual(
      [failed, passed].map(({ session, exit, command, output, page, block }) => ({
        session,
        exit,
        command,
        output,
        page,
        block,
      })),
      [
        { session: 'marks', exit: 1, command: 'false', output: '', page: null, block: null },
        { session: 'marks', exit: 0, command: 'true', output: '', page: null, block: null },
      ],
    );
    assert.equal(printed.output, 'two');
    assert.ok(service.batches.every((batch) => batch.authorization === 'token the-hub-token'));
    // What the page got, and what a page attaching now gets from the history: no mark at all.
    await page.waitFor(/exit_with 3\r\n/);
    assert.ok(!page.text().includes(MARK), JSON.stringify(page.text()));
    const again = await TerminalClient.connect(terminal.socketUrl('marks'));
    await again.waitFor(/exit_with 3/);
    assert.ok(!again.text().includes(MARK), JSON.stringify(again.text()));
    // Positions count the bytes pages get: the new page's history ends where the first page is.
    const info = JSON.parse((await request(`${terminal.base}/terminal/api/sessions/marks`)).body);
    await eventually(() => page.position === info.outputBytes, 5000, 'the first page at the end');
    assert.equal(again.position, info.outputBytes);
    await Promise.all([page.close(), again.close()]);
  });

  test('a block that typed into a session: the command it started there carries its page and block', async () => {
    const page = await TerminalClient.connect(terminal.socketUrl('tied'));
    const post = (event: unknown, headers: Record<string, string> = {}) =>
      request(`${terminal.base}/dashboard/room/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: terminal.base, ...headers },
        body: JSON.stringify(event),
      });
    const answer = await post({ type: 'block', page: 'start', block: 2, action: 'execute', sessions: ['tied'] });
    assert.equal(answer.status, 204, answer.body);
    page.type('false\r');
    const tied = await service.waitFor(
      (event): event is Command => event.type === 'command' && event.session === 'tied',
      'the tied command',
    );
    assert.deepEqual([tied.exit, tied.page, tied.block], [1, 'start', 2]);
    // The next command there was typed by hand.
    page.type('true\r');
    const byHand = await service.waitFor(
      (event): event is Command => event.type === 'command' && event.session === 'tied' && event.exit === 0,
      'the next command',
    );
    assert.deepEqual([byHand.page, byHand.block], [null, null]);
    await page.close();
  });

  test('the page’s events are checked against the contract and the workshop; viewers and other sites refused', async () => {
    const post = (event: unknown, headers: Record<string, string> = {}) =>
      request(`${terminal.base}/dashboard/room/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: terminal.base, ...headers },
        body: JSON.stringify(event),
      });
    const refused = async (event: unknown, status: number, headers: Record<string, string> = {}) => {
      const answer = await post(event, headers);
      assert.equal(answer.status, status, `${JSON.stringify(event)}: ${answer.body}`);
    };
    await refused({ type: 'page', page: 'nowhere' }, 400);
    await refused({ type: 'block', page: 'start', block: 0, action: 'execute' }, 400);
    await refused({ type: 'block', page: 'start', block: 1, action: 'execute', sessions: ['../x'] }, 400);
    await refused({ type: 'check', page: 'finish', block: 1, name: 'rm -rf', passed: true }, 400);
    await refused({ type: 'hand', raised: true, message: 'x'.repeat(201) }, 400);
    await refused({ type: 'command', at: 0, session: '1', exit: 0 }, 400);
    await refused({ type: 'page', page: 'start' }, 403, { Origin: 'https://elsewhere.example' });
    const viewer = requesterHeaders({ user: 'bob', access: 'viewer', owner: 'alice', sharedOrigin: false });
    await refused({ type: 'hand', raised: true, message: 'as alice' }, 403, viewer);
    assert.ok(!service.events.some((event) => event.type === 'hand' && event.message === 'as alice'));
    // A good one: the server fills in the page's place and the count.
    await refused({ type: 'page', page: 'finish' }, 204);
    const shown = await service.waitFor((event) => event.type === 'page' && event.page === 'finish', 'the page');
    assert.deepEqual(shown.type === 'page' && [shown.index, shown.pages], [2, 2]);
    // The hand's state is the server's: a reloaded page asks.
    await refused({ type: 'hand', raised: true, message: 'stuck on step 2' }, 204);
    const hand = await request(`${terminal.base}/dashboard/room/hand`);
    assert.deepEqual(JSON.parse(hand.body), { raised: true, message: 'stuck on step 2' });
    await refused({ type: 'hand', raised: false, message: 'ignored' }, 204);
    assert.deepEqual(JSON.parse((await request(`${terminal.base}/dashboard/room/hand`)).body), {
      raised: false,
      message: '',
    });
  });
});

describe('the room: the shell marks keep the workshop’s own PROMPT_COMMAND', () => {
  test('set in a profile script after the marks, it runs with the command’s status, and the marks go on', async () => {
    const service = await startRoomStandIn();
    const rc = path.join(mkdtempSync(path.join(os.tmpdir(), 'wt-room-rc-')), 'rc');
    // As the image loads them: our profile.d script, then a workshop's that replaces PROMPT_COMMAND.
    writeFileSync(
      rc,
      `. ${path.join(projectRoot(), 'image/etc/profile.d/30-shell-marks.sh')}\nPROMPT_COMMAND='echo "workshop saw $?"'\n`,
    );
    const terminal = await startTerminalServer({
      ROOM_SERVICE_URL: service.url,
      JUPYTERHUB_API_TOKEN: 't',
      TERMINAL_COMMAND: JSON.stringify(['bash', '--rcfile', rc, '-i']),
    });
    try {
      const page = await TerminalClient.connect(terminal.socketUrl('kept'));
      page.type('false\r');
      await service.waitFor(isCommand('false'), 'false, marked');
      await page.waitFor('workshop saw 1');
      page.type('PROMPT_COMMAND=\'echo "replaced saw $?"\'\r');
      await page.waitFor('replaced saw 0');
      page.type('(exit 4)\r');
      const after = await service.waitFor(isCommand('(exit 4)'), 'a command after the replacement, marked');
      assert.equal(after.exit, 4);
      await page.waitFor('replaced saw 4');
      assert.ok(!page.text().includes(MARK));
      await page.close();
    } finally {
      await terminal.close();
      await service.stop();
      rmSync(path.dirname(rc), { recursive: true, force: true });
    }
  });
});

describe('the room: without ROOM_SERVICE_URL nothing is collected or sent', () => {
  let terminal: RunningTerminalServer;
  before(async () => {
    terminal = await startTerminalServer({ JUPYTERHUB_API_TOKEN: 'the-hub-token', WORKSHOP_DIR: WORKSHOP });
    await terminal.server.ready;
  });
  after(() => terminal.close());

  test('no room, no marks asked of the shell, none read, no endpoint, nothing on the page', async () => {
    assert.equal(terminal.server.room, null);
    const page = await TerminalClient.connect(terminal.socketUrl('plain'));
    page.type(['TERMINAL_SHELL_MARKS', 'PROMPT_COMMAND', 'PS0'].map((name) => `echo "[\${${name}-none}]"\r`).join(''));
    await page.waitFor(/\[none\]\r\n[\s\S]*\[none\]\r\n[\s\S]*\[none\]\r\n/);
    // A program's own OSC 133 passes through untouched: nothing reads it.
    page.type("printf '<\\033]133;D;0;x\\a>\\n'\r");
    await page.waitFor(`<${MARK}D;0;x\x07>`);
    await page.close();
    assert.equal((await request(`${terminal.base}/dashboard/room/hand`)).status, 404);
    const html = (await request(`${terminal.base}/dashboard/`)).body;
    assert.match(html, /"room":false/);
  });
});

describe('the room in Chromium: an attendee clicks through the fixture workshop', () => {
  let service: RoomStandIn;
  before(async () => {
    service = await startRoomStandIn();
  });
  after(() => service.stop());

  test('page, block, the command it typed (exit 1, tied), check, hand raised and lowered, in that order', async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const home = mkdtempSync(path.join(os.tmpdir(), 'wt-room-home-'));
    const stack = await startStack({
      WORKSHOP_DIR: WORKSHOP,
      TERMINAL_HOME: home,
      ROOM_SERVICE_URL: service.url,
      JUPYTERHUB_API_TOKEN: 'the-hub-token',
    });
    try {
      await waitReady(stack);
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://localhost:${stack.port}/dashboard/`);
      await page.waitForSelector('#wt-page[data-page="start"]');
      await service.waitFor((event) => event.type === 'page' && event.page === 'start', 'the first page');
      // The shell is at its prompt before the click, as an attendee would be.
      await eventually(async () => /\$ $/m.test(await dashboardCursorLine(page, '1')), 20_000, 'the prompt');
      await page.locator('.wt-action', { hasText: 'false' }).click();
      const command = await service.waitFor(isCommand('false'), 'the command the block typed');
      assert.deepEqual([command.exit, command.page, command.block, command.session], [1, 'start', 2, '1']);

      await page.click('.wt-exit-sign');
      await page.waitForSelector('#wt-page[data-page="finish"]');
      await page.locator('.wt-action', { hasText: 'Always passes' }).click();
      await service.waitFor((event) => event.type === 'check', 'the check');

      // Raise hand: by keyboard, with a message; the button says it is pressed.
      const hand = page.getByRole('button', { name: 'Raise hand' }).first();
      await hand.focus();
      await page.keyboard.press('Enter');
      await page.getByLabel('Message (optional)').fill('stuck <b>here</b>');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#wt-hand-button[aria-pressed="true"]');
      await service.waitFor((event) => event.type === 'hand' && event.raised, 'the hand raised');
      // A reload asks the server: still raised, the message shown as text.
      await page.reload();
      await page.waitForSelector('#wt-hand-button[aria-pressed="true"]');
      assert.equal(await page.textContent('.wt-hand-status'), 'Hand raised: stuck <b>here</b>');
      await page.click('#wt-hand-button');
      await page.waitForSelector('#wt-hand-button[aria-pressed="false"]');
      await service.waitFor((event) => event.type === 'hand' && !event.raised, 'the hand lowered');

      const kinds = service.events
        .filter((event) => event.type !== 'activity')
        .map((event) => (event.type === 'hand' ? `hand:${event.raised}` : event.type))
        .filter((kind, i, all) => kind !== all[i - 1]);
      assert.deepEqual(kinds, [
        'page',
        'block',
        'command',
        'page',
        'block',
        'check',
        'hand:true',
        'page',
        'hand:false',
      ]);
      const check = service.events.find((event) => event.type === 'check');
      assert.deepEqual(check, { ...check, page: 'finish', block: 1, name: 'always', passed: true });
      const raised = service.events.find((event) => event.type === 'hand' && event.raised);
      assert.equal(raised?.type === 'hand' && raised.message, 'stuck <b>here</b>');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await stopStack(stack);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
