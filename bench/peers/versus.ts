// The `versus` step: ours (the whole stack, through the auth proxy) beside ttyd
// (when TTYD names its binary), wetty, a naive node-pty + ws server and the raw
// pty ceiling, all started at once and measured in interleaved rounds. Ratios
// are per round, then the median of those; each target is reported next to its anchor.
import { existsSync } from 'node:fs';
import { makeTextFile, type TextFile } from '../measure-throughput.js';
import type { Figure } from '../report.js';
import { median, round } from '../stats.js';
import { wettyVersion } from '../wetty.js';
import {
  buildRawReader,
  type EchoLink,
  firstOutput,
  interleavedEcho,
  memoryOf,
  openEcho,
  type PeerMemory,
  percentiles,
  ratio,
  rawRun,
  startFlood,
  type ThroughputSample,
  throughputRun,
} from './measure-peers.js';
import { type Peer, type PeerName, startNaive, startOurs, startTtyd, startWettyPeer } from './peers.js';

const FILE_BYTES = 200e6;
const THROUGHPUT_ROUNDS = 3;
const ECHO_ROUNDS = 5;
const ECHO_KEYS_PER_ROUND = 200;
const FLOOD_ROUNDS = 3;
const FLOOD_KEYS = 200;
const PROMPT_ROUNDS = 10;
const FRESH_STACK_ROUNDS = 5;
const SETTLE_MS = 3000;
const MB = 1e6;

