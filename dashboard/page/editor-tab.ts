// The dashboard's Editor tab: the editor's bundle (an ES module of its own,
// with CodeMirror) is imported the first time the tab is shown, or an editor:*
// action needs it; until then the dashboard fetches none of it.
import type { EditorApi } from '../../editor/page/editor-api.js';

type EditorModule = typeof import('../../editor/page/editor.js');

interface Place {
  panel: HTMLElement;
  prefix: string;
  /** Shows the Editor tab. */
  show(): void;
}

let place: Place | null = null;
let loading: Promise<EditorApi> | null = null;
let imported: Promise<EditorModule> | null = null;

/** The tab bar made an Editor tab: where the editor goes. */
export function placeEditor(where: Place): void {
  place = where;
}

/** The editor in its tab, its bundle imported and mounted the first time. */
export function loadEditor(): Promise<EditorApi> {
  const where = place;
  if (!where) return Promise.reject(new Error('this dashboard has no editor (EDITOR_TAB is off)'));
  loading ??= (async () => {
    const assets = `${where.prefix}/editor/assets`;
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = `${assets}/editor.css`;
    document.head.append(style);
    imported ??= import(`${assets}/editor.js`) as Promise<EditorModule>;
    const module = await imported;
    const host = document.createElement('div');
    host.className = 'wt-editor-host';
    where.panel.append(host);
    const editor = module.mountEditor(host, { prefix: where.prefix });
    // For tests, the benchmark and the console, like window.terminals.
    (window as unknown as { editor: EditorApi }).editor = editor;
    return editor;
  })();
  // A failed import (the network) is tried again next time.
  loading.catch(() => {
    loading = null;
    imported = null;
  });
  return loading;
}

/** Shows the Editor tab and resolves with the editor once it is loaded: what the editor:* actions call. */
export function openEditor(): Promise<EditorApi> {
  place?.show();
  return loadEditor();
}

/** The text changes of the editor:* actions, which come with the editor's bundle (loaded, with its tab, when needed). */
export async function editorEdits(): Promise<EditorModule['edits']> {
  await loadEditor();
  return (await (imported as Promise<EditorModule>)).edits;
}
