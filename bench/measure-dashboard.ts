// The workshop dashboard in a real browser, beside the stand-alone terminal page
// in the same run: headless Chromium opens the sample workshop's dashboard
// (instructions and two terminals, layout "split") and the terminal page on a
// new session, alternately, each in a fresh context (nothing cached), through
// the auth proxy (so its compression and CSP apply). The page itself records
// when the first terminal shows a `$ ` prompt and when the first heading of the
// instructions is on screen; Chromium counts the bytes of every HTTP response.
// Another workshop (the bench's generated 40-page one) is measured the same way.
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { startChromium } from '../test/harness/browser.js';
import { eventually, startAuthProxy, startTerminalServer } from '../test/harness/servers.js';

export type DashboardKind = 'dashboard' | 'page';

export interface DashboardRun {
  kind: DashboardKind;
  /** ms from navigation start to the frame after a `$ ` prompt is at the cursor of the (first) terminal. */
  promptMs: number;
  /** The dashboard's second terminal, the same way; null on the stand-alone page. */
  secondPromptMs: number | null;
  /** ms from navigation start to the frame after the first heading of the instructions is visible; dashboard only. */
  instructionsMs: number | null;
  /** First contentful paint (Paint Timing), ms. */
  fcpMs: number | null;
  /** HTTP responses (no WebSocket): header and body bytes as received, bodies compressed as sent. */
  transferredBytes: number;
  /** The same from the page's Resource Timing (transferSize summed), as a cross-check. */
  resourceTimingBytes: number;
  responses: { path: string; status: number; encoding: string; headerBytes: number; bodyBytes: number }[];
  /** Console errors (a CSP refusal shows as one). */
  consoleErrors: string[];
}

export interface DashboardResults {
  chromium: string;
  viewport: { width: number; height: number };
  workshop: string;
  /** Discarded: one of each before the measured runs (the browser's own first-time costs). */
  warmup: DashboardRun[];
  dashboard: DashboardRun[];
  page: DashboardRun[];
}

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop');
const PREFIX = '/user/bench';
const VIEWPORT = { width: 1280, height: 800 };
const TIMEOUT_MS = 30_000;

/**
 * Runs in every document before its own scripts (a string, so nothing of the
 * bundler's leaks into the page): a requestAnimationFrame loop that notes when
 * each thing is first seen, and takes the time in a task queued from that frame,
 * that is once the frame has been painted.
 */
const RECORDER = `(() => {
  if (window !== window.top) return;
  const found = { prompt: null, secondPrompt: null, instructions: null, fcp: null, done: false };
  window.__dashboardBench = found;
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.name === 'first-contentful-paint') found.fcp = entry.startTime;
    }).observe({ type: 'paint', buffered: true });
  } catch {}
  const promptAtCursor = (term) => {
    // (Until the page's script sets it, window.terminal is the element with that id.)
    if (!term || !term.buffer) return false;
    const buffer = term.buffer.active;
    const line = buffer.getLine(buffer.baseY + buffer.cursorY);
    return !!line && line.translateToString(false).includes('$ ');
  };
  const headingVisible = () => {
    const heading = document.querySelector('#wt-page :is(h1, h2, h3, h4, h5, h6)');
    if (!heading || !heading.checkVisibility()) return false;
    const box = heading.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.top < innerHeight && box.bottom > 0;
  };
  const seen = new Set();
  const note = (key, test) => {
    if (seen.has(key) || !test()) return;
    seen.add(key);
    setTimeout(() => { found[key] = performance.now(); }, 0);
  };
  const frame = () => {
    const terminals = window.terminals;
    note('prompt', () => promptAtCursor(window.terminal ?? (terminals && terminals['1'])));
    note('secondPrompt', () => promptAtCursor(terminals && terminals['2']));
    note('instructions', headingVisible);
    // Done: the first prompt, and on the dashboard its second prompt and the instructions as well.
    const wanted = terminals ? ['prompt', 'secondPrompt', 'instructions'] : ['prompt'];
    if (!wanted.every((key) => seen.has(key))) requestAnimationFrame(frame);
    // (After the tasks that take the times: they were queued first.)
    else setTimeout(() => { found.done = true; }, 0);
  };
  requestAnimationFrame(frame);
})();`;

const RESOURCE_TIMING_BYTES = `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .filter((entry) => entry.name.startsWith('http'))
  .reduce((sum, entry) => sum + entry.transferSize, 0)`;

