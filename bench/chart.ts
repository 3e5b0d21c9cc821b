// The summary chart next to the results (bench/results/<date>.svg): plain SVG
// bars of the main figures, ours next to the raw pty ceiling and to wetty, drawn
// from the figures of the run.
import type { Figure } from './report.js';

interface Bar {
  label: string;
  value: number | null;
  kind: 'ours' | 'peer' | 'ceiling';
  /** The text after the bar. */
  text: string;
}

interface Panel {
  title: string;
  bars: Bar[];
  /** A dashed line at this value (a target), with its text. */
  mark?: { value: number; text: string };
}

const WIDTH = 760;
const LABEL_WIDTH = 250;
const BAR_AREA = 380;
const ROW = 22;
const COLORS = { ours: '#2b6cb0', peer: '#dd6b20', ceiling: '#718096' } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function format(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return unit === '×' ? `${value.toFixed(2)}×` : `${value.toFixed(digits)} ${unit}`;
}

function drawPanel(panel: Panel, top: number): { svg: string[]; height: number } {
  const svg: string[] = [];
  svg.push(`<text x="10" y="${top + 16}" class="title">${escapeXml(panel.title)}</text>`);
  const values = panel.bars.map((b) => b.value ?? 0).filter((v) => Number.isFinite(v));
  const max = Math.max(...values, panel.mark?.value ?? 0) || 1;
  const scale = (v: number) => (Math.max(0, v) / max) * BAR_AREA;
  let y = top + 26;
  for (const bar of panel.bars) {
    const v = bar.value !== null && Number.isFinite(bar.value) ? bar.value : null;
    svg.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 15}" class="label">${escapeXml(bar.label)}</text>`);
    if (v === null) {
      svg.push(`<text x="${LABEL_WIDTH + 4}" y="${y + 15}" class="value">not measured</text>`);
    } else {
      const w = Math.max(1, scale(v));
      svg.push(
        `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLORS[bar.kind]}"/>`,
      );
      svg.push(
        `<text x="${(LABEL_WIDTH + w + 6).toFixed(1)}" y="${y + 15}" class="value">${escapeXml(bar.text)}</text>`,
      );
    }
    y += ROW;
  }
  if (panel.mark) {
    // Under the bars and their text (drawn first), so it never covers a value.
    const x = LABEL_WIDTH + scale(panel.mark.value);
    svg.splice(
      1,
      0,
      `<line x1="${x.toFixed(1)}" y1="${top + 24}" x2="${x.toFixed(1)}" y2="${y + 2}" class="mark"/>`,
      `<text x="${(x + 3).toFixed(1)}" y="${y + 13}" class="marktext">${escapeXml(panel.mark.text)}</text>`,
    );
    y += 14;
  }
  return { svg, height: y - top + 12 };
}

