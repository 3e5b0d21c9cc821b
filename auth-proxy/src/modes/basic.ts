// HTTP Basic authentication with one user name and password (realm "Terminal").
//
// Guessing is slowed by counting attempts when they arrive, whatever their
// outcome: a client gets a few at once, then one every few seconds, and all
// clients together share a budget too (a client that claims a new address each
// time still waits). An attempt beyond its budget waits for its turn before it
// is even checked, so a right guess takes as long as a wrong one, and dropping
// slow answers gains nothing; one that would wait too long is refused unchecked.
// A browser that has logged in gets a cookie, and its requests with the right
// credentials no longer count: the person using the terminal is never slowed.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import basicAuth from 'basic-auth';
import * as cookie from 'cookie';
import { pathUnder } from '../../../common/src/prefix.js';
import type { ClientInfo } from '../client-info.js';
import { cookieNameFor } from '../login-session.js';
import type { AuthMode, Verdict } from './types.js';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Terminal", charset="UTF-8"' };

/** Each client: this many attempts at once, then one every CLIENT_INTERVAL_MS (10 a minute). */
const CLIENT_BURST = 5;
const CLIENT_INTERVAL_MS = 6000;
/** Every client together: this many at once, then one every TOTAL_INTERVAL_MS (30 a minute). */
const TOTAL_BURST = 20;
const TOTAL_INTERVAL_MS = 2000;
/** An attempt whose turn is further away than this is refused without being checked. */
const MAX_WAIT_MS = 30_000;
/** Clients remembered at most (each is a few bytes); the oldest go first. */
const MAX_CLIENTS = 10_000;

/**
 * Turns for attempts, as a generic cell rate: `burst` at once, then one per
 * `intervalMs`. `theoretical` is when the budget would be whole again.
 */
class Turns {
  theoretical = 0;
  constructor(
    private readonly burst: number,
    private readonly intervalMs: number,
  ) {}

  /** How long an attempt arriving now waits for its turn. */
  waitAt(now: number): number {
    return Math.max(0, this.theoretical - (this.burst - 1) * this.intervalMs - now);
  }

  take(now: number): void {
    this.theoretical = Math.max(this.theoretical, now) + this.intervalMs;
  }

  idleAt(now: number): boolean {
    return this.theoretical <= now;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time equality whatever the lengths: compares fixed-size digests. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

export function basicAuthMode(options: { username: string; password: string; prefix: string }): AuthMode {
  const username = digest(options.username);
  const password = digest(options.password);
  const total = new Turns(TOTAL_BURST, TOTAL_INTERVAL_MS);
  const clients = new Map<string, Turns>();
  // Proof that this browser logged in: made with a key of this process only.
  const cookieName = cookieNameFor(options.prefix, 'basic');
  const loggedIn = createHmac('sha256', randomBytes(32))
    .update(Buffer.concat([username, password]))
    .digest('base64url');
  const loggedInDigest = digest(loggedIn);

  function turnsOf(address: string, now: number): Turns {
    let turns = clients.get(address);
    if (turns?.idleAt(now)) {
      clients.delete(address);
      turns = undefined;
    }
    if (!turns) turns = new Turns(CLIENT_BURST, CLIENT_INTERVAL_MS);
    clients.delete(address); // re-inserted last: the map stays ordered by recency
    clients.set(address, turns);
    if (clients.size > MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
    return turns;
  }

  function hasLoginCookie(req: http.IncomingMessage): boolean {
    const value = cookie.parse(req.headers.cookie ?? '')[cookieName];
    return value !== undefined && sameSecret(value, loggedInDigest);
  }

  /** On an HTTP response (not an upgrade), the cookie that spares this browser the counting. */
  function setLoginCookie(req: http.IncomingMessage, res: http.ServerResponse | undefined, client: ClientInfo): void {
    if (!res || res.headersSent) return;
    // A path outside the prefix is on an app host (APP_DOMAIN), whose paths are all the app's.
    const underPrefix = pathUnder(options.prefix, (req.url ?? '/').split('?')[0] ?? '') !== null;
    const header = cookie.serialize(cookieName, loggedIn, {
      path: underPrefix ? options.prefix || '/' : '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: client.protocol === 'https',
    });
    const existing = res.getHeader('Set-Cookie');
    res.setHeader('Set-Cookie', [...(Array.isArray(existing) ? existing : existing ? [String(existing)] : []), header]);
  }

  return {
    name: 'basic',
    sharedOrigin: false,
    owner: options.username,
    async check(req, client, res): Promise<Verdict> {
      const credentials = basicAuth(req);
      if (!credentials) return { allowed: false, status: 401, reason: 'no credentials', headers: CHALLENGE };
      // Both comparisons always run (no &&), so timing does not tell which one failed.
      const rightName = sameSecret(credentials.name, username);
      const rightPassword = sameSecret(credentials.pass, password);
      const right = rightName && rightPassword;
      if (right && hasLoginCookie(req)) return { allowed: true, user: credentials.name, access: 'owner' };

      // Everything else is an attempt: it takes its turn before its outcome is known.
      const now = Date.now();
      const turns = turnsOf(client.address, now);
      const wait = Math.max(turns.waitAt(now), total.waitAt(now));
      if (wait > MAX_WAIT_MS) {
        return {
          allowed: false,
          status: 429,
          reason: 'too many login attempts',
          headers: { 'Retry-After': String(Math.ceil(wait / 1000)) },
        };
      }
      turns.take(now);
      total.take(now);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!right) return { allowed: false, status: 401, reason: 'wrong user name or password', headers: CHALLENGE };
      setLoginCookie(req, res, client);
      return { allowed: true, user: credentials.name, access: 'owner' };
    },
    describe: () => 'basic authentication (realm Terminal)',
  };
}