async function openOnce(browser: Browser, kind: DashboardKind, url: string): Promise<DashboardRun> {
  // A fresh context each time: no cache, no storage (the dashboard remembers the page it was on).
  const context: BrowserContext = await browser.newContext({ viewport: VIEWPORT });
  try {
    await context.addInitScript(RECORDER);
    const page = await context.newPage();
    const errors: string[] = [];
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    const responses: Promise<DashboardRun['responses'][number] | null>[] = [];
    page.on('requestfinished', (request) => {
      if (!/^https?:/.test(request.url())) return;
      responses.push(
        (async () => {
          const [sizes, response] = await Promise.all([request.sizes(), request.response()]);
          return {
            path: new URL(request.url()).pathname,
            status: response?.status() ?? 0,
            encoding: (await response?.headerValue('content-encoding')) ?? '',
            headerBytes: sizes.responseHeadersSize,
            bodyBytes: sizes.responseBodySize,
          };
        })(),
      );
    });
    await page.goto(url, { waitUntil: 'commit' });
    // A function, not a string: the page's CSP refuses eval.
    await page
      .waitForFunction(
        () => (window as unknown as { __dashboardBench?: { done: boolean } }).__dashboardBench?.done === true,
        undefined,
        { polling: 50, timeout: TIMEOUT_MS },
      )
      .catch(async (error: Error) => {
        const state = await page.evaluate('JSON.stringify(window.__dashboardBench)').catch(() => 'unknown');
        throw new Error(`${kind} at ${url}: ${error.message}; seen so far ${state}; ${errors.join('; ')}`);
      });
    // Everything the page asks for once it is up (images of the instructions, say) counts as well.
    await page.waitForLoadState('networkidle', { timeout: TIMEOUT_MS });
    if (errors.length > 0) throw new Error(`${kind}: script errors: ${errors.join('; ')}`);
    const found = (await page.evaluate('window.__dashboardBench')) as {
      prompt: number;
      secondPrompt: number | null;
      instructions: number | null;
      fcp: number | null;
    };
    const resourceTimingBytes = (await page.evaluate(RESOURCE_TIMING_BYTES)) as number;
    const received = (await Promise.all(responses)).filter((r) => r !== null);
    return {
      kind,
      promptMs: found.prompt,
      secondPromptMs: found.secondPrompt,
      instructionsMs: found.instructions,
      fcpMs: found.fcp,
      transferredBytes: received.reduce((sum, r) => sum + r.headerBytes + r.bodyBytes, 0),
      resourceTimingBytes,
      responses: received,
      consoleErrors,
    };
  } finally {
    await context.close();
  }
}

/**
 * `workshop`: another workshop folder to open than the sample (the bench's
 * 40-page one), with what to call it in the results.
 */
export async function measureDashboard(
  runs: number,
  workshop: { dir: string; label: string } = { dir: WORKSHOP, label: path.relative(projectRoot(), WORKSHOP) },
): Promise<DashboardResults> {
  const terminal = await startTerminalServer({ URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: workshop.dir });
  let browser: Browser | undefined;
  try {
    const proxy = await startAuthProxy(
      { AUTH_USERNAME: '*', URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: workshop.dir },
      terminal.port,
    );
    try {
      browser = await startChromium();
      const results: DashboardResults = {
        chromium: browser.version(),
        viewport: VIEWPORT,
        workshop: workshop.label,
        warmup: [],
        dashboard: [],
        page: [],
      };
      let pageSession = 0;
      const once = async (kind: DashboardKind): Promise<DashboardRun> => {
        const url =
          kind === 'dashboard'
            ? `${proxy.base}/dashboard/`
            : `${proxy.base}/terminal/session/bench-page-${pageSession++}`;
        const run = await openOnce(browser as Browser, kind, url);
        // Every run starts new shells: the dashboard's sessions (1 and 2) are ended, as is the page's.
        for (const session of terminal.server.sessions.list()) terminal.server.sessions.get(session.name)?.terminate();
        await eventually(() => terminal.server.sessions.size === 0, 10_000, 'the sessions to end');
        return run;
      };
      results.warmup.push(await once('dashboard'), await once('page'));
      for (let run = 0; run < runs; run++) {
        // Side by side, starting with the other one each round.
        const order: DashboardKind[] = run % 2 === 0 ? ['dashboard', 'page'] : ['page', 'dashboard'];
        for (const kind of order) results[kind].push(await once(kind));
      }
      return results;
    } finally {
      await browser?.close();
      await proxy.close();
    }
  } finally {
    await terminal.close();
  }
}
