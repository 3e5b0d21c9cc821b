// The room service's entry point: read the configuration (the hub's variables
// and ROOM_*), build the server, listen, stop on a signal. JupyterHub starts it
// from a c.JupyterHub.services entry with `command`, or it runs beside the hub
// (the hosted template's second container) with the same variables set.

import { createLogger } from '../../common/src/log.js';
import { sessionSecrets } from '../../common/src/login-cookies.js';
import { pageAssetsDir } from '../../common/src/paths.js';
import { configOrExit, stopOnSignals } from '../../common/src/process.js';
import { createRoomServer } from './server.js';

const config = configOrExit('room', [
  {
    uses: ['hubApiUrl', 'hubApiToken', 'hubClientId', 'hubCallbackUrl'],
    check: (c) =>
      [
        [c.hubApiUrl, 'JUPYTERHUB_API_URL'],
        [c.hubApiToken, 'JUPYTERHUB_API_TOKEN'],
        [c.hubClientId, 'JUPYTERHUB_CLIENT_ID'],
        [c.hubCallbackUrl, 'JUPYTERHUB_OAUTH_CALLBACK_URL'],
      ]
        .filter(([value]) => !value)
        .map(([, name]) => `${name} must be set: the room service runs as a JupyterHub service`),
  },
]);
const logger = createLogger('room', config.logLevel);
// SESSION_SECRET when set; else the room keeps a secret of its own in its database.
const secrets = config.sessionSecret ? sessionSecrets(config.sessionSecret).secrets : [];
const room = createRoomServer({
  prefix: config.prefix,
  host: config.host,
  port: config.port,
  hubApiUrl: config.hubApiUrl,
  hubApiToken: config.hubApiToken,
  clientId: config.hubClientId,
  callbackUrl: config.hubCallbackUrl,
  hubBaseUrl: config.hubBaseUrl,
  hubHost: config.hubHost,
  instructorNames: config.roomInstructors,
  database: config.roomDatabase,
  stuckMinutes: config.roomStuckMinutes,
  secrets,
  pageDir: pageAssetsDir(),
  logger,
});
const port = await room.listen();
logger.info('listening', {
  address: `${config.host}:${port}${config.prefix}/`,
  instructors: config.roomInstructors.join(',') || 'hub admins',
  logins: secrets.length > 0 ? 'sealed with SESSION_SECRET' : "sealed with the room's own secret",
});
stopOnSignals(logger, () => room.close(), 5000);
