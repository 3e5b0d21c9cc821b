// No authentication: everyone who can reach the port gets the shell. Chosen only
// by AUTH_MODE=none, AUTH_USERNAME=*, or nothing configured (with a warning).
import type { AuthMode } from './types.js';

export function noAuth(): AuthMode {
  return {
    name: 'none',
    sharedOrigin: false,
    owner: '',
    check: async () => ({ allowed: true, user: '', access: 'owner' }),
    describe: () => 'no authentication: anyone who can reach the port gets a shell',
  };
}
