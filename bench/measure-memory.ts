// Memory of the server process: its RSS with no sessions, and what each idle
// session adds (a session running `sleep`, so it has no output and an empty history).
import { TerminalClient } from '../test/harness/terminal-client.js';
import { startServerProcess } from './server-process.js';
import { median } from './stats.js';

export interface MemoryResult {
  /** RSS of the server with no sessions, KiB. */
  baselineKiB: number;
  sessions: number;
  /** RSS with that many idle sessions, each with its page attached, KiB. */
  withPagesKiB: number;
  /** RSS once the pages have gone and the sessions are kept on their own, KiB. */
  withoutPagesKiB: number;
  /** (withPagesKiB - baselineKiB) / sessions. */
  perSessionKiB: number;
  /** (withoutPagesKiB - baselineKiB) / sessions: a session with no page attached. */
  perDetachedSessionKiB: number;
  /** Least-squares slope of RSS over the number of sessions (pages attached), KiB per session. */
  slopeKiB: number;
  /** [sessions, RSS KiB] after each batch of sessions. */
  curve: [number, number][];
  /** Output each session keeps for pages that come back; an idle session's is empty. */
  historyBudgetBytes: number;
}

/** RSS after a full collection: the median of a few readings. */
async function settledRss(server: Awaited<ReturnType<typeof startServerProcess>>): Promise<number> {
  await server.collectGarbage();
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(server.rssKiB());
    await new Promise((r) => setTimeout(r, 50));
  }
  return median(readings);
}

function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export async function measureMemory(sessions: number, batch = 10): Promise<MemoryResult> {
  const historyBudgetBytes = 1 << 20;
  const server = await startServerProcess({
    TERMINAL_COMMAND: JSON.stringify(['sleep', '3600']),
    TERMINAL_MAX_SESSIONS: String(sessions + 10),
    TERMINAL_HISTORY_BYTES: String(historyBudgetBytes),
  });
  const clients: TerminalClient[] = [];
  try {
    // Let the freshly started server settle (lazy compilation, first allocations).
    await new Promise((r) => setTimeout(r, 500));
    const baselineKiB = await settledRss(server);
    const curve: [number, number][] = [[0, baselineKiB]];
    while (clients.length < sessions) {
      const count = Math.min(batch, sessions - clients.length);
      const opened = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          TerminalClient.connect(server.socketUrl(`idle-${clients.length + i}`), { keepText: false }),
        ),
      );
      clients.push(...opened);
      curve.push([clients.length, await settledRss(server)]);
    }
    const withPagesKiB = curve[curve.length - 1]?.[1] as number;
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await new Promise((r) => setTimeout(r, 300));
    const withoutPagesKiB = await settledRss(server);
    return {
      baselineKiB,
      sessions,
      withPagesKiB,
      withoutPagesKiB,
      perSessionKiB: (withPagesKiB - baselineKiB) / sessions,
      perDetachedSessionKiB: (withoutPagesKiB - baselineKiB) / sessions,
      slopeKiB: slope(curve),
      curve,
      historyBudgetBytes,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}
