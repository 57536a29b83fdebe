/**
 * In-memory object storage, in the role etcd3 + the generic registry play in a real API server
 * (k8s.io/apiserver/pkg/storage/etcd3/store.go, k8s.io/apiserver/pkg/registry/generic/registry/store.go):
 * one global, monotonically increasing resourceVersion (etcd's revision), uid and
 * creationTimestamp on create, generation bumps when anything but metadata/status changes,
 * no-op updates that do not bump the resourceVersion (GuaranteedUpdate short-circuits when the
 * bytes are equal), optimistic concurrency on metadata.resourceVersion, graceful deletion for
 * pods, finalizers, namespace termination, a bounded event history and watch fan-out.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceDef } from '../resources.ts';
import { RESOURCES, apiVersionOf } from '../resources.ts';
import type { KubeObject } from '../types.ts';
import { alreadyExists, conflict, expired, forbidden, notFound } from './errors.ts';
import type { EventType, StoredEvent } from './history.ts';
import { EventHistory } from './history.ts';

export type { EventType, StoredEvent } from './history.ts';

export interface StoreOptions {
  now?: () => Date;
  historySize?: number;
  /** Delay before a gracefully deleted pod disappears (the kubelet's part). */
  podGraceMs?: number;
  /** Delay before a terminating namespace disappears (the namespace controller's part). */
  namespaceTerminationMs?: number;
}

export interface WriteOptions {
  dryRun?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** True when the object is gone now; false when it is only marked (grace period, finalizers). */
  immediate: boolean;
}

export type WatchListener = (e: StoredEvent) => void;

export interface WatchHandle {
  stop(): void;
}

interface Watcher {
  key: string;
  namespace: string | undefined;
  listener: WatchListener;
}

export const resourceKey = (def: Pick<ResourceDef, 'group' | 'resource'>): string => `${def.group}/${def.resource}`;
const objKey = (ns: string | undefined, name: string): string => (ns ? `${ns}/${name}` : name);
export const clone = <T>(o: T): T => structuredClone(o);

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** k8s.io/apimachinery/pkg/util/rand.String: the alphabet generateName suffixes are drawn from. */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

