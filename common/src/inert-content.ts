// Bytes an attendee could have written (workshop content, home files, their
// programs' output in an API answer) are shown, never run: the terminal server
// answers everything but its own two pages with a policy that gives the
// document a unique origin (sandbox without allow-same-origin) and no script.
// Such a document cannot use the terminal's cookies or sockets, nor, where
// every user's server shares one origin (JupyterHub without subdomains), a
// watcher's own terminal.
import type http from 'node:http';

/** The Content-Security-Policy of everything the terminal server answers but its own pages. */
export const INERT_POLICY = [
  'sandbox',
  "default-src 'none'",
  // An SVG, a text file or a video opened by itself may still show what it needs
  // from beside it (pictures, styles, fonts, media); nothing else loads.
  "img-src 'self' data:",
  "media-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
].join('; ');

/** Sets the inert policy on an answer (the terminal server does it for every request it gets). */
export function markInert(res: http.ServerResponse): void {
  res.setHeader('Content-Security-Policy', INERT_POLICY);
  // A type that cannot run is never guessed into one that can.
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/**
 * Marks an answer as one of our own pages (the terminal's, the dashboard's):
 * not inert; the auth proxy's policy, which lets only our bundles run, applies.
 */
export function markOwnPage(res: http.ServerResponse): void {
  res.removeHeader('Content-Security-Policy');
}
