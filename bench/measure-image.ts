// The container image as a platform runs it: built with podman from the
// project's Dockerfile on the tests' stand-in base images (test/harness/podman.ts;
// oc and kubectl left out, as in the tests), its size, `podman run` → /readyz
// answering 200, and the idle container's memory a few seconds after that: what
// its cgroup is charged (anonymous memory vs page cache) and the processes in
// it, summed (RSS and PSS, from /proc on this host). Skipped, with a line saying
// why, where podman cannot be set up (an error in CI).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../common/src/paths.js';
import { type CommandResult, podman, preparePodman } from '../test/harness/podman.js';
import { freePort } from '../test/harness/servers.js';
import { commandLine, descendants, processMemory } from './processes.js';
import type { Figure } from './report.js';
import { median } from './stats.js';

/** Its own tag: the tests build localhost/workshop-terminal:test, maybe at the same time. */
const IMAGE = 'localhost/workshop-terminal:bench';
const IDLE_MS = 3000;
/** Starts of the container: the figures are medians (the per-process ones from the median run). */
const RUNS = 3;
const READY_TIMEOUT_MS = 60_000;
const MEMORY_TARGET_PSS_MB = 50;
const MEMORY_TARGET_RSS_MB = 120;
const MB = 1e6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(message: string): void {
  process.stderr.write(`bench: image: ${message}\n`);
}

function check(result: CommandResult, what: string): string {
  if (result.code !== 0) throw new Error(`${what} failed (${result.code}): ${result.stderr.trim().slice(-2000)}`);
  return result.stdout.trim();
}

export interface ImageLayer {
  sizeBytes: number;
  createdBy: string;
}

export interface ContainerProcess {
  /** The pid on this host. */
  pid: number;
  name: string;
  rssKiB: number;
  pssKiB: number;
  privateKiB: number;
  /** PSS of anonymous memory and of file pages (the node binary, libraries), from smaps_rollup. */
  pssAnonKiB: number;
  pssFileKiB: number;
}

export interface CgroupMemory {
  /** cgroup v1 or v2, and the folder read. */
  version: 1 | 2;
  dir: string;
  /** memory.current (v2) or memory.usage_in_bytes (v1): everything charged. */
  chargedBytes: number;
  anonBytes: number;
  /** Page cache charged to the container: files it read or mapped (the node binary, its modules). */
  fileBytes: number;
  /** Of the page cache, what the kernel would drop first; charged − this is the "working set" a kubelet reports. */
  inactiveFileBytes: number;
  /** Kernel memory (v2 `kernel`; v1 memory.kmem.usage_in_bytes); null when not reported. */
  kernelBytes: number | null;
  stat: Record<string, number>;
}

/** One start of the container: ready, a few seconds idle, its memory, stopped. */
export interface ContainerRun {
  /** ms from invoking `podman run` to /readyz answering 200; of which `podman run -d` itself took runMs. */
  readyMs: number;
  runMs: number;
  cgroup: CgroupMemory | null;
  /** `podman stats --no-stream`'s memory figure, as it prints it. */
  podmanStatsMemory: string | null;
  processes: ContainerProcess[];
  totalRssKiB: number;
  totalPssKiB: number;
  /** ms from `podman stop` to its return, and the container's exit code. */
  stopMs: number;
  exitCode: number | null;
}

export interface ImageResult {
  image: string;
  imageId: string;
  /** True when the build changed nothing (every layer from podman's cache). */
  reused: boolean;
  /** Build steps (not FROM) that ran, and all of them; the others came from podman's layer cache. */
  stepsRun: number;
  steps: number;
  buildSeconds: number;
  sizeBytes: number;
  baseImage: string;
  baseSizeBytes: number | null;
  /** The layers the Dockerfile adds to the base, newest first. */
  layers: ImageLayer[];
  /** ms the container stayed idle after ready before its memory was read. */
  idleMs: number;
  runs: ContainerRun[];
}

