// An on-screen keyboard shrinks only the visual viewport (iOS Safari, Chrome on
// Android since 108): the page keeps its full height and the keyboard covers
// its bottom, the prompt and the key bar with it. The page follows the visual
// viewport through two CSS variables on <html>, which its stylesheet uses for
// the height and position of what it shows (terminal.css, dashboard.css); the
// views then refit as their containers change size.

let following = false;

/** Starts keeping `--visual-viewport-height` and `--visual-viewport-top` on <html> (once a page). */
export function followVisualViewport(): void {
  const viewport = window.visualViewport;
  if (following || !viewport) return;
  following = true;
  const root = document.documentElement;
  const update = (): void => {
    // Zoomed in with two fingers, the visual viewport is smaller too, but the
    // page must not shrink with it: only an unzoomed viewport is followed.
    if (Math.abs(viewport.scale - 1) > 0.01) {
      root.style.removeProperty('--visual-viewport-height');
      root.style.removeProperty('--visual-viewport-top');
      return;
    }
    root.style.setProperty('--visual-viewport-height', `${viewport.height}px`);
    root.style.setProperty('--visual-viewport-top', `${viewport.offsetTop}px`);
  };
  viewport.addEventListener('resize', update);
  viewport.addEventListener('scroll', update);
  update();
}