/** The SVG text of the summary chart. */
export function summaryChart(title: string, figures: readonly Figure[]): string {
  const value = (id: string) => {
    const f = figures.find((x) => x.id === id);
    return f && f.value !== null && Number.isFinite(f.value) ? f.value : null;
  };
  const bar = (label: string, v: number | null, unit: string, kind: Bar['kind']): Bar => ({
    label,
    value: v,
    kind,
    text: v === null ? '' : format(v, unit),
  });
  const ceiling = value('throughput.ceiling');
  const ownRatio = value('throughput.ownProcessRatio');
  const renderOurs = value('render.ours');
  const renderWetty = value('render.wetty');
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  // Ratios with a target say whether they met it.
  const ratio = (label: string, id: string): Bar => {
    const f = figures.find((x) => x.id === id);
    const b = bar(label, value(id), '×', 'ours');
    if (!f?.target || b.value === null) return b;
    const met = f.target.op === '>=' ? b.value >= f.target.value : b.value <= f.target.value;
    return { ...b, text: `${b.text} ${met ? 'pass' : 'MISS'}` };
  };
  const panels: Panel[] = [
    {
      title: 'Output throughput, cat 100 MiB (MB/s, higher is better)',
      bars: [
        bar('raw pty ceiling', ceiling, 'MB/s', 'ceiling'),
        bar('ours, direct (in-process)', value('throughput.server'), 'MB/s', 'ours'),
        bar('ours, own process', ownRatio !== null && ceiling !== null ? ownRatio * ceiling : null, 'MB/s', 'ours'),
        bar('ours, via the auth proxy', value('throughput.proxy'), 'MB/s', 'ours'),
        bar('wetty', value('throughput.wetty'), 'MB/s', 'peer'),
      ],
    },
    {
      title: 'Keystroke echo round trip, both servers in their own process (ms, lower is better)',
      bars: [
        bar('ours, quiet, p50', value('vsWetty.echo.ours.quiet.p50'), 'ms', 'ours'),
        bar('wetty, quiet, p50', value('vsWetty.echo.wetty.quiet.p50'), 'ms', 'peer'),
        bar('ours, quiet, p99', value('vsWetty.echo.ours.quiet.p99'), 'ms', 'ours'),
        bar('wetty, quiet, p99', value('vsWetty.echo.wetty.quiet.p99'), 'ms', 'peer'),
        bar('ours, during a yes flood, p50', value('vsWetty.echo.ours.flood.p50'), 'ms', 'ours'),
        bar('wetty, during a yes flood, p50', value('vsWetty.echo.wetty.flood.p50'), 'ms', 'peer'),
        bar('ours, during a yes flood, p99', value('vsWetty.echo.ours.flood.p99'), 'ms', 'ours'),
        bar('wetty, during a yes flood, p99', value('vsWetty.echo.wetty.flood.p99'), 'ms', 'peer'),
      ],
    },
    {
      title: "Headless Chromium: navigation → last line of a 50 MB cat on the terminal's screen (s, lower is better)",
      bars: [
        bar('ours (WebGL, software)', seconds(renderOurs), 's', 'ours'),
        bar('wetty (WebGL, software)', seconds(renderWetty), 's', 'peer'),
        bar('ours (WebGL off: DOM renderer)', seconds(value('render.dom.ours')), 's', 'ours'),
        bar('wetty (WebGL off: DOM renderer)', seconds(value('render.dom.wetty')), 's', 'peer'),
      ],
    },
    {
      title: 'Ratios against their targets (dashed line: 1×)',
      bars: [
        ratio('throughput via proxy ÷ wetty (≥ 1.5×)', 'throughput.proxyVsWetty'),
        ratio('render time wetty ÷ ours (≥ 1×)', 'render.ratio'),
        ratio('8 streams ÷ 1 alone, aggregate (≥ 0.8×)', 'fairness.ratio'),
        ratio('throughput ÷ raw pty ceiling (≥ 0.6×)', 'throughput.ratio'),
        ratio('echo p99 ours ÷ wetty (≤ 1×)', 'vsWetty.echo.quietP99Ratio'),
      ],
      mark: { value: 1, text: '1×' },
    },
  ];
  const body: string[] = [];
  let top = 36;
  for (const panel of panels) {
    const drawn = drawPanel(panel, top);
    body.push(...drawn.svg);
    top += drawn.height;
  }
  const legendY = top + 6;
  const legend = (
    [
      ['ours', 'ours'],
      ['peer', 'wetty'],
      ['ceiling', 'raw pty ceiling'],
    ] as const
  ).map(
    ([kind, text], i) =>
      `<rect x="${10 + i * 140}" y="${legendY}" width="12" height="12" fill="${COLORS[kind]}"/>` +
      `<text x="${28 + i * 140}" y="${legendY + 11}" class="value">${text}</text>`,
  );
  const height = legendY + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    '<style>',
    'text { font-family: sans-serif; font-size: 12px; fill: #1a202c; }',
    '.heading { font-size: 16px; font-weight: bold; }',
    '.title { font-size: 13px; font-weight: bold; }',
    '.label { text-anchor: end; }',
    '.mark { stroke: #e53e3e; stroke-width: 1.5; stroke-dasharray: 4 3; }',
    '.marktext { fill: #e53e3e; font-size: 11px; }',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" class="heading">${escapeXml(title)}</text>`,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
