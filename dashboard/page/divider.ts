// Dividers that are dragged (mouse, touch, pen) or moved with the arrow keys.
// Frames under the pointer would swallow its moves: while dragging, the
// dashboard marks itself so its stylesheet lets the pointer through them.
// Each is a focusable separator (WAI-ARIA's window splitter) that says where it is:
// aria-valuenow is the share of the space before it, in percent.

/** Pixels an arrow key moves a divider. */
const KEY_STEP = 24;

export function dragResize(
  handle: HTMLElement,
  options: {
    axis: 'x' | 'y';
    move: (delta: number) => void;
    done?: () => void;
    /** The share of the space before the divider, in percent, as it is now. */
    position: () => number;
  },
): void {
  const { axis, move, done } = options;
  handle.setAttribute('role', 'separator');
  handle.setAttribute('aria-orientation', axis === 'x' ? 'vertical' : 'horizontal');
  handle.setAttribute('aria-valuemin', '0');
  handle.setAttribute('aria-valuemax', '100');
  handle.tabIndex = 0;
  const show = () => handle.setAttribute('aria-valuenow', String(Math.round(options.position())));
  // The layout is not there yet when the divider is made.
  handle.setAttribute('aria-valuenow', '50');
  requestAnimationFrame(show);
  handle.addEventListener('focus', show);
  let last: number | null = null;
  handle.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    handle.setPointerCapture(event.pointerId);
    last = axis === 'x' ? event.clientX : event.clientY;
    document.body.classList.add('wt-dragging');
  });
  handle.addEventListener('pointermove', (event) => {
    if (last === null) return;
    const now = axis === 'x' ? event.clientX : event.clientY;
    if (now !== last) move(now - last);
    last = now;
  });
  const end = () => {
    if (last === null) return;
    last = null;
    document.body.classList.remove('wt-dragging');
    show();
    done?.();
  };
  handle.addEventListener('pointerup', end);
  handle.addEventListener('pointercancel', end);
  handle.addEventListener('keydown', (event) => {
    const back = axis === 'x' ? 'ArrowLeft' : 'ArrowUp';
    const forward = axis === 'x' ? 'ArrowRight' : 'ArrowDown';
    if (event.key !== back && event.key !== forward) return;
    event.preventDefault();
    move(event.key === back ? -KEY_STEP : KEY_STEP);
    show();
    done?.();
  });
}
