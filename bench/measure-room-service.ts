// The room service under a room's load: the real JupyterHub with the room
// service (test/harness/jupyterhub.ts), N hub users each with a real API token,
// posting the event mix of an attendee's stack (an event every 5 s each, and
// every 30 s a burst: everyone clicks the same block at once) through the hub's
// proxy, while an instructor's stream is subscribed. Measured: the delay from
// starting a post to its row reaching the stream, the service's CPU and RSS, and
// events lost (posted and answered, but missing from the room's export).
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { RoomEvent, RoomStreamMessage } from '../common/src/protocol.js';
import { CookieClient } from '../test/harness/cookie-client.js';
import { type Hub, startHub } from '../test/harness/jupyterhub.js';
import { eventually } from '../test/harness/servers.js';
import { findTool } from '../test/harness/tools.js';
import { processCpu, processMemory } from './processes.js';
import type { Figure } from './report.js';
import { percentile } from './stats.js';
import { log } from './steps/step.js';

const EVERY_MS = 5000;
const BURST_EVERY_MS = 30_000;

/** The room service's process (the hub starts it): its environment names the service and this run's database. */
function roomServicePid(database: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`ROOM_DATABASE=${database}\0`))
        return Number(entry);
    } catch {
      // gone, or not ours
    }
  }
  return null;
}

/** One attendee's next event, in about the mix a stack sends. */
function nextEvent(user: number, n: number, at: number): RoomEvent {
  const page = `page-${1 + (Math.floor(n / 6) % 8)}`;
  const roll = (user * 7919 + n * 104_729) % 100;
  if (roll < 10) return { type: 'page', at, page, index: 1 + (Math.floor(n / 6) % 8), pages: 8 };
  if (roll < 40) return { type: 'block', at, page, block: 1 + (n % 5), action: 'execute' };
  if (roll < 70) {
    const failed = roll < 46;
    return {
      type: 'command',
      at,
      session: '1',
      exit: failed ? 1 : 0,
      command: 'kubectl get pods -o wide',
      output: failed ? 'error: You must be logged in to the server (Unauthorized)' : 'NAME READY STATUS',
      page,
      block: 1 + (n % 5),
    };
  }
  if (roll < 85) return { type: 'check', at, page, block: 1 + (n % 5), name: 'pods-ready', passed: roll < 80 };
  if (roll < 97) return { type: 'activity', at, active: roll < 92 };
  return { type: 'hand', at, raised: roll < 99, message: 'help please' };
}

interface Sent {
  at: number;
  startedAt: number;
}

