// A browser without a browser, for login flows: keeps cookies (by name, for
// every host) and follows redirects, over http or https.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

/** Name resolution as browsers do it: every *.localhost is this machine, never asked of DNS. */
export const browserLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    dns.lookup(hostname, options, callback as never);
    return;
  }
  if (options.all) (callback as (e: null, a: dns.LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

export interface BrowseResult {
  status: number;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Every URL visited, in order. */
  visited: string[];
}

/** A browser without a browser: keeps cookies (by name) and follows redirects. */
export class CookieClient {
  readonly cookies = new Map<string, string>();

  /** `ca`: a CA to trust for https URLs (a simulated server's own). */
  constructor(private readonly options: { ca?: string } = {}) {}

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(headers: http.IncomingHttpHeaders): void {
    for (const line of headers['set-cookie'] ?? []) {
      const [pair, ...attributes] = line.split(';');
      const at = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, at).trim();
      const value = (pair ?? '').slice(at + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '' || value === '""') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** Every URL this client has visited. */
  readonly history: string[] = [];

  async get(
    url: string,
    options: {
      method?: string;
      form?: Record<string, string> | [string, string][];
      follow?: boolean;
      referer?: string;
    } = {},
  ): Promise<BrowseResult> {
    const visited: string[] = [];
    let current = url;
    let method = options.method ?? 'GET';
    let body = options.form ? new URLSearchParams(options.form).toString() : undefined;
    for (let hop = 0; hop < 15; hop++) {
      visited.push(current);
      this.history.push(current);
      const res = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
        (resolve, reject) => {
          const request = current.startsWith('https:') ? https.request : http.request;
          const req = request(
            current,
            {
              method,
              ca: this.options.ca,
              lookup: browserLookup,
              headers: {
                Cookie: this.cookieHeader(),
                ...(options.referer && hop === 0 ? { Referer: options.referer } : {}),
                ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
              },
            },
            (response) => {
              let text = '';
              response.setEncoding('utf8');
              response.on('data', (d) => {
                text += d;
              });
              response.on('end', () =>
                resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        },
      );
      this.keep(res.headers);
      const location = res.headers.location;
      if (options.follow === false || res.status < 300 || res.status >= 400 || !location) {
        return { ...res, url: current, visited };
      }
      current = new URL(location, current).href;
      method = 'GET';
      body = undefined;
    }
    throw new Error(`too many redirects: ${visited.join(' → ')}`);
  }

  /**
   * Opens a URL; when the hub asks to confirm an OAuth authorization (it does for
   * anyone but the server's owner), confirms it as a person would.
   */
  async open(url: string): Promise<BrowseResult> {
    const result = await this.get(url);
    if (result.status !== 200 || !result.url.includes('/hub/api/oauth2/authorize')) return result;
    const scopes = [...result.body.matchAll(/name="scopes" value="([^"]*)"/g)].map((m): [string, string] => [
      'scopes',
      m[1] as string,
    ]);
    // The hub takes the form only from its own page.
    const confirmed = await this.get(result.url, { method: 'POST', form: scopes, referer: result.url });
    return { ...confirmed, visited: [...result.visited, ...confirmed.visited] };
  }

  /**
   * Logs in at JupyterHub (DummyAuthenticator takes any password); gives back where
   * the redirects led (for a user without a running server: the hub's spawn-pending page).
   */
  async logInToHub(hub: { url: string }, user: string): Promise<BrowseResult> {
    const res = await this.get(`${hub.url}/hub/login`, { method: 'POST', form: { username: user, password: 'any' } });
    if (res.status >= 400) throw new Error(`hub login as ${user}: ${res.status}`);
    return res;
  }
}
