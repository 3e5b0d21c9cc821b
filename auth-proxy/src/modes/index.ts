// The one place that picks the auth mode.
import type { Config } from '../../../common/src/config.js';
import { basicAuthMode } from './basic.js';
import { noAuth } from './none.js';
import type { AuthMode } from './types.js';

export function createAuthMode(config: Config): AuthMode {
  const mode = config.authMode.mode;
  switch (mode) {
    case 'none':
      return noAuth();
    case 'basic':
      return basicAuthMode({ username: config.authUsername, password: config.authPassword });
    case 'openshift':
    case 'jupyterhub':
      throw new Error(`auth mode ${mode} is not available in this version`);
    default:
      throw new Error(`unknown auth mode ${String(mode satisfies never)}`);
  }
}
