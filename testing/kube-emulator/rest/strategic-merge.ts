/**
 * Strategic merge patch (application/strategic-merge-patch+json), following
 * k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (mergeMap / mergeSlice): lists of objects
 * with a patchMergeKey merge element-wise, primitive lists with patchStrategy merge are unions,
 * other lists are replaced; directives `$patch: replace|delete|merge`, `$retainKeys`,
 * `$setElementOrder/<field>` (reorders the merged list) and `$deleteFromPrimitiveList/<field>`;
 * null deletes a field.
 */
import { badRequest } from '../store/errors.ts';
import type { Json } from './merge-patch.ts';
import { isObject } from './merge-patch.ts';
import { listMeta } from './patch-meta.ts';

const PATCH = '$patch';
const RETAIN = '$retainKeys';
const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function strategicMergePatch(kind: string, original: Record<string, Json>, patch: Record<string, Json>): Record<string, Json> {
  return mergeMap(kind, structuredClone(original), patch, []);
}

function mergeMap(kind: string, original: Record<string, Json>, patch: Record<string, Json>, path: string[]): Record<string, Json> {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === 'replace') return stripDirectives(kind, patch, path) as Record<string, Json>;
    if (directive === 'delete') return {};
    if (directive !== 'merge') throw badRequest(`Unknown patch type: ${String(directive)} in map: ${JSON.stringify(patch)}`);
  }
  const retain = patch[RETAIN];
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('doesn\'t match the expected format of retainKeys list');
    const keep = new Set(retain.map(String));
    for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_PRIMITIVE)) continue;
    const field = k.slice(DELETE_PRIMITIVE.length);
    if (!Array.isArray(v)) throw badRequest('doesn\'t match the expected format of deleteFromPrimitiveList');
    const cur = original[field];
    if (Array.isArray(cur)) {
      const drop = new Set(v.map((x) => JSON.stringify(x)));
      original[field] = cur.filter((x) => !drop.has(JSON.stringify(x)));
    }
  }
  for (const [k, pv] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    const childPath = [...path, k];
    if (pv === null) {
      delete original[k];
      continue;
    }
    const ov = original[k];
    if (ov === undefined || ov === null) {
      original[k] = stripDirectives(kind, pv, childPath);
      continue;
    }
    if (isObject(ov) && isObject(pv)) original[k] = mergeMap(kind, ov, pv, childPath);
    else if (Array.isArray(ov) && Array.isArray(pv)) original[k] = mergeSlice(kind, ov, pv, childPath);
    else original[k] = stripDirectives(kind, pv, childPath);
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(ORDER)) continue;
    const field = k.slice(ORDER.length);
    const cur = original[field];
    if (Array.isArray(cur) && Array.isArray(v)) original[field] = applyOrder(kind, cur, v, [...path, field]);
  }
  return original;
}

function mergeSlice(kind: string, original: Json[], patch: Json[], path: string[]): Json[] {
  const meta = listMeta(kind, path);
  if (!meta) return stripDirectives(kind, patch, path) as Json[];
  if (meta.set) {
    const out = [...original];
    const seen = new Set(out.map((x) => JSON.stringify(x)));
    for (const p of patch) {
      const s = JSON.stringify(p);
      if (!seen.has(s)) {
        out.push(p);
        seen.add(s);
      }
    }
    return out;
  }
  const key = meta.key ?? 'name';
  if (patch.some((p) => isObject(p) && p[PATCH] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p[PATCH] === 'replace')).map((p) => stripDirectives(kind, p, path));
  }
  const out = [...original];
  for (const p of patch) {
    if (!isObject(p)) throw badRequest(`expected a map in a list of maps with merge key ${key}, got ${JSON.stringify(p)}`);
    const kv = p[key];
    const idx = kv === undefined ? -1 : out.findIndex((o) => isObject(o) && JSON.stringify(o[key]) === JSON.stringify(kv));
    if (p[PATCH] === 'delete') {
      if (kv === undefined) throw badRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (kv === undefined) throw badRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    const cur = idx >= 0 ? out[idx] : undefined;
    if (cur !== undefined && isObject(cur)) out[idx] = mergeMap(kind, structuredClone(cur), p, path);
    else out.push(stripDirectives(kind, p, path));
  }
  return out;
}

/** `$setElementOrder`: merged elements named in the order list come in that order; others keep their place after them. */
function applyOrder(kind: string, list: Json[], order: Json[], path: string[]): Json[] {
  const key = listMeta(kind, path)?.key;
  const id = (x: Json): string => JSON.stringify(key && isObject(x) ? x[key] : isObject(x) && key === undefined ? x : x);
  const orderIds = order.map((o) => JSON.stringify(key && isObject(o) ? o[key] : o));
  const rank = (x: Json): number => {
    const i = orderIds.indexOf(id(x));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list.map((x, i) => ({ x, i })).sort((a, b) => rank(a.x) - rank(b.x) || a.i - b.i).map((e) => e.x);
}

/** A patch value stored as is, minus directives (merging it into nothing). */
function stripDirectives(kind: string, v: Json, path: string[]): Json {
  if (Array.isArray(v)) {
    return v.filter((x) => !(isObject(x) && x[PATCH] === 'delete' && Object.keys(x).length <= 2)).map((x) => stripDirectives(kind, x, path));
  }
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(kind, x, [...path, k]);
  }
  return out;
}
