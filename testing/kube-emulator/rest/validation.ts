/**
 * Request body decoding and the validation the API server applies before storage: JSON
 * decoding errors (400), apiVersion/kind must match the endpoint, unknown fields per
 * fieldValidation (Strict → 400 `strict decoding error: unknown field "x"`, Warn → Warning
 * header, Ignore), and object metadata validation (k8s.io/apimachinery/pkg/api/validation
 * ValidateObjectMeta: name required, DNS-1123 subdomain names, 422 Invalid).
 */
import { parse as parseYaml } from 'yaml';
import type { ResourceDef } from '../resources.ts';
import { apiVersionOf } from '../resources.ts';
import type { FieldCause } from '../store/errors.ts';
import { badRequest, invalid } from '../store/errors.ts';
import type { KubeObject } from '../types.ts';
import type { Ctx, FieldValidation } from './context.ts';
import { isObject } from './merge-patch.ts';

export function parseJson(body: Buffer | undefined): unknown {
  if (!body || body.length === 0) throw badRequest('the body of the request was empty');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function parseYamlOrJson(body: Buffer | undefined): unknown {
  if (!body || body.length === 0) throw badRequest('the body of the request was empty');
  const s = body.toString('utf8');
  try {
    return JSON.parse(s) as unknown;
  } catch {
    try {
      return parseYaml(s) as unknown;
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
}

/** Decode a full object for create/update and check its type against the endpoint. */
export function decodeObject(c: Ctx, raw: unknown, expectKind = c.def.kind, expectApiVersion = apiVersionOf(c.def)): KubeObject {
  if (!isObject(raw)) throw badRequest(`couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  const o = raw as Record<string, unknown>;
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const av = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  if (!kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(raw)}'`);
  if (kind !== expectKind) {
    throw badRequest(`${kind} in version "${av}" cannot be handled as a ${expectKind}: no kind "${kind}" is registered for version "${av}"`);
  }
  if (av && av !== expectApiVersion) {
    throw badRequest(`the API version in the data (${av}) does not match the expected API version (${expectApiVersion})`);
  }
  if (o.metadata !== undefined && !isObject(o.metadata)) {
    throw badRequest(`${expectKind} in version "${av}" cannot be handled as a ${expectKind}: json: cannot unmarshal ${typeof o.metadata} into Go struct field ${expectKind}.metadata of type v1.ObjectMeta`);
  }
  const obj = { ...o, metadata: { ...((o.metadata as Record<string, unknown> | undefined) ?? {}) } } as KubeObject;
  checkUnknownFields(c, obj, fieldValidationOf(c));
  return obj;
}

function fieldValidationOf(c: Ctx): FieldValidation {
  const v = c.query.get('fieldValidation');
  return v === 'Strict' || v === 'Ignore' ? v : 'Warn';
}

const META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

const TOP_FIELDS: Record<string, string[]> = {
  Namespace: ['spec', 'status'],
  Pod: ['spec', 'status'],
  Service: ['spec', 'status'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  Deployment: ['spec', 'status'],
  Role: ['rules'],
  ClusterRole: ['rules', 'aggregationRule'],
  RoleBinding: ['subjects', 'roleRef'],
  ClusterRoleBinding: ['subjects', 'roleRef'],
  CustomResourceDefinition: ['spec', 'status'],
  Widget: ['spec', 'status'],
  Scale: ['spec', 'status'],
};

/** Unknown top-level and metadata fields (a conservative subset of the OpenAPI schema check). */
export function unknownFields(kind: string, o: Record<string, unknown>): string[] {
  const known = new Set(['apiVersion', 'kind', 'metadata', ...(TOP_FIELDS[kind] ?? [])]);
  const out: string[] = [];
  if (!TOP_FIELDS[kind]) return out;
  for (const k of Object.keys(o)) if (!known.has(k)) out.push(k);
  if (isObject(o.metadata)) for (const k of Object.keys(o.metadata)) if (!META_FIELDS.has(k)) out.push(`metadata.${k}`);
  return out;
}

export function checkUnknownFields(c: Ctx, o: Record<string, unknown>, mode: FieldValidation, kind = c.def.kind): void {
  if (mode === 'Ignore') return;
  const unknown = unknownFields(kind, o);
  if (!unknown.length) return;
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  for (const f of unknown) c.warnings.push(`unknown field "${f}"`);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

export function validateName(def: ResourceDef, name: string): FieldCause | undefined {
  if (def.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      return { type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": may not contain '/'` };
    }
    return undefined;
  }
  if (LABEL_NAMED.has(def.kind)) {
    if (name.length > 63) return { type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": must be no more than 63 characters` };
    if (!DNS1123_LABEL.test(name)) return { type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": ${LABEL_MSG}` };
    return undefined;
  }
  if (name.length > 253) return { type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": must be no more than 253 characters` };
  if (!DNS1123_SUBDOMAIN.test(name)) return { type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": ${SUBDOMAIN_MSG}` };
  return undefined;
}

/** ValidateObjectMeta subset: name/generateName, labels must be strings. 422 Invalid. */
export function validateMeta(def: ResourceDef, o: KubeObject): void {
  const name = o.metadata.name ?? '';
  const causes: FieldCause[] = [];
  if (!name) causes.push({ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else {
    const e = validateName(def, name);
    if (e) causes.push(e);
  }
  for (const f of ['labels', 'annotations'] as const) {
    const m = o.metadata[f];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) continue;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string') causes.push({ type: 'FieldValueInvalid', field: `metadata.${f}`, message: `Invalid value: ${JSON.stringify(v)}: ${k} must be a string` });
    }
  }
  const podSpec = def.kind === 'Pod' ? { spec: o.spec, path: 'spec' } : def.kind === 'Deployment' ? { spec: (o.spec as { template?: { spec?: unknown } } | undefined)?.template?.spec, path: 'spec.template.spec' } : undefined;
  if (podSpec) {
    const containers = (podSpec.spec as { containers?: unknown } | undefined)?.containers;
    if (!Array.isArray(containers) || containers.length === 0) causes.push({ type: 'FieldValueRequired', field: `${podSpec.path}.containers`, message: 'Required value' });
    else {
      containers.forEach((ct: unknown, i) => {
        const c = isObject(ct) ? ct : {};
        if (typeof c.name !== 'string' || !c.name) causes.push({ type: 'FieldValueRequired', field: `${podSpec.path}.containers[${i}].name`, message: 'Required value' });
        if (typeof c.image !== 'string' || !c.image) causes.push({ type: 'FieldValueRequired', field: `${podSpec.path}.containers[${i}].image`, message: 'Required value' });
      });
    }
  }
  if (causes.length) throw invalid(def.kind, def.group, name, causes);
}
