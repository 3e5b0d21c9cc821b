// A real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { findTool, requireTool } from './tools.js';

/** Starts Debian's Chromium headless: as root, no GPU, and no calls home (this network refuses them). */
export function startChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: findTool('chromium') ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

/** Starts Chromium, or skips/fails the test when it is not installed (see requireTool). */
export async function launchBrowser(t: TestContext): Promise<Browser | null> {
  if (!requireTool(t, 'chromium')) return null;
  return startChromium();
}

/** The text on the terminal's screen, as xterm.js has it, one string per row. */
export function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const term = (window as unknown as { terminal: import('@xterm/xterm').Terminal }).terminal;
    const buffer = term.buffer.active;
    const rows: string[] = [];
    for (let i = 0; i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return rows.join('\n');
  });
}

/** The text of one session's terminal on the dashboard (window.terminals), scrollback included. */
export function dashboardTerminalText(page: Page, session: string): Promise<string> {
  return page.evaluate((name) => {
    const term = (window as unknown as { terminals: Record<string, import('@xterm/xterm').Terminal> }).terminals[name];
    const buffer = term?.buffer.active;
    const rows: string[] = [];
    for (let i = 0; buffer && i < buffer.length; i++) rows.push(buffer.getLine(i)?.translateToString(true) ?? '');
    return rows.join('\n');
  }, session);
}

/** The line at the cursor of one session's terminal on the dashboard (a shell at its prompt shows `$ ` there). */
export function dashboardCursorLine(page: Page, session: string): Promise<string> {
  return page.evaluate((name) => {
    const term = (window as unknown as { terminals: Record<string, import('@xterm/xterm').Terminal> }).terminals[name];
    const buffer = term?.buffer.active;
    return buffer?.getLine(buffer.cursorY + buffer.baseY)?.translateToString(true) ?? '';
  }, session);
}

/** Waits until the terminal's screen (scrollback included) matches. */
export async function waitForScreen(page: Page, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await screenText(page);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`screen never matched ${pattern}:\n${text.trimEnd().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * How many pixels of a PNG (a screenshot from `page`) differ from its most common
 * colour, the background: what was drawn on it. Decoded by the page's own image decoder.
 */
export function drawnPixels(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (base64) => {
    const image = new Image();
    image.src = `data:image/png;base64,${base64}`;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    context.drawImage(image, 0, 0);
    const pixels = new Uint32Array(context.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    const counts = new Map<number, number>();
    for (const pixel of pixels) counts.set(pixel, (counts.get(pixel) ?? 0) + 1);
    return pixels.length - Math.max(...counts.values());
  }, png.toString('base64'));
}
