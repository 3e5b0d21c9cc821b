// Data variables of workshop pages, written %name% (the classic renderer's
// syntax): a few the dashboard knows, and those a workshop declares with a
// default in modules.yaml (config.vars), which the environment may override.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../common/src/config.js';

export type Variables = ReadonlyMap<string, string>;

export type VariableConfig = Pick<
  Config,
  | 'user'
  | 'authUsername'
  | 'consoleUrl'
  | 'clusterSubdomain'
  | 'ingressDomain'
  | 'kubernetesHost'
  | 'serviceAccountDir'
  | 'prefix'
>;

/** The variables the dashboard itself fills; a value it does not know is left out (so %name% stays as written). */
export function builtInVariables(config: VariableConfig, env: Readonly<Record<string, string>>): Map<string, string> {
  const vars = new Map<string, string>();
  const set = (name: string, value: string | undefined) => {
    if (value) vars.set(name, value);
  };
  set('username', config.user || (config.authUsername !== '*' ? config.authUsername : '') || env.USER || accountName());
  set('session_namespace', podNamespace(config));
  set('cluster_subdomain', config.clusterSubdomain);
  set('ingress_domain', config.ingressDomain);
  set('console_url', config.consoleUrl);
  set('terminal_url', `${config.prefix}/terminal/`);
  return vars;
}

/** The pod's project (namespace), when running in a cluster. */
function podNamespace(config: VariableConfig): string | undefined {
  if (!config.kubernetesHost) return undefined;
  try {
    return readFileSync(path.join(config.serviceAccountDir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A declared variable's value: the environment's under its own name or its
 * upper-case form (my-var → MY_VAR), else the default.
 */
export function declaredValue(name: string, fallback: string, env: Readonly<Record<string, string>>): string {
  return env[name] ?? env[name.replace(/-/g, '_').toUpperCase()] ?? fallback;
}

const VARIABLE = /%([A-Za-z_][A-Za-z0-9_-]*)%/g;

/** Replaces every %name% whose name is known; an unknown one is left as written. */
export function substitute(text: string, vars: Variables): string {
  return text.replace(VARIABLE, (whole, name: string) => vars.get(name) ?? whole);
}

/** The name of the account the server runs as; none for a UID without an entry in /etc/passwd. */
function accountName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}