/** The default base image: the Dockerfile's `ARG NODE_IMAGE=`. */
function baseImageName(): string {
  const dockerfile = readFileSync(path.join(projectRoot(), 'Dockerfile'), 'utf8');
  return /^ARG NODE_IMAGE=(\S+)/m.exec(dockerfile)?.[1] ?? 'docker.io/library/node:24-trixie-slim';
}

async function imageId(image: string, env: Record<string, string>): Promise<string | null> {
  const result = await podman(['image', 'inspect', '--format', '{{.Id}}', image], { env });
  return result.code === 0 ? result.stdout.trim() : null;
}

async function imageSize(image: string, env: Record<string, string>): Promise<number | null> {
  const result = await podman(['image', 'inspect', '--format', '{{.Size}}', image], { env });
  return result.code === 0 ? Number(result.stdout.trim()) : null;
}

function readNumber(file: string): number | null {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return null;
  }
}

function readStat(file: string): Record<string, number> {
  const stat: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value !== undefined) stat[key] = Number(value);
  }
  return stat;
}

/** The memory cgroup of a process (the container's init), from /proc/<pid>/cgroup; null when it cannot be read. */
function cgroupMemory(pid: number): CgroupMemory | null {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  } catch {
    return null;
  }
  // cgroup v1: "4:memory:/libpod_parent/libpod-…"; v2: "0::/…".
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  if (v1?.[2]) {
    const dir = path.join('/sys/fs/cgroup/memory', v1[2]);
    const charged = readNumber(path.join(dir, 'memory.usage_in_bytes'));
    if (charged === null) return null;
    const stat = readStat(path.join(dir, 'memory.stat'));
    return {
      version: 1,
      dir,
      chargedBytes: charged,
      anonBytes: stat.total_rss ?? stat.rss ?? 0,
      fileBytes: stat.total_cache ?? stat.cache ?? 0,
      inactiveFileBytes: stat.total_inactive_file ?? stat.inactive_file ?? 0,
      kernelBytes: readNumber(path.join(dir, 'memory.kmem.usage_in_bytes')),
      stat,
    };
  }
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2) {
    const dir = path.join('/sys/fs/cgroup', v2.slice(3));
    const charged = readNumber(path.join(dir, 'memory.current'));
    if (charged === null) return null;
    const stat = readStat(path.join(dir, 'memory.stat'));
    return {
      version: 2,
      dir,
      chargedBytes: charged,
      anonBytes: stat.anon ?? 0,
      fileBytes: stat.file ?? 0,
      inactiveFileBytes: stat.inactive_file ?? 0,
      kernelBytes: stat.kernel ?? null,
      stat,
    };
  }
  return null;
}

