/**
 * delete and deletecollection, after k8s.io/apiserver/pkg/endpoints/handlers/delete.go and the
 * generic registry's Delete/DeleteCollection: DeleteOptions from the body (kubectl sends
 * `{"propagationPolicy":"Background"}`) or the query, preconditions (409), dryRun=All,
 * graceful deletion (pods answer the Pod with deletionTimestamp, then disappear), finalizers,
 * namespaces answer the Terminating Namespace; other kinds answer a Success Status naming the
 * object (finalizeDelete without ReturnDeletedObject). Pod eviction and binding live here too.
 */
import { apiVersionOf } from '../resources.ts';
import { badRequest, invalid, notFound } from '../store/errors.ts';
import type { DeleteOptions } from '../store/object-store.ts';
import type { KubeObject } from '../types.ts';
import type { Ctx } from './context.ts';
import { isDryRun, listItem, writeJson } from './context.ts';
import { isObject } from './merge-patch.ts';
import { matches, render, selectorsOf } from './read.ts';

/** Registries with ReturnDeletedObject (or their own Delete returning the object). */
const RETURNS_OBJECT = new Set(['/pods', '/namespaces', '/services']);

export function deleteOptionsOf(c: Ctx, bodyOverride?: unknown): DeleteOptions {
  const opts: DeleteOptions = {};
  let body: Record<string, unknown> = {};
  if (bodyOverride !== undefined) body = isObject(bodyOverride) ? bodyOverride : {};
  else if (c.body && c.body.length > 0) {
    try {
      const parsed = JSON.parse(c.body.toString('utf8')) as unknown;
      if (isObject(parsed)) body = parsed;
      else throw new Error('not an object');
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  const q = c.query;
  const grace = q.get('gracePeriodSeconds') ?? (typeof body.gracePeriodSeconds === 'number' ? String(body.gracePeriodSeconds) : null);
  if (grace !== null) {
    const n = Number.parseInt(grace, 10);
    if (!Number.isFinite(n)) throw badRequest(`gracePeriodSeconds: Invalid value: "${grace}"`);
    opts.gracePeriodSeconds = Math.max(0, n);
  }
  const policy = q.get('propagationPolicy') ?? (typeof body.propagationPolicy === 'string' ? body.propagationPolicy : null);
  if (policy !== null) {
    if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw invalid('DeleteOptions', 'meta.k8s.io', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
    }
    opts.propagationPolicy = policy;
  }
  const orphan = q.get('orphanDependents') ?? (typeof body.orphanDependents === 'boolean' ? String(body.orphanDependents) : null);
  if (orphan === 'true' && !opts.propagationPolicy) opts.propagationPolicy = 'Orphan';
  if (isObject(body.preconditions)) {
    const p = body.preconditions;
    opts.preconditions = {};
    if (typeof p.uid === 'string') opts.preconditions.uid = p.uid;
    if (typeof p.resourceVersion === 'string') opts.preconditions.resourceVersion = p.resourceVersion;
  }
  const bodyDry = Array.isArray(body.dryRun) ? body.dryRun : [];
  opts.dryRun = isDryRun(c) || bodyDry.includes('All');
  return opts;
}

function deletedResponse(c: Ctx, o: KubeObject, immediate: boolean): [number, unknown] {
  if (!immediate || RETURNS_OBJECT.has(`${c.def.group}/${c.def.resource}`)) return [200, render(c, o)];
  const details: Record<string, string> = { name: o.metadata.name ?? '' };
  if (c.def.group) details.group = c.def.group;
  details.kind = c.def.resource;
  if (o.metadata.uid) details.uid = o.metadata.uid;
  return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details }];
}

export function handleDelete(c: Ctx): void {
  if (c.info.subresource) throw badRequest(`${c.info.subresource} does not support delete`);
  const opts = deleteOptionsOf(c);
  const r = c.store.delete(c.def, c.namespace, c.info.name, opts);
  const [code, body] = deletedResponse(c, r.object, r.immediate);
  writeJson(c, code, body);
}

export function handleDeleteCollection(c: Ctx): void {
  const sel = selectorsOf(c);
  const opts = deleteOptionsOf(c);
  const { items } = c.store.list(c.def, c.namespace);
  const deleted: KubeObject[] = [];
  for (const o of items) {
    if (!matches(c, sel, o)) continue;
    try {
      deleted.push(c.store.delete(c.def, o.metadata.namespace, o.metadata.name ?? '', { ...opts, preconditions: undefined }).object);
    } catch {
      // deleted concurrently
    }
  }
  writeJson(c, 200, { kind: c.def.listKind, apiVersion: apiVersionOf(c.def), metadata: { resourceVersion: c.store.resourceVersion() }, items: deleted.map((o) => listItem(c, o)) });
}

/** POST pods/x/eviction (policy/v1 Eviction): a graceful delete; 201 Success. */
export function handleEviction(c: Ctx): void {
  let raw: unknown = {};
  if (c.body && c.body.length) {
    try {
      raw = JSON.parse(c.body.toString('utf8')) as unknown;
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }
  const ev = isObject(raw) ? raw : {};
  const name = isObject(ev.metadata) && typeof ev.metadata.name === 'string' ? ev.metadata.name : c.info.name;
  if (name !== c.info.name) throw badRequest(`name in URL does not match name in Eviction object`);
  if (!c.store.get(c.def, c.namespace, c.info.name)) throw notFound(c.def, c.info.name);
  const opts = deleteOptionsOf(c, isObject(ev.deleteOptions) ? ev.deleteOptions : {});
  c.store.delete(c.def, c.namespace, c.info.name, opts);
  writeJson(c, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** POST pods/x/binding: the scheduler's write of spec.nodeName. */
export function handleBinding(c: Ctx): void {
  const raw = c.body && c.body.length ? (JSON.parse(c.body.toString('utf8')) as unknown) : {};
  const target = isObject(raw) && isObject(raw.target) && typeof raw.target.name === 'string' ? raw.target.name : '';
  const pod = c.store.get(c.def, c.namespace, c.info.name);
  if (!pod) throw notFound(c.def, c.info.name);
  if (!target) throw invalid('Binding', '', c.info.name, [{ type: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  const spec = (pod.spec ?? {}) as Record<string, unknown>;
  if (spec.nodeName) {
    throw invalid('Binding', '', c.info.name, [{ type: 'FieldValueInvalid', field: 'target', message: `pod ${c.info.name} is already assigned to node "${String(spec.nodeName)}"` }]);
  }
  pod.spec = { ...spec, nodeName: target };
  if (!isDryRun(c)) c.store.update(c.def, pod);
  writeJson(c, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

