// OpenShift login under attack: one client without any credentials starts
// logins and comes back with made-up codes, as fast as the auth proxy answers,
// while a logged-in user types and a probe asks /healthz. The auth proxy runs as
// its own process (dist/), so its memory and CPU are its own; the simulated
// OpenShift and the attacker each run in another (bench/openshift-process.ts,
// bench/login-flood-attacker.ts), so this process only measures.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { projectRoot } from '../common/src/paths.js';
import { CookieClient } from '../test/harness/cookie-client.js';
import {
  eventually,
  freePort,
  request,
  startProcess,
  startTerminalProcess,
  type TerminalProcess,
} from '../test/harness/servers.js';
import type { Endpoint } from './endpoint.js';
import type { FloodOrder, FloodReport } from './login-flood-attacker.js';
import { type EchoPage, KEYS, LAUNCHER, openEchoPage, withTimeout } from './measure-echo.js';
import type { OpenShiftMessage, OpenShiftRequest } from './openshift-process.js';
import { percentile } from './stats.js';

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export interface LoginFloodResult {
  pairs: number;
  concurrency: number;
  /** Wall time of the flood. */
  seconds: number;
  /** "handshake status→callback status" → pairs (0: the request failed). */
  statuses: Record<string, number>;
  /** Callbacks refused with 503 (the limit on logins in flight). */
  refusedCallbacks: number;
  /** TLS connections the simulated OpenShift accepted during the flood. */
  tlsConnections: number;
  /** The proxy's CPU time (user + system) during the flood ÷ pairs. */
  cpuMsPerPair: number;
  /** The proxy's RSS: before the flood, its peak during, right after, and once settled. */
  rssMiB: { start: number; peak: number; end: number; settled: number };
  /** From the end of the flood until RSS was within the allowance of the start (or the wait ended). */
  settleSeconds: number;
  /** The logged-in user's keystroke echo through the proxy: before (warming up), and during the flood. */
  echo: { quiet: LatencySummary; during: LatencySummary };
  /** /healthz round trips during the flood, one every 50 ms. */
  healthz: LatencySummary;
  /**
   * How late the event loop of the process measuring the echo and /healthz ran
   * during the flood (a floor under those figures that is not the proxy's).
   */
  clientDelayMs: { p99: number; max: number };
}

