// Entry point of the terminal server: config, server, signals. Nothing else.
import { ConfigError, loadConfig } from '../../common/src/config.js';
import { createLogger, describeError } from '../../common/src/log.js';
import { pageAssetsDir } from '../../common/src/paths.js';
import { createTerminalServer } from './server.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) process.stderr.write(`terminal-server: ${problem}\n`);
  process.exit(2);
}

const logger = createLogger('terminal-server', config.logLevel);
let server: ReturnType<typeof createTerminalServer>;
try {
  server = createTerminalServer({ config, logger, assetsDir: pageAssetsDir() });
  await server.listen();
} catch (error) {
  logger.error('start.failed', { reason: describeError(error) });
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    server.close().then(
      () => process.exit(0),
      (error) => {
        logger.error('stop.failed', { reason: describeError(error) });
        process.exit(1);
      },
    );
  });
}
