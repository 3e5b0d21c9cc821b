// The deployment files: the OpenShift templates (processed like `oc process`),
// the plain Kubernetes kustomization, the hosted workshop's jupyterhub_config.py
// (loaded by a real JupyterHub's config loader) and image/bin/setup-volume (run on
// temporary folders). Every object is validated against the Kubernetes and
// OpenShift API shapes, and the objects are checked against each other and
// against what the terminal reads (common/src/config.ts).
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is OpenShift's parameter syntax, the subject here
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { AUTH_MODE_RULES, chooseAuthMode } from '../auth-proxy/src/modes/choice.js';
import { ConfigError, describeSettings, loadConfig } from '../common/src/config.js';
import { projectRoot } from '../common/src/paths.js';
import {
  generateFromExpression,
  isObject,
  type K8sObject,
  loadTemplate,
  type Processed,
  podContainers,
  podTemplate,
  processTemplate,
  renderKustomization,
  substitute,
  type Template,
  validateObject,
  validateTemplate,
} from './harness/template-processor.js';
import { findTool, requireTool } from './harness/tools.js';

const root = projectRoot();
const templatesDir = path.join(root, 'templates');
const TERMINAL_IMAGE = 'registry.example.com/workshop/terminal:1.2';
const TERMINAL_PORT = 10080;
const SETUP_VOLUME_IN_IMAGE = '/opt/workshop/bin/setup-volume';
const setupVolume = path.join(root, 'image/bin/setup-volume');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'wt-templates-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Every variable our processes read, from config.ts's own listing (one `NAME help` line each). */
const CONFIG_VARIABLES = new Set(
  describeSettings()
    .split('\n')
    .map((line) => line.split(/\s+/)[0]!),
);
/** JupyterHub passes its own JUPYTERHUB_* variables to a spawned server; those are fine too. */
const allowedVariable = (name: string) => CONFIG_VARIABLES.has(name) || name.startsWith('JUPYTERHUB_');

type Container = Record<string, unknown>;
const list = <T = Record<string, unknown>>(value: unknown) => (Array.isArray(value) ? (value as T[]) : []);
const record = (value: unknown) => (isObject(value) ? value : {});
const ofKind = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const contains = (labels: Record<string, string>, selector: Record<string, string>) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

function secretValue(objects: K8sObject[], name: string, key: string): string | undefined {
  const secret = named(objects, 'Secret', name);
  if (!secret) return undefined;
  const plain = record(secret.stringData)[key];
  if (typeof plain === 'string') return plain;
  const encoded = record(secret.data)[key];
  return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString() : undefined;
}

function secretKeys(objects: K8sObject[], name: string): string[] {
  const secret = named(objects, 'Secret', name);
  return secret ? [...Object.keys(record(secret.stringData)), ...Object.keys(record(secret.data))] : [];
}

/** The environment a container gets from its env and envFrom (secrets and config maps resolved). */
function environmentOf(container: Container, objects: K8sObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of list(container.envFrom)) {
    const secret = record(source.secretRef).name;
    if (typeof secret === 'string') {
      for (const key of secretKeys(objects, secret)) env[key] = secretValue(objects, secret, key) ?? '';
    }
  }
  for (const variable of list(container.env)) {
    const ref = record(record(variable.valueFrom).secretKeyRef);
    env[String(variable.name)] =
      typeof variable.value === 'string'
        ? variable.value
        : (secretValue(objects, String(ref.name), String(ref.key)) ??
          `<missing ${String(ref.name)}/${String(ref.key)}>`);
  }
  return env;
}

// ---------------------------------------------------------------------------
// Cross-checks between objects

/** Services select pods, routes and bindings name what exists, pods mount and reference what exists. */
function referenceProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const pods = objects.map(podTemplate).filter((pod) => pod !== null);
  for (const object of objects) {
    const where = `${object.kind}/${object.metadata.name}`;
    const spec = record(object.spec);
    if (object.kind === 'Deployment') {
      const selector = record(record(spec.selector).matchLabels) as Record<string, string>;
      if (!contains(podTemplate(object)?.labels ?? {}, selector))
        problems.push(`${where}: selector does not match its pods`);
    }
    if (object.kind === 'Service') {
      const selector = record(spec.selector) as Record<string, string>;
      const selected = pods.filter((pod) => contains(pod.labels, selector));
      if (selected.length === 0) problems.push(`${where}: selects no pod of these objects`);
      const containers = selected.flatMap((pod) => list<Container>(pod.spec.containers));
      for (const port of list(spec.ports)) {
        const target = port.targetPort ?? port.port;
        const served = containers.some((c) =>
          list(c.ports).some((p) => (typeof target === 'string' ? p.name === target : p.containerPort === target)),
        );
        if (!served) problems.push(`${where}: no selected container serves port ${String(target)}`);
      }
    }
    if (object.kind === 'Route') {
      const to = record(spec.to);
      const service = named(objects, 'Service', String(to.name));
      if (!service) problems.push(`${where}: targets Service ${String(to.name)}, which is not here`);
      const targetPort = record(spec.port).targetPort;
      const ports = list(record(service?.spec).ports);
      const found = ports.some((p) =>
        typeof targetPort === 'string' ? p.name === targetPort : (p.targetPort ?? p.port) === targetPort,
      );
      if (service && !found) problems.push(`${where}: Service ${String(to.name)} has no port ${String(targetPort)}`);
    }
    if (object.kind === 'ServiceAccount') {
      for (const [key, value] of Object.entries(object.metadata.annotations ?? {})) {
        if (!key.startsWith('serviceaccounts.openshift.io/oauth-redirectreference.')) continue;
        const reference = JSON.parse(value) as Record<string, unknown>;
        const target = record(reference.reference);
        if (reference.kind !== 'OAuthRedirectReference' || reference.apiVersion !== 'v1' || target.kind !== 'Route') {
          problems.push(`${where}: ${key} is not an OAuthRedirectReference to a Route`);
        } else if (!named(objects, 'Route', String(target.name))) {
          problems.push(`${where}: ${key} names Route ${String(target.name)}, which is not here`);
        }
      }
    }
    if (object.kind === 'RoleBinding') {
      for (const subject of list(object.subjects)) {
        if (subject.kind === 'ServiceAccount' && !named(objects, 'ServiceAccount', String(subject.name))) {
          problems.push(`${where}: binds ServiceAccount ${String(subject.name)}, which is not here`);
        }
      }
    }
    const pod = podTemplate(object);
    if (!pod) continue;
    const account = pod.spec.serviceAccountName;
    if (typeof account === 'string' && !named(objects, 'ServiceAccount', account)) {
      problems.push(`${where}: runs as ServiceAccount ${account}, which is not here`);
    }
    const volumes = list(pod.spec.volumes);
    for (const volume of volumes) {
      const claim = record(volume.persistentVolumeClaim).claimName;
      if (typeof claim === 'string' && !named(objects, 'PersistentVolumeClaim', claim)) {
        problems.push(`${where}: volume ${String(volume.name)} claims ${claim}, which is not here`);
      }
      const map = record(volume.configMap).name;
      if (typeof map === 'string' && !named(objects, 'ConfigMap', map)) {
        problems.push(`${where}: volume ${String(volume.name)} mounts ConfigMap ${map}, which is not here`);
      }
    }
    for (const container of podContainers(object)) {
      for (const mount of list(container.volumeMounts)) {
        if (!volumes.some((v) => v.name === mount.name)) {
          problems.push(`${where}: ${String(container.name)} mounts volume ${String(mount.name)}, which the pod lacks`);
        }
      }
      for (const variable of list(container.env)) {
        const ref = record(record(variable.valueFrom).secretKeyRef);
        if (ref.name !== undefined && secretValue(objects, String(ref.name), String(ref.key)) === undefined) {
          problems.push(
            `${where}: ${String(variable.name)} reads ${String(ref.name)}/${String(ref.key)}, which is not here`,
          );
        }
      }
      for (const source of list(container.envFrom)) {
        const secret = record(source.secretRef).name;
        if (typeof secret === 'string' && !named(objects, 'Secret', secret)) {
          problems.push(`${where}: ${String(container.name)} reads Secret ${secret}, which is not here`);
        }
      }
    }
  }
  return problems;
}

