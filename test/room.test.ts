// The room (issue 25) against a real JupyterHub 3 running the room service
// (dist/room/src/main.js) as a hub-managed service: events posted with alice's
// and bob's real hub tokens become rows on the room page in Chromium; only
// instructors get in; nobody posts as someone else; bad batches change nothing;
// a restart of the service keeps the room. And the whole chain: an attendee's real stack
// spawned by the hub, its clicks on the room page, and Watch.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { ROOM_LIMITS, type RoomEvent, type RoomStreamMessage } from '../common/src/protocol.js';
import { dashboardCursorLine, launchBrowser } from './harness/browser.js';
import { type Hub, hubSkip, startHub } from './harness/jupyterhub.js';
import { eventually } from './harness/servers.js';

/** The room service's process (the hub starts it): its environment names the service and this run's database. */
function roomServicePid(database: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`ROOM_DATABASE=${database}\0`)) {
        return Number(entry);
      }
    } catch {
      // gone, or not ours
    }
  }
  return null;
}

describe('the room service on a real JupyterHub', { skip: hubSkip }, () => {
  let hub: Hub;
  let browser: Browser | null = null;
  let instructor: BrowserContext;
  let roomPage: Page;
  const tokens: Record<string, string> = {};
  const database = path.join(os.tmpdir(), `wt-room-${process.pid}.sqlite`);
  const t0 = Date.now();
  let clock = 0;
  /** Event times that move on by a second each, so every event is newer than the last. */
  const at = () => t0 + ++clock * 1000;

  const roomUrl = () => `${hub.url}/services/room`;

  async function post(token: string | null, body: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${roomUrl()}/api/events`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `token ${token}` } : {}),
        ...headers,
      },
      body,
    });
    return {
      status: res.status,
      body: (await res.json()) as { accepted?: number; refused?: unknown[]; error?: string },
    };
  }
  const postEvents = (user: string, events: RoomEvent[]) => post(tokens[user] as string, JSON.stringify({ events }));

  /** The room as the service has it, asked with the instructor's login. */
  async function snapshot(): Promise<Extract<RoomStreamMessage, { type: 'snapshot' }>> {
    const res = await instructor.request.get(`${roomUrl()}/api/room`);
    assert.equal(res.status(), 200);
    return (await res.json()) as Extract<RoomStreamMessage, { type: 'snapshot' }>;
  }
  const rowText = (user: string, cell: string) =>
    roomPage
      .locator(`tr[data-user="${user}"] td.${cell}`)
      .textContent({ timeout: 15_000 })
      .then((text) => text ?? '');

  before(async () => {
    hub = await startHub({ room: { database, instructors: 'erin', stuckMinutes: 1 } });
    for (const user of ['alice', 'bob', 'carol', 'erin', 'frank']) {
      await hub.api('POST', `/users/${user}`);
      const made = await hub.api<{ token: string }>('POST', `/users/${user}/tokens`);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      tokens[user] = made.body.token;
    }
    await eventually(
      async () => (await fetch(`${roomUrl()}/api/room`, { redirect: 'manual' }).catch(() => null))?.status === 401,
      30_000,
      `the room service to answer\n${hub.output().slice(-2000)}`,
    );
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  test('the instructor logs in through the hub and sees attendees as rows, live', async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    instructor = await browser.newContext();
    roomPage = await logIn(instructor, hub, 'admin');
    await roomPage.goto(`${roomUrl()}/`);
    assert.match(roomPage.url(), /\/services\/room\/$/);
    await roomPage.locator('.status', { hasText: 'live' }).waitFor({ timeout: 15_000 });
    // The hub's users are rows before any event; the admin, an instructor, is none.
    await roomPage.locator('tr[data-user="alice"]').waitFor({ timeout: 40_000 });
    assert.equal(await roomPage.locator('tr[data-user="admin"]').count(), 0);

    assert.deepEqual(
      (await postEvents('alice', [{ type: 'page', at: at(), page: 'intro', index: 1, pages: 5 }])).body,
      {
        accepted: 1,
        refused: [],
      },
    );
    await postEvents('bob', [
      { type: 'page', at: at(), page: 'intro', index: 1, pages: 5 },
      { type: 'page', at: at(), page: 'setup', index: 2, pages: 5 },
      { type: 'block', at: at(), page: 'setup', block: 1, action: 'execute' },
    ]);
    await eventually(async () => /1 \/ 5/.test(await rowText('alice', 'page')), 15_000, "alice's page");
    await eventually(async () => /2 \/ 5\s*setup/.test(await rowText('bob', 'page')), 15_000, "bob's page");
  });

  test('a failing command shows with its exit status and last output line', async () => {
    if (!browser) return;
    await postEvents('alice', [
      {
        type: 'command',
        at: at(),
        session: '1',
        exit: 127,
        command: 'kubectl aply -f deploy.yaml',
        output: 'error: unknown command "aply" for "kubectl"',
        page: 'intro',
        block: 3,
      },
    ]);
    await eventually(async () => /exit 127/.test(await rowText('alice', 'failure')), 15_000, 'the failure');
    const failure = await rowText('alice', 'failure');
    assert.match(failure, /kubectl aply -f deploy\.yaml/);
    assert.match(failure, /unknown command "aply"/);
  });

  test('a raised hand shows with its message, and clears when lowered', async () => {
    if (!browser) return;
    await postEvents('bob', [{ type: 'hand', at: at(), raised: true, message: 'my pod is pending' }]);
    await eventually(async () => /my pod is pending/.test(await rowText('bob', 'hand')), 15_000, "bob's hand");
    assert.ok(await roomPage.locator('tr[data-user="bob"].has-hand').count());
    await postEvents('bob', [{ type: 'hand', at: at(), raised: false, message: '' }]);
    await eventually(async () => (await rowText('bob', 'hand')).trim() === '', 15_000, "bob's hand lowered");
  });

  test('stuck: a command failing longer than ROOM_STUCK_MINUTES (1 here); the Stuck filter and sort show it first', async () => {
    if (!browser) return;
    const minutesAgo = (minutes: number) => Date.now() - minutes * 60_000;
    await postEvents('frank', [
      { type: 'page', at: minutesAgo(3), page: 'setup', index: 2, pages: 5 },
      {
        type: 'command',
        at: minutesAgo(2),
        session: '1',
        exit: 2,
        command: 'make deploy',
        output: 'make: *** [deploy] Error 2',
        page: 'setup',
        block: 3,
      },
    ]);
    await eventually(async () => /stuck: a command fails/.test(await rowText('frank', 'user')), 15_000, 'frank stuck');
    // Sorted stuck first; alice's failure is recent, so she is not stuck.
    assert.equal(await roomPage.locator('tbody tr').first().getAttribute('data-user'), 'frank');
    assert.doesNotMatch(await rowText('alice', 'user'), /stuck/);
    await roomPage.locator('select').first().selectOption('stuck');
    await eventually(
      async () =>
        (
          await roomPage.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-user')))
        ).join() === 'frank',
      15_000,
      'only frank under Stuck',
    );
    await roomPage.locator('select').first().selectOption('all');
  });

  test('failing steps are grouped, with the output line most of them saw', async () => {
    if (!browser) return;
    for (const user of ['alice', 'bob']) {
      await postEvents(user, [
        { type: 'page', at: at(), page: 'deploy', index: 4, pages: 5 },
        {
          type: 'command',
          at: at(),
          session: '1',
          exit: 1,
          command: 'oc apply -f app.yaml',
          output: 'Error from server (Forbidden): quota exceeded',
          page: 'deploy',
          block: 2,
        },
      ]);
    }
    const rows = (await snapshot()).rows.length;
    const group = roomPage.locator('.groups li', { hasText: 'page 4, block 2 failed for 2 of' });
    await group.waitFor({ timeout: 15_000 });
    assert.match(String(await group.textContent()), new RegExp(`failed for 2 of ${rows}`));
    assert.match(String(await group.textContent()), /most saw \(2\): Error from server \(Forbidden\): quota exceeded/);
    // A success of that block takes alice out of the group.
    await postEvents('alice', [
      {
        type: 'command',
        at: at(),
        session: '1',
        exit: 0,
        command: 'oc apply -f app.yaml',
        output: 'created',
        page: 'deploy',
        block: 2,
      },
    ]);
    await roomPage.locator('.groups li', { hasText: 'page 4, block 2 failed for 1 of' }).waitFor({ timeout: 15_000 });
  });

  test('attendee text is shown as text: a message with <img onerror> runs nothing', async () => {
    if (!browser) return;
    const attack = '<img src=x onerror="document.title=\'pwned\'"><b>bold</b>';
    await postEvents('alice', [
      { type: 'hand', at: at(), raised: true, message: attack },
      { type: 'page', at: at(), page: attack, index: 5, pages: 5 },
    ]);
    await eventually(async () => (await rowText('alice', 'hand')).includes('<img src=x'), 15_000, 'the message');
    assert.equal(await roomPage.locator('tr[data-user="alice"] td.hand q').textContent(), attack);
    assert.equal(await roomPage.locator('tr[data-user="alice"] .page-name').textContent(), attack);
    assert.equal(await roomPage.locator('table img, table b').count(), 0);
    assert.notEqual(await roomPage.title(), 'pwned');
  });

  test("alice's token cannot post as bob: the user comes from the hub", async () => {
    if (!browser) return;
    const before = (await snapshot()).rows.find((row) => row.user === 'bob');
    const answer = await post(
      tokens.alice as string,
      JSON.stringify({
        user: 'bob',
        events: [{ type: 'hand', at: at(), raised: true, message: 'from alice', user: 'bob' }],
      }),
      { 'X-Forwarded-User': 'bob' },
    );
    assert.equal(answer.status, 200);
    const rows = (await snapshot()).rows;
    assert.deepEqual(
      rows.find((row) => row.user === 'bob'),
      before,
    );
    assert.equal(rows.find((row) => row.user === 'alice')?.hand?.message, 'from alice');
    // A token the hub does not know, or none, posts nothing.
    assert.equal((await post('not-a-token-at-all', JSON.stringify({ events: [] }))).status, 401);
    assert.equal((await post(null, JSON.stringify({ events: [] }))).status, 401);
  });

  test('bad batches are refused whole (too big, not JSON, too many) or event by event (unknown type), others unharmed', async () => {
    if (!browser) return;
    const before = await snapshot();
    const huge = JSON.stringify({
      events: [{ type: 'hand', at: at(), raised: true, message: 'x'.repeat(ROOM_LIMITS.batchBytes) }],
    });
    assert.equal((await post(tokens.alice as string, huge)).status, 413);
    assert.equal((await post(tokens.alice as string, '{"events": [')).status, 400);
    assert.equal((await post(tokens.alice as string, '[]')).status, 400);
    const many = Array.from({ length: ROOM_LIMITS.batchEvents + 1 }, () => ({
      type: 'activity',
      at: at(),
      active: true,
    }));
    assert.equal((await post(tokens.alice as string, JSON.stringify({ events: many }))).status, 413);
    assert.deepEqual((await snapshot()).rows, before.rows, 'nothing changed');

    // One bad event among good ones: refused alone, with its reason.
    const mixed = await post(
      tokens.bob as string,
      JSON.stringify({
        events: [
          { type: 'teleport', at: at() },
          { type: 'check', at: at(), page: 'deploy', block: 3, name: 'pods-ready', passed: true },
          { type: 'page', at: at(), page: 'deploy', index: 9, pages: 5 },
          { type: 'hand', at: at(), raised: true, message: 'y'.repeat(ROOM_LIMITS.textChars * 3) },
        ],
      }),
    );
    assert.equal(mixed.status, 200);
    assert.equal(mixed.body.accepted, 2);
    assert.deepEqual(
      (mixed.body.refused as { index: number }[]).map((r) => r.index),
      [0, 2],
    );
    const bob = (await snapshot()).rows.find((row) => row.user === 'bob');
    assert.equal(bob?.checksPassed, 1);
    assert.equal(bob?.hand?.message.length, ROOM_LIMITS.textChars, 'texts are cut');
  });

  test("a flood from one stack is told to wait; another attendee's events still show at once", async () => {
    if (!browser) return;
    const flood = Array.from({ length: ROOM_LIMITS.batchEvents }, () => ({ type: 'activity', at: at(), active: true }));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await post(tokens.frank as string, JSON.stringify({ events: flood }))).status);
    assert.ok(statuses.includes(429), `statuses ${statuses}`);
    await postEvents('bob', [{ type: 'hand', at: at(), raised: true, message: 'after the flood' }]);
    await eventually(async () => /after the flood/.test(await rowText('bob', 'hand')), 15_000, "bob's hand");
  });

  test('a non-instructor gets 403 on the page, the API, the stream and the export; instructors by scope or name get in', async () => {
    if (!browser) return;
    const context = await browser.newContext();
    try {
      await logIn(context, hub, 'bob');
      const page = await context.newPage();
      const res = await page.goto(`${roomUrl()}/`);
      assert.equal(res?.status(), 403);
      assert.match(String(await page.textContent('body')), /for its instructors/);
      for (const api of ['/api/room', '/api/stream', '/api/export.csv', '/api/export.json']) {
        assert.equal((await context.request.get(`${roomUrl()}${api}`)).status(), 403, api);
      }
      const clear = await context.request.post(`${roomUrl()}/api/clear`, { headers: { Origin: hub.url } });
      assert.equal(clear.status(), 403);
      // Not logged in at all: sent to log in (the page), 401 (the API).
      assert.equal((await fetch(`${roomUrl()}/api/stream`)).status, 401);
      // An attendee's hub token is no way in either.
      assert.equal(
        (await fetch(`${roomUrl()}/api/room`, { headers: { Authorization: `token ${tokens.bob}` } })).status,
        401,
      );
    } finally {
      await context.close();
    }
    for (const user of ['carol', 'erin']) {
      const context = await browser.newContext();
      try {
        await logIn(context, hub, user);
        const page = await context.newPage();
        const res = await page.goto(`${roomUrl()}/`);
        assert.equal(res?.status(), 200, user);
        await page.locator('tr[data-user="alice"]').waitFor({ timeout: 15_000 });
      } finally {
        await context.close();
      }
    }
  });

  test('the service restarted (killed; the hub starts it again): the room is still there', async () => {
    if (!browser) return;
    const before = await snapshot();
    const pid = roomServicePid(database);
    assert.ok(pid, 'the room service runs');
    process.kill(pid, 'SIGKILL');
    await eventually(
      async () => {
        const now = roomServicePid(database);
        return now !== null && now !== pid && (await instructor.request.get(`${roomUrl()}/api/room`)).status() === 200;
      },
      30_000,
      'the hub to start the room service again',
    );
    const afterRestart = await snapshot();
    const events = (rows: typeof before.rows) =>
      rows
        .filter((row) => row.lastAt !== null)
        .map(({ server: _s, serverUrl: _u, ...row }) => row)
        .sort((a, b) => a.user.localeCompare(b.user));
    assert.deepEqual(events(afterRestart.rows), events(before.rows));
    // The page connects again by itself (the hub's proxy answered 503 meanwhile) and is live.
    await roomPage.locator('.status', { hasText: 'live' }).waitFor({ timeout: 30_000 });
    await postEvents('bob', [{ type: 'hand', at: at(), raised: true, message: 'after the restart' }]);
    await eventually(async () => /after the restart/.test(await rowText('bob', 'hand')), 15_000, 'the page again');
  });

  test('export as CSV and JSON (attendee text kept as text), then clear (same origin only)', async () => {
    if (!browser) return;
    const csv = await (await instructor.request.get(`${roomUrl()}/api/export.csv`)).text();
    const lines = csv.trim().split('\r\n');
    assert.match(lines[0] as string, /^id,received,user,at,type,/);
    assert.ok(lines.some((line) => line.includes(',alice,') && line.includes(',command,') && line.includes(',127,')));
    const json = (await (await instructor.request.get(`${roomUrl()}/api/export.json`)).json()) as {
      rows: unknown[];
      events: { user: string; type: string }[];
    };
    assert.ok(json.events.length >= 10 && json.rows.length >= 2);
    assert.equal(json.events.length, lines.length - 1);

    const crossSite = await instructor.request.post(`${roomUrl()}/api/clear`, {
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(crossSite.status(), 403);
    assert.ok(
      (await snapshot()).rows.some((row) => row.lastAt !== null),
      'nothing cleared',
    );
    roomPage.once('dialog', (dialog) => void dialog.accept());
    await roomPage.click('text=Clear the room…');
    await eventually(
      async () => (await snapshot()).rows.every((row) => row.lastAt === null),
      15_000,
      'the room cleared',
    );
    await eventually(async () => (await rowText('alice', 'failure')).trim() === '', 15_000, 'the page cleared');
  });
});

// The whole chain: an attendee's real stack, spawned by the hub with ROOM_SERVICE_URL, posts
// with its own hub token; the instructor's room page shows what the attendee's clicks did.
describe('an attendee clicks, the instructor sees it on the room page and watches', { skip: hubSkip }, () => {
  let hub: Hub;
  let browser: Browser | null = null;
  const database = path.join(os.tmpdir(), `wt-room-chain-${process.pid}.sqlite`);
  const workshop = path.join(projectRoot(), 'test/fixtures/workshop-room/workshop');

  before(async () => {
    hub = await startHub({ room: { database }, spawnerEnvironment: { WORKSHOP_DIR: workshop } });
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
    rmSync(database, { force: true });
  });

  /** Logs `user` in, opens their dashboard (the hub spawns their stack) and waits for the prompt. */
  async function openDashboard(context: BrowserContext, user: string): Promise<Page> {
    const page = await logIn(context, hub, user, '/hub/spawn');
    // The spawn's pending page goes on to the server once it is up.
    await page.waitForURL(new RegExp(`/user/${user}/`), { timeout: 60_000 });
    await page.goto(`${hub.url}/user/${user}/dashboard/`, { timeout: 60_000 });
    await page.waitForSelector('#wt-page[data-page="start"]', { timeout: 60_000 });
    await eventually(async () => /\$ $/m.test(await dashboardCursorLine(page, '1')), 30_000, `${user}'s prompt`);
    return page;
  }

  test("three attendees click; the room page shows their progress, the failing block grouped, dave's hand; Watch opens his terminal read-only", async (t) => {
    browser = await launchBrowser(t);
    if (!browser) return;
    const attendees = await Promise.all(['alice', 'bob', 'dave'].map(() => (browser as Browser).newContext()));
    // dave: the harness's server that lets hub admins watch it (ALLOW_HUB_ADMINS=true).
    const [alice, bob, dave] = await Promise.all(
      ['alice', 'bob', 'dave'].map((user, i) => openDashboard(attendees[i] as BrowserContext, user)),
    );
    await (alice as Page).locator('.wt-action', { hasText: 'false' }).click();
    await (bob as Page).click('.wt-exit-sign');
    await (bob as Page).waitForSelector('#wt-page[data-page="finish"]');
    await (bob as Page).locator('.wt-action', { hasText: 'Always passes' }).click();
    await (dave as Page).locator('.wt-action', { hasText: 'false' }).click();
    await (dave as Page).getByRole('button', { name: 'Raise hand' }).first().click();
    await (dave as Page).getByLabel('Message (optional)').fill('false fails?');
    await (dave as Page).keyboard.press('Enter');
    await (dave as Page).waitForSelector('#wt-hand-button[aria-pressed="true"]');

    const instructor = await browser.newContext();
    const room = await logIn(instructor, hub, 'admin');
    await room.goto(`${hub.url}/services/room/`);
    const cell = (user: string, name: string) =>
      room
        .locator(`tr[data-user="${user}"] td.${name}`)
        .textContent({ timeout: 15_000 })
        .then((text) => text ?? '');
    await eventually(async () => /1 \/ 2/.test(await cell('dave', 'page')), 30_000, "dave's page on the room page");
    await eventually(async () => /2 \/ 2/.test(await cell('bob', 'page')), 30_000, "bob's progress");
    await eventually(async () => /1/.test(await cell('bob', 'checks')), 30_000, "bob's check");
    for (const user of ['alice', 'dave']) {
      await eventually(async () => /exit 1/.test(await cell(user, 'failure')), 30_000, `${user}'s failing block`);
      assert.match(await cell(user, 'failure'), /false/);
    }
    assert.equal((await cell('bob', 'failure')).trim(), '');
    // The same step failing for two: one group, with the line they printed.
    await room.locator('.groups li', { hasText: 'page 1, block 2 failed for 2 of' }).waitFor({ timeout: 30_000 });
    await eventually(async () => /false fails\?/.test(await cell('dave', 'hand')), 30_000, "dave's hand");

    // Watch: his terminal, read-only for the instructor; dave's own page shows who watches.
    const [watching] = await Promise.all([
      instructor.waitForEvent('page'),
      room.locator('tr[data-user="dave"] td.watch a').click(),
    ]);
    await watching.waitForLoadState();
    // The hub asks anyone but the owner to confirm the authorization once, as a person would.
    if (watching.url().includes('/hub/api/oauth2/authorize')) {
      await watching.locator('form [type=submit]').first().click();
      await watching.waitForURL(/\/user\/dave\/terminal\//, { timeout: 30_000 });
    }
    assert.match(watching.url(), /\/user\/dave\/terminal\//);
    await watching.locator('.xterm').first().waitFor({ timeout: 30_000 });
    await eventually(
      async () => /admin/.test((await (dave as Page).locator('.terminal-watch').first().textContent()) ?? ''),
      30_000,
      'dave sees the admin watching',
    );
    for (const context of attendees) await context.close();
    await instructor.close();
  });
});

/**
 * Logs in at the hub, to its home page: not to the default spawn, whose pending page
 * would navigate away later (`next: '/hub/spawn'` for that, when the server is wanted).
 */
async function logIn(context: BrowserContext, hub: Hub, user: string, next = '/hub/home'): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${hub.url}/hub/login?next=${encodeURIComponent(next)}`);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', 'any');
  await page.click('input[type=submit], button[type=submit]');
  await page.waitForLoadState();
  return page;
}
