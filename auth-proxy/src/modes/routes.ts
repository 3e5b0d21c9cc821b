// The routes of the modes that log people in through the browser (the OAuth
// handshake and callback, logout), with express: req.query, res.redirect and
// what passport expects. Only those modes load this (and express); the proxy
// itself is plain node:http.
import express, { type Router } from 'express';
import type { RequestHandler } from './types.js';

/** The routes `mount` adds (paths relative to the prefix); a request none of them answers goes on to the proxy. */
export function modeRoutes(prefix: string, mount: (router: Router) => void): RequestHandler {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Paths compare with their case, as everywhere else (common/src/prefix.ts): express would ignore it.
  app.enable('case sensitive routing');
  const router = express.Router({ caseSensitive: true });
  mount(router);
  app.use(prefix || '/', router);
  // An express app is itself a handler (req, res, next): next is called for what it does not answer.
  return app as unknown as RequestHandler;
}
