// HTTP Basic authentication with one user name and password (realm "Terminal").
import { createHash, timingSafeEqual } from 'node:crypto';
import basicAuth from 'basic-auth';
import type { AuthMode } from './types.js';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Terminal", charset="UTF-8"' };

/** Failures from one client before answers to it slow down. */
const FREE_FAILURES = 5;
/** Failures are forgotten after this long without another. */
const FAILURE_MEMORY_MS = 10 * 60_000;
const MAX_DELAY_MS = 10_000;
/** Clients remembered at most (each is a few bytes); the oldest go first. */
const MAX_CLIENTS = 10_000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time equality whatever the lengths: compares fixed-size digests. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

export function basicAuthMode(options: { username: string; password: string }): AuthMode {
  const username = digest(options.username);
  const password = digest(options.password);
  const failures = new Map<string, { count: number; last: number }>();

  function delayFor(address: string): number {
    const entry = failures.get(address);
    if (!entry || Date.now() - entry.last > FAILURE_MEMORY_MS) return 0;
    const extra = entry.count - FREE_FAILURES;
    return extra < 0 ? 0 : Math.min(MAX_DELAY_MS, 250 * 2 ** extra);
  }

  function recordFailure(address: string): void {
    const entry = failures.get(address);
    const now = Date.now();
    failures.delete(address); // re-inserted last: the map stays ordered by recency
    failures.set(address, { count: entry && now - entry.last <= FAILURE_MEMORY_MS ? entry.count + 1 : 1, last: now });
    if (failures.size > MAX_CLIENTS) failures.delete(failures.keys().next().value as string);
  }

  return {
    name: 'basic',
    async check(req, client) {
      const credentials = basicAuth(req);
      if (!credentials) return { allowed: false, status: 401, reason: 'no credentials', headers: CHALLENGE };
      // Both comparisons always run, so timing does not tell which one failed.
      const nameOk = sameSecret(credentials.name, username);
      const passwordOk = sameSecret(credentials.pass, password);
      if (nameOk && passwordOk) {
        failures.delete(client.address);
        return { allowed: true, user: credentials.name };
      }
      const delay = delayFor(client.address);
      recordFailure(client.address);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      return { allowed: false, status: 401, reason: 'wrong user name or password', headers: CHALLENGE };
    },
    describe: () => 'basic authentication (realm Terminal)',
  };
}
