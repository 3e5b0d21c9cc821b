// What every entry point does around its own work: read the configuration
// (stopping with one line per bad variable), give back what starting up used,
// and stop cleanly on a signal.
import { type Config, ConfigError, type ConfigRule, loadConfig } from './config.js';
import { describeError, type Logger } from './log.js';

/** The configuration (checked by `rules` too), or exit code 2 with each problem on its own line, named after `program`. */
export function configOrExit(program: string, rules: readonly ConfigRule[] = []): Config {
  try {
    return loadConfig(process.env, rules);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${program}: ${problem}\n`);
    process.exit(2);
  }
}

/** Runs `stop` on SIGTERM or SIGINT (once), then exits 0; exits anyway after `graceMs`. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, graceMs: number): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      stop().then(
        () => process.exit(0),
        (error) => {
          logger.error('stop.failed', { reason: describeError(error) });
          process.exit(1);
        },
      );
      setTimeout(() => process.exit(0), graceMs).unref();
    });
  }
}

/**
 * Once a process has started (modules loaded, a workshop rendered, listening):
 * one full collection that also shrinks V8's heap, as its memory reducer does
 * after a while of quiet (or never, if nothing sets it off), so that an idle
 * process holds only what it uses from the start. Asked of V8 through the
 * in-process inspector (HeapProfiler.collectGarbage); a Node built without
 * the inspector simply skips it.
 */
export async function settleMemory(): Promise<void> {
  try {
    const { Session } = await import('node:inspector');
    const session = new Session();
    session.connect();
    await new Promise<void>((resolve) => session.post('HeapProfiler.collectGarbage', () => resolve()));
    session.disconnect();
  } catch {
    // No inspector: V8 gets there by itself, later.
  }
}