/** RSS within this much of the start counts as settled. */
export const LOGIN_FLOOD_RSS_ALLOWANCE_MIB = 30;
/** …or once this long has passed since the flood ended. */
export const LOGIN_FLOOD_SETTLE_MAX_MS = 30_000;
const WARM_UP_KEYSTROKES = 50;
const HEALTHZ_INTERVAL_MS = 50;
// utime and stime in /proc/<pid>/stat count clock ticks (USER_HZ, 100 on Linux).
const CLOCK_TICKS_PER_SECOND = 100;

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** User + system CPU time of a process so far, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After "pid (comm) ": state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function summary(samples: readonly number[]): LatencySummary {
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples.length > 0 ? Math.max(...samples) : Number.NaN,
    count: samples.length,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type AttackerMessage = { kind: 'ready' } | FloodReport;

/** A script of bench/ run with fork() (and tsx), talking over the IPC channel in messages with a `kind`. */
interface BenchChild<M extends { kind: string }> {
  child: ChildProcess;
  /** The next message of this kind (given up after `timeoutMs`, 30 s by default, or when the process exits). */
  next<K extends M['kind']>(kind: K, timeoutMs?: number): Promise<Extract<M, { kind: K }>>;
  /** Waits for it to exit, after `ask` (when still connected); SIGKILL after 5 s. */
  stop(ask?: () => Promise<unknown>): Promise<void>;
}

function forkBenchScript<M extends { kind: string }>(file: string): BenchChild<M> {
  const child = fork(path.join(projectRoot(), 'bench', file), [], {
    cwd: projectRoot(),
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = <K extends M['kind']>(kind: K, timeoutMs = 30_000) =>
    withTimeout(
      Promise.race([
        new Promise<Extract<M, { kind: K }>>((resolve) => {
          const listen = (message: M) => {
            if (message.kind !== kind) return;
            child.off('message', listen);
            resolve(message as Extract<M, { kind: K }>);
          };
          child.on('message', listen);
        }),
        exited.then(() => {
          throw new Error(`bench/${file} exited (waiting for "${kind}"); code ${child.exitCode}`);
        }),
      ]),
      timeoutMs,
      () => `bench/${file} did not send "${kind}"`,
    );
  return {
    child,
    next,
    async stop(ask) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (ask && child.connected) await ask().catch(() => {});
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

interface OpenShiftProcess {
  url: string;
  port: number;
  serviceAccountDir: string;
  caPem: string;
  setRoute(url: string): Promise<void>;
  tlsConnections(): Promise<number>;
  close(): Promise<void>;
}

/** Starts bench/openshift-process.ts and waits for its facts. */
async function startOpenShiftProcess(): Promise<OpenShiftProcess> {
  const sim = forkBenchScript<OpenShiftMessage>('openshift-process.ts');
  const ask = <K extends OpenShiftRequest['kind']>(request: OpenShiftRequest & { kind: K }) => {
    const reply = sim.next(request.kind);
    sim.child.send(request);
    return reply;
  };
  const close = () => sim.stop(() => ask({ kind: 'close' }));
  let started: Extract<OpenShiftMessage, { kind: 'started' }>;
  try {
    started = await sim.next('started');
  } catch (error) {
    await close();
    throw error;
  }
  return {
    url: started.url,
    port: started.port,
    serviceAccountDir: started.serviceAccountDir,
    caPem: started.caPem,
    setRoute: async (url) => {
      await ask({ kind: 'route', url });
    },
    tlsConnections: async () => (await ask({ kind: 'count' })).tlsConnections,
    close,
  };
}

interface ProxyProcess {
  pid: number;
  base: string;
  port: number;
  stop(): Promise<void>;
}

/** The built auth proxy as its own process, in OpenShift mode, in front of `terminal`. */
async function startOpenShiftProxy(
  openshift: OpenShiftProcess,
  terminal: TerminalProcess,
  home: string,
): Promise<ProxyProcess> {
  const port = await freePort();
  const run = startProcess('dist/auth-proxy/src/main.js', {
    HOME: home,
    PORT: String(port),
    HOST: '127.0.0.1',
    TERMINAL_PORT: new URL(terminal.base).port,
    LOG_LEVEL: 'error',
    OAUTH_SERVICE_ACCOUNT: 'terminal-user',
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(openshift.port),
    SERVICE_ACCOUNT_DIR: openshift.serviceAccountDir,
    SESSION_SECRET: 'a-secret-for-the-bench',
    REVOKED_LOGINS_FILE: path.join(home, 'revoked-logins'),
  });
  const closed = new Promise<void>((resolve) => run.child.once('close', () => resolve()));
  const stop = async () => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
    const killer = setTimeout(() => run.child.kill('SIGKILL'), 8000);
    await closed;
    clearTimeout(killer);
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await eventually(() => request(`${base}/healthz`).then((r) => r.status === 200), 20_000, 'the auth proxy to start');
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; its output: ${run.output().slice(-2000)}`);
  }
  return { pid: run.child.pid as number, base, port, stop };
}

/**
 * `pairs` login handshakes, each followed by its callback with a made-up code,
 * from one client without credentials keeping `concurrency` pairs in flight
 * (over kept-alive connections, from bench/login-flood-attacker.ts), against
 * the auth proxy in OpenShift mode.
 * Meanwhile alice, logged in, types one key after another in a session through
 * the proxy, and /healthz is asked every 50 ms.
 */
export async function measureLoginFlood(options: { pairs: number; concurrency: number }): Promise<LoginFloodResult> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'wt-bench-flood-'));
  let openshift: OpenShiftProcess | undefined;
  let terminal: TerminalProcess | undefined;
  let proxy: ProxyProcess | undefined;
  let page: EchoPage | undefined;
  let attacker: BenchChild<AttackerMessage> | undefined;
  let flooding = false;
  try {
    openshift = await startOpenShiftProcess();
    terminal = await startTerminalProcess({ TERMINAL_COMMAND: JSON.stringify(LAUNCHER) });
    proxy = await startOpenShiftProxy(openshift, terminal, home);
    const { base, pid, port } = proxy;
    await openshift.setRoute(base);

    // alice logs in at the cluster, then at the terminal, as a browser would.
    const alice = new CookieClient({ ca: openshift.caPem });
    await alice.get(`${openshift.url}/login`, { method: 'POST', form: { username: 'alice', return_to: '/' } });
    const landing = await alice.get(`${base}/terminal/session/1`);
    if (landing.status !== 200) throw new Error(`alice's login ended with ${landing.status}: ${landing.visited}`);
    const endpoint: Endpoint = {
      route: 'proxy',
      socketUrl: (name) => `ws://127.0.0.1:${port}/terminal/socket/${name}`,
      headers: { Cookie: alice.cookieHeader() },
      close: async () => {},
    };
    page = await openEchoPage(endpoint, 'alice');
    const quiet: number[] = [];
    for (let i = 0; i < WARM_UP_KEYSTROKES; i++) quiet.push(await page.roundTrip(KEYS[i % KEYS.length] as string));
    attacker = forkBenchScript<AttackerMessage>('login-flood-attacker.ts');
    await attacker.next('ready');
    await sleep(1000);

    const rssStart = rssMiB(pid);
    const cpuStart = cpuMs(pid);
    const tlsStart = await openshift.tlsConnections();
    const clientDelay = monitorEventLoopDelay({ resolution: 10 });
    clientDelay.enable();
    flooding = true;
    let rssPeak = rssStart;

    const typing = page;
    const echoes: number[] = [];
    const typist = (async () => {
      for (let i = 0; flooding; i++) echoes.push(await typing.roundTrip(KEYS[i % KEYS.length] as string));
    })();
    const health: number[] = [];
    const probe = (async () => {
      while (flooding) {
        const start = performance.now();
        const res = await request(`${base}/healthz`);
        if (res.status !== 200) throw new Error(`/healthz answered ${res.status} during the flood`);
        health.push(performance.now() - start);
        rssPeak = Math.max(rssPeak, rssMiB(pid));
        await sleep(HEALTHZ_INTERVAL_MS);
      }
    })();
    // Their failures are taken up once the flood has ended.
    for (const sampler of [typist, probe]) sampler.catch(() => {});

    const order: FloodOrder = { base, pairs: options.pairs, concurrency: options.concurrency };
    const report = attacker.next('report', Math.max(60_000, options.pairs * 50));
    attacker.child.send(order);
    const { seconds, statuses } = await report;
    const cpu = cpuMs(pid) - cpuStart;
    const rssEnd = rssMiB(pid);
    rssPeak = Math.max(rssPeak, rssEnd);
    flooding = false;
    clientDelay.disable();
    await Promise.all([typist, probe]);
    const tlsConnections = (await openshift.tlsConnections()) - tlsStart;

    const settleStart = performance.now();
    let rssSettled = rssEnd;
    while (
      rssSettled - rssStart > LOGIN_FLOOD_RSS_ALLOWANCE_MIB &&
      performance.now() - settleStart < LOGIN_FLOOD_SETTLE_MAX_MS
    ) {
      await sleep(500);
      rssSettled = rssMiB(pid);
    }
    return {
      pairs: options.pairs,
      concurrency: options.concurrency,
      seconds,
      statuses,
      refusedCallbacks: Object.entries(statuses)
        .filter(([pair]) => pair.endsWith('→503'))
        .reduce((sum, [, count]) => sum + count, 0),
      tlsConnections,
      cpuMsPerPair: cpu / options.pairs,
      rssMiB: { start: rssStart, peak: rssPeak, end: rssEnd, settled: rssSettled },
      settleSeconds: (performance.now() - settleStart) / 1000,
      echo: { quiet: summary(quiet), during: summary(echoes) },
      healthz: summary(health),
      clientDelayMs: { p99: clientDelay.percentile(99) / 1e6, max: clientDelay.max / 1e6 },
    };
  } finally {
    flooding = false;
    await attacker?.stop();
    await page?.close();
    await proxy?.stop();
    await terminal?.stop();
    await openshift?.close();
    rmSync(home, { recursive: true, force: true });
  }
}
