/**
 * Just enough of kube-controller-manager and the kubelet for kubectl workflows to complete:
 * a Deployment controller (k8s.io/kubernetes/pkg/controller/deployment: pods named
 * <deployment>-<pod-template-hash>-<suffix>, owned by a ReplicaSet, status.observedGeneration,
 * replicas, updatedReplicas, readyReplicas, availableReplicas and the Available/Progressing
 * conditions `kubectl rollout status` reads) and a kubelet that starts scheduled pods
 * (phase Running, podIP, Ready conditions, containerStatuses).
 */
import { createHash } from 'node:crypto';
import { findResource } from '../resources.ts';
import type { ResourceDef } from '../resources.ts';
import type { KubeObject } from '../types.ts';
import type { ObjectStore, WatchHandle } from './object-store.ts';
import { clone, randomSuffix } from './object-store.ts';

interface Container { name: string; image?: string; [k: string]: unknown }
interface PodSpec { containers?: Container[]; nodeName?: string; [k: string]: unknown }

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** controller.ComputeHash rendered with rand.SafeEncodeString: 10 chars of the "safe" alphabet. */
export function templateHash(template: unknown): string {
  const h = createHash('sha256').update(JSON.stringify(template)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += ALPHABET[(h[i] ?? 0) % ALPHABET.length];
  return s;
}

let ipCounter = 10;
export function nextPodIP(): string {
  ipCounter++;
  return `10.244.${Math.floor(ipCounter / 250) % 250}.${(ipCounter % 250) + 2}`;
}

/** What the kubelet writes into a running pod's status. */
export function runningPodStatus(spec: PodSpec, startedAt: string, podIP = nextPodIP()): Record<string, unknown> {
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: startedAt });
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    hostIP: '172.18.0.2',
    hostIPs: [{ ip: '172.18.0.2' }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: startedAt,
    qosClass: 'BestEffort',
    containerStatuses: (spec.containers ?? []).map((c) => ({
      name: c.name,
      state: { running: { startedAt } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: c.image ?? '',
      imageID: `${c.image ?? 'image'}@sha256:${createHash('sha256').update(c.image ?? '').digest('hex')}`,
      containerID: `containerd://${createHash('sha256').update(`${c.name}${startedAt}${podIP}`).digest('hex')}`,
      started: true,
    })),
  };
}

function def(group: string, version: string, resource: string): ResourceDef {
  const d = findResource(group, version, resource);
  if (!d) throw new Error(`${resource} missing from the registry`);
  return d;
}

export interface ControllerOptions {
  /** Delay before the kubelet reports a new pod Running. */
  podStartMs?: number;
}

