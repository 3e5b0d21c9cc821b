// The editor: a file tree of the home folder beside tabs of open files, each a
// CodeMirror 6 view. This is the bundle's entry (dist/page/editor/editor.js, an
// ES module): the dashboard imports it when its Editor tab is first opened, the
// stand-alone page (editor-page.ts) at once. Both call mountEditor and get the
// EditorApi its editor:* actions use.

import { gotoLine, openSearchPanel } from '@codemirror/search';
import { FileApiError, FileClient } from '../../terminal-server/page/file-client.js';
import { icon } from '../../terminal-server/page/icons.js';
import { terminalSettings } from '../../terminal-server/page/settings.js';
import { button, element } from './dom.js';
import type { EditorApi, TextChange } from './editor-api.js';
import { editorTheme } from './editor-theme.js';
import { createFileTree } from './file-tree.js';
import { OpenFile } from './open-file.js';

export type { EditorApi, TextChange, TextState } from './editor-api.js';
/** The text changes of the editor:* actions: in this bundle, so a dashboard fetches them with the editor, not before. */
export * as edits from './edits.js';

export interface EditorOptions {
  /** The terminal's URL prefix ('' or '/user/alice'). */
  prefix: string;
  /** The file API client (one is made for the prefix when not given). */
  files?: FileClient;
}

export interface MountedEditor extends EditorApi {
  /** Looks at every open file on disk now (the poll does every CHECK_INTERVAL_MS while shown). */
  checkDisk(): Promise<void>;
}

/** How often open files are compared with the disk while the editor is shown: a `sed -i` shows within this. */
const CHECK_INTERVAL_MS = 2000;
/** Below this width the tree folds away by itself (a phone); its button brings it back. */
const NARROW_PX = 700;

