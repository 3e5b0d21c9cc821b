// The link between the auth proxy and the terminal server: where the terminal
// server listens, and the shared secret (TERMINAL_SERVER_TOKEN) it wants on
// every request, so that only the auth proxy gets anything from it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { Access } from './protocol.js';

/** The header the auth proxy sends the token in. */
export const TERMINAL_TOKEN_HEADER = 'x-terminal-server-token';

/**
 * The header a terminal server's page names the origins it frames in (the
 * dashboard's console and tabs); the auth proxy makes it the page's CSP
 * frame-src and does not pass it on.
 */
export const FRAME_SOURCES_HEADER = 'x-terminal-frame-sources';

/**
 * Where the terminal server serves its pages' bundles, under the prefix: the
 * only folders the auth proxy's policy lets scripts come from. The editor's is
 * imported by the dashboard (its Editor tab) and by its own page.
 */
export const BUNDLE_FOLDERS = ['/terminal/assets/', '/dashboard/assets/', '/editor/assets/'] as const;

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

/**
 * Where the terminal server listens and the auth proxy finds it: a Unix socket
 * (the stack's default, in a folder only its user can open, and no port for
 * stacks on one host to fight over), or a port on 127.0.0.1.
 */
export type TerminalAddress = { socketPath: string } | { host: '127.0.0.1'; port: number };

/**
 * How long the auth proxy waits for the terminal server's answer to one
 * request. Whatever answers slowly (a workshop's check) must finish within it,
 * or the browser gets a 504 while the work goes on, holding its slot.
 */
export const PROXY_TIMEOUT_MS = 60_000;

/**
 * How long the terminal server keeps an idle connection from the auth proxy
 * open; the proxy stops reusing one well before, so that it never sends a
 * request on a connection being closed.
 */
export const TERMINAL_KEEP_ALIVE_MS = 30_000;
export const PROXY_KEEP_ALIVE_MS = TERMINAL_KEEP_ALIVE_MS - 5_000;

/** The original image's port, for a terminal server or auth proxy started alone. */
export const DEFAULT_TERMINAL_PORT = 10081;

export function terminalAddress(config: { terminalSocket: string; terminalPort: number | null }): TerminalAddress {
  if (config.terminalSocket) return { socketPath: config.terminalSocket };
  return { host: '127.0.0.1', port: config.terminalPort ?? DEFAULT_TERMINAL_PORT };
}

/** For log lines. */
export function describeAddress(address: TerminalAddress): string {
  return 'socketPath' in address ? `unix:${address.socketPath}` : `${address.host}:${address.port}`;
}

/** Options for an http request to the terminal server (add `path`): where it is, and the token. */
export function terminalRequest(address: TerminalAddress, token: string): http.RequestOptions {
  return { ...address, headers: token ? { [TERMINAL_TOKEN_HEADER]: token } : {} };
}

/**
 * Who made a request, as the auth proxy decided: it sets these headers on every
 * request and upgrade it passes on (replacing any a client sent), and the
 * terminal server acts on them. Values are percent-encoded.
 */
export const REQUESTER_HEADERS = {
  user: 'x-terminal-user',
  access: 'x-terminal-access',
  owner: 'x-terminal-owner',
  sharedOrigin: 'x-terminal-shared-origin',
} as const;

export interface Requester {
  /** '' when the proxy knows nobody (no login). */
  user: string;
  access: Access;
  /** Whose terminal this is, to show viewers ('' when not known). */
  owner: string;
  /** Whether other people's servers share this terminal's web origin (see AuthMode.sharedOrigin), to tell viewers. */
  sharedOrigin: boolean;
}

export function requesterHeaders(requester: Requester): Record<string, string> {
  return {
    [REQUESTER_HEADERS.user]: encodeURIComponent(requester.user),
    [REQUESTER_HEADERS.access]: requester.access,
    [REQUESTER_HEADERS.owner]: encodeURIComponent(requester.owner),
    [REQUESTER_HEADERS.sharedOrigin]: requester.sharedOrigin ? 'true' : 'false',
  };
}

/**
 * The requester the proxy named. Without the headers (the terminal server used
 * on its own, its port reachable only as the proxy's is): the owner. Anything
 * but exactly "owner" is a viewer: a mistake never gives more.
 */
export function readRequester(req: http.IncomingMessage): Requester {
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const access = header(REQUESTER_HEADERS.access);
  if (access === undefined) return { user: '', access: 'owner', owner: '', sharedOrigin: false };
  return {
    user: decodeHeader(header(REQUESTER_HEADERS.user)),
    access: access === 'owner' ? 'owner' : 'viewer',
    owner: decodeHeader(header(REQUESTER_HEADERS.owner)),
    // Anything but exactly "false" counts as shared: a mistake never hides the notice.
    sharedOrigin: header(REQUESTER_HEADERS.sharedOrigin) !== 'false',
  };
}

function decodeHeader(value: string | undefined): string {
  try {
    return decodeURIComponent(value ?? '').slice(0, 256);
  } catch {
    return '';
  }
}
