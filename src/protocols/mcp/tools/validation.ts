/**
 * The argument grammar of Sluice's MCP tools: every value a model can put into a Kubernetes
 * request is checked here against the grammar the API server itself applies, and is stricter
 * where that costs nothing. A value that passes can be placed in a URL path or query without
 * changing the request's shape: no `/`, `..`, `%`, `?` or `#` in a path segment, no NUL or
 * newline anywhere, and no value that starts with `-` (nothing that could read as an option).
 *
 * Grammars (k8s.io/apimachinery/pkg/util/validation; api-conventions.md "Names"):
 *   namespace, container   DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63
 *   object name            DNS-1123 subdomain: labels joined by `.`, at most 253
 *   resource (plural)      DNS-1035 label, at most 63 (a CRD's `spec.names.plural` is validated so)
 *   apiVersion             `v1` (core) or `{group}/{version}`: group a DNS-1123 subdomain, version a
 *                          DNS-1035 label (a CRD version's grammar); a core version is `vN[alpha|betaN]`
 *   kind                   [A-Z][A-Za-z0-9]*, at most 63
 * Selectors are limited to the characters of label and field selector syntax
 * (k8s.io/apimachinery/pkg/labels/selector.go, fields/selector.go), without escapes.
 *
 * No object-level refinement is used, so the endpoint can `.extend()` every input with its
 * `connection` argument; checks across fields happen in the tools themselves.
 */
import { z } from 'zod';

const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const DNS1035_LABEL = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
const CORE_VERSION = /^v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
/** Label selector characters: keys (prefix/name), values, `=`, `==`, `!=`, `!key`, `in (…)`, `notin (…)`, `<`, `>`. */
const LABEL_SELECTOR = /^(?!-)[A-Za-z0-9_./=!,()<> -]+$/;
/** Field selector characters: `path.to.field=value`, `==`, `!=`, values such as `kubernetes.io/tls` or `node-1:8080`. */
const FIELD_SELECTOR = /^(?!-)[A-Za-z0-9_./=!,:-]+$/;
/** A continue token is opaque; the API server's are base64 (URL or standard alphabet) of JSON. */
const CONTINUE_TOKEN = /^(?!-)[A-Za-z0-9_=+/.-]+$/;
/** Path segments the API server reads as a verb, not a resource (/api/v1/watch/…, /api/v1/proxy/…). */
const VERB_SEGMENTS = new Set(['watch', 'proxy']);

/** A NUL, CR, LF or any other C0/C1 control character or line/paragraph separator. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export const namespace = z
  .string()
  .max(63, 'a namespace is at most 63 characters')
  .regex(DNS1123_LABEL, 'a namespace is a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit')
  .describe('Namespace (a DNS-1123 label, e.g. "default", "dev").');

export const objectName = z
  .string()
  .max(253, 'a name is at most 253 characters')
  .regex(DNS1123_SUBDOMAIN, 'a name is a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", starting and ending with a letter or digit')
  .describe('Object name (metadata.name, a DNS-1123 subdomain such as "web-7d4b9c" or "my.config").');

export const containerName = z
  .string()
  .max(63, 'a container name is at most 63 characters')
  .regex(DNS1123_LABEL, 'a container name is a DNS-1123 label')
  .describe('Container name; omit when the pod has only one container (or to use its default container).');

export const resource = z
  .string()
  .max(63, 'a resource is at most 63 characters')
  .regex(DNS1035_LABEL, 'a resource is the lower-case plural the API uses (pods, deployments, customresourcedefinitions), without a subresource')
  .refine((r) => !VERB_SEGMENTS.has(r), 'watch and proxy are not resources')
  .describe('Resource type as the plural lower-case name the API uses: pods, services, deployments, configmaps, nodes, customresourcedefinitions… (not the Kind, not a short name like "po" or "deploy").');

export const apiVersion = z
  .string()
  .max(253 + 1 + 63, 'apiVersion is too long')
  .refine(isApiVersion, 'apiVersion is "v1" for the core group or "group/version" such as "apps/v1", "batch/v1", "networking.k8s.io/v1"')
  .describe('API group and version: "v1" for the core group (pods, services, configmaps, secrets, nodes, namespaces, events), "apps/v1" (deployments, statefulsets, daemonsets, replicasets), "batch/v1" (jobs, cronjobs), "networking.k8s.io/v1" (ingresses), or a custom resource\'s group/version.');

export function isApiVersion(v: string): boolean {
  const slash = v.indexOf('/');
  if (slash < 0) return CORE_VERSION.test(v);
  const group = v.slice(0, slash);
  const version = v.slice(slash + 1);
  return group.length <= 253 && DNS1123_SUBDOMAIN.test(group) && version.length <= 63 && DNS1035_LABEL.test(version);
}

export function isKind(k: string): boolean {
  return KIND.test(k);
}

export function isObjectName(n: string): boolean {
  return n.length <= 253 && DNS1123_SUBDOMAIN.test(n);
}

export function isNamespace(n: string): boolean {
  return n.length <= 63 && DNS1123_LABEL.test(n);
}

export const labelSelector = z
  .string()
  .min(1)
  .max(1024, 'a label selector is at most 1024 characters')
  .regex(LABEL_SELECTOR, 'a label selector uses letters, digits, "-_./", "=", "==", "!=", "!", ",", "in (…)", "notin (…)" only, and does not start with "-"')
  .describe('Label selector as kubectl -l takes it, e.g. "app=web", "app=web,tier!=cache", "env in (dev,staging)", "!canary".');

export const fieldSelector = z
  .string()
  .min(1)
  .max(1024, 'a field selector is at most 1024 characters')
  .regex(FIELD_SELECTOR, 'a field selector is "field=value" terms joined by ","; letters, digits, "-_./:", "=", "==", "!=" only, and does not start with "-"')
  .describe('Field selector as kubectl --field-selector takes it, e.g. "status.phase=Running", "spec.nodeName=node-1", "metadata.name=web".');

export const continueToken = z
  .string()
  .max(4096, 'a continue token is at most 4096 characters')
  .regex(CONTINUE_TOKEN, 'not a continue token: pass the token a previous list_resources answer gave, unchanged')
  .describe('The continue token from a previous list answer, to fetch the next page (with the same selectors).');

/** One argv element of an exec command: any text without control characters, at most 4096 characters. */
export const argvElement = z
  .string()
  .min(1, 'an argument is not empty')
  .max(4096, 'an argument is at most 4096 characters')
  .refine((s) => !CONTROL.test(s), 'an argument contains no NUL, newline or other control character');

/** One object addressed by API version, resource, namespace and name (get_resource, describe_resource). */
export const objectRef = z.strictObject({
  apiVersion: apiVersion.default('v1'),
  resource,
  namespace: namespace.optional().describe('Namespace of the object; omit for cluster-scoped resources (nodes, namespaces, clusterroles, persistentvolumes…).'),
  name: objectName,
});

export const dryRun = z
  .boolean()
  .optional()
  .describe('true: the API server validates and runs admission but persists nothing (dryRun=All). Use it to check a change first.');

/** Whether a text holds a control character other than tab/newline/CR (for manifest and patch content). */
export function hasBinaryControl(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
}
