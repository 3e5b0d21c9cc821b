// OpenShift templates and kustomizations turned into objects the way the cluster
// tools do it, and those objects checked against the shapes the API server
// accepts: `oc process` parameter handling, a small kustomize for the subset our
// kubernetes/ folder uses, Kubernetes kinds validated with kubernetes-models (its
// JSON schemas, plus its type declarations for fields that do not exist), and
// the OpenShift kinds we use (Template, Route, ImageStream) against their
// documented fields.
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface TemplateParameter {
  name: string;
  displayName?: string;
  description?: string;
  value?: string;
  generate?: string;
  from?: string;
  required?: boolean;
}

export interface Template extends K8sObject {
  message?: string;
  labels?: Record<string, string>;
  parameters?: TemplateParameter[];
  objects: JsonObject[];
}

export interface Processed {
  objects: K8sObject[];
  /** Every parameter's final value, generated ones included. */
  values: Record<string, string>;
  message: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------
// oc process

// The same expressions as OpenShift's template processor: ${NAME} inside any
// string, and ${{NAME}} whose result is parsed as JSON (a number, a boolean,
// an object) instead of staying a string.
const STRING_REFERENCE = /\$\{([a-zA-Z0-9_]+)\}/g;
const JSON_REFERENCE = /\$\{\{([a-zA-Z0-9_]+)\}\}/g;

/** Substitutes parameters in one string value; unknown names are left as they are, like `oc process`. */
export function substitute(text: string, values: ReadonlyMap<string, string>): Json {
  let out = text.replace(STRING_REFERENCE, (whole, name: string) => values.get(name) ?? whole);
  let asJson = false;
  out = out.replace(JSON_REFERENCE, (whole, name: string) => {
    const value = values.get(name);
    if (value === undefined) return whole;
    asJson = true;
    return value;
  });
  if (!asJson) return out;
  try {
    return JSON.parse(out) as Json;
  } catch {
    throw new Error(`${JSON.stringify(text)} became ${JSON.stringify(out)}, which is not a JSON value`);
  }
}

function substituteAll(value: Json, values: ReadonlyMap<string, string>): Json {
  if (typeof value === 'string') return substitute(value, values);
  if (Array.isArray(value)) return value.map((item) => substituteAll(item, values));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substituteAll(item as Json, values)]));
  }
  return value;
}

// Character classes of OpenShift's expression generator (`generate: expression`).
const CLASS_ESCAPES: Record<string, string> = {
  w: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_',
  d: '0123456789',
  a: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  A: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

function charRange(from: string, to: string): string {
  let chars = '';
  for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) chars += String.fromCharCode(code);
  if (!chars) throw new Error(`the range ${from}-${to} is empty`);
  return chars;
}

/** A random value for a `from` expression like `[a-zA-Z0-9]{32}`, `\w{8}` or `user[0-9]{3}`. */
export function generateFromExpression(expression: string): string {
  let result = '';
  let i = 0;
  while (i < expression.length) {
    let chars: string;
    const c = expression[i]!;
    if (c === '[') {
      const end = expression.indexOf(']', i + 1);
      if (end < 0) throw new Error(`unclosed [ in ${expression}`);
      const body = expression.slice(i + 1, end);
      chars = '';
      for (let j = 0; j < body.length; j++) {
        if (body[j] === '\\' && CLASS_ESCAPES[body[j + 1] ?? ''] !== undefined) {
          chars += CLASS_ESCAPES[body[j + 1]!];
          j++;
        } else if (body[j + 1] === '-' && j + 2 < body.length) {
          chars += charRange(body[j]!, body[j + 2]!);
          j += 2;
        } else {
          chars += body[j];
        }
      }
      i = end + 1;
    } else if (c === '\\' && CLASS_ESCAPES[expression[i + 1] ?? ''] !== undefined) {
      chars = CLASS_ESCAPES[expression[i + 1]!]!;
      i += 2;
    } else {
      chars = c;
      i += 1;
    }
    let count = 1;
    const quantifier = /^\{(\d+)\}/.exec(expression.slice(i));
    if (quantifier) {
      count = Number(quantifier[1]);
      i += quantifier[0].length;
    }
    if (!chars) throw new Error(`an empty character class in ${expression}`);
    for (let n = 0; n < count; n++) result += chars[randomInt(chars.length)];
  }
  return result;
}

