// Icons drawn by the page (inline SVG in the text's colour): a glyph such as ⚙ or ⇪ needs a symbol
// font the attendee's machine may not have, and shows as an empty box without one.

const SVG = 'http://www.w3.org/2000/svg';

/** Shapes on a 24 × 24 grid, stroked in the current colour. */
const SHAPES = {
  // A gear: a thick ring cut into eight teeth by its dashes, around a thinner ring.
  settings: [
    [
      'circle',
      { cx: '12', cy: '12', r: '9', 'stroke-width': '4.5', 'stroke-dasharray': '3.53 3.54', 'stroke-linecap': 'butt' },
    ],
    ['circle', { cx: '12', cy: '12', r: '5.5', 'stroke-width': '3' }],
  ],
  // An arrow up out of a tray.
  upload: [['path', { d: 'M12 16V4M7 9l5-5 5 5M4 15v5h16v-5', 'stroke-width': '2.5' }]],
  // A circle's arrow coming round: read again.
  refresh: [['path', { d: 'M20 12a8 8 0 1 1-2.34-5.66M20 3v5h-5', 'stroke-width': '2.5' }]],
  // A cross: close.
  close: [['path', { d: 'M6 6l12 12M18 6L6 18', 'stroke-width': '2.5' }]],
} as const;

export type IconName = keyof typeof SHAPES;

/** An icon for a button whose name is given elsewhere (aria-label): hidden from screen readers. */
export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `terminal-icon terminal-icon-${name}`);
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  for (const [tag, attributes] of SHAPES[name]) {
    const shape = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) shape.setAttribute(key, value);
    svg.append(shape);
  }
  return svg;
}
