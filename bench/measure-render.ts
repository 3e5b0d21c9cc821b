// Rendering in a real browser: headless Chromium opens our page and wetty's, each
// on a session that `cat`s the same large file whose last line is a unique
// marker. The page's xterm.js reports each frame it draws (onRender), and the
// time is the page's performance.now() at the first frame drawn with the marker
// line on the screen: from the start of the navigation (page load, connection,
// transfer, xterm.js parsing and drawing all included). A frame, not the buffer:
// a page may parse output without drawing it at once (ours holds frames back
// while output floods in), and the line counts once it is on the screen.
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startChromium } from '../test/harness/browser.js';
import { makeTextFile, type TextFile } from './measure-throughput.js';
import { startServerProcess } from './server-process.js';
import { startWetty } from './wetty.js';

export interface RenderRun {
  /** ms from navigation start to the first frame drawn with the marker line on the screen. */
  ms: number;
  /** 'webgl' when the terminal draws on a canvas, else 'dom'. */
  renderer: string;
}

export interface RenderResults {
  file: { bytes: number; lines: number };
  chromium: string;
  viewport: { width: number; height: number };
  /** Chromium as launched for tests (--disable-gpu): both pages load xterm.js's WebGL addon, drawn in software. */
  ours: RenderRun[];
  wetty: RenderRun[];
  /** The same with --disable-webgl as well: both pages fall back to xterm.js's DOM renderer. */
  withoutWebgl: { ours: RenderRun[]; wetty: RenderRun[] };
}

const VIEWPORT = { width: 1280, height: 720 };
const TIMEOUT_MS = 180_000;

/**
 * An expression for waitForFunction: the page's performance.now() at the first
 * frame the xterm.js Terminal at window[global] drew with the marker on its
 * screen, else false. The first evaluation that finds the terminal subscribes to
 * its frames. (A string, so nothing of the bundler's leaks into the page.)
 */
function markerPoll(global: string, marker: string): string {
  return `(() => {
    const term = window[${JSON.stringify(global)}];
    if (!term) return false;
    if (!window.__markerFrame) {
      window.__markerFrame = { at: 0 };
      term.onRender(() => {
        if (window.__markerFrame.at) return;
        const buffer = term.buffer.active;
        const from = Math.max(buffer.viewportY, buffer.baseY + buffer.cursorY - 5);
        const to = Math.min(buffer.length, buffer.viewportY + term.rows);
        for (let i = from; i < to; i++) {
          const line = buffer.getLine(i);
          if (line && line.translateToString(true).includes(${JSON.stringify(marker)})) {
            window.__markerFrame.at = performance.now();
            return;
          }
        }
      });
    }
    return window.__markerFrame.at || false;
  })()`;
}

const RENDERER = `document.querySelector('.xterm-screen canvas') ? 'webgl' : 'dom'`;

async function renderOnce(browser: Browser, url: string, global: string, marker: string): Promise<RenderRun> {
  // A fresh context each time: no cache, no service worker (wetty registers one) from a previous run.
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    const found = await page.waitForFunction(markerPoll(global, marker), undefined, {
      polling: 20,
      timeout: TIMEOUT_MS,
    });
    const ms = (await found.jsonValue()) as number;
    const renderer = (await page.evaluate(RENDERER)) as string;
    return { ms, renderer };
  } finally {
    await context.close();
  }
}

/** Writes the file: numbered text lines up to `size` bytes, then the marker line. */
function markedFile(work: string, size: number, marker: string): TextFile {
  const dir = path.join(work, 'render');
  mkdirSync(dir, { recursive: true });
  const text = makeTextFile(dir, size);
  const last = `${marker}\n`;
  appendFileSync(text.file, last);
  return { ...text, bytes: text.bytes + last.length, lines: text.lines + 1, expectedBytes: text.expectedBytes + 1 };
}

export async function measureRender(work: string, size: number, runs: number): Promise<RenderResults> {
  const marker = `LAST-LINE-${randomBytes(8).toString('hex')}`;
  const text = markedFile(work, size, marker);
  // The program stays after the cat: wetty loses the end of the output of a program that exits
  // (node-pty's master is closed at the exit before all was read), and the marker with it.
  const command = `cat ${text.file}; exec sleep 3600`;
  const ours = await startServerProcess({ TERMINAL_COMMAND: JSON.stringify(['bash', '-c', command]) });
  let browser: Browser | undefined;
  const stopWetty: (() => Promise<void>)[] = [];
  try {
    const wetty = await startWetty(`bash -c '${command}'`, path.dirname(text.file));
    stopWetty.push(() => wetty.stop());
    const results: RenderResults = {
      file: { bytes: text.bytes, lines: text.lines },
      chromium: '',
      viewport: VIEWPORT,
      ours: [],
      wetty: [],
      withoutWebgl: { ours: [], wetty: [] },
    };
    let session = 0;
    for (const [extra, into] of [
      [[], results],
      [['--disable-webgl'], results.withoutWebgl],
    ] as const) {
      browser = await startChromium(extra);
      results.chromium = browser.version();
      const b = browser;
      const kinds = [
        async () => {
          const url = `http://127.0.0.1:${ours.port}/terminal/session/render-${session++}`;
          into.ours.push(await renderOnce(b, url, 'terminal', marker));
        },
        async () => {
          into.wetty.push(await renderOnce(b, wetty.pageUrl, 'wetty_term', marker));
        },
      ];
      for (let run = 0; run < runs; run++) {
        // Side by side, starting with a different one each round.
        for (let i = 0; i < kinds.length; i++) await (kinds[(i + run) % kinds.length] as () => Promise<void>)();
      }
      await browser.close();
      browser = undefined;
    }
    return results;
  } finally {
    await browser?.close();
    for (const stop of stopWetty) await stop();
    await ours.stop();
  }
}
