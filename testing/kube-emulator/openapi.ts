/**
 * OpenAPI v3 (KEP-2896): `/openapi/v3` lists one document per group version with a
 * content-addressed `serverRelativeURL`, and `/openapi/v3/api/v1`, `/openapi/v3/apis/{g}/{v}`
 * serve the documents (k8s.io/kube-openapi/pkg/handler3). Each document carries path items whose
 * operations have `x-kubernetes-action` and `x-kubernetes-group-version-kind` and the query
 * parameters the server honours (dryRun, fieldManager, fieldValidation, force) — kubectl's
 * QueryParamVerifierV3 looks for `fieldValidation` on the PATCH operation of the kind
 * (k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go) — and the component schemas from
 * ./openapi-schemas.ts (kubectl explain, client-side apply's strategic merge patch).
 *
 * `/openapi/v2` (kubectl ≤ 1.27) is derived from these documents in ./openapi-v2.ts.
 */
import { createHash } from 'node:crypto';
import { GROUPS, RESOURCES, type ResourceDef, type SubresourceDef } from './resources.ts';
import { SCHEMAS, closure, schemaName, type Schema } from './openapi-schemas.ts';

export const OPENAPI_INFO_VERSION = 'v1.30.2';

type Param = { name: string; in: 'query' | 'path'; description: string; required?: boolean; schema: Schema; uniqueItems?: boolean };

const q = (name: string, description: string, schema: Schema = { type: 'string', uniqueItems: true }): Param => ({ name, in: 'query', description, schema });
const P = {
  pretty: q('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  dryRun: q('dryRun', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed'),
  fieldManager: q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.'),
  fieldValidation: q('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (default) - Strict'),
  force: q('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.', { type: 'boolean', uniqueItems: true }),
  gracePeriodSeconds: q('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', { type: 'integer', uniqueItems: true }),
  propagationPolicy: q('propagationPolicy', "Whether and how garbage collection will be performed. Acceptable values are: 'Orphan', 'Background', 'Foreground'."),
  allowWatchBookmarks: q('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', { type: 'boolean', uniqueItems: true }),
  continue: q('continue', 'The continue option should be set when retrieving more results from the server.'),
  fieldSelector: q('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: q('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'limit is a maximum number of responses to return for a list call.', { type: 'integer', uniqueItems: true }),
  resourceVersion: q('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  resourceVersionMatch: q('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  sendInitialEvents: q('sendInitialEvents', '`sendInitialEvents=true` may be set together with `watch=true`.', { type: 'boolean', uniqueItems: true }),
  timeoutSeconds: q('timeoutSeconds', 'Timeout for the list/watch call.', { type: 'integer', uniqueItems: true }),
  watch: q('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', { type: 'boolean', uniqueItems: true }),
  name: (kind: string): Param => ({ name: 'name', in: 'path', description: `name of the ${kind}`, required: true, schema: { type: 'string', uniqueItems: true } }),
  namespace: { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } } as Param,
};
const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
/** Custom resources are served as JSON and YAML only (no protobuf). */
const CRD_JSON_TYPES = ['application/json', 'application/yaml'];
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];
/**
 * Custom resources take no strategic merge patch: the apiextensions-apiserver's OpenAPI builder
 * (k8s.io/apiextensions-apiserver/pkg/controller/openapi/builder/builder.go) declares only JSON
 * patch, merge patch and apply patch for their PATCH routes, and kubectl
 * (gvkSupportsPatchOpenAPIV3) falls back to merge patch when strategic merge is not listed.
 */
const CRD_PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

/** The patch media types a resource's PATCH operations consume (built-in kinds speak protobuf, CRDs do not). */
function patchTypes(r: ResourceDef): string[] {
  return r.protobuf ? PATCH_TYPES : CRD_PATCH_TYPES;
}

function refSchema(name: string): Schema {
  return SCHEMAS[name] ? { $ref: `#/components/schemas/${name}` } : { type: 'object' };
}