export async function roomService(raw: Record<string, unknown>): Promise<Figure[]> {
  const attendees = Number(process.env.BENCH_ROOM_ATTENDEES ?? 500);
  const seconds = Number(process.env.BENCH_ROOM_SECONDS ?? 120);
  if (!findTool('jupyterhub') || !findTool('configurable-http-proxy')) throw new Error('jupyterhub is not installed');
  const database = path.join(os.tmpdir(), `wt-bench-room-${process.pid}.sqlite`);
  const hub: Hub = await startHub({ room: { database } });
  try {
    const names = Array.from({ length: attendees }, (_, i) => `a${String(i).padStart(4, '0')}`);
    const admin = (method: string, apiPath: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${hub.port}/hub/api${apiPath}`, {
        method,
        headers: { Authorization: `token ${hub.adminToken}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const made = performance.now();
    for (let i = 0; i < names.length; i += 100) {
      await admin('POST', '/users', { usernames: names.slice(i, i + 100) });
    }
    const tokens: string[] = [];
    for (let i = 0; i < names.length; i += 20) {
      const batch = await Promise.all(
        names.slice(i, i + 20).map(async (name) => {
          const res = await admin('POST', `/users/${name}/tokens`, { note: 'bench' });
          return ((await res.json()) as { token: string }).token;
        }),
      );
      tokens.push(...batch);
    }
    const setupSeconds = (performance.now() - made) / 1000;
    log(`room-service: ${attendees} hub users with tokens in ${setupSeconds.toFixed(1)} s`);

    // The instructor: logged in through the hub, the room's stream subscribed.
    const client = new CookieClient();
    await client.logInToHub(hub, 'admin');
    const roomUrl = `${hub.url}/services/room`;
    const page = await client.get(`${roomUrl}/`);
    if (page.status !== 200) throw new Error(`the room page answered ${page.status} at ${page.url}`);
    const pending = new Map<string, Sent[]>();
    const delays: number[] = [];
    let updates = 0;
    const stream = http.get(`${roomUrl}/api/stream`, { headers: { Cookie: client.cookieHeader() } });
    await new Promise<void>((resolve, reject) => {
      stream.on('response', (res) => {
        if (res.statusCode !== 200) reject(new Error(`the stream answered ${res.statusCode}`));
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!data || data === '{}') continue;
            const message = JSON.parse(data) as RoomStreamMessage;
            const arrived = performance.now();
            updates++;
            for (const row of message.rows) {
              const sent = pending.get(row.user);
              if (!sent || row.lastAt === null) continue;
              while (sent.length > 0 && (sent[0] as Sent).at <= row.lastAt) {
                delays.push(arrived - (sent.shift() as Sent).startedAt);
              }
            }
          }
        });
        resolve();
      });
      stream.on('error', reject);
    });
    await eventually(() => roomServicePid(database) !== null, 10_000, 'the room service');
    const pid = roomServicePid(database) as number;
    const cpuBefore = processCpu(pid)?.ownMs ?? 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, processMemory(pid)?.rssKiB ?? 0);
    }, 1000);

    let accepted = 0;
    let refused = 0;
    let failedPosts = 0;
    const statuses: Record<string, number> = {};
    let clock = Date.now();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    let retried = 0;
    /** One batch posted as a stack does: sent again after Retry-After when told to wait (429, 503), up to 5 times. */
    const post = async (i: number, events: RoomEvent[]): Promise<void> => {
      const user = names[i] as string;
      const startedAt = performance.now();
      const list = pending.get(user) ?? [];
      pending.set(user, list);
      for (const event of events) list.push({ at: event.at, startedAt });
      const body = JSON.stringify({ events });
      for (let attempt = 0; ; attempt++) {
        const answer = await send(i, body);
        if (answer.status === 200) {
          const counted = JSON.parse(answer.text) as { accepted: number; refused: unknown[] };
          accepted += counted.accepted;
          refused += counted.refused.length;
          return;
        }
        statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
        if ((answer.status !== 429 && answer.status !== 503) || attempt === 5) {
          // Counted as given up, not again as never shown.
          failedPosts++;
          const sent = new Set(events.map((event) => event.at));
          pending.set(
            user,
            (pending.get(user) ?? []).filter((entry) => !sent.has(entry.at)),
          );
          return;
        }
        retried++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5, answer.retryAfter) * 1000));
      }
    };
    const send = (i: number, body: string) =>
      new Promise<{ status: number; text: string; retryAfter: number }>((resolve) => {
        const req = http.request(
          `${roomUrl}/api/events`,
          {
            method: 'POST',
            agent,
            headers: {
              Authorization: `token ${tokens[i]}`,
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(body),
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              text += chunk;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text, retryAfter: Number(res.headers['retry-after'] ?? 1) || 1 }),
            );
          },
        );
        req.on('error', () => resolve({ status: 0, text: '', retryAfter: 1 }));
        req.end(body);
      });

    const counts = new Array<number>(attendees).fill(0);
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    const fire = (i: number, kind: 'one' | 'burst') => {
      // Event times strictly increase, so each post's row is told apart from the last one's.
      clock = Math.max(clock + 1, Date.now());
      const n = counts[i] ?? 0;
      counts[i] = n + 1;
      const events: RoomEvent[] =
        kind === 'burst'
          ? [
              { type: 'block', at: clock, page: 'page-3', block: 2, action: 'execute' },
              {
                type: 'command',
                at: ++clock,
                session: '1',
                exit: i % 5 === 0 ? 1 : 0,
                command: 'oc apply -f deploy.yaml',
                output: i % 5 === 0 ? 'Error from server (Forbidden): quota exceeded' : 'deployment created',
                page: 'page-3',
                block: 2,
              },
            ]
          : [nextEvent(i, n, clock)];
      const promise = post(i, events).finally(() => inFlight.delete(promise));
      inFlight.add(promise);
    };
    // Each attendee on its own 5 s beat (spread over the interval), and the bursts.
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < attendees; i++) {
      timers.push(
        setTimeout(
          () => {
            fire(i, 'one');
            timers.push(setInterval(() => fire(i, 'one'), EVERY_MS));
          },
          (i * EVERY_MS) / attendees,
        ),
      );
    }
    const burst = setInterval(() => {
      for (let i = 0; i < attendees; i++) fire(i, 'burst');
    }, BURST_EVERY_MS);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    for (const timer of timers) clearInterval(timer);
    clearInterval(burst);
    await Promise.all(inFlight);
    const elapsedSeconds = (performance.now() - started) / 1000;
    // The last updates reach the stream within a flush or two.
    await eventually(() => [...pending.values()].every((list) => list.length === 0), 10_000, 'the last updates').catch(
      () => {},
    );
    clearInterval(sampler);
    const cpuMs = (processCpu(pid)?.ownMs ?? 0) - cpuBefore;
    const undelivered = [...pending.values()].reduce((sum, list) => sum + list.length, 0);
    stream.destroy();
    agent.destroy();

    const exported = await client.get(`${roomUrl}/api/export.json`);
    const kept = (JSON.parse(exported.body) as { events: unknown[] }).events.length;
    // Posted and never kept, or kept and never shown; posts given up on are counted with them below.
    const lost = accepted - kept + undelivered;
    const results = {
      attendees,
      seconds: elapsedSeconds,
      setupSeconds,
      posts: counts.reduce((a, b) => a + b, 0),
      accepted,
      refused,
      failedPosts,
      retried,
      statuses,
      restarted: roomServicePid(database) !== pid,
      kept,
      undelivered,
      streamUpdates: updates,
      delayP50Ms: percentile(delays, 50),
      delayP95Ms: percentile(delays, 95),
      delayMaxMs: Math.max(...delays),
      cpuPercent: cpuMs / 10 / elapsedSeconds,
      peakRssMiB: peakRss / 1024,
    };
    raw.roomService = results;
    if (results.restarted)
      log(
        `room-service: the service restarted:\n${hub
          .output()
          .split('\n')
          .filter((line) => /room|Service/.test(line))
          .slice(-30)
          .join('\n')}`,
      );
    log(`room-service: ${JSON.stringify(results)}`);
    return [
      {
        id: 'room-service.delay-p95',
        label: `Room page update delay p95 (${attendees} attendees, post to stream)`,
        value: results.delayP95Ms,
        unit: 'ms',
        target: { op: '<=', value: 1000 },
      },
      {
        id: 'room-service.lost',
        label: 'Room events lost',
        value: lost + failedPosts,
        unit: 'events',
        target: { op: '<=', value: 0 },
      },
      { id: 'room-service.cpu', label: 'Room service CPU', value: results.cpuPercent, unit: '%' },
      { id: 'room-service.rss', label: 'Room service peak RSS', value: results.peakRssMiB, unit: 'MiB' },
      {
        id: 'room-service.events-per-second',
        label: 'Room events accepted',
        value: accepted / elapsedSeconds,
        unit: '/s',
      },
    ];
  } finally {
    await hub.stop();
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        (await import('node:fs')).rmSync(`${database}${suffix}`, { force: true });
      } catch {}
    }
  }
}
