// What the clickable blocks of a page do. Nothing happens until the attendee
// clicks a block (or presses Enter on it), except blocks marked autostart
// (when the page, or the section holding them, is shown) and the block after
// one marked cascade (when that one succeeds). A block is marked once done; a
// click within its cooldown after a run (or during one) does nothing.
import { UPLOADS_FOLDER } from '../../common/src/protocol.js';
import { downloadUrl, sendFile, startDownload, UploadRefused } from '../../terminal-server/page/file-transfer.js';
import { type Action, type ActionOptions, type CheckInputs, parseAction, parseOptions } from '../src/actions.js';
import { isEditorAction, runEditorAction } from './editor-actions.js';
import type { RoomReporter } from './room.js';
import type { Tabs } from './tabs.js';

type Check = Action & { type: 'examiner' };
type Upload = Action & { type: 'upload' };

/** The largest file a copy-file block puts on the clipboard or a preview shows. */
const MAX_FILE_TEXT_BYTES = 1 << 20;

export interface ActionBlocks {
  /** Prepares the blocks of the page now shown (forms, previews) and runs those that start by themselves. */
  autostart(container: HTMLElement): void;
  /** Stops retries and cascades of a page no longer shown. */
  reset(): void;
}

/** What a block with `event` reports, as a `workshop-action-event` CustomEvent (bubbling) on the instructions. */
export interface ActionEventDetail {
  page: string;
  label: string;
  event: unknown;
}

