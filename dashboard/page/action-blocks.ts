// What the clickable blocks of a page do. Nothing happens until the attendee
// clicks a block (or presses Enter on it), except checks marked autostart.
// A block is marked once done; a check shows how it went.
import { startDownload } from '../../terminal-server/page/file-transfer.js';
import { type Action, parseAction } from '../src/actions.js';
import type { Tabs } from './tabs.js';

type Check = Action & { type: 'examiner' };

export interface ActionBlocks {
  /** Runs the checks of the page now shown that start by themselves. */
  autostart(container: HTMLElement): void;
  /** Stops retries of checks of a page no longer shown. */
  reset(): void;
}

export function wireActionBlocks(container: HTMLElement, tabs: Tabs, options: { prefix: string }): ActionBlocks {
  /** Bumped when the page changes, so late answers and retries of an old page are dropped. */
  let generation = 0;

  function blockOf(target: EventTarget | null): HTMLElement | null {
    return target instanceof Element ? target.closest<HTMLElement>('.wt-action[data-action]') : null;
  }

  container.addEventListener('click', (event) => {
    const block = blockOf(event.target);
    if (!block) return;
    // Selecting text in a block (to copy a part by hand) is not a click on it.
    const selection = window.getSelection();
    if (selection && !selection.isCollapsed && block.contains(selection.anchorNode)) return;
    trigger(block);
  });
  container.addEventListener('keydown', (event) => {
    const block = blockOf(event.target);
    if (!block || event.target !== block || (event.key !== 'Enter' && event.key !== ' ')) return;
    event.preventDefault();
    trigger(block);
  });

  function trigger(block: HTMLElement): void {
    const action = parseAction(block.dataset.action ?? '');
    if (!action) return;
    if (action.type === 'examiner') {
      void runCheck(block, action, generation);
      return;
    }
    void perform(action).then(
      () => markDone(block),
      (error: unknown) => {
        block.dataset.result = 'failed';
        // Why, for whoever points at it (a download refused by the server says which file and why).
        block.title = error instanceof Error ? error.message : String(error);
        console.warn('the action failed', error);
      },
    );
  }

  async function perform(action: Exclude<Action, Check>): Promise<void> {
    switch (action.type) {
      case 'execute':
        for (const session of action.sessions) {
          const view = tabs.terminal(session);
          if (!view) continue;
          if (action.clear) view.clear();
          view.runCommand(toKeys(action.command));
        }
        showSessions(action.sessions);
        return;
      case 'interrupt':
        for (const session of action.sessions) tabs.terminal(session)?.interrupt();
        showSessions(action.sessions);
        return;
      case 'input':
        tabs.terminal(action.session)?.input(toKeys(action.text) + (action.endl ? '\r' : ''));
        showSessions([action.session]);
        return;
      case 'clear':
        for (const session of action.sessions) tabs.terminal(session)?.clear();
        return;
      case 'copy':
        await copyText(action.text);
        return;
      case 'open-url':
        window.open(action.url, '_blank', 'noopener');
        return;
      case 'open-dashboard':
        tabs.activate(action.name);
        return;
      case 'download':
        // The same URL as the shell's `download`; a refusal marks the block failed, with the reason.
        await startDownload({ prefix: options.prefix, path: action.path, name: action.name || undefined });
        return;
    }
  }

  function showSessions(sessions: string[]): void {
    const first = sessions[0];
    if (first) tabs.reveal(first);
  }

  async function runCheck(block: HTMLElement, check: Check, started: number): Promise<void> {
    if (block.dataset.result === 'running') return;
    const status = block.querySelector<HTMLElement>('.wt-check-status');
    const output = block.querySelector<HTMLElement>('.wt-check-output');
    const show = (result: string, text: string, detail = '') => {
      block.dataset.result = result;
      if (status) status.textContent = text;
      if (output) output.textContent = detail;
    };
    for (let attempt = 0; ; attempt++) {
      show('running', attempt === 0 ? 'Checking…' : `Checking again (attempt ${attempt + 1})…`);
      let passed = false;
      let detail = '';
      try {
        const response = await fetch(`examiner/${encodeURIComponent(check.name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ args: check.args }),
          credentials: 'same-origin',
          cache: 'no-store',
        });
        const body = (await response.json().catch(() => ({}))) as {
          passed?: boolean;
          output?: string;
          error?: string;
          timedOut?: boolean;
        };
        passed = response.ok && body.passed === true;
        detail = response.ok ? (body.output ?? '').trim() : `The check could not run: ${body.error ?? response.status}`;
      } catch (error) {
        detail = `The check could not run: ${(error as Error).message}`;
      }
      if (started !== generation) return;
      if (passed) {
        show('pass', 'Passed', detail);
        markDone(block);
        return;
      }
      if (attempt >= check.retries) {
        show('fail', 'Failed', detail);
        return;
      }
      show('retrying', `Not yet; checking again in ${check.delay} s`, detail);
      await new Promise((resolve) => window.setTimeout(resolve, check.delay * 1000));
      if (started !== generation) return;
    }
  }

  return {
    autostart(page) {
      for (const block of page.querySelectorAll<HTMLElement>('.wt-check[data-action]')) {
        const action = parseAction(block.dataset.action ?? '');
        if (action?.type === 'examiner' && action.autostart) void runCheck(block, action, generation);
      }
    },
    reset() {
      generation++;
    },
  };
}

function markDone(block: HTMLElement): void {
  block.classList.add('wt-done');
  block.dataset.done = 'true';
}

/** Text as keys typed into a terminal: a line break is Enter. */
function toKeys(text: string): string {
  return text.replace(/\r?\n/g, '\r');
}

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Refused (no permission, page not focused): the older way below may still work.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('the browser did not copy');
}
