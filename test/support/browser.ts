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
