// What tells a request of this terminal's own pages from one another site's
// page makes, in the terminal server (behind the auth proxy, which passes the
// browser's Origin, Host and Sec-Fetch-Site on as they came).
import type http from 'node:http';

/** Why a state-changing request is refused as cross-site, or null when it comes from a page of this terminal. */
export function crossSiteRefusal(req: http.IncomingMessage): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `a request from another site (${site})`;
  const origin = req.headers.origin;
  // Browsers send Origin with every POST; a request without one is not from our page.
  if (!origin) return 'no Origin header';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return 'a malformed Origin';
  }
  // The Host the browser used, which the auth proxy passes on (and names in X-Forwarded-Host).
  const forwarded = String(req.headers['x-forwarded-host'] ?? '')
    .split(',')[0]
    ?.trim();
  if (host !== req.headers.host && host !== forwarded) return 'a request from another origin';
  return null;
}