export function loadTemplate(file: string): Template {
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/**
 * What `oc process -p NAME=VALUE …` makes of a template: given values first, then
 * each parameter's `value`, then a generated one; a required parameter left
 * empty, or a value for a parameter the template lacks, is an error.
 */
export function processTemplate(template: Template, given: Record<string, string> = {}): Processed {
  const parameters = template.parameters ?? [];
  const known = new Set(parameters.map((p) => p.name));
  const unknown = Object.keys(given).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`unknown parameter name(s): ${unknown.join(', ')}`);
  const values = new Map<string, string>();
  for (const parameter of parameters) {
    let value = given[parameter.name] ?? parameter.value ?? '';
    if (value === '' && parameter.generate) {
      if (parameter.generate !== 'expression') throw new Error(`parameter ${parameter.name}: unknown generator`);
      if (!parameter.from) throw new Error(`parameter ${parameter.name}: generate expression without from`);
      value = generateFromExpression(parameter.from);
    }
    if (value === '' && parameter.required) {
      throw new Error(`parameter ${parameter.name} is required and must be specified`);
    }
    values.set(parameter.name, value);
  }
  const objects = (template.objects ?? []).map((object) => {
    const processed = substituteAll(object, values) as JsonObject;
    if (template.labels) {
      const metadata = (processed.metadata ?? {}) as JsonObject;
      metadata.labels = { ...(metadata.labels as JsonObject | undefined), ...template.labels };
      processed.metadata = metadata;
    }
    return processed as unknown as K8sObject;
  });
  const message = template.message ? String(substitute(template.message, values)) : '';
  return { objects, values: Object.fromEntries(values), message };
}

// ---------------------------------------------------------------------------
// kustomize (the subset kubernetes/ uses)

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'secretGenerator', 'images']);

function readEnvFile(file: string): [string, string][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      if (at < 1) throw new Error(`${file}: "${line}" is not NAME=value`);
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

function splitImage(image: string): { name: string; tag?: string; digest?: string } {
  const [rest, digest] = image.split('@') as [string, string | undefined];
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, digest };
}

/**
 * The objects `kubectl kustomize DIR` prints, for kustomizations that use only
 * resources, secretGenerator (envs, literals) and images. Unlike kustomize it
 * does not add a content hash to generated Secret names (so the references to
 * them stay as written); anything else in the kustomization is an error, so a
 * field this does not understand is never silently ignored.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const kustomization = parseYaml(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const extra = Object.keys(kustomization).filter((key) => !KUSTOMIZATION_FIELDS.has(key));
  if (extra.length > 0) throw new Error(`kustomization fields not supported here: ${extra.join(', ')}`);
  const objects: K8sObject[] = [];
  for (const generator of (kustomization.secretGenerator ?? []) as Record<string, unknown>[]) {
    const fields = Object.keys(generator).filter((key) => !['name', 'envs', 'literals', 'type'].includes(key));
    if (fields.length > 0) throw new Error(`secretGenerator fields not supported here: ${fields.join(', ')}`);
    const entries: [string, string][] = [];
    for (const file of (generator.envs ?? []) as string[]) {
      const full = path.join(dir, file);
      if (!existsSync(full)) throw new Error(`secretGenerator ${String(generator.name)}: ${file} does not exist`);
      entries.push(...readEnvFile(full));
    }
    for (const literal of (generator.literals ?? []) as string[]) {
      const at = literal.indexOf('=');
      entries.push([literal.slice(0, at), literal.slice(at + 1)]);
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: String(generator.name) },
      type: (generator.type as string | undefined) ?? 'Opaque',
      data: Object.fromEntries(entries.map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    });
  }
  for (const file of (kustomization.resources ?? []) as string[]) {
    for (const document of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      const object = document.toJS() as K8sObject | null;
      if (object) objects.push(object);
    }
  }
  const images = (kustomization.images ?? []) as { name: string; newName?: string; newTag?: string; digest?: string }[];
  for (const object of objects) {
    for (const container of podContainers(object)) {
      const image = splitImage(String(container.image));
      const rule = images.find((candidate) => candidate.name === image.name);
      if (!rule) continue;
      const name = rule.newName ?? image.name;
      if (rule.digest) container.image = `${name}@${rule.digest}`;
      else if (rule.newTag ?? image.tag) container.image = `${name}:${rule.newTag ?? image.tag}`;
      else container.image = name;
    }
  }
  return objects;
}

// ---------------------------------------------------------------------------
// Reading objects

export interface PodTemplate {
  owner: K8sObject;
  labels: Record<string, string>;
  spec: Record<string, unknown>;
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, Job) or the spec of a Pod. */
export function podTemplate(object: K8sObject): PodTemplate | null {
  const spec = object.spec;
  if (!isObject(spec)) return null;
  if (object.kind === 'Pod') return { owner: object, labels: object.metadata.labels ?? {}, spec };
  const template = spec.template;
  if (!isObject(template) || !isObject(template.spec)) return null;
  const metadata = isObject(template.metadata) ? template.metadata : {};
  return { owner: object, labels: (metadata.labels ?? {}) as Record<string, string>, spec: template.spec };
}

