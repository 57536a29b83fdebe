/**
 * create (POST), update (PUT) and patch (PATCH), after k8s.io/apiserver/pkg/endpoints/handlers
 * create.go / update.go / patch.go and the generic registry's BeforeCreate/BeforeUpdate:
 * the namespace of the path wins (a different one in the body is 400), generateName, metadata
 * validation, resourceVersion preconditions (409 Conflict), the main resource cannot change
 * status and the status subresource changes only status, dryRun=All, managedFields, and the
 * subresource views (autoscaling/v1 Scale for deployments/scale, pods/ephemeralcontainers,
 * namespaces/finalize).
 */
import { StatusError } from '../status.ts';
import { badRequest, invalid, notFound } from '../store/errors.ts';
import { randomSuffix } from '../store/object-store.ts';
import type { KubeObject } from '../types.ts';
import { serverSideApply } from './apply.ts';
import type { Ctx } from './context.ts';
import { apiVersion, fieldManager, fieldValidation, force, isDryRun, timestamp, writeJson } from './context.ts';
import { trackUpdate } from './managed-fields.ts';
import { isObject } from './merge-patch.ts';
import { applyPatchBody, patchTypeOf } from './patch.ts';
import { render } from './read.ts';
import { checkUnknownFields, decodeObject, parseJson, parseYamlOrJson, validateMeta } from './validation.ts';

const NS_MISMATCH = 'the namespace of the provided object does not match the namespace sent on the request';

function fixNamespace(c: Ctx, o: KubeObject): void {
  if (!c.def.namespaced) {
    delete o.metadata.namespace;
    return;
  }
  const bodyNs = o.metadata.namespace;
  if (bodyNs && c.namespace && bodyNs !== c.namespace) throw badRequest(NS_MISMATCH);
  o.metadata.namespace = c.namespace ?? bodyNs;
}

function hasStatusSubresource(c: Ctx): boolean {
  return Boolean(c.def.subresources?.some((s) => s.name === 'status'));
}

/**
 * A Secret's write-only `stringData` folded into `data` (base64), as the v1 → internal conversion
 * does on every write — create, update and patch (k8s.io/kubernetes pkg/apis/core/v1
 * Convert_v1_Secret_To_core_Secret): stringData wins over data for the same key.
 */
