// The container image, built and run for real with podman: the unchanged
// Dockerfile on stand-in base images, a workshop image made with the README's
// recipe, run as an arbitrary UID with no passwd entry, and its hooks.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../common/src/paths.js';
import { podman, preparePodman } from './harness/podman.js';
import { eventually, freePort, request } from './harness/servers.js';
import { TerminalClient } from './harness/terminal-client.js';

const IMAGE = 'localhost/workshop-terminal:test';
const WORKSHOP_IMAGE = 'localhost/workshop-terminal-fixture:test';
const fixtures = path.join(projectRoot(), 'test/fixtures');

describe('container image', { timeout: 40 * 60_000 }, () => {
  let env: Record<string, string> = {};
  let ready = false;
  const containers: string[] = [];
  const figures: Record<string, string> = {};

  before(async () => {
    const prepared = await preparePodman();
    if (!prepared) {
      if (process.env.CI) throw new Error('podman could not be set up (test/harness/podman-base.sh)');
      return;
    }
    env = prepared.env;
    const started = performance.now();
    const built = await podman(
      ['build', '--pull=never', '--build-arg', 'INSTALL_CLIENTS=false', '-t', IMAGE, projectRoot()],
      {
        env,
        timeoutMs: 30 * 60_000,
      },
    );
    assert.equal(built.code, 0, `the image did not build:\n${built.stdout.slice(-3000)}\n${built.stderr.slice(-3000)}`);
    figures.buildSeconds = ((performance.now() - started) / 1000).toFixed(0);
    const size = await podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE], { env });
    figures.imageMB = (Number(size.stdout.trim()) / 1e6).toFixed(0);
    ready = true;
  });
  after(async () => {
    for (const id of containers) await podman(['rm', '-f', id], { env });
    if (Object.keys(figures).length > 0) console.log(`image figures: ${JSON.stringify(figures)}`);
  });

  function skipUnlessReady(t: { skip(message: string): void }): boolean {
    if (ready) return false;
    t.skip('podman is not available here (test/harness/podman-base.sh sets it up; CI runs it)');
    return true;
  }

  test('labels, user and command are those of an S2I builder', async (t) => {
    if (skipUnlessReady(t)) return;
    const inspect = await podman(['image', 'inspect', IMAGE], { env });
    const config = JSON.parse(inspect.stdout)[0].Config;
    assert.equal(config.User, '1001');
    assert.deepEqual(config.Cmd, ['/usr/libexec/s2i/run']);
    assert.ok(Object.keys(config.ExposedPorts ?? {}).includes('10080/tcp'));
    assert.equal(config.Labels['io.openshift.s2i.scripts-url'], 'image:///usr/libexec/s2i');
    assert.equal(config.Labels['io.openshift.expose-services'], '10080:http');
    assert.match(config.Labels['io.openshift.tags'], /builder/);
    assert.ok(config.Env.includes('HOME=/opt/app-root/src'));
  });

  test('a workshop image from the README recipe runs as any UID with basic auth, hooks and environment', async (t) => {
    if (skipUnlessReady(t)) return;
    // No layer cache: the hooks must really run.
    const built = await podman(
      ['build', '--pull=never', '--no-cache', '-t', WORKSHOP_IMAGE, path.join(fixtures, 'workshop')],
      {
        env,
        timeoutMs: 10 * 60_000,
      },
    );
    assert.equal(built.code, 0, built.stderr.slice(-2000));
    assert.match(built.stdout + built.stderr, /Running the build hook \.workshop\/build/);

    const port = await freePort();
    const started = performance.now();
    const run = await podman(
      [
        'run',
        '-d',
        '--user',
        '1000123:0',
        '--passwd=false',
        '-p',
        `127.0.0.1:${port}:10080`,
        '-e',
        'AUTH_USERNAME=grumpy',
        '-e',
        'AUTH_PASSWORD=secret',
        WORKSHOP_IMAGE,
      ],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    containers.push(id);
    await eventually(
      () => request(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200),
      60_000,
      'the container to be ready',
    );
    figures.startToReadySeconds = ((performance.now() - started) / 1000).toFixed(1);

    assert.equal((await request(`http://127.0.0.1:${port}/terminal/session/1`)).status, 401);
    const auth = { Authorization: `Basic ${Buffer.from('grumpy:secret').toString('base64')}` };
    const page = await TerminalClient.connect(`ws://127.0.0.1:${port}/terminal/socket/1`, { headers: auth });
    page.type(
      'echo "WHO=$(whoami) HOME=$HOME VAR=$FIXTURE_VAR"; cat ~/built-by-hook.txt ~/hello.txt /opt/app-root/setup-ran.txt; ' +
        'touch /opt/app-root/writable && echo WRITA""BLE; su -c true </dev/null >/dev/null 2>&1 || echo NO""SU; echo DO""NE\r',
    );
    await page.waitFor('DONE\r\n', 20_000);
    const text = page.text();
    assert.match(text, /WHO=\S+ HOME=\/opt\/app-root\/src VAR=from profile\.d/);
    assert.doesNotMatch(text, /WHO= /, 'whoami works without a passwd entry given');
    assert.match(text, /built at image build time/);
    assert.match(text, /a workshop file/);
    assert.match(text, /setup ran as 1000123 at \d+/);
    assert.match(text, /WRITABLE/);
    assert.match(text, /NOSU/, 'su cannot be used');
    assert.match(text, /Welcome to the fixture workshop/, 'the message of the day');
    // The workshop's instructions (workshop/ in its source) are the dashboard, which / opens.
    const root = await request(`http://127.0.0.1:${port}/`, { headers: auth });
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/dashboard/');
    const dashboard = await request(`http://127.0.0.1:${port}/dashboard/`, { headers: auth });
    assert.equal(dashboard.status, 200);
    assert.match(dashboard.body, /<title>Fixture workshop<\/title>/);
    assert.match(dashboard.body, /dashboard\.js\?v=/);
    const setup = await request(`http://127.0.0.1:${port}/dashboard/api/pages/setup`, { headers: auth });
    assert.equal(setup.status, 200);
    assert.match(setup.body, /Setting up/);
    assert.match(setup.body, /cat ~\/hello\.txt/);
    assert.match(text, /\[~\] \$ /, 'the workshop prompt');
    await page.close();

    // podman stop: everything ends within 5 s with exit code 0.
    const stopStarted = performance.now();
    const stopped = await podman(['stop', '-t', '10', id], { env });
    const stopSeconds = (performance.now() - stopStarted) / 1000;
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(stopSeconds < 5, `stopped after ${stopSeconds.toFixed(1)} s`);
    const exit = await podman(['inspect', '--format', '{{.State.ExitCode}}', id], { env });
    assert.equal(exit.stdout.trim(), '0', (await podman(['logs', id], { env })).stdout.slice(-2000));
  });

  test('a failing build hook fails the build, naming the hook', async (t) => {
    if (skipUnlessReady(t)) return;
    const recipe = path.join(fixtures, 'workshop/Dockerfile');
    const failing = path.join(fixtures, 'workshop-failing');
    const built = await podman(['build', '--pull=never', '-f', recipe, '-t', 'localhost/failing:test', failing], {
      env,
      timeoutMs: 10 * 60_000,
    });
    assert.notEqual(built.code, 0);
    // `false | true` fails under pipefail before `exit 3` is reached.
    assert.match(built.stdout + built.stderr, /the build hook \.workshop\/build failed with exit code 1/);
  });
});
