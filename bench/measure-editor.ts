// The editor in a real browser: headless Chromium opens the dashboard (its
// terminal up, the editor not yet loaded), then, timed in the page, clicks the
// Editor tab and opens a file as an editor:open-file action does
// (openEditor(), then open(path)), until the file's text is painted. Each run
// in a fresh context (nothing cached), through the auth proxy (what it serves
// is what is counted). Then, once: the terminal server's memory (its own
// process) with 10 files open in the editor against none, and its processes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { startChromium } from '../test/harness/browser.js';
import { startAuthProxy, startTerminalProcess } from '../test/harness/servers.js';
import { descendants, processMemory } from './processes.js';

export interface EditorRun {
  /** ms from the click on the Editor tab to the frame after the file's first line is painted. */
  paintMs: number;
  /** HTTP bytes after the click (headers + bodies as sent), the editor's bundle only. */
  bundleBytes: number;
  /** The same, every response after the click (the file API's too). */
  allBytes: number;
  /** The bundle's responses: path, encoding, body bytes. */
  bundle: { path: string; encoding: string; bodyBytes: number }[];
}

export interface EditorResults {
  chromium: string;
  warmup: EditorRun;
  runs: EditorRun[];
  /** The terminal server's memory with the dashboard open and the editor loaded: no file open, then 10 (KiB). */
  memory: { none: { rssKiB: number; pssKiB: number }; ten: { rssKiB: number; pssKiB: number } };
  /** The terminal server's processes (command names) before and after opening the 10 files. */
  processes: { before: string[]; after: string[] };
}

const VIEWPORT = { width: 1280, height: 800 };
const TIMEOUT_MS = 30_000;
const FILE = 'bench/app.yaml';
const TEN = ['a.yaml', 'b.json', 'c.sh', 'd.py', 'e.java', 'f.ts', 'g.go', 'Dockerfile', 'h.md', 'i.xml'];

/** A home folder: a 200-line YAML file (a Kubernetes resource's size) and ten more, one per language. */
function makeHome(): string {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-editor-'));
  const lines = ['apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', '  labels:'];
  for (let i = 0; lines.length < 200; i++) lines.push(`    label${i}: "value ${i}" # a comment`);
  mkdirSync(path.join(home, 'bench'));
  writeFileSync(path.join(home, FILE), `${lines.join('\n')}\n`);
  for (const name of TEN) writeFileSync(path.join(home, 'bench', name), `${lines.slice(0, 100).join('\n')}\n`);
  return home;
}

/**
 * In the page (a string, so nothing of the bundler's leaks into it): click the Editor tab, open the
 * file once the editor is there, and resolve with the time of the frame that paints its first line.
 */
const CLICK_AND_OPEN = (file: string) => `new Promise((resolve, reject) => {
  const tab = Array.from(document.querySelectorAll('.wt-tab')).find((b) => b.textContent === 'Editor');
  if (!tab) return reject(new Error('no Editor tab'));
  const start = performance.now();
  tab.click();
  let opened = false;
  const frame = () => {
    if (window.editor && !opened) {
      opened = true;
      window.editor.open(${JSON.stringify(file)}).catch(reject);
    }
    const line = document.querySelector('.wt-editor-file-panel:not([hidden]) .cm-line');
    // The time in a task queued from the frame that shows it: once that frame is painted.
    if (line && line.textContent === 'apiVersion: apps/v1' && line.checkVisibility()) {
      setTimeout(() => resolve(performance.now() - start), 0);
    } else requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})`;

