// The right-hand side of the dashboard: a tab bar and its panels. "Terminal"
// stacks one to three terminals (sessions 1, 2, 3) with dividers between
// them; "Console", "Slides" and the workshop's URL tabs are frames, made when
// first shown; a terminal:<name> tab is one more terminal, on session <name>;
// "Editor" loads the editor's bundle when first shown (editor-tab.ts).
// Layout `lower` puts the terminal below the tabs instead of in one; layout
// `none` shows no terminal until an action needs one. Pages may add tabs of
// both kinds, reload them and remove them (the dashboard:* actions); the
// Terminal, Console and Slides tabs stay.
import type { Terminal } from '@xterm/xterm';
import type { KeyBar } from '../../terminal-server/page/key-bar.js';
import { TerminalView } from '../../terminal-server/page/terminal-view.js';
import { TERMINAL_SESSIONS } from '../src/actions.js';
import type { DashboardData } from '../src/page-data.js';
import { dragResize } from './divider.js';
import { loadEditor, placeEditor } from './editor-tab.js';

const LAYOUT_COUNT = { single: 1, split: 2, 'split/2': 3, lower: 1, none: 0 } as const;

interface Tab {
  name: string;
  button: HTMLButtonElement;
  panel: HTMLElement;
  /** Fills the panel the first time it is shown. */
  open?: () => void;
  /** A frame tab's URL (its frame is made when first shown). */
  url?: string;
  /** A terminal tab's session. */
  session?: string;
  /** The Terminal and Console tabs, which no page removes. */
  builtIn?: boolean;
}

/** A tab a page adds: a frame on `url`, or a terminal on `session`. */
export type TabSpec = { name: string; url: string } | { name: string; session: string };

export interface Tabs {
  /** The tab bar; the dashboard puts an Instructions tab in it on narrow screens. */
  readonly bar: HTMLElement;
  readonly panels: HTMLElement;
  /** Layout lower: the terminal's place below the panels (with the divider above it); else null. */
  readonly lower: HTMLElement | null;
  /** Shows a tab by name (case does not matter); false when there is none. */
  activate(name: string): boolean;
  /** The terminal of a session, made (and its slot shown) when needed; null for a session the dashboard has not. */
  terminal(session: string): TerminalView | null;
  /** Shows the tab holding a session's terminal. */
  reveal(session: string): void;
  /** Shows the terminal of a session and gives it the keyboard; false for a session the dashboard has not. */
  select(session: string): boolean;
  /** Whether there is a tab of that name (case does not matter). */
  has(name: string): boolean;
  /** Adds a tab (shown when `focus`); false when there is one of that name. */
  add(spec: TabSpec, focus: boolean): boolean;
  /**
   * Reloads a tab: a frame loads again (`url` when given, its own otherwise); a terminal
   * reconnects by itself, so it is only shown. False when there is no such tab, or a URL for a terminal's.
   */
  reload(name: string, url: string | null, focus: boolean): boolean;
  /** Removes a tab the workshop or a page added (a terminal's session goes on); false for Terminal, Console or none. */
  remove(name: string): boolean;
  /** Opens the layout's terminals and shows the Terminal tab; call once the tabs are in the document. */
  start(): void;
  /** Called whenever a tab is chosen (the narrow layout switches to the work view). */
  onActivate?: (name: string) => void;
}

