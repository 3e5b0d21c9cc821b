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
