// The room page: one row per attendee, live from the room service's stream (a
// snapshot, then changed rows, at most a few times a second), sorted and
// filtered here; the failing steps grouped, each with the output line most of
// its attendees saw. Every attendee text is set as textContent: a page name, a
// command, an output line or a message is shown, never parsed.
import { ROOM_PING_MS, type RoomRow, type RoomStreamMessage } from '../../common/src/protocol.js';

const prefix = document.body.dataset.prefix ?? '';
const rows = new Map<string, RoomRow>();
let stuckMinutes = 10;
let sharedOrigin = false;
/** The service's clock minus this browser's, so times compare with the stacks'. */
let clockOffset = 0;
const now = () => Date.now() + clockOffset;

type Filter = 'all' | 'stuck' | 'hands' | 'failing' | 'stopped';
type Sort = 'stuck' | 'name' | 'progress' | 'activity' | 'hand';
let filter: Filter = 'all';
let sort: Sort = 'stuck';
let search = '';
/** A group of failures chosen to show only its attendees ('' for none). */
let groupShown = '';

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  properties: { className?: string; text?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (properties.className) node.className = properties.className;
  if (properties.text !== undefined) node.textContent = properties.text;
  node.append(...children);
  return node;
}

function ago(at: number | null): string {
  if (at === null) return 'never';
  const seconds = Math.max(0, Math.round((now() - at) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Why an attendee looks stuck, or null. */
function stuckReason(row: RoomRow, furthest: number): string | null {
  const limit = stuckMinutes * 60_000;
  if (row.problem && now() - row.problem.at >= limit) {
    return `${row.problem.kind === 'check' ? 'a check fails' : 'a command fails'} for ${ago(row.problem.at)}`;
  }
  if (row.lastAt !== null && now() - row.lastAt >= limit && furthest > row.reached) {
    return `idle for ${ago(row.lastAt)} while others moved on`;
  }
  return null;
}

function groupKey(problem: NonNullable<RoomRow['problem']>): string {
  return `${problem.page ?? ''}\u0000${problem.block ?? ''}`;
}

function groupLabel(problem: NonNullable<RoomRow['problem']>): string {
  const page = problem.index > 0 ? `page ${problem.index}` : problem.page ? `page “${problem.page}”` : 'a page';
  return problem.block === null ? `${page}, a command typed by hand` : `${page}, block ${problem.block}`;
}

// ---- The page's parts, made once.
const status = element('span', { className: 'status', text: 'connecting…' });
const counts = element('span', { className: 'counts' });
const clearButton = element('button', { text: 'Clear the room…' });
clearButton.type = 'button';
const exportCsv = element('a', { text: 'Export CSV' });
exportCsv.href = `${prefix}/api/export.csv`;
const exportJson = element('a', { text: 'Export JSON' });
exportJson.href = `${prefix}/api/export.json`;
const notice = element('p', { className: 'notice' });
notice.hidden = true;
const groups = element('ol', { className: 'groups' });
const groupsSection = element('section', {}, element('h2', { text: 'Failing steps' }), groups);
const filterSelect = element('select');
for (const [value, label] of [
  ['all', 'Everyone'],
  ['stuck', 'Stuck'],
  ['hands', 'Hands raised'],
  ['failing', 'Failing now'],
  ['stopped', 'Server stopped'],
] as const) {
  filterSelect.append(new Option(label, value));
}
const sortSelect = element('select');
for (const [value, label] of [
  ['stuck', 'Stuck and hands first'],
  ['hand', 'Longest-raised hand'],
  ['progress', 'Least progress'],
  ['activity', 'Longest idle'],
  ['name', 'Name'],
] as const) {
  sortSelect.append(new Option(label, value));
}
const searchInput = element('input');
searchInput.type = 'search';
searchInput.placeholder = 'Find a user';
const groupFilter = element('span', { className: 'group-filter' });
const tbody = element('tbody');
const table = element(
  'table',
  {},
  element('caption', { text: 'Attendees' }),
  element(
    'thead',
    {},
    element(
      'tr',
      {},
      ...['User', 'Server', 'Page', 'Checks', 'Last activity', 'Last failing command', 'Hand', ''].map((name) => {
        const th = element('th', { text: name });
        th.scope = 'col';
        return th;
      }),
    ),
  ),
  tbody,
);
const label = (text: string, control: HTMLElement) => element('label', {}, `${text} `, control);
document.body.append(
  element(
    'header',
    {},
    element('h1', { text: 'The room' }),
    status,
    counts,
    element('nav', {}, exportCsv, exportJson, clearButton),
  ),
  notice,
  groupsSection,
  element(
    'div',
    { className: 'controls' },
    label('Show', filterSelect),
    label('Sort', sortSelect),
    searchInput,
    groupFilter,
  ),
  table,
);

filterSelect.addEventListener('change', () => {
  filter = filterSelect.value as Filter;
  schedule();
});
sortSelect.addEventListener('change', () => {
  sort = sortSelect.value as Sort;
  schedule();
});
searchInput.addEventListener('input', () => {
  search = searchInput.value.trim().toLowerCase();
  schedule();
});
clearButton.addEventListener('click', async () => {
  if (!window.confirm('Clear the room? Every event is forgotten (export it first to keep it).')) return;
  const res = await fetch(`${prefix}/api/clear`, { method: 'POST', credentials: 'same-origin' });
  status.textContent = res.ok ? 'cleared' : `clearing failed (${res.status})`;
});

// ---- Rendering, at most once a frame.
let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function cellsOf(row: RoomRow, stuck: string | null): HTMLTableCellElement[] {
  const user = element('td', { className: 'user' }, element('span', { className: 'name', text: row.user }));
  if (stuck) user.append(element('span', { className: 'stuck', text: `stuck: ${stuck}` }));
  const server = element('td', { className: `server ${row.server}`, text: row.server });
  const page = element('td', { className: 'page' });
  if (row.page) {
    page.append(
      element('span', { className: 'place', text: `${row.page.index} / ${row.page.pages}` }),
      element('span', { className: 'page-name', text: row.page.name }),
    );
    if (row.reached > row.page.index)
      page.append(element('span', { className: 'reached', text: `reached ${row.reached}` }));
  } else page.textContent = '—';
  const checks = element(
    'td',
    { className: 'checks' },
    element('span', { className: 'passed', text: `✓ ${row.checksPassed}` }),
    ' ',
    element('span', { className: 'failed', text: `✗ ${row.checksFailed}` }),
  );
  const activity = element('td', {
    className: 'activity',
    text: row.lastAt === null ? 'no events' : `${ago(row.lastAt)} ago${row.active ? '' : ' (idle)'}`,
  });
  const failure = element('td', { className: 'failure' });
  if (row.lastFailure) {
    failure.append(
      element('span', { className: 'exit', text: `exit ${row.lastFailure.exit}` }),
      element('code', { className: 'command', text: row.lastFailure.command }),
      element('samp', { className: 'output', text: row.lastFailure.output }),
    );
  }
  const hand = element('td', { className: 'hand' });
  if (row.hand) {
    hand.append(element('span', { className: 'raised', text: `✋ ${ago(row.hand.at)}` }));
    if (row.hand.message) hand.append(element('q', { className: 'message', text: row.hand.message }));
  }
  const watch = element('td', { className: 'watch' });
  if (row.serverUrl && row.server === 'running') {
    const link = element('a', { text: 'Watch' });
    link.href = new URL('terminal/', new URL(row.serverUrl, location.href)).href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.title = `Open ${row.user}'s terminal read-only`;
    watch.append(link);
  }
  return [user, server, page, checks, activity, failure, hand, watch];
}

function render(): void {
  const all = [...rows.values()];
  const furthest = all.reduce((max, row) => Math.max(max, row.reached), 0);
  const stuck = new Map(all.map((row) => [row.user, stuckReason(row, furthest)]));

  // Failing steps: the attendees failing now, by page and block.
  const byStep = new Map<string, RoomRow[]>();
  for (const row of all) {
    if (!row.problem) continue;
    const key = groupKey(row.problem);
    byStep.set(key, [...(byStep.get(key) ?? []), row]);
  }
  const ranked = [...byStep].sort((a, b) => b[1].length - a[1].length).slice(0, 10);
  groups.replaceChildren(
    ...ranked.map(([key, members]) => {
      const problem = members[0]?.problem as NonNullable<RoomRow['problem']>;
      const outputs = new Map<string, number>();
      for (const member of members) {
        const output = member.problem?.output ?? '';
        if (output) outputs.set(output, (outputs.get(output) ?? 0) + 1);
      }
      const common = [...outputs].sort((a, b) => b[1] - a[1])[0];
      const show = element('button', { text: groupShown === key ? 'Show everyone' : 'Show them' });
      show.type = 'button';
      show.addEventListener('click', () => {
        groupShown = groupShown === key ? '' : key;
        schedule();
      });
      const item = element(
        'li',
        {},
        element('span', {
          className: 'group-title',
          text: `${groupLabel(problem)} failed for ${members.length} of ${all.length}`,
        }),
      );
      if (common) {
        item.append(
          element('span', { text: ` — most saw (${common[1]}): ` }),
          element('samp', { className: 'output', text: common[0] }),
        );
      }
      item.append(' ', show);
      return item;
    }),
  );
  groupsSection.hidden = ranked.length === 0;
  groupFilter.textContent = groupShown ? 'showing one failing step' : '';

  const shown = all.filter((row) => {
    if (search && !row.user.toLowerCase().includes(search)) return false;
    if (groupShown && (!row.problem || groupKey(row.problem) !== groupShown)) return false;
    if (filter === 'stuck') return stuck.get(row.user) !== null;
    if (filter === 'hands') return row.hand !== null;
    if (filter === 'failing') return row.problem !== null;
    if (filter === 'stopped') return row.server !== 'running';
    return true;
  });
  const byName = (a: RoomRow, b: RoomRow) => a.user.localeCompare(b.user);
  const compare: Record<Sort, (a: RoomRow, b: RoomRow) => number> = {
    name: byName,
    progress: (a, b) => a.reached - b.reached || byName(a, b),
    activity: (a, b) => (a.lastAt ?? 0) - (b.lastAt ?? 0) || byName(a, b),
    hand: (a, b) => (a.hand?.at ?? Infinity) - (b.hand?.at ?? Infinity) || byName(a, b),
    stuck: (a, b) =>
      Number(b.hand !== null) - Number(a.hand !== null) ||
      Number(stuck.get(b.user) !== null) - Number(stuck.get(a.user) !== null) ||
      (a.hand?.at ?? 0) - (b.hand?.at ?? 0) ||
      byName(a, b),
  };
  shown.sort(compare[sort]);
  tbody.replaceChildren(
    ...shown.map((row) => {
      const tr = element('tr', {}, ...cellsOf(row, stuck.get(row.user) ?? null));
      tr.dataset.user = row.user;
      if (stuck.get(row.user)) tr.classList.add('is-stuck');
      if (row.hand) tr.classList.add('has-hand');
      return tr;
    }),
  );
  const hands = all.filter((row) => row.hand).length;
  const stuckCount = [...stuck.values()].filter(Boolean).length;
  counts.textContent = `${all.length} attendees · ${hands} hands raised · ${stuckCount} stuck · showing ${shown.length}`;
}

// ---- The stream.
function receive(message: RoomStreamMessage): void {
  if (message.type === 'snapshot') {
    rows.clear();
    for (const row of message.rows) rows.set(row.user, row);
    stuckMinutes = message.stuckMinutes;
    sharedOrigin = message.sharedOrigin;
    notice.hidden = !sharedOrigin;
    notice.textContent = sharedOrigin
      ? "Watching trusts the watched: every attendee's server shares the hub's origin here (no subdomain_host), so a page an attendee's server serves can act as you in the hub and in any terminal you may open. Watch only people you trust with your account; see the README, \"What watching trusts\"."
      : '';
  } else {
    for (const row of message.rows) rows.set(row.user, row);
    for (const user of message.removed) rows.delete(user);
  }
  clockOffset = message.now - Date.now();
  schedule();
}

/**
 * The stream, opened again whenever it fails for good: an EventSource retries
 * by itself only after a dropped connection, not after an error answer (the
 * hub's proxy answers 503 while the service restarts).
 */
let retryMs = 1000;
let source: EventSource | null = null;
/** When the stream last said anything (a ping at least every ROOM_PING_MS). */
let heard = Date.now();
function connect(): void {
  source?.close();
  const current = new EventSource(`${prefix}/api/stream`);
  source = current;
  heard = Date.now();
  current.addEventListener('open', () => {
    status.textContent = 'live';
    retryMs = 1000;
    heard = Date.now();
  });
  current.addEventListener('ping', () => {
    heard = Date.now();
  });
  current.addEventListener('error', () => {
    status.textContent = 'reconnecting…';
    if (current.readyState !== EventSource.CLOSED || current !== source) return;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  });
  current.addEventListener('message', (event: MessageEvent<string>) => {
    heard = Date.now();
    let message: RoomStreamMessage;
    try {
      message = JSON.parse(event.data) as RoomStreamMessage;
    } catch {
      return;
    }
    receive(message);
  });
}
connect();
// The hub's proxy keeps a page's stream open when the service behind it stops: silence means it is gone.
setInterval(() => {
  if (Date.now() - heard <= 3 * ROOM_PING_MS) return;
  status.textContent = 'reconnecting…';
  connect();
}, ROOM_PING_MS);
// Waiting times and "ago" move on without new events.
setInterval(schedule, 5000);