function log(message: string): void {
  process.stderr.write(`bench: versus: ${message}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each round in a rotated order, so no peer is always first. */
function rotated<T>(items: readonly T[], round: number): T[] {
  return items.map((_, i) => items[(i + round) % items.length] as T);
}

type PerPeer<T> = Partial<Record<PeerName | 'raw', T>>;

function push<T>(lists: PerPeer<T[]>, name: PeerName | 'raw', value: T): void {
  const list = lists[name] ?? [];
  list.push(value);
  lists[name] = list;
}

export async function versus(work: string, raw: Record<string, unknown>): Promise<Figure[]> {
  const ttydBinary = process.env.TTYD;
  if (ttydBinary && !existsSync(ttydBinary)) throw new Error(`TTYD=${ttydBinary}: no such file`);
  if (!ttydBinary) log('TTYD is not set: ttyd is left out (set it to a ttyd binary to compare; see the README)');
  const peers: Peer[] = [];
  const figures: Figure[] = [];
  const record: Record<string, unknown> = {};
  raw.versus = record;
  try {
    log('starting the peers');
    peers.push(await startOurs());
    if (ttydBinary) peers.push(await startTtyd(ttydBinary));
    peers.push(await startWettyPeer(wettyVersion()));
    peers.push(await startNaive());
    record.peers = peers.map((p) => ({ name: p.name, label: p.label, startMs: p.startMs }));
    const byName = (name: PeerName) => peers.find((p) => p.name === name);
    const ours = byName('ours') as Peer;
    const anchors = peers.filter((p) => p !== ours);

    // Idle memory first, before any connection has grown anything.
    await sleep(SETTLE_MS);
    const memory: PerPeer<{ serving: PeerMemory; all: PeerMemory }> = {};
    for (const peer of peers)
      memory[peer.name] = { serving: memoryOf(peer.serverPids()), all: memoryOf(peer.allPids()) };
    record.memory = memory;

    // Throughput and CPU.
    log(`writing a ${FILE_BYTES / MB} MB text file`);
    const text = makeTextFile(work, FILE_BYTES);
    const rawReader = buildRawReader(work);
    const throughput: PerPeer<ThroughputSample[]> = {};
    const runners: [PeerName | 'raw', () => Promise<ThroughputSample>][] = [
      ...peers.map((p): [PeerName, () => Promise<ThroughputSample>] => [p.name, () => throughputRun(p, text)]),
      ['raw', () => rawRun(rawReader, text)],
    ];
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      for (const [name, run] of rotated(runners, r)) {
        log(`throughput round ${r + 1}: ${name}`);
        const sample = await run();
        push(throughput, name, sample);
      }
    }
    record.throughput = throughput;

    // Echo, quiet: keystrokes take turns between the peers.
    log('keystroke echo, quiet');
    const links: EchoLink[] = [];
    for (const peer of peers) links.push(await openEcho(peer));
    const quiet: PerPeer<number[][]> = {};
    for (let r = 0; r < ECHO_ROUNDS; r++) {
      const samples = await interleavedEcho(links, ECHO_KEYS_PER_ROUND);
      links.forEach((link, i) => {
        push(quiet, link.peer.name, samples[i] as number[]);
      });
    }
    record.echoQuiet = quiet;

    // Echo while another shell of the same peer floods (one peer at a time, rotated each round).
    const flooded: PerPeer<{ samples: number[]; floodBytes: number; seconds: number }[]> = {};
    for (let r = 0; r < FLOOD_ROUNDS; r++) {
      for (const link of rotated(links, r)) {
        log(`keystroke echo during a flood, round ${r + 1}: ${link.peer.name}`);
        const flood = await startFlood(link.peer);
        const before = flood.bytes();
        const start = performance.now();
        const samples = (await interleavedEcho([link], FLOOD_KEYS))[0] as number[];
        const seconds = (performance.now() - start) / 1000;
        const floodBytes = flood.bytes() - before;
        await flood.stop();
        push(flooded, link.peer.name, { samples, floodBytes, seconds });
      }
    }
    record.echoFlood = flooded;
    const strays: PerPeer<number> = {};
    for (const link of links) {
      strays[link.peer.name] = link.strays;
      await link.close();
    }
    record.echoStrays = strays;

    // First prompt: a new shell on every peer; ours also a page coming back to its session.
    log('first prompt');
    const prompt: PerPeer<number[]> = {};
    const reattach: number[] = [];
    await firstOutput(ours, 'again', false);
    for (let r = 0; r < PROMPT_ROUNDS; r++) {
      for (const peer of rotated(peers, r)) {
        push(prompt, peer.name, await firstOutput(peer, `prompt-${r}`, true));
        if (peer === ours) reattach.push(await firstOutput(ours, 'again', false));
      }
    }
    record.firstPrompt = prompt;
    record.reattach = reattach;

    // Session 1 of a freshly started stack, beside a new shell of each anchor.
    log('first prompt of session 1 on a freshly started stack');
    const fresh: number[] = [];
    const freshAnchors: PerPeer<number[]> = {};
    await ours.stop();
    peers.splice(peers.indexOf(ours), 1);
    for (let r = 0; r < FRESH_STACK_ROUNDS; r++) {
      const stack = await startOurs();
      try {
        await sleep(500);
        fresh.push(await firstOutput(stack, '1', false));
      } finally {
        await stack.stop();
      }
      for (const peer of anchors) push(freshAnchors, peer.name, await firstOutput(peer, `fresh-${r}`, true));
    }
    record.freshStack = { ours: fresh, anchors: freshAnchors };

    figures.push(
      ...report({
        text,
        memory,
        throughput,
        quiet,
        flooded,
        strays,
        prompt,
        reattach,
        fresh,
        freshAnchors,
        peers: [ours, ...anchors],
      }),
    );
  } finally {
    for (const peer of peers) await peer.stop().catch(() => {});
  }
  return figures;
}

interface Measured {
  text: TextFile;
  memory: PerPeer<{ serving: PeerMemory; all: PeerMemory }>;
  throughput: PerPeer<ThroughputSample[]>;
  quiet: PerPeer<number[][]>;
  flooded: PerPeer<{ samples: number[]; floodBytes: number; seconds: number }[]>;
  /** Keystrokes whose echo came with other output (a measurement to distrust when not 0). */
  strays: PerPeer<number>;
  prompt: PerPeer<number[]>;
  reattach: number[];
  fresh: number[];
  freshAnchors: PerPeer<number[]>;
  peers: Peer[];
}

function report(m: Measured): Figure[] {
  const figures: Figure[] = [];
  const names = m.peers.map((p) => p.name);
  const label = (name: PeerName) => m.peers.find((p) => p.name === name)?.label ?? name;
  const rates = (name: PeerName | 'raw') => (m.throughput[name] ?? []).map((s) => s.bytesPerSecond);
  const cpuPer100 = (name: PeerName | 'raw') =>
    (m.throughput[name] ?? []).map((s) => (s.serverCpuSeconds * 1000 * 100 * MB) / s.bytes);
  const p50s = (name: PeerName) => (m.quiet[name] ?? []).map((samples) => percentiles(samples).p50);
  const floodP50s = (name: PeerName) => (m.flooded[name] ?? []).map((run) => percentiles(run.samples).p50);
  const all = (rounds: number[][] | undefined) => (rounds ?? []).flat();
  const complete = (name: PeerName | 'raw') => (m.throughput[name] ?? []).filter((s) => s.complete).length;

  // What each peer measured, for context.
  for (const name of [...names, 'raw' as const]) {
    const title = name === 'raw' ? 'raw pty ceiling (C reader)' : label(name);
    figures.push({
      id: `versus.throughput.${name}`,
      label: `Versus: ${title}: cat ${m.text.bytes / MB} MB, median of ${rates(name).length} (${complete(name)} complete)`,
      value: median(rates(name)) / MB,
      unit: 'MB/s',
    });
    figures.push({
      id: `versus.cpu.${name}`,
      label: `Versus: ${title}: ${name === 'raw' ? 'reader' : 'server'} CPU per 100 MB`,
      value: median(cpuPer100(name)),
      unit: 'ms',
    });
    if (name === 'raw') continue;
    const quiet = percentiles(all(m.quiet[name]));
    figures.push({
      id: `versus.echo.${name}`,
      label: `Versus: ${title}: keystroke echo p50 (p99 ${round(quiet.p99, 2)} ms, ${all(m.quiet[name]).length} keys; ${m.strays[name] ?? 0} echoes came with other output)`,
      value: quiet.p50,
      unit: 'ms',
    });
    const flood = m.flooded[name] ?? [];
    const floodRate = flood.reduce((t, r) => t + r.floodBytes, 0) / flood.reduce((t, r) => t + r.seconds, 0);
    figures.push({
      id: `versus.echoFlood.${name}`,
      label: `Versus: ${title}: keystroke echo p50 while another of its shells runs yes (flood ${(floodRate / MB).toFixed(1)} MB/s)`,
      value: median(floodP50s(name)),
      unit: 'ms',
    });
    figures.push({
      id: `versus.prompt.${name}`,
      label: `Versus: ${title}: connection → first output of a new shell, median of ${(m.prompt[name] ?? []).length}`,
      value: median(m.prompt[name] ?? []),
      unit: 'ms',
    });
    const memory = m.memory[name];
    if (memory) {
      figures.push({
        id: `versus.memory.${name}`,
        label: `Versus: ${title}: idle RSS of its serving processes (${memory.serving.processes}; all its processes ${(memory.all.rssKiB / 1024).toFixed(1)} MiB RSS, ${(memory.all.pssKiB / 1024).toFixed(1)} MiB PSS)`,
        value: memory.serving.rssKiB / 1024,
        unit: 'MiB',
      });
    }
  }
  figures.push({
    id: 'versus.reattach.ours',
    label: `Versus: ours: connection → first output for a page coming back to its session (reload, second tab), median of ${m.reattach.length}`,
    value: median(m.reattach),
    unit: 'ms',
  });
  figures.push({
    id: 'versus.fresh.ours',
    label: `Versus: ours: connection → first output of session 1 on a freshly started stack, median of ${m.fresh.length}`,
    value: median(m.fresh),
    unit: 'ms',
  });

  // The targets (issue 14), against ttyd where it ran, else against the other anchors for context.
  const promptRatio = (samples: number[], anchor: PeerName) => {
    const theirs = m.prompt[anchor] ?? [];
    return ratio(samples, theirs.slice(0, samples.length));
  };
  for (const anchor of names.filter((n) => n !== 'ours')) {
    const isTtyd = anchor === 'ttyd';
    const who = label(anchor);
    figures.push(
      {
        id: `versus.ratio.echo.${anchor}`,
        label: `Target 1: echo p50 through our proxy ÷ ${who}'s (per-round ratios, median)`,
        value: ratio(p50s('ours'), p50s(anchor)),
        unit: '×',
        ...(isTtyd ? { target: { op: '<=', value: 1.0 } } : {}),
      },
      {
        id: `versus.ratio.echoFlood.${anchor}`,
        label: `Target 1: echo p50 during a flood in another shell, ours ÷ ${who}'s`,
        value: ratio(floodP50s('ours'), floodP50s(anchor)),
        unit: '×',
        ...(isTtyd ? { target: { op: '<=', value: 1.2 } } : {}),
      },
      {
        id: `versus.ratio.throughput.${anchor}`,
        label: `Target 2: throughput through our proxy ÷ ${who}'s`,
        value: ratio(rates('ours'), rates(anchor)),
        unit: '×',
        ...(isTtyd ? { target: { op: '>=', value: 1.2 } } : {}),
      },
      {
        id: `versus.ratio.cpu.${anchor}`,
        label: `Target 2: server CPU per 100 MB, ours (proxy + terminal server) ÷ ${who}'s`,
        value: ratio(cpuPer100('ours'), cpuPer100(anchor)),
        unit: '×',
        ...(isTtyd ? { target: { op: '<=', value: 1.0 } } : {}),
      },
      {
        id: `versus.ratio.reattach.${anchor}`,
        label: `Target 3: first output for a page coming back (ours) ÷ a new shell of ${who}`,
        value: promptRatio(m.reattach, anchor),
        unit: '×',
        ...(isTtyd ? { target: { op: '<=', value: 1.0 } } : {}),
      },
      {
        id: `versus.ratio.fresh.${anchor}`,
        label: `Target 3: session 1 of a fresh stack (ours) ÷ a new shell of ${who}`,
        value: ratio(m.fresh, m.freshAnchors[anchor] ?? []),
        unit: '×',
        ...(isTtyd ? { target: { op: '<=', value: 1.0 } } : {}),
      },
      {
        id: `versus.ratio.newShell.${anchor}`,
        label: `Versus: first output of a new shell, ours ÷ ${who}`,
        value: promptRatio(m.prompt.ours ?? [], anchor),
        unit: '×',
      },
    );
  }
  const oursQuiet = percentiles(all(m.quiet.ours));
  figures.push(
    {
      id: 'versus.echo.ours.p99',
      label: 'Target 1: our echo p99 through the proxy, quiet',
      value: oursQuiet.p99,
      unit: 'ms',
      target: { op: '<=', value: 3 },
    },
    {
      id: 'versus.ratio.throughput.raw',
      label: 'Target 2: throughput through our proxy ÷ the raw pty ceiling (C reader)',
      value: ratio(rates('ours'), rates('raw')),
      unit: '×',
      target: { op: '>=', value: 0.8 },
    },
  );
  const oursMemory = m.memory.ours;
  if (oursMemory) {
    figures.push(
      {
        id: 'versus.stack.pss',
        label: `Target 4: whole idle stack (start.sh, pm2-runtime, auth proxy, terminal server), PSS summed over ${oursMemory.all.processes} processes`,
        value: (oursMemory.all.pssKiB * 1024) / MB,
        unit: 'MB',
        target: { op: '<=', value: 50 },
      },
      {
        id: 'versus.stack.rss',
        label: 'Target 4: whole idle stack, RSS summed',
        value: (oursMemory.all.rssKiB * 1024) / MB,
        unit: 'MB',
        target: { op: '<=', value: 120 },
      },
    );
  }
  return figures;
}
