// What tells a request of this terminal's own pages from one a page of another
// site makes: the Host the browser asked for (DNS rebinding) and the Origin of
// a WebSocket (cross-site WebSocket hijacking).
import net from 'node:net';
import type { ClientInfo } from './client-info.js';

/** The host name of a Host header value: no port, no IPv6 brackets, lower case, no final dot. */
export function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  const name = trimmed.startsWith('[') ? trimmed.slice(1, trimmed.indexOf(']')) : trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

/**
 * Which Host names the terminal answers to without authentication. A page of
 * any site can make its own name resolve to 127.0.0.1; its requests then carry
 * that name, while the terminal's own pages use an address, localhost, the
 * public URL's host or a name listed in ALLOWED_HOSTS.
 */
export function hostAllowList(options: {
  allowedHosts: readonly string[];
  publicUrl: string;
}): (host: string) => boolean {
  if (options.allowedHosts.includes('*')) return () => true;
  const exact = new Set(options.allowedHosts.filter((h) => !h.startsWith('.')).map((h) => h.replace(/\.$/, '')));
  const domains = options.allowedHosts.filter((h) => h.startsWith('.')).map((h) => h.replace(/\.$/, ''));
  if (options.publicUrl) exact.add(hostName(new URL(options.publicUrl).host));
  return (host) => {
    const name = hostName(host);
    if (name === '') return false;
    if (net.isIP(name) !== 0) return true;
    // Browsers resolve localhost and its subdomains to the machine itself, never through DNS.
    if (name === 'localhost' || name.endsWith('.localhost')) return true;
    return exact.has(name) || domains.some((domain) => name.endsWith(domain) || name === domain.slice(1));
  };
}

/** True when `origin` is the scheme, host and port the browser used to reach us (or one listed). */
export function originAllowed(origin: string | undefined, client: ClientInfo, allowed: readonly string[]): boolean {
  if (origin === undefined) return true; // not a browser: it has no ambient credentials to abuse
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).origin === new URL(`${client.protocol}://${client.host}`).origin;
  } catch {
    return false;
  }
}
