// The environment each terminal session's shell starts with.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Config, secretValues } from '../../common/src/config.js';
import { projectRoot } from '../../common/src/paths.js';
import { withoutSecrets } from '../../common/src/secrets.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The environment a terminal session starts with: the server's own (or the one
 * the supervisor wrote to SHELL_ENVIRONMENT_FILE), less the secrets and the
 * variables that belong to the server, plus what the shell needs.
 */
export function shellEnvironment(config: Config, env: Env = process.env): Record<string, string> {
  const base = config.shellEnvironmentFile ? readEnvironmentFile(config.shellEnvironmentFile) : env;
  const result = withoutSecrets(base, secretValues(config));
  delete result.SHELL_ENVIRONMENT_FILE;
  result.TERM = 'xterm-256color';
  result.COLORTERM = 'truecolor';
  result.PS1 = config.user ? `[${config.user}:\\w] $ ` : '[\\w] $ ';
  // The shell's own commands (`download`, the cluster clients): the image puts them on
  // PATH; run from a checkout they come last, so a tool of the machine's own comes first.
  const commands = path.join(projectRoot(), 'shell', 'bin');
  const searchPath = (result.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  if (!searchPath.includes(commands)) result.PATH = [...searchPath, commands].join(':');
  if (config.roomServiceUrl) askForShellMarks(result);
  return result;
}

/** What PROMPT_COMMAND starts with for a shell that has not loaded the marks yet: it loads them at its first prompt. */
export const SHELL_MARKS_LOADER = '. "$TERMINAL_SHELL_MARKS"';

/**
 * The room wants each command's end (terminal-server/src/shell-marks.ts reads
 * the marks): bash loads image/etc/shell-marks.bash, from the image's profile
 * (profile.d/30-shell-marks.sh, which a workshop's PROMPT_COMMAND set later
 * cannot undo) or, for a shell that reads no profile (`npm start` on any
 * machine, `bash --norc`), at its first prompt. Whatever PROMPT_COMMAND the
 * server's environment has runs after the loader, then after the marks.
 */
function askForShellMarks(env: Record<string, string>): void {
  const root = projectRoot();
  // From a checkout it is in image/etc; the image copies image/etc to <root>/etc.
  const file = [path.join(root, 'image', 'etc', 'shell-marks.bash'), path.join(root, 'etc', 'shell-marks.bash')].find(
    (candidate) => existsSync(candidate),
  );
  if (!file) return;
  env.TERMINAL_SHELL_MARKS = file;
  env.PROMPT_COMMAND = env.PROMPT_COMMAND ? `${SHELL_MARKS_LOADER};${env.PROMPT_COMMAND}` : SHELL_MARKS_LOADER;
}

/** SHELL_ENVIRONMENT_FILE's object of strings; an error naming the variable otherwise. */
function readEnvironmentFile(file: string): Readonly<Record<string, string>> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `SHELL_ENVIRONMENT_FILE must name a readable JSON file (${(error as Error).message.split('\n')[0]})`,
    );
  }
  if (!value || typeof value !== 'object' || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new Error('SHELL_ENVIRONMENT_FILE must name a JSON file holding an object of strings');
  }
  return value as Record<string, string>;
}
