// Files in and out of the shell, through the auth proxy with a password, in a
// real Chromium: a file dropped on the terminal lands in the folder the shell
// (or its foreground program) is in, byte for byte, with a progress bar; names
// are plain and never overwrite; another site cannot upload; the size cap holds;
// downloads stay in the home folder; `download FILE` and the dashboard's
// files:download-file make the browser download.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  constants as fsConstants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Response as PageResponse } from 'playwright-core';
import { OutsideFolderError, openInside } from '../common/src/open-inside.js';
import { projectRoot } from '../common/src/paths.js';
import { plainName, suffixedName } from '../terminal-server/src/files.js';
import { swapForever } from './harness/attacks.js';
import { launchBrowser, waitForScreen } from './harness/browser.js';
import {
  eventually,
  type RunningAuthProxy,
  type RunningTerminalServer,
  request,
  startAuthProxy,
  startTerminalServer,
} from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';
import { requireTool } from './harness/tools.js';

const PREFIX = '/user/alice';
/** Requests made while a folder is swapped for a link (without the check on the opened file one got through within a few dozen). */
const RACE_TRIES = 300;
const CAP = 32 << 20;
const USER = { username: 'grumpy', password: 'secret' };
const AUTHORIZATION = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
/** The password and the login cookie, as a browser that has logged in sends them (its requests are not counted as guesses). */
const credentials: Record<string, string> = { Authorization: AUTHORIZATION };