/** Fills `host` with the editor; returns what the pages holding it drive it by. */
export function mountEditor(host: HTMLElement, options: EditorOptions): MountedEditor {
  const files = options.files ?? new FileClient({ prefix: options.prefix });
  const store = terminalSettings();
  const open: OpenFile[] = [];
  let active: OpenFile | null = null;

  host.classList.add('wt-editor');
  const toolbar = element('div', 'wt-editor-toolbar');
  toolbar.setAttribute('role', 'toolbar');
  toolbar.setAttribute('aria-label', 'Editor');
  const body = element('div', 'wt-editor-body');
  const tabbar = element('div', 'wt-editor-tabs');
  tabbar.setAttribute('role', 'tablist');
  tabbar.setAttribute('aria-label', 'Open files');
  const panels = element('div', 'wt-editor-panels');
  const empty = element('p', 'wt-editor-empty');
  empty.textContent = 'Choose a file in the tree to open it.';
  const status = element('p', 'wt-editor-status');
  status.setAttribute('role', 'status');
  panels.append(empty);
  const main = element('div', 'wt-editor-main');
  main.append(tabbar, panels);

  const tree = createFileTree(files, (path) => {
    // A phone: the tree lies over the text; the file chosen is what the attendee wants to see.
    if (host.clientWidth < NARROW_PX) showTree(false);
    void api.open(path).catch(report);
  });
  const treeToggle = button('Files', 'wt-editor-tree-toggle', () => showTree(tree.element.hidden));
  tree.element.id = `wt-editor-tree-${Math.random().toString(36).slice(2)}`;
  treeToggle.setAttribute('aria-controls', tree.element.id);
  const showTree = (shown: boolean) => {
    tree.element.hidden = !shown;
    treeToggle.setAttribute('aria-expanded', String(shown));
  };
  showTree(host.clientWidth === 0 || host.clientWidth >= NARROW_PX);
  const saveButton = button('Save', 'wt-editor-save', () => void saveActive(), 'Save (Ctrl+S)');
  const findButton = button(
    'Find',
    'wt-editor-find',
    () => active && openSearchPanel(active.view),
    'Find and replace (Ctrl+F)',
  );
  const lineButton = button(
    'Go to line',
    'wt-editor-goto',
    () => active && gotoLine(active.view),
    'Go to line (Ctrl+Alt+G)',
  );
  toolbar.append(treeToggle, saveButton, findButton, lineButton, status);
  body.append(tree.element, main);
  host.append(toolbar, body);

  function report(error: unknown): void {
    status.textContent = (error as Error).message;
    status.dataset.kind = 'error';
  }

  function say(text: string): void {
    status.textContent = text;
    delete status.dataset.kind;
  }

  const tabs = new Map<OpenFile, { item: HTMLElement; tab: HTMLButtonElement; marker: HTMLElement }>();
  function addTab(file: OpenFile): void {
    const item = element('div', 'wt-editor-tab');
    const tab = element('button', 'wt-editor-tab-name');
    tab.type = 'button';
    tab.setAttribute('role', 'tab');
    const marker = element('span', 'wt-editor-dirty');
    marker.setAttribute('aria-hidden', 'true');
    const close = button(
      '',
      'wt-editor-tab-close',
      () => void api.close(file.path).catch(report),
      `Close ${file.path}`,
    );
    close.append(icon('close'));
    tab.addEventListener('click', () => show(file));
    item.append(tab, close);
    tabbar.append(item);
    tabs.set(file, { item, tab, marker });
    const id = `wt-editor-file-${Math.random().toString(36).slice(2)}`;
    tab.id = `${id}-tab`;
    file.panel.id = id;
    tab.setAttribute('aria-controls', id);
    file.panel.setAttribute('aria-labelledby', tab.id);
    panels.append(file.panel);
    label(file);
  }

  /** The tab's name, its unsaved marker, and what the toolbar can do. */
  function label(file: OpenFile): void {
    const parts = tabs.get(file);
    if (!parts) return;
    const { item, tab, marker } = parts;
    const dirty = file.dirty;
    marker.textContent = dirty ? '●' : '';
    tab.replaceChildren(file.name, marker);
    tab.title = file.path;
    tab.setAttribute(
      'aria-label',
      `${file.path}${dirty ? ' (unsaved)' : ''}${file.conflicted ? ' (changed on disk)' : ''}`,
    );
    item.dataset.path = file.path;
    item.dataset.dirty = String(dirty);
    const closeButton = item.querySelector('.wt-editor-tab-close');
    closeButton?.setAttribute('aria-label', `Close ${file.path}`);
    if (file === active) saveButton.disabled = file.readOnly !== null;
  }

  function show(file: OpenFile | null): void {
    active = file;
    for (const [other, { tab, item }] of tabs) {
      const selected = other === file;
      other.panel.hidden = !selected;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      item.classList.toggle('wt-active', selected);
    }
    empty.hidden = file !== null;
    saveButton.disabled = !file || file.readOnly !== null;
    findButton.disabled = lineButton.disabled = !file;
    if (file) {
      label(file);
      file.view.requestMeasure();
    }
  }

  // Arrow keys move between the tabs of open files (one Tab stop for the whole bar).
  tabbar.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    const at = active ? open.indexOf(active) : -1;
    const next = open[(at + (event.key === 'ArrowRight' ? 1 : open.length - 1)) % open.length];
    if (!next) return;
    event.preventDefault();
    show(next);
    tabs.get(next)?.tab.focus();
  });

  async function saveActive(): Promise<void> {
    if (!active) return;
    const file = active;
    try {
      await file.save();
      say(`Saved ${file.path}`);
    } catch (error) {
      report(error);
    }
  }

  /** The home folder's absolute path, once an absolute path has been read (answers name files relative to it). */
  let home: string | null = null;
  const normalise = (path: string): string => {
    let relative = path
      .replace(/^~(\/|$)/, '')
      .replace(/^(\.\/)+/, '')
      .replace(/\/+$/, '');
    if (home && relative.startsWith(`${home}/`)) relative = relative.slice(home.length + 1);
    return relative;
  };
  const find = (path: string) => {
    const wanted = normalise(path);
    return open.find((file) => file.path === wanted) ?? null;
  };

  /** The file's tab, read from disk when it is not open yet. */
  async function ensureOpen(path: string, create: boolean): Promise<OpenFile> {
    const wanted = normalise(path);
    const existing = find(wanted);
    if (existing) return existing;
    let read = await files.read(wanted).catch(async (error: unknown) => {
      if (!(create && error instanceof FileApiError && error.status === 404)) throw error;
      return null;
    });
    if (!read) {
      await files.write(wanted, '', 'new').catch((error: unknown) => {
        // Made meanwhile (by the shell, or an action before): open what is there.
        if (!(error instanceof FileApiError && error.code === 'exists')) throw error;
      });
      read = await files.read(wanted);
    }
    if (wanted.startsWith('/') && wanted.endsWith(`/${read.path}`)) home = wanted.slice(0, -read.path.length - 1);
    // Asked for twice at once: the first one's tab.
    const raced = find(read.path);
    if (raced) return raced;
    const file: OpenFile = new OpenFile({
      path: read.path,
      read,
      files,
      look: editorTheme(store.current),
      onChange: () => label(file),
      onSave: () => void saveActive(),
    });
    open.push(file);
    addTab(file);
    if (read.text !== null) void tree.refresh();
    return file;
  }

  const unsubscribe = store.subscribe((settings) => {
    const look = editorTheme(settings);
    for (const file of open) file.restyle(look);
  });
  void unsubscribe;

  const visible = () => document.visibilityState === 'visible' && host.isConnected && host.getClientRects().length > 0;
  const checkDisk = async () => {
    await Promise.all(open.map((file) => file.checkDisk().catch(report)));
  };
  setInterval(() => {
    if (visible() && open.length > 0) void checkDisk();
  }, CHECK_INTERVAL_MS);
  window.addEventListener('focus', () => {
    if (visible()) void checkDisk();
  });
  // Shown again (its dashboard tab chosen after the shell ran `sed -i`): look at once, not at the next tick.
  let shown = false;
  new ResizeObserver(() => {
    const now = visible();
    if (now && !shown && open.length > 0) void checkDisk();
    shown = now;
  }).observe(host);

  const api: MountedEditor = {
    files,
    checkDisk,
    async open(path, openOptions = {}) {
      const file = await ensureOpen(path, openOptions.create === true);
      show(file);
      if (openOptions.line !== undefined) file.goToLine(openOptions.line);
      file.view.focus();
    },
    async change(path, change: TextChange, changeOptions = {}) {
      const file = await ensureOpen(path, changeOptions.create === true);
      show(file);
      if (file.readOnly) throw new Error(`${file.path} is open read-only, so it was not changed`);
      const next = change({ text: file.text, selection: file.selection });
      file.replace(next.text, next.selection);
      await file.save();
      say(`Saved ${file.path}`);
    },
    async close(path) {
      const file = find(path);
      if (!file) return true;
      if (file.dirty && !window.confirm(`${file.path} has unsaved changes. Close it and lose them?`)) return false;
      const at = open.indexOf(file);
      open.splice(at, 1);
      tabs.get(file)?.item.remove();
      tabs.delete(file);
      file.destroy();
      if (active === file) show(open[Math.min(at, open.length - 1)] ?? null);
      return true;
    },
    moved(from, to) {
      const file = find(from);
      if (!file) return;
      if (to === null) {
        file.version = null;
        file.message(`${file.path} was deleted. Saving writes it again.`, 'info');
      } else file.renamed(normalise(to));
      void tree.refresh();
    },
  };
  show(null);
  return api;
}
