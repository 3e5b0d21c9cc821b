// What the room service asks the hub: whose token a stack posted with (cached
// briefly, bounded, one question at a time per token, few at once in all), the
// room's users and their servers, and the OAuth code exchange of an instructor's
// login.
import { createHash } from 'node:crypto';
import { describeError } from '../../common/src/log.js';
import { hubTokenRequest, tokenAnswers } from '../../common/src/login-cookies.js';
import type { HubServer } from './rows.js';

export class HubUnavailable extends Error {}

export interface HubUser {
  name: string;
  admin: boolean;
  /** The scopes the token carries (what the hub answered for it). */
  scopes: readonly string[];
}

export interface HubListedUser {
  name: string;
  admin: boolean;
  servers: Record<string, HubServer>;
}

const HUB_TIMEOUT_MS = 10_000;
/** A stack posts every few seconds: its token's owner is asked again after this long (a deleted user stops within it). */
const TOKEN_ANSWER_MS = 60_000;
/** Tokens remembered: a room of 500 with a server token each, and more. */
const TOKEN_ANSWERS = 4096;
/** Questions to the hub about tokens at once; past that a post is answered 503 (its stack retries). */
const TOKEN_QUESTIONS = 16;
/** Users listed per request (the hub's own page limit, 200 by default, bounds it anyway). */
const PAGE = 200;

export interface HubClient {
  /** The user a token belongs to; null when the hub does not know it; HubUnavailable when it cannot say now. */
  whoIs(token: string): Promise<HubUser | null>;
  /** Every user of the hub, with their servers. */
  users(): Promise<HubListedUser[]>;
  /** The access token for an OAuth code, or null when the hub refuses the code. */
  exchangeCode(code: string): Promise<string | null>;
}

export function hubClient(options: {
  apiUrl: string;
  /** The service's own token (its OAuth client secret too). */
  apiToken: string;
  clientId: string;
  callbackUrl: string;
}): HubClient {
  const known = tokenAnswers<HubUser | null>(TOKEN_ANSWER_MS, TOKEN_ANSWERS);
  const asking = new Map<string, Promise<HubUser | null>>();

  async function call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(HUB_TIMEOUT_MS) });
    } catch (error) {
      throw new HubUnavailable(describeError(error));
    }
  }

  async function ask(token: string): Promise<HubUser | null> {
    const res = await call(`${options.apiUrl}/user`, { headers: { Authorization: `token ${token}` } });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new HubUnavailable(`hub answered ${res.status}`);
    }
    const body = (await res.json()) as { name?: unknown; admin?: unknown; scopes?: unknown; kind?: unknown };
    // A service's token is no attendee.
    if (typeof body.name !== 'string' || body.kind === 'service') return null;
    const scopes = Array.isArray(body.scopes) ? body.scopes.filter((s): s is string => typeof s === 'string') : [];
    return { name: body.name, admin: body.admin === true, scopes };
  }

  return {
    async whoIs(token) {
      const answer = known.get(token);
      if (answer && Date.now() - answer.at < TOKEN_ANSWER_MS) return answer.value;
      const key = createHash('sha256').update(token).digest('base64url');
      const pending = asking.get(key);
      if (pending) return pending;
      if (asking.size >= TOKEN_QUESTIONS) throw new HubUnavailable('too many questions to the hub at once');
      const question = ask(token).finally(() => asking.delete(key));
      asking.set(key, question);
      const user = await question;
      known.set(token, user);
      return user;
    },

    async users() {
      const all: HubListedUser[] = [];
      for (let offset = 0; ; offset += PAGE) {
        const res = await call(`${options.apiUrl}/users?state=&offset=${offset}&limit=${PAGE}`, {
          headers: { Authorization: `token ${options.apiToken}`, Accept: 'application/json' },
        });
        if (!res.ok) {
          await res.body?.cancel();
          throw new HubUnavailable(`hub answered ${res.status} for the users`);
        }
        const page = (await res.json()) as unknown;
        const items = Array.isArray(page) ? page : ((page as { items?: unknown }).items ?? []);
        if (!Array.isArray(items)) throw new HubUnavailable('hub answered the users without a list');
        for (const item of items as Record<string, unknown>[]) {
          if (typeof item.name !== 'string') continue;
          const servers =
            item.servers && typeof item.servers === 'object' ? (item.servers as Record<string, HubServer>) : {};
          all.push({ name: item.name, admin: item.admin === true, servers });
        }
        if (items.length < PAGE) return all;
      }
    },

    async exchangeCode(code) {
      const request = hubTokenRequest(options, code);
      const res = await call(request.url, {
        method: 'POST',
        body: request.body,
      });
      if (res.status >= 500) throw new HubUnavailable(`hub answered ${res.status}`);
      if (!res.ok) {
        await res.body?.cancel();
        return null;
      }
      const body = (await res.json()) as { access_token?: unknown };
      return typeof body.access_token === 'string' ? body.access_token : null;
    },
  };
}
