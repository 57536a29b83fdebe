/**
 * metadata.managedFields bookkeeping, an approximation of the apiserver field manager
 * (k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager, sigs.k8s.io/structured-merge-diff):
 * field sets are the leaf paths of an object (`f:<field>`, `k:{"<mergeKey>":<value>}` for
 * keyed list items, `v:<value>` for set lists; other lists are atomic leaves), serialised as
 * FieldsV1. Updates give the writer ownership of what it changed; applies own what they applied,
 * conflict with other owners on differing values (messages from fieldmanager/internal/conflict.go).
 */
import type { KubeObject } from '../types.ts';
import type { Json } from './merge-patch.ts';
import { isObject } from './merge-patch.ts';
import { listMeta } from './patch-meta.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, Json>;
  subresource?: string;
}

/** A path is a list of segments; a set is keyed by the JSON of the path. */
export type FieldPath = string[];
export type FieldSet = Map<string, FieldPath>;

const IGNORED_META = new Set([
  'name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp',
  'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName',
]);

const add = (s: FieldSet, p: FieldPath): void => {
  s.set(JSON.stringify(p), p);
};

/** The field set of an object (identity metadata, apiVersion and kind excluded). */
export function fieldSetOf(kind: string, obj: KubeObject | Record<string, Json>): FieldSet {
  const out: FieldSet = new Map();
  walk(kind, obj as Record<string, Json>, [], [], out, true);
  return out;
}

function itemKey(key: string, v: Json | undefined): string {
  return `k:${JSON.stringify({ [key]: v ?? null })}`;
}

function walk(kind: string, obj: Record<string, Json>, names: string[], segs: FieldPath, out: FieldSet, root = false): void {
  for (const [k, v] of Object.entries(obj)) {
    if (root && (k === 'apiVersion' || k === 'kind')) continue;
    if (names.length === 1 && names[0] === 'metadata' && IGNORED_META.has(k)) continue;
    if (v === null) continue;
    const seg = `f:${k}`;
    const p = [...segs, seg];
    const childNames = [...names, k];
    if (isObject(v)) {
      if (Object.keys(v).length === 0) add(out, p);
      else walk(kind, v, childNames, p, out);
    } else if (Array.isArray(v)) {
      const meta = listMeta(kind, childNames);
      if (meta?.key && v.every(isObject)) {
        const key = meta.key;
        for (const item of v as Record<string, Json>[]) {
          const ip = [...p, itemKey(key, item[key])];
          add(out, ip);
          walk(kind, item, childNames, ip, out);
        }
      } else if (meta?.set) {
        for (const item of v) add(out, [...p, `v:${JSON.stringify(item)}`]);
      } else add(out, p);
    } else add(out, p);
  }
}

/** Value at a path (undefined when absent). */
export function valueAt(obj: unknown, path: FieldPath): Json | undefined {
  let cur: unknown = obj;
  for (const seg of path) {
    if (seg.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(seg.slice(2)) as Record<string, Json>;
      const [key, val] = Object.entries(want)[0] ?? ['', null];
      cur = cur.find((x) => isObject(x) && JSON.stringify(x[key] ?? null) === JSON.stringify(val));
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = seg.slice(2);
      cur = cur.find((x) => JSON.stringify(x) === want);
    }
    if (cur === undefined) return undefined;
  }
  return cur as Json;
}

/** Remove the field (or list item) at a path; returns true when something was removed. */
export function removeAt(obj: Record<string, Json>, path: FieldPath): boolean {
  if (path.length === 0) return false;
  const parent = path.length === 1 ? obj : valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] ?? '';
  if (last.startsWith('f:') && isObject(parent)) {
    const k = last.slice(2);
    if (!(k in parent)) return false;
    delete parent[k];
    return true;
  }
  if (Array.isArray(parent)) {
    const target = valueAt(obj, path);
    const i = parent.indexOf(target as Json);
    if (i >= 0) {
      parent.splice(i, 1);
      return true;
    }
  }
  return false;
}

