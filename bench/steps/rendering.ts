// The `rendering` step: a large cat drawn by our page and wetty's in headless Chromium,
// with and without WebGL.
import { measureRender } from '../measure-render.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { log, MB, type Step } from './step.js';

const RENDER_FILE_BYTES = 50e6;
const RENDER_RUNS = 3;

async function render(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `rendering in headless Chromium: cat ${RENDER_FILE_BYTES / MB} MB, ours and wetty, ${RENDER_RUNS} runs each, with and without WebGL`,
  );
  const result = await measureRender(work, RENDER_FILE_BYTES, RENDER_RUNS);
  raw.render = result;
  const ours = median(result.ours.map((r) => r.ms));
  const wetty = median(result.wetty.map((r) => r.ms));
  const domOurs = median(result.withoutWebgl.ours.map((r) => r.ms));
  const domWetty = median(result.withoutWebgl.wetty.map((r) => r.ms));
  const renderers = (runs: typeof result.ours) => [...new Set(runs.map((r) => r.renderer))].join('/');
  const label = `Headless Chromium: navigation → last line of a ${RENDER_FILE_BYTES / MB} MB cat drawn on the terminal's screen`;
  return [
    {
      id: 'render.ours',
      label: `${label}, our page, median`,
      value: ours,
      unit: 'ms',
      note: `${renderers(result.ours)} renderer; ${(result.file.bytes / (ours / 1000) / MB).toFixed(1)} MB/s`,
    },
    {
      id: 'render.wetty',
      label: `${label}, wetty's page, median`,
      value: wetty,
      unit: 'ms',
      note: `${renderers(result.wetty)} renderer; ${(result.file.bytes / (wetty / 1000) / MB).toFixed(1)} MB/s`,
    },
    {
      id: 'render.ratio',
      label: "Rendering: wetty's time ÷ ours (ours ≤ wetty's)",
      value: wetty / ours,
      unit: '×',
      target: { op: '>=', value: 1 },
    },
    {
      id: 'render.dom.ours',
      label: 'The same with WebGL off in Chromium (xterm.js DOM renderer), our page, median',
      value: domOurs,
      unit: 'ms',
    },
    {
      id: 'render.dom.wetty',
      label: "The same with WebGL off, wetty's page, median",
      value: domWetty,
      unit: 'ms',
    },
    {
      id: 'render.dom.ratio',
      label: "Rendering with WebGL off: wetty's time ÷ ours",
      value: domWetty / domOurs,
      unit: '×',
    },
  ];
}

export const renderingStep: Step = {
  name: 'rendering',
  targets: ['render.ratio'],
  run: ({ work, raw }) => render(work, raw),
};
