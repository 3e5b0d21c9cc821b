// Logins through the browser, shared by the auth proxy's modes and the room
// service: the login session kept in an encrypted cookie (AES-256-GCM) rather
// than in memory (it holds the user's token, which the browser must not read,
// and it outlives a restart when a secret is set), the OAuth state's checks, and
// what a login server last said about each token.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import * as cookie from 'cookie';
import { pathUnder } from './prefix.js';

/** How the browser reached us: a cookie is Secure only over https. */
export interface CookieClient {
  protocol: 'http' | 'https';
}

export interface CookieJar<T> {
  readonly name: string;
  read(req: http.IncomingMessage): T | null;
  /** Sets the cookie on a response (appending to other Set-Cookie headers). */
  write(res: http.ServerResponse, value: T, client: CookieClient): void;
  clear(res: http.ServerResponse, client: CookieClient): void;
}

/** Longer cookie values are not ours (a login cookie is a few hundred characters). */
const MAX_COOKIE_CHARS = 4096;

function keyFrom(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'workshop-terminal', 'login-session', 32));
}

/**
 * An encrypted cookie holding one JSON value, scoped to the prefix. The first
 * secret encrypts; every secret is tried to decrypt, so secrets can be rotated.
 */
export function encryptedCookie<T>(options: {
  name: string;
  secrets: readonly string[];
  path: string;
  maxAgeSeconds: number;
  /** What a decrypted value must look like to be used. */
  shape: (value: unknown) => value is T;
}): CookieJar<T> {
  const keys = options.secrets.map(keyFrom);
  const [current] = keys;
  if (!current) throw new Error('an encrypted cookie needs a secret');
  const additionalData = Buffer.from(`workshop-terminal cookie ${options.name}`, 'utf8');

  const attributes = (client: CookieClient, maxAge: number): cookie.SerializeOptions => ({
    path: options.path,
    httpOnly: true,
    sameSite: 'lax',
    secure: client.protocol === 'https',
    maxAge,
  });

  function append(res: http.ServerResponse, header: string): void {
    const existing = res.getHeader('Set-Cookie');
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('Set-Cookie', [...list, header]);
  }

  /** The value sealed in one cookie value, or null when it is not one of ours (or has expired). */
  function unseal(raw: string): T | null {
    if (raw.length > MAX_COOKIE_CHARS) return null;
    const sealed = Buffer.from(raw, 'base64url');
    if (sealed.length < 29) return null;
    for (const key of keys) {
      let plain: Buffer;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
        // Sealed for this cookie's name only: a value cannot be moved to another cookie.
        decipher.setAAD(additionalData);
        decipher.setAuthTag(sealed.subarray(12, 28));
        plain = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      } catch {
        continue; // not sealed with this key (or tampered with): try the next
      }
      let content: unknown;
      try {
        content = JSON.parse(plain.toString('utf8'));
      } catch {
        return null;
      }
      if (!content || typeof content !== 'object') return null;
      const { value, expires } = content as { value?: unknown; expires?: unknown };
      if (typeof expires !== 'number' || Date.now() >= expires || !options.shape(value)) return null;
      return value;
    }
    return null;
  }

  return {
    name: options.name,
    read(req) {
      // Every cookie of this name, not only the first: a server on a sibling host
      // (another user's, with subdomain_host) can set one for the whole domain,
      // which the browser may send first; it does not decrypt and is passed over.
      for (const raw of cookieValues(req.headers.cookie ?? '', options.name)) {
        const value = unseal(raw);
        if (value !== null) return value;
      }
      return null;
    },
    write(res, value, client) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(additionalData);
      const plain = JSON.stringify({ value, expires: Date.now() + options.maxAgeSeconds * 1000 });
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
      append(res, cookie.serialize(options.name, sealed, attributes(client, options.maxAgeSeconds)));
    },
    clear(res, client) {
      append(res, cookie.serialize(options.name, '', attributes(client, 0)));
    },
  };
}

/** The values of every cookie of this name in a Cookie header, in the order sent (Node's header limit bounds them). */
function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    values.push(
      pair
        .slice(at + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1'),
    );
  }
  return values;
}

/**
 * A check that a value is a plain object with exactly these fields, each of
 * the given type (strings of a sane length), for values read back from cookies.
 */
export function shapeOf<T>(fields: { [K in keyof T]: 'string' | 'number' }): (value: unknown) => value is T {
  const entries = Object.entries(fields) as [string, 'string' | 'number'][];
  return (value: unknown): value is T => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    if (Object.keys(record).length !== entries.length) return false;
    return entries.every(([name, type]) => {
      const field = record[name];
      if (type === 'number') return typeof field === 'number' && Number.isFinite(field);
      return typeof field === 'string' && field.length <= 2048;
    });
  };
}

/**
 * The secrets that seal login cookies: SESSION_SECRET's comma-separated list,
 * else a random one made now (logins then end with the process). Never derived
 * from anything a shell can read.
 */
export function sessionSecrets(configured: string): { secrets: string[]; random: boolean } {
  const secrets = configured
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length > 0) return { secrets, random: false };
  return { secrets: [randomBytes(32).toString('base64url')], random: true };
}

