/**
 * `apply_manifest` — create or update one object from its manifest, like
 * `kubectl apply --server-side --field-manager=sluice-mcp`.
 *
 * Requests:
 *   1. discovery of the manifest's group/version (discovery.ts): `GET /api/v1` or
 *      `GET /apis/{group}/{version}` — to learn the plural resource and whether it is namespaced
 *      (cached per connection for a few seconds);
 *   2. `PATCH /api/v1/[namespaces/{ns}/]{resource}/{name}?fieldManager=sluice-mcp[&force=true]
 *      [&dryRun=All]` with `Content-Type: application/apply-patch+yaml` — server-side apply
 *      (KEP-555; api-conventions / "Server-Side Apply": the apply patch creates the object when it
 *      does not exist). Policy sees the verb `patch`.
 *
 * The manifest is parsed here, strictly: one YAML (or JSON) document, unique keys, few aliases,
 * YAML 1.1 scalars as the API server's own YAML decoder (sigs.k8s.io/yaml, go-yaml v2) reads
 * them — `0644` is octal, `yes`/`on` are booleans, but timestamps and `12:30` stay strings, and
 * explicit tags (`!!binary`, `!!set`…) are refused. The object that was checked is what is sent,
 * re-encoded as JSON (valid apply-patch YAML, and what kubectl itself sends), so the API server
 * acts on exactly the name, namespace and kind that were validated and that policy sees.
 */
import { z } from 'zod';
import { isScalar, parseAllDocuments, type Document, type Tags } from 'yaml';
import type { SluiceTool } from '../tool-types.ts';
import { createDiscoveryCache, findResource, type DiscoveryCache } from './discovery.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { bodyJson, errorResult, failureResult, isRecord, isSuccess, oneLine, writeResult } from './results.ts';
import { dryRun, hasBinaryControl, isApiVersion, isKind, isNamespace, isObjectName, namespace } from './validation.ts';

export const FIELD_MANAGER = 'sluice-mcp';
export const MANIFEST_MAX_CHARS = 1_048_576;
/** The largest JSON body sent (the API server's own request limit is 3 MiB). */
const BODY_MAX_BYTES = 3 * 1024 * 1024;
const MAX_DEPTH = 100;
/** YAML 1.1 tags that go-yaml v2 does not resolve on plain scalars, or that have no JSON form. */
const DROPPED_TAGS = new Set(['tag:yaml.org,2002:binary', 'tag:yaml.org,2002:omap', 'tag:yaml.org,2002:pairs', 'tag:yaml.org,2002:set', 'tag:yaml.org,2002:timestamp']);
const keepTags = (tags: Tags): Tags => tags.filter((t) => typeof t !== 'string' && !DROPPED_TAGS.has(t.tag) && !('format' in t && t.format === 'TIME'));

const input = z.strictObject({
  manifest: z
    .string()
    .min(1)
    .max(MANIFEST_MAX_CHARS, `a manifest is at most ${MANIFEST_MAX_CHARS} characters`)
    .describe('One Kubernetes object as YAML or JSON, with apiVersion, kind and metadata.name (and metadata.namespace for namespaced kinds, unless given as the namespace argument). One object per call: no "---" separated documents, no List.'),
  namespace: namespace.optional().describe('Namespace for a namespaced object whose manifest sets no metadata.namespace; must equal metadata.namespace when both are given.'),
  dryRun,
  force: z
    .boolean()
    .optional()
    .describe('Take over fields that another field manager (kubectl, a controller, a Helm release) owns. Only when the user asked to override them; without it such conflicts are reported.'),
});

export interface ApplyManifestOptions {
  /** The discovery cache (a fresh one per tool instance by default). */
  discovery?: DiscoveryCache;
}