/** The pids in the container: its cgroup's cgroup.procs, else the init and its descendants. */
function containerPids(init: number, cgroup: CgroupMemory | null): number[] {
  if (cgroup) {
    try {
      const pids = readFileSync(path.join(cgroup.dir, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
      if (pids.length > 0 && pids.every((p) => p > 0)) return pids;
    } catch {
      // Fall back to the process tree.
    }
  }
  return [init, ...descendants(init).map((p) => p.pid)];
}

/** `node dist/auth-proxy/src/main.js`: the program and its first path argument, relative to /opt/workshop. */
function processName(pid: number): string {
  // pm2 sets the title of the processes it starts ("node <script>"), which overwrites their argv.
  const argv = commandLine(pid)
    .flatMap((arg) => arg.split(' '))
    .filter(Boolean);
  const program = path.basename(argv[0] ?? '?');
  const script = argv.slice(1).find((arg) => arg.includes('/'));
  return script ? `${program} ${script.replace(/^\/opt\/workshop\//, '')}` : program;
}

function containerProcess(pid: number): ContainerProcess | null {
  const memory = processMemory(pid);
  if (!memory) return null;
  let rollup = '';
  try {
    rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    // Gone meanwhile: the figures above stand.
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  return { pid, name: processName(pid), ...memory, pssAnonKiB: field('Pss_Anon'), pssFileKiB: field('Pss_File') };
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function measure(env: Record<string, string>): Promise<ImageResult> {
  const before = await imageId(IMAGE, env);
  log(`podman build -t ${IMAGE} (INSTALL_CLIENTS=false; podman's layer cache makes this quick when nothing changed)`);
  const buildStart = performance.now();
  const output = check(
    await podman(['build', '--pull=never', '--build-arg', 'INSTALL_CLIENTS=false', '-t', IMAGE, projectRoot()], {
      env,
      timeoutMs: 30 * 60_000,
    }),
    'podman build',
  );
  const steps = (output.match(/STEP \d+\/\d+: (?!FROM )/g) ?? []).length;
  const stepsRun = steps - (output.match(/^--> Using cache /gm) ?? []).length;
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const id = (await imageId(IMAGE, env)) ?? '';
  const sizeBytes = (await imageSize(IMAGE, env)) ?? Number.NaN;
  const baseImage = baseImageName();
  const baseSizeBytes = await imageSize(baseImage, env);
  // The image's own layers: its history (newest first) without the base's.
  const history = async (image: string) =>
    JSON.parse(
      check(await podman(['history', '--no-trunc', '--format', 'json', image], { env }), `podman history ${image}`),
    ) as { size?: number; Size?: number; createdBy?: string; CreatedBy?: string }[];
  const own = await history(IMAGE);
  const baseLayers = baseSizeBytes === null ? 0 : (await history(baseImage)).length;
  const layers = own
    .slice(0, own.length - baseLayers)
    .map((h) => ({ sizeBytes: h.size ?? h.Size ?? 0, createdBy: (h.createdBy ?? h.CreatedBy ?? '').trim() }))
    .filter((l) => l.sizeBytes > 0);
  log(`${(sizeBytes / MB).toFixed(0)} MB; ${stepsRun} of ${steps} build steps ran, in ${buildSeconds.toFixed(1)} s`);

  const runs: ContainerRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await runContainer(env);
    log(
      `run ${i + 1}/${RUNS}: ready after ${run.readyMs.toFixed(0)} ms; ${IDLE_MS} ms later ` +
        `${run.cgroup ? (run.cgroup.chargedBytes / MB).toFixed(1) : 'n/a'} MB charged, PSS ${((run.totalPssKiB * 1024) / MB).toFixed(1)} MB`,
    );
    runs.push(run);
  }
  return {
    image: IMAGE,
    imageId: id,
    reused: id === before,
    stepsRun,
    steps,
    buildSeconds,
    sizeBytes,
    baseImage,
    baseSizeBytes,
    layers,
    idleMs: IDLE_MS,
    runs,
  };
}

async function runContainer(env: Record<string, string>): Promise<ContainerRun> {
  const port = await freePort();
  const name = `workshop-terminal-bench-${process.pid}`;
  const runStart = performance.now();
  const run = await podman(['run', '-d', '--pull=never', '--name', name, '-p', `127.0.0.1:${port}:10080`, IMAGE], {
    env,
  });
  const runMs = performance.now() - runStart;
  try {
    check(run, 'podman run');
    let readyMs = Number.NaN;
    while (performance.now() - runStart < READY_TIMEOUT_MS) {
      if (await ready(`http://127.0.0.1:${port}/readyz`)) {
        readyMs = performance.now() - runStart;
        break;
      }
      await sleep(50);
    }
    if (!Number.isFinite(readyMs)) {
      const logs = await podman(['logs', name], { env });
      throw new Error(
        `the container was not ready after ${READY_TIMEOUT_MS} ms: ${(logs.stdout + logs.stderr).slice(-2000)}`,
      );
    }
    await sleep(IDLE_MS);

    const init = Number(
      check(await podman(['inspect', '--format', '{{.State.Pid}}', name], { env }), 'podman inspect'),
    );
    const cgroup = cgroupMemory(init);
    const processes = containerPids(init, cgroup).flatMap((pid) => containerProcess(pid) ?? []);
    const stats = await podman(['stats', '--no-stream', '--format', 'json', name], { env });
    let podmanStatsMemory: string | null = null;
    try {
      podmanStatsMemory = (JSON.parse(stats.stdout) as { mem_usage?: string }[])[0]?.mem_usage ?? null;
    } catch {
      // Not every podman prints JSON here; the cgroup's own figures are the ones reported.
    }

    const stopStart = performance.now();
    check(await podman(['stop', '-t', '10', name], { env }), 'podman stop');
    const stopMs = performance.now() - stopStart;
    const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', name], { env });
    return {
      readyMs,
      runMs,
      cgroup,
      podmanStatsMemory,
      processes,
      totalRssKiB: processes.reduce((total, p) => total + p.rssKiB, 0),
      totalPssKiB: processes.reduce((total, p) => total + p.pssKiB, 0),
      stopMs,
      exitCode: exit.code === 0 ? Number(exit.stdout.trim()) : null,
    };
  } finally {
    await podman(['rm', '-f', '-t', '0', name], { env });
  }
}

/** What a layer is, in a few words, from the Dockerfile instruction that made it. */
function layerName(createdBy: string): string {
  if (/apt-get install/.test(createdBy)) return 'apt packages';
  const copy = /#\(nop\) (COPY|ADD) \S+ in (\S+)/.exec(createdBy);
  if (copy) return `${copy[1]} → ${copy[2]}`;
  const text = createdBy.replace(/^(\|\d+ (\S+=\S+ )*)?\/bin\/sh -c /, 'RUN ');
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

export async function measureImage(raw: Record<string, unknown>): Promise<Figure[]> {
  const prepared = await preparePodman();
  if (!prepared) {
    const reason = 'podman is not available here (test/harness/podman-base.sh sets it up; it needs root and apt)';
    if (process.env.CI) throw new Error(reason);
    log(`skipped: ${reason}`);
    raw.image = { skipped: reason };
    return [];
  }
  const result = await measure(prepared.env);
  raw.image = result;
  const { runs } = result;
  const mb = (bytes: number) => bytes / MB;
  const kib = (k: number) => (k * 1024) / MB;
  const spread = (values: number[], digits: number) =>
    `${runs.length} runs, ${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
  // Memory figures: the medians of the runs; the per-process ones from the run with the median PSS.
  const byPss = [...runs].sort((a, b) => a.totalPssKiB - b.totalPssKiB);
  const typical = byPss[(byPss.length - 1) >> 1] as ContainerRun;
  const cgroups = runs.flatMap((r) => r.cgroup ?? []);
  const cgroupMedian = (key: 'chargedBytes' | 'anonBytes' | 'fileBytes' | 'inactiveFileBytes') =>
    cgroups.length === runs.length ? mb(median(cgroups.map((c) => c[key]))) : null;
  const charged = cgroupMedian('chargedBytes');
  const inactive = cgroupMedian('inactiveFileBytes');
  const kernel = typical.cgroup?.kernelBytes ?? null;
  const pssAnon = median(runs.map((r) => r.processes.reduce((t, p) => t + p.pssAnonKiB, 0)));
  const pssFile = median(runs.map((r) => r.processes.reduce((t, p) => t + p.pssFileKiB, 0)));
  const added = result.baseSizeBytes === null ? Number.NaN : result.sizeBytes - result.baseSizeBytes;
  const biggest = result.layers
    .filter((l) => l.sizeBytes >= 0.1 * MB)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, 3)
    .map((l) => `${layerName(l.createdBy)} ${mb(l.sizeBytes).toFixed(mb(l.sizeBytes) < 10 ? 1 : 0)}`)
    .join(', ');
  return [
    {
      id: 'image.size',
      label: 'Image size (without oc and kubectl: INSTALL_CLIENTS=false; on the stand-in base images)',
      value: mb(result.sizeBytes),
      unit: 'MB',
      note: `${result.reused ? 'unchanged' : 'new'}: ${result.stepsRun} of ${result.steps} build steps ran (the rest from the layer cache), ${result.buildSeconds.toFixed(0)} s`,
    },
    {
      id: 'image.added',
      label: `Image: added to the base ${result.baseImage}`,
      value: mb(added),
      unit: 'MB',
      note: `base ${result.baseSizeBytes === null ? 'n/a' : mb(result.baseSizeBytes).toFixed(0)} MB; largest layers (MB): ${biggest}`,
    },
    {
      id: 'image.ready',
      label: 'Container: podman run → /readyz answers 200 (no authentication configured), median',
      value: median(runs.map((r) => r.readyMs)),
      unit: 'ms',
      note: `${spread(
        runs.map((r) => r.readyMs),
        0,
      )} ms; podman run -d itself ${median(runs.map((r) => r.runMs)).toFixed(0)} ms`,
    },
    {
      // What a memory limit counts: every page once, the container's page cache included.
      id: 'image.memory.charged',
      label: `Container idle (${result.idleMs / 1000} s after ready, no sessions): memory its cgroup is charged, median`,
      value: charged,
      unit: 'MB',
      target: { op: '<=', value: MEMORY_TARGET_PSS_MB },
      note:
        charged === null || inactive === null
          ? 'its memory cgroup could not be read'
          : `${spread(
              cgroups.map((c) => mb(c.chargedBytes)),
              1,
            )} MB; cgroup v${cgroups[0]?.version}; working set (without inactive page cache) ${(charged - inactive).toFixed(1)} MB` +
            (kernel === null ? '' : `; kernel ${mb(kernel).toFixed(1)} MB`) +
            (typical.podmanStatsMemory ? `; podman stats: ${typical.podmanStatsMemory}` : ''),
    },
    {
      id: 'image.memory.anon',
      label: 'Container idle: of that, anonymous memory (heaps, stacks), median',
      value: cgroupMedian('anonBytes'),
      unit: 'MB',
    },
    {
      id: 'image.memory.file',
      label: 'Container idle: of that, page cache charged to it, median',
      value: cgroupMedian('fileBytes'),
      unit: 'MB',
      // A page is charged to the cgroup that first read it: an earlier container of the
      // same image (or anything else that read the same files) keeps these off the bill.
      note: `${inactive === null ? '' : `${inactive.toFixed(1)} MB inactive; `}its processes map ${kib(pssFile).toFixed(1)} MB of files (PSS: node, libraries, modules), charged to whichever cgroup read them first`,
    },
    {
      id: 'image.pss',
      label: `Container idle: PSS summed over its ${typical.processes.length} processes, median`,
      value: kib(median(runs.map((r) => r.totalPssKiB))),
      unit: 'MB',
      target: { op: '<=', value: MEMORY_TARGET_PSS_MB },
      note: `anonymous ${kib(pssAnon).toFixed(1)}, files ${kib(pssFile).toFixed(1)}`,
    },
    {
      id: 'image.rss',
      label: 'Container idle: RSS summed (shared pages counted once per process), median',
      value: kib(median(runs.map((r) => r.totalRssKiB))),
      unit: 'MB',
      target: { op: '<=', value: MEMORY_TARGET_RSS_MB },
    },
    ...typical.processes.map(
      (p): Figure => ({
        id: `image.rss.${p.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`,
        label: `Container idle: RSS of ${p.name}`,
        value: kib(p.rssKiB),
        unit: 'MB',
        note: `PSS ${kib(p.pssKiB).toFixed(1)} (anonymous ${kib(p.pssAnonKiB).toFixed(1)}, files ${kib(p.pssFileKiB).toFixed(1)}), private ${kib(p.privateKiB).toFixed(1)}`,
      }),
    ),
    {
      id: 'image.stop',
      label: 'Container: podman stop → stopped, median',
      value: median(runs.map((r) => r.stopMs)),
      unit: 'ms',
      note: `exit codes ${runs.map((r) => r.exitCode ?? 'n/a').join(', ')}`,
    },
  ];
}