/** `keyBar`: the one key bar of the page's terminals (touch screens), for the terminal in focus. */
export function createTabs(data: DashboardData, keyBar: KeyBar): Tabs {
  const bar = element('div', 'wt-tabbar');
  bar.id = 'wt-tabbar';
  bar.setAttribute('role', 'tablist');
  const panels = element('div', 'wt-panels');
  panels.id = 'wt-panels';
  const tabs: Tab[] = [];
  const views = new Map<string, TerminalView>();
  /** Where each session's terminal goes when it is first needed. */
  const homes = new Map<string, () => HTMLElement>();
  // For tests, the benchmark and the console, like the stand-alone page's window.terminal: xterm.js by session.
  const exposed: Record<string, Terminal> = {};
  (window as unknown as { terminals: typeof exposed }).terminals = exposed;

  /** Ids are never reused: a tab removed and another added must not share one. */
  let made = 0;
  function addTab(name: string, open?: (panel: HTMLElement) => void): Tab {
    const id = `wt-tab-${made++}`;
    const button = element('button', 'wt-tab');
    button.type = 'button';
    button.id = id;
    button.textContent = name;
    button.setAttribute('role', 'tab');
    const panel = element('div', 'wt-panel');
    panel.id = `${id}-panel`;
    button.setAttribute('aria-controls', panel.id);
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', id);
    panel.dataset.tab = name;
    panel.hidden = true;
    const tab: Tab = { name, button, panel, ...(open ? { open: () => open(panel) } : {}) };
    button.addEventListener('click', () => api.activate(name));
    bar.append(button);
    panels.append(panel);
    tabs.push(tab);
    return tab;
  }

  // Terminal: a stack of slots for sessions 1-3; the layout says how many show from the start.
  const stack = element('div', 'wt-terminal-stack');
  let lower: HTMLElement | null = null;
  let terminalTab: Tab | null = null;
  if (data.layout === 'lower') {
    lower = element('div', 'wt-lower');
    const divider = element('div', 'wt-stack-divider');
    const below = lower;
    divider.setAttribute('aria-label', 'Height of the tabs against the terminal');
    dragResize(divider, {
      axis: 'y',
      move: (delta) => shareHeight(panels, below, delta),
      position: () => (panels.offsetHeight / Math.max(1, panels.offsetHeight + below.offsetHeight)) * 100,
    });
    lower.append(divider, stack);
  } else {
    terminalTab = addTab('Terminal');
    terminalTab.builtIn = true;
    terminalTab.panel.append(stack);
    // Layout none: the tab appears with the first terminal an action opens.
    if (data.layout === 'none') terminalTab.button.hidden = true;
  }
  const slots = new Map<string, HTMLElement>();
  for (const session of TERMINAL_SESSIONS) {
    homes.set(session, () => {
      let slot = slots.get(session);
      if (terminalTab) terminalTab.button.hidden = false;
      if (!slot) {
        slot = element('div', 'wt-terminal-slot');
        slot.dataset.session = session;
        slot.setAttribute('aria-label', `Terminal ${session}`);
        slots.set(session, slot);
        placeSlots();
      }
      return slot;
    });
  }
  function placeSlots(): void {
    const ordered = TERMINAL_SESSIONS.flatMap((session) => {
      const slot = slots.get(session);
      return slot ? [slot] : [];
    });
    stack.replaceChildren();
    ordered.forEach((slot, i) => {
      if (i > 0) {
        const divider = element('div', 'wt-stack-divider');
        const above = ordered[i - 1] as HTMLElement;
        divider.setAttribute(
          'aria-label',
          `Height of terminal ${above.dataset.session} against ${slot.dataset.session}`,
        );
        dragResize(divider, {
          axis: 'y',
          move: (delta) => shareHeight(above, slot, delta),
          position: () => (above.offsetHeight / Math.max(1, above.offsetHeight + slot.offsetHeight)) * 100,
        });
        stack.append(divider);
      }
      stack.append(slot);
    });
  }

  if (data.console) {
    const url = data.console;
    addTab('Console', (panel) => panel.append(frame(url, 'Console'))).builtIn = true;
  }
  if (data.editor) {
    const editor = addTab('Editor', () => void loadEditor().catch(() => {}));
    editor.builtIn = true;
    placeEditor({ panel: editor.panel, prefix: data.prefix, show: () => api.activate('Editor') });
  }
  if (data.slides) addTab('Slides', (panel) => panel.append(frame('slides/', 'Slides'))).builtIn = true;
  function addCustom(custom: TabSpec): Tab {
    if ('url' in custom) {
      const tab = addTab(custom.name);
      tab.url = custom.url;
      tab.open = () => tab.panel.append(frame(tab.url ?? custom.url, custom.name));
      return tab;
    }
    const holder = element('div', 'wt-terminal-slot');
    holder.dataset.session = custom.session;
    const tab = addTab(custom.name);
    tab.session = custom.session;
    tab.panel.append(holder);
    homes.set(custom.session, () => holder);
    tab.open = () => void api.terminal(custom.session);
    return tab;
  }
  for (const custom of data.tabs) addCustom(custom);
  const find = (name: string) => tabs.find((t) => t.name.toLowerCase() === name.toLowerCase());

  const api: Tabs = {
    bar,
    panels,
    lower,
    activate(name) {
      const tab = tabs.find((t) => t.name.toLowerCase() === name.toLowerCase());
      if (!tab) return false;
      for (const other of tabs) {
        const selected = other === tab;
        other.panel.hidden = !selected;
        other.button.setAttribute('aria-selected', String(selected));
        other.button.classList.toggle('wt-active', selected);
      }
      if (tab.open) {
        const open = tab.open;
        delete tab.open;
        open();
      }
      // A terminal that was hidden has no size until now.
      for (const [session, view] of views) if (tab.panel.contains(homes.get(session)?.() ?? null)) view.fit();
      api.onActivate?.(tab.name);
      return true;
    },
    terminal(session) {
      const existing = views.get(session);
      if (existing) return existing;
      const home = homes.get(session);
      if (!home) return null;
      const container = home();
      container.classList.add('terminal-view');
      const view = new TerminalView(container, { prefix: data.prefix, session, keyBar });
      views.set(session, view);
      exposed[session] = view.terminal;
      return view;
    },
    reveal(session) {
      const tab = tabs.find((t) => t.panel.contains(homes.get(session)?.() ?? null));
      if (tab) api.activate(tab.name);
    },
    select(session) {
      const view = api.terminal(session);
      if (!view) return false;
      api.reveal(session);
      view.focus();
      return true;
    },
    has(name) {
      return find(name) !== undefined;
    },
    add(spec, focus) {
      if (find(spec.name) || ('session' in spec && homes.has(spec.session))) return false;
      addCustom(spec);
      if (focus) api.activate(spec.name);
      return true;
    },
    reload(name, url, focus) {
      const tab = find(name);
      if (!tab || (url !== null && tab.session !== undefined)) return false;
      if (tab.url !== undefined) {
        if (url !== null) tab.url = url;
        const iframe = tab.panel.querySelector('iframe');
        // Setting src again loads it again, whichever origin the frame is on now.
        if (iframe) iframe.src = tab.url;
      }
      if (focus) api.activate(tab.name);
      return true;
    },
    remove(name) {
      const tab = find(name);
      if (!tab || tab.builtIn) return false;
      const wasShown = !tab.panel.hidden;
      if (tab.session !== undefined) {
        views.get(tab.session)?.dispose();
        views.delete(tab.session);
        homes.delete(tab.session);
        delete exposed[tab.session];
      }
      tab.button.remove();
      tab.panel.remove();
      tabs.splice(tabs.indexOf(tab), 1);
      if (wasShown && tabs[0]) api.activate(tabs[0].name);
      return true;
    },
    start() {
      for (const session of TERMINAL_SESSIONS.slice(0, LAYOUT_COUNT[data.layout])) api.terminal(session);
      const first = tabs.find((tab) => !tab.button.hidden);
      if (first) api.activate(first.name);
    },
  };
  return api;
}

function frame(url: string, title: string): HTMLIFrameElement {
  const iframe = element('iframe', 'wt-frame');
  iframe.src = url;
  iframe.title = title;
  iframe.referrerPolicy = 'no-referrer';
  return iframe;
}

/** Moves the boundary between two stacked terminals by `delta` pixels. */
function shareHeight(above: HTMLElement, below: HTMLElement, delta: number): void {
  const total = above.offsetHeight + below.offsetHeight;
  const min = 60;
  const top = Math.min(total - min, Math.max(min, above.offsetHeight + delta));
  above.style.flex = `${top} 1 0`;
  below.style.flex = `${total - top} 1 0`;
}

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}
