// Moving between the workshop's pages: previous / next, the page list, links
// between pages and the exit sign at the end of each. The current page is in
// the URL (?page=…), so a reload or a shared link lands on it, and in this
// browser's storage, so opening the dashboard again goes back to it.
import type { DashboardData, PageContent } from '../src/page-data.js';
import { element } from './tabs.js';

export interface Navigation {
  /** The header: workshop name, previous, page list, next. */
  readonly header: HTMLElement;
  /** Where a page's content goes. */
  readonly article: HTMLElement;
}

export function createNavigation(
  data: DashboardData,
  options: { onShown(article: HTMLElement): void; onLeaving(): void },
): Navigation {
  const pages = data.pages;
  const storageKey = `workshop-dashboard-page:${data.prefix}:${data.workshop ?? ''}`;

  const header = element('header', 'wt-header');
  const title = element('h1', 'wt-workshop-name');
  title.textContent = data.workshop ?? '';
  const nav = element('nav', 'wt-nav');
  nav.setAttribute('aria-label', 'Pages');
  const previous = button('wt-previous', '‹ Previous');
  const next = button('wt-next', 'Next ›');
  const list = element('select', 'wt-page-list');
  list.setAttribute('aria-label', 'Page');
  pages.forEach((page, i) => {
    const option = element('option', '');
    option.value = page.name;
    option.textContent = `${i + 1}. ${page.title}`;
    list.append(option);
  });
  nav.append(previous, list, next);
  header.append(title, nav);

  const article = element('article', 'wt-page');
  article.id = 'wt-page';

  let current: PageContent | null = null;
  let loading = 0;

  function indexOf(name: string | undefined): number {
    return pages.findIndex((page) => page.name === name);
  }

  function show(page: PageContent, how: 'push' | 'replace' | 'none'): void {
    options.onLeaving();
    current = page;
    const index = indexOf(page.name);
    article.innerHTML = page.html;
    article.dataset.page = page.name;
    // The page's title on top, numbered, as Educates' and Homeroom's renderers show it;
    // unless the page starts with a heading of its own, which they would show twice.
    if (!article.firstElementChild?.matches('h1')) {
      const heading = element('h1', 'wt-page-title');
      heading.textContent = index >= 0 ? `${index + 1}: ${page.title}` : page.title;
      article.prepend(heading);
    }
    const end = element('footer', 'wt-page-end');
    const following = pages.find((other) => other.name === page.nextPage) ?? pages[index + 1];
    if (following) {
      const go = button('wt-exit-sign', page.exitSign ?? 'Continue');
      go.addEventListener('click', () => void open(following.name, 'push'));
      end.append(go);
    } else if (page.exitLink) {
      // The server lets only http(s) addresses through.
      const leave = element('a', 'wt-exit-sign');
      leave.href = page.exitLink;
      leave.rel = 'noopener noreferrer';
      leave.textContent = page.exitSign ?? 'Finish Workshop';
      end.append(leave);
    } else {
      end.textContent = 'This is the last page of the workshop.';
    }
    article.append(end);
    previous.disabled = index <= 0;
    next.disabled = index < 0 || index >= pages.length - 1;
    list.value = page.name;
    document.title = `${page.title} – ${data.workshop ?? 'Workshop'}`;
    const url = `?page=${encodeURIComponent(page.name)}${how === 'none' ? location.hash : ''}`;
    if (how === 'push') history.pushState({ page: page.name }, '', url);
    else history.replaceState({ page: page.name }, '', url);
    try {
      localStorage.setItem(storageKey, page.name);
    } catch {
      // Storage refused (private mode): the URL still holds the page.
    }
    if (how === 'push') article.parentElement?.scrollTo({ top: 0 });
    options.onShown(article);
  }

  async function open(name: string, how: 'push' | 'replace'): Promise<void> {
    if (indexOf(name) < 0 || name === current?.name) return;
    const ticket = ++loading;
    let page: PageContent;
    try {
      const path = name.split('/').map(encodeURIComponent).join('/');
      const response = await fetch(`api/pages/${path}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      page = (await response.json()) as PageContent;
    } catch (error) {
      if (ticket === loading) article.dataset.error = `The page could not be loaded (${(error as Error).message}).`;
      return;
    }
    if (ticket !== loading) return; // a later click won
    delete article.dataset.error;
    show(page, how);
  }

  previous.addEventListener('click', () => {
    const before = pages[indexOf(current?.name) - 1];
    if (before) void open(before.name, 'push');
  });
  next.addEventListener('click', () => {
    const after = pages[indexOf(current?.name) + 1];
    if (after) void open(after.name, 'push');
  });
  list.addEventListener('change', () => void open(list.value, 'push'));
  // Links between pages stay in the dashboard (the terminals keep going).
  article.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest<HTMLAnchorElement>('a[data-page]') : null;
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    void open(link.dataset.page as string, 'push');
  });
  window.addEventListener('popstate', (event) => {
    const name = (event.state as { page?: string } | null)?.page ?? new URL(location.href).searchParams.get('page');
    if (name) void open(name, 'replace');
  });

  // The first page: the one the URL names (the HTML holds it), else the one this browser was last on.
  const asked = new URL(location.href).searchParams.get('page');
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(storageKey);
  } catch {
    stored = null;
  }
  if (data.page) show(data.page, asked === data.page.name ? 'none' : 'replace');
  if (asked === null && stored && stored !== data.page?.name) void open(stored, 'replace');
  return { header, article };
}

function button(className: string, text: string): HTMLButtonElement {
  const node = element('button', className);
  node.type = 'button';
  node.textContent = text;
  return node;
}
