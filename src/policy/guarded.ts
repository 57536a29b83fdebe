/**
 * Guarded operations: requests that hand out more power than they seem to (reach into nodes
 * and pods through the proxy, run code in containers, mint tokens, grant or assume other
 * identities). An allow or review rule grants one only when it names it explicitly — a literal
 * verb or a literal resource, never through `*` or another glob. Deny rules match them as
 * usual. The list is part of the policy language (docs/policy.md, "Guarded operations"); it is
 * deliberately not configurable, so that no policy can forget it. Sluice's own resources join
 * it: the recorded bodies and terminal sessions of audit records (`events/body`,
 * `events/terminal` of `audit.sluice.dev`, ADR 0002 Decision 6) are granted only by name.
 */
import { AUDIT_API_GROUP, AUDIT_GUARDED_SUBRESOURCES, AUDIT_RESOURCE } from '../core/audit-read.ts';
import type { RequestAttributes } from '../core/request.ts';

export interface GuardedOperation {
  /** How a rule names it: by a literal verb, or by a literal resource pattern (resource or resource/subresource). */
  namedBy: 'verb' | 'resource';
  /** What a person reads in a denial: `pods/exec`, `verb impersonate`. */
  label: string;
}

const GUARDED_VERBS = new Set(['bind', 'escalate', 'impersonate', 'proxy']);
const EXEC_LIKE = new Set(['exec', 'attach', 'portforward', 'ephemeralcontainers']);
const RBAC_RESOURCES = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);
const WRITE_VERBS = new Set(['create', 'update', 'patch']);

/** The guarded operation a request is, or undefined for ordinary requests. */
export function guardedOperation(r: RequestAttributes): GuardedOperation | undefined {
  if (!r.isResourceRequest) return undefined;
  if (GUARDED_VERBS.has(r.verb)) return { namedBy: 'verb', label: `verb ${r.verb}` };
  const res = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  if (r.subresource === 'proxy') return { namedBy: 'resource', label: res };
  if (r.apiGroup === '' && r.resource === 'pods' && EXEC_LIKE.has(r.subresource)) return { namedBy: 'resource', label: res };
  if (r.apiGroup === '' && r.resource === 'serviceaccounts' && r.subresource === 'token') return { namedBy: 'resource', label: res };
  if (r.apiGroup === 'certificates.k8s.io' && r.resource === 'certificatesigningrequests' && r.subresource === 'approval') {
    return { namedBy: 'resource', label: res };
  }
  if (r.apiGroup === AUDIT_API_GROUP && r.resource === AUDIT_RESOURCE && AUDIT_GUARDED_SUBRESOURCES.has(r.subresource)) {
    return { namedBy: 'resource', label: res };
  }
  if (r.apiGroup === 'rbac.authorization.k8s.io' && RBAC_RESOURCES.has(r.resource) && WRITE_VERBS.has(r.verb)) {
    return { namedBy: 'resource', label: `${r.verb} ${res}` };
  }
  return undefined;
}
