// The workshop dashboard: instructions on the left, a divider, tabs on the
// right (terminals, console, the workshop's own). On a narrow screen the
// instructions become one more tab. Without a workshop: just the terminals.

import { KeyBar } from '../../terminal-server/page/key-bar.js';
import { DATA_ELEMENT_ID, type DashboardData } from '../src/page-data.js';
import { wireActionBlocks } from './action-blocks.js';
import { dragResize } from './divider.js';
import { createNavigation } from './navigation.js';
import { createRoom } from './room.js';
import { createTabs, element } from './tabs.js';

const data = JSON.parse(document.getElementById(DATA_ELEMENT_ID)?.textContent ?? '{}') as DashboardData;
// The whole dashboard is the page's main content: instructions and terminals are its regions.
const root = element('main', 'wt-root');
root.id = 'wt-root';
const work = element('section', 'wt-work');
work.id = 'wt-work';
work.setAttribute('aria-label', 'Terminals');
// One key bar for every terminal, along the bottom of the page (touch screens only).
const tabs = createTabs(data, new KeyBar(root, null));
work.append(tabs.bar, tabs.panels);
if (tabs.lower) work.append(tabs.lower);

if (data.workshop === null) {
  root.append(work);
} else {
  const instructions = element('section', 'wt-instructions');
  instructions.id = 'wt-instructions';
  instructions.setAttribute('aria-label', 'Instructions');
  const headerExtras = element('div', 'wt-header-extras');
  // Only with a room: otherwise nothing is collected, nor any button shown.
  const room = data.room ? createRoom(headerExtras) : null;
  const blocks = wireActionBlocks(instructions, tabs, { prefix: data.prefix, room });
  const navigation = createNavigation(data, {
    onLeaving: () => blocks.reset(),
    onShown: (article) => {
      if (article.dataset.page) room?.page(article.dataset.page);
      blocks.autostart(article);
    },
  });
  navigation.header.append(headerExtras);
  const problems = element('div', 'wt-problems');
  if (data.problems.length > 0) {
    problems.setAttribute('role', 'alert');
    const heading = element('p', '');
    heading.textContent = 'The workshop folder has problems (a note for its author):';
    const list = element('ul', '');
    for (const problem of data.problems) {
      const item = element('li', '');
      item.textContent = problem;
      list.append(item);
    }
    problems.append(heading, list);
  }
  const scroller = element('div', 'wt-scroller');
  scroller.append(problems, navigation.article);
  instructions.append(navigation.header, scroller);

  const divider = element('div', 'wt-divider');
  divider.id = 'wt-divider';
  divider.setAttribute('aria-label', 'Width of the instructions');
  divider.setAttribute('aria-controls', instructions.id);
  const widthKey = `workshop-dashboard-width:${data.prefix}`;
  const setWidth = (px: number) => {
    const clamped = Math.max(240, Math.min(window.innerWidth - 240, px));
    root.style.setProperty('--wt-instructions-width', `${Math.round(clamped)}px`);
  };
  const saved = Number(localStorage.getItem(widthKey));
  if (saved > 0) setWidth(saved);
  dragResize(divider, {
    axis: 'x',
    move: (delta) => setWidth(instructions.offsetWidth + delta),
    done: () => localStorage.setItem(widthKey, String(instructions.offsetWidth)),
    position: () => (instructions.offsetWidth / Math.max(1, root.offsetWidth)) * 100,
  });

  // Narrow screens: an Instructions tab, and the body says which of the two is in view.
  const instructionsTab = element('button', 'wt-tab wt-tab-instructions');
  instructionsTab.type = 'button';
  instructionsTab.id = 'wt-tab-instructions';
  instructionsTab.textContent = 'Instructions';
  instructionsTab.setAttribute('role', 'tab');
  instructionsTab.setAttribute('aria-controls', instructions.id);
  const showView = (view: 'instructions' | 'work') => {
    document.body.dataset.view = view;
    // Only narrow screens show this tab: the others stay selected for wide ones.
    instructionsTab.setAttribute('aria-selected', String(view === 'instructions'));
  };
  instructionsTab.addEventListener('click', () => showView('instructions'));
  tabs.bar.prepend(instructionsTab);
  tabs.onActivate = () => showView('work');
  root.append(instructions, divider, work);
}

document.body.append(root);
// Terminals measure their screens: they start once in the document.
tabs.start();
if (data.workshop !== null) document.getElementById('wt-tab-instructions')?.click();