/** structured-merge-diff Path.String(): `.spec.containers[name="nginx"].image`. */
export function pathString(path: FieldPath): string {
  let s = '';
  for (const seg of path) {
    if (seg.startsWith('f:')) s += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) {
      const kv = JSON.parse(seg.slice(2)) as Record<string, Json>;
      s += `[${Object.entries(kv).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    } else if (seg.startsWith('v:')) s += `[=${seg.slice(2)}]`;
  }
  return s;
}

export function encodeFieldsV1(set: FieldSet): Record<string, Json> {
  const root: Record<string, Json> = {};
  const paths = [...set.values()];
  const isPrefix = (p: FieldPath) => paths.some((q) => q.length > p.length && p.every((s, i) => q[i] === s));
  for (const p of paths) {
    let node = root;
    for (const seg of p) {
      const next = node[seg];
      if (isObject(next)) node = next;
      else {
        const n: Record<string, Json> = {};
        node[seg] = n;
        node = n;
      }
    }
    if (isPrefix(p)) node['.'] = {};
  }
  return root;
}

export function decodeFieldsV1(f: unknown): FieldSet {
  const out: FieldSet = new Map();
  const rec = (node: unknown, p: FieldPath) => {
    if (!isObject(node)) return;
    const keys = Object.keys(node);
    if (keys.length === 0 && p.length) add(out, p);
    for (const k of keys) {
      if (k === '.') add(out, p);
      else rec(node[k], [...p, k]);
    }
  };
  rec(f, []);
  return out;
}

export function entriesOf(obj: KubeObject): ManagedFieldsEntry[] {
  const m = obj.metadata.managedFields;
  return Array.isArray(m) ? (m.filter((e) => isObject(e as Json) && typeof (e as ManagedFieldsEntry).manager === 'string') as ManagedFieldsEntry[]) : [];
}

/** fieldmanager printManager (with BuildManagerIdentifier's rules: no time, apiVersion only for updates). */
export function printManager(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

/** Manager name for requests without ?fieldManager: the user agent up to its first '/'. */
export function managerFromUserAgent(ua: string | undefined): string {
  const s = (ua ?? '').split('/')[0] ?? '';
  return s.slice(0, 128) || 'unknown';
}

const sameEntry = (a: ManagedFieldsEntry, manager: string, op: string, sub?: string) =>
  a.manager === manager && a.operation === op && (a.subresource ?? '') === (sub ?? '');

/** Ownership after a non-apply write: the writer owns what it changed; removed fields are disowned. */
export function trackUpdate(kind: string, apiVersion: string, oldObj: KubeObject | undefined, newObj: KubeObject, manager: string, time: string, subresource?: string): void {
  const entries = oldObj ? entriesOf(oldObj) : [];
  const oldSet = oldObj ? fieldSetOf(kind, oldObj) : new Map<string, FieldPath>();
  const newSet = fieldSetOf(kind, newObj);
  const changed: FieldSet = new Map();
  for (const [k, p] of newSet) {
    if (!oldSet.has(k) || JSON.stringify(valueAt(oldObj, p)) !== JSON.stringify(valueAt(newObj, p))) {
      // item nodes only count when the item is new
      if (p[p.length - 1]?.startsWith('k:') && oldSet.has(k)) continue;
      changed.set(k, p);
    }
  }
  const out: ManagedFieldsEntry[] = [];
  let mine: FieldSet | undefined;
  for (const e of entries) {
    const set = decodeFieldsV1(e.fieldsV1);
    for (const k of [...set.keys()]) if (!newSet.has(k) || changed.has(k)) set.delete(k);
    if (sameEntry(e, manager, 'Update', subresource)) {
      mine = set;
      continue;
    }
    if (set.size) out.push({ ...e, fieldsV1: encodeFieldsV1(set) });
  }
  if (changed.size || mine?.size) {
    const set: FieldSet = new Map([...(mine ?? new Map<string, FieldPath>()), ...changed]);
    const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: encodeFieldsV1(set) };
    if (subresource) entry.subresource = subresource;
    const prevIdx = entries.findIndex((e) => sameEntry(e, manager, 'Update', subresource));
    if (prevIdx >= 0 && !changed.size) entry.time = entries[prevIdx]?.time ?? time;
    out.push(entry);
  }
  if (out.length) newObj.metadata.managedFields = out;
  else delete newObj.metadata.managedFields;
}
