// The answers the proxy writes itself: text, pages, redirects, refusals, errors.
import http from 'node:http';
import { HttpError } from '../../common/src/http-error.js';
import { send } from '../../common/src/http-send.js';
import { describeError, type Logger } from '../../common/src/log.js';
import type { Refusal } from './admission.js';
import { messagePage, type Page } from './pages.js';

export function sendText(req: http.IncomingMessage, res: http.ServerResponse, status: number, text: string): void {
  send(
    res,
    status,
    text,
    { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    req.method === 'HEAD',
  );
}

export function sendHtml(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  status: number,
  page: Page,
  headers: http.OutgoingHttpHeaders,
): void {
  send(
    res,
    status,
    messagePage(page),
    { 'Content-Type': 'text/html; charset=utf-8', ...headers },
    req.method === 'HEAD',
  );
}

export function redirect(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  location: string,
  headers: http.OutgoingHttpHeaders,
): void {
  const target = encodeLocation(location);
  send(
    res,
    302,
    `Found. Redirecting to ${target}`,
    { 'Content-Type': 'text/plain; charset=utf-8', ...headers, Location: target },
    req.method === 'HEAD',
  );
}

/** An HTTP request that admission refused: a redirect to log in, or a page saying why. */
export function answerRefusal(req: http.IncomingMessage, res: http.ServerResponse, refusal: Refusal): void {
  const headers = { 'Cache-Control': 'no-store', ...refusal.headers };
  if (refusal.status === 302 && refusal.location !== undefined) {
    redirect(req, res, refusal.location, headers);
    return;
  }
  sendHtml(req, res, refusal.status, refusal.page ?? refusalPage(refusal), headers);
}

function refusalPage(refusal: Refusal): Page {
  switch (refusal.status) {
    case 400:
    case 404:
      return { title: http.STATUS_CODES[refusal.status] ?? 'Error', message: refusal.reason };
    case 401:
      return { title: 'Log in to use this terminal', message: 'This terminal needs a user name and password.' };
    case 429:
      return { title: 'Too many login attempts', message: 'Wait a minute, then try again.' };
    case 503:
      return { title: 'Cannot check your login right now', message: refusal.reason, retrySeconds: 5 };
    default:
      return {
        title: 'Not your terminal',
        message: refusal.reason,
        ...(refusal.logout ? { link: { href: refusal.logout, text: 'Log out' } } : {}),
      };
  }
}

/** The one final handler of HTTP requests: an HttpError is its answer; anything else is our bug, logged. */
export function answerError(req: http.IncomingMessage, res: http.ServerResponse, error: unknown, logger: Logger): void {
  const status = error instanceof HttpError ? error.status : 500;
  if (status >= 500) logger.error('http.failed', { path: req.url?.slice(0, 200), reason: describeError(error) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const message = error instanceof HttpError ? error.message : 'Something went wrong on our side.';
  sendHtml(req, res, status, { title: http.STATUS_CODES[status] ?? 'Error', message }, {});
}

/** A URL as a Location header may carry it: what is not allowed in a URL percent-encoded, escapes left as they are. */
function encodeLocation(url: string): string {
  return url
    .replace(/(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]|[\uD800-\uDBFF]([^\uDC00-\uDFFF]|$)/g, '$1\uFFFD$2')
    .replace(
      /(?:[^\x21\x23-\x3B\x3D\x3F-\x5F\x61-\x7A\x7C\x7E]|%(?:[^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|$))+/g,
      encodeURI,
    );
}
