// The `throughput` step: cat of a 100 MiB text file through the server (in this process,
// through the auth proxy, in its own process) beside the raw pty ceiling and wetty.
import {
  makeTextFile,
  measureNodePtyCeiling,
  measurePythonCeiling,
  measureServerThroughput,
  type TransferRun,
} from '../measure-throughput.js';
import { measureWettyThroughput } from '../measure-wetty.js';
import type { Figure } from '../report.js';
import { median } from '../stats.js';
import { log, MB, type Step } from './step.js';

const THROUGHPUT_FILE_BYTES = 100 << 20;
const THROUGHPUT_REPEATS = 3;

function medianRate(runs: readonly TransferRun[]): number {
  return median(runs.map((r) => r.bytesPerSecond));
}

async function throughput(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  log(`writing a ${THROUGHPUT_FILE_BYTES >> 20} MiB text file`);
  const text = makeTextFile(work, THROUGHPUT_FILE_BYTES);
  const runs = {
    server: [] as TransferRun[],
    proxy: [] as TransferRun[],
    serverOwnProcess: [] as TransferRun[],
    nodePty: [] as TransferRun[],
    python: [] as TransferRun[],
    wetty: [] as TransferRun[],
  };
  const kinds: [keyof typeof runs, () => Promise<TransferRun | null>][] = [
    ['server', () => measureServerThroughput(text, 'in-process')],
    ['proxy', () => measureServerThroughput(text, 'in-process', 'proxy')],
    ['nodePty', () => measureNodePtyCeiling(text)],
    ['python', () => measurePythonCeiling(text)],
    ['serverOwnProcess', () => measureServerThroughput(text, 'own-process')],
    ['wetty', () => measureWettyThroughput(text)],
  ];
  for (let repeat = 0; repeat < THROUGHPUT_REPEATS; repeat++) {
    // Side by side: each round runs every kind once, starting with a different one.
    for (let i = 0; i < kinds.length; i++) {
      const [kind, measure] = kinds[(i + repeat) % kinds.length] as (typeof kinds)[number];
      const result = await measure();
      log(
        `throughput ${repeat + 1}/${THROUGHPUT_REPEATS} ${kind}: ` +
          (result ? `${(result.bytesPerSecond / MB).toFixed(1)} MB/s` : 'not measured'),
      );
      if (result) runs[kind].push(result);
    }
  }
  const server = medianRate(runs.server);
  const serverToLastByte = median(runs.server.map((r) => r.bytes / (r.secondsToLastByte as number)));
  const proxy = medianRate(runs.proxy);
  const ownProcess = medianRate(runs.serverOwnProcess);
  const nodePty = medianRate(runs.nodePty);
  const python = runs.python.length > 0 ? medianRate(runs.python) : Number.NaN;
  const pythonFaster = python > nodePty;
  const ceiling = pythonFaster ? python : nodePty;
  const wetty = medianRate(runs.wetty);
  const wettyExact = runs.wetty.filter((r) => r.complete).length;
  const serverKinds = [runs.server, runs.proxy, runs.serverOwnProcess];
  const exact = serverKinds.reduce((n, kind) => n + kind.filter((r) => r.complete).length, 0);
  const serverRuns = serverKinds.reduce((n, kind) => n + kind.length, 0);
  raw.throughput = {
    file: { bytes: text.bytes, lines: text.lines, expectedBytes: text.expectedBytes },
    medians: { server, serverToLastByte, proxy, serverOwnProcess: ownProcess, nodePty, python, ceiling, wetty },
    ceilingSource: pythonFaster ? 'python' : 'node-pty',
    runs,
  };
  return [
    {
      id: 'throughput.server',
      label: 'Output throughput, cat 100 MiB, attach → close',
      value: server / MB,
      unit: 'MB/s',
    },
    {
      id: 'throughput.ceiling',
      label: 'Raw pty ceiling',
      value: ceiling / MB,
      unit: 'MB/s',
      note: `${pythonFaster ? 'python' : 'node-pty'}; node-pty ${(nodePty / MB).toFixed(1)}, python ${
        Number.isFinite(python) ? (python / MB).toFixed(1) : 'n/a'
      }`,
    },
    {
      id: 'throughput.ratio',
      label: 'Throughput ÷ raw pty ceiling',
      value: server / ceiling,
      unit: '×',
      target: { op: '>=', value: 0.6 },
    },
    {
      id: 'throughput.ratioToLastByte',
      label: 'Throughput to the last byte (without the wait for the exit) ÷ ceiling',
      value: serverToLastByte / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.ownProcessRatio',
      label: 'Throughput with the server in its own process ÷ ceiling',
      value: ownProcess / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.proxy',
      label: 'Output throughput through the auth proxy (basic auth, in this process), attach → close',
      value: proxy / MB,
      unit: 'MB/s',
    },
    {
      id: 'throughput.proxyRatio',
      label: 'Throughput through the proxy ÷ direct',
      value: proxy / server,
      unit: '×',
      target: { op: '>=', value: 0.9 },
    },
    {
      id: 'throughput.proxyCeilingRatio',
      label: 'Throughput through the proxy ÷ raw pty ceiling',
      value: proxy / ceiling,
      unit: '×',
    },
    {
      id: 'throughput.exact',
      label: 'Server runs byte-exact (file size + one CR per line)',
      value: exact,
      unit: `of ${serverRuns}`,
      target: { op: '>=', value: serverRuns },
    },
    {
      id: 'throughput.wetty',
      label: 'wetty: output throughput, cat 100 MiB, connect → logout and last data',
      value: wetty / MB,
      unit: 'MB/s',
      note: `own process; ${wettyExact} of ${runs.wetty.length} runs byte-exact`,
    },
    {
      id: 'throughput.proxyVsWetty',
      label: 'Throughput through the auth proxy ÷ wetty',
      value: proxy / wetty,
      unit: '×',
      target: { op: '>=', value: 1.5 },
    },
    {
      id: 'throughput.ownProcessVsWetty',
      label: 'Throughput with the server in its own process ÷ wetty',
      value: ownProcess / wetty,
      unit: '×',
    },
  ];
}

export const throughputStep: Step = {
  name: 'throughput',
  targets: ['throughput.ratio', 'throughput.proxyRatio', 'throughput.exact', 'throughput.proxyVsWetty'],
  run: ({ work, raw }) => throughput(work, raw),
};
