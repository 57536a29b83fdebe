/**
 * `patch_resource` — change fields of one object, like `kubectl patch --type merge|json|strategic`.
 *
 * Request: `PATCH /api/v1/[namespaces/{ns}/]{resource}/{name}[?dryRun=All]` (or
 * `/apis/{group}/{version}/…`) with the patch as JSON and the content type of its kind
 * (api-conventions.md "Patch operations"): `application/merge-patch+json` (RFC 7386),
 * `application/json-patch+json` (RFC 6902), `application/strategic-merge-patch+json` (built-in
 * kinds only). Policy sees the verb `patch`.
 */
import { z } from 'zod';
import type { SluiceTool } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { bodyJson, errorResult, failureResult, isRecord, isSuccess, writeResult } from './results.ts';
import { apiVersion, dryRun, namespace, objectName, resource } from './validation.ts';

export const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;
const PATCH_MAX_BYTES = 1_048_576;

/** A JSON Pointer (RFC 6901): empty, or `/`-separated reference tokens; no control characters. */
// eslint-disable-next-line no-control-regex
const POINTER = /^(?:\/[^\u0000-\u001f\u007f]*)?$/;

const jsonPatchOperation = z.strictObject({
  op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
  path: z.string().max(1024).regex(POINTER, 'a JSON Pointer such as /spec/replicas or /metadata/labels/app'),
  value: z.unknown().optional(),
  from: z.string().max(1024).regex(POINTER, 'a JSON Pointer').optional(),
});

const input = z.strictObject({
  apiVersion,
  resource,
  namespace: namespace.optional().describe('Namespace of the object; omit for cluster-scoped resources.'),
  name: objectName,
  patchType: z
    .enum(['merge', 'json', 'strategic'])
    .describe('"merge": a JSON merge patch object (RFC 7386; null deletes a field). "strategic": like merge, but lists of containers, ports, env… are merged by key (built-in kinds only). "json": a list of RFC 6902 operations.'),
  patch: z
    .union([z.record(z.string(), z.unknown()), z.array(jsonPatchOperation).min(1).max(1000)])
    .describe('For merge/strategic: the object of fields to change, e.g. {"metadata":{"labels":{"tier":"web"}}}. For json: operations, e.g. [{"op":"replace","path":"/spec/replicas","value":3}].'),
  dryRun,
});

export const patchResource: SluiceTool<typeof input> = {
  name: 'patch_resource',
  title: 'Patch a Kubernetes object',
  description: 'Change some fields of one existing object with a merge, strategic merge or JSON patch, like `kubectl patch`. Use dryRun: true to see the result first.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  reach: { verbs: ['patch'] },
  async run(args, kube) {
    const isList = Array.isArray(args.patch);
    if (args.patchType === 'json' && !isList) return errorResult('Not patched: a json patch is a list of operations ([{"op":…,"path":…}]); for an object use patchType merge or strategic.');
    if (args.patchType !== 'json' && (isList || !isRecord(args.patch))) return errorResult(`Not patched: a ${args.patchType} patch is an object of fields; a list of operations needs patchType json.`);
    const body = JSON.stringify(args.patch);
    if (Buffer.byteLength(body) > PATCH_MAX_BYTES) return errorResult(`Not patched: the patch is larger than ${PATCH_MAX_BYTES} bytes.`);
    const ref = { apiVersion: args.apiVersion, resource: args.resource, namespace: args.namespace, name: args.name };
    const answer = await kube.request({
      method: 'PATCH',
      path: resourcePath(ref),
      ...(args.dryRun ? { query: { dryRun: 'All' } } : {}),
      headers: { 'content-type': PATCH_CONTENT_TYPES[args.patchType], accept: 'application/json' },
      body,
    });
    if (!isSuccess(answer)) {
      const hint = answer.status === 415 && args.patchType === 'strategic' ? 'Strategic merge patches work on built-in kinds only; use patchType merge for custom resources.' : undefined;
      return failureResult(answer, `patch ${describeRef(ref)}`, hint);
    }
    return writeResult({ done: 'patched', returned: bodyJson(answer), what: describeRef(ref), dryRun: args.dryRun === true });
  },
};
