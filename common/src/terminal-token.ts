// The shared secret between the auth proxy and the terminal server
// (TERMINAL_SERVER_TOKEN): other local users can reach 127.0.0.1 too, so with
// a token set the terminal server answers only requests that carry it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

/** The header the auth proxy sends the token in. */
export const TERMINAL_TOKEN_HEADER = 'x-terminal-server-token';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A check of requests against the token (constant time); every request passes when there is none. */
export function tokenCheck(token: string): (req: http.IncomingMessage) => boolean {
  if (!token) return () => true;
  const expected = digest(token);
  return (req) => {
    const given = req.headers[TERMINAL_TOKEN_HEADER];
    return typeof given === 'string' && timingSafeEqual(digest(given), expected);
  };
}
