// Entry point of the terminal server: config, the server with its mounts, signals. Nothing else.
import { createLogger, describeError } from '../../common/src/log.js';
import { pageAssetsDir } from '../../common/src/paths.js';
import { configOrExit, settleMemory, stopOnSignals } from '../../common/src/process.js';
import { terminalMounts } from './mounts.js';
import { createTerminalServer } from './server.js';

const config = configOrExit('terminal-server');

const logger = createLogger('terminal-server', config.logLevel);
let server: ReturnType<typeof createTerminalServer>;
try {
  const assetsDir = pageAssetsDir();
  server = createTerminalServer({
    config,
    logger,
    assetsDir,
    mounts: terminalMounts({ config, logger, assetsDir }),
  });
  await server.listen();
} catch (error) {
  logger.error('start.failed', { reason: describeError(error) });
  process.exit(1);
}

// Shells get 3 s to end after their hang-up (then SIGKILL); pm2 waits a little longer.
stopOnSignals(logger, () => server.close(), 4000);

// What starting up used (and the workshop's rendering libraries) is given back now.
server.ready.then(settleMemory);
