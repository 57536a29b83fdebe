/**
 * Applying a PATCH body to an object, per content type, as k8s.io/apiserver/pkg/endpoints/handlers/patch.go
 * does: application/json-patch+json (RFC 6902 via fast-json-patch; failures are 422 with the
 * json-patch error as cause), application/merge-patch+json (RFC 7386),
 * application/strategic-merge-patch+json (built-in kinds only; custom resources answer 415),
 * application/apply-patch+yaml is server-side apply (./apply.ts). Unknown types → 415.
 */
import fjp from 'fast-json-patch';
import type { ResourceDef } from '../resources.ts';
import { badRequest, unprocessable, unsupportedMediaType } from '../store/errors.ts';
import type { KubeObject } from '../types.ts';
import type { Json } from './merge-patch.ts';
import { isObject, mergePatch } from './merge-patch.ts';
import { strategicMergePatch } from './strategic-merge.ts';
import { parseJson } from './validation.ts';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(def: ResourceDef, contentType: string): PatchType {
  const t = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const accepted = ['application/json-patch+json', 'application/merge-patch+json', ...(def.protobuf ? ['application/strategic-merge-patch+json'] : []), 'application/apply-patch+yaml'];
  switch (t) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      if (def.protobuf) return 'strategic';
      break;
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      break;
  }
  throw unsupportedMediaType(contentType, accepted);
}

function jsonPatchMessage(e: Error & { name: string; operation?: { op?: string; path?: string } }): string {
  const op = e.operation?.op ?? '';
  const path = e.operation?.path ?? '';
  switch (e.name) {
    case 'TEST_OPERATION_FAILED':
      return `testing value ${path} failed: test failed`;
    case 'OPERATION_PATH_UNRESOLVABLE':
      return op === 'remove' ? `remove operation does not apply: doc is missing path: "${path}"` : `${op} operation does not apply: doc is missing key: ${path}`;
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `${op} operation does not apply: doc is missing from path: ${path}`;
    case 'OPERATION_OP_INVALID':
      return `Unexpected kind: ${op}`;
    default:
      return e.message.split('\n')[0] ?? e.message;
  }
}

/** Apply a json/merge/strategic patch body to `target` (which is not modified). */
export function applyPatchBody(kind: string, type: Exclude<PatchType, 'apply'>, target: KubeObject | Record<string, Json>, body: Buffer | undefined): KubeObject {
  const patch = parseJson(body);
  const doc = structuredClone(target) as unknown as Record<string, Json>;
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest(`json: cannot unmarshal ${typeof patch} into Go value of type jsonpatch.Patch`);
    try {
      const r = fjp.applyPatch(doc, patch as fjp.Operation[], true, false);
      return r.newDocument as unknown as KubeObject;
    } catch (e) {
      if (e instanceof fjp.JsonPatchError) throw unprocessable(jsonPatchMessage(e as unknown as Error & { name: string; operation?: { op?: string; path?: string } }));
      throw e;
    }
  }
  if (!isObject(patch)) throw badRequest(`json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`);
  if (type === 'merge') return mergePatch(doc, patch) as unknown as KubeObject;
  return strategicMergePatch(kind, doc, patch) as unknown as KubeObject;
}
