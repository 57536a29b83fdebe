/**
 * Request attributes: what a request is about, protocol-neutral enough for the policy engine.
 * For Kubernetes the fields are exactly what the API server's RequestInfo derives from the
 * method and URL (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), plus the connection
 * the request goes to and the parsed body of writes. MCP tool calls and SQL statements will add
 * their own attribute shapes beside this one.
 */

export interface KubernetesRequestAttributes {
  /** Name of the Sluice connection (target cluster) the request is addressed to. */
  connection: string;
  /**
   * Kubernetes verb (get, list, watch, create, update, patch, delete, deletecollection, proxy,
   * and the special verbs bind, escalate, impersonate), or the lower-cased HTTP method for
   * non-resource requests.
   */
  verb: string;
  /** API group; "" is the core group. */
  apiGroup: string;
  apiVersion: string;
  /** Resource (plural, lower case), e.g. `pods`; "" for non-resource requests. */
  resource: string;
  /** Subresource, e.g. `log`, `exec`, `proxy`; "" when none. */
  subresource: string;
  /** Namespace; "" for cluster-scoped and all-namespace requests. */
  namespace: string;
  /** Object name; "" for lists and for creates that carry the name only in the body. */
  name: string;
  /** True for /api/… and /apis/… resource paths, false for /version, /healthz, discovery… */
  isResourceRequest: boolean;
  /** The canonical URL path (no query). */
  path: string;
  /** The parsed request body of writes (JSON or YAML decoded), when there is one. */
  object?: unknown;
  /**
   * Set when the request had a body that could not be decoded (a protobuf field Sluice does not
   * know): the body is forwarded as it is, and every condition that reads `object` fails to
   * evaluate, so it fails closed.
   */
  objectError?: string;
}

/** The request shapes the policy engine decides on. */
export type RequestAttributes = KubernetesRequestAttributes;

/** A short description for messages and logs: `delete pods/web-1 in prod`, `get /version`. */
export function describeRequest(r: RequestAttributes): string {
  if (!r.isResourceRequest) return `${r.verb} ${r.path}`;
  const group = r.apiGroup ? `.${r.apiGroup}` : '';
  const res = `${r.resource}${group}${r.subresource ? `/${r.subresource}` : ''}`;
  const name = r.name ? ` ${r.name}` : '';
  const where = r.namespace ? ` in namespace ${r.namespace}` : '';
  return `${r.verb} ${res}${name}${where}`;
}
