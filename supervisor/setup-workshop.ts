// The workshop's part of the start, after prepare.js and before pm2 starts
// anything: session.env of resources/workshop.yaml goes into the environment
// the shells start from, then workshop/setup.d/*.sh run, in name order, in
// that environment, from the home folder (as Educates runs them at every
// start). Each is logged; one that fails, or runs past its time, is reported
// to the dashboard (the author's note) and the terminal starts anyway.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../common/src/log.js';
import { configOrExit } from '../common/src/process.js';
import { SETUP_REPORT_FILE, type SetupResult } from '../dashboard/src/setup-report.js';
import { builtInVariables } from '../dashboard/src/variables.js';
import { readWorkshopResource, resourceIdentity, withSessionEnv } from '../dashboard/src/workshop-resource.js';
import { confined } from '../dashboard/src/yaml-fields.js';

/** A setup script that runs longer is stopped: the terminal must start. */
const SETUP_SCRIPT_TIMEOUT_MS = 10 * 60 * 1000;
/** How much of a script's last output the report keeps. */
const TAIL_BYTES = 2000;

const config = configOrExit('setup-workshop');
const logger = createLogger('setup-workshop', config.logLevel);
// prepare.js made pm2's folder and wrote the shells' environment there.
const environmentFile = path.join(config.pm2Home, 'shell-environment.json');
let env = JSON.parse(readFileSync(environmentFile, 'utf8')) as Record<string, string>;

const settings = readWorkshopResource(config.workshopDir, parseYaml);
if (settings && settings.env.length > 0) {
  const merged = withSessionEnv(env, settings.env, builtInVariables(config, env, resourceIdentity(settings)));
  env = merged.env;
  writeFileSync(environmentFile, JSON.stringify(env), { mode: 0o600 });
  logger.info('session-env', { set: merged.set.join(','), kept: merged.kept.join(',') });
}

const setupDir = path.join(config.workshopDir, 'setup.d');
let scripts: string[] = [];
try {
  scripts = readdirSync(setupDir)
    .filter((name) => name.endsWith('.sh') && !name.startsWith('.'))
    .sort();
} catch {
  // no setup.d: nothing to run
}
const results: SetupResult[] = [];
for (const script of scripts) results.push(await run(script));
writeFileSync(path.join(config.pm2Home, SETUP_REPORT_FILE), JSON.stringify(results), { mode: 0o600 });

async function run(script: string): Promise<SetupResult> {
  const file = path.join(setupDir, script);
  const result: SetupResult = { script, outcome: 'ok', code: null, signal: null, tail: '' };
  if (!confined(config.workshopDir, file)) {
    logger.warn('setup.refused', { script, reason: 'a link leading outside the workshop folder' });
    return { ...result, outcome: 'refused' };
  }
  const started = Date.now();
  logger.info('setup.start', { script });
  return new Promise((resolve) => {
    // Its own process group, so that a timeout stops what it started too.
    const child = spawn(file, [], { cwd: config.terminalHome, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let tail = Buffer.alloc(0);
    const keep = (chunk: Buffer) => {
      // The script's output goes to the log as it comes; its end is kept for the report.
      process.stderr.write(chunk);
      tail = Buffer.concat([tail, chunk]).subarray(-TAIL_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      result.outcome = 'timed-out';
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone already
      }
    }, SETUP_SCRIPT_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      const code = (error as NodeJS.ErrnoException).code;
      const outcome = code === 'EACCES' ? 'not-executable' : 'failed';
      logger.error('setup.failed', { script, reason: code === 'EACCES' ? 'not executable (chmod +x)' : error.message });
      resolve({ ...result, outcome, tail: code === 'EACCES' ? '' : error.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      result.code = code;
      result.signal = signal;
      result.tail = tail.toString('utf8').replace(/^[^\n]*\uFFFD/, '');
      if (result.outcome === 'ok' && code !== 0) result.outcome = 'failed';
      const fields = { script, code, signal, ms: Date.now() - started };
      if (result.outcome === 'ok') logger.info('setup.done', fields);
      else logger.error(`setup.${result.outcome}`, fields);
      resolve(result);
    });
  });
}
