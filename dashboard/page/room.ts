// What the dashboard tells the room (only when the stack has one: the page data
// says so; without it nothing here is made and nothing is sent): the page shown,
// blocks clicked, checks' results, and the attendee's raised hand. Each goes to
// this dashboard's own server (room/events, same origin), which checks it and
// passes it on; the page never talks to the room service itself.
import { ROOM_LIMITS } from '../../common/src/protocol.js';
import { element } from './tabs.js';

export interface RoomReporter {
  page(name: string): void;
  /**
   * A block ran. Resolves once the server has it (or after TIE_WAIT_MS): a block
   * that types into terminals waits for it, so the command it types is tied to it.
   */
  block(page: string, block: number, action: string, sessions: readonly string[]): Promise<void>;
  check(page: string, block: number, name: string, passed: boolean): void;
}

/** The longest a typing block waits for its server to hear of it (the server answers at once; this is for a stalled one). */
const TIE_WAIT_MS = 1000;

export function createRoom(header: HTMLElement): RoomReporter {
  const post = (event: Record<string, unknown>): Promise<void> =>
    fetch('room/events', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(event),
      credentials: 'same-origin',
      cache: 'no-store',
    }).then(
      (response) => {
        if (!response.ok) console.warn(`the room was not told (${response.status})`);
      },
      (error: unknown) => console.warn('the room was not told', error),
    );
  header.append(raiseHand(post));
  return {
    page: (name) => void post({ type: 'page', page: name }),
    block: (page, block, action, sessions) =>
      Promise.race([
        post({ type: 'block', page, block, action, sessions }),
        new Promise<void>((resolve) => window.setTimeout(resolve, TIE_WAIT_MS)),
      ]),
    check: (page, block, name, passed) => void post({ type: 'check', page, block, name, passed }),
  };
}

/**
 * The Raise hand button, and the short message it asks for. A toggle
 * (aria-pressed): pressed, the hand is up until pressed again. Its state is the
 * server's, so a reload shows it as it is.
 */
function raiseHand(post: (event: Record<string, unknown>) => Promise<void>): HTMLElement {
  const box = element('div', 'wt-hand');
  const button = element('button', 'wt-hand-button');
  button.type = 'button';
  button.id = 'wt-hand-button';
  const form = element('form', 'wt-hand-form');
  form.id = 'wt-hand-form';
  form.hidden = true;
  const label = element('label', '');
  label.textContent = 'Message (optional) ';
  const input = element('input', 'wt-hand-message');
  input.type = 'text';
  input.maxLength = ROOM_LIMITS.textChars;
  input.autocomplete = 'off';
  label.append(input);
  const send = element('button', 'wt-hand-send');
  send.type = 'submit';
  send.textContent = 'Raise hand';
  const cancel = element('button', 'wt-hand-cancel');
  cancel.type = 'button';
  cancel.textContent = 'Cancel';
  form.append(label, send, cancel);
  const status = element('p', 'wt-hand-status');
  status.setAttribute('role', 'status');
  button.setAttribute('aria-controls', form.id);
  box.append(button, form, status);

  let raised = false;
  const show = (hand: { raised: boolean; message: string }) => {
    raised = hand.raised;
    button.setAttribute('aria-pressed', String(raised));
    button.textContent = raised ? 'Lower hand' : 'Raise hand';
    button.title = raised ? 'Your hand is raised: press to lower it' : 'Ask the instructor for help';
    status.textContent = raised ? `Hand raised${hand.message ? `: ${hand.message}` : ''}` : '';
    form.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  };
  const openForm = (open: boolean) => {
    form.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) input.focus();
    else button.focus();
  };
  const tell = (hand: { raised: boolean; message: string }) => {
    show(hand);
    void post({ type: 'hand', ...hand });
  };
  button.addEventListener('click', () => {
    if (raised) tell({ raised: false, message: '' });
    else openForm(form.hidden);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    tell({ raised: true, message: input.value.trim() });
    input.value = '';
    button.focus();
  });
  cancel.addEventListener('click', () => openForm(false));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') openForm(false);
  });
  show({ raised: false, message: '' });
  // As the server has it: a hand raised before a reload is still up.
  fetch('room/hand', { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
    .then((response) => (response.ok ? response.json() : null))
    .then((hand: { raised?: unknown; message?: unknown } | null) => {
      if (hand && typeof hand.raised === 'boolean' && typeof hand.message === 'string') {
        show({ raised: hand.raised, message: hand.message });
      }
    })
    .catch(() => undefined);
  return box;
}
