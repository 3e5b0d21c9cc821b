// What the auth proxy keeps about logins beyond the cookie itself (which is in
// common/src/login-cookies.ts, shared with the room service, and re-exported
// here): cookie names per prefix, the bound on logins in progress, and the
// logouts that must outlive the cookies they ended.
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export {
  type CookieJar,
  encryptedCookie,
  hubLoginCookies,
  hubTokenRequest,
  LOGIN_STATE_LIFETIME_MS,
  MAX_REMEMBERED_LOGINS,
  safeNext,
  sameText,
  sessionSecrets,
  shapeOf,
  type TokenAnswer,
  tokenAnswers,
  usedStates,
} from '../../common/src/login-cookies.js';

/** A cookie name of our own that differs for each prefix, so two terminals on one host never share a login. */
export function cookieNameFor(prefix: string, purpose: string): string {
  return `workshop-terminal-${purpose}-${createHash('sha256').update(prefix).digest('hex').slice(0, 10)}`;
}

/**
 * Bounds the logins in progress, each of which asks the login server
 * something (discovery, the token exchange, who the user is). Past the bound a
 * login is refused at once instead of queueing work on the server and here.
 */
export function loginLimit(max: number): {
  /** A slot (its release function, safe to call more than once), or null when all are taken. */
  enter(): (() => void) | null;
} {
  let inFlight = 0;
  return {
    enter() {
      if (inFlight >= max) return null;
      inFlight++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight--;
      };
    },
  };
}

export interface RevokedLogins {
  /** True when a logout ended the login holding this token. */
  has(token: string): boolean;
  /** Ends the login holding this token, remembered until `until` (ms), when every cookie holding it has expired. */
  add(token: string, until: number): void;
}

/**
 * Logins ended by a logout. A cookie cannot be taken back from its copies, and
 * the token inside may not be revocable by us, so the proxy refuses the token
 * itself until every cookie holding it would have expired. Kept as digests of
 * the tokens, in a file of the proxy's own (mode 0600) when one is given, so a
 * logout outlives a restart just as a login does. Only a valid login cookie
 * adds an entry, one per login, so the list grows no faster than logins do.
 */
export function revokedLogins(options: {
  /** Where the list is kept; null: in memory only (logins end with the process anyway). */
  file: string | null;
  /** Told when the file cannot be read or written (the list still works in memory). */
  onError(action: 'read' | 'write', error: unknown): void;
}): RevokedLogins {
  const revoked = new Map<string, number>();
  const digest = (token: string) =>
    createHash('sha256').update(`workshop-terminal logout\0${token}`).digest('base64url');
  const { file } = options;
  let linesInFile = 0;

  const prune = (now: number) => {
    for (const [key, until] of revoked) if (until <= now) revoked.delete(key);
  };
  const line = (key: string, until: number) => `${key} ${until}\n`;

  /** Writes only the live entries, replacing the file in one step. */
  function rewrite(): void {
    if (!file) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, [...revoked].map(([key, until]) => line(key, until)).join(''), { mode: 0o600 });
      renameSync(temporary, file);
      linesInFile = revoked.size;
    } catch (error) {
      options.onError('write', error);
    }
  }

  if (file) {
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') options.onError('read', error);
    }
    if (text !== null) {
      const now = Date.now();
      for (const entry of text.split('\n')) {
        const match = /^([A-Za-z0-9_-]{43}) (\d{1,15})$/.exec(entry);
        if (match && Number(match[2]) > now) revoked.set(match[1] as string, Number(match[2]));
      }
      // Drops what has expired (and anything unreadable) at each start.
      rewrite();
    }
  }

  return {
    has(token) {
      const until = revoked.get(digest(token));
      return until !== undefined && until > Date.now();
    },
    add(token, until) {
      const key = digest(token);
      if (revoked.has(key)) return;
      const now = Date.now();
      prune(now);
      revoked.set(key, until);
      if (!file) return;
      if (linesInFile > 2 * revoked.size + 64) {
        rewrite();
        return;
      }
      try {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        appendFileSync(file, line(key, until), { mode: 0o600 });
        linesInFile++;
      } catch (error) {
        options.onError('write', error);
      }
    },
  };
}
