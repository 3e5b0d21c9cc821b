// One logger for every process: one line per event on stdout (errors and
// warnings on stderr), `time level component event key=value ...`.
// Callers pass fields; secrets are never passed, so nothing here filters them.
import type { LogLevel } from './config.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(event: string, fields?: Fields): void;
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
  child(component: string): Logger;
}

function formatValue(value: string | number | boolean | null): string {
  const text = String(value);
  // Quote anything that would break the key=value shape or span lines.
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}

export function createLogger(component: string, level: LogLevel = 'info'): Logger {
  const threshold = ORDER[level];
  const write = (lvl: LogLevel, event: string, fields?: Fields) => {
    if (ORDER[lvl] < threshold) return;
    let line = `${new Date().toISOString()} ${lvl} ${component} ${event}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
      }
    }
    (ORDER[lvl] >= ORDER.warn ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (name) => createLogger(`${component}.${name}`, level),
  };
}

/** A short description of an error for a log line: its code and message, no stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

export interface RepeatLimit {
  /** Logs the event unless this key has already logged `burst` events in the current window; then counts it. */
  log(level: LogLevel, key: string, event: string, fields?: Fields): void;
  /** Writes the count of what this key left unlogged (when anything), and forgets the key. */
  flush(key: string): void;
}

/**
 * Keeps repeated events from one source (a client, a connection) from filling
 * the log: the first `burst` in each window are written, the rest are counted
 * and written as one `<event>.repeated count=N` line when the window ends.
 * At most `maxKeys` sources are remembered; the oldest are summed up first.
 */
export function repeatLimit(
  logger: Logger,
  options: { burst: number; windowMs: number; maxKeys?: number },
): RepeatLimit {
  const maxKeys = options.maxKeys ?? 10_000;
  const keys = new Map<
    string,
    { start: number; logged: number; suppressed: number; level: LogLevel; event: string; fields?: Fields }
  >();
  let timer: NodeJS.Timeout | undefined;

  function flush(key: string): void {
    const entry = keys.get(key);
    if (!entry) return;
    keys.delete(key);
    if (entry.suppressed > 0) {
      logger[entry.level](`${entry.event}.repeated`, { ...entry.fields, count: entry.suppressed });
    }
  }

  function sweep(): void {
    const now = Date.now();
    for (const [key, entry] of keys) if (now - entry.start >= options.windowMs) flush(key);
    if (keys.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  }

  return {
    log(level, key, event, fields) {
      let entry = keys.get(key);
      if (entry && Date.now() - entry.start >= options.windowMs) {
        flush(key);
        entry = undefined;
      }
      if (!entry) {
        entry = { start: Date.now(), logged: 0, suppressed: 0, level, event, fields };
        keys.set(key, entry);
        if (keys.size > maxKeys) flush(keys.keys().next().value as string);
        if (!timer) {
          timer = setInterval(sweep, options.windowMs);
          timer.unref();
        }
      }
      if (entry.logged < options.burst) {
        entry.logged++;
        logger[level](event, fields);
        return;
      }
      entry.suppressed++;
      entry.level = level;
      entry.event = event;
      entry.fields = fields;
    },
    flush,
  };
}
