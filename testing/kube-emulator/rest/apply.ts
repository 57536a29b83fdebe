/**
 * Server-side apply (application/apply-patch+yaml), approximating
 * k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager + sigs.k8s.io/structured-merge-diff:
 * the applied configuration is merged into the live object (keyed lists merge by key, maps
 * recursively, everything else replaced), fields this manager applied before and no longer
 * applies are removed unless someone else owns them, and fields owned by other managers with a
 * different value conflict (409, NewApplyConflict) unless force=true, which takes them over.
 */
import { StatusError } from '../status.ts';
import type { KubeObject } from '../types.ts';
import type { FieldPath, FieldSet, ManagedFieldsEntry } from './managed-fields.ts';
import { decodeFieldsV1, encodeFieldsV1, entriesOf, fieldSetOf, pathString, printManager, removeAt, valueAt } from './managed-fields.ts';
import type { Json } from './merge-patch.ts';
import { strategicMergePatch } from './strategic-merge.ts';

interface Conflict { entry: ManagedFieldsEntry; path: FieldPath }

export function conflictError(conflicts: Conflict[]): StatusError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: pathString(c.path) }));
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.entry)}: ${pathString(first.path)}`;
  } else {
    const byManager = new Map<string, { entry: ManagedFieldsEntry; paths: FieldPath[] }>();
    for (const c of conflicts) {
      const id = JSON.stringify({ manager: c.entry.manager, operation: c.entry.operation, apiVersion: c.entry.operation === 'Update' ? c.entry.apiVersion : undefined });
      const m = byManager.get(id) ?? { entry: c.entry, paths: [] };
      m.paths.push(c.path);
      byManager.set(id, m);
    }
    const lines: string[] = [];
    for (const id of [...byManager.keys()].sort()) {
      const m = byManager.get(id);
      if (!m) continue;
      lines.push(`conflicts with ${printManager(m.entry)}:`);
      for (const p of m.paths) lines.push(`- ${pathString(p)}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Conflict', details: { causes }, code: 409 });
}

export interface ApplyArgs {
  kind: string;
  apiVersion: string;
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  time: string;
  subresource?: string;
}

/** The object after applying; throws a 409 conflict StatusError. */
export function serverSideApply(a: ApplyArgs): KubeObject {
  const applied = structuredClone(a.applied);
  delete applied.metadata.managedFields;
  const appliedSet = fieldSetOf(a.kind, applied);
  const entries = a.live ? entriesOf(a.live) : [];
  const isMine = (e: ManagedFieldsEntry) => e.manager === a.manager && e.operation === 'Apply' && (e.subresource ?? '') === (a.subresource ?? '');

  const conflicts: Conflict[] = [];
  if (a.live) {
    for (const e of entries) {
      if (isMine(e)) continue;
      const owned = decodeFieldsV1(e.fieldsV1);
      for (const [k, p] of appliedSet) {
        if (!owned.has(k)) continue;
        if (p[p.length - 1]?.startsWith('k:')) continue;
        if (JSON.stringify(valueAt(a.live, p)) !== JSON.stringify(valueAt(applied, p))) conflicts.push({ entry: e, path: p });
      }
    }
  }
  if (conflicts.length && !a.force) throw conflictError(conflicts);

  const base = a.live ? structuredClone(a.live) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const merged = strategicMergePatch(a.kind, base as unknown as Record<string, Json>, applied as unknown as Record<string, Json>) as unknown as KubeObject;

  // Fields this manager applied before but not now, owned by nobody else, are removed.
  const prev = entries.find(isMine);
  const others: FieldSet = new Map();
  for (const e of entries) if (!isMine(e)) for (const [k, p] of decodeFieldsV1(e.fieldsV1)) others.set(k, p);
  if (prev) {
    const dropped = [...decodeFieldsV1(prev.fieldsV1)].filter(([k]) => !appliedSet.has(k) && !others.has(k)).map(([, p]) => p);
    dropped.sort((x, y) => y.length - x.length);
    for (const p of dropped) removeAt(merged as unknown as Record<string, Json>, p);
  }

  // Ownership: forced conflicts move to the applier; the applier's entry is the applied set.
  const out: ManagedFieldsEntry[] = [];
  let placed = false;
  const mine: ManagedFieldsEntry = { manager: a.manager, operation: 'Apply', apiVersion: a.apiVersion, time: a.time, fieldsType: 'FieldsV1', fieldsV1: encodeFieldsV1(appliedSet) };
  if (a.subresource) mine.subresource = a.subresource;
  for (const e of entries) {
    if (isMine(e)) {
      out.push(mine);
      placed = true;
      continue;
    }
    const set = decodeFieldsV1(e.fieldsV1);
    for (const c of conflicts) if (c.entry === e) set.delete(JSON.stringify(c.path));
    // fields that no longer exist are disowned
    for (const [k, p] of [...set]) if (valueAt(merged, p) === undefined) set.delete(k);
    if (set.size) out.push({ ...e, fieldsV1: encodeFieldsV1(set) });
  }
  if (!placed) out.push(mine);
  merged.metadata.managedFields = out;
  return merged;
}