/** What image a container really runs: an image stream tag with local lookup resolves to what the stream imports. */
function resolveImage(objects: K8sObject[], image: string): string {
  const match = /^([a-z0-9-]+):([\w.-]+)$/.exec(image);
  const stream = match ? named(objects, 'ImageStream', match[1]!) : undefined;
  if (!match || !stream || record(record(stream.spec).lookupPolicy).local !== true) return image;
  const tag = list(record(stream.spec).tags).find((t) => t.name === match[2]);
  return String(record(tag?.from).name ?? image);
}

/** Image change triggers name existing stream tags and containers, and every stream-image container has one. */
function triggerProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const pod = podTemplate(object);
    if (!pod) continue;
    const annotation = object.metadata.annotations?.['image.openshift.io/triggers'];
    const triggers = annotation ? (JSON.parse(annotation) as Record<string, unknown>[]) : [];
    const covered = new Set<string>();
    for (const trigger of triggers) {
      const from = record(trigger.from);
      const [stream, tag] = String(from.name).split(':');
      const tags = list(record(named(objects, 'ImageStream', String(stream))?.spec).tags);
      if (from.kind !== 'ImageStreamTag' || !tags.some((t) => t.name === tag)) {
        problems.push(`${object.metadata.name}: trigger from ${String(from.name)}, which is not a tag here`);
      }
      const field = /^spec\.template\.spec\.(containers|initContainers)\[\?\(@\.name=="([a-z0-9-]+)"\)\]\.image$/.exec(
        String(trigger.fieldPath),
      );
      const container = field && list(pod.spec[field[1]!]).find((c) => c.name === field[2]);
      if (!container)
        problems.push(`${object.metadata.name}: trigger for ${String(trigger.fieldPath)}, no such container`);
      else if (container.image !== from.name)
        problems.push(`${object.metadata.name}: trigger and image of ${field![2]} differ`);
      if (field) covered.add(`${field[1]}/${field[2]}`);
    }
    for (const key of ['initContainers', 'containers']) {
      for (const container of list(pod.spec[key])) {
        const image = String(container.image);
        if (resolveImage(objects, image) !== image && !covered.has(`${key}/${String(container.name)}`)) {
          problems.push(
            `${object.metadata.name}: ${String(container.name)} runs stream tag ${image} without a trigger`,
          );
        }
      }
    }
  }
  return problems;
}

/**
 * The terminal containers (those running the terminal image): port 10080, probes on
 * /readyz and /healthz there (under `prefix`), only variables config.ts reads, limits;
 * and the setup-volume init container fills the volume the terminal mounts at /opt/app-root.
 */
function terminalProblems(objects: K8sObject[], terminalImage: string, prefix = ''): string[] {
  const problems: string[] = [];
  let terminals = 0;
  for (const object of objects) {
    const pod = podTemplate(object);
    if (!pod) continue;
    const runsTerminal = (c: Container) => resolveImage(objects, String(c.image)) === terminalImage;
    for (const c of podContainers(object)) {
      if (['terminal', 'setup-volume'].includes(String(c.name)) && !runsTerminal(c)) {
        problems.push(`${object.metadata.name}: ${String(c.name)} runs ${String(c.image)}, not the terminal image`);
      }
    }
    for (const container of list<Container>(pod.spec.containers).filter(runsTerminal)) {
      terminals++;
      const where = `${object.metadata.name}/${String(container.name)}`;
      const ports = list(container.ports).map((p) => p.containerPort);
      if (ports.length !== 1 || ports[0] !== TERMINAL_PORT)
        problems.push(`${where}: ports ${ports.join(',')}, not ${TERMINAL_PORT}`);
      const probes: [string, string][] = [
        ['readinessProbe', 'readyz'],
        ['livenessProbe', 'healthz'],
        ['startupProbe', 'healthz'],
      ];
      for (const [probe, endpoint] of probes) {
        if (probe === 'startupProbe' && container[probe] === undefined) continue;
        const get = record(record(container[probe]).httpGet);
        if (get.path !== `${prefix}/${endpoint}` || get.port !== TERMINAL_PORT) {
          problems.push(
            `${where}: ${probe} is ${JSON.stringify(get)}, not GET ${prefix}/${endpoint} on ${TERMINAL_PORT}`,
          );
        }
      }
      for (const name of Object.keys(environmentOf(container, objects))) {
        if (!allowedVariable(name)) problems.push(`${where}: sets ${name}, which the terminal does not read`);
      }
      const home = list(container.volumeMounts).find((m) => m.mountPath === '/opt/app-root');
      const init = list<Container>(pod.spec.initContainers).find((c) => c.name === 'setup-volume');
      if (home || init) {
        const command = list<string>(init?.command);
        const initMount = list(init?.volumeMounts).find((m) => m.name === home?.name);
        const target = `${String(initMount?.mountPath)}/${String(home?.subPath)}`;
        if (!init || !runsTerminal(init)) problems.push(`${where}: /opt/app-root on a volume without setup-volume`);
        else if (JSON.stringify(command) !== JSON.stringify([SETUP_VOLUME_IN_IMAGE, '/opt/app-root', target])) {
          problems.push(`${where}: setup-volume runs ${JSON.stringify(command)}, not on ${target}`);
        }
      }
    }
  }
  if (terminals === 0) problems.push('no container runs the terminal image');
  return problems;
}

/** Every container has resource limits; every long-running one has readiness and liveness probes. */
function probeAndLimitProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const object of objects) {
    const pod = podTemplate(object);
    if (!pod) continue;
    for (const [key, long] of [
      ['initContainers', false],
      ['containers', true],
    ] as const) {
      for (const container of list(pod.spec[key])) {
        const where = `${object.metadata.name}/${String(container.name)}`;
        const limits = record(record(container.resources).limits);
        const requests = record(record(container.resources).requests);
        if (!limits.memory || !limits.cpu || !requests.memory || !requests.cpu) {
          problems.push(`${where}: needs cpu and memory requests and limits`);
        }
        if (long && (!container.readinessProbe || !container.livenessProbe)) problems.push(`${where}: needs probes`);
      }
    }
  }
  return problems;
}

async function validateAll(objects: K8sObject[]): Promise<string[]> {
  return (await Promise.all(objects.map(validateObject))).flat();
}

/** What the terminal makes of its environment in the pod (as config.ts parses it, and the supervisor checks it). */
function terminalConfig(objects: K8sObject[], extra: Record<string, string> = {}) {
  const container = objects.flatMap((o) => podContainers(o, 'containers')).find((c) => c.name === 'terminal')!;
  const config = loadConfig(
    {
      HOME: '/opt/app-root/src',
      KUBERNETES_SERVICE_HOST: '172.30.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      ...environmentOf(container, objects),
      ...extra,
    },
    AUTH_MODE_RULES,
  );
  return { ...config, authMode: chooseAuthMode(config) };
}

