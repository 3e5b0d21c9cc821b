// Tells JupyterHub when the terminal was last used, so its idle culler stops
// idle terminals and leaves busy ones alone. Asks the terminal server for its
// last input or output now and then, and reports only when that moved: an idle
// terminal reports nothing.
import http from 'node:http';
import { describeError, type Logger } from '../../common/src/log.js';

export interface ActivityReporterOptions {
  /** A request for the terminal server's status (its /terminal/api/status): where, path and token. */
  status: http.RequestOptions;
  activityUrl: string;
  apiToken: string;
  serverName: string;
  intervalMs: number;
  logger: Logger;
}

const TIMEOUT_MS = 10_000;

export function startActivityReporter(options: ActivityReporterOptions): { stop(): void } {
  let reported = 0;
  let running = false;

  async function tick(): Promise<void> {
    if (running) return;
    running = true;
    try {
      const last = await lastActivity(options.status);
      if (last === null || last <= reported) return;
      const when = new Date(last).toISOString();
      const res = await fetch(options.activityUrl, {
        method: 'POST',
        headers: { Authorization: `token ${options.apiToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ servers: { [options.serverName]: { last_activity: when } }, last_activity: when }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`hub answered ${res.status}`);
      reported = last;
      options.logger.debug('activity.reported', { last_activity: when });
    } catch (error) {
      // Tried again at the next tick; the hub being away never stops the terminal.
      options.logger.warn('activity.not_reported', { reason: describeError(error) });
    } finally {
      running = false;
    }
  }

  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function lastActivity(status: http.RequestOptions): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const req = http.get({ ...status, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => {
        try {
          const value = (JSON.parse(body) as { lastActivity?: string | null }).lastActivity;
          resolve(value ? Date.parse(value) : null);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('terminal server status timed out')));
    req.on('error', reject);
  });
}
