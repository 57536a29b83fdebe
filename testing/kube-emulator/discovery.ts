/**
 * API discovery documents built from the resource registry:
 *  - legacy discovery: /api (APIVersions), /apis (APIGroupList), /apis/{g} (APIGroup),
 *    /api/v1 and /apis/{g}/{v} (APIResourceList) — k8s.io/apimachinery/pkg/apis/meta/v1/types.go,
 *    k8s.io/apiserver/pkg/endpoints/discovery;
 *  - aggregated discovery (KEP-3352): /api and /apis answered with an APIGroupDiscoveryList when
 *    the client asks for it by Accept (`application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`,
 *    or v2beta1 for kubectl ≤ 1.29) — k8s.io/api/apidiscovery/v2/types.go,
 *    k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go.
 */
import { createHash } from 'node:crypto';
import { GROUPS, RESOURCES, apiVersionOf, type ResourceDef } from './resources.ts';

/** StorageVersionHash (k8s.io/apiserver/pkg/endpoints/discovery/storageversionhash.go). */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256').update(`${group}/${version}/${kind}`).digest().subarray(0, 8).toString('base64');
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(name: string, versions: string[]): object {
  const gvs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gvs, preferredVersion: gvs[0] };
}

export function apiGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: GROUPS.filter((g) => g.name !== '').map((g) => apiGroup(g.name, g.versions)),
  };
}

/** /apis/{group}, or undefined for an unknown group. */
export function apiGroupDoc(group: string): object | undefined {
  const g = GROUPS.find((x) => x.name === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions) } : undefined;
}

function resourcesOf(group: string, version: string): ResourceDef[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

/** /api/v1 or /apis/{group}/{version}, or undefined for an unknown group version. */
export function apiResourceList(group: string, version: string): object | undefined {
  const defs = resourcesOf(group, version);
  if (defs.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of defs) {
    const top: Record<string, unknown> = {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames) top.shortNames = r.shortNames;
    if (r.categories) top.categories = r.categories;
    // Review-style resources (create only) have no storage, hence no storage version hash.
    if (r.verbs.includes('get') || r.verbs.includes('list')) top.storageVersionHash = storageVersionHash(r.group, r.version, r.kind);
    resources.push(top);
    for (const s of r.subresources ?? []) {
      const sub: Record<string, unknown> = { name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced };
      if (s.group !== undefined) sub.group = s.group;
      if (s.version !== undefined) sub.version = s.version;
      sub.kind = s.kind;
      sub.verbs = s.verbs;
      resources.push(sub);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}

/** The aggregated discovery version a client's Accept header asks for, if any (first match wins). */
export function aggregatedDiscoveryVersion(accept: string): 'v2' | 'v2beta1' | undefined {
  for (const part of accept.split(',')) {
    const params = new Map<string, string>();
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    if (type !== 'application/json') continue;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
    }
    if (params.get('g') !== 'apidiscovery.k8s.io' || params.get('as') !== 'APIGroupDiscoveryList') continue;
    const v = params.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

export function aggregatedContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

function resourceDiscovery(r: ResourceDef): object {
  const d: Record<string, unknown> = {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
  };
  if (r.shortNames) d.shortNames = r.shortNames;
  if (r.categories) d.categories = r.categories;
  if (r.subresources?.length) {
    d.subresources = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group ?? r.group, version: s.version ?? r.version, kind: s.kind },
      verbs: s.verbs,
    }));
  }
  return d;
}

/** APIGroupDiscoveryList for /api (legacy core group) or /apis (every named group). */
export function aggregatedDiscovery(which: 'api' | 'apis', version: 'v2' | 'v2beta1'): object {
  const groups = GROUPS.filter((g) => (which === 'api' ? g.name === '' : g.name !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${version}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: g.name === '' ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: resourcesOf(g.name, v).map(resourceDiscovery),
        freshness: 'Current',
      })),
    })),
  };
}