// ---------------------------------------------------------------------------

describe('oc process, as the template processor does it', () => {
  test('CONFIG_VARIABLES is read from config.ts', () => {
    for (const name of [
      'PORT',
      'AUTH_USERNAME',
      'AUTH_PASSWORD',
      'OAUTH_SERVICE_ACCOUNT',
      'SESSION_SECRET',
      'TRUST_PROXY',
    ]) {
      assert.ok(CONFIG_VARIABLES.has(name), name);
    }
    assert.ok(!CONFIG_VARIABLES.has('APPLICATION_NAME'));
  });

  test('${X} substitutes strings, ${{X}} JSON values; unknown names stay', () => {
    const values = new Map([
      ['NAME', 'web'],
      ['REPLICAS', '3'],
      ['ON', 'true'],
      ['LABELS', '{"a":"b"}'],
    ]);
    assert.equal(substitute('${NAME}-${NAME}:latest', values), 'web-web:latest');
    assert.equal(substitute('${{REPLICAS}}', values), 3);
    assert.equal(substitute('${{ON}}', values), true);
    assert.deepEqual(substitute('${{LABELS}}', values), { a: 'b' });
    assert.equal(substitute('${OTHER} and ${{OTHER}}', values), '${OTHER} and ${{OTHER}}');
    assert.throws(() => substitute('${{NAME}}', values), /not a JSON value/);
  });

  test('defaults, given values, generated values, required and unknown parameters', () => {
    const template: Template = {
      apiVersion: 'template.openshift.io/v1',
      kind: 'Template',
      metadata: { name: 't' },
      parameters: [
        { name: 'NAME', value: 'web', required: true },
        { name: 'REPLICAS', value: '2' },
        { name: 'SECRET', generate: 'expression', from: '[a-zA-Z0-9]{32}' },
        { name: 'HEX', generate: 'expression', from: 'x-[a-f0-9]{8}\\d{2}' },
        { name: 'IMAGE', required: true },
      ],
      objects: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: '${NAME}' },
          data: { replicas: '${REPLICAS}', secret: '${SECRET}', hex: '${HEX}', image: '${IMAGE}' },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: '${NAME}' },
          spec: { replicas: '${{REPLICAS}}' },
        },
      ],
    };
    assert.throws(() => processTemplate(template), /parameter IMAGE is required/);
    assert.throws(() => processTemplate(template, { IMAGE: 'i', TYPO: 'x' }), /unknown parameter name\(s\): TYPO/);
    const first = processTemplate(template, { IMAGE: 'quay.io/x/y:1', REPLICAS: '5' });
    const [map, deployment] = first.objects as [K8sObject, K8sObject];
    assert.equal(map.metadata.name, 'web');
    assert.equal(record(map.data).replicas, '5');
    assert.equal(record(deployment.spec).replicas, 5, '${{X}} gives a number');
    assert.match(first.values.SECRET!, /^[a-zA-Z0-9]{32}$/);
    assert.match(first.values.HEX!, /^x-[a-f0-9]{8}[0-9]{2}$/);
    assert.equal(record(map.data).secret, first.values.SECRET);
    const second = processTemplate(template, { IMAGE: 'i' });
    assert.notEqual(second.values.SECRET, first.values.SECRET, 'generated anew each time');
    assert.equal(processTemplate(template, { IMAGE: 'i', SECRET: 'given' }).values.SECRET, 'given');
    assert.match(generateFromExpression('\\w{40}'), /^\w{40}$/);
  });

  test('the validators catch what the API server would refuse', async () => {
    const deployment: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'Bad_Name', labels: { app: 'a b' } },
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: {
          metadata: { labels: { app: 'x' } },
          spec: { containers: [{ name: 'c', image: 'i', readinesProbe: {}, ports: [{ containerPort: '80' }] }] },
        },
      },
    };
    const problems = (await validateObject(deployment)).join('\n');
    assert.match(problems, /containerPort must be integer/);
    assert.match(problems, /containers\[0\]\.readinesProbe: no such field/);
    assert.match(problems, /metadata\.name "Bad_Name" is not valid/);
    assert.match(problems, /label app="a b"/);
    const route: K8sObject = {
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name: 'r' },
      spec: { to: { kind: 'Service', name: 's' }, tls: { termination: 'edgy' }, hots: 'x' },
    };
    assert.match(
      (await validateObject(route)).join('\n'),
      /termination: must be one of[\s\S]*spec\.hots: no such field/,
    );
    const stream: K8sObject = {
      apiVersion: 'image.openshift.io/v1',
      kind: 'ImageStream',
      metadata: { name: 's' },
      spec: { lookupPolicy: {}, tags: [{ name: 'latest', from: { kind: 'Docker', name: 'x' } }] },
    };
    assert.match((await validateObject(stream)).join('\n'), /lookupPolicy\.local: required[\s\S]*from\.kind/);
    const unknownKind: K8sObject = {
      apiVersion: 'apps.openshift.io/v1',
      kind: 'DeploymentConfig',
      metadata: { name: 'd' },
    };
    assert.match((await validateObject(unknownKind)).join('\n'), /not a kind this validator knows/);
  });
});

const TEMPLATE_FILES = readdirSync(templatesDir).filter((file) => file.endsWith('.json'));

