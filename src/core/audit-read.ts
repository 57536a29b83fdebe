/**
 * Reading the audit trail is a request like any other (ADR 0002, Decision 6): the control API
 * classifies each read as a resource request on the reserved connection `sluice`, API group
 * `audit.sluice.dev`, and decide() authorizes it with the same policy as Kubernetes requests.
 *
 *   resource          verbs       what
 *   events            get, list   audit records (`sluice audit show`, `sluice audit list`)
 *   events/body       get         recorded request/response bodies (guarded: named literally)
 *   events/terminal   get         recorded terminal sessions, replay (guarded: named literally)
 *
 * No Kubernetes connection may be named `sluice` (the configuration refuses it), so a rule on
 * `connections: [sluice]` never reaches a cluster.
 */
import type { RequestAttributes } from './request.ts';

/** The reserved connection name of Sluice's own resources. */
export const SLUICE_CONNECTION = 'sluice';
/** API group of the audit trail's resources. */
export const AUDIT_API_GROUP = 'audit.sluice.dev';
export const AUDIT_API_VERSION = 'v1';
/** Resource of audit records. */
export const AUDIT_RESOURCE = 'events';
/** Subresources of an audit record that are guarded operations (src/policy/guarded.ts). */
export const AUDIT_GUARDED_SUBRESOURCES: ReadonlySet<string> = new Set(['body', 'terminal']);

/** The request attributes of an audit read, as decide() sees them; `path` is the control API path. */
export function auditReadAttributes(verb: 'get' | 'list', path: string, opts: { subresource?: string; name?: string } = {}): RequestAttributes {
  return {
    connection: SLUICE_CONNECTION,
    verb,
    apiGroup: AUDIT_API_GROUP,
    apiVersion: AUDIT_API_VERSION,
    resource: AUDIT_RESOURCE,
    subresource: opts.subresource ?? '',
    namespace: '',
    name: opts.name ?? '',
    isResourceRequest: true,
    path,
  };
}