export function podContainers(object: K8sObject, which: 'all' | 'containers' | 'initContainers' = 'all') {
  const pod = podTemplate(object);
  if (!pod) return [];
  const lists = which === 'all' ? ['initContainers', 'containers'] : [which];
  return lists.flatMap((key) => (pod.spec[key] ?? []) as Record<string, unknown>[]);
}

// ---------------------------------------------------------------------------
// Validation

const require = createRequire(import.meta.url);
const modelsDir = path.dirname(require.resolve('kubernetes-models'));

interface Shape {
  file: string;
  fields: Map<string, string>;
  imports: Map<string, string>;
}
const shapes = new Map<string, Shape | null>();

function resolveDeclaration(fromFile: string, specifier: string): string {
  if (specifier.startsWith('.')) return `${path.resolve(path.dirname(fromFile), specifier)}.d.ts`;
  for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', `${specifier}.d.ts`);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${specifier} from ${fromFile}`);
  }
}

/** The fields of the interface a kubernetes-models declaration file describes; null for type aliases (Quantity, IntOrString). */
function shapeOf(file: string): Shape | null {
  if (shapes.has(file)) return shapes.get(file)!;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const match of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
    for (const name of match[1]!.split(',')) imports.set(name.trim(), match[2]!);
  }
  const start = text.search(/^export interface \w+/m);
  let shape: Shape | null = null;
  if (start >= 0) {
    const body = text.slice(start, text.indexOf('\n}', start)).replace(/\/\*\*[\s\S]*?\*\//g, '');
    const fields = new Map<string, string>();
    for (const match of body.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) fields.set(match[1]!, match[2]!);
    shape = { file, fields, imports };
  }
  shapes.set(file, shape);
  return shape;
}

function fieldShape(shape: Shape, type: string): Shape | null {
  const inner = /^Array<(.*)>$/.exec(type)?.[1] ?? type;
  const specifier = shape.imports.get(inner.trim());
  return specifier ? shapeOf(resolveDeclaration(shape.file, specifier)) : null;
}