describe('OpenShift templates', () => {
  test('the five templates are there', () => {
    assert.deepEqual(TEMPLATE_FILES.sort(), [
      'basic-auth-workspace.json',
      'basic-auth.json',
      'hosted-workshop.json',
      'production-workspace.json',
      'production.json',
    ]);
  });

  for (const file of TEMPLATE_FILES) {
    const template = loadTemplate(path.join(templatesDir, file));
    const hosted = file === 'hosted-workshop.json';
    const processed = () => processTemplate(template, { TERMINAL_IMAGE, ...(hosted ? { ADMIN_USERS: 'alice' } : {}) });

    test(`${file}: a valid Template; every parameter described and used`, () => {
      assert.deepEqual(validateTemplate(template), []);
      const text = JSON.stringify(template.objects) + (template.message ?? '');
      const used = new Set([...text.matchAll(/\$\{\{?([A-Za-z0-9_]+)\}?\}/g)].map((m) => m[1]));
      const declared = (template.parameters ?? []).map((p) => p.name);
      for (const parameter of template.parameters ?? []) {
        assert.ok(parameter.description && parameter.description.length > 20, `${parameter.name} has a description`);
        assert.ok(used.has(parameter.name), `${parameter.name} is used`);
      }
      for (const name of used) assert.ok(declared.includes(name!), `\${${name}} is declared`);
      assert.throws(() => processTemplate(template), /parameter TERMINAL_IMAGE is required/);
    });

    test(`${file}: every processed object is valid, also with the longest application name`, async () => {
      assert.deepEqual(await validateAll(processed().objects), []);
      const longest = processTemplate(template, { TERMINAL_IMAGE, APPLICATION_NAME: `a${'b'.repeat(38)}c` });
      assert.deepEqual(await validateAll(longest.objects), []);
    });

    test(`${file}: objects refer to each other correctly, all labelled app=APPLICATION_NAME`, () => {
      const { objects, values } = processed();
      assert.deepEqual(referenceProblems(objects), []);
      assert.deepEqual(triggerProblems(objects), []);
      assert.deepEqual(probeAndLimitProblems(objects), []);
      for (const object of objects) assert.equal(object.metadata.labels?.app, values.APPLICATION_NAME, object.kind);
      for (const route of ofKind(objects, 'Route')) {
        assert.deepEqual(record(route.spec).tls, { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' });
      }
    });

    if (!hosted) {
      test(`${file}: the terminal runs TERMINAL_IMAGE on port 10080 with its probes and only variables it reads`, () => {
        const { objects, values } = processed();
        assert.deepEqual(terminalProblems(objects, TERMINAL_IMAGE), []);
        const stream = named(objects, 'ImageStream', values.APPLICATION_NAME!)!;
        assert.deepEqual(record(stream.spec).lookupPolicy, { local: true });
        const deployment = named(objects, 'Deployment', values.APPLICATION_NAME!)!;
        assert.equal(deployment.apiVersion, 'apps/v1');
        assert.ok(deployment.metadata.annotations?.['image.openshift.io/triggers']);
        const service = named(objects, 'Service', values.APPLICATION_NAME!)!;
        assert.deepEqual(
          list(record(service.spec).ports).map((p) => p.port),
          [TERMINAL_PORT],
        );
      });
    }
  }

  test('production templates: OpenShift login through the service account, which is project admin', () => {
    for (const file of ['production.json', 'production-workspace.json']) {
      const { objects, values, message } = processTemplate(loadTemplate(path.join(templatesDir, file)), {
        TERMINAL_IMAGE,
        APPLICATION_NAME: 'lab',
      });
      const account = named(objects, 'ServiceAccount', 'lab-user')!;
      assert.equal(
        account.metadata.annotations?.['serviceaccounts.openshift.io/oauth-redirectreference.first'],
        '{"kind":"OAuthRedirectReference","apiVersion":"v1","reference":{"kind":"Route","name":"lab"}}',
      );
      const binding = named(objects, 'RoleBinding', 'lab-admin')!;
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'lab-user' }]);
      assert.equal(podTemplate(named(objects, 'Deployment', 'lab')!)!.spec.serviceAccountName, 'lab-user');
      assert.match(values.SESSION_SECRET!, /^[a-zA-Z0-9]{32}$/);
      const config = terminalConfig(objects);
      assert.equal(config.authMode.mode, 'openshift');
      assert.equal(config.oauthServiceAccount, 'lab-user');
      assert.equal(config.sessionSecret, values.SESSION_SECRET);
      assert.match(message, /oc get route lab/);
    }
  });

  test('basic-auth templates: a user name and a generated password, no OAuth service account', () => {
    for (const file of ['basic-auth.json', 'basic-auth-workspace.json']) {
      const template = loadTemplate(path.join(templatesDir, file));
      const { objects, values, message } = processTemplate(template, { TERMINAL_IMAGE });
      assert.deepEqual(ofKind(objects, 'ServiceAccount'), []);
      assert.equal(values.AUTH_USERNAME, 'workshop');
      assert.match(values.AUTH_PASSWORD!, /^[a-zA-Z0-9]{16}$/);
      const config = terminalConfig(objects);
      assert.equal(config.authMode.mode, 'basic');
      assert.equal(config.authUsername, 'workshop');
      assert.equal(config.authPassword, values.AUTH_PASSWORD);
      assert.ok(message.includes(values.AUTH_PASSWORD!), 'oc new-app shows the password');
      const given = processTemplate(template, { TERMINAL_IMAGE, AUTH_USERNAME: 'ann', AUTH_PASSWORD: 'pw' });
      assert.equal(terminalConfig(given.objects).authPassword, 'pw');
    }
  });

  test('workspace templates: a claim on /opt/app-root, filled by setup-volume before the terminal starts', () => {
    for (const file of ['production-workspace.json', 'basic-auth-workspace.json']) {
      const { objects } = processTemplate(loadTemplate(path.join(templatesDir, file)), {
        TERMINAL_IMAGE,
        APPLICATION_NAME: 'lab',
        VOLUME_SIZE: '5Gi',
      });
      const claim = named(objects, 'PersistentVolumeClaim', 'lab-workspace')!;
      assert.deepEqual(record(claim.spec).resources, { requests: { storage: '5Gi' } });
      const deployment = named(objects, 'Deployment', 'lab')!;
      assert.deepEqual(record(deployment.spec).strategy, { type: 'Recreate' }, 'one pod on the volume at a time');
      const [init] = podContainers(deployment, 'initContainers');
      assert.deepEqual(init!.command, [SETUP_VOLUME_IN_IMAGE, '/opt/app-root', '/mnt/workspace/workspace']);
      const terminal = podContainers(deployment, 'containers')[0]!;
      assert.deepEqual(terminal.volumeMounts, [
        { name: 'workspace', mountPath: '/opt/app-root', subPath: 'workspace' },
      ]);
    }
  });

  test('hosted-workshop.json: its ConfigMap holds templates/jupyterhub_config.py as it is', () => {
    const template = loadTemplate(path.join(templatesDir, 'hosted-workshop.json'));
    const map = template.objects.find((o) => o.kind === 'ConfigMap')!;
    const embedded = record(map.data)['jupyterhub_config.py'];
    const source = readFileSync(path.join(templatesDir, 'jupyterhub_config.py'), 'utf8');
    assert.ok(
      embedded === source,
      'templates/jupyterhub_config.py changed: embed it again with\n' +
        "  node -e \"const fs=require('fs'),f='templates/hosted-workshop.json',t=JSON.parse(fs.readFileSync(f));" +
        "t.objects.find(o=>o.kind==='ConfigMap').data['jupyterhub_config.py']=fs.readFileSync('templates/jupyterhub_config.py','utf8');" +
        "fs.writeFileSync(f,JSON.stringify(t,null,2)+'\\n')\" && npx biome format --write templates",
    );
  });

  test('hosted-workshop.json: hub, proxy, their secrets and the parameters of a room', () => {
    const template = loadTemplate(path.join(templatesDir, 'hosted-workshop.json'));
    const defaults = Object.fromEntries((template.parameters ?? []).map((p) => [p.name, p.value]));
    assert.equal(defaults.JUPYTERHUB_IMAGE, 'quay.io/jupyterhub/k8s-hub:4.0.0');
    assert.equal(defaults.PROXY_IMAGE, 'quay.io/jupyterhub/configurable-http-proxy:4.6.2');
    assert.equal(defaults.MEMORY_SIZE, '512Mi');
    assert.equal(defaults.VOLUME_SIZE, '1Gi');
    assert.equal(defaults.IDLE_TIMEOUT, '7200');
    assert.equal(defaults.ADMIN_USERS, '');
    const { objects, values } = processTemplate(template, { TERMINAL_IMAGE, APPLICATION_NAME: 'room' });
    assert.match(values.PROXY_API_TOKEN!, /^[a-zA-Z0-9]{64}$/);
    assert.match(values.COOKIE_SECRET!, /^[a-f0-9]{64}$/);
    const hubAccount = named(objects, 'ServiceAccount', 'room-hub')!;
    assert.match(
      hubAccount.metadata.annotations?.['serviceaccounts.openshift.io/oauth-redirectreference.first'] ?? '',
      /"reference":\{"kind":"Route","name":"room"\}/,
    );
    assert.deepEqual(named(objects, 'RoleBinding', 'room-hub-edit')!.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'edit',
    });
    const hub = podContainers(named(objects, 'Deployment', 'room-hub')!)[0]!;
    const proxy = podContainers(named(objects, 'Deployment', 'room-proxy')!)[0]!;
    assert.equal(hub.image, 'quay.io/jupyterhub/k8s-hub:4.0.0');
    assert.equal(proxy.image, 'quay.io/jupyterhub/configurable-http-proxy:4.6.2');
    assert.deepEqual(proxyArguments(objects), [
      '--ip=0.0.0.0',
      '--port=8000',
      '--api-ip=0.0.0.0',
      '--api-port=8001',
      '--default-target=http://room-hub:8081',
      '--error-target=http://room-hub:8081/hub/error',
    ]);
    assert.equal(environmentOf(hub, objects).CONFIGPROXY_AUTH_TOKEN, values.PROXY_API_TOKEN);
    assert.equal(environmentOf(proxy, objects).CONFIGPROXY_AUTH_TOKEN, values.PROXY_API_TOKEN);
    assert.equal(environmentOf(hub, objects).TERMINAL_IMAGE, TERMINAL_IMAGE);
    assert.equal(record(record(named(objects, 'Route', 'room')!.spec).to).name, 'room-proxy');
    assert.ok(record(named(objects, 'ConfigMap', 'room-hub-config')!.data)['jupyterhub_config.py']);
    assert.deepEqual(
      list(hub.volumeMounts).map((m) => m.mountPath),
      ['/etc/jupyterhub', '/srv/jupyterhub/data'],
    );
  });
});

