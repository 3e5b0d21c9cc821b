// The `editor` step: the dashboard's Editor tab in headless Chromium, through
// the auth proxy: click → a file's text painted, the bytes its first opening
// costs, and what ten open files cost the terminal server.
import { measureEditor } from '../measure-editor.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { KB, log, type Step } from './step.js';

const RUNS = 7;

async function editor(raw: Record<string, unknown>): Promise<Figure[]> {
  log(`the dashboard's Editor tab in headless Chromium, through the auth proxy, ${RUNS} runs in fresh contexts`);
  const result = await measureEditor(RUNS);
  raw.editor = result;
  const bundle = result.runs[0]?.bundle ?? [];
  const encodings = [...new Set(bundle.map((r) => r.encoding || 'none'))].join(', ');
  const { none, ten } = result.memory;
  const sameProcesses =
    JSON.stringify([...result.processes.before].sort()) === JSON.stringify([...result.processes.after].sort());
  return [
    {
      id: 'editor.paint',
      label: `Dashboard: Editor tab clicked → a 200-line YAML file's text painted (bundle fetched, file read), median of ${RUNS}`,
      value: median(result.runs.map((r) => r.paintMs)),
      unit: 'ms',
      target: { op: '<=', value: 300 },
      note: `min ${Math.min(...result.runs.map((r) => r.paintMs)).toFixed(0)}, max ${Math.max(...result.runs.map((r) => r.paintMs)).toFixed(0)} ms`,
    },
    {
      id: 'editor.transferred',
      label: "The editor's bundle as first fetched (headers + bodies as sent, YAML's language chunk included)",
      value: median(result.runs.map((r) => r.bundleBytes)) / KB,
      unit: 'KB',
      target: { op: '<=', value: 250 },
      note: `${bundle.length} responses, encoding ${encodings}; with the file API's answers ${(median(result.runs.map((r) => r.allBytes)) / KB).toFixed(0)} KB`,
    },
    {
      id: 'editor.memory',
      label:
        'Terminal server RSS with 10 files open in the editor − with none (its own process, median of 5 readings each)',
      value: (ten.rssKiB - none.rssKiB) / 1024,
      unit: 'MB',
      target: { op: '<=', value: 5 },
      note: `RSS ${(none.rssKiB / 1024).toFixed(1)} → ${(ten.rssKiB / 1024).toFixed(1)} MiB; PSS ${(none.pssKiB / 1024).toFixed(1)} → ${(ten.pssKiB / 1024).toFixed(1)} MiB`,
    },
    {
      id: 'editor.processes',
      label: 'New processes under the terminal server from opening 10 files',
      value: sameProcesses ? 0 : Math.max(1, result.processes.after.length - result.processes.before.length),
      unit: '',
      target: { op: '<=', value: 0 },
      note: `before: ${result.processes.before.join(' ') || 'none'}; after: ${result.processes.after.join(' ') || 'none'}`,
    },
  ];
}

export const editorStep: Step = {
  name: 'editor',
  targets: ['editor.paint', 'editor.transferred', 'editor.memory', 'editor.processes'],
  run: ({ raw }) => editor(raw),
};