interface UploadEvent {
  file: string;
  state: string;
  loaded: number;
  total: number;
  savedAs?: string;
  directory?: string;
  error?: string;
}
interface Watched {
  uploadEvents: UploadEvent[];
  /** progress bars seen on the screen: their value and max, each time one changed. */
  bars: { value: number; max: number }[];
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

interface DownloadSequenceEvent {
  path: string;
  outcome: string;
}

/** In the page: keeps what became of each download sequence (the terminal-download events). */
function watchDownloadSequencesInPage(): void {
  const w = window as unknown as { downloadSequences: DownloadSequenceEvent[] };
  w.downloadSequences = [];
  document.addEventListener('terminal-download', (event) =>
    w.downloadSequences.push((event as CustomEvent<DownloadSequenceEvent>).detail),
  );
}

function watchDownloadSequences(page: Page): Promise<void> {
  return page.evaluate(watchDownloadSequencesInPage);
}

/** The first `count` download sequences the page decided on, once it has decided on that many. */
async function downloadSequences(page: Page, count: number): Promise<DownloadSequenceEvent[]> {
  const events = () => (window as unknown as { downloadSequences: DownloadSequenceEvent[] }).downloadSequences;
  await page.waitForFunction(
    (n) => (window as unknown as { downloadSequences: unknown[] }).downloadSequences.length >= n,
    count,
  );
  return (await page.evaluate(events)).slice(0, count);
}

describe('file upload and download', () => {
  let terminal: RunningTerminalServer;
  let proxy: RunningAuthProxy;
  let browser: Browser | null = null;
  let workshop: string;
  let origin: string;

  before(async () => {
    workshop = mkdtempSync(path.join(os.tmpdir(), 'wt-files-workshop-'));
    mkdirSync(path.join(workshop, 'content'));
    writeFileSync(path.join(workshop, 'workshop.yaml'), 'name: Files\nmodules:\n  activate: [files]\n');
    writeFileSync(path.join(workshop, 'modules.yaml'), 'modules:\n  files:\n    name: Files\n');
    writeFileSync(
      path.join(workshop, 'content', 'files.md'),
      '# Files\n\n```files:download-file\npath: data/report.txt\ndownload: renamed.txt\n```\n',
    );
    terminal = await startTerminalServer({
      URI_ROOT_PATH: PREFIX,
      UPLOAD_MAX_BYTES: '32MiB',
      WORKSHOP_DIR: workshop,
      // The image puts shell/bin on every shell's PATH (Dockerfile); so does this test.
      PATH: `${path.join(projectRoot(), 'shell', 'bin')}:${process.env.PATH}`,
    });
    proxy = await startAuthProxy(
      { AUTH_USERNAME: USER.username, AUTH_PASSWORD: USER.password, URI_ROOT_PATH: PREFIX },
      terminal.port,
    );
    origin = new URL(proxy.base).origin;
    const login = await fetch(`${proxy.base}/terminal/api/status`, { headers: credentials });
    assert.equal(login.status, 200);
    credentials.Cookie = login.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
  });
  after(async () => {
    await browser?.close();
    await proxy.close();
    await terminal.close();
    rmSync(workshop, { recursive: true, force: true });
  });

  /** A logged-in page on a terminal session, its prompt shown, watching its uploads. */
  async function openTerminal(t: import('node:test').TestContext, session: string): Promise<Page | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext({ httpCredentials: USER, acceptDownloads: true });
    t.after(() => context.close());
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    t.after(() => assert.deepEqual(errors, [], 'no script errors'));
    await page.goto(`${proxy.base}/terminal/session/${session}`);
    await waitForScreen(page, /\$ $/m);
    await page.evaluate(() => {
      const w = window as unknown as Watched;
      w.uploadEvents = [];
      w.bars = [];
      const container = document.getElementById('terminal') as HTMLElement;
      container.addEventListener('terminal-upload', (event) =>
        w.uploadEvents.push((event as CustomEvent<UploadEvent>).detail),
      );
      // Every change to a progress bar that is on the screen (not display: none).
      new MutationObserver(() => {
        for (const bar of Array.from(container.querySelectorAll('progress'))) {
          if (getComputedStyle(bar).display !== 'none') w.bars.push({ value: bar.value, max: bar.max });
        }
      }).observe(container, { subtree: true, childList: true, attributes: true });
    });
    return page;
  }

  /** Types a command and waits until the shell (or the program it started) is in `dir`. */
  async function cdInto(page: Page, session: string, dir: string, command = `cd '${dir}'`): Promise<void> {
    mkdirSync(dir, { recursive: true });
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    const pid = terminal.server.sessions.get(session)?.pid as number;
    await eventually(
      () => {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const foreground = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
        return readlinkSync(`/proc/${foreground}/cwd`) === dir;
      },
      10_000,
      `the terminal's foreground program to be in ${dir}`,
    );
  }

  /** Drops a file of `size` random bytes named `name` on the terminal; resolves with its SHA-256. */
  function dropFile(page: Page, name: string, size: number, fill: 'random' | 'zeros' = 'random'): Promise<string> {
    return page.evaluate(
      async ({ name, size, fill }) => {
        const bytes = new Uint8Array(size);
        if (fill === 'random') {
          for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
        }
        const digest = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
          .map((b) => b.toString(16).padStart(2, '0'))
          .join('');
        const data = new DataTransfer();
        data.items.add(new File([bytes], name));
        const target = document.querySelector('#terminal .xterm-screen') as HTMLElement;
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        }
        return digest;
      },
      { name, size, fill },
    );
  }

  /** The last event of the upload of `file` once it has finished (done, failed or cancelled). */
  async function finished(page: Page, file: string): Promise<UploadEvent> {
    await page.waitForFunction(
      (name) =>
        (window as unknown as Watched).uploadEvents.some(
          (e) => e.file === name && ['done', 'failed', 'cancelled'].includes(e.state),
        ),
      file,
      { timeout: 60_000 },
    );
    const events = await page.evaluate(() => (window as unknown as Watched).uploadEvents);
    return events.filter((e) => e.file === file).at(-1) as UploadEvent;
  }