/**
 * What configurable-http-proxy is started with in the proxy pod: its command run
 * by the shell, with a stand-in configurable-http-proxy that prints its arguments.
 */
function proxyArguments(objects: K8sObject[]): string[] {
  const proxy = podContainers(objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-proxy'))!)[0]!;
  const bin = mkdtempSync(path.join(scratch, 'chp-'));
  writeFileSync(path.join(bin, 'configurable-http-proxy'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
  chmodSync(path.join(bin, 'configurable-http-proxy'), 0o755);
  const [program, ...rest] = list<string>(proxy.command);
  const run = spawnSync(program!, rest, {
    encoding: 'utf8',
    env: { PATH: `${bin}:${process.env.PATH}`, ...environmentOf(proxy, objects) },
  });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.split('\n').filter(Boolean);
}

test('hosted-workshop.json with SUBDOMAIN_HOST: the hub on that host, the proxy routing by host', async () => {
  const template = loadTemplate(path.join(templatesDir, 'hosted-workshop.json'));
  const { objects } = processTemplate(template, {
    TERMINAL_IMAGE,
    APPLICATION_NAME: 'room',
    SUBDOMAIN_HOST: 'room.apps.example.com',
  });
  assert.deepEqual(await validateAll(objects), []);
  assert.equal(record(named(objects, 'Route', 'room')!.spec).host, 'room.apps.example.com');
  const hub = podContainers(named(objects, 'Deployment', 'room-hub')!)[0]!;
  assert.equal(environmentOf(hub, objects).SUBDOMAIN_HOST, 'room.apps.example.com');
  // configurable-http-proxy must look up routes by host (JupyterHub adds them as <user>.<host>/user/<user>/).
  assert.equal(proxyArguments(objects).at(-1), '--host-routing');
  // Without it the route's host is left to OpenShift, as before.
  const plain = processTemplate(template, { TERMINAL_IMAGE, APPLICATION_NAME: 'room' }).objects;
  assert.equal(record(named(plain, 'Route', 'room')!.spec).host, '');
  assert.ok(!proxyArguments(plain).includes('--host-routing'));
});

// ---------------------------------------------------------------------------

describe('hosted workshop: jupyterhub_config.py', () => {
  let processed: Processed;
  let configFile: string;
  let accountDir: string;
  let api: https.Server | undefined;
  const apiRequests: { method: string; url: string; authorization: string; body?: K8sObject }[] = [];
  /** The Routes the API server holds: the hub's, with the host OpenShift gave it. */
  const routes = new Map<string, K8sObject>([
    [
      'room',
      {
        apiVersion: 'route.openshift.io/v1',
        kind: 'Route',
        metadata: { name: 'room', labels: { app: 'room' } },
        spec: { host: 'room.apps.example.com' },
      },
    ],
  ]);

  before(async () => {
    processed = processTemplate(loadTemplate(path.join(templatesDir, 'hosted-workshop.json')), {
      TERMINAL_IMAGE,
      APPLICATION_NAME: 'room',
      ADMIN_USERS: 'alice, bob',
    });
    const map = named(processed.objects, 'ConfigMap', 'room-hub-config')!;
    configFile = path.join(scratch, 'hub', 'jupyterhub_config.py');
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(configFile, String(record(map.data)['jupyterhub_config.py']));
    // The pod's service account files, and an API server answering for the Route.
    accountDir = path.join(scratch, 'serviceaccount');
    mkdirSync(accountDir);
    writeFileSync(path.join(accountDir, 'namespace'), 'workshop-ns\n');
    writeFileSync(path.join(accountDir, 'token'), 'token-at-start\n');
    if (!findTool('openssl')) return;
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(scratch, 'api.key'),
        '-out',
        path.join(accountDir, 'ca.crt'),
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    api = https.createServer(
      { key: readFileSync(path.join(scratch, 'api.key')), cert: readFileSync(path.join(accountDir, 'ca.crt')) },
      (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk;
        });
        req.on('end', () => {
          apiRequests.push({
            method: req.method ?? '',
            url: req.url ?? '',
            authorization: req.headers.authorization ?? '',
            ...(body ? { body: JSON.parse(body) as K8sObject } : {}),
          });
          const answer = (status: number, value: unknown = { kind: 'Status' }) => {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.end(JSON.stringify(value));
          };
          const [, name] =
            /^\/apis\/route\.openshift\.io\/v1\/namespaces\/workshop-ns\/routes(?:\/([a-z0-9-]+))?$/.exec(
              req.url ?? '',
            ) ?? [undefined, undefined];
          if (req.url?.startsWith('/apis/route.openshift.io/') !== true) return answer(404);
          if (req.method === 'POST' && !name) {
            const route = JSON.parse(body) as K8sObject;
            routes.set(route.metadata.name, route);
            return answer(201, route);
          }
          const route = name ? routes.get(name) : undefined;
          if (!route) return answer(404);
          if (req.method === 'GET') return answer(200, route);
          if (req.method === 'DELETE') {
            routes.delete(name!);
            return answer(200);
          }
          if (req.method === 'PATCH' && req.headers['content-type'] === 'application/merge-patch+json') {
            const change = JSON.parse(body) as { spec: Record<string, unknown> };
            route.spec = { ...record(route.spec), ...change.spec };
            return answer(200, route);
          }
          return answer(405);
        });
      },
    );
    await new Promise<void>((resolve) => api!.listen(0, '127.0.0.1', resolve));
  });
  after(() => api?.close());

  /** The hub's interpreter: whatever runs Debian's jupyterhub (its shebang). */
  function hubPython(): string {
    return readFileSync(findTool('jupyterhub')!, 'utf8')
      .split('\n')[0]!
      .replace(/^#!\s*/, '')
      .split(' ')[0]!;
  }

  function loadHubConfig(extraEnv: Record<string, string> = {}) {
    const hub = podContainers(named(processed.objects, 'Deployment', 'room-hub')!)[0]!;
    const env = {
      PATH: process.env.PATH,
      HOME: scratch,
      ...environmentOf(hub, processed.objects),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String((api!.address() as AddressInfo).port),
      SERVICE_ACCOUNT_DIR: accountDir,
      PYTHONPATH: path.join(root, 'test/fixtures/kubespawner'),
      PYTHONDONTWRITEBYTECODE: '1',
      ...extraEnv,
    };
    writeFileSync(path.join(accountDir, 'token'), 'token-at-start\n');
    // Not spawnSync: the API server answering the config's request runs in this process.
    const child = spawn(hubPython(), [path.join(root, 'test/fixtures/kubespawner/load_config.py'), configFile], {
      env,
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (status) => resolve({ status, stdout, stderr })),
    );
  }

  test('compiles with python3 -m py_compile', (t) => {
    if (!requireTool(t, 'python3') || !requireTool(t, 'jupyterhub')) return;
    const compiled = spawnSync(
      hubPython(),
      [
        '-c',
        'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
        configFile,
        path.join(scratch, 'hub.pyc'),
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(compiled.status, 0, compiled.stderr);
  });

  test('JupyterHub loads it: KubeSpawner terminals on 10080, OpenShift login, the idle culler', async (t) => {
    if (!requireTool(t, 'python3') || !requireTool(t, 'jupyterhub') || !requireTool(t, 'openssl')) return;
    const run = await loadHubConfig();
    assert.equal(run.status, 0, `${run.stderr}\n${run.stdout}`);
    const loaded = JSON.parse(run.stdout) as Record<string, Record<string, unknown>> & {
      unknown: string[];
      invalid: string[];
    };
    assert.deepEqual(loaded.unknown, [], 'every option is one the class has');
    assert.deepEqual(loaded.invalid, [], 'every value is one the class accepts');

    // Hub and proxy: the names and ports of the template's Services.
    const { objects, values } = processed;
    const hub = loaded.hub!;
    assert.equal(hub.cleanup_servers, false);
    assert.equal(hub.hub_connect_url, 'http://room-hub:8081');
    assert.deepEqual(list(record(named(objects, 'Service', 'room-hub')!.spec).ports)[0]!.port, 8081);
    assert.equal(loaded.proxy!.should_start, false);
    assert.equal(loaded.proxy!.api_url, 'http://room-proxy-api:8001');
    assert.deepEqual(list(record(named(objects, 'Service', 'room-proxy-api')!.spec).ports)[0]!.port, 8001);
    assert.equal(loaded.proxy!.auth_token, values.PROXY_API_TOKEN);
    assert.equal(hub.cookie_secret, values.COOKIE_SECRET);
    assert.equal(hub.db_url, 'sqlite:////srv/jupyterhub/data/jupyterhub.sqlite');
    assert.deepEqual(hub.services, [
      { name: 'idle-culler', command: ['python3', '-m', 'jupyterhub_idle_culler', '--timeout=7200'] },
      {
        name: 'room',
        url: 'http://room-hub:8090',
        api_token: values.ROOM_API_TOKEN,
        oauth_no_confirm: true,
        oauth_client_allowed_scopes: ['custom:room:instruct'],
      },
    ]);
    // The room service: the second container of the hub's pod, on the hub's volume, reached by the stacks.
    const roomContainer = podContainers(named(objects, 'Deployment', 'room-hub')!)[1]!;
    assert.equal(roomContainer.image, TERMINAL_IMAGE);
    const roomEnv = environmentOf(roomContainer, objects);
    assert.equal(roomEnv.JUPYTERHUB_API_TOKEN, values.ROOM_API_TOKEN);
    assert.equal(roomEnv.ROOM_DATABASE, '/srv/jupyterhub/data/room.sqlite');
    assert.deepEqual(
      list(record(named(objects, 'Service', 'room-hub')!.spec).ports).map((p) => p.port),
      [8081, 8090],
    );
    assert.equal(record(loaded.spawner!.environment).ROOM_SERVICE_URL, 'http://room-hub:8090/services/room');
    const instructors = list(hub.load_roles).find((role) => role.name === 'instructors')!;
    assert.deepEqual(instructors.users, ['alice', 'bob']);
    assert.ok(list<string>(instructors.scopes).includes('access:servers'), 'instructors may watch terminals');
    assert.deepEqual(list(hub.load_roles)[0]!.services, ['idle-culler']);
    assert.ok(list<string>(list(hub.load_roles)[0]!.scopes).includes('delete:servers'));

    // Login: the hub's service account is the OAuth client, its Route the callback.
    const auth = loaded.authenticator!;
    assert.equal(auth.is_openshift, true, 'an OpenShiftOAuthenticator');
    assert.equal(auth.client_id, 'system:serviceaccount:workshop-ns:room-hub');
    assert.equal(auth.oauth_callback_url, 'https://room.apps.example.com/hub/oauth_callback');
    assert.ok(
      apiRequests.some(
        (r) =>
          r.method === 'GET' &&
          r.url === '/apis/route.openshift.io/v1/namespaces/workshop-ns/routes/room' &&
          r.authorization === 'Bearer token-at-start',
      ),
    );
    // One origin for all: no subdomains, and no route for them.
    assert.equal(hub.subdomain_host, undefined);
    assert.ok(!routes.has('room-users'));
    assert.deepEqual(
      apiRequests.filter((r) => r.method !== 'GET'),
      [],
    );
    assert.deepEqual(record(auth.login).auth_state, { client_secret: 'token-after-rotation' }, 'token read at login');
    assert.equal(auth.allow_all, true);
    assert.equal(auth.basic_auth, false);
    assert.deepEqual(auth.admin_users, ['alice', 'bob']);

    // The spawner: one terminal pod per user from TERMINAL_IMAGE.
    assert.equal(loaded.spawner_class, 'kubespawner.KubeSpawner');
    const spawner = loaded.spawner!;
    assert.equal(spawner.image, TERMINAL_IMAGE);
    assert.deepEqual(spawner.cmd, ['/usr/libexec/s2i/run']);
    assert.deepEqual(spawner.args, []);
    assert.equal(spawner.port, TERMINAL_PORT);
    assert.equal(spawner.mem_limit, 512 * 2 ** 20);
    assert.equal(spawner.storage_capacity, '1Gi');
    assert.equal(spawner.storage_pvc_ensure, true);
    assert.equal(record(list(spawner.volumes)[0]!.persistentVolumeClaim).claimName, spawner.pvc_name_template);

    // The pod KubeSpawner would make for alice, checked like the templates' pods.
    const expand = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll('{username}', 'alice'));
    const labels = { ...(spawner.common_labels as Record<string, string>), component: 'singleuser-server' };
    const pod: K8sObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: expand(spawner.pod_name_template), labels },
      spec: {
        initContainers: expand(spawner.init_containers),
        containers: [
          {
            name: 'notebook',
            image: spawner.image,
            args: spawner.cmd,
            ports: [{ name: 'notebook-port', containerPort: spawner.port }],
            resources: {
              limits: { cpu: String(spawner.cpu_limit), memory: String(spawner.mem_limit) },
              requests: { cpu: String(spawner.cpu_guarantee), memory: String(spawner.mem_guarantee) },
            },
            volumeMounts: expand(spawner.volume_mounts),
            securityContext: spawner.container_security_context,
            ...loaded.probes,
          },
        ],
        volumes: expand(spawner.volumes),
      },
    };
    const claim: K8sObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: expand(spawner.pvc_name_template), labels },
      spec: {
        accessModes: spawner.storage_access_modes,
        resources: { requests: { storage: spawner.storage_capacity } },
      },
    };
    assert.deepEqual(await validateAll([pod, claim]), []);
    assert.deepEqual(
      referenceProblems([pod, claim]).filter((p) => !p.includes('selects no pod')),
      [],
    );
    assert.deepEqual(terminalProblems([pod, claim], TERMINAL_IMAGE, '/user/alice'), []);
    assert.deepEqual(probeAndLimitProblems([pod]), []);
    for (const service of ofKind(objects, 'Service')) {
      const selector = record(service.spec).selector as Record<string, string>;
      assert.ok(!contains(labels, selector), `Service ${service.metadata.name} must not select terminal pods`);
    }
  });

  test('SUBDOMAIN_HOST: subdomain_host, and a valid wildcard Route for *.SUBDOMAIN_HOST made, kept, moved and removed', async (t) => {
    if (!requireTool(t, 'python3') || !requireTool(t, 'jupyterhub') || !requireTool(t, 'openssl')) return;
    const hubRoute = routes.get('room')!;
    const changes = () => apiRequests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`);
    try {
      const run = await loadHubConfig({ SUBDOMAIN_HOST: 'room.apps.example.com' });
      assert.equal(run.status, 0, `${run.stderr}\n${run.stdout}`);
      const loaded = JSON.parse(run.stdout) as { hub: Record<string, unknown>; unknown: string[]; invalid: string[] };
      assert.deepEqual([loaded.unknown, loaded.invalid], [[], []]);
      assert.equal(loaded.hub.subdomain_host, 'https://room.apps.example.com');
      const users = routes.get('room-users');
      assert.ok(users, "the hub made the route for the users' hosts");
      assert.deepEqual(await validateObject(users), []);
      assert.deepEqual(referenceProblems([...processed.objects, users]), []);
      assert.equal(users.metadata.labels?.app, 'room');
      // A wildcard route for x.D serves *.D: every <user>.room.apps.example.com.
      assert.deepEqual(
        [record(users.spec).host, record(users.spec).wildcardPolicy],
        ['room-users.room.apps.example.com', 'Subdomain'],
      );
      assert.deepEqual(record(users.spec).tls, { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' });

      // A restart leaves it alone (a certificate the admin added stays); a new host moves it, certificate kept.
      users.spec = { ...record(users.spec), tls: { termination: 'edge', certificate: 'CERT', key: 'KEY' } };
      const before = changes().length;
      assert.equal((await loadHubConfig({ SUBDOMAIN_HOST: 'room.apps.example.com' })).status, 0);
      assert.equal(changes().length, before);
      hubRoute.spec = { host: 'lab.example.org' };
      assert.equal((await loadHubConfig({ SUBDOMAIN_HOST: 'lab.example.org' })).status, 0);
      assert.equal(record(routes.get('room-users')!.spec).host, 'room-users.lab.example.org');
      assert.equal(record(record(routes.get('room-users')!.spec).tls).certificate, 'CERT');

      // The hub's route on another host than SUBDOMAIN_HOST: a clear refusal, nothing changed.
      const wrong = await loadHubConfig({ SUBDOMAIN_HOST: 'room.apps.example.com' });
      assert.notEqual(wrong.status, 0);
      assert.match(
        wrong.stderr,
        /route room has the host lab\.example\.org, not SUBDOMAIN_HOST \(room\.apps\.example\.com\)/,
      );
      const bad = await loadHubConfig({ SUBDOMAIN_HOST: 'https://x' });
      assert.match(bad.stderr, /SUBDOMAIN_HOST must be a host name/);

      // Back to one origin: the route goes.
      assert.equal((await loadHubConfig()).status, 0);
      assert.ok(!routes.has('room-users'));
      assert.deepEqual(changes(), [
        'POST /apis/route.openshift.io/v1/namespaces/workshop-ns/routes',
        'PATCH /apis/route.openshift.io/v1/namespaces/workshop-ns/routes/room-users',
        'DELETE /apis/route.openshift.io/v1/namespaces/workshop-ns/routes/room-users',
      ]);
    } finally {
      hubRoute.spec = { host: 'room.apps.example.com' };
      routes.delete('room-users');
    }
  });

  test('a bad IDLE_TIMEOUT stops the hub with a message naming it', async (t) => {
    if (!requireTool(t, 'python3') || !requireTool(t, 'jupyterhub') || !requireTool(t, 'openssl')) return;
    const run = await loadHubConfig({ IDLE_TIMEOUT: 'soon' });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /IDLE_TIMEOUT must be a whole number/);
  });
});

// ---------------------------------------------------------------------------

describe('kubernetes/ kustomization', () => {
  const source = path.join(root, 'kubernetes');
  function copy(withPassword: string | null): string {
    const dir = mkdtempSync(path.join(scratch, 'kustomize-'));
    cpSync(source, dir, { recursive: true });
    rmSync(path.join(dir, 'password.env'), { force: true });
    if (withPassword !== null) writeFileSync(path.join(dir, 'password.env'), `AUTH_PASSWORD=${withPassword}\n`);
    return dir;
  }

  test('without password.env there is nothing to deploy (never a terminal without a password)', () => {
    assert.throws(() => renderKustomization(copy(null)), /password\.env does not exist/);
    assert.match(readFileSync(path.join(source, '.gitignore'), 'utf8'), /^password\.env$/m);
  });

  test('renders valid objects: the terminal on 10080 with its probes, basic auth from the Secret', async () => {
    const objects = renderKustomization(copy('correct horse'));
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      ['Secret/terminal-auth', 'Deployment/terminal', 'Service/terminal'],
    );
    assert.deepEqual(await validateAll(objects), []);
    assert.deepEqual(referenceProblems(objects), []);
    assert.deepEqual(probeAndLimitProblems(objects), []);
    assert.deepEqual(terminalProblems(objects, 'workshop-terminal:latest'), []);
    const config = terminalConfig(objects);
    assert.equal(config.authMode.mode, 'basic');
    assert.equal(config.authUsername, 'workshop');
    assert.equal(config.authPassword, 'correct horse');
    // An empty password is refused by the terminal itself.
    assert.throws(() => terminalConfig(renderKustomization(copy(''))), ConfigError);
  });

  test('the optional ingress.yaml is valid and reaches the Service', async () => {
    const [ingress] = parseAllDocuments(readFileSync(path.join(source, 'ingress.yaml'), 'utf8')).map(
      (d) => d.toJS() as K8sObject,
    );
    assert.deepEqual(await validateObject(ingress!), []);
    const backend = record(record(list(record(list(record(ingress!.spec).rules)[0]!.http).paths)[0]!.backend).service);
    assert.deepEqual(backend, { name: 'terminal', port: { name: 'http' } });
    const service = renderKustomization(copy('x')).find((o) => o.kind === 'Service')!;
    assert.ok(list(record(service.spec).ports).some((p) => p.name === 'http'));
  });

  test('kubectl kustomize renders the same objects (when kubectl is installed)', (t) => {
    if (!findTool('kubectl')) {
      t.skip('kubectl is not installed: only the built-in renderer was checked');
      return;
    }
    const dir = copy('same');
    const output = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(output.status, 0, output.stderr);
    const theirs = parseAllDocuments(output.stdout).map((d) => d.toJS() as K8sObject);
    const hashed = theirs.find((o) => o.kind === 'Secret')!.metadata.name;
    assert.match(hashed, /^terminal-auth-[a-z0-9]{10}$/);
    const ours = JSON.parse(JSON.stringify(renderKustomization(dir)).replaceAll('"terminal-auth"', `"${hashed}"`));
    const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
    assert.deepEqual(
      [...theirs].sort((a, b) => key(a).localeCompare(key(b))),
      [...(ours as K8sObject[])].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });
});

// ---------------------------------------------------------------------------

describe('image/bin/setup-volume', () => {
  /** A stand-in for the image's /opt/app-root and an empty volume. */
  function fixture() {
    const dir = mkdtempSync(path.join(scratch, 'volume-'));
    const image = path.join(dir, 'image/opt/app-root');
    mkdirSync(path.join(image, 'src/.workshop'), { recursive: true });
    mkdirSync(path.join(image, 'etc/profile.d'), { recursive: true });
    mkdirSync(path.join(image, 'bin'), { recursive: true });
    writeFileSync(path.join(image, 'src/hello.txt'), 'hello\n');
    writeFileSync(path.join(image, 'src/.workshop/setup'), '#!/bin/sh\n');
    chmodSync(path.join(image, 'src/.workshop/setup'), 0o775);
    writeFileSync(path.join(image, 'etc/profile.d/10-workshop.sh'), 'export WORKSHOP=1\n');
    writeFileSync(path.join(image, 'bin/tool'), '#!/bin/sh\necho tool\n');
    chmodSync(path.join(image, 'bin/tool'), 0o755);
    symlinkSync('hello.txt', path.join(image, 'src/link'));
    const volume = path.join(dir, 'mnt/workspace');
    mkdirSync(volume, { recursive: true });
    return { dir, image, volume, target: path.join(volume, 'workspace') };
  }

  function run(image: string, target: string, env: NodeJS.ProcessEnv = process.env) {
    return spawnSync('bash', [setupVolume, image, target], { encoding: 'utf8', env, timeout: 20_000 });
  }

  /** Relative path → file content, link target or mode, for comparing trees. */
  function tree(dir: string): Record<string, string> {
    const entries: Record<string, string> = {};
    const walk = (relative: string) => {
      for (const name of readdirSync(path.join(dir, relative))) {
        const rel = path.join(relative, name);
        const full = path.join(dir, rel);
        const stat = lstatSync(full);
        const mode = (stat.mode & 0o777).toString(8);
        if (stat.isSymbolicLink()) entries[rel] = `-> ${readlinkSync(full)}`;
        else if (stat.isDirectory()) {
          entries[rel] = `dir ${mode}`;
          walk(rel);
        } else entries[rel] = `${mode} ${readFileSync(full, 'utf8')}`;
      }
    };
    walk('');
    return entries;
  }

  test('passes shellcheck', (t) => {
    if (!requireTool(t, 'shellcheck')) return;
    const result = spawnSync('shellcheck', [setupVolume], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout);
  });

  test('first start copies the image, modes and links included; later starts leave it alone', () => {
    const { image, volume, target } = fixture();
    const first = run(image, target);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /first start/);
    assert.deepEqual(tree(target), tree(image));
    assert.deepEqual(readdirSync(volume), ['workspace'], 'no temporary folder left');

    writeFileSync(path.join(target, 'src/hello.txt'), 'changed by the user\n');
    writeFileSync(path.join(target, 'src/notes.txt'), 'mine\n');
    rmSync(path.join(target, 'bin/tool'));
    writeFileSync(path.join(image, 'src/new-in-image.txt'), 'new\n');
    const before = tree(target);
    const mtime = statSync(target).mtimeMs;
    const second = run(image, target);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already set up: left as it is/);
    assert.deepEqual(tree(target), before);
    assert.equal(statSync(target).mtimeMs, mtime);
  });

  test('.delete-volume wipes the copy and copies the image afresh', () => {
    const { image, volume, target } = fixture();
    assert.equal(run(image, target).status, 0);
    writeFileSync(path.join(target, 'src/notes.txt'), 'mine\n');
    writeFileSync(path.join(target, '.delete-volume'), '');
    const result = run(image, target);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\.delete-volume found/);
    assert.deepEqual(tree(target), tree(image));
    assert.deepEqual(readdirSync(volume), ['workspace']);
  });

  test('.sync-volume adds what the image has new, overwrites nothing, and is removed', () => {
    const { image, target } = fixture();
    assert.equal(run(image, target).status, 0);
    writeFileSync(path.join(target, 'src/hello.txt'), 'changed by the user\n');
    writeFileSync(path.join(target, 'src/notes.txt'), 'mine\n');
    writeFileSync(path.join(image, 'src/hello.txt'), 'changed in the image\n');
    mkdirSync(path.join(image, 'src/lesson-2'));
    writeFileSync(path.join(image, 'src/lesson-2/README'), 'lesson 2\n');
    writeFileSync(path.join(target, '.sync-volume'), '');
    const result = run(image, target);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(path.join(target, 'src/hello.txt'), 'utf8'), 'changed by the user\n');
    assert.equal(readFileSync(path.join(target, 'src/notes.txt'), 'utf8'), 'mine\n');
    assert.equal(readFileSync(path.join(target, 'src/lesson-2/README'), 'utf8'), 'lesson 2\n');
    assert.ok(!existsSync(path.join(target, '.sync-volume')));
    const again = run(image, target);
    assert.match(again.stdout, /left as it is/);
  });

  test('an interrupted copy is never taken for a complete one', async () => {
    const { dir, image, volume, target } = fixture();
    // A leftover of an earlier, interrupted start: removed, and the copy redone.
    mkdirSync(path.join(volume, '.workspace.partial/src'), { recursive: true });
    writeFileSync(path.join(volume, '.workspace.partial/src/hello.txt'), 'hel');
    const redo = run(image, target);
    assert.equal(redo.status, 0, redo.stderr);
    assert.match(redo.stdout, /leftovers of an interrupted run/);
    assert.deepEqual(tree(target), tree(image));
    assert.deepEqual(readdirSync(volume), ['workspace']);

    // Killed after every file was written but before the rename: still not complete.
    const realTar = findTool('tar')!;
    const fakeBin = path.join(dir, 'bin');
    mkdirSync(fakeBin);
    const fakeTar = (after: string) =>
      `#!/bin/sh\ncase " $* " in *" -xpf "*) ${realTar} "$@"; ${after} ;; esac\nexec ${realTar} "$@"\n`;
    writeFileSync(path.join(fakeBin, 'tar'), fakeTar('exec sleep 30'));
    chmodSync(path.join(fakeBin, 'tar'), 0o755);
    const fresh = path.join(dir, 'mnt/other');
    mkdirSync(fresh);
    const freshTarget = path.join(fresh, 'workspace');
    const child = spawn('bash', [setupVolume, image, freshTarget], {
      env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
      detached: true,
      stdio: 'ignore',
    });
    const copied = path.join(fresh, '.workspace.partial/bin/tool');
    const deadline = Date.now() + 10_000;
    while (!existsSync(copied) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(existsSync(copied), 'the copy had got far');
    assert.ok(!existsSync(freshTarget), 'an unfinished copy is not the workspace');

    // A copy that fails (say, the volume is full) fails the init container, and is not complete either.
    writeFileSync(path.join(fakeBin, 'tar'), fakeTar('exit 2'));
    const failed = run(image, freshTarget, { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` });
    assert.notEqual(failed.status, 0);
    assert.ok(!existsSync(freshTarget));

    const next = run(image, freshTarget);
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(tree(freshTarget), tree(image));
    assert.deepEqual(readdirSync(fresh), ['workspace']);
  });

  test('wrong use is refused with a message', () => {
    const usage = spawnSync('bash', [setupVolume], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /Usage: setup-volume SOURCE TARGET/);
    const { image } = fixture();
    const missing = run(image, path.join(scratch, 'no-such-volume/workspace'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /is not mounted/);
  });
});