export function wireActionBlocks(
  container: HTMLElement,
  tabs: Tabs,
  options: { prefix: string; room: RoomReporter | null },
): ActionBlocks {
  const room = options.room;
  /** Bumped when the page changes, so late answers, retries and cascades of an old page are dropped. */
  let generation = 0;
  /** True while the blocks that start by themselves are started: those are not clicks, for the room. */
  let automatic = false;
  /** When each block's last run ended (for its cooldown). */
  const finished = new WeakMap<HTMLElement, number>();

  function blockOf(target: EventTarget | null): HTMLElement | null {
    return target instanceof Element ? target.closest<HTMLElement>('.wt-action[data-action]') : null;
  }

  container.addEventListener('click', (event) => {
    const block = blockOf(event.target);
    if (!block) return;
    // The controls of a block (a check's form, an upload's file chooser) act for themselves.
    if (event.target instanceof Element && event.target.closest('.wt-action-form')) return;
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

  /** A click (or autostart, or a cascade) on a block: what it does, unless it is cooling down. */
  function trigger(block: HTMLElement): void {
    const action = parseAction(block.dataset.action ?? '');
    if (!action) return;
    if (action.type === 'upload') {
      // The file chooser opens on a click only (browsers allow it then); the files start the upload.
      block.querySelector<HTMLInputElement>('.wt-action-form input[type=file]')?.click();
      return;
    }
    if (action.type === 'examiner' && action.inputs) {
      // The form says what is missing before anything runs.
      block.querySelector<HTMLFormElement>('form.wt-action-form')?.requestSubmit();
      return;
    }
    run(block, () => perform(block, action));
  }

  /** Runs a block's work once (not again while it runs, nor within its cooldown), then marks it and cascades. */
  function run(block: HTMLElement, work: () => Promise<void>, deliberate = false): void {
    const options = parseOptions(block.dataset.options);
    if (block.dataset.state === 'running') return;
    const last = finished.get(block);
    // A cooldown guards against a second click by mistake; files chosen in a file chooser are no mistake.
    if (!deliberate && last !== undefined && performance.now() - last < options.cooldown * 1000) return;
    block.dataset.state = 'running';
    report(block, options);
    const told = automatic ? undefined : tellRoom(block);
    const started = generation;
    (told ? told.then(work) : work()).then(
      () => {
        finished.set(block, performance.now());
        delete block.dataset.state;
        if (started !== generation) return;
        markDone(block);
        if (options.cascade) cascade(block, options);
      },
      (error: unknown) => {
        finished.set(block, performance.now());
        delete block.dataset.state;
        if (started !== generation) return;
        // A check shows its own result (fail); any other block, that it did not work.
        if (!block.classList.contains('wt-check')) block.dataset.result = 'failed';
        // Why, for whoever points at it (a download refused by the server says which file and why).
        block.title = error instanceof Error ? error.message : String(error);
        console.warn('the action failed', error);
      },
    );
  }

  /** The block after this one in the page (hidden ones too: a cascade may open a hidden section). */
  function cascade(block: HTMLElement, options: ActionOptions): void {
    const started = generation;
    window.setTimeout(() => {
      if (started !== generation) return;
      const all = [...container.querySelectorAll<HTMLElement>('.wt-action[data-action]')];
      const next = all[all.indexOf(block) + 1];
      if (next) trigger(next);
    }, options.pause);
  }

  /** The page shown and a block's place on it (from 1), as the room knows them. */
  function placeOf(block: HTMLElement): { page: string; index: number } {
    const page = container.querySelector<HTMLElement>('[data-page]')?.dataset.page ?? '';
    const index = [...container.querySelectorAll<HTMLElement>('.wt-action[data-action]')].indexOf(block) + 1;
    return { page, index };
  }

  /**
   * Tells the room of a block clicked; for one that types a command into terminals, a promise
   * the typing waits for, so that the server knows which block the command is before it starts.
   */
  function tellRoom(block: HTMLElement): Promise<void> | undefined {
    const action = room ? parseAction(block.dataset.action ?? '') : null;
    if (!room || !action) return undefined;
    const { page, index } = placeOf(block);
    if (!page || index < 1) return undefined;
    const sessions =
      action.type === 'execute' ? action.sessions : action.type === 'input' && action.endl ? [action.session] : [];
    const told = room.block(page, index, action.type, sessions);
    return sessions.length > 0 ? told : undefined;
  }

  function report(block: HTMLElement, options: ActionOptions): void {
    if (options.event === null) return;
    let event: unknown;
    try {
      event = JSON.parse(options.event);
    } catch {
      return;
    }
    const detail: ActionEventDetail = {
      page: container.querySelector<HTMLElement>('[data-page]')?.dataset.page ?? '',
      label: block.querySelector('.wt-action-label')?.textContent ?? '',
      event,
    };
    container.dispatchEvent(new CustomEvent('workshop-action-event', { detail, bubbles: true }));
  }

  async function perform(block: HTMLElement, action: Exclude<Action, Upload>): Promise<void> {
    if (isEditorAction(action)) return editorWork(block, action);
    switch (action.type) {
      case 'execute':
        for (const session of action.sessions) {
          const view = terminalOf(session);
          if (action.clear) view.clear();
          view.runCommand(toKeys(action.command));
        }
        showSessions(action.sessions);
        return;
      case 'interrupt':
        for (const session of action.sessions) terminalOf(session).interrupt();
        showSessions(action.sessions);
        return;
      case 'input': {
        const view = terminalOf(action.session);
        const keys = toKeys(action.text) + (action.endl ? '\r' : '');
        // As a paste when the program asks for pastes marked (a shell at its prompt): typed, not run.
        view.input(view.terminal.modes.bracketedPasteMode ? `\x1b[200~${keys}\x1b[201~` : keys);
        showSessions([action.session]);
        return;
      }
      case 'clear':
        for (const session of action.sessions) terminalOf(session).clear();
        return;
      case 'select':
        if (!tabs.select(action.session)) throw new Error(`there is no terminal ${action.session}`);
        return;
      case 'copy':
        await copyText(action.text);
        return;
      case 'open-url':
        window.open(action.url, '_blank', 'noopener');
        return;
      case 'open-dashboard':
        if (!tabs.activate(action.name)) throw new Error(`there is no ${action.name} tab`);
        return;
      case 'create-dashboard': {
        const spec = action.session ? { name: action.name, session: action.session } : null;
        const frame = action.url ? { name: action.name, url: action.url } : null;
        if (action.reload && tabs.has(action.name)) {
          if (!tabs.reload(action.name, action.url, action.focus)) {
            throw new Error(`the ${action.name} tab is a terminal: it shows no other URL`);
          }
          return;
        }
        const made = spec ?? frame;
        if (!made) throw new Error(`there is no ${action.name} tab to reload`);
        if (!tabs.add(made, action.focus)) throw new Error(`there is a tab (or a terminal) of that name already`);
        return;
      }
      case 'delete-dashboard':
        if (!tabs.remove(action.name)) throw new Error(`there is no ${action.name} tab that a page may close`);
        return;
      case 'download':
        // The same URL as the shell's `download`; a refusal marks the block failed, with the reason.
        await startDownload({ prefix: options.prefix, path: action.path, name: action.name || undefined });
        return;
      case 'copy-file':
        await copyText(await fileText(action.path));
        return;
      case 'examiner':
        return runCheck(block, action, null);
      case 'section-begin':
        toggleSection(block, action.body);
        return;
      case 'section-end':
        if (action.toggle) {
          const begin = pageOf(block).querySelector<HTMLElement>(
            `.wt-action-section-begin[aria-controls="${action.body}"]`,
          );
          if (begin?.getAttribute('aria-expanded') === 'true') toggleSection(begin, action.body);
        }
        return;
      case 'heading':
        return;
      case 'unavailable':
        throw new Error(action.reason);
    }
  }

  /** An editor:* block says in itself why it did nothing (the file is then as it was). */
  async function editorWork(block: HTMLElement, action: Parameters<typeof runEditorAction>[0]): Promise<void> {
    const status = block.querySelector<HTMLElement>('.wt-action-status');
    if (status) status.textContent = '';
    try {
      await runEditorAction(action, tabs);
    } catch (error) {
      if (status) status.textContent = `Not done: ${error instanceof Error ? error.message : String(error)}`;
      throw error;
    }
  }

  function terminalOf(session: string) {
    const view = tabs.terminal(session);
    if (!view) throw new Error(`there is no terminal ${session}: a dashboard:create-dashboard block opens one`);
    return view;
  }

  function showSessions(sessions: string[]): void {
    const first = sessions[0];
    if (first) tabs.reveal(first);
  }

  // ---- Sections ------------------------------------------------------------

  function toggleSection(begin: HTMLElement, bodyId: string): void {
    const page = pageOf(begin);
    const body = page.querySelector<HTMLElement>(`#${CSS.escape(bodyId)}`);
    if (!body) throw new Error('the section is not on this page');
    if (body.hidden) {
      body.hidden = false;
      begin.setAttribute('aria-expanded', 'true');
      startAutomatic(body);
      return;
    }
    // Closed with whatever it holds: a section opened inside it is closed too.
    for (const inner of [body, ...body.querySelectorAll<HTMLElement>('.wt-section-body:not([hidden])')]) {
      inner.hidden = true;
      page
        .querySelector(`.wt-action-section-begin[aria-controls="${inner.id}"]`)
        ?.setAttribute('aria-expanded', 'false');
    }
  }

  /** The blocks of `root` that start by themselves, outside closed sections. */
  function startAutomatic(root: HTMLElement): void {
    for (const block of root.querySelectorAll<HTMLElement>('.wt-action[data-options]')) {
      const closed = block.parentElement?.closest('.wt-section-body[hidden]');
      if (closed && (closed === root || root.contains(closed))) continue;
      if (!parseOptions(block.dataset.options).autostart) continue;
      automatic = true;
      try {
        trigger(block);
      } finally {
        automatic = false;
      }
    }
  }

  // ---- Files ---------------------------------------------------------------

  /** The text of a file under the home folder, through the download URL (its checks and its refusals). */
  async function fileText(path: string): Promise<string> {
    const response = await fetch(downloadUrl(options.prefix, path), { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { error?: unknown };
      throw new Error(typeof body.error === 'string' ? body.error : `the server answered ${response.status}`);
    }
    if (Number(response.headers.get('Content-Length') ?? 0) > MAX_FILE_TEXT_BYTES) {
      await response.body?.cancel();
      throw new Error(`${path} is larger than ${MAX_FILE_TEXT_BYTES >> 20} MiB: too large to copy or show`);
    }
    return response.text();
  }

  function prepareUpload(block: HTMLElement, action: Upload): void {
    const form = document.createElement('div');
    form.className = 'wt-action-form';
    const picker = document.createElement('input');
    picker.type = 'file';
    picker.multiple = action.name === null;
    picker.setAttribute('aria-label', action.name ? `The file to upload as ${action.name}` : 'The files to upload');
    picker.addEventListener('change', () => {
      const files = [...(picker.files ?? [])];
      picker.value = '';
      if (files.length > 0) {
        const chosen = files.map((file) => ({ file, replace: null }));
        run(block, () => upload(block, action, chosen), true);
      }
    });
    form.append(picker);
    block.querySelector('.wt-action-status')?.before(form);
  }

  /**
   * Sends files into ~/uploads, one after the other. A file of the same name there is not
   * replaced: the block says so and offers to replace that very one (a newer one is kept).
   */
  async function upload(block: HTMLElement, action: Upload, files: { file: File; replace: string | null }[]) {
    const status = block.querySelector<HTMLElement>('.wt-action-status');
    const say = (text: string) => {
      if (status) status.textContent = text;
    };
    const saved: string[] = [];
    const conflicts: { file: File; replace: string; why: string }[] = [];
    for (const { file, replace } of files) {
      say(`Uploading ${file.name}…`);
      try {
        const sent = await sendFile({
          prefix: options.prefix,
          file,
          ...(action.name ? { name: action.name } : {}),
          query: { into: UPLOADS_FOLDER, ...(replace ? { replace } : {}) },
          onProgress: (loaded) =>
            say(`Uploading ${file.name}: ${Math.floor((loaded / Math.max(file.size, 1)) * 100)} %`),
        });
        saved.push(`${UPLOADS_FOLDER}/${sent.name}`);
      } catch (error) {
        if (error instanceof UploadRefused && error.status === 409 && error.existing !== null) {
          conflicts.push({ file, replace: error.existing, why: error.message });
          continue;
        }
        say(`Not uploaded: ${(error as Error).message}`);
        throw error;
      }
    }
    say(saved.length > 0 ? `Uploaded: ${saved.join(', ')}` : '');
    if (conflicts.length === 0) return;
    say(`${status?.textContent ? `${status.textContent}. ` : ''}${conflicts.map((c) => c.why).join('; ')}`);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'wt-replace';
    button.textContent = conflicts.length > 1 ? 'Replace them' : 'Replace it';
    button.addEventListener('click', () => {
      button.remove();
      run(block, () => upload(block, action, conflicts), true);
    });
    status?.append(' ', button);
    throw new Error('a file of that name is there already: not replaced');
  }

  async function showPreview(block: HTMLElement, path: string): Promise<void> {
    const preview = document.createElement('pre');
    preview.className = 'wt-action-preview';
    block.querySelector('.wt-action-label')?.after(preview);
    try {
      preview.textContent = await fileText(path);
    } catch (error) {
      preview.textContent = `(${(error as Error).message})`;
    }
  }

  // ---- Checks --------------------------------------------------------------

  function prepareForm(block: HTMLElement, check: Check, inputs: CheckInputs): void {
    const form = document.createElement('form');
    form.className = 'wt-action-form';
    form.noValidate = false;
    const read: (() => [string, unknown] | null)[] = [];
    for (const field of inputs.fields) {
      const label = document.createElement('label');
      label.textContent = `${field.title} `;
      let control: HTMLInputElement | HTMLSelectElement;
      if (field.choices) {
        const select = document.createElement('select');
        for (const choice of field.choices) select.append(new Option(choice, choice, false, choice === field.default));
        control = select;
      } else {
        const input = document.createElement('input');
        input.type = field.type === 'boolean' ? 'checkbox' : field.type === 'string' ? 'text' : 'number';
        if (field.type === 'integer') input.step = '1';
        if (field.type === 'number') input.step = 'any';
        if (field.type === 'boolean') input.checked = field.default === 'true';
        else input.value = field.default;
        control = input;
      }
      control.name = field.name;
      control.required = field.required && field.type !== 'boolean';
      label.append(control);
      form.append(label);
      read.push(() => {
        if (control instanceof HTMLInputElement && control.type === 'checkbox') return [field.name, control.checked];
        if (control.value === '') return null;
        return [field.name, field.type === 'string' ? control.value : Number(control.value)];
      });
    }
    const submit = document.createElement('button');
    submit.type = 'submit';
    submit.textContent = inputs.submit;
    form.append(submit);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const values: Record<string, unknown> = {};
      for (const get of read) {
        const pair = get();
        if (pair) values[pair[0]] = pair[1];
      }
      run(block, () => runCheck(block, check, values));
    });
    block.querySelector('.wt-check-status')?.before(form);
  }

  async function runCheck(block: HTMLElement, check: Check, inputs: Record<string, unknown> | null): Promise<void> {
    const started = generation;
    const status = block.querySelector<HTMLElement>('.wt-check-status');
    const output = block.querySelector<HTMLElement>('.wt-check-output');
    const show = (result: string, text: string, detail = '') => {
      block.dataset.result = result;
      if (status) status.textContent = text;
      if (output) output.textContent = detail;
    };
    const tellCheck = (passed: boolean) => {
      const { page, index } = placeOf(block);
      if (page && index > 0) room?.check(page, index, check.name, passed);
    };
    for (let attempt = 0; ; attempt++) {
      show('running', attempt === 0 ? 'Checking…' : `Checking again (attempt ${attempt + 1})…`);
      let passed = false;
      let detail = '';
      try {
        const response = await fetch(`examiner/${encodeURIComponent(check.name)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ args: check.args, timeout: check.timeout, ...(inputs === null ? {} : { inputs }) }),
          credentials: 'same-origin',
          cache: 'no-store',
        });
        const body = (await response.json().catch(() => ({}))) as { passed?: boolean; output?: string; error?: string };
        passed = response.ok && body.passed === true;
        detail = response.ok ? (body.output ?? '').trim() : `The check could not run: ${body.error ?? response.status}`;
      } catch (error) {
        detail = `The check could not run: ${(error as Error).message}`;
      }
      if (started !== generation) throw new Error('the page was left');
      if (passed) {
        show('pass', 'Passed', detail);
        tellCheck(true);
        return;
      }
      if (attempt >= check.retries) {
        show('fail', 'Failed', detail);
        tellCheck(false);
        throw new Error('the check failed');
      }
      show('retrying', `Not yet; checking again in ${check.delay} s`, detail);
      await new Promise((resolve) => window.setTimeout(resolve, check.delay * 1000));
      if (started !== generation) throw new Error('the page was left');
    }
  }

  return {
    autostart(page) {
      for (const block of page.querySelectorAll<HTMLElement>('.wt-action[data-action]')) {
        const action = parseAction(block.dataset.action ?? '');
        if (action?.type === 'upload') prepareUpload(block, action);
        if (action?.type === 'examiner' && action.inputs) prepareForm(block, action, action.inputs);
        if ((action?.type === 'download' || action?.type === 'copy-file') && action.preview) {
          void showPreview(block, action.path);
        }
      }
      startAutomatic(page);
    },
    reset() {
      generation++;
    },
  };
}

/**
 * The tree a block is in, attached to the document or not yet: the first page
 * is shown (and its autostart blocks run) before the dashboard is in the document.
 */
function pageOf(block: HTMLElement): HTMLElement {
  let top = block;
  while (top.parentElement) top = top.parentElement;
  return top;
}

function markDone(block: HTMLElement): void {
  block.classList.add('wt-done');
  block.dataset.done = 'true';
  // A check shows its own result; any other block, that it worked this time.
  if (block.dataset.result === 'failed') delete block.dataset.result;
  block.removeAttribute('title');
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