/** The tool with its own discovery cache (tests pass one with a frozen clock). */
export function createApplyManifest(opts: ApplyManifestOptions = {}): SluiceTool<typeof input> {
  const discovery = opts.discovery ?? createDiscoveryCache();
  return {
    name: 'apply_manifest',
    title: 'Apply a Kubernetes manifest',
    description:
      'Create or update one object from its YAML/JSON manifest with server-side apply (like `kubectl apply --server-side`). Fields the manifest sets become owned by Sluice; fields it omits are left alone. Use dryRun: true to validate first.',
    input,
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    reach: { verbs: ['patch'] },
    async run(args, kube) {
      const parsed = parseManifest(args.manifest);
      if ('error' in parsed) return errorResult(`The manifest was not applied: ${parsed.error}`);
      const object = parsed.object;
      const meta = object.metadata as Record<string, unknown>;
      const apiVersion = object.apiVersion as string;
      const kind = object.kind as string;
      const name = meta.name as string;
      const manifestNs = typeof meta.namespace === 'string' ? meta.namespace : undefined;
      if (args.namespace && manifestNs && args.namespace !== manifestNs) {
        return errorResult(`The manifest was not applied: its metadata.namespace is ${manifestNs} but the namespace argument is ${args.namespace}.`);
      }
      const found = await findResource(kube, discovery, apiVersion, kind);
      if ('result' in found) return found.result;
      const { resource } = found;
      if (!resource.verbs.includes('patch')) {
        return errorResult(`The manifest was not applied: ${kind} (${resource.name}) cannot be applied — the API server does not offer patch on it (verbs: ${resource.verbs.join(', ') || 'none'}).`);
      }
      let ns: string | undefined;
      if (resource.namespaced) {
        ns = manifestNs ?? args.namespace;
        if (!ns) return errorResult(`The manifest was not applied: ${kind} is namespaced; set metadata.namespace or pass the namespace argument.`);
        meta.namespace = ns;
      } else if (args.namespace) {
        return errorResult(`The manifest was not applied: ${kind} is cluster-scoped; do not pass a namespace.`);
      }
      const body = JSON.stringify(object);
      if (Buffer.byteLength(body) > BODY_MAX_BYTES) return errorResult(`The manifest was not applied: the object is larger than ${BODY_MAX_BYTES} bytes as JSON.`);
      const ref = { apiVersion, resource: resource.name, namespace: ns, name };
      const query: Record<string, string> = { fieldManager: FIELD_MANAGER };
      if (args.force) query.force = 'true';
      if (args.dryRun) query.dryRun = 'All';
      const answer = await kube.request({
        method: 'PATCH',
        path: resourcePath(ref),
        query,
        headers: { 'content-type': 'application/apply-patch+yaml', accept: 'application/json' },
        body,
      });
      if (!isSuccess(answer)) {
        const hint =
          answer.status === 409 && !args.force
            ? 'Another field manager owns some of these fields (the message names them). Leave them out of the manifest, or pass force: true only if the user wants Sluice to take them over.'
            : undefined;
        return failureResult(answer, `apply ${describeRef(ref)}`, hint);
      }
      return writeResult({ done: answer.status === 201 ? 'created' : 'applied', returned: bodyJson(answer), what: describeRef(ref), dryRun: args.dryRun === true });
    },
  };
}

export const applyManifest = createApplyManifest();

/** The one object of a manifest, checked; or why it is refused. */
export function parseManifest(text: string): { object: Record<string, unknown> } | { error: string } {
  if (hasBinaryControl(text)) return { error: 'it contains control characters.' };
  const docs = parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: false, customTags: keepTags });
  if (!Array.isArray(docs)) return { error: 'it is empty.' };
  for (const d of docs) {
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem) return { error: `it is not valid YAML: ${oneLine(problem.message, 300)}` };
  }
  const filled = docs.filter((d) => !isEmptyDocument(d));
  if (filled.length === 0) return { error: 'it is empty.' };
  if (filled.length > 1) return { error: `it holds ${filled.length} documents; apply one object per call.` };
  let value: unknown;
  try {
    value = filled[0]!.toJS({ maxAliasCount: 10 });
  } catch (e) {
    return { error: `it could not be read: ${oneLine(e instanceof Error ? e.message : String(e), 300)}` };
  }
  if (!isRecord(value)) return { error: 'it is not an object (a YAML mapping or JSON object).' };
  const bad = badValue(value, 0);
  if (bad) return { error: bad };
  if (typeof value.apiVersion !== 'string' || !isApiVersion(value.apiVersion)) return { error: 'apiVersion is missing or not "v1" / "group/version".' };
  if (typeof value.kind !== 'string' || !isKind(value.kind)) return { error: 'kind is missing or not a Kind name such as Deployment.' };
  if (value.kind === 'List' || (value.kind.endsWith('List') && Array.isArray(value.items))) return { error: `a ${value.kind} holds several objects; apply one object per call.` };
  if (!isRecord(value.metadata)) return { error: 'metadata is missing.' };
  const { name, namespace: ns } = value.metadata;
  if (name === undefined) return { error: 'metadata.name is missing (server-side apply needs a name; generateName is not supported).' };
  if (typeof name !== 'string' || !isObjectName(name)) return { error: 'metadata.name is not a DNS-1123 subdomain (lower-case letters, digits, "-" and ".").' };
  if (ns !== undefined && (typeof ns !== 'string' || !isNamespace(ns))) return { error: 'metadata.namespace is not a DNS-1123 label.' };
  return { object: value };
}

/** A document with no content at all (`---` alone, a trailing separator, only comments). */
function isEmptyDocument(d: Document): boolean {
  const c = d.contents;
  return c === null || (isScalar(c) && c.value === null && c.range !== undefined && c.range !== null && c.range[0] === c.range[1]);
}

/** Values JSON cannot carry faithfully, or nesting deeper than the API server reads. */
function badValue(v: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return `it nests deeper than ${MAX_DEPTH} levels.`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'it holds a number that is not finite (.inf or .nan).';
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) return `it holds the integer ${v}, too large to carry exactly; quote it as a string.`;
    return undefined;
  }
  if (Array.isArray(v)) {
    for (const x of v) {
      const b = badValue(x, depth + 1);
      if (b) return b;
    }
    return undefined;
  }
  if (v instanceof Map || v instanceof Set || v instanceof Uint8Array || v instanceof Date) return 'it holds a value that has no JSON form.';
  if (isRecord(v)) {
    for (const x of Object.values(v)) {
      const b = badValue(x, depth + 1);
      if (b) return b;
    }
  }
  return undefined;
}