function mergeStringData(o: KubeObject): void {
  const sd = o.stringData;
  if (isObject(sd)) {
    const data = { ...((o.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v)).toString('base64');
    o.data = data;
  }
  delete o.stringData;
}

/** Fields the API server resets on create (BeforeCreate / PrepareForCreate). */
function prepareForCreate(c: Ctx, o: KubeObject): void {
  if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${randomSuffix()}`;
  delete o.metadata.deletionTimestamp;
  delete o.metadata.deletionGracePeriodSeconds;
  delete o.metadata.selfLink;
  if (c.def.kind === 'Pod') {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    spec.restartPolicy ??= 'Always';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.schedulerName ??= 'default-scheduler';
    spec.serviceAccountName ??= 'default';
    spec.serviceAccount ??= spec.serviceAccountName;
    spec.securityContext ??= {};
    spec.nodeName ??= 'sluice-demo-node';
    o.spec = spec;
    o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  } else if (c.def.kind === 'Deployment') {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
    o.spec = spec;
    delete o.status;
  } else if (c.def.kind === 'Secret') {
    o.type ??= 'Opaque';
    mergeStringData(o);
  } else if (c.def.kind === 'Service') {
    const spec = (o.spec ?? {}) as Record<string, unknown>;
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (!spec.clusterIP && spec.type !== 'ExternalName') {
      const ip = `10.96.${Math.floor(Math.random() * 200) + 1}.${Math.floor(Math.random() * 250) + 2}`;
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    o.spec = spec;
    o.status ??= { loadBalancer: {} };
  } else if (hasStatusSubresource(c) && c.def.group !== 'demo.sluice.dev' && c.def.kind !== 'CustomResourceDefinition') {
    delete o.status;
  }
}

export function handleCreate(c: Ctx): void {
  if (c.info.subresource) throw StatusError.of(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  const dryRun = isDryRun(c);
  fieldValidation(c);
  const o = decodeObject(c, parseJson(c.body));
  fixNamespace(c, o);
  prepareForCreate(c, o);
  validateMeta(c.def, o);
  delete o.metadata.managedFields;
  trackUpdate(c.def.kind, apiVersion(c), undefined, o, fieldManager(c), timestamp(c));
  const created = c.store.create(c.def, o, { dryRun });
  writeJson(c, 201, render(c, created));
}

/** The autoscaling/v1 Scale view of a deployment. */
export function scaleOf(d: KubeObject): KubeObject {
  const spec = (d.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (d.status ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const metadata: KubeObject['metadata'] = {
    name: d.metadata.name, namespace: d.metadata.namespace, uid: d.metadata.uid,
    resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp,
  };
  return { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata, spec: { replicas: spec.replicas ?? 1 }, status: { replicas: status.replicas ?? 0, selector } };
}

/** The object a subresource write produces from the stored object and the client's version of the view. */
function mergeSubresource(c: Ctx, old: KubeObject, incoming: KubeObject): KubeObject {
  const sub = c.info.subresource;
  const out = structuredClone(old);
  if (incoming.metadata.resourceVersion) out.metadata.resourceVersion = incoming.metadata.resourceVersion;
  switch (sub) {
    case '':
      {
        const o = structuredClone(incoming);
        if (hasStatusSubresource(c) && c.def.kind !== 'CustomResourceDefinition') {
          if (old.status === undefined) delete o.status;
          else o.status = structuredClone(old.status);
        }
        return o;
      }
    case 'status':
      out.status = structuredClone(incoming.status);
      return out;
    case 'scale': {
      const replicas = (incoming.spec as { replicas?: unknown } | undefined)?.replicas;
      if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
        throw invalid('Scale', 'autoscaling', old.metadata.name ?? '', [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }]);
      }
      out.spec = { ...((old.spec as object | undefined) ?? {}), replicas };
      return out;
    }
    case 'ephemeralcontainers': {
      const eph = (incoming.spec as { ephemeralContainers?: unknown } | undefined)?.ephemeralContainers;
      const oldEph = ((old.spec as { ephemeralContainers?: { name: string }[] } | undefined)?.ephemeralContainers ?? []);
      const newEph = (Array.isArray(eph) ? eph : []) as { name: string }[];
      for (const e of oldEph) {
        if (!newEph.some((n) => n.name === e.name)) {
          throw invalid('Pod', '', old.metadata.name ?? '', [{ type: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers may not be removed' }]);
        }
      }
      out.spec = { ...((old.spec as object | undefined) ?? {}), ephemeralContainers: newEph };
      // The kubelet starts them right away.
      const t = timestamp(c);
      const statuses = newEph.map((e) => ({ name: e.name, state: { running: { startedAt: t } }, lastState: {}, ready: false, restartCount: 0, image: String((e as { image?: string }).image ?? ''), imageID: '', containerID: `containerd://${e.name}` }));
      out.status = { ...((old.status as object | undefined) ?? {}), ephemeralContainerStatuses: statuses };
      return out;
    }
    case 'finalize':
      out.spec = { ...((old.spec as object | undefined) ?? {}), finalizers: (incoming.spec as { finalizers?: unknown } | undefined)?.finalizers ?? [] };
      return out;
    default:
      throw StatusError.of(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
}

function view(c: Ctx, o: KubeObject): KubeObject {
  return c.info.subresource === 'scale' ? scaleOf(o) : o;
}

function viewKind(c: Ctx): { kind: string; apiVersion: string } {
  if (c.info.subresource === 'scale') return { kind: 'Scale', apiVersion: 'autoscaling/v1' };
  return { kind: c.def.kind, apiVersion: apiVersion(c) };
}

function commit(c: Ctx, old: KubeObject, candidate: KubeObject, dryRun: boolean, manager: string): KubeObject {
  const next = mergeSubresource(c, old, candidate);
  if (c.def.kind === 'Secret') mergeStringData(next);
  next.metadata.name = old.metadata.name;
  if (c.def.namespaced) next.metadata.namespace = old.metadata.namespace;
  next.metadata.managedFields = old.metadata.managedFields;
  if (next.metadata.deletionTimestamp === undefined && old.metadata.deletionTimestamp) next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
  validateMeta(c.def, next);
  const sub = c.info.subresource === 'status' || c.info.subresource === 'scale' ? c.info.subresource : undefined;
  trackUpdate(c.def.kind, apiVersion(c), old, next, manager, timestamp(c), sub);
  return c.store.update(c.def, next, { dryRun });
}

export function handleUpdate(c: Ctx): void {
  const dryRun = isDryRun(c);
  fieldValidation(c);
  const vk = viewKind(c);
  const o = decodeObject(c, parseJson(c.body), vk.kind, vk.apiVersion);
  const name = o.metadata.name ?? '';
  if (!name) {
    throw invalid(vk.kind, c.def.group, '', [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  }
  if (name !== c.info.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${c.info.name})`);
  if (c.info.subresource !== 'scale') fixNamespace(c, o);
  else if (o.metadata.namespace && c.namespace && o.metadata.namespace !== c.namespace) throw badRequest(NS_MISMATCH);
  const old = c.store.get(c.def, c.namespace, c.info.name);
  if (!old) throw notFound(c.def, c.info.name);
  const stored = commit(c, old, o, dryRun, fieldManager(c));
  writeJson(c, 200, c.info.subresource === 'scale' ? scaleOf(stored) : render(c, stored));
}

export function handlePatch(c: Ctx): void {
  const type = patchTypeOf(c.def, c.contentType);
  const validation = fieldValidation(c);
  const dryRun = isDryRun(c);
  const manager = c.query.get('fieldManager') ?? '';
  if (type === 'apply') {
    if (!manager) {
      throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' }]);
    }
    return applyPatch(c, manager, validation, dryRun);
  }
  if (c.query.get('force') !== null) {
    throw invalid('PatchOptions', 'meta.k8s.io', '', [{ type: 'FieldValueForbidden', field: 'force', message: 'Forbidden: may not be specified for non-apply patch' }]);
  }
  const old = c.store.get(c.def, c.namespace, c.info.name);
  if (!old) throw notFound(c.def, c.info.name);
  const current = view(c, old);
  const patched = applyPatchBody(viewKind(c).kind, type, current, c.body);
  if (!isObject(patched) || !isObject(patched.metadata)) throw badRequest('the patched object is not a valid object');
  checkUnknownFields(c, patched, validation, viewKind(c).kind);
  if ((patched.metadata.name ?? '') !== c.info.name) {
    throw badRequest(`the name of the object (${String(patched.metadata.name ?? '')}) does not match the name on the URL (${c.info.name})`);
  }
  if (c.def.namespaced && patched.metadata.namespace !== old.metadata.namespace) throw badRequest(NS_MISMATCH);
  const stored = commit(c, old, patched, dryRun, fieldManager(c));
  writeJson(c, 200, c.info.subresource === 'scale' ? scaleOf(stored) : render(c, stored));
}

function applyPatch(c: Ctx, manager: string, validation: ReturnType<typeof fieldValidation>, dryRun: boolean): void {
  const vk = viewKind(c);
  const raw = parseYamlOrJson(c.body);
  const applied = decodeObject(c, raw, vk.kind, vk.apiVersion);
  checkUnknownFields(c, applied, validation, vk.kind);
  if (!applied.apiVersion) throw badRequest(`invalid object type: /, Kind=${vk.kind}`);
  const name = applied.metadata.name ?? '';
  if (name !== c.info.name) throw badRequest(`the name of the object (${name}) does not match the name on the URL (${c.info.name})`);
  if (c.info.subresource !== 'scale') fixNamespace(c, applied);
  const old = c.store.get(c.def, c.namespace, c.info.name);
  const sub = c.info.subresource === 'status' || c.info.subresource === 'scale' ? c.info.subresource : undefined;
  if (!old) {
    if (c.info.subresource) throw notFound(c.def, c.info.name);
    if (applied.metadata.resourceVersion) throw notFound(c.def, c.info.name);
    const base = serverSideApply({ kind: c.def.kind, apiVersion: apiVersion(c), live: undefined, applied, manager, force: force(c), time: timestamp(c) });
    prepareForCreate(c, base);
    validateMeta(c.def, base);
    const created = c.store.create(c.def, base, { dryRun });
    writeJson(c, 201, render(c, created));
    return;
  }
  const live = view(c, old);
  const merged = serverSideApply({ kind: vk.kind, apiVersion: vk.apiVersion, live, applied, manager, force: force(c), time: timestamp(c), subresource: sub });
  if (!applied.metadata.resourceVersion) merged.metadata.resourceVersion = old.metadata.resourceVersion;
  const next = mergeSubresource(c, old, merged);
  next.metadata.name = old.metadata.name;
  next.metadata.managedFields = c.info.subresource === 'scale' ? mergeScaleManaged(old, merged) : merged.metadata.managedFields;
  validateMeta(c.def, next);
  const stored = c.store.update(c.def, next, { dryRun });
  writeJson(c, 200, c.info.subresource === 'scale' ? scaleOf(stored) : render(c, stored));
}

/** Applying to /scale: ownership of .spec.replicas is recorded on the deployment. */
function mergeScaleManaged(old: KubeObject, mergedScale: KubeObject): unknown[] {
  const others = (old.metadata.managedFields ?? []) as { manager?: string; subresource?: string }[];
  const fromScale = (mergedScale.metadata.managedFields ?? []) as { manager?: string; subresource?: string }[];
  const mine = fromScale.filter((e) => e.subresource === 'scale');
  return [...others.filter((e) => !mine.some((m) => m.manager === e.manager && m.subresource === e.subresource)), ...mine];
}