  /** An upload request as a page of this terminal makes it (from node, with the password). */
  function uploadRequest(
    pathAndQuery: string,
    options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<Response> {
    return fetch(`${proxy.base}/files/${pathAndQuery}`, {
      method: options.method ?? 'POST',
      headers: {
        ...credentials,
        Origin: origin,
        'Sec-Fetch-Site': 'same-origin',
        'Content-Type': 'application/octet-stream',
        'X-Terminal-Upload': '1',
        Accept: 'application/json',
        ...options.headers,
      },
      body: options.body ? new Uint8Array(options.body) : undefined,
    });
  }

  test('names are reduced to a plain base name; taken names get a suffix', () => {
    assert.equal(plainName('../../x'), 'x');
    assert.equal(plainName('a/b/c.txt'), 'c.txt');
    assert.equal(plainName('evil\u0000\u001b[31m.txt\u202e'), 'evil[31m.txt');
    assert.equal(plainName('dir/'), 'dir');
    for (const bad of ['', '..', '.', '../..', '/', '\u0007', 'x'.repeat(300)]) assert.equal(plainName(bad), null);
    assert.equal(suffixedName('x', 1), 'x-1');
    assert.equal(suffixedName('notes.txt', 2), 'notes-2.txt');
    assert.equal(suffixedName('archive.tar.gz', 1), 'archive-1.tar.gz');
    assert.equal(suffixedName('.bashrc', 1), '.bashrc-1');
  });

  test('a 20 MB file dropped on the terminal lands byte-exact where the shell cd’d, with a progress bar', async (t) => {
    const page = await openTerminal(t, 'up');
    if (!page) return;
    const dir = path.join(terminal.home, 'projects', 'big one');
    await cdInto(page, 'up', dir);
    const digest = await dropFile(page, 'random.bin', 20e6);
    const last = await finished(page, 'random.bin');
    assert.equal(last.state, 'done', last.error);
    assert.equal(last.directory, dir);
    const landed = readFileSync(path.join(dir, 'random.bin'));
    assert.equal(landed.length, 20e6);
    assert.equal(sha256(landed), digest, 'byte for byte');
    const events = await page.evaluate(() => (window as unknown as Watched).uploadEvents);
    assert.ok(
      events.some((e) => e.state === 'progress' && e.loaded > 0 && e.loaded < e.total),
      'progress events on the way',
    );
    const bars = await page.evaluate(() => (window as unknown as Watched).bars);
    assert.ok(
      bars.some((bar) => bar.value > 0 && bar.value < bar.max && bar.max === 20e6),
      'a progress bar on the screen part of the way',
    );
    assert.deepEqual(readdirSync(dir), ['random.bin'], 'nothing else left there');
  });

  test('an upload named ../../x lands as x in that folder; taken names get a suffix, nothing is overwritten', async (t) => {
    const page = await openTerminal(t, 'names');
    if (!page) return;
    const dir = path.join(terminal.home, 'names', 'deep');
    await cdInto(page, 'names', dir);
    const session = 'names';
    const start = (name: string, size: number) =>
      uploadRequest(`uploads?${new URLSearchParams({ session, name, size: String(size) })}`);
    const put = (id: string, offset: number, body: Buffer) =>
      uploadRequest(`uploads/${id}?offset=${offset}`, { method: 'PUT', body });

    // As a page asks for it: first the name and size, then the bytes.
    const first = await start('../../x', 5);
    assert.equal(first.status, 201, await first.clone().text());
    const started = (await first.json()) as { id: string; name: string; directory: string };
    assert.deepEqual([started.name, started.directory], ['x', dir]);
    assert.equal((await put(started.id, 0, Buffer.from('first'))).status, 200);
    assert.equal(readFileSync(path.join(dir, 'x'), 'utf8'), 'first');
    assert.deepEqual(readdirSync(path.join(terminal.home, 'names')), ['deep'], 'nothing went up the tree');

    // Dropped in the browser, twice more: x-1 and x-2, and x is still the first.
    await dropFile(page, 'x', 1000);
    assert.equal((await finished(page, 'x')).savedAs, 'x-1');
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await dropFile(page, 'notes.txt', 10);
    const notes = await finished(page, 'notes.txt');
    assert.equal(notes.state, 'done', notes.error);
    assert.equal(notes.savedAs, 'notes-1.txt');
    assert.equal(readFileSync(path.join(dir, 'x'), 'utf8'), 'first');
    assert.equal(readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');
    assert.deepEqual(readdirSync(dir).sort(), ['notes-1.txt', 'notes.txt', 'x', 'x-1']);

    // The folder of the terminal's foreground program, not of the shell that started it.
    const elsewhere = path.join(terminal.home, 'elsewhere');
    await cdInto(page, session, elsewhere, `(cd '${elsewhere}' && exec sleep 600)`);
    await dropFile(page, 'fg.txt', 10);
    assert.equal((await finished(page, 'fg.txt')).directory, elsewhere);
    assert.deepEqual(readdirSync(elsewhere), ['fg.txt']);
    await page.keyboard.press('Control+C');

    // Names that are no names at all are refused, and nothing is made.
    for (const name of ['..', '/', '\u0001']) assert.equal((await start(name, 1)).status, 400);
    assert.deepEqual(readdirSync(dir).sort(), ['notes-1.txt', 'notes.txt', 'x', 'x-1']);
  });

  test('another site cannot upload: not with a form, not with fetch, not with a foreign Origin', async (t) => {
    const page = await openTerminal(t, 'cross');
    if (!page) return;
    const dir = path.join(terminal.home, 'cross');
    await cdInto(page, 'cross', dir);
    const target = `${proxy.base}/files/uploads?session=cross&name=evil&size=3`;
    // A page of another origin (localhost, not 127.0.0.1, and its own port) whose forms post there.
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html>
<form id="multipart" method="POST" enctype="multipart/form-data" action="${target}"><input name="file" value="abc"></form>
<form id="plain" method="POST" enctype="text/plain" action="${target}"><input name="a" value="bc"></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => evil.close(() => resolve())));
    const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
    for (const form of ['multipart', 'plain']) {
      await page.goto(evilUrl);
      const answered: Promise<PageResponse> = page.waitForResponse((r) => r.url() === target);
      await page.evaluate((id) => (document.getElementById(id) as HTMLFormElement).submit(), form);
      const response: PageResponse = await answered;
      // Refused by the upload's own check (not merely by a missing login).
      assert.equal(response.status(), 403, `${form}: ${await response.text()}`);
      assert.match(await response.text(), /another site/);
    }
    // A script of that site cannot send the upload's header: the browser asks first, and gets no CORS.
    await page.goto(evilUrl);
    const fetched = await page.evaluate(async (url) => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          credentials: 'include',
          headers: { 'Content-Type': 'application/octet-stream', 'X-Terminal-Upload': '1' },
        });
        return `answered ${response.status}`;
      } catch (error) {
        return `failed: ${(error as Error).name}`;
      }
    }, target);
    assert.equal(fetched, 'failed: TypeError');
    // Made by hand with a foreign Origin, or without the header or the type a page sends: refused too.
    const query = 'uploads?session=cross&name=evil&size=3';
    const foreign = await uploadRequest(query, {
      headers: { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    });
    assert.equal(foreign.status, 403);
    assert.match(((await foreign.json()) as { error: string }).error, /another site/);
    assert.equal((await uploadRequest(query, { headers: { Origin: 'https://evil.example' } })).status, 403);
    assert.equal((await uploadRequest(query, { headers: { 'X-Terminal-Upload': '' } })).status, 400);
    assert.equal((await uploadRequest(query, { headers: { 'Content-Type': 'text/plain' } })).status, 415);
    for (const response of [foreign]) assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.deepEqual(readdirSync(dir), [], 'no file appeared');
    assert.ok(!readdirSync(terminal.home).some((name) => name.startsWith('evil')), 'nor in the home folder');
  });

  test('over UPLOAD_MAX_BYTES, or more than declared: refused with a clear error, nothing left on disk', async (t) => {
    const page = await openTerminal(t, 'cap');
    if (!page) return;
    const dir = path.join(terminal.home, 'cap');
    await cdInto(page, 'cap', dir);
    await dropFile(page, 'huge.bin', CAP + 1, 'zeros');
    const huge = await finished(page, 'huge.bin');
    assert.equal(huge.state, 'failed');
    assert.match(huge.error ?? '', /limited to 32 MiB \(UPLOAD_MAX_BYTES\)/);
    assert.match((await page.textContent('.terminal-transfer[data-state="failed"]')) ?? '', /limited to 32 MiB/);
    assert.deepEqual(readdirSync(dir), []);

    // A client that sends more than it declared, or at the wrong place, gets an error for that piece only.
    const started = await uploadRequest('uploads?session=cap&name=small.txt&size=10');
    const { id } = (await started.json()) as { id: string };
    const put = (offset: number, body: string) =>
      uploadRequest(`uploads/${id}?offset=${offset}`, { method: 'PUT', body: Buffer.from(body) });
    const tooMuch = await put(0, 'twenty bytes of text');
    assert.equal(tooMuch.status, 400);
    assert.match(((await tooMuch.json()) as { error: string }).error, /bigger than the 10 bytes declared/);
    assert.equal((await put(0, 'hello')).status, 200);
    const misplaced = await put(2, 'world');
    assert.equal(misplaced.status, 409);
    assert.equal(misplaced.headers.get('x-upload-received'), '5');
    const done = await put(5, 'world');
    assert.deepEqual(await done.json(), { received: 10, done: true });
    assert.equal(readFileSync(path.join(dir, 'small.txt'), 'utf8'), 'helloworld');

    // Cancelled half way: its file is gone.
    const cancelled = await uploadRequest('uploads?session=cap&name=half.txt&size=10');
    const half = (await cancelled.json()) as { id: string };
    await uploadRequest(`uploads/${half.id}?offset=0`, { method: 'PUT', body: Buffer.from('hello') });
    assert.ok(readdirSync(dir).includes('half.txt'));
    assert.equal((await uploadRequest(`uploads/${half.id}`, { method: 'DELETE' })).status, 200);
    assert.deepEqual(readdirSync(dir), ['small.txt']);
  });

  test('upload names that a shell glob would read as options, or that hide characters, land plain', async () => {
    const cases: [string, string][] = [
      ['-rf', '_-rf'],
      ['--checkpoint-action=exec=sh x.sh', '_--checkpoint-action=exec=sh x.sh'],
      ['in\u200bvisible\u2028line\ufeff.txt', 'invisibleline.txt'],
      ['\u2066-rtl\u2069\u00ad.txt', '_-rtl.txt'],
    ];
    for (const [name, expected] of cases) {
      const started = await uploadRequest(`uploads?${new URLSearchParams({ session: 'none', name, size: '2' })}`);
      assert.equal(started.status, 201, await started.clone().text());
      const { id, name: savedAs } = (await started.json()) as { id: string; name: string };
      assert.equal(savedAs, expected);
      assert.equal(
        (await uploadRequest(`uploads/${id}?offset=0`, { method: 'PUT', body: Buffer.from('ok') })).status,
        200,
      );
      assert.equal(readFileSync(path.join(terminal.home, expected), 'utf8'), 'ok');
      rmSync(path.join(terminal.home, expected));
    }
  });

  test('at most 8 uploads at once: the next is refused until one ends, and leaves nothing behind', async () => {
    const dir = terminal.home;
    const before = readdirSync(dir);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const started = await uploadRequest(`uploads?session=none&name=many-${i}.txt&size=4`);
      assert.equal(started.status, 201);
      ids.push(((await started.json()) as { id: string }).id);
    }
    const ninth = await uploadRequest('uploads?session=none&name=ninth.txt&size=4');
    assert.equal(ninth.status, 429);
    assert.match(((await ninth.json()) as { error: string }).error, /8 uploads are in progress already/);
    assert.ok(!readdirSync(dir).includes('ninth.txt'));
    assert.equal((await uploadRequest(`uploads/${ids[0]}`, { method: 'DELETE' })).status, 200);
    const now = await uploadRequest('uploads?session=none&name=ninth.txt&size=4');
    assert.equal(now.status, 201, 'one ended: the next may start');
    ids[0] = ((await now.json()) as { id: string }).id;
    for (const id of ids) await uploadRequest(`uploads/${id}`, { method: 'DELETE' });
    assert.deepEqual(readdirSync(dir).sort(), before.sort());
  });

  test('upload ids are random (16 bytes from the system’s generator), not the clock', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const started = await uploadRequest(`uploads?session=none&name=id-${i}.txt&size=4`);
      assert.equal(started.status, 201);
      ids.push(((await started.json()) as { id: string }).id);
    }
    for (const id of ids) await uploadRequest(`uploads/${id}`, { method: 'DELETE' });
    // Ids made one after the other share no leading characters beyond chance (one in 16 million
    // for a pair here): a time stamp in front would make every pair share its first ones.
    const prefixes = new Set(ids.map((id) => id.slice(0, 4)));
    assert.equal(prefixes.size, ids.length, ids.join(' '));
    for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/, 'base64url of 128 bits');
  });

  test('download sends a file of the home folder, and nothing outside it', async () => {
    const data = path.join(terminal.home, 'data');
    mkdirSync(data, { recursive: true });
    const bytes = randomBytes(3 << 20);
    writeFileSync(path.join(data, 'report.bin'), bytes);
    symlinkSync('/etc/passwd', path.join(terminal.home, 'passwd-link'));
    const get = (filePath: string) =>
      fetch(`${proxy.base}/files/download?${new URLSearchParams({ path: filePath })}`, {
        headers: { ...credentials, Accept: 'application/json' },
      });
    for (const asked of ['data/report.bin', path.join(data, 'report.bin')]) {
      const response = await get(asked);
      assert.equal(response.status, 200);
      assert.equal(
        response.headers.get('content-disposition'),
        `attachment; filename="report.bin"; filename*=UTF-8''report.bin`,
      );
      assert.equal(response.headers.get('content-length'), String(bytes.length));
      assert.equal(response.headers.get('access-control-allow-origin'), null);
      assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), 'byte for byte');
    }
    const refused: [string, number, RegExp][] = [
      ['/etc/passwd', 403, /only files in the home folder/],
      ['../../../../../../etc/passwd', 403, /only files in the home folder/],
      ['passwd-link', 403, /a link to \/etc\/passwd, outside it/],
      ['data', 400, /is a folder/],
      ['data/missing.txt', 404, /there is no file/],
      ['', 400, /say which file/],
    ];
    for (const [asked, status, message] of refused) {
      const response = await get(asked);
      assert.equal(response.status, status, asked);
      assert.match(((await response.json()) as { error: string }).error, message, asked);
    }
    const unauthenticated = await fetch(`${proxy.base}/files/download?path=data/report.bin`);
    assert.equal(unauthenticated.status, 401, 'behind the login like everything else');
  });

  test('the file opened is checked, not only its path: a folder that is a link by then is refused', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'wt-outside-'));
    const folder = path.join(terminal.home, 'opened-check');
    try {
      writeFileSync(path.join(outside, 'secret.txt'), 'outside\n');
      mkdirSync(folder);
      symlinkSync(outside, path.join(folder, 'link'));
      // What a request would open after its path was checked while `link` was still a folder.
      const asked = path.join(folder, 'link', 'secret.txt');
      const flags = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;
      await assert.rejects(openInside(terminal.home, asked, flags), (error: unknown) => {
        assert.ok(error instanceof OutsideFolderError);
        assert.equal(error.opened, path.join(realpathSync(outside), 'secret.txt'));
        return true;
      });
      writeFileSync(path.join(folder, 'inside.txt'), 'inside\n');
      const inside = await openInside(terminal.home, path.join(folder, 'inside.txt'), flags);
      assert.equal(inside.opened, path.join(realpathSync(terminal.home), 'opened-check', 'inside.txt'));
      assert.ok(inside.stats.isFile());
      await inside.handle.close();
    } finally {
      rmSync(outside, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test('download race: a folder swapped for a link to outside the home folder while requests come never serves the outside file', async (t) => {
    if (!requireTool(t, 'python3')) return;
    const outside = mkdtempSync(path.join(os.tmpdir(), 'wt-outside-'));
    const folder = path.join(terminal.home, 'race');
    const outsideBytes = `outside ${randomBytes(8).toString('hex')}\n`;
    const insideBytes = `inside ${randomBytes(8).toString('hex')}\n`;
    writeFileSync(path.join(outside, 'secret.txt'), outsideBytes);
    mkdirSync(path.join(folder, 'docs'), { recursive: true });
    writeFileSync(path.join(folder, 'docs', 'secret.txt'), insideBytes);
    symlinkSync(outside, path.join(folder, 'swap'));
    // docs/secret.txt is the inside file one moment and, through the link, the outside file the next.
    const swapper = await swapForever(path.join(folder, 'docs'), path.join(folder, 'swap'));
    t.after(async () => {
      await swapper.stop();
      rmSync(outside, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    });
    const statuses = new Map<number, number>();
    const url = `${terminal.base}/files/download?${new URLSearchParams({ path: 'race/docs/secret.txt' })}`;
    for (let tries = 1; tries <= RACE_TRIES; tries++) {
      const response = await request(url);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.notEqual(response.body, outsideBytes, `the file outside the home folder was served, at try ${tries}`);
      if (response.status === 200) assert.equal(response.body, insideBytes);
    }
    t.diagnostic(`answers to ${RACE_TRIES} requests: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.ok(swapper.running, 'the swapper kept swapping all along');
    assert.ok((statuses.get(200) ?? 0) > 0, 'the inside file was served when it was there');
    assert.ok((statuses.get(403) ?? 0) > 0, 'the link was refused when it was there');
  });

  test('`download FILE` in the shell makes the browser download it, once', async (t) => {
    const page = await openTerminal(t, 'down');
    if (!page) return;
    const dir = path.join(terminal.home, 'downloads-test');
    await cdInto(page, 'down', dir);
    const bytes = randomBytes(1 << 20);
    writeFileSync(path.join(dir, 'results.tar.gz'), bytes);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.keyboard.type('download results.tar.gz').then(() => page.keyboard.press('Enter')),
    ]);
    assert.equal(download.suggestedFilename(), 'results.tar.gz');
    assert.ok(readFileSync((await download.path()) as string).equals(bytes), 'byte for byte');
    // The page answered the shell: it says what became of the request.
    await waitForScreen(page, /download: results.tar.gz: your browser is downloading it/);

    // Refused by the server: the page says why, and the shell that it was refused.
    symlinkSync('/etc/passwd', path.join(dir, 'sneaky'));
    await page.keyboard.type('download sneaky');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.terminal-transfer[data-state="failed"]:has-text("outside it")');
    await waitForScreen(page, /download: sneaky: refused by the terminal server \(403\)/);

    // A reload replays the output: the next download is the next one asked for, not that one again.
    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    await page.reload();
    await waitForScreen(page, /results.tar.gz: your browser is downloading it/);
    writeFileSync(path.join(dir, 'second.txt'), 'two');
    // Nor an old request, which this browser has not seen (a page opened later, output replayed to it).
    const old = Buffer.from(path.join(dir, 'results.tar.gz')).toString('base64');
    await page.keyboard.type(`printf '\\e]7717;download;0123456789abcdef;1000000000;${old}\\a'; download second.txt`);
    await page.keyboard.press('Enter');
    await eventually(() => downloads.length > 0, 10_000, 'a download');
    assert.deepEqual(downloads, ['second.txt']);
  });

  test('a download sequence dated ahead, or without a whole number for its time, downloads nothing', async (t) => {
    const page = await openTerminal(t, 'dated');
    if (!page) return;
    const dir = path.join(terminal.home, 'dated');
    await cdInto(page, 'dated', dir);
    writeFileSync(path.join(dir, 'secret.txt'), 'not asked for');
    writeFileSync(path.join(dir, 'asked.txt'), 'asked for');
    const downloads: string[] = [];
    page.on('download', (d) => downloads.push(d.suggestedFilename()));
    await watchDownloadSequences(page);
    const secret = Buffer.from(path.join(dir, 'secret.txt')).toString('base64');
    const sequence = (nonce: string, time: string) => `\\e]7717;download;${nonce};${time};${secret}\\a`;
    // Dated in the year 5138 (never stale by "now - time <= 60" alone), half a minute ahead, not a
    // number, not a whole number; then a request made now, the one that must be downloaded.
    const dated = [
      sequence('1111111111111111', '99999999999'),
      sequence('2222222222222222', '$(($(date +%s)+30))'),
      sequence('3333333333333333', 'NaN'),
      sequence('4444444444444444', '1e10'),
    ];
    await page.keyboard.type(`printf "${dated.join('')}"; download asked.txt`);
    await page.keyboard.press('Enter');
    await eventually(() => downloads.includes('asked.txt'), 10_000, 'the download asked for');
    await waitForScreen(page, /download: asked.txt: your browser is downloading it/);
    const seen = await downloadSequences(page, 5);
    assert.deepEqual(
      // Each in its time: the malformed at once, the others after asking the server for its clock.
      seen.map((e) => `${path.basename(e.path) || '(none)'} ${e.outcome}`).sort(),
      ['(none) malformed', '(none) malformed', 'asked.txt started', 'secret.txt stale', 'secret.txt stale'],
    );
    assert.deepEqual(downloads, ['asked.txt']);
  });

  test('a download in history replayed to a page that attaches downloads nothing there; live, it does', async (t) => {
    const first = await openTerminal(t, 'replayed');
    if (!first) return;
    const dir = path.join(terminal.home, 'replayed');
    await cdInto(first, 'replayed', dir);
    writeFileSync(path.join(dir, 'first.txt'), 'one');
    writeFileSync(path.join(dir, 'second.txt'), 'two');
    // The positive control: live output in the page that is there downloads.
    const [download] = await Promise.all([
      first.waitForEvent('download'),
      first.keyboard.type('download first.txt').then(() => first.keyboard.press('Enter')),
    ]);
    assert.equal(download.suggestedFilename(), 'first.txt');
    await waitForScreen(first, /download: first.txt: your browser is downloading it/);
    await first.context().close();

    // Another browser (nothing remembered of that request), well within the minute: the request is
    // in the history it is sent on attaching.
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ httpCredentials: USER, acceptDownloads: true });
    t.after(() => context.close());
    const second = await context.newPage();
    const downloads: string[] = [];
    second.on('download', (d) => downloads.push(d.suggestedFilename()));
    // Watching from the start: the replay is parsed as soon as the page attaches.
    await second.addInitScript(watchDownloadSequencesInPage);
    await second.goto(`${proxy.base}/terminal/session/replayed`);
    await waitForScreen(second, /download: first.txt: your browser is downloading it/);
    const replayed = await downloadSequences(second, 1);
    assert.deepEqual(
      replayed.map((e) => `${path.basename(e.path)} ${e.outcome}`),
      ['first.txt replayed'],
    );
    // What this page asks for now is live: it downloads, and only that.
    await second.keyboard.type('download second.txt');
    await second.keyboard.press('Enter');
    await eventually(() => downloads.length > 0, 10_000, 'the live download');
    await waitForScreen(second, /download: second.txt: your browser is downloading it/);
    assert.deepEqual(downloads, ['second.txt']);
    assert.deepEqual(
      (await downloadSequences(second, 2)).map((e) => `${path.basename(e.path)} ${e.outcome}`),
      ['first.txt replayed', 'second.txt started'],
    );
  });

  test('`download` with no page to answer says so, and does not wait again for the next file', async () => {
    const shell = await TerminalClient.connect(terminal.socketUrl('unanswered'));
    try {
      writeFileSync(path.join(terminal.home, 'unanswered.txt'), 'x');
      await shell.waitFor(/\$ $/);
      shell.type(
        `download ${path.join(terminal.home, 'unanswered.txt')} ${path.join(terminal.home, 'unanswered.txt')}; echo "status $?"\r`,
      );
      await shell.waitFor(/status 1/, 30_000);
      const said = shell.text().match(/download: .*unanswered.txt: .*/g) ?? [];
      assert.equal(said.length, 2, shell.text());
      for (const line of said) assert.match(line, /no terminal page answered within 10 s/);
    } finally {
      shell.close();
    }
  });

  test('the dashboard’s files:download-file downloads through the same URL', async (t) => {
    browser ??= await launchBrowser(t);
    if (!browser) return;
    const context = await browser.newContext({ httpCredentials: USER, acceptDownloads: true });
    t.after(() => context.close());
    const page = await context.newPage();
    mkdirSync(path.join(terminal.home, 'data'), { recursive: true });
    writeFileSync(path.join(terminal.home, 'data', 'report.txt'), 'the report\n');
    await page.goto(`${proxy.base}/dashboard/`);
    const block = page.locator('.wt-action-download');
    assert.match((await block.textContent()) ?? '', /Download renamed.txt/);
    const [download] = await Promise.all([page.waitForEvent('download'), block.click()]);
    assert.equal(download.suggestedFilename(), 'renamed.txt');
    assert.equal(new URL(download.url()).pathname, `${PREFIX}/files/download`);
    assert.equal(readFileSync((await download.path()) as string, 'utf8'), 'the report\n');
    await page.waitForSelector('.wt-action-download.wt-done');
  });
});
