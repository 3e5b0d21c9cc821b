// The one place that picks the auth mode.
import { createHash } from 'node:crypto';
import type { Config } from '../../../common/src/config.js';
import type { Logger } from '../../../common/src/log.js';
import { compileTrust } from '../client-info.js';
import { connectCluster } from '../kubernetes-client.js';
import { sessionSecrets } from '../login-session.js';
import { basicAuthMode } from './basic.js';
import { jupyterHubMode } from './jupyterhub.js';
import { noAuth } from './none.js';
import { openShiftMode } from './openshift.js';
import type { AuthMode } from './types.js';

/** Picks and builds the auth mode. `logger` also hears about a session secret that will not survive a restart. */
export function createAuthMode(config: Config, logger: Logger): AuthMode {
  const mode = config.authMode.mode;
  switch (mode) {
    case 'none':
      return noAuth();
    case 'basic':
      return basicAuthMode({ username: config.authUsername, password: config.authPassword });
    case 'jupyterhub': {
      // Without SESSION_SECRET, the hub's token for this server is a secret that
      // stays the same across restarts of this server: logins survive them.
      const hubSecret = createHash('sha256').update(`session:${config.hubApiToken}`).digest('base64url');
      return jupyterHubMode({
        prefix: config.prefix,
        owner: config.user,
        clientId: config.hubClientId,
        apiToken: config.hubApiToken,
        apiUrl: config.hubApiUrl,
        baseUrl: config.hubBaseUrl,
        callbackPath: config.hubCallbackPath,
        allowAdmins: config.allowHubAdmins ?? config.hubAdminAccess,
        recheckMs: config.authRecheckSeconds * 1000,
        secrets: sessionSecrets(config.sessionSecret, hubSecret).secrets,
        trust: compileTrust(config.trustProxy),
        logger,
      });
    }
    case 'openshift': {
      const { secrets, random } = sessionSecrets(config.sessionSecret);
      if (random) {
        logger.warn('session.secret_random', { hint: 'set SESSION_SECRET so logins survive a restart of the proxy' });
      }
      if (config.kubernetesTlsInsecure) {
        logger.warn('tls.insecure', {
          hint: 'KUBERNETES_TLS_INSECURE=true: the API and OAuth servers are not verified',
        });
      }
      return openShiftMode({
        prefix: config.prefix,
        serviceAccount: config.oauthServiceAccount,
        cluster: connectCluster({
          host: config.kubernetesHost,
          port: config.kubernetesPort,
          serviceAccountDir: config.serviceAccountDir,
          extraCaFile: config.extraCaFile,
          insecure: config.kubernetesTlsInsecure,
        }),
        publicUrl: config.publicUrl,
        recheckMs: config.authRecheckSeconds * 1000,
        secrets,
        trust: compileTrust(config.trustProxy),
        logger,
      });
    }
    default:
      throw new Error(`unknown auth mode ${String(mode satisfies never)}`);
  }
}
