// The one place that picks the auth mode. Each mode's modules (passport and the
// cluster client for OpenShift, the cookie code of the login modes) are loaded
// only when that mode is the one used: a proxy without logins does not hold them.
import type { Config } from '../../../common/src/config.js';
import { describeError, type Logger } from '../../../common/src/log.js';
import { compileTrust } from '../client-info.js';
import { chooseAuthMode } from './choice.js';
import type { AuthMode } from './types.js';

/** Picks and builds the auth mode. `logger` also hears about a session secret that will not survive a restart. */
export async function createAuthMode(config: Config, logger: Logger): Promise<AuthMode> {
  const { mode } = chooseAuthMode(config);
  switch (mode) {
    case 'none': {
      const { noAuth } = await import('./none.js');
      return noAuth();
    }
    case 'basic': {
      const { basicAuthMode } = await import('./basic.js');
      return basicAuthMode({ username: config.authUsername, password: config.authPassword, prefix: config.prefix });
    }
    case 'jupyterhub': {
      const [{ jupyterHubMode }, { sessionSecrets }] = await Promise.all([
        import('./jupyterhub.js'),
        import('../login-session.js'),
      ]);
      // Without SESSION_SECRET the key is random: never derived from the hub's
      // token, which the shell could read. A login lost with a restart comes
      // back through the hub without asking the user anything.
      const { secrets, random } = sessionSecrets(config.sessionSecret);
      if (random) logger.info('session.secret_random', { hint: 'after a restart, logins go through the hub again' });
      return jupyterHubMode({
        prefix: config.prefix,
        owner: config.user,
        clientId: config.hubClientId,
        apiToken: config.hubApiToken,
        apiUrl: config.hubApiUrl,
        baseUrl: config.hubBaseUrl,
        hubHost: config.hubHost,
        callbackUrl: config.hubCallbackUrl,
        allowAdmins: config.allowHubAdmins ?? config.hubAdminAccess,
        viewers: config.terminalViewers,
        recheckMs: config.authRecheckSeconds * 1000,
        secrets,
        trust: compileTrust(config.trustProxy),
        logger,
      });
    }
    case 'openshift': {
      const [{ openShiftMode }, { connectCluster }, { revokedLogins, sessionSecrets }] = await Promise.all([
        import('./openshift.js'),
        import('../kubernetes-client.js'),
        import('../login-session.js'),
      ]);
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
          trustPublicCas: config.oauthTrustPublicCas,
          insecure: config.kubernetesTlsInsecure,
        }),
        publicUrl: config.publicUrl,
        recheckMs: config.authRecheckSeconds * 1000,
        viewers: config.terminalViewers,
        secrets,
        // Kept on disk only when logins survive a restart: else they all end with the process.
        revoked: revokedLogins({
          file: random ? null : config.revokedLoginsFile,
          onError: (action, error) =>
            logger.error('logout.list_failed', {
              action,
              file: config.revokedLoginsFile,
              reason: describeError(error),
              hint: 'logouts are kept in memory only',
            }),
        }),
        trust: compileTrust(config.trustProxy),
        logger,
      });
    }
    default:
      throw new Error(`unknown auth mode ${String(mode satisfies never)}`);
  }
}
