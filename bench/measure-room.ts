// A room on one host: the real JupyterHub (test/harness/jupyterhub.ts: Debian's
// jupyterhub, DummyAuthenticator, SimpleLocalProcessSpawner running
// supervisor/start-singleuser) and users logging in within a few seconds of each
// other, each as a browser would: the hub's login form, its spawn-pending page
// (progress events, then a reload), the OAuth round trip to the terminal page,
// then the terminal's WebSocket through the hub's proxy with the cookies, driven
// by the page's own protocol client. Every stack (pm2-runtime, auth proxy,
// terminal server) links its two servers by a private Unix socket, so the stacks
// share the host without port clashes. Once all are idle: the memory and CPU time
// of every process of every stack, and of the hub's own.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CookieClient } from '../test/harness/cookie-client.js';
import { awaitSpawn, type Hub, startHub } from '../test/harness/jupyterhub.js';
import { isAlive } from '../test/harness/servers.js';
import { TerminalClient } from '../test/harness/terminal-client.js';
import { findTool } from '../test/harness/tools.js';
import {
  descendants,
  type ProcessEntry,
  type ProcessMemory,
  processCpu,
  processMemory,
  processName,
  processTable,
} from './processes.js';
import type { Figure } from './report.js';
import { median, percentile } from './stats.js';

export interface RoomUser {
  name: string;
  /** ms after the room began that this user started to log in. */
  startMs: number;
  /** ms from the start of the login until the hub's answer to the login form (its spawn-pending page, redirects followed). */
  loginMs: number | null;
  /** …until the spawn's progress events said ready. */
  spawnedMs: number | null;
  /** …until the terminal page, after the OAuth round trip through the hub. */
  pageMs: number | null;
  /** …until the WebSocket was attached to a session. */
  attachedMs: number | null;
  /** …until the first prompt (`$ `) arrived: login → first prompt. */
  promptMs: number | null;
  /** …until `echo room-$((6*7))` answered room-42. */
  workingMs: number | null;
  /** Where it went wrong, when it did. */
  error: string | null;
}

export interface RoomProcess extends ProcessMemory {
  pid: number;
  name: string;
  /** CPU time of the process and of its children that have ended, ms. */
  cpuMs: number;
}

export interface ProcessGroup {
  processes: RoomProcess[];
  rssKiB: number;
  pssKiB: number;
  privateKiB: number;
  cpuMs: number;
}

export interface RoomResult {
  users: number;
  spreadMs: number;
  settleMs: number;
  hubSettings: { startTimeoutSeconds: number; httpTimeoutSeconds: number; concurrentSpawnLimit: number };
  runs: RoomUser[];
  /** Users whose prompt answered. */
  working: number;
  /** Login → first prompt over the users who got one, ms. */
  promptP50: number;
  promptP95: number;
  promptMax: number;
  /** ms from the first user's login to the last user's working prompt. */
  roomReadyMs: number;
  /** Per user, from the hub's output (its log and the servers'): when things happened after the hub began the spawn. */
  timelines: Record<string, SpawnTimeline>;
  /** Ports the hub gave to more than one server (JupyterHub's random_port picks a free port and lets go of it). */
  sharedPorts: { port: number; users: string[] }[];
  /** Servers that stopped at once because the port the hub gave them was taken ("supervisor: PORT … is in use"). */
  portInUseExits: number;
  /** The hub's calls to configurable-http-proxy's API that it had to retry (599: no answer in time). */
  proxyRetries: number;
  /** Hub log lines naming each user that failed (at most 40 each). */
  failureLog: Record<string, string[]>;
  /** While the users logged in (first login to last answer): how busy the machine was and what the hub got of it. */
  duringLogins: { seconds: number; machineBusy: number; hubCpuShare: number };
  /** Every stack's processes (start script and everything below it), read once all users were idle for settleMs. */
  stacks: (ProcessGroup & { user: string })[];
  /** The same summed over every stack. */
  stacksTotal: Omit<ProcessGroup, 'processes'> & { processCount: number };
  /** Summed over the stacks by process name (`node dist/auth-proxy/src/main.js`, …). */
  byName: Record<string, { count: number; rssKiB: number; pssKiB: number; cpuMs: number }>;
  /** jupyterhub and configurable-http-proxy. */
  hub: ProcessGroup;
  loadAverage: { atStart: number[]; atIdle: number[] };
  /** ms from asking the hub to stop every server until none of their processes was left. */
  stopMs: number;
  /** Processes of the servers still there after the stop (killed here). */
  leftovers: string[];
}

