/**
 * Strategic-merge-patch metadata for the built-in types the emulator serves: which lists merge
 * by key (`patchStrategy:"merge" patchMergeKey:"..."` tags in k8s.io/api) and which lists of
 * primitives merge as sets. Everything else is replaced wholesale (atomic), as for a field
 * without patch tags. Paths are the field names from the root, array indices left out.
 */

export interface ListMeta {
  /** Merge key for lists of objects; undefined with `set` for primitive merge lists. */
  key?: string;
  set?: boolean;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

export function listMeta(kind: string, path: readonly string[]): ListMeta | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'imagePullSecrets':
    case 'volumes':
    case 'resourceClaims':
    case 'schedulingGates':
      return { key: 'name' };
    case 'env':
      return parent && CONTAINER_LISTS.has(parent) ? { key: 'name' } : undefined;
    case 'volumeMounts':
      return { key: 'mountPath' };
    case 'volumeDevices':
      return { key: 'devicePath' };
    case 'hostAliases':
      return { key: 'ip' };
    case 'topologySpreadConstraints':
      return { key: 'topologyKey' };
    case 'ports':
      if (parent && CONTAINER_LISTS.has(parent)) return { key: 'containerPort' };
      if (kind === 'Service' && path.length === 2 && parent === 'spec') return { key: 'port' };
      return undefined;
    case 'conditions':
      return path[0] === 'status' ? { key: 'type' } : undefined;
    case 'ownerReferences':
      return path.length === 2 && parent === 'metadata' ? { key: 'uid' } : undefined;
    case 'finalizers':
      return path.length === 2 && parent === 'metadata' ? { set: true } : undefined;
    case 'secrets':
      return kind === 'ServiceAccount' && path.length === 1 ? { key: 'name' } : undefined;
    default:
      return undefined;
  }
}
