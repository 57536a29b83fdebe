/**
 * REST paths of the Kubernetes API (api-conventions.md "Resources"; k8s.io/apiserver
 * RequestInfoFactory):
 *
 *   /api/v1/[namespaces/{namespace}/]{resource}[/{name}[/{subresource}]]                core group
 *   /apis/{group}/{version}/[namespaces/{namespace}/]{resource}[/{name}[/{subresource}]]
 *
 * The parts were validated by the tools' schemas (validation.ts), so none holds `/`, `%`, `..`
 * or a verb segment; they are percent-encoded all the same, so that a value that slipped past
 * could never add a segment.
 */

export interface ResourceRef {
  apiVersion: string;
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** `/api/v1` or `/apis/{group}/{version}`. */
export function apiBase(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return `/api/${seg(apiVersion)}`;
  return `/apis/${seg(apiVersion.slice(0, slash))}/${seg(apiVersion.slice(slash + 1))}`;
}

export function resourcePath(ref: ResourceRef): string {
  let p = apiBase(ref.apiVersion);
  if (ref.namespace) p += `/namespaces/${seg(ref.namespace)}`;
  p += `/${seg(ref.resource)}`;
  if (ref.name) p += `/${seg(ref.name)}`;
  if (ref.name && ref.subresource) p += `/${seg(ref.subresource)}`;
  return p;
}

/** How a person names the object in messages: `deployments.apps/web in namespace dev`. */
export function describeRef(ref: ResourceRef): string {
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : `.${ref.apiVersion.slice(0, slash)}`;
  const what = `${ref.resource}${group}${ref.name ? `/${ref.name}` : ''}`;
  return ref.namespace ? `${what} in namespace ${ref.namespace}` : what;
}

function seg(s: string): string {
  return encodeURIComponent(s);
}
