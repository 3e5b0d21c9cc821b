// Which renderer draws a terminal: WebGL where it works, else xterm.js's DOM
// renderer.
//
// WebGL can be there and still draw nothing: Chromium drawing WebGL in software
// (no GPU: SwiftShader) gives a blank canvas at pixel ratios 2 and 3 (a HiDPI
// screen, or a page zoomed to 200%), with the text in the buffer and no error,
// no lost context. A plain xterm.js page does the same there: it is the
// renderer in that environment, not this page. So the first frame that has text
// on screen is read back (in the same task as the drawing, before the browser
// clears the drawing buffer), and again after each change of pixel ratio: a
// canvas of one colour while characters are on screen means WebGL draws nothing
// here, and the DOM renderer takes over.
import { WebglAddon } from '@xterm/addon-webgl';
import type { IDisposable, Terminal } from '@xterm/xterm';

export type RendererKind = 'webgl' | 'dom';

/**
 * Loads the WebGL renderer into `term` (opened in `container`) and watches that it
 * draws; falls back to the DOM renderer when it cannot, and calls `onSwitch` (the
 * cells' size may differ: the terminal is fitted again). The container's
 * `data-renderer` says which one draws, and `data-renderer-settled` is there once
 * a frame with text has been checked (or there was nothing to check).
 */
export class Renderer implements IDisposable {
  private webgl: WebglAddon | null = null;
  /** A frame with text on screen is yet to be read back. */
  private checkPending = true;
  private readonly disposables: IDisposable[] = [];
  private stopWatchingRatio: () => void = () => {};

  constructor(
    private readonly term: Terminal,
    private readonly container: HTMLElement,
    private readonly onSwitch: () => void,
  ) {
    try {
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => this.fallBack('the WebGL context was lost'));
      term.loadAddon(webgl);
      this.webgl = webgl;
    } catch {
      // No WebGL here: the DOM renderer draws.
    }
    this.setKind();
    if (!this.webgl) {
      this.settled();
      return;
    }
    this.disposables.push(term.onRender(() => this.checkFrame()));
    this.watchPixelRatio();
  }

  get kind(): RendererKind {
    return this.webgl ? 'webgl' : 'dom';
  }

  dispose(): void {
    this.stopWatchingRatio();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.webgl?.dispose();
    this.webgl = null;
  }

  private setKind(): void {
    this.container.dataset.renderer = this.kind;
  }

  private settled(): void {
    this.container.dataset.rendererSettled = '';
  }

  /** A new pixel ratio (zoom, another screen) draws anew: read the next frame with text back again. */
  private watchPixelRatio(): void {
    const query = matchMedia(`(resolution: ${devicePixelRatio}dppx)`);
    const changed = () => {
      this.checkPending = true;
      this.watchPixelRatio();
    };
    query.addEventListener('change', changed, { once: true });
    this.stopWatchingRatio = () => query.removeEventListener('change', changed);
  }

  private checkFrame(): void {
    if (!this.checkPending || !this.webgl) return;
    if (!this.textOnScreen()) return;
    this.checkPending = false;
    const canvas = this.webglCanvas();
    const gl = canvas?.getContext('webgl2');
    if (!canvas || !gl || canvas.width === 0 || canvas.height === 0) {
      this.settled();
      return;
    }
    const pixels = new Uint32Array(canvas.width * canvas.height);
    gl.readPixels(0, 0, canvas.width, canvas.height, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(pixels.buffer));
    const first = pixels[0];
    if (gl.getError() !== gl.NO_ERROR || !pixels.every((pixel) => pixel === first)) {
      this.settled();
      return;
    }
    // Not from inside the renderer's own frame.
    setTimeout(() => this.fallBack('WebGL drew nothing at this pixel ratio'));
  }

  /** Whether the visible rows hold a character that is not blank. */
  private textOnScreen(): boolean {
    const buffer = this.term.buffer.active;
    for (let row = 0; row < this.term.rows; row++) {
      if (
        buffer
          .getLine(buffer.viewportY + row)
          ?.translateToString(true)
          .trim()
      )
        return true;
    }
    return false;
  }

  /** The addon's canvas: the one in the screen with a WebGL context (the link layer's is 2D). */
  private webglCanvas(): HTMLCanvasElement | undefined {
    for (const canvas of this.container.querySelectorAll<HTMLCanvasElement>('.xterm-screen canvas')) {
      if (canvas.classList.contains('xterm-link-layer')) continue;
      return canvas;
    }
    return undefined;
  }

  private fallBack(why: string): void {
    if (!this.webgl) return;
    console.warn(`terminal: ${why}; the DOM renderer draws instead`);
    this.stopWatchingRatio();
    for (const d of this.disposables.splice(0)) d.dispose();
    const webgl = this.webgl;
    this.webgl = null;
    webgl.dispose();
    this.setKind();
    this.onSwitch();
    this.settled();
  }
}