/** Everything but metadata and status: what bumps metadata.generation. */
function specOf(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

function tracksGeneration(def: ResourceDef): boolean {
  return def.group !== '' && def.group !== 'rbac.authorization.k8s.io';
}

/** Stable JSON for no-op detection (managedFields timestamps excluded). */
function comparable(o: KubeObject): string {
  const c = clone(o);
  delete c.metadata.resourceVersion;
  if (Array.isArray(c.metadata.managedFields)) {
    c.metadata.managedFields = c.metadata.managedFields.map((m) => {
      const { time: _t, ...rest } = m as Record<string, unknown>;
      return rest;
    });
  }
  return JSON.stringify(c);
}

export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KubeObject>>();
  readonly history: EventHistory;
  private readonly watchers = new Set<Watcher>();
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly now: () => Date;
  readonly podGraceMs: number;
  readonly namespaceTerminationMs: number;
  private closed = false;

  constructor(opts: StoreOptions = {}) {
    this.now = opts.now ?? (() => new Date());
    this.history = new EventHistory(opts.historySize ?? 10000);
    this.podGraceMs = opts.podGraceMs ?? 300;
    this.namespaceTerminationMs = opts.namespaceTerminationMs ?? 500;
  }

  /** The current global resourceVersion (etcd revision) as a string. */
  resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(def: Pick<ResourceDef, 'group' | 'resource'>): Map<string, KubeObject> {
    const k = resourceKey(def);
    let b = this.data.get(k);
    if (!b) this.data.set(k, (b = new Map()));
    return b;
  }

  private timestamp(d = this.now()): string {
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  get(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(def).get(objKey(def.namespaced ? namespace : undefined, name));
    return o ? clone(o) : undefined;
  }

  /** Objects sorted by key (etcd order), with the resourceVersion the list was read at. */
  list(def: ResourceDef, namespace: string | undefined): { items: KubeObject[]; resourceVersion: string } {
    const b = this.bucket(def);
    const keys = [...b.keys()].sort();
    const items: KubeObject[] = [];
    for (const k of keys) {
      const o = b.get(k);
      if (!o) continue;
      if (def.namespaced && namespace && o.metadata.namespace !== namespace) continue;
      items.push(clone(o));
    }
    return { items, resourceVersion: this.resourceVersion() };
  }

  private emit(type: EventType, def: ResourceDef, object: KubeObject, prev?: KubeObject): void {
    const e: StoredEvent = { type, key: resourceKey(def), namespace: object.metadata.namespace, rv: this.rv, object: clone(object) };
    if (prev) e.prev = clone(prev);
    this.history.push(e);
    for (const w of [...this.watchers]) {
      if (w.key !== e.key) continue;
      if (w.namespace && w.namespace !== e.namespace) continue;
      try {
        w.listener(e);
      } catch {
        // a broken watcher must not break writes
      }
    }
  }

  private namespaceDef(): ResourceDef {
    const d = RESOURCES.find((r) => r.group === '' && r.resource === 'namespaces');
    if (!d) throw new Error('namespaces missing from the registry');
    return d;
  }

  private checkNamespace(def: ResourceDef, ns: string | undefined, name: string): void {
    if (!def.namespaced || !ns) return;
    const nsObj = this.bucket(this.namespaceDef()).get(ns);
    if (!nsObj) throw notFound(this.namespaceDef(), ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(def, name, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  /** Create; the caller has validated the object and resolved generateName into metadata.name. */
  create(def: ResourceDef, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const obj = clone(input);
    const name = obj.metadata.name ?? '';
    const ns = def.namespaced ? obj.metadata.namespace : undefined;
    if (!def.namespaced) delete obj.metadata.namespace;
    this.checkNamespace(def, ns, name);
    const b = this.bucket(def);
    if (b.has(objKey(ns, name))) throw alreadyExists(def, name);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = this.timestamp();
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.resourceVersion;
    if (tracksGeneration(def)) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    if (def.resource === 'namespaces') {
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': name };
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as object | undefined) ?? {}) };
      obj.status = { phase: 'Active' };
    }
    if (opts.dryRun) {
      obj.metadata.resourceVersion = this.resourceVersion();
      return obj;
    }
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    b.set(objKey(ns, name), obj);
    this.emit('ADDED', def, obj);
    return clone(obj);
  }

  /**
   * Replace an existing object. A non-empty metadata.resourceVersion in the input is a
   * precondition (409 Conflict on mismatch). Identity fields are kept from the stored object.
   */
  update(def: ResourceDef, input: KubeObject, opts: WriteOptions = {}): KubeObject {
    const name = input.metadata.name ?? '';
    const ns = def.namespaced ? input.metadata.namespace : undefined;
    const b = this.bucket(def);
    const k = objKey(ns, name);
    const old = b.get(k);
    if (!old) throw notFound(def, name);
    const wantRV = input.metadata.resourceVersion;
    if (wantRV && wantRV !== old.metadata.resourceVersion) throw conflict(def, name);
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (ns) obj.metadata.namespace = ns;
    else delete obj.metadata.namespace;
    if (old.metadata.deletionTimestamp) obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    else delete obj.metadata.deletionTimestamp;
    if (old.metadata.deletionGracePeriodSeconds !== undefined) obj.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    if (tracksGeneration(def)) {
      const gen = old.metadata.generation ?? 1;
      obj.metadata.generation = specOf(obj) !== specOf(old) ? gen + 1 : gen;
    } else delete obj.metadata.generation;
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    if (comparable(obj) === comparable(old)) return clone(old);
    if (opts.dryRun) return obj;
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    // Removing the last finalizer of an object marked for deletion completes the deletion.
    if (obj.metadata.deletionTimestamp && !(obj.metadata.finalizers?.length) && def.resource !== 'pods' && def.resource !== 'namespaces') {
      b.delete(k);
      this.emit('DELETED', def, obj, old);
      this.collectDependents(obj, 'Background');
      return clone(obj);
    }
    b.set(k, obj);
    this.emit('MODIFIED', def, obj, old);
    if (obj.metadata.deletionTimestamp && def.resource === 'namespaces' && !((obj.spec as { finalizers?: string[] } | undefined)?.finalizers?.length)) {
      this.later(0, () => this.remove(def, undefined, name));
    }
    return clone(obj);
  }

  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** Remove now (DELETED event), whatever its state. */
  remove(def: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const b = this.bucket(def);
    const k = objKey(def.namespaced ? namespace : undefined, name);
    const old = b.get(k);
    if (!old) return undefined;
    b.delete(k);
    this.rv++;
    const obj = clone(old);
    obj.metadata.resourceVersion = String(this.rv);
    this.emit('DELETED', def, obj, old);
    this.collectDependents(obj, 'Background');
    return obj;
  }

  delete(def: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): DeleteResult {
    const b = this.bucket(def);
    const k = objKey(def.namespaced ? namespace : undefined, name);
    const old = b.get(k);
    if (!old) throw notFound(def, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(def, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`);
    }
    const ts = this.timestamp();
    // Namespaces: mark Terminating, the namespace controller empties it, then it goes.
    if (def.resource === 'namespaces') {
      const obj = clone(old);
      if (!obj.metadata.deletionTimestamp) {
        obj.metadata.deletionTimestamp = ts;
        obj.status = { ...((obj.status as object | undefined) ?? {}), phase: 'Terminating' };
        if (opts.dryRun) return { object: obj, immediate: false };
        this.rv++;
        obj.metadata.resourceVersion = String(this.rv);
        b.set(k, obj);
        this.emit('MODIFIED', def, obj, old);
        this.later(this.namespaceTerminationMs, () => this.terminateNamespace(name));
      }
      return { object: clone(obj), immediate: false };
    }
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    const graceful = def.group === '' && def.resource === 'pods' && opts.gracePeriodSeconds !== 0 && Boolean((old.spec as { nodeName?: string } | undefined)?.nodeName);
    if (finalizers.length > 0 || graceful) {
      if (old.metadata.deletionTimestamp) return { object: clone(old), immediate: false };
      const obj = clone(old);
      const grace = opts.gracePeriodSeconds ?? (old.spec as { terminationGracePeriodSeconds?: number } | undefined)?.terminationGracePeriodSeconds ?? 30;
      obj.metadata.deletionTimestamp = graceful ? this.timestamp(new Date(this.now().getTime() + grace * 1000)) : ts;
      obj.metadata.deletionGracePeriodSeconds = graceful ? grace : 0;
      if (opts.dryRun) return { object: obj, immediate: false };
      this.rv++;
      obj.metadata.resourceVersion = String(this.rv);
      b.set(k, obj);
      this.emit('MODIFIED', def, obj, old);
      // The garbage collector / kubelet part: finish shortly after.
      const wait = graceful ? this.podGraceMs : 50;
      this.later(wait, () => {
        const cur = b.get(k);
        if (!cur || cur.metadata.uid !== obj.metadata.uid) return;
        const rest = (cur.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion' && f !== 'orphan');
        const policy = cur.metadata.finalizers?.includes('orphan') ? 'Orphan' : 'Background';
        if (rest.length === 0) {
          b.delete(k);
          this.rv++;
          const gone = clone(cur);
          gone.metadata.finalizers = rest.length ? rest : undefined;
          if (!gone.metadata.finalizers) delete gone.metadata.finalizers;
          gone.metadata.resourceVersion = String(this.rv);
          this.emit('DELETED', def, gone, cur);
          this.collectDependents(gone, policy);
        }
      });
      return { object: clone(obj), immediate: false };
    }
    if (opts.dryRun) return { object: clone(old), immediate: true };
    b.delete(k);
    this.rv++;
    const obj = clone(old);
    obj.metadata.resourceVersion = String(this.rv);
    this.emit('DELETED', def, obj, old);
    this.collectDependents(obj, opts.propagationPolicy ?? 'Background');
    return { object: clone(obj), immediate: true };
  }

  /** The garbage collector: delete (or orphan) objects owned by `owner`. */
  private collectDependents(owner: KubeObject, policy: 'Orphan' | 'Background' | 'Foreground'): void {
    const uid = owner.metadata.uid;
    if (!uid) return;
    for (const def of RESOURCES) {
      const b = this.data.get(resourceKey(def));
      if (!b) continue;
      for (const o of [...b.values()]) {
        const refs = (o.metadata.ownerReferences ?? []) as { uid?: string; name?: string; kind?: string }[];
        const ownedByUid = refs.some((r) => r.uid === uid);
        // Pods of a Deployment are owned by its (unstored) ReplicaSet "<deployment>-<hash>".
        const ownedViaRS = owner.kind === 'Deployment' && o.kind === 'Pod' && o.metadata.namespace === owner.metadata.namespace &&
          refs.some((r) => r.kind === 'ReplicaSet' && typeof r.name === 'string' && r.name.startsWith(`${owner.metadata.name ?? ''}-`));
        if (!ownedByUid && !ownedViaRS) continue;
        if (policy === 'Orphan') {
          const upd = clone(o);
          upd.metadata.ownerReferences = refs.filter((r) => r.uid !== uid && !(ownedViaRS && r.kind === 'ReplicaSet'));
          if (upd.metadata.ownerReferences.length === 0) delete upd.metadata.ownerReferences;
          delete upd.metadata.resourceVersion;
          this.update(def, upd);
        } else {
          this.later(0, () => {
            try {
              this.delete(def, o.metadata.namespace, o.metadata.name ?? '', {});
            } catch {
              // already gone
            }
          });
        }
      }
    }
  }

  private terminateNamespace(name: string): void {
    for (const def of RESOURCES) {
      if (!def.namespaced) continue;
      const b = this.data.get(resourceKey(def));
      if (!b) continue;
      for (const o of [...b.values()]) {
        if (o.metadata.namespace === name) this.remove(def, name, o.metadata.name ?? '');
      }
    }
    this.remove(this.namespaceDef(), undefined, name);
  }

  /**
   * Watch a resource (optionally one namespace). fromRV: undefined → live only; a number →
   * replay the history after it first (410 Expired when it is older than the history).
   * Events are delivered synchronously in order; the listener must not throw.
   */
  watch(def: ResourceDef, namespace: string | undefined, fromRV: number | undefined, listener: WatchListener): WatchHandle {
    const w: Watcher = { key: resourceKey(def), namespace: def.namespaced ? namespace : undefined, listener };
    if (fromRV !== undefined) {
      if (fromRV < this.history.compactedRV) {
        throw expired(`too old resource version: ${fromRV} (${this.history.compactedRV})`);
      }
      for (const e of this.history.since(fromRV)) {
        if (e.key !== w.key) continue;
        if (w.namespace && e.namespace !== w.namespace) continue;
        listener(e);
      }
    }
    this.watchers.add(w);
    return { stop: () => this.watchers.delete(w) };
  }

  /** Every stored object of every resource (for the controllers and tests). */
  all(): { def: ResourceDef; object: KubeObject }[] {
    const out: { def: ResourceDef; object: KubeObject }[] = [];
    for (const def of RESOURCES) {
      const b = this.data.get(resourceKey(def));
      if (b) for (const o of b.values()) out.push({ def, object: clone(o) });
    }
    return out;
  }

  /** Subscribe to every event of every resource (controllers). */
  subscribeAll(listener: WatchListener): WatchHandle {
    const watchers: Watcher[] = RESOURCES.map((d) => ({ key: resourceKey(d), namespace: undefined, listener }));
    for (const w of watchers) this.watchers.add(w);
    return { stop: () => watchers.forEach((w) => this.watchers.delete(w)) };
  }

  /** Schedule work that close() cancels. */
  schedule(ms: number, fn: () => void): void {
    this.later(ms, fn);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.watchers.clear();
  }
}
