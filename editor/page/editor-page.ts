// The stand-alone editor page (<prefix>/editor/): the whole window is the
// editor. The prefix is what comes before /editor/ in the page's address.
import { mountEditor } from './editor.js';

const host = document.getElementById('wt-editor');
if (host) {
  const prefix = location.pathname.replace(/\/editor\/?$/, '');
  const editor = mountEditor(host, { prefix });
  // For tests and the console, like the terminal page's window.terminal.
  (window as unknown as { editor: typeof editor }).editor = editor;
}
