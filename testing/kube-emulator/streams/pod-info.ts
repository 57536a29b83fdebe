/**
 * Reading what the stream handlers need out of a Pod object, and the container selection rules
 * of pkg/registry/core/pod/strategy.go (LogLocation / streamLocation) with their exact messages.
 */
import type { KubeObject } from '../types.ts';
import { StatusError } from '../status.ts';

export interface EnvVar {
  name: string;
  value?: string;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  env?: EnvVar[];
  ports?: { containerPort?: number; name?: string; protocol?: string }[];
  command?: string[];
  args?: string[];
  stdin?: boolean;
  tty?: boolean;
}

interface PodSpecLike {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
  serviceAccountName?: string;
  hostname?: string;
}

interface ContainerStatusLike {
  name: string;
  restartCount?: number;
}

interface PodStatusLike {
  phase?: string;
  podIP?: string;
  startTime?: string;
  containerStatuses?: ContainerStatusLike[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function podSpec(pod: KubeObject): PodSpecLike {
  return isRecord(pod.spec) ? (pod.spec as PodSpecLike) : {};
}

export function podStatus(pod: KubeObject): PodStatusLike {
  return isRecord(pod.status) ? (pod.status as PodStatusLike) : {};
}

export function containersOf(pod: KubeObject): ContainerSpec[] {
  const c = podSpec(pod).containers;
  return Array.isArray(c) ? c.filter((x) => isRecord(x) && typeof x.name === 'string') : [];
}

function goList(names: string[]): string {
  return `[${names.join(' ')}]`;
}

/** Pick the container named by `?container=`, or the only one; errors exactly as the API server. */
export function selectContainer(pod: KubeObject, requested: string | null, podName: string): ContainerSpec {
  const spec = podSpec(pod);
  const main = containersOf(pod);
  const init = Array.isArray(spec.initContainers) ? spec.initContainers : [];
  const eph = Array.isArray(spec.ephemeralContainers) ? spec.ephemeralContainers : [];
  if (!requested) {
    if (main.length === 1 && main[0]) return main[0];
    let msg = `a container name must be specified for pod ${podName}, choose one of: ${goList(main.map((c) => c.name))}`;
    if (init.length) msg += ` or one of the init containers: ${goList(init.map((c) => c.name))}`;
    if (eph.length) msg += ` or one of the ephemeral containers: ${goList(eph.map((c) => c.name))}`;
    throw StatusError.of(400, 'BadRequest', msg);
  }
  const found = [...main, ...init, ...eph].find((c) => c.name === requested);
  if (!found) throw StatusError.of(400, 'BadRequest', `container ${requested} is not valid for pod ${podName}`);
  return found;
}

export function restartCount(pod: KubeObject, container: string): number {
  const cs = podStatus(pod).containerStatuses;
  const s = Array.isArray(cs) ? cs.find((c) => c.name === container) : undefined;
  return typeof s?.restartCount === 'number' ? s.restartCount : 0;
}

export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Environment a process in the container sees (literal env values; references resolve to ""). */
export function containerEnv(pod: KubeObject, container: ContainerSpec, namespace: string, name: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: podSpec(pod).hostname ?? name,
  };
  for (const e of container.env ?? []) {
    if (isRecord(e) && typeof e.name === 'string') env[e.name] = typeof e.value === 'string' ? e.value : '';
  }
  Object.assign(env, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    HOME: '/root',
  });
  void namespace;
  return env;
}

export function containerPorts(pod: KubeObject): number[] {
  const ports: number[] = [];
  for (const c of containersOf(pod)) {
    for (const p of c.ports ?? []) if (typeof p.containerPort === 'number') ports.push(p.containerPort);
  }
  return ports;
}

export function boolParam(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name);
  if (v === null) return dflt;
  return v === 'true' || v === '1' || v === 'True' || v === 'TRUE';
}
