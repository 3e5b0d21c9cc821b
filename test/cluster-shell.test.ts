// The shell's way into the cluster: the kubeconfig written at start, and the
// oc/kubectl wrappers that pick the installed version closest to the cluster's.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../common/src/paths.js';
import { type SimulatedOpenShift, startOpenShift } from './harness/openshift.js';
import { requireTool } from './harness/tools.js';

const bin = path.join(projectRoot(), 'shell/bin');

describe('cluster access from the shell', () => {
  let openshift: SimulatedOpenShift;
  let work: string;
  let clients: string;
  before(async () => {
    openshift = await startOpenShift({ serviceAccount: 'terminal-user' });
    work = mkdtempSync(path.join(os.tmpdir(), 'wt-shell-'));
    // Stub clients that say which version ran.
    clients = path.join(work, 'clients');
    for (const [tool, versions] of [
      ['oc', ['4.14', '4.16', '4.18']],
      ['kubectl', ['1.27', '1.29', '1.31']],
    ] as const) {
      for (const version of versions) {
        const dir = path.join(clients, tool, version);
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, tool), `#!/bin/sh\necho "${tool} ${version} $*"\n`);
        chmodSync(path.join(dir, tool), 0o755);
      }
    }
  });
  after(async () => {
    await openshift.close();
    rmSync(work, { recursive: true, force: true });
  });

  const clusterEnv = () => ({
    PATH: process.env.PATH ?? '',
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(openshift.port),
    SERVICE_ACCOUNT_DIR: openshift.serviceAccountDir,
  });

  function setup(env: Record<string, string>): { home: string; config: string; output: string } {
    const home = mkdtempSync(path.join(work, 'home-'));
    const output = execFileSync(path.join(bin, 'setup-cluster-access'), {
      env: { ...env, HOME: home },
      encoding: 'utf8',
    });
    const file = path.join(home, '.kube/config');
    return { home, config: existsSync(file) ? readFileSync(file, 'utf8') : '', output };
  }

  test('the kubeconfig points at the API server, the project and the token file (which rotates)', () => {
    const { config, output } = setup(clusterEnv());
    assert.match(output, /project workshop/);
    assert.match(config, new RegExp(`server: https://127\\.0\\.0\\.1:${openshift.port}\\n`));
    assert.match(config, new RegExp(`certificate-authority: ${openshift.serviceAccountDir}/ca.crt`));
    assert.match(config, new RegExp(`tokenFile: ${openshift.serviceAccountDir}/token`));
    assert.match(config, /namespace: workshop/);
    assert.match(config, /current-context: workshop/);
    const token = readFileSync(path.join(openshift.serviceAccountDir, 'token'), 'utf8');
    assert.ok(!config.includes(token), 'the token itself is not copied');
  });

  test('OPENSHIFT_TOKEN logs in as that user instead', () => {
    const { config } = setup({ ...clusterEnv(), OPENSHIFT_TOKEN: 'sha256~user-token' });
    assert.match(config, /token: sha256~user-token/);
    assert.doesNotMatch(config, /tokenFile/);
  });

  test('outside a cluster nothing is written', () => {
    const { config, output } = setup({ PATH: process.env.PATH ?? '' });
    assert.equal(config, '');
    assert.equal(output, '');
  });

  /** Runs a wrapper (asynchronously: the simulated cluster answers from this process). */
  async function run(tool: 'oc' | 'kubectl', env: Record<string, string>): Promise<string> {
    const { stdout } = await promisify(execFile)(path.join(bin, tool), ['version', '--client'], {
      env: { ...env, WORKSHOP_CLIENTS_DIR: clients, TMPDIR: mkdtempSync(path.join(work, 'tmp-')) },
      encoding: 'utf8',
    });
    return stdout.trim();
  }

  test('the wrappers pick the versions closest to the cluster', async (t) => {
    if (!requireTool(t, 'curl')) return;
    for (const [minor, oc, kubectl] of [
      ['29', '4.16', '1.29'],
      ['31', '4.18', '1.31'],
      ['27', '4.14', '1.27'],
      ['33', '4.18', '1.31'],
    ]) {
      openshift.version.minor = minor as string;
      openshift.version.gitVersion = `v1.${minor}.2`;
      assert.equal(await run('oc', clusterEnv()), `oc ${oc} version --client`, `cluster 1.${minor}`);
      assert.equal(await run('kubectl', clusterEnv()), `kubectl ${kubectl} version --client`, `cluster 1.${minor}`);
    }
  });

  test('OC_VERSION and KUBECTL_VERSION choose by hand; with no cluster the newest runs', async () => {
    assert.equal(await run('oc', { ...clusterEnv(), OC_VERSION: '4.14' }), 'oc 4.14 version --client');
    assert.equal(await run('kubectl', { ...clusterEnv(), KUBECTL_VERSION: '1.27' }), 'kubectl 1.27 version --client');
    assert.equal(await run('oc', { PATH: process.env.PATH ?? '' }), 'oc 4.18 version --client');
    const missing = spawnSync(path.join(bin, 'oc'), [], {
      env: { PATH: process.env.PATH ?? '', WORKSHOP_CLIENTS_DIR: clients, OC_VERSION: '3.11' },
      encoding: 'utf8',
    });
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /version 3\.11 is not installed \(installed: 4\.14 4\.16 4\.18\)/);
  });
});

describe('shell scripts', () => {
  test('every shell script in the repository passes shellcheck', (t) => {
    if (!requireTool(t, 'shellcheck')) return;
    const root = projectRoot();
    // Scripts by their #! line, plus the profile scripts sourced by sh and bash.
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((file) => file && !file.startsWith('node_modules/'));
    const scripts = files.filter((file) => {
      try {
        return /^#!.*\b(ba)?sh\b/.test(readFileSync(path.join(root, file), 'utf8').split('\n', 1)[0] ?? '');
      } catch {
        return false;
      }
    });
    const profiles = files.filter((file) => file.startsWith('image/etc/profile'));
    assert.ok(scripts.length >= 12, `found ${scripts.length} scripts`);
    for (const [shell, list] of [
      ['', scripts],
      ['sh', profiles],
    ] as const) {
      const result = spawnSync('shellcheck', [...(shell ? ['-s', shell] : []), ...list], {
        cwd: root,
        encoding: 'utf8',
      });
      assert.equal(result.status, 0, result.stdout);
    }
  });
});
