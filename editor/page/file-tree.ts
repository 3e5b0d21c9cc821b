// The file tree of the home folder: each folder read when first opened
// (FileClient.list), hidden files only when asked for. Buttons in nested
// lists, so Tab and Enter reach everything; names only ever as text.

import type { FileEntry } from '../../common/src/protocol.js';
import type { FileClient } from '../../terminal-server/page/file-client.js';
import { icon } from '../../terminal-server/page/icons.js';
import { element } from './dom.js';

export interface FileTree {
  readonly element: HTMLElement;
  /** Reads the open folders again (what the shell made or removed shows). */
  refresh(): Promise<void>;
}

interface Folder {
  path: string;
  list: HTMLUListElement;
  button: HTMLButtonElement | null;
  loaded: boolean;
}

export function createFileTree(files: FileClient, onOpen: (path: string) => void): FileTree {
  const root = element('nav', 'wt-editor-tree');
  root.setAttribute('aria-label', 'Files in the home folder');
  const header = element('div', 'wt-editor-tree-header');
  const title = element('span', 'wt-editor-tree-title');
  title.textContent = 'Home folder';
  const hiddenLabel = element('label', 'wt-editor-hidden');
  const hidden = element('input', '');
  hidden.type = 'checkbox';
  hiddenLabel.append(hidden, ' Hidden files');
  const refreshButton = element('button', 'wt-editor-refresh');
  refreshButton.type = 'button';
  refreshButton.append(icon('refresh'));
  refreshButton.title = 'Read the folders again';
  refreshButton.setAttribute('aria-label', 'Read the folders again');
  header.append(title, hiddenLabel, refreshButton);
  const top: Folder = { path: '', list: element('ul', 'wt-editor-tree-list'), button: null, loaded: false };
  root.append(header, top.list);
  const folders = new Map<string, Folder>([['', top]]);

  async function load(folder: Folder): Promise<void> {
    let entries: FileEntry[];
    let truncated = false;
    try {
      const listing = await files.list(folder.path, { hidden: hidden.checked });
      entries = listing.entries;
      truncated = listing.truncated === true;
    } catch (error) {
      const item = element('li', 'wt-editor-tree-error');
      item.textContent = `Cannot read this folder: ${(error as Error).message}`;
      folder.list.replaceChildren(item);
      return;
    }
    folder.loaded = true;
    const sorted = [...entries].sort((a, b) => {
      const folderFirst = Number(isFolder(b)) - Number(isFolder(a));
      return folderFirst || a.name.localeCompare(b.name);
    });
    const items: HTMLLIElement[] = [];
    for (const entry of sorted) items.push(entryItem(folder.path, entry));
    if (items.length === 0) {
      const empty = element('li', 'wt-editor-tree-empty');
      empty.textContent = '(empty)';
      items.push(empty);
    }
    if (truncated) {
      const more = element('li', 'wt-editor-tree-empty');
      more.textContent = `(only ${entries.length} shown: the folder has more; open them from the terminal)`;
      items.push(more);
    }
    folder.list.replaceChildren(...items);
    // Folders open before stay open, read again.
    await Promise.all(
      [...folders.values()]
        .filter((f) => f !== folder && parentOf(f.path) === folder.path && f.button?.isConnected && f.loaded)
        .map((f) => load(f)),
    );
  }

  function entryItem(parent: string, entry: FileEntry): HTMLLIElement {
    const path = parent ? `${parent}/${entry.name}` : entry.name;
    const item = element('li', 'wt-editor-tree-item');
    const button = element('button', isFolder(entry) ? 'wt-editor-folder' : 'wt-editor-file');
    button.type = 'button';
    button.textContent = entry.name;
    button.dataset.path = path;
    if (entry.type === 'link') button.title = 'A link';
    item.append(button);
    if (isFolder(entry)) {
      const known = folders.get(path);
      const list = element('ul', 'wt-editor-tree-list');
      const open = Boolean(known?.loaded);
      const folder: Folder = { path, list, button, loaded: open };
      folders.set(path, folder);
      list.hidden = !open;
      button.setAttribute('aria-expanded', String(open));
      button.addEventListener('click', () => {
        const opening = list.hidden;
        list.hidden = !opening;
        button.setAttribute('aria-expanded', String(opening));
        if (opening) void load(folder);
        else folder.loaded = false;
      });
      item.append(list);
    } else if (entry.type === 'file' || (entry.type === 'link' && entry.target === 'file')) {
      button.addEventListener('click', () => onOpen(path));
    } else {
      // A device, a socket, a link leading outside the home folder: shown, not opened.
      button.disabled = true;
      button.title = entry.type === 'link' ? 'A link leading outside the home folder' : 'Not a file';
    }
    return item;
  }

  const refresh = () => load(top);
  hidden.addEventListener('change', () => void refresh());
  refreshButton.addEventListener('click', () => void refresh());
  void refresh();
  return { element: root, refresh };
}

function isFolder(entry: FileEntry): boolean {
  return entry.type === 'folder' || (entry.type === 'link' && entry.target === 'folder');
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
