// The Content-Security-Policy of every answer: the proxy's own, and the pages
// behind it. Scripts only from our bundle folders on the host the browser used
// (not from all of 'self', where an attendee's files and, on a hub's shared
// origin, other users' servers are too); frames only 'self' and the origins a
// page names.
import type http from 'node:http';
import { BUNDLE_FOLDERS, FRAME_SOURCES_HEADER } from '../../common/src/terminal-link.js';

export interface PolicyOptions {
  prefix: string;
  /** FRAME_ANCESTORS: who may frame our pages. */
  frameAncestors: string;
}

/** Our policy for a page reached on `host`, framing `frameOrigins` besides 'self'. */
export function contentSecurityPolicy(
  options: PolicyOptions,
  host: string,
  frameOrigins: readonly string[] = [],
): string {
  return [
    "default-src 'self'",
    `script-src ${scriptSources(host, options.prefix)}`,
    // xterm.js adds <style> elements for its renderers.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    `frame-ancestors ${options.frameAncestors}`,
    "base-uri 'self'",
    "form-action 'self'",
    "object-src 'none'",
    ...(frameOrigins.length > 0 ? [`frame-src 'self' ${frameOrigins.join(' ')}`] : []),
  ].join('; ');
}

/** The headers every answer of the proxy's own carries. */
export function setSecurityHeaders(res: http.ServerResponse, options: PolicyOptions, host: string): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(options, host));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
}

/**
 * Puts our policy on an answer from the terminal server. It names the origins a
 * page of its frames (the dashboard: its console and tabs): that page may frame
 * exactly those. A policy of the terminal server's own is kept: http-proxy would
 * copy it over ours (setHeader), losing frame-ancestors and our script-src. One
 * that makes the document opaque (sandbox without allow-same-origin: attendees'
 * files, a workshop's slides) decides alone what runs there, since nothing that
 * runs can reach our origin, with our frame-ancestors beside it; any other is
 * sent beside ours, each enforced, so it can only narrow ours.
 */
export function setProxiedPolicy(
  proxyRes: http.IncomingMessage,
  res: http.ServerResponse,
  options: PolicyOptions,
  host: string,
): void {
  const named = proxyRes.headers[FRAME_SOURCES_HEADER];
  delete proxyRes.headers[FRAME_SOURCES_HEADER];
  const ours = contentSecurityPolicy(options, host, named === undefined ? [] : webOrigins(String(named)));
  const theirs = proxyRes.headers['content-security-policy'];
  delete proxyRes.headers['content-security-policy'];
  if (theirs === undefined) res.setHeader('Content-Security-Policy', ours);
  else if (typeof theirs === 'string' && opaque(theirs))
    res.setHeader('Content-Security-Policy', [theirs, `frame-ancestors ${options.frameAncestors}`]);
  else res.setHeader('Content-Security-Policy', [ours, ...[theirs].flat()]);
}

/**
 * The policy of an attendee's app on the terminal's origin: its scripts run, in an
 * origin of their own (no allow-same-origin), so they can use neither the
 * terminal's cookies nor its socket; framed only where our pages may be.
 */
export function appPolicy(options: PolicyOptions): string {
  return `sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; frame-ancestors ${options.frameAncestors}`;
}

/**
 * The script sources of our pages: the bundle folders, as host sources without a
 * scheme (so the page's own scheme, whatever a router in front terminates).
 */
export function scriptSources(host: string, prefix: string): string {
  // A name or an IPv4 address, with its port; nothing that could end the directive.
  if (/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host))
    return BUNDLE_FOLDERS.map((folder) => `${host}${prefix}${folder}`).join(' ');
  // A CSP source cannot name an IPv6 address: pages reached by one take scripts from their whole origin.
  if (/^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return "'self'";
  // No browser sends anything else.
  return "'none'";
}

/** Whether a policy (one, not a list) gives its document an origin of its own: sandbox without allow-same-origin. */
export function opaque(policy: string): boolean {
  if (policy.includes(',')) return false;
  const sandbox = policy
    .split(';')
    .map((directive) => directive.trim().toLowerCase().split(/\s+/))
    .filter((words) => words[0] === 'sandbox');
  return sandbox.length > 0 && sandbox.every((words) => !words.includes('allow-same-origin'));
}

/** The http(s) origins among space-separated words; anything else could widen the policy, and is dropped. */
function webOrigins(words: string): string[] {
  return words.split(/\s+/).filter((word) => {
    try {
      const url = new URL(word);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === word;
    } catch {
      return false;
    }
  });
}
