// What the dashboard HTML tells its script (a JSON data block, as the CSP
// allows no inline script) and what the pages API answers. Types only, shared
// by the server and the page bundle.

/**
 * How the terminals are laid out: one, two or three stacked on the Terminal
 * tab; `lower`, one below the other tabs; `none`, no terminal until an action
 * needs one.
 */
export type TerminalLayout = 'single' | 'split' | 'split/2' | 'lower' | 'none';

export type DashboardTab = { name: string; url: string } | { name: string; session: string };

export interface PageSummary {
  name: string;
  title: string;
}

/** One page, rendered: what api/pages/<name> answers. */
export interface PageContent extends PageSummary {
  /** The label of the button at its end that goes on to the next page. */
  exitSign: string | null;
  /** The page that button leads to, when not the next one (Homeroom's next_page). */
  nextPage: string | null;
  /** Where the last page's button leads (an http(s) URL); null: no button. */
  exitLink: string | null;
  html: string;
}

export interface DashboardData {
  /** The URL prefix ('' or '/user/alice'). */
  prefix: string;
  /** The workshop's name; null when there is no workshop (terminals only). */
  workshop: string | null;
  layout: TerminalLayout;
  console: string | null;
  tabs: DashboardTab[];
  /** A Slides tab, for the workshop's slides/index.html. */
  slides: boolean;
  /** An Editor tab (EDITOR_TAB, the workshop's editor setting, or a page with an editor:* block). */
  editor: boolean;
  pages: PageSummary[];
  /** The page the HTML holds (null without a workshop). */
  page: PageContent | null;
  /** What is wrong in the workshop folder, for its author. */
  problems: string[];
  /** True when the stack reports to a room (ROOM_SERVICE_URL): the page reports too, and shows Raise hand. */
  room: boolean;
}

/** The id of the JSON data block in the dashboard HTML. */
export const DATA_ELEMENT_ID = 'wt-dashboard-data';
