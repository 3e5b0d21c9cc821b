// Which auth mode the proxy runs, and what that mode needs from the other
// variables. Kept with the modes, not in the configuration: only the proxy (and
// the supervisor, which checks every process's settings before starting any)
// has a use for it.
import type { Config, ConfigRule } from '../../../common/src/config.js';

export type AuthModeName = NonNullable<Config['authMode']>;

export interface AuthChoice {
  mode: AuthModeName;
  /** Why this mode, for the start-up log. */
  reason: string;
}

type ChoiceInput = Pick<Config, 'authMode' | 'hubClientId' | 'oauthServiceAccount' | 'authUsername' | 'authPassword'>;

/** AUTH_MODE when set; else the first of: JupyterHub, OpenShift, explicit none, basic, nothing. */
export function chooseAuthMode(config: ChoiceInput): AuthChoice {
  if (config.authMode) return { mode: config.authMode, reason: 'AUTH_MODE is set' };
  if (config.hubClientId) return { mode: 'jupyterhub', reason: 'JUPYTERHUB_CLIENT_ID is set' };
  if (config.oauthServiceAccount) return { mode: 'openshift', reason: 'OAUTH_SERVICE_ACCOUNT is set' };
  if (config.authUsername === '*') return { mode: 'none', reason: 'AUTH_USERNAME is *' };
  if (config.authUsername || config.authPassword)
    return { mode: 'basic', reason: 'AUTH_USERNAME and AUTH_PASSWORD are set' };
  return { mode: 'none', reason: 'no authentication is configured' };
}

const CHOICE_INPUT = ['authMode', 'hubClientId', 'oauthServiceAccount', 'authUsername', 'authPassword'] as const;

/** What each mode needs besides its own variables; given to the configuration loader, so these are reported with the rest. */
export const AUTH_MODE_RULES: readonly ConfigRule[] = [
  {
    uses: CHOICE_INPUT,
    check(config) {
      if (chooseAuthMode(config).mode !== 'basic') return [];
      const problems: string[] = [];
      if (!config.authUsername || config.authUsername === '*' || !config.authPassword) {
        problems.push(
          'AUTH_PASSWORD and AUTH_USERNAME must both be set (and AUTH_USERNAME not *) for basic authentication',
        );
      }
      if (config.authUsername.includes(':')) {
        problems.push('AUTH_USERNAME must not contain ":" (HTTP Basic authentication cannot carry it)');
      }
      return problems;
    },
  },
  {
    uses: [...CHOICE_INPUT, 'hubApiToken', 'hubApiUrl', 'hubCallbackUrl', 'user'],
    check(config) {
      if (chooseAuthMode(config).mode !== 'jupyterhub') return [];
      const missing = (
        [
          ['JUPYTERHUB_API_TOKEN', config.hubApiToken],
          ['JUPYTERHUB_CLIENT_ID', config.hubClientId],
          ['JUPYTERHUB_API_URL', config.hubApiUrl],
          ['JUPYTERHUB_OAUTH_CALLBACK_URL', config.hubCallbackUrl],
          ['JUPYTERHUB_USER', config.user],
        ] as const
      )
        .filter(([, value]) => !value)
        .map(([name]) => name);
      return missing.length > 0 ? [`${missing.join(', ')} must be set for JupyterHub authentication`] : [];
    },
  },
  {
    uses: [...CHOICE_INPUT, 'kubernetesHost'],
    check(config) {
      if (chooseAuthMode(config).mode !== 'openshift') return [];
      return [
        ...(config.oauthServiceAccount ? [] : ['OAUTH_SERVICE_ACCOUNT must be set for OpenShift authentication']),
        ...(config.kubernetesHost ? [] : ['KUBERNETES_SERVICE_HOST must be set for OpenShift authentication']),
      ];
    },
  },
  {
    uses: [...CHOICE_INPUT, 'appDomain'],
    check(config) {
      const { mode } = chooseAuthMode(config);
      if (!config.appDomain || mode === 'basic' || mode === 'none') return [];
      // A login through the browser lives in a cookie of the terminal's host: each app host
      // would need its own, through a callback the OAuth server does not know.
      return [
        `APP_DOMAIN needs basic authentication or none: with ${mode === 'jupyterhub' ? 'JupyterHub' : 'OpenShift'} logins the app hosts have no login (apps are still served at <prefix>/port/<n>/; unset APP_DOMAIN)`,
      ];
    },
  },
  {
    uses: [...CHOICE_INPUT, 'terminalViewers'],
    check(config) {
      const { mode } = chooseAuthMode(config);
      if (config.terminalViewers.length === 0 || mode === 'jupyterhub' || mode === 'openshift') return [];
      return [
        `TERMINAL_VIEWERS needs a login that knows who people are (JupyterHub or OpenShift); with ${mode === 'basic' ? 'basic authentication there is one user' : 'no authentication nobody is known'}`,
      ];
    },
  },
];
