// Where the browser finds an app the attendee runs in this container: through the
// auth proxy's port route, `<prefix>/port/<n>/…` (auth-proxy/src/app-ports.ts), on
// the dashboard's own origin. A tab names it `port:8080/path`; a workshop written
// for Educates names it by its session ingress (`session.ingresses`: name and
// port), whose URL Educates builds as
// `$(ingress_protocol)://<name>-$(session_name).$(ingress_domain)` (or the older
// `$(session_name)-<name>.…`): such a URL becomes the same path here.
import type { Variables } from './variables.js';

/** A session ingress to a port of this container. */
export interface Ingress {
  name: string;
  port: number;
}

/** The route under the prefix where the auth proxy serves the apps (app-ports.ts APP_ROUTE). */
const APP_ROUTE = '/port';

/** `port:<n>` and what follows it: a path, a query or a fragment. */
const PORT_URL = /^port:(\d{1,5})([/?#].*)?$/;

/** A port 1 to 65535 written without a leading zero; null otherwise. */
export function portNumber(text: string): number | null {
  if (!/^[1-9]\d{0,4}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

export type AppUrl = { url: string } | { problem: string } | null;

/**
 * The path a tab's URL leads to when it is an app of this container: `port:<n>…`
 * or an ingress's URL; a problem for a `port:` URL that names no port; null for
 * any other URL (left as it is).
 */
export function appUrl(url: string, ingresses: readonly Ingress[], variables: Variables): AppUrl {
  const prefix = variables.get('base_url') ?? '';
  if (url.startsWith('port:')) {
    const match = PORT_URL.exec(url);
    const port = portNumber(match?.[1] ?? '');
    if (!match || port === null) return { problem: 'port:<n> takes a port from 1 to 65535, like port:8080/' };
    const rest = match[2] ?? '/';
    return { url: `${prefix}${APP_ROUTE}/${port}${rest.startsWith('/') ? rest : `/${rest}`}` };
  }
  const ingress = ingressOf(url, ingresses, variables);
  if (!ingress) return null;
  const parsed = new URL(url);
  return { url: `${prefix}${APP_ROUTE}/${ingress.port}${parsed.pathname}${parsed.search}${parsed.hash}` };
}

/** The ingress whose host Educates would give this URL, if any. */
function ingressOf(url: string, ingresses: readonly Ingress[], variables: Variables): Ingress | null {
  if (ingresses.length === 0) return null;
  let host: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
    host = parsed.hostname.toLowerCase();
  } catch {
    return null;
  }
  const session = (variables.get('session_name') ?? '').toLowerCase();
  const domain = (variables.get('ingress_domain') ?? '').toLowerCase();
  return (
    ingresses.find((ingress) => {
      const name = ingress.name.toLowerCase();
      return host === `${name}-${session}.${domain}` || host === `${session}-${name}.${domain}`;
    }) ?? null
  );
}
