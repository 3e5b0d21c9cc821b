// Watching someone else's terminal: a viewer gets the output and nothing else
// (the terminal server refuses their input and resize, whatever their page does),
// until the owner hands them the keyboard; the owner sees who watches. First on
// the terminal server as the auth proxy talks to it, then the whole stack with
// OpenShift logins in two Chromium windows.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import {
  type AttachedPage,
  attachQueryValue,
  CloseCode,
  encodeAttach,
  encodeInput,
  encodeKeyboard,
  encodeResize,
  Limits,
  type ServerControl,
} from '../common/src/protocol.js';
import { REQUESTER_HEADERS, type Requester, requesterHeaders } from '../common/src/terminal-link.js';
import { stuckViewers } from './harness/attacks.js';
import { launchBrowser, screenText, waitForScreen } from './harness/browser.js';
import { CookieClient } from './harness/cookie-client.js';
import { type SimulatedOpenShift, startOpenShift } from './harness/openshift.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  startAuthProxy,
  startTerminalProcess,
  startTerminalServer,
  type TerminalProcess,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

const alice: Requester = { user: 'alice', access: 'owner', owner: 'alice', sharedOrigin: false };
const bob: Requester = { user: 'bob', access: 'viewer', owner: 'alice', sharedOrigin: false };
/** A new page's attach, as the URL carries it. */
const ATTACH = attachQueryValue(encodeAttach({ position: null, cols: 80, rows: 24, instance: '' }));

/** The last `viewers` message an owner's page got. */
function lastViewers(page: TerminalClient): (ServerControl & { type: 'viewers' }) | undefined {
  const found = page.controls.filter((m) => m.type === 'viewers').at(-1);
  return found?.type === 'viewers' ? found : undefined;
}

/** Waits for the page's next error message after the `seen` it had. */
async function nextError(page: TerminalClient, seen: number): Promise<string> {
  await page.waitFor(() => page.errors().length > seen);
  return page.errors()[seen] as string;
}

