// Entry point of the auth proxy: config, auth mode, server, signals. Nothing else.
import { createLogger, describeError } from '../../common/src/log.js';
import { configOrExit, settleMemory, stopOnSignals } from '../../common/src/process.js';
import { terminalAddress, terminalRequest } from '../../common/src/terminal-link.js';
import { startActivityReporter } from './hub-activity.js';
import { AUTH_MODE_RULES, chooseAuthMode } from './modes/choice.js';
import { createAuthMode } from './modes/index.js';
import { createAuthProxy } from './server.js';

const config = configOrExit('auth-proxy', AUTH_MODE_RULES);
if (!config.terminalSocket && config.terminalPort === 0) {
  process.stderr.write(
    'auth-proxy: TERMINAL_PORT=0 cannot work here: the auth proxy must know the port the terminal server took (leave TERMINAL_PORT unset in the stack: it uses a private Unix socket)\n',
  );
  process.exit(2);
}

const logger = createLogger('auth-proxy', config.logLevel);
let proxy: ReturnType<typeof createAuthProxy>;
try {
  const mode = await createAuthMode(config, logger);
  const { reason } = chooseAuthMode(config);
  const fields = { mode: mode.name, reason, description: mode.describe() };
  if (mode.name === 'none' && reason === 'no authentication is configured') {
    logger.warn('auth.mode', { ...fields, hint: 'set AUTH_USERNAME and AUTH_PASSWORD, or AUTH_USERNAME=* to silence' });
  } else {
    logger.info('auth.mode', fields);
  }
  if (mode.name === 'none' && config.allowedHosts.includes('*')) {
    logger.warn('hosts.any', {
      hint: 'ALLOWED_HOSTS=*: any web page whose name resolves to this machine can open a shell here',
    });
  }
  proxy = createAuthProxy({ config, logger, mode });
  await proxy.listen();
  if (mode.name === 'jupyterhub' && config.hubActivityUrl) {
    startActivityReporter({
      status: {
        ...terminalRequest(terminalAddress(config), config.terminalToken),
        path: `${config.prefix}/terminal/api/status`,
      },
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

// Open WebSockets do not hold up a stop.
stopOnSignals(logger, () => proxy.close(), 1000);

// What starting up used is given back now.
settleMemory();