function content(types: string[], schema: Schema): Schema {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

function opId(action: string, r: ResourceDef, sub: SubresourceDef | undefined, namespaced: boolean): string {
  const groupPart = (r.group === '' ? 'core' : r.group.split('.')[0] ?? '') + r.version;
  const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const kindPart = (namespaced ? 'Namespaced' : '') + r.kind + (sub ? cap(sub.name) : '');
  return `${action}${cap(groupPart).replace(/\./g, '')}${kindPart}`;
}

interface OpSpec {
  action: string; // x-kubernetes-action
  verbForId: string;
  params: Param[];
  bodyTypes?: string[];
  bodySchema?: Schema;
  response: Schema;
  responseCodes: string[];
}

function operation(r: ResourceDef, sub: SubresourceDef | undefined, spec: OpSpec): Schema {
  const gvk = sub
    ? { group: sub.group ?? r.group, kind: sub.kind, version: sub.version ?? r.version }
    : { group: r.group, kind: r.kind, version: r.version };
  const op: Schema = {
    tags: [`${r.group === '' ? 'core' : r.group.split('.')[0]}_${r.version}`],
    description: `${spec.action} ${sub ? `${sub.name} of the specified ` : ''}${r.kind}`,
    operationId: opId(spec.verbForId, r, sub, r.namespaced),
    responses: Object.fromEntries(
      [
        ...spec.responseCodes.map((c) => [c, { description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK', content: content(r.protobuf ? JSON_TYPES : CRD_JSON_TYPES, spec.response) }]),
        ['401', { description: 'Unauthorized' }],
      ],
    ),
    'x-kubernetes-action': spec.action,
    'x-kubernetes-group-version-kind': gvk,
  };
  if (spec.params.length > 0) op.parameters = spec.params;
  if (spec.bodyTypes) op.requestBody = { content: content(spec.bodyTypes, spec.bodySchema ?? { type: 'object' }), required: true };
  return op;
}

function pathsFor(r: ResourceDef): Record<string, Schema> {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const coll = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const item = `${coll}/{name}`;
  const kindRef = refSchema(schemaName(r.group, r.version, r.kind));
  const listRef = refSchema(schemaName(r.group, r.version, r.listKind));
  const status = refSchema('io.k8s.apimachinery.pkg.apis.meta.v1.Status');
  const has = (v: string) => r.verbs.includes(v);
  const scope = r.namespaced ? [P.namespace] : [];
  const out: Record<string, Schema> = {};

  const collItem: Schema = { parameters: [...scope, P.pretty] };
  if (has('list')) collItem.get = operation(r, undefined, { action: 'list', verbForId: 'list', params: LIST_PARAMS, response: listRef, responseCodes: ['200'] });
  if (has('create'))
    collItem.post = operation(r, undefined, { action: 'post', verbForId: 'create', params: WRITE_PARAMS, bodyTypes: ['*/*'], bodySchema: kindRef, response: kindRef, responseCodes: ['200', '201', '202'] });
  if (has('deletecollection'))
    collItem.delete = operation(r, undefined, {
      action: 'deletecollection',
      verbForId: 'deleteCollection',
      params: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy, ...LIST_PARAMS.filter((p) => p.name !== 'watch')],
      response: status,
      responseCodes: ['200'],
    });
  if (collItem.get || collItem.post || collItem.delete) out[coll] = collItem;

  const itemPath: Schema = { parameters: [P.name(r.kind), ...scope, P.pretty] };
  if (has('get')) itemPath.get = operation(r, undefined, { action: 'get', verbForId: 'read', params: [], response: kindRef, responseCodes: ['200'] });
  if (has('update'))
    itemPath.put = operation(r, undefined, { action: 'put', verbForId: 'replace', params: WRITE_PARAMS, bodyTypes: ['*/*'], bodySchema: kindRef, response: kindRef, responseCodes: ['200', '201'] });
  if (has('patch'))
    itemPath.patch = operation(r, undefined, {
      action: 'patch',
      verbForId: 'patch',
      params: [...WRITE_PARAMS, P.force],
      bodyTypes: patchTypes(r),
      bodySchema: refSchema('io.k8s.apimachinery.pkg.apis.meta.v1.Patch'),
      response: kindRef,
      responseCodes: ['200', '201'],
    });
  if (has('delete'))
    itemPath.delete = operation(r, undefined, {
      action: 'delete',
      verbForId: 'delete',
      params: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy],
      bodyTypes: ['*/*'],
      bodySchema: refSchema('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions'),
      response: kindRef,
      responseCodes: ['200', '202'],
    });
  if (itemPath.get || itemPath.put || itemPath.patch || itemPath.delete) out[item] = itemPath;

  // Cross-namespace list: /api/v1/pods.
  if (r.namespaced && has('list')) {
    out[`${base}/${r.resource}`] = {
      parameters: [P.pretty, ...LIST_PARAMS],
      get: operation(r, undefined, { action: 'list', verbForId: 'list', params: [], response: listRef, responseCodes: ['200'] }),
    };
    (out[`${base}/${r.resource}`]!.get as Schema).operationId = `list${r.kind}ForAllNamespaces`;
  }

  for (const s of r.subresources ?? []) {
    const subRef = refSchema(schemaName(s.group ?? r.group, s.version ?? r.version, s.kind));
    const p: Schema = { parameters: [P.name(s.kind), ...scope, P.pretty] };
    for (const v of s.verbs) {
      if (v === 'get') p.get = operation(r, s, { action: 'get', verbForId: 'read', params: [], response: subRef, responseCodes: ['200'] });
      if (v === 'create') p.post = operation(r, s, { action: 'post', verbForId: 'create', params: WRITE_PARAMS, bodyTypes: ['*/*'], bodySchema: subRef, response: subRef, responseCodes: ['200', '201', '202'] });
      if (v === 'update') p.put = operation(r, s, { action: 'put', verbForId: 'replace', params: WRITE_PARAMS, bodyTypes: ['*/*'], bodySchema: subRef, response: subRef, responseCodes: ['200', '201'] });
      if (v === 'patch')
        p.patch = operation(r, s, { action: 'patch', verbForId: 'patch', params: [...WRITE_PARAMS, P.force], bodyTypes: patchTypes(r), bodySchema: refSchema('io.k8s.apimachinery.pkg.apis.meta.v1.Patch'), response: subRef, responseCodes: ['200', '201'] });
      if (v === 'delete') p.delete = operation(r, s, { action: 'delete', verbForId: 'delete', params: [], response: subRef, responseCodes: ['200'] });
    }
    out[`${item}/${s.name}`] = p;
  }
  return out;
}

/** The OpenAPI v3 document of one group version, or undefined when it is not served. */
export function openApiV3Document(group: string, version: string): Schema | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const paths: Record<string, Schema> = {};
  for (const r of defs) Object.assign(paths, pathsFor(r));
  const roots = new Set<string>(['io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']);
  for (const r of defs) {
    roots.add(schemaName(r.group, r.version, r.kind));
    roots.add(schemaName(r.group, r.version, r.listKind));
    for (const s of r.subresources ?? []) roots.add(schemaName(s.group ?? r.group, s.version ?? r.version, s.kind));
  }
  const schemas: Record<string, Schema> = {};
  for (const name of closure([...roots])) schemas[name] = SCHEMAS[name] as Schema;
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: OPENAPI_INFO_VERSION },
    paths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
}

/** The key of a group version in the /openapi/v3 root ("api/v1", "apis/apps/v1"). */
export function openApiV3Key(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

export interface OpenApiV3 {
  /** The /openapi/v3 discovery document. */
  root: { paths: Record<string, { serverRelativeURL: string }> };
  /** Serialized documents by key ("api/v1") with their hash. */
  docs: Map<string, { json: string; hash: string }>;
}

/** Build every document once (they are immutable for the emulator's lifetime). */
export function buildOpenApiV3(): OpenApiV3 {
  const docs = new Map<string, { json: string; hash: string }>();
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const g of GROUPS) {
    for (const v of g.versions) {
      const doc = openApiV3Document(g.name, v);
      if (!doc) continue;
      const json = JSON.stringify(doc);
      const hash = createHash('sha512').update(json).digest('hex').toUpperCase();
      const key = openApiV3Key(g.name, v);
      docs.set(key, { json, hash });
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
  }
  return { root: { paths }, docs };
}

