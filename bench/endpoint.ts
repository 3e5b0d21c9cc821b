// Where a headless page connects: straight to the terminal server, or through
// the auth proxy in front of it (in this process, with basic authentication, so
// every upgrade is checked as one behind a login is).
import { startAuthProxy } from '../test/harness/servers.js';

export type Route = 'direct' | 'proxy';

export interface Endpoint {
  route: Route;
  socketUrl(name: string): string;
  /** Headers for the WebSocket upgrade: the proxy's credentials. */
  headers: Record<string, string>;
  /** Stops what was started for this endpoint (the proxy); the terminal server stays. */
  close(): Promise<void>;
}

const USER = 'bench';
const PASSWORD = 'bench password';

/** An endpoint for the terminal server listening on `terminal.port`. */
export async function openEndpoint(
  route: Route,
  terminal: { port: number; socketUrl(name: string): string },
): Promise<Endpoint> {
  if (route === 'direct') {
    return { route, socketUrl: (name) => terminal.socketUrl(name), headers: {}, close: async () => {} };
  }
  const proxy = await startAuthProxy({ AUTH_USERNAME: USER, AUTH_PASSWORD: PASSWORD }, terminal.port);
  // Logged in once, like a browser: later upgrades carry the cookie that spares them the guess count.
  const authorization = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const login = await fetch(`${proxy.base}/terminal/`, {
    headers: { Authorization: authorization },
    redirect: 'manual',
  });
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0];
  if (!cookie) throw new Error(`logging in to the auth proxy answered ${login.status} without a cookie`);
  return {
    route,
    socketUrl: (name) => proxy.socketUrl(name),
    headers: { Authorization: authorization, Cookie: cookie },
    close: () => proxy.close(),
  };
}
