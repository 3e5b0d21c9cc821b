// Entry point of the auth proxy: config, auth mode, server, signals. Nothing else.
import { ConfigError, loadConfig } from '../../common/src/config.js';
import { createLogger, describeError } from '../../common/src/log.js';
import { startActivityReporter } from './hub-activity.js';
import { createAuthMode } from './modes/index.js';
import { createAuthProxy } from './server.js';

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  for (const problem of error.problems) process.stderr.write(`auth-proxy: ${problem}\n`);
  process.exit(2);
}

const logger = createLogger('auth-proxy', config.logLevel);
let proxy: ReturnType<typeof createAuthProxy>;
try {
  const mode = createAuthMode(config, logger);
  const fields = { mode: mode.name, reason: config.authMode.reason, description: mode.describe() };
  if (mode.name === 'none' && config.authMode.reason === 'no authentication is configured') {
    logger.warn('auth.mode', { ...fields, hint: 'set AUTH_USERNAME and AUTH_PASSWORD, or AUTH_USERNAME=* to silence' });
  } else {
    logger.info('auth.mode', fields);
  }
  proxy = createAuthProxy({ config, logger, mode });
  await proxy.listen();
  if (mode.name === 'jupyterhub' && config.hubActivityUrl) {
    startActivityReporter({
      statusUrl: `http://127.0.0.1:${config.terminalPort}${config.prefix}/terminal/api/status`,
      activityUrl: config.hubActivityUrl,
      apiToken: config.hubApiToken,
      serverName: config.hubServerName,
      intervalMs: config.activityIntervalSeconds * 1000,
      logger: logger.child('activity'),
    });
  }
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
    proxy.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
    // Open WebSockets do not hold up a stop.
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
