// The attacker of the OpenShift login flood (bench/measure-login-flood.ts) in a
// process of its own, so its work does not delay the logged-in user's page and
// the /healthz probe it is measured against. Started with fork(): gets one
// order over the IPC channel (after saying it is ready), floods, sends what it
// got back and exits.
import http from 'node:http';

export interface FloodOrder {
  /** http://host:port of the auth proxy. */
  base: string;
  pairs: number;
  concurrency: number;
}

export interface FloodReport {
  kind: 'report';
  seconds: number;
  /** "handshake status→callback status" → pairs (0: the request failed). */
  statuses: Record<string, number>;
}

/** One GET on `agent`: status and headers; status 0 when the request failed. */
function get(
  url: string,
  agent: http.Agent,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', () => resolve({ status: 0, headers: {} }));
    });
    req.on('error', () => resolve({ status: 0, headers: {} }));
  });
}

/**
 * `pairs` login handshakes, each followed by its callback with a made-up code,
 * `concurrency` pairs in flight over kept-alive connections, no credentials.
 */
async function flood({ base, pairs, concurrency }: FloodOrder): Promise<FloodReport> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<string, number>();
  const start = performance.now();
  let sent = 0;
  const attacker = async () => {
    while (sent < pairs) {
      const n = sent++;
      const handshake = await get(`${base}/oauth_handshake?next=/terminal/`, agent);
      const location = handshake.headers.location;
      const state = location ? (new URL(location, base).searchParams.get('state') ?? '') : '';
      const cookie = (handshake.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
      const callback = await get(`${base}/oauth_callback?code=made-up-${n}&state=${encodeURIComponent(state)}`, agent, {
        Cookie: cookie,
      });
      const key = `${handshake.status}→${callback.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, attacker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { kind: 'report', seconds, statuses: Object.fromEntries(statuses) };
}

process.once('message', async (order: FloodOrder) => {
  const report = await flood(order);
  process.send?.(report, () => process.exit(0));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ kind: 'ready' });
