// Keeping the processes' secrets out of what the workshop user's shell inherits:
// used by the supervisor (for what pm2 hands on) and the terminal server (for
// each shell).
import { SECRET_VARIABLES } from './config.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Values this short are not told apart from ordinary ones (a port, a flag). */
const MIN_SECRET_LENGTH = 8;

/**
 * The environment less every secret: the variables declared secret, and any
 * other variable that holds a secret's value. JupyterHub, for one, hands the
 * same token out under a second name (JPY_API_TOKEN), and a spawner may add
 * more: matching values catches those whatever they are called.
 */
export function withoutSecrets(env: Env, moreSecrets: readonly string[] = []): Record<string, string> {
  const secretValues = [...SECRET_VARIABLES.map((name) => env[name]), ...moreSecrets].filter(
    (value): value is string => typeof value === 'string' && value.trim().length >= MIN_SECRET_LENGTH,
  );
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || SECRET_VARIABLES.includes(name)) continue;
    if (secretValues.some((secret) => value.includes(secret))) continue;
    result[name] = value;
  }
  return result;
}
