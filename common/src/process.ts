// What every entry point does around its own work: read the configuration
// (stopping with one line per bad variable), and stop cleanly on a signal.
import { type Config, ConfigError, loadConfig } from './config.js';
import { describeError, type Logger } from './log.js';

/** The configuration, or exit code 2 with each problem on its own line, named after `program`. */
export function configOrExit(program: string): Config {
  try {
    return loadConfig();
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