export function startControllers(store: ObjectStore, opts: ControllerOptions = {}): WatchHandle {
  const pods = def('', 'v1', 'pods');
  const deployments = def('apps', 'v1', 'deployments');
  const podStartMs = opts.podStartMs ?? 150;
  const pending = new Set<string>();

  const ts = () => store.now().toISOString().replace(/\.\d{3}Z$/, 'Z');

  function syncDeployment(ns: string, name: string): void {
    const d = store.get(deployments, ns, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = (d.spec ?? {}) as { replicas?: number; template?: { metadata?: KubeObject['metadata']; spec?: PodSpec }; paused?: boolean };
    const desired = spec.replicas ?? 1;
    const template = spec.template ?? {};
    const hash = templateHash(template);
    const rsName = `${name}-${hash}`;
    const owned = store.list(pods, ns).items.filter((p) =>
      ((p.metadata.ownerReferences ?? []) as { kind?: string; name?: string }[]).some(
        (r) => r.kind === 'ReplicaSet' && typeof r.name === 'string' && r.name.startsWith(`${name}-`) && r.name.length === name.length + 11,
      ),
    );
    const alive = owned.filter((p) => !p.metadata.deletionTimestamp);
    const current = alive.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const old = alive.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash);
    if (!spec.paused) {
      for (const p of old) safe(() => store.delete(pods, ns, p.metadata.name ?? ''));
      for (let i = current.length; i < desired; i++) {
        const pod: KubeObject = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rsName}-${randomSuffix()}`,
            generateName: `${rsName}-`,
            namespace: ns,
            labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: uidFor(d.metadata.uid ?? '', hash), controller: true, blockOwnerDeletion: true }],
          },
          spec: { ...clone(template.spec ?? {}), nodeName: 'sluice-demo-node' },
          status: { phase: 'Pending', qosClass: 'BestEffort' },
        };
        if (template.metadata?.annotations) pod.metadata.annotations = clone(template.metadata.annotations);
        safe(() => store.create(pods, pod));
      }
      const extra = current.slice(desired);
      for (const p of extra) safe(() => store.delete(pods, ns, p.metadata.name ?? ''));
    }
    // Status as the deployment controller reports it.
    const fresh = store.list(pods, ns).items.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash && !p.metadata.deletionTimestamp &&
      ((p.metadata.ownerReferences ?? []) as { name?: string }[]).some((r) => r.name === rsName));
    const ready = fresh.filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running').length;
    const updated = Math.min(fresh.length, desired);
    const total = Math.min(fresh.length, desired);
    const cur = store.get(deployments, ns, name);
    if (!cur) return;
    const prev = (cur.status ?? {}) as Record<string, unknown>;
    const prevConds = (prev.conditions ?? []) as { type: string; lastTransitionTime?: string; lastUpdateTime?: string }[];
    const avail = ready >= desired;
    const condTime = (type: string) => prevConds.find((c) => c.type === type)?.lastTransitionTime ?? ts();
    const status: Record<string, unknown> = {
      observedGeneration: cur.metadata.generation ?? 1,
      ...(total ? { replicas: total } : {}),
      ...(updated ? { updatedReplicas: updated } : {}),
      ...(ready ? { readyReplicas: Math.min(ready, desired), availableReplicas: Math.min(ready, desired) } : {}),
      ...(desired - Math.min(ready, desired) > 0 ? { unavailableReplicas: desired - Math.min(ready, desired) } : {}),
      conditions: [
        avail
          ? { type: 'Available', status: 'True', lastUpdateTime: condTime('Available'), lastTransitionTime: condTime('Available'), reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', lastUpdateTime: condTime('Available'), lastTransitionTime: condTime('Available'), reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: condTime('Progressing'), lastTransitionTime: condTime('Progressing'), reason: avail ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', message: avail ? `ReplicaSet "${rsName}" has successfully progressed.` : `ReplicaSet "${rsName}" is progressing.` },
      ],
    };
    if (JSON.stringify(stripTimes(status)) === JSON.stringify(stripTimes(prev))) return;
    const upd = clone(cur);
    upd.status = status;
    safe(() => store.update(deployments, upd));
  }

  function startPod(ns: string, name: string): void {
    const p = store.get(pods, ns, name);
    if (!p || p.metadata.deletionTimestamp) return;
    const spec = (p.spec ?? {}) as PodSpec;
    const phase = (p.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Running' || phase === 'Succeeded' || phase === 'Failed') return;
    const upd = clone(p);
    if (!spec.nodeName) (upd.spec as PodSpec).nodeName = 'sluice-demo-node';
    upd.status = runningPodStatus(spec, ts());
    safe(() => store.update(pods, upd));
  }

  function ownerDeployment(p: KubeObject): string | undefined {
    const rs = ((p.metadata.ownerReferences ?? []) as { kind?: string; name?: string }[]).find((r) => r.kind === 'ReplicaSet');
    if (!rs?.name || rs.name.length < 12) return undefined;
    return rs.name.slice(0, -11);
  }

  function queue(key: string, fn: () => void, ms = 0): void {
    if (pending.has(key)) return;
    pending.add(key);
    store.schedule(ms, () => {
      pending.delete(key);
      fn();
    });
  }

  return store.subscribeAll((e) => {
    const ns = e.object.metadata.namespace ?? '';
    const name = e.object.metadata.name ?? '';
    if (e.key === 'apps/deployments' && e.type !== 'DELETED') queue(`d/${ns}/${name}`, () => syncDeployment(ns, name));
    if (e.key === '/pods') {
      if (e.type === 'ADDED' && (e.object.status as { phase?: string } | undefined)?.phase !== 'Running') {
        queue(`p/${ns}/${name}`, () => startPod(ns, name), podStartMs);
      }
      const owner = ownerDeployment(e.object);
      if (owner) queue(`d/${ns}/${owner}`, () => syncDeployment(ns, owner));
    }
  });
}

function stripTimes(s: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(s, (k, v: unknown) => (k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : v)));
}

function uidFor(deploymentUid: string, hash: string): string {
  const h = createHash('sha256').update(`${deploymentUid}/${hash}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function safe(fn: () => unknown): void {
  try {
    fn();
  } catch {
    // raced with another writer: the next event retriggers the sync
  }
}

