/**
 * Finds the REST resource that serves a kind, as kubectl's RESTMapper does for `kubectl apply`:
 * through the discovery document of the kind's group/version, `GET /api/v1` (core) or
 * `GET /apis/{group}/{version}` — an `APIResourceList` (k8s.io/apimachinery/pkg/apis/meta/v1
 * types.go; api-conventions.md "API discovery") whose entries give each resource's plural
 * `name`, `kind`, `namespaced` scope and `verbs`. Subresources (`pods/status`) share their
 * parent's kind and are skipped.
 *
 * The discovery request goes through `kube.request` like every other request (so the caller's
 * identity and the policy apply to it too). Answers are cached per connection, caller and group/version
 * for a short time (default 30 s, at most 256 entries): long enough that a batch of applies asks
 * once, short enough that a new CRD is seen almost at once. Only successful answers are cached.
 */
import type { KubeAccess, ToolResult } from '../tool-types.ts';
import { apiBase } from './kube-paths.ts';
import { bodyJson, errorResult, failureResult, isRecord, isSuccess } from './results.ts';

export interface DiscoveredResource {
  /** The plural resource name, e.g. `deployments`. */
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export interface DiscoveryCache {
  get(connection: string, apiVersion: string): DiscoveredResource[] | undefined;
  set(connection: string, apiVersion: string, resources: DiscoveredResource[]): void;
}

export interface DiscoveryCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  /** The clock (injected for tests). */
  now?: () => number;
}

export function createDiscoveryCache(opts: DiscoveryCacheOptions = {}): DiscoveryCache {
  const ttlMs = opts.ttlMs ?? 30_000;
  const maxEntries = opts.maxEntries ?? 256;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { at: number; resources: DiscoveredResource[] }>();
  const key = (connection: string, apiVersion: string): string => `${connection}\u0000${apiVersion}`;
  return {
    get(connection, apiVersion) {
      const k = key(connection, apiVersion);
      const e = entries.get(k);
      if (!e) return undefined;
      if (now() - e.at >= ttlMs) {
        entries.delete(k);
        return undefined;
      }
      return e.resources;
    },
    set(connection, apiVersion, resources) {
      const k = key(connection, apiVersion);
      entries.delete(k);
      // Evict the oldest entries (a Map iterates in insertion order).
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      entries.set(k, { at: now(), resources });
    },
  };
}

/** The top-level resources of an APIResourceList; undefined when `v` is none. */
export function readResourceList(v: unknown): DiscoveredResource[] | undefined {
  if (!isRecord(v) || v.kind !== 'APIResourceList' || !Array.isArray(v.resources)) return undefined;
  const out: DiscoveredResource[] = [];
  for (const r of v.resources) {
    if (!isRecord(r) || typeof r.name !== 'string' || typeof r.kind !== 'string' || r.name.includes('/')) continue;
    const verbs = Array.isArray(r.verbs) ? r.verbs.filter((x): x is string => typeof x === 'string') : [];
    out.push({ name: r.name, kind: r.kind, namespaced: r.namespaced === true, verbs });
  }
  return out;
}

/** The resource that serves `kind` in `apiVersion`, or the tool result explaining why there is none. */
export async function findResource(
  kube: KubeAccess,
  cache: DiscoveryCache,
  apiVersion: string,
  kind: string,
): Promise<{ resource: DiscoveredResource } | { result: ToolResult }> {
  // Per caller: a caller whom the policy refuses discovery must not find another caller's answer.
  const scope = `${kube.connection}\u0000${kube.caller}`;
  let resources = cache.get(scope, apiVersion);
  if (!resources) {
    const answer = await kube.request({ method: 'GET', path: apiBase(apiVersion), headers: { accept: 'application/json' } });
    if (answer.status === 404 && !answer.sluiceError) {
      return { result: errorResult(`The cluster does not serve apiVersion ${apiVersion} (its discovery document was not found). Check the manifest's apiVersion, or whether the CRD is installed.`) };
    }
    if (!isSuccess(answer)) return { result: failureResult(answer, `discover the resources of ${apiVersion}`) };
    const list = readResourceList(bodyJson(answer));
    if (!list) return { result: errorResult(`The discovery document of ${apiVersion} could not be read.`) };
    cache.set(scope, apiVersion, list);
    resources = list;
  }
  const found = resources.find((r) => r.kind === kind);
  if (!found) {
    const kinds = [...new Set(resources.map((r) => r.kind))].sort();
    const shown = kinds.slice(0, 60).join(', ') + (kinds.length > 60 ? ', …' : '');
    return { result: errorResult(`apiVersion ${apiVersion} has no kind ${kind}. Its kinds: ${shown || '(none)'}.`) };
  }
  return { resource: found };
}
