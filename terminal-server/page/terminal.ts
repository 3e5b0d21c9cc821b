// The stand-alone terminal page: one terminal view for the session named in the
// URL (…/terminal/session/<name>), filling the window.
import { TerminalView } from './terminal-view.js';

const container = document.getElementById('terminal') as HTMLElement;
const statusBox = document.getElementById('status') as HTMLElement;
const session = decodeURIComponent(location.pathname.split('/').pop() || '1');
const prefix = location.pathname.replace(/\/terminal\/session\/[^/]*$/, '');

const view = new TerminalView(container, {
  prefix,
  session,
  statusBox,
  // The page's state, for whoever looks at it (tests do).
  onStateChange: (state) => {
    document.documentElement.dataset.state = state;
    const replay = container.dataset.replay;
    if (replay) document.documentElement.dataset.replay = replay;
  },
});
view.focus();
view.terminal.onTitleChange((title) => {
  document.title = title || `Terminal ${session}`;
});
// For tests and for people debugging in the console.
Object.assign(window, { terminal: view.terminal, terminalView: view });