export interface SpawnTimeline {
  /** The port the hub gave the server. */
  port: number | null;
  /** s from the hub beginning the spawn until the server's auth proxy listened (its own log line). */
  listeningS: number | null;
  /** …until the hub found the server answering ("took N seconds to start"). */
  noticedS: number | null;
  /** …until the hub had added the route to its proxy and told the page ("Server … is ready"). */
  readyS: number | null;
}

export interface RoomOptions {
  users: number;
  /** Users start logging in evenly over this many ms (user i at i × spreadMs / users). */
  spreadMs: number;
  /** Idle time after the last user before memory is read. */
  settleMs: number;
  /** c.Spawner.start_timeout and c.Spawner.http_timeout, each. */
  spawnTimeoutSeconds: number;
}

const STOP_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(message: string): void {
  process.stderr.write(`bench: room: ${message}\n`);
}

/** Rejects after ms, naming what was awaited; the promise itself goes on. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what()} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One user: login, spawn, terminal page, WebSocket, prompt, echo. The terminal stays open (pushed to `open`). */
async function logIn(hub: Hub, run: RoomUser, deadlineMs: number, open: TerminalClient[]): Promise<void> {
  const start = performance.now();
  const since = () => performance.now() - start;
  let stage = 'login';
  const steps = async () => {
    const client = new CookieClient();
    const landed = await client.logInToHub(hub, run.name);
    run.loginMs = since();
    stage = 'spawn';
    const page = await awaitSpawn(client, landed, deadlineMs, () => {
      run.spawnedMs = since();
      stage = 'terminal page';
    });
    // Spawned within the second the hub's spawn handler waits: the login led straight to the server.
    run.spawnedMs ??= run.loginMs;
    stage = 'terminal page';
    if (page.status !== 200 || !page.url.includes(`/user/${run.name}/terminal/session/`)) {
      throw new Error(`landed on ${page.url} (${page.status}) by ${page.visited.join(' → ')}`);
    }
    run.pageMs = since();
    stage = 'attach';
    // The page's socket: its prefix, then /terminal/socket/<session>, on the page's host.
    const socketUrl = page.url.replace(/^http/, 'ws').replace('/terminal/session/', '/terminal/socket/');
    const terminal = await TerminalClient.connect(socketUrl, { headers: { Cookie: client.cookieHeader() } });
    open.push(terminal);
    run.attachedMs = since();
    stage = 'prompt';
    await terminal.waitFor('$ ', deadlineMs);
    run.promptMs = since();
    stage = 'echo';
    terminal.type('echo room-$((6*7))\r');
    await terminal.waitFor('room-42', deadlineMs);
    run.workingMs = since();
  };
  try {
    await withTimeout(steps(), deadlineMs, () => `${stage} for ${run.name}`);
  } catch (error) {
    run.error = `${stage}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function readProcess(entry: ProcessEntry): RoomProcess | null {
  const memory = processMemory(entry.pid);
  const cpu = processCpu(entry.pid);
  if (!memory || !cpu) return null;
  return { pid: entry.pid, name: processName(entry.pid, entry.comm), ...memory, cpuMs: cpu.ownMs + cpu.reapedMs };
}

function group(entries: readonly ProcessEntry[]): ProcessGroup {
  const processes = entries.flatMap((entry) => readProcess(entry) ?? []);
  const sum = (key: 'rssKiB' | 'pssKiB' | 'privateKiB' | 'cpuMs') => processes.reduce((t, p) => t + p[key], 0);
  return {
    processes,
    rssKiB: sum('rssKiB'),
    pssKiB: sum('pssKiB'),
    privateKiB: sum('privateKiB'),
    cpuMs: sum('cpuMs'),
  };
}

/** The user a process runs for (JUPYTERHUB_USER in its environment), or null. */
function serverUser(pid: number): string | null {
  try {
    const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.startsWith('JUPYTERHUB_USER='));
    return entry ? entry.slice('JUPYTERHUB_USER='.length) : null;
  } catch {
    return null;
  }
}

/** The hub's spawned servers: each start script (a child of the hub with a JUPYTERHUB_USER) and its tree. */
function servers(hubPid: number, table: readonly ProcessEntry[]): { user: string; tree: ProcessEntry[] }[] {
  return table.flatMap((entry) => {
    if (entry.ppid !== hubPid) return [];
    const user = serverUser(entry.pid);
    return user === null ? [] : [{ user, tree: [entry, ...descendants(entry.pid, table)] }];
  });
}

/** Stops every server through the hub's API and waits for all their processes to go; kills and names what stays. */
async function stopServers(hub: Hub, names: readonly string[]): Promise<{ stopMs: number; leftovers: string[] }> {
  const tree = servers(hub.pid, processTable()).flatMap((server) => server.tree);
  const labels = new Map(tree.map((p) => [p.pid, processName(p.pid, p.comm)]));
  const start = performance.now();
  await Promise.all(names.map((name) => hub.api('DELETE', `/users/${name}/server`).catch(() => null)));
  const deadline = start + STOP_TIMEOUT_MS;
  while (tree.some((p) => isAlive(p.pid)) && performance.now() < deadline) await sleep(50);
  const stopMs = performance.now() - start;
  const leftovers: string[] = [];
  for (const p of tree.filter((entry) => isAlive(entry.pid))) {
    leftovers.push(`process ${p.pid} (${labels.get(p.pid)}) outlived the stop of its server`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return { stopMs, leftovers };
}

/** A time in the hub's log ("2026-12-02 03:47:48.191", local time) or an ISO one from ours, as ms since the epoch. */
function logTime(text: string): number {
  return Date.parse(text.includes('T') ? text : text.replace(' ', 'T'));
}

/** What the hub's output (its own log and its servers') tells about each spawn. */
function readHubOutput(
  output: string,
  names: readonly string[],
): Pick<RoomResult, 'timelines' | 'sharedPorts' | 'portInUseExits' | 'proxyRetries'> {
  const hubLine = (pattern: string) => new RegExp(`^\\[\\w (\\S+ \\S+) JupyterHub [\\w.]+:\\d+\\] ${pattern}`, 'gm');
  const took = new Map<string, { at: number; seconds: number }>();
  for (const m of output.matchAll(hubLine('User (\\S+) took ([\\d.]+) seconds to start'))) {
    took.set(m[2] as string, { at: logTime(m[1] as string), seconds: Number(m[3]) });
  }
  const ready = new Map<string, number>();
  for (const m of output.matchAll(hubLine('Server (\\S+) is ready')))
    ready.set(m[2] as string, logTime(m[1] as string));
  const ports = new Map<string, number>();
  for (const m of output.matchAll(hubLine('Adding user (\\S+) to proxy \\S+ => https?://[^:/]+:(\\d+)'))) {
    ports.set(m[2] as string, Number(m[3]));
  }
  const listening = new Map<string, number>();
  for (const m of output.matchAll(/(\S+Z) info auth-proxy listening .* prefix=\/user\/(\S+)/g)) {
    if (!listening.has(m[2] as string)) listening.set(m[2] as string, logTime(m[1] as string));
  }
  const timelines: Record<string, SpawnTimeline> = {};
  for (const name of names) {
    const spawn = took.get(name);
    const began = spawn ? spawn.at - spawn.seconds * 1000 : null;
    const after = (at: number | undefined) => (began === null || at === undefined ? null : (at - began) / 1000);
    timelines[name] = {
      port: ports.get(name) ?? null,
      listeningS: after(listening.get(name)),
      noticedS: spawn ? spawn.seconds : null,
      readyS: after(ready.get(name)),
    };
  }
  const byPort = new Map<number, string[]>();
  for (const [name, port] of ports) byPort.set(port, [...(byPort.get(port) ?? []), name]);
  return {
    timelines,
    sharedPorts: [...byPort].flatMap(([port, users]) => (users.length > 1 ? [{ port, users }] : [])),
    portInUseExits: [...output.matchAll(/^supervisor: PORT \d+ is in use/gm)].length,
    proxyRetries: [...output.matchAll(/api_request to the proxy failed with status code 599/g)].length,
  };
}

/** Busy and total time of all CPUs so far (/proc/stat), in USER_HZ ticks. */
function machineTicks(): { busy: number; all: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return {
    busy: user + nice + system + irq + softirq + steal,
    all: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}

/** CPU time of the hub and its proxy so far, ms. */
function hubCpuMs(hubPid: number): number {
  const proxy = descendants(hubPid).filter((entry) => serverUser(entry.pid) === null);
  return [hubPid, ...proxy.map((entry) => entry.pid)].reduce((total, pid) => total + (processCpu(pid)?.ownMs ?? 0), 0);
}

export async function measureRoom(options: RoomOptions): Promise<RoomResult> {
  const { users, spreadMs, settleMs, spawnTimeoutSeconds } = options;
  if (!findTool('jupyterhub') || !findTool('configurable-http-proxy')) {
    throw new Error(
      'jupyterhub and configurable-http-proxy are not installed (apt-get install jupyterhub node-configurable-http-proxy)',
    );
  }
  const hubSettings = {
    startTimeoutSeconds: spawnTimeoutSeconds,
    httpTimeoutSeconds: spawnTimeoutSeconds,
    // All of them may spawn at once.
    concurrentSpawnLimit: users,
  };
  const names = Array.from({ length: users }, (_, i) => `room-${String(i + 1).padStart(2, '0')}`);
  const atStart = os.loadavg();
  // The terminal's own intervals for activity reports and login re-checks, as a real hub runs it.
  const hub = await startHub({ shortIntervals: false, ...hubSettings });
  const open: TerminalClient[] = [];
  let stopped: { stopMs: number; leftovers: string[] } | undefined;
  try {
    const runs: RoomUser[] = names.map((name, i) => ({
      name,
      startMs: (i * spreadMs) / users,
      loginMs: null,
      spawnedMs: null,
      pageMs: null,
      attachedMs: null,
      promptMs: null,
      workingMs: null,
      error: null,
    }));
    // Whatever the hub may take to start a server, and then some for the rest.
    const deadlineMs = (hubSettings.startTimeoutSeconds + hubSettings.httpTimeoutSeconds + 60) * 1000;
    const began = performance.now();
    const ticksBefore = machineTicks();
    const hubBefore = hubCpuMs(hub.pid);
    await Promise.all(
      runs.map(async (run) => {
        await sleep(run.startMs - (performance.now() - began));
        await logIn(hub, run, deadlineMs, open);
        log(
          run.error
            ? `${run.name} FAILED at ${run.error}`
            : `${run.name}: prompt ${((run.promptMs ?? 0) / 1000).toFixed(1)} s after its login`,
        );
      }),
    );
    const loginsSeconds = (performance.now() - began) / 1000;
    const ticksAfter = machineTicks();
    const duringLogins = {
      seconds: loginsSeconds,
      machineBusy: (ticksAfter.busy - ticksBefore.busy) / Math.max(1, ticksAfter.all - ticksBefore.all),
      hubCpuShare: (hubCpuMs(hub.pid) - hubBefore) / 1000 / loginsSeconds,
    };
    const working = runs.filter((run) => run.workingMs !== null);
    const roomReadyMs = Math.max(...working.map((run) => run.startMs + (run.workingMs ?? 0)));

    await sleep(settleMs);
    const table = processTable();
    const stacks = servers(hub.pid, table).map(({ user, tree }) => ({ user, ...group(tree) }));
    const inStacks = new Set(stacks.flatMap((stack) => stack.processes.map((p) => p.pid)));
    const hubSelf = table.filter((entry) => entry.pid === hub.pid);
    const hubGroup = group([...hubSelf, ...descendants(hub.pid, table).filter((entry) => !inStacks.has(entry.pid))]);
    const atIdle = os.loadavg();
    const byName: RoomResult['byName'] = {};
    for (const p of stacks.flatMap((stack) => stack.processes)) {
      const entry = byName[p.name] ?? { count: 0, rssKiB: 0, pssKiB: 0, cpuMs: 0 };
      byName[p.name] = entry;
      entry.count++;
      entry.rssKiB += p.rssKiB;
      entry.pssKiB += p.pssKiB;
      entry.cpuMs += p.cpuMs;
    }
    const sum = (key: 'rssKiB' | 'pssKiB' | 'privateKiB' | 'cpuMs') => stacks.reduce((t, s) => t + s[key], 0);
    const output = hub.output();
    const failureLog: Record<string, string[]> = {};
    for (const run of runs.filter((r) => r.error !== null)) {
      failureLog[run.name] = output
        .split('\n')
        .filter((line) => line.includes(run.name) || line.startsWith('supervisor:'))
        .slice(0, 40);
    }

    for (const terminal of open) terminal.client.close();
    stopped = await stopServers(hub, names);
    const prompts = working.map((run) => run.promptMs ?? 0);
    return {
      users,
      spreadMs,
      settleMs,
      hubSettings,
      runs,
      working: working.length,
      promptP50: percentile(prompts, 50),
      promptP95: percentile(prompts, 95),
      promptMax: prompts.length > 0 ? Math.max(...prompts) : Number.NaN,
      roomReadyMs,
      ...readHubOutput(output, names),
      failureLog,
      duringLogins,
      stacks,
      stacksTotal: {
        processCount: inStacks.size,
        rssKiB: sum('rssKiB'),
        pssKiB: sum('pssKiB'),
        privateKiB: sum('privateKiB'),
        cpuMs: sum('cpuMs'),
      },
      byName,
      hub: hubGroup,
      loadAverage: { atStart, atIdle },
      ...stopped,
    };
  } finally {
    for (const terminal of open) terminal.socket.terminate();
    if (!stopped) await stopServers(hub, names).catch(() => null);
    await hub.stop();
  }
}

const ROOM_USERS = 30;
const ROOM_SPREAD_MS = 10_000;
const ROOM_SETTLE_MS = 3000;
const ROOM_SPAWN_TIMEOUT_SECONDS = 300;

/** 10⁶ bytes from KiB. */
const megabytes = (kib: number) => (kib * 1024) / 1e6;
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** A shorter name for a stack's process, for the notes. */
function shortName(name: string): string {
  if (name.includes('auth-proxy')) return 'auth proxy';
  if (name.includes('terminal-server')) return 'terminal server';
  if (name.includes('pm2')) return 'pm2-runtime';
  if (name.includes('start-singleuser') || name.includes('start.sh')) return 'start script';
  return name;
}

/** The benchmark step `room`. */
export async function room(raw: Record<string, unknown>): Promise<Figure[]> {
  log(
    `${ROOM_USERS} users log in at a real JupyterHub (local spawner) within ${ROOM_SPREAD_MS / 1000} s, each to a working prompt`,
  );
  const result = await measureRoom({
    users: ROOM_USERS,
    spreadMs: ROOM_SPREAD_MS,
    settleMs: ROOM_SETTLE_MS,
    spawnTimeoutSeconds: ROOM_SPAWN_TIMEOUT_SECONDS,
  });
  raw.room = result;
  const what = `Room (${ROOM_USERS} users logging in at the real JupyterHub within ${ROOM_SPREAD_MS / 1000} s, local spawner, one host)`;
  // Stages of the users who got a working prompt, ms from their login.
  const stage = (key: 'loginMs' | 'spawnedMs' | 'pageMs' | 'attachedMs') =>
    median(result.runs.flatMap((run) => (run.workingMs !== null && run[key] !== null ? [run[key]] : []))).toFixed(0);
  const timelines = Object.values(result.timelines);
  const spawnStage = (key: 'listeningS' | 'noticedS' | 'readyS') =>
    timelines.flatMap((timeline) => (timeline[key] === null ? [] : [timeline[key]]));
  const failures = result.runs.filter((run) => run.error !== null);
  const failed = failures
    .slice(0, 3)
    .map((run) => `${run.name} at ${run.error?.slice(0, 200)}`)
    .join('; ');
  const causes = [
    ...result.sharedPorts.map(
      ({ port, users }) =>
        `the hub gave port ${port} to ${users.join(' and ')} (JupyterHub's random_port frees the port it picks, jupyterhub/jupyterhub#3005)`,
    ),
    ...(result.portInUseExits > 0 ? [`${result.portInUseExits} server(s) stopped at once: their port was taken`] : []),
  ];
  const stackCount = result.stacks.length;
  const perStack = result.stacks.map((stack) => megabytes(stack.pssKiB));
  const breakdown = Object.entries(result.byName)
    .map(([name, p]) => `${shortName(name)} ${megabytes(p.pssKiB / p.count).toFixed(1)}`)
    .join(', ');
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  return [
    {
      id: 'room.working',
      label: `${what}: users with a working prompt (\`echo room-$((6*7))\` answers room-42)`,
      value: result.working,
      unit: `of ${ROOM_USERS}`,
      target: { op: '>=', value: ROOM_USERS },
      note: [
        failures.length === 0
          ? 'none failed'
          : `failed: ${failed}${failures.length > 3 ? ` and ${failures.length - 3} more` : ''}`,
        ...causes,
        `hub: start_timeout = http_timeout = ${ROOM_SPAWN_TIMEOUT_SECONDS} s, concurrent_spawn_limit ${result.hubSettings.concurrentSpawnLimit}`,
      ].join('; '),
    },
    {
      id: 'room.promptP50',
      label: `${what}: login → first prompt, p50`,
      value: result.promptP50,
      unit: 'ms',
      note: `medians from the login: the hub's spawn-pending page ${stage('loginMs')} ms, spawn ready ${stage('spawnedMs')} ms, terminal page after the OAuth round trip ${stage('pageMs')} ms, attached ${stage('attachedMs')} ms`,
    },
    {
      id: 'room.promptP95',
      label: `${what}: login → first prompt, p95`,
      value: result.promptP95,
      unit: 'ms',
      note: `max ${result.promptMax.toFixed(0)} ms; the last prompt answered ${seconds(result.roomReadyMs)} s after the first login`,
    },
    {
      id: 'room.listening',
      label: `${what}: the hub begins a spawn → that stack's auth proxy listens, median`,
      value: median(spawnStage('listeningS')),
      unit: 's',
      note: `max ${Math.max(...spawnStage('listeningS')).toFixed(1)} s; the hub finds it answering after a median ${median(
        spawnStage('noticedS'),
      ).toFixed(
        1,
      )} s (max ${Math.max(...spawnStage('noticedS')).toFixed(1)}), its route is added and the page told after ${median(
        spawnStage('readyS'),
      ).toFixed(
        1,
      )} s (max ${Math.max(...spawnStage('readyS')).toFixed(1)}); the hub retried ${result.proxyRetries} calls to its proxy's API (599)`,
    },
    {
      id: 'room.pss',
      label: `${what}: PSS summed over every process of the ${stackCount} stacks, idle ${ROOM_SETTLE_MS / 1000} s, a terminal open in each`,
      value: megabytes(result.stacksTotal.pssKiB),
      unit: 'MB',
      note: `${result.stacksTotal.processCount} processes (start script, pm2-runtime, auth proxy, terminal server, login shell); private ${megabytes(
        result.stacksTotal.privateKiB,
      ).toFixed(0)} MB`,
    },
    {
      id: 'room.rss',
      label: `${what}: RSS summed over the same processes (shared pages counted once per process)`,
      value: megabytes(result.stacksTotal.rssKiB),
      unit: 'MB',
    },
    {
      id: 'room.pssPerStack',
      label: `${what}: PSS of one stack, mean`,
      value: perStack.reduce((a, b) => a + b, 0) / perStack.length,
      unit: 'MB',
      note: `min ${Math.min(...perStack).toFixed(1)}, max ${Math.max(...perStack).toFixed(1)} MB; per process: ${breakdown}`,
    },
    {
      id: 'room.hubPss',
      label: `${what}: PSS of the hub's own processes (jupyterhub, configurable-http-proxy)`,
      value: megabytes(result.hub.pssKiB),
      unit: 'MB',
      note: `RSS ${megabytes(result.hub.rssKiB).toFixed(1)} MB; ${result.hub.processes
        .map((p) => `${p.name} PSS ${megabytes(p.pssKiB).toFixed(1)}`)
        .join(', ')}`,
    },
    {
      id: 'room.cpu',
      label: `${what}: CPU time of the ${stackCount} stacks from their spawn to idle (user + system, every process)`,
      value: result.stacksTotal.cpuMs / 1000,
      unit: 's',
      note: `${seconds(result.stacksTotal.cpuMs / Math.max(1, stackCount))} s a stack; while the users logged in (${result.duringLogins.seconds.toFixed(
        0,
      )} s) the ${os.cpus().length} cores were ${percent(result.duringLogins.machineBusy)} busy (other work on the host included) and the hub got ${percent(
        result.duringLogins.hubCpuShare,
      )} of a core; load average ${result.loadAverage.atStart[0]?.toFixed(1)} before, ${result.loadAverage.atIdle[0]?.toFixed(1)} at idle`,
    },
    {
      id: 'room.leftovers',
      label: `${what}: processes left after the hub stopped every server`,
      value: result.leftovers.length,
      unit: 'processes',
      target: { op: '<=', value: 0 },
      note: `all stopped in ${seconds(result.stopMs)} s${
        result.leftovers.length > 0 ? `; ${result.leftovers.slice(0, 3).join('; ')}` : ''
      }`,
    },
  ];
}