/** Fields the API server would not know (it drops them, or refuses them under strict validation). */
function unknownFields(value: unknown, shape: Shape, where: string, problems: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      unknownFields(item, shape, `${where}[${index}]`, problems);
    });
    return;
  }
  if (!isObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    const type = shape.fields.get(key);
    if (type === undefined) {
      problems.push(`${where}.${key}: no such field`);
      continue;
    }
    const inner = fieldShape(shape, type);
    if (inner) unknownFields(item, inner, `${where}.${key}`, problems);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// Kinds whose names must be DNS labels (they become host names), not just subdomains.
const LABEL_NAMED = new Set(['Service', 'Route', 'Namespace']);

/** Rules the API server applies beyond the schema: names, label values, port and env names. */
function semanticProblems(object: K8sObject, where: string): string[] {
  const problems: string[] = [];
  const name = object.metadata?.name ?? '';
  const nameRule = LABEL_NAMED.has(object.kind) ? DNS_LABEL : DNS_SUBDOMAIN;
  const limit = LABEL_NAMED.has(object.kind) ? 63 : 253;
  if (!nameRule.test(name) || name.length > limit)
    problems.push(`${where}: metadata.name ${JSON.stringify(name)} is not valid`);
  if (object.kind === 'Service' && !/^[a-z]/.test(name))
    problems.push(`${where}: a Service name must start with a letter`);
  const labelSets = [object.metadata?.labels ?? {}, podTemplate(object)?.labels ?? {}];
  for (const labels of labelSets) {
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string' || !LABEL_VALUE.test(value) || value.length > 63) {
        problems.push(`${where}: label ${key}=${JSON.stringify(value)} is not a valid label value`);
      }
    }
  }
  for (const container of podContainers(object)) {
    const cname = String(container.name);
    if (!DNS_LABEL.test(cname) || cname.length > 63) problems.push(`${where}: container name ${cname} is not valid`);
    for (const port of (container.ports ?? []) as Record<string, unknown>[]) {
      if (port.name !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(String(port.name))) {
        problems.push(`${where}: port name ${String(port.name)} is not valid`);
      }
      if (typeof port.name === 'string' && port.name.length > 15)
        problems.push(`${where}: port name ${port.name} is too long`);
    }
    for (const variable of (container.env ?? []) as Record<string, unknown>[]) {
      if (!ENV_NAME.test(String(variable.name)))
        problems.push(`${where}: env name ${String(variable.name)} is not valid`);
    }
  }
  return problems;
}

type Checker = (value: unknown, where: string, problems: string[]) => void;

function expectFields(
  value: unknown,
  where: string,
  problems: string[],
  fields: Record<string, Checker>,
  required: string[] = [],
) {
  if (!isObject(value)) {
    problems.push(`${where}: must be an object`);
    return;
  }
  for (const key of required) if (value[key] === undefined) problems.push(`${where}.${key}: required`);
  for (const [key, item] of Object.entries(value)) {
    const check = fields[key];
    if (!check) problems.push(`${where}.${key}: no such field`);
    else check(item, `${where}.${key}`, problems);
  }
}

const str: Checker = (v, w, p) => {
  if (typeof v !== 'string') p.push(`${w}: must be a string`);
};
const bool: Checker = (v, w, p) => {
  if (typeof v !== 'boolean') p.push(`${w}: must be true or false`);
};
const oneOf =
  (...choices: string[]): Checker =>
  (v, w, p) => {
    if (typeof v !== 'string' || !choices.includes(v)) p.push(`${w}: must be one of ${choices.join(', ')}`);
  };
const stringMap: Checker = (v, w, p) => {
  if (!isObject(v) || Object.values(v).some((item) => typeof item !== 'string'))
    p.push(`${w}: must map names to strings`);
};
const anything: Checker = () => {};
const objectOf =
  (fields: Record<string, Checker>, required: string[] = []): Checker =>
  (v, w, p) =>
    expectFields(v, w, p, fields, required);
const listOf =
  (item: Checker): Checker =>
  (v, w, p) => {
    if (!Array.isArray(v)) p.push(`${w}: must be a list`);
    else
      v.forEach((element, index) => {
        item(element, `${w}[${index}]`, p);
      });
  };

const METADATA = objectOf({
  name: str,
  namespace: str,
  generateName: str,
  labels: stringMap,
  annotations: stringMap,
});

// route.openshift.io/v1 Route, as documented in the OpenShift API reference.
const ROUTE = objectOf(
  {
    apiVersion: oneOf('route.openshift.io/v1'),
    kind: oneOf('Route'),
    metadata: METADATA,
    spec: objectOf(
      {
        host: str,
        subdomain: str,
        path: str,
        to: objectOf(
          {
            kind: oneOf('Service'),
            name: str,
            weight: (v, w, p) => {
              if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 256) p.push(`${w}: must be 0 to 256`);
            },
          },
          ['kind', 'name'],
        ),
        alternateBackends: listOf(anything),
        port: objectOf(
          {
            targetPort: (v, w, p) => {
              if (typeof v !== 'string' && !Number.isInteger(v)) p.push(`${w}: must be a port name or number`);
            },
          },
          ['targetPort'],
        ),
        tls: objectOf(
          {
            termination: oneOf('edge', 'passthrough', 'reencrypt'),
            insecureEdgeTerminationPolicy: oneOf('Allow', 'Disable', 'Redirect', 'None', ''),
            certificate: str,
            key: str,
            caCertificate: str,
            destinationCACertificate: str,
            externalCertificate: objectOf({ name: str }),
          },
          ['termination'],
        ),
        wildcardPolicy: oneOf('None', 'Subdomain'),
      },
      ['to'],
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'spec'],
);

