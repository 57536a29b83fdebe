/**
 * get and list, after k8s.io/apiserver/pkg/endpoints/handlers/get.go and the etcd3 store's
 * GetList (k8s.io/apiserver/pkg/storage/etcd3/store.go): label and field selectors, limit with
 * an opaque continue token (base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}),
 * remainingItemCount when unfiltered, resourceVersion/resourceVersionMatch semantics
 * (unset/"0"/NotOlderThan → latest; Exact → the state at that revision, reconstructed from the
 * event history; older than the history → 410 Expired), and the as=Table /
 * as=PartialObjectMetadata renderings.
 */
import { apiVersionOf } from '../resources.ts';
import { StatusError } from '../status.ts';
import { badRequest, expired, invalid, notFound } from '../store/errors.ts';
import { resourceKey } from '../store/object-store.ts';
import type { KubeObject } from '../types.ts';
import type { Ctx } from './context.ts';
import { listItem, writeJson } from './context.ts';
import type { FieldSelector } from './fields.ts';
import { checkFieldLabels, matchFields, parseFieldSelector } from './fields.ts';
import type { LabelSelector } from './labels.ts';
import { matchLabels, parseLabelSelector } from './labels.ts';
import type { IncludeObject } from './table.ts';
import { partialObjectMetadata, toTable, wantsPartialMetadata, wantsTable } from './table.ts';

export interface Selectors { labels: LabelSelector; fields: FieldSelector; everything: boolean }

export function selectorsOf(c: Ctx): Selectors {
  const labels = parseLabelSelector(c.query.get('labelSelector') ?? '');
  const fields = parseFieldSelector(c.query.get('fieldSelector') ?? '');
  checkFieldLabels(c.def, fields);
  return { labels, fields, everything: labels.length === 0 && fields.length === 0 };
}

export function matches(c: Ctx, s: Selectors, o: KubeObject): boolean {
  return matchLabels(s.labels, o.metadata.labels) && matchFields(c.def, s.fields, o);
}

export function includeObjectOf(c: Ctx): IncludeObject {
  const v = c.query.get('includeObject');
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  return 'Metadata';
}

/** The object as the client asked to see it (Table, PartialObjectMetadata or itself). */
export function render(c: Ctx, o: KubeObject, noHeaders = false): unknown {
  const t = wantsTable(c.accept);
  if (t) return toTable(c.def, [o], { version: t, includeObject: includeObjectOf(c), now: c.config.now(), noHeaders, listMeta: { resourceVersion: o.metadata.resourceVersion ?? '' } });
  const p = wantsPartialMetadata(c.accept);
  if (p) return partialObjectMetadata(o, p);
  return o;
}

export function handleGet(c: Ctx): void {
  const o = c.store.get(c.def, c.namespace, c.info.name);
  if (!o) throw notFound(c.def, c.info.name);
  writeJson(c, 200, render(c, o));
}

interface ContinueToken { v: string; rv: number; start: string }

function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start: `${lastKey}\u0000` })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v !== 'meta.k8s.io/v1') throw new Error('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    if (typeof t.rv !== 'number' || typeof t.start !== 'string') throw new Error('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    return t;
  } catch (e) {
    throw badRequest(`invalid continue token: ${(e as Error).message}`);
  }
}

const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

const keyOf = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name ?? ''}` : (o.metadata.name ?? ''));

/** The objects of the resource as they were at revision rv (undo the history after it). */
export function stateAt(c: Ctx, rv: number, onExpired: () => StatusError): KubeObject[] {
  const current = c.store.list(c.def, c.namespace);
  const cur = Number(current.resourceVersion);
  if (rv >= cur) return current.items;
  if (rv < c.store.history.compactedRV) throw onExpired();
  const byKey = new Map(current.items.map((o) => [keyOf(o), o]));
  const key = resourceKey(c.def);
  const events = c.store.history.since(rv).filter((e) => e.key === key && (!c.namespace || e.namespace === c.namespace));
  for (const e of events.reverse()) {
    const k = keyOf(e.object);
    if (e.type === 'ADDED') byKey.delete(k);
    else if (e.prev) byKey.set(k, structuredClone(e.prev));
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

export function handleList(c: Ctx): void {
  const sel = selectorsOf(c);
  const rvParam = c.query.get('resourceVersion') ?? '';
  const match = c.query.get('resourceVersionMatch') ?? '';
  const cont = c.query.get('continue') ?? '';
  const limitRaw = c.query.get('limit');
  const limit = limitRaw ? Number.parseInt(limitRaw, 10) : 0;
  if (limitRaw && (!Number.isFinite(limit) || limit < 0)) throw badRequest(`limit must be a non-negative integer`);
  if (match && !rvParam) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
  }
  if (match && match !== 'Exact' && match !== 'NotOlderThan') {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"` }]);
  }
  if (cont && rvParam && rvParam !== '0') {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersion', message: 'Forbidden: specifying resource version is not allowed when using continue' }]);
  }
  if (match === 'Exact' && rvParam === '0') {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"' }]);
  }
  const currentRV = Number(c.store.resourceVersion());
  let readRV = currentRV;
  let start = '';
  let items: KubeObject[];
  if (cont) {
    const t = decodeContinue(cont);
    readRV = t.rv;
    start = t.start.endsWith('\u0000') ? t.start.slice(0, -1) : t.start;
    items = stateAt(c, readRV, () => expired(CONTINUE_EXPIRED));
  } else if (rvParam && rvParam !== '0') {
    const n = Number(rvParam);
    if (!/^\d+$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": strconv.ParseUint: parsing "${rvParam}": invalid syntax`);
    if (n > currentRV) {
      throw StatusError.of(504, 'Timeout', `Timeout: Too large resource version: ${n}, current: ${currentRV}`, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    }
    if (match === 'Exact') {
      readRV = n;
      items = stateAt(c, n, () => expired(`too old resource version: ${n} (${c.store.history.compactedRV})`));
    } else items = c.store.list(c.def, c.namespace).items;
  } else items = c.store.list(c.def, c.namespace).items;

  let filtered = items.filter((o) => (!start || keyOf(o) > start) && matches(c, sel, o));
  let next: string | undefined;
  let remaining: number | undefined;
  if (limit > 0 && filtered.length > limit) {
    const rest = filtered.length - limit;
    filtered = filtered.slice(0, limit);
    const last = filtered[filtered.length - 1];
    if (last) next = encodeContinue(readRV, keyOf(last));
    if (sel.everything) remaining = rest;
  }
  const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: String(readRV) };
  if (next) meta.continue = next;
  if (remaining !== undefined) meta.remainingItemCount = remaining;

  const t = wantsTable(c.accept);
  if (t) {
    writeJson(c, 200, toTable(c.def, filtered, { version: t, includeObject: includeObjectOf(c), now: c.config.now(), listMeta: meta }));
    return;
  }
  const p = wantsPartialMetadata(c.accept);
  if (p) {
    writeJson(c, 200, { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${p}`, metadata: meta, items: filtered.map((o) => partialObjectMetadata(o, p)) });
    return;
  }
  writeJson(c, 200, { kind: c.def.listKind, apiVersion: apiVersionOf(c.def), metadata: meta, items: filtered.map((o) => listItem(c, o)) });
}