const NEXT_BASE = 'http://terminal.invalid';

/**
 * Where to go after logging in: only ever a path of this terminal, never
 * another site, never a header. The path is normalised first (as the browser
 * would resolve it), so `/prefix/../elsewhere` cannot leave the prefix.
 */
export function safeNext(prefix: string, raw: unknown): string {
  const fallback = `${prefix}/`;
  if (typeof raw !== 'string' || raw.length > 2048 || !raw.startsWith('/') || raw.startsWith('//')) return fallback;
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, NEXT_BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== NEXT_BASE) return fallback;
  if (pathUnder(prefix, url.pathname) === null) return fallback;
  return `${url.pathname}${url.search}`;
}

/** Constant-time string equality (for OAuth state). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** How long a login may take between leaving for the login server and coming back. */
export const LOGIN_STATE_LIFETIME_MS = 10 * 60_000;

/**
 * Remembers OAuth states already used, until they would have expired anyway.
 * States come in about the order they expire, so pruning stops at the first
 * live one: a flood of callbacks costs each one O(1), not a walk of them all.
 */
export function usedStates(): { use(state: string, expires: number): boolean } {
  const used = new Map<string, number>();
  return {
    /** False when the state was used before. */
    use(state, expires) {
      const now = Date.now();
      for (const [old, until] of used) {
        if (until >= now) break;
        used.delete(old);
      }
      if (used.has(state)) return false;
      used.set(state, expires);
      return true;
    },
  };
}

/**
 * Logins whose answers are remembered at most. Every login brings a new token
 * and the process lives for weeks; a terminal has its owner and a few people
 * watching, so this many is far more than are in use at once, and a login
 * forgotten early only costs one question to the login server at its next check.
 */
export const MAX_REMEMBERED_LOGINS = 256;

export interface TokenAnswer<T> {
  value: T;
  /** When the login server gave it (ms). */
  at: number;
}

/**
 * What the login server last said about each login's token (kept by the
 * token's digest, never the token), no longer than a login lasts and for at
 * most MAX_REMEMBERED_LOGINS logins: the oldest answers are forgotten first.
 * Answers are kept in the order they came, so pruning stops at the first one
 * still young enough.
 */
export function tokenAnswers<T>(
  lifetimeMs: number,
  maxAnswers: number = MAX_REMEMBERED_LOGINS,
): {
  get(token: string): TokenAnswer<T> | undefined;
  set(token: string, value: T): TokenAnswer<T>;
  delete(token: string): void;
} {
  const answers = new Map<string, TokenAnswer<T>>();
  const keyOf = (token: string) => createHash('sha256').update(token).digest('base64url');
  return {
    get: (token) => answers.get(keyOf(token)),
    set(token, value) {
      const key = keyOf(token);
      const answer = { value, at: Date.now() };
      answers.delete(key); // set again last: the map stays in the order answers came
      for (const [old, { at }] of answers) {
        if (answer.at - at <= lifetimeMs) break;
        answers.delete(old);
      }
      answers.set(key, answer);
      if (answers.size > maxAnswers) answers.delete(answers.keys().next().value as string);
      return answer;
    },
    delete(token) {
      answers.delete(keyOf(token));
    },
  };
}

/** A login to a JupyterHub OAuth client: who, and the token the hub gave for them. */
export interface HubLoginSession {
  user: string;
  token: string;
}

/** A login under way: the OAuth state sent to the hub, where to go after, and since when. */
export interface HubLoginState {
  state: string;
  next: string;
  created: number;
}

/**
 * The two cookies of a JupyterHub OAuth client (the terminal's hub mode, the room
 * service): the login, named `name`, and the login under way, named after the client.
 */
export function hubLoginCookies(options: {
  name: string;
  clientId: string;
  secrets: readonly string[];
  path: string;
  maxAgeSeconds: number;
}): { sessions: CookieJar<HubLoginSession>; states: CookieJar<HubLoginState> } {
  return {
    sessions: encryptedCookie<HubLoginSession>({
      name: options.name,
      secrets: options.secrets,
      path: options.path,
      maxAgeSeconds: options.maxAgeSeconds,
      shape: shapeOf<HubLoginSession>({ user: 'string', token: 'string' }),
    }),
    states: encryptedCookie<HubLoginState>({
      name: `${options.clientId}-oauth-state`,
      secrets: options.secrets,
      path: options.path,
      maxAgeSeconds: LOGIN_STATE_LIFETIME_MS / 1000,
      shape: shapeOf<HubLoginState>({ state: 'string', next: 'string', created: 'number' }),
    }),
  };
}

/** The hub's token request for an OAuth code (its answer holds `access_token`). */
export function hubTokenRequest(
  options: { apiUrl: string; clientId: string; apiToken: string; callbackUrl: string },
  code: string,
): { url: string; body: URLSearchParams } {
  return {
    url: `${options.apiUrl}/oauth2/token`,
    // Credentials in the body: the hub refuses them in a Basic header.
    body: new URLSearchParams({
      client_id: options.clientId,
      client_secret: options.apiToken,
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.callbackUrl,
    }),
  };
}