// image.openshift.io/v1 ImageStream, as documented in the OpenShift API reference.
const IMAGE_STREAM = objectOf(
  {
    apiVersion: oneOf('image.openshift.io/v1'),
    kind: oneOf('ImageStream'),
    metadata: METADATA,
    spec: objectOf({
      lookupPolicy: objectOf({ local: bool }, ['local']),
      dockerImageRepository: str,
      tags: listOf(
        objectOf(
          {
            name: str,
            annotations: stringMap,
            from: objectOf(
              { kind: oneOf('DockerImage', 'ImageStreamTag', 'ImageStreamImage'), name: str, namespace: str },
              ['kind', 'name'],
            ),
            reference: bool,
            generation: anything,
            importPolicy: objectOf({
              insecure: bool,
              scheduled: bool,
              importMode: oneOf('Legacy', 'PreserveOriginal'),
            }),
            referencePolicy: objectOf({ type: oneOf('Source', 'Local') }, ['type']),
          },
          ['name'],
        ),
      ),
    }),
  },
  ['apiVersion', 'kind', 'metadata'],
);

// template.openshift.io/v1 Template, as documented in the OpenShift API reference.
const TEMPLATE = objectOf(
  {
    apiVersion: oneOf('template.openshift.io/v1', 'v1'),
    kind: oneOf('Template'),
    metadata: METADATA,
    message: str,
    labels: stringMap,
    objects: listOf(
      objectOf({ apiVersion: str, kind: str, metadata: anything, spec: anything }, ['apiVersion', 'kind']),
    ),
    parameters: listOf(
      objectOf(
        {
          name: (v, w, p) => {
            if (typeof v !== 'string' || !/^[a-zA-Z0-9_]+$/.test(v)) p.push(`${w}: must be letters, digits and _`);
          },
          displayName: str,
          description: str,
          value: str,
          generate: oneOf('expression'),
          from: str,
          required: bool,
        },
        ['name'],
      ),
    ),
  },
  ['apiVersion', 'kind', 'metadata', 'objects'],
);

/** Problems of a Template itself (not of its objects): its documented shape, unique parameters, `from` with `generate`. */
export function validateTemplate(template: Template): string[] {
  const problems: string[] = [];
  // Objects are checked after processing; here only that they are objects with a kind.
  const shallow = { ...template, objects: template.objects.map(({ apiVersion, kind }) => ({ apiVersion, kind })) };
  TEMPLATE(shallow, 'Template', problems);
  const names = (template.parameters ?? []).map((p) => p.name);
  for (const name of new Set(names)) {
    if (names.filter((n) => n === name).length > 1) problems.push(`parameter ${name} is declared twice`);
  }
  for (const parameter of template.parameters ?? []) {
    if (parameter.generate && !parameter.from) problems.push(`parameter ${parameter.name}: generate without from`);
    if (parameter.from && !parameter.generate) problems.push(`parameter ${parameter.name}: from without generate`);
  }
  return problems;
}

/** Every problem the API server (or `oc`) would find with one object. */
export async function validateObject(object: K8sObject): Promise<string[]> {
  const where = `${object.kind}/${object.metadata?.name}`;
  const problems: string[] = [];
  if (object.apiVersion === 'route.openshift.io/v1' && object.kind === 'Route') ROUTE(object, where, problems);
  else if (object.apiVersion === 'image.openshift.io/v1' && object.kind === 'ImageStream') {
    IMAGE_STREAM(object, where, problems);
  } else {
    const declaration = path.join(modelsDir, object.apiVersion, `${object.kind}.d.ts`);
    if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(object.apiVersion) || !existsSync(declaration)) {
      return [`${where}: ${object.apiVersion} ${object.kind} is not a kind this validator knows`];
    }
    const module = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<
      string,
      new (
        data: unknown,
      ) => { validate(): void }
    >;
    const Model = module[object.kind]!;
    try {
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
    }
    unknownFields(object, shapeOf(declaration)!, where, problems);
  }
  problems.push(...semanticProblems(object, where));
  return problems;
}