async function openDashboard(browser: Browser, base: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/dashboard/`);
  await page.locator('.wt-tab', { hasText: 'Editor' }).waitFor({ timeout: TIMEOUT_MS });
  // The terminal is up first: what is timed is the editor alone.
  await page.waitForFunction(() => (window as unknown as { terminals?: Record<string, unknown> }).terminals?.['1'], {
    timeout: TIMEOUT_MS,
  });
  await page.waitForLoadState('networkidle', { timeout: TIMEOUT_MS });
  if (errors.length > 0) throw new Error(`script errors: ${errors.join('; ')}`);
  return { context, page };
}

async function openOnce(browser: Browser, base: string): Promise<EditorRun> {
  const { context, page } = await openDashboard(browser, base);
  try {
    const responses: Promise<{ path: string; encoding: string; headerBytes: number; bodyBytes: number } | null>[] = [];
    const onFinished = (request: Request) => {
      responses.push(
        (async () => {
          const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
          return {
            path: new URL(request.url()).pathname,
            encoding: (await response?.headerValue('content-encoding')) ?? '',
            headerBytes: sizes.responseHeadersSize,
            bodyBytes: sizes.responseBodySize,
          };
        })().catch(() => null),
      );
    };
    page.on('requestfinished', onFinished);
    const paintMs = (await page.evaluate(CLICK_AND_OPEN(FILE))) as number;
    await page.waitForLoadState('networkidle', { timeout: TIMEOUT_MS });
    page.off('requestfinished', onFinished);
    const received = (await Promise.all(responses)).filter((r) => r !== null);
    const bundle = received.filter((r) => r.path.includes('/editor/assets/'));
    const sum = (list: typeof received) => list.reduce((total, r) => total + r.headerBytes + r.bodyBytes, 0);
    return {
      paintMs,
      bundleBytes: sum(bundle),
      allBytes: sum(received),
      bundle: bundle.map(({ path: file, encoding, bodyBytes }) => ({ path: file, encoding, bodyBytes })),
    };
  } finally {
    await context.close();
  }
}

export async function measureEditor(runs: number): Promise<EditorResults> {
  const home = makeHome();
  const terminal = await startTerminalProcess({ TERMINAL_HOME: home, EDITOR_TAB: 'on' });
  let browser: Browser | undefined;
  try {
    const port = Number(new URL(terminal.base).port);
    const proxy = await startAuthProxy({ AUTH_USERNAME: '*', EDITOR_TAB: 'on' }, port);
    try {
      browser = await startChromium();
      const warmup = await openOnce(browser, proxy.base);
      const measured: EditorRun[] = [];
      for (let run = 0; run < runs; run++) measured.push(await openOnce(browser, proxy.base));

      // Memory: the dashboard and the editor open, no file; then ten files open.
      const { context, page } = await openDashboard(browser, proxy.base);
      const names = () => descendants(terminal.pid).map((p) => p.comm);
      try {
        await page.locator('.wt-tab', { hasText: 'Editor' }).click();
        await page.waitForFunction(() => (window as unknown as { editor?: unknown }).editor !== undefined, undefined, {
          timeout: TIMEOUT_MS,
        });
        await page.waitForLoadState('networkidle');
        const before = names();
        const none = await settledMemory(terminal.pid);
        for (const name of TEN) {
          await page.evaluate(`window.editor.open(${JSON.stringify(`bench/${name}`)})`);
        }
        // The editor polls each open file's version while shown: a few rounds of it.
        await page.waitForTimeout(6000);
        const ten = await settledMemory(terminal.pid);
        return {
          chromium: browser.version(),
          warmup,
          runs: measured,
          memory: { none, ten },
          processes: { before, after: names() },
        };
      } finally {
        await context.close();
      }
    } finally {
      await browser?.close();
      await proxy.close();
    }
  } finally {
    await terminal.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The process's memory, the median of five readings a second apart (a collection may run between). */
async function settledMemory(pid: number): Promise<{ rssKiB: number; pssKiB: number }> {
  const readings: { rssKiB: number; pssKiB: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const memory = processMemory(pid);
    if (memory) readings.push({ rssKiB: memory.rssKiB, pssKiB: memory.pssKiB });
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const middle = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  return { rssKiB: middle(readings.map((r) => r.rssKiB)), pssKiB: middle(readings.map((r) => r.pssKiB)) };
}