describe('watching, on the terminal server', () => {
  let terminal: RunningTerminalServer;
  before(async () => {
    terminal = await startTerminalServer();
  });
  after(async () => {
    await terminal.close();
  });

  test("a viewer's input and resize never reach the shell, until the owner hands over the keyboard", async () => {
    const owner = await TerminalClient.connect(terminal.socketUrl('w'), { headers: requesterHeaders(alice) });
    await owner.waitFor(/\$ $/);
    const viewer = await TerminalClient.connect(terminal.socketUrl('w'), {
      headers: requesterHeaders(bob),
      cols: 50,
      rows: 10,
    });
    const attached = await viewer.attached;
    assert.equal(attached.access, 'viewer');
    assert.equal(attached.canType, false);
    assert.equal(attached.owner, 'alice');
    assert.deepEqual([attached.cols, attached.rows], [80, 24], "the owner's size, not the viewer's");

    // The owner's page is told who watches.
    await owner.waitFor(() => lastViewers(owner)?.watching.includes('bob') === true);
    assert.deepEqual(lastViewers(owner), { type: 'viewers', watching: ['bob'], keyboard: [] });

    // The protocol client does not even send a viewer's input...
    viewer.type('echo by-the-page-$((1+1))\r');
    // ...and frames made by hand are refused by the server.
    viewer.socket.send(encodeInput(Buffer.from('echo by-hand-$((2+2))\r')));
    assert.match(await nextError(viewer, 0), /input refused: you are viewing alice's terminal/);
    viewer.socket.send(encodeResize(40, 8));
    assert.match(await nextError(viewer, 1), /resize refused/);
    viewer.socket.send(encodeKeyboard(true, 'bob'));
    assert.match(await nextError(viewer, 2), /only the terminal's owner can hand over the keyboard/);
    // The refusals came back, so the server is past those frames: the owner's marker follows them.
    owner.type('echo owner-$((3+3))\r');
    await owner.waitFor('owner-6');
    assert.doesNotMatch(owner.text(), /by-the-page-2|by-hand-4/);
    const info = JSON.parse((await request(`${terminal.base}/terminal/api/sessions/w`)).body) as {
      cols: number;
      rows: number;
      attached: AttachedPage[];
    };
    assert.deepEqual([info.cols, info.rows], [80, 24]);
    assert.deepEqual(
      info.attached.map((p) => [p.user, p.access, p.canType]),
      [
        ['alice', 'owner', true],
        ['bob', 'viewer', false],
      ],
    );

    // The keyboard can go only to someone watching.
    owner.client.setKeyboard('mallory', true);
    assert.match(await nextError(owner, 0), /mallory is not watching this terminal/);

    // Handed over: bob's input and size are taken...
    owner.client.setKeyboard('bob', true);
    await viewer.waitFor(() => viewer.client.canType);
    await owner.waitFor(() => lastViewers(owner)?.keyboard.includes('bob') === true);
    viewer.type('echo bob-$((4+4))\r');
    await owner.waitFor('bob-8');
    viewer.resize(60, 12);
    await eventually(async () => {
      const now = JSON.parse((await request(`${terminal.base}/terminal/api/sessions/w`)).body) as { cols: number };
      return now.cols === 60;
    });
    // ...until the owner takes it back: refused again, and the owner's size is back.
    owner.client.setKeyboard('bob', false);
    await viewer.waitFor(() => !viewer.client.canType);
    const before = viewer.errors().length;
    viewer.socket.send(encodeInput(Buffer.from('echo after-$((5+5))\r')));
    assert.match(await nextError(viewer, before), /input refused/);
    owner.type('echo owner-$((6+6))\r');
    await owner.waitFor('owner-12');
    assert.doesNotMatch(owner.text(), /after-10/);
    await owner.close();
    await viewer.close();
  });

  test('malformed keyboard messages are refused, and the connection goes on', async () => {
    const owner = await TerminalClient.connect(terminal.socketUrl('bad-keyboard'), {
      headers: requesterHeaders(alice),
    });
    const frames = [
      Uint8Array.of(0x05, 1), // no name
      Uint8Array.of(0x05, 2, 0x62), // neither give nor take
      Uint8Array.of(0x05, 1, 0x62, 0x0a), // a control character in the name
      Uint8Array.of(0x05, 1, 0xff, 0xfe), // not UTF-8
      encodeKeyboard(true, 'b'.repeat(300)), // too long
    ];
    for (const frame of frames) owner.socket.send(frame);
    await owner.waitFor(() => owner.errors().length === frames.length);
    assert.deepEqual(
      owner.errors().map((e) => e.replace(/ .*/, '')),
      ['keyboard', 'keyboard', 'keyboard', 'keyboard', 'keyboard'],
    );
    owner.type('echo still-$((2*21))\r');
    await owner.waitFor('still-42');
    await owner.close();
  });

  test('a viewer never starts a session, and changes nothing over HTTP', async () => {
    const viewer = await TerminalClient.connect(terminal.socketUrl('nobody-started-this'), {
      headers: requesterHeaders(bob),
    }).catch((error: Error) => error);
    assert.ok(viewer instanceof Error);
    assert.equal(
      (await request(`${terminal.base}/terminal/api/sessions/nobody-started-this`)).status,
      404,
      'no shell was started',
    );
    // The close code says why, so the page stops trying.
    const refused = await new Promise<number>((resolve) => {
      import('ws').then(({ WebSocket }) => {
        const socket = new WebSocket(`${terminal.socketUrl('nobody-started-this')}?attach=${ATTACH}`, {
          headers: requesterHeaders(bob),
        });
        socket.on('close', (code) => resolve(code));
      });
    });
    assert.equal(refused, CloseCode.NotStarted);

    const owner = await TerminalClient.connect(terminal.socketUrl('kept'), { headers: requesterHeaders(alice) });
    const viewerHeaders = requesterHeaders(bob);
    const removal = await request(`${terminal.base}/terminal/api/sessions/kept`, {
      method: 'DELETE',
      headers: viewerHeaders,
    });
    assert.equal(removal.status, 403);
    assert.match(removal.body, /only its owner can do that/);
    const files = await request(`${terminal.base}/files/download?path=.bashrc`, { headers: viewerHeaders });
    assert.equal(files.status, 403);
    const list = await request(`${terminal.base}/terminal/api/sessions`, { headers: viewerHeaders });
    assert.equal(list.status, 200, 'reading is allowed');
    // A value that is not exactly "owner" is a viewer's.
    const odd = await request(`${terminal.base}/terminal/api/sessions/kept`, {
      method: 'DELETE',
      headers: { ...requesterHeaders(alice), [REQUESTER_HEADERS.access]: 'Owner' },
    });
    assert.equal(odd.status, 403);
    assert.ok(terminal.server.sessions.get('kept'), 'the session is still there');
    await owner.close();
  });
});

describe('watching, through the whole stack with OpenShift logins', () => {
  let openshift: SimulatedOpenShift;
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;

  before(async () => {
    openshift = await startOpenShift({ serviceAccount: 'terminal-user' });
    openshift.rbac.admins.add('alice');
    terminal = await startTerminalServer();
    proxy = await startAuthProxy(
      {
        OAUTH_SERVICE_ACCOUNT: 'terminal-user',
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(openshift.port),
        SERVICE_ACCOUNT_DIR: openshift.serviceAccountDir,
        SESSION_SECRET: 'a-secret-for-tests',
        TERMINAL_VIEWERS: 'bob',
      },
      terminal.port,
    );
    openshift.setRoute(`http://127.0.0.1:${proxy.port}`);
  });
  after(async () => {
    await proxy?.close();
    await terminal?.close();
    await openshift?.close();
  });

  async function loggedIn(user: string): Promise<CookieClient> {
    const person = new CookieClient({ ca: openshift.caPem });
    await person.get(`${openshift.url}/login`, { method: 'POST', form: { username: user, return_to: '/' } });
    await person.get(`${proxy.base}/terminal/session/1`);
    return person;
  }

  test('the proxy decides who is a viewer, whatever the client claims; others are refused', async () => {
    const owner = await TerminalClient.connect(proxy.socketUrl('claims'), {
      headers: { Cookie: (await loggedIn('alice')).cookieHeader() },
    });
    assert.equal((await owner.attached).access, 'owner');
    const bobCookie = (await loggedIn('bob')).cookieHeader();
    const claiming = await TerminalClient.connect(proxy.socketUrl('claims'), {
      headers: {
        Cookie: bobCookie,
        ...requesterHeaders({ user: 'alice', access: 'owner', owner: '', sharedOrigin: false }),
      },
    });
    assert.equal((await claiming.attached).access, 'viewer');
    assert.equal((await claiming.attached).owner, 'the workshop project');
    const removal = await request(`${proxy.base}/terminal/api/sessions/claims`, {
      method: 'DELETE',
      headers: { Cookie: bobCookie, [REQUESTER_HEADERS.access]: 'owner' },
    });
    assert.equal(removal.status, 403);
    const carol = await loggedIn('carol');
    assert.equal((await carol.get(`${proxy.base}/terminal/session/1`)).status, 403, 'not named: not let in');
    await claiming.close();
    await owner.close();
  });

  test('in Chromium: bob watches, cannot type, is given the keyboard and has it taken back', {
    timeout: 120_000,
  }, async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;
    const contexts: BrowserContext[] = [];
    const logIn = async (user: string): Promise<Page> => {
      const context = await browser.newContext({ viewport: { width: 900, height: 420 }, ignoreHTTPSErrors: true });
      contexts.push(context);
      const page = await context.newPage();
      await page.goto(`${proxy.base}/terminal/session/watched`);
      await page.fill('input[name=username]', user);
      await page.click('button[type=submit]');
      await page.waitForURL(/\/terminal\/session\/watched$/);
      return page;
    };
    try {
      const owner = await logIn('alice');
      await waitForScreen(owner, /\$ $/m);
      const viewer = await logIn('bob');
      await viewer.waitForSelector('#terminal[data-access="viewer"]');
      await viewer.waitForSelector('.terminal-watch:has-text("Viewing the workshop project\'s terminal: read-only")');
      // Files are the owner's: no upload button on bob's page.
      assert.equal(await viewer.isVisible('.terminal-upload-button'), false);
      assert.equal(await owner.isVisible('.terminal-upload-button'), true);
      // The owner sees bob.
      await owner.waitForSelector('.terminal-watch [data-user="bob"]:has-text("bob is watching")');

      // bob's keys go nowhere, and his page says so instead of taking them (on a window smaller
      // than alice's, the text they went into scrolled the view away from the terminal).
      await viewer.setViewportSize({ width: 600, height: 300 });
      await viewer.click('#terminal');
      const scrolled = () =>
        viewer.evaluate(() => {
          const view = document.getElementById('terminal') as HTMLElement;
          return [view.scrollTop, view.scrollLeft, document.scrollingElement?.scrollTop ?? 0];
        });
      const scrolledBefore = await scrolled();
      await viewer.keyboard.type('echo bob-keys-$((7*6))');
      await viewer.keyboard.press('Enter');
      await viewer.waitForSelector('.terminal-notice:visible:has-text("Read-only: your keys are not sent")');
      assert.deepEqual(await scrolled(), scrolledBefore, "bob's keys do not scroll his view");
      await viewer.setViewportSize({ width: 900, height: 420 });
      // A frame made by hand on a socket of bob's own (his cookies) is refused by the server.
      const refusal = await viewer.evaluate(
        ({ frame, attach }) =>
          new Promise<string>((resolve) => {
            const url = new URL(`../socket/watched?attach=${attach}`, location.href);
            url.protocol = 'ws:';
            const socket = new WebSocket(url);
            socket.binaryType = 'arraybuffer';
            let output = '';
            socket.onmessage = (event) => {
              const bytes = new Uint8Array(event.data as ArrayBuffer);
              if (bytes[0] === 0x81) output += new TextDecoder().decode(bytes.subarray(1));
              if (output.includes('bob-frame-49')) resolve('it reached the shell');
              if (bytes[0] !== 0x82) return;
              const message = JSON.parse(new TextDecoder().decode(bytes.subarray(1)));
              if (message.type === 'attached') socket.send(new Uint8Array(frame));
              if (message.type === 'error') {
                socket.close();
                resolve(message.message);
              }
            };
          }),
        { frame: [...encodeInput(Buffer.from('echo bob-frame-$((7*7))\r'))], attach: ATTACH },
      );
      assert.match(refusal, /input refused/);
      await owner.keyboard.type('echo alice-$((8*8))');
      await owner.keyboard.press('Enter');
      await waitForScreen(owner, /^alice-64$/m);
      await waitForScreen(viewer, /^alice-64$/m);
      assert.doesNotMatch(await screenText(owner), /bob-keys-42|bob-frame-49/);
      if (process.env.SCREENSHOTS) await screenshots(owner, viewer);

      // Handed over: bob types.
      await owner.click('.terminal-watch [data-user="bob"] button');
      await viewer.waitForSelector('#terminal[data-access="keyboard"]');
      await owner.waitForSelector('.terminal-watch [data-user="bob"]:has-text("bob has the keyboard")');
      await viewer.click('#terminal');
      await viewer.keyboard.type('echo bob-typed-$((9*9))');
      await viewer.keyboard.press('Enter');
      await waitForScreen(owner, /^bob-typed-81$/m);
      assert.equal(await viewer.isVisible('.terminal-upload-button'), false, 'the keyboard is not the files');

      // Taken back: bob's keys go nowhere again.
      await owner.click('.terminal-watch [data-user="bob"] button');
      await viewer.waitForSelector('#terminal[data-access="viewer"]');
      await viewer.keyboard.type('echo bob-again-$((5*5))');
      await viewer.keyboard.press('Enter');
      await owner.click('#terminal');
      await owner.keyboard.type('echo alice-$((9*8))');
      await owner.keyboard.press('Enter');
      await waitForScreen(viewer, /^alice-72$/m);
      assert.doesNotMatch(await screenText(owner), /bob-again-25/);
    } finally {
      for (const context of contexts) await context.close();
      await browser.close();
    }
  });
});

describe('a viewer who stops reading, on the terminal server as its own process', () => {
  let terminal: TerminalProcess;
  before(async () => {
    // All of a run's output stays in the history: a viewer that catches up gets exactly what it missed.
    terminal = await startTerminalProcess({ TERMINAL_HISTORY_BYTES: '4MiB' });
  });
  after(() => terminal?.stop());

  test("never slows the owner's output: it lags at once, and catches up from the history", async (t) => {
    const runs = await stuckViewers(terminal, { session: 'flood', owner: alice, viewer: bob, rounds: 3 });
    const { owner, lastViewer: viewer } = runs;
    // The mechanism: each stuck viewer was dropped to lagging, and never paused the program.
    for (const seen of runs.viewers) {
      assert.equal(seen.access, 'viewer');
      assert.equal(seen.lagging, true, 'the stuck viewer is lagging');
      assert.equal(seen.pauses, 0, 'the stuck viewer never paused the program');
    }
    // Noise only adds time, so the quickest run of each kind is compared. Loose
    // on purpose (the machine is noisy): a viewer that held the program back
    // would add the stall timeout, 25 times a run's length.
    const ratio = Math.min(...runs.watchedMs) / Math.min(...runs.aloneMs);
    const ms = (times: number[]) => times.map((x) => x.toFixed(0)).join(' ');
    t.diagnostic(
      `seq 1 300000, ms: alone ${ms(runs.aloneMs)}; with a stuck viewer ${ms(runs.watchedMs)}; quickest ÷ quickest ${ratio.toFixed(2)}`,
    );
    assert.ok(ratio < 2.5, `the owner's run took ${ratio.toFixed(2)} times as long with a stuck viewer`);

    // The last viewer reads again: it gets every byte it missed, from the history, without a reset.
    const page = (await viewer.attached).page;
    viewer.socket.resume();
    await viewer.waitFor(() => viewer.position === owner.position, 30_000);
    assert.equal(viewer.controls.filter((m) => m.type === 'attached').length, 1, 'no replay from a clean point');
    // The server learns it from the page's acknowledgement, which follows the last bytes.
    await eventually(
      async () => (await terminal.session('flood'))?.attached.find((p) => p.page === page)?.lagging === false,
      10_000,
      'the viewer to be caught up on the server',
    );
    await viewer.close();
    await owner.close();
  });
});

describe('many pages on one session, on the terminal server as its own process', () => {
  let terminal: TerminalProcess;
  before(async () => {
    terminal = await startTerminalProcess();
  });
  after(() => terminal?.stop());

  /** Opens `count` pages at once; each ends attached or refused. */
  async function openPages(name: string, count: number, who: Requester): Promise<TerminalClient[]> {
    const pages = Array.from({ length: count }, () =>
      TerminalClient.start(terminal.socketUrl(name), { headers: requesterHeaders(who) }),
    );
    await Promise.all(pages.map((page) => page.attached.catch(() => page.closed)));
    return pages;
  }

  test("what the owner's pages are sent grows linearly with the pages attached", async (t) => {
    /** Control bytes the owner's pages get while `count` of them and `count` of a viewer's attach. */
    const ownerBytes = async (count: number): Promise<number> => {
      const name = `linear-${count}`;
      const first = await TerminalClient.connect(terminal.socketUrl(name), { headers: requesterHeaders(alice) });
      const [more, viewers] = await Promise.all([openPages(name, count - 1, alice), openPages(name, count, bob)]);
      const owners = [first, ...more];
      // Every owner's page learns that bob watches.
      for (const page of owners) await page.waitFor(() => lastViewers(page)?.watching.includes('bob') === true);
      const bytes = owners.reduce((sum, page) => sum + page.controlBytes, 0);
      await Promise.all([...owners, ...viewers].map((page) => page.close()));
      await request(`${terminal.base}/terminal/api/sessions/${name}`, { method: 'DELETE' });
      return bytes;
    };
    const small = await ownerBytes(16);
    const large = await ownerBytes(64);
    t.diagnostic(`control bytes to the owner's pages: 16+16 pages ${small}, 64+64 pages ${large}`);
    // Four times the pages: four times the bytes, give or take (16 times would be quadratic).
    assert.ok(large / small < 6, `${large / small} times the bytes for 4 times the pages`);
  });

  test("an owner's page that stops reading is sent no news of viewers until it catches up, then only the latest", async () => {
    const reading = await TerminalClient.connect(terminal.socketUrl('news'), { headers: requesterHeaders(alice) });
    const stuck = await TerminalClient.connect(terminal.socketUrl('news'), {
      headers: requesterHeaders(alice),
      keepText: false,
    });
    const stuckPage = (await stuck.attached).page;
    stuck.socket.pause();
    // Behind by more than the high-water mark: the stuck page holds the program back, then lags.
    reading.type('seq 1 200000\r');
    await eventually(async () => {
      const seen = (await terminal.session('news'))?.attached.find((p) => p.page === stuckPage);
      return (seen?.pauses ?? 0) > 0;
    });
    // Meanwhile bob comes and goes, six times, ending watching; the reading page hears of each.
    let viewer: TerminalClient | undefined;
    for (let i = 0; i < 6; i++) {
      viewer = await TerminalClient.connect(terminal.socketUrl('news'), { headers: requesterHeaders(bob) });
      await reading.waitFor(() => lastViewers(reading)?.watching.includes('bob') === true);
      if (i === 5) break;
      await viewer.close();
      await reading.waitFor(() => lastViewers(reading)?.watching.length === 0);
    }
    assert.ok(reading.controls.filter((m) => m.type === 'viewers').length >= 12);
    stuck.socket.resume();
    await stuck.waitFor(() => lastViewers(stuck)?.watching.includes('bob') === true);
    assert.deepEqual(
      stuck.controls.filter((m) => m.type === 'viewers').map((m) => m.type === 'viewers' && m.watching),
      [[], ['bob']],
      'what it had on attach, then the latest',
    );
    await Promise.all([reading, stuck, viewer].map((page) => page?.close()));
  });

  test('past the cap a page is refused with 4006 and says why; neither kind shuts the other out; memory bounded', async (t) => {
    const baselineMiB = terminal.rssKiB() / 1024;
    let peakMiB = baselineMiB;
    const sampler = setInterval(() => {
      peakMiB = Math.max(peakMiB, terminal.rssKiB() / 1024);
    }, 20);
    try {
      const first = await TerminalClient.connect(terminal.socketUrl('crowd'), { headers: requesterHeaders(alice) });
      const owners = [first, ...(await openPages('crowd', 499, alice))];
      const attached = owners.filter((page) => page.client.state === 'connected');
      const most = Limits.maxPagesPerSession;
      const ownersFull = new RegExp(`this terminal has ${most} of its owner's pages open, the most it takes`);
      const viewersFull = new RegExp(`this terminal has ${most} viewers' pages open, the most it takes`);
      const refused = owners.filter((page) => page.client.state === 'refused');
      assert.equal(attached.length, Limits.maxPagesPerSession);
      assert.equal(refused.length, 500 - Limits.maxPagesPerSession);
      for (const page of refused) {
        assert.equal((await page.closed).code, CloseCode.TooManyPages);
        assert.match(page.errors()[0] ?? '', ownersFull);
      }
      // Viewers' pages are counted apart: the owner's cannot shut them out, nor they the owner.
      const viewers = await openPages('crowd', Limits.maxPagesPerSession + 1, bob);
      assert.equal(viewers.filter((page) => page.client.state === 'connected').length, Limits.maxPagesPerSession);
      const extra = viewers.find((page) => page.client.state === 'refused');
      assert.equal((await extra?.closed)?.code, CloseCode.TooManyPages);
      assert.match(extra?.errors()[0] ?? '', viewersFull);
      await attached[0]?.close();
      const again = await TerminalClient.connect(terminal.socketUrl('crowd'), { headers: requesterHeaders(alice) });
      assert.equal((await terminal.session('crowd'))?.pages, 2 * Limits.maxPagesPerSession);
      t.diagnostic(`server RSS MiB: baseline ${baselineMiB.toFixed(0)}, peak ${peakMiB.toFixed(0)}`);
      assert.ok(peakMiB - baselineMiB < 64, `the server grew by ${(peakMiB - baselineMiB).toFixed(0)} MiB`);
      await Promise.all([again, ...attached, ...viewers].map((page) => page.close()));
    } finally {
      clearInterval(sampler);
    }
  });
});

/** The README's pictures of a viewer's page and of the owner's (SCREENSHOTS=1). */
async function screenshots(owner: Page, viewer: Page): Promise<void> {
  const dir = path.join(import.meta.dirname, '..', 'docs', 'images');
  mkdirSync(dir, { recursive: true });
  await viewer.screenshot({ path: path.join(dir, 'viewer.png') });
  await owner.screenshot({ path: path.join(dir, 'owner-watched.png') });
}
