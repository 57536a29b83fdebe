/**
 * The registry of audit event codes (Teleport-style stable codes). Every audit record carries
 * one; `docs/audit-events.md` documents each with the fields it carries (a test keeps the two in
 * sync). Codes are stable: rename one only with a migration of the stored records.
 */

export const AUDIT_EVENT_CODES = {
  'kubernetes.request':
    'An authenticated Kubernetes API request that was classified and authorized (allowed, denied or held for review).',
  'kubernetes.request.rejected':
    'An authenticated Kubernetes API request refused before a policy decision: unknown connection, malformed, ambiguous or oversized.',
  'authn.failed': 'A request whose bearer token was missing, malformed or did not verify; no principal is known.',
  'http.malformed': "A connection whose bytes Node's strict HTTP parser refused (request smuggling attempts, bad framing); no request was parsed.",
  'approval.requested': 'An approval was opened: a request held for review (its first attempt), or an access request for a role.',
  'approval.reason': 'The requester gave (or replaced) the reason of a pending approval.',
  'approval.vote': 'An approver approved or denied; `detail.vote` says which, `detail.reason` why.',
  'approval.approved': 'Every requirement of the approval is met: a held request may run once; a grant is active until `grant.activeUntil`.',
  'approval.denied': 'An approver denied the approval (final); held attempts are answered 403.',
  'approval.expired': 'The approval was not decided (or an approved request not run, or a grant ran out) in time.',
  'approval.spent': 'An approved request ran: the attempt `detail.requestId` spent the approval; no other attempt can.',
  'approval.revoked': 'An active grant was ended early by its requester or an approver.',
  'mcp.call':
    'A `tools/call` on Sluice\'s MCP endpoint: the tool, its arguments (masked), the caller, the decision over the Kubernetes requests it made, and the result\'s size; each of those requests is a `kubernetes.request` whose `detail.via.call` names this record.',
  'mcp.request.rejected':
    'A request to the MCP endpoint refused before any tool ran: a foreign `Origin`/`Host`, an unknown session, a body that is not JSON-RPC.',
  'audit.read':
    'Someone read the audit trail through the control API (list or show), allowed or not; `detail.filter` is the query as run (with the reader\'s scope), `detail.count` how many records it returned.',
} as const;

export type AuditEventCode = keyof typeof AUDIT_EVENT_CODES;

export function isAuditEventCode(s: string): s is AuditEventCode {
  return Object.hasOwn(AUDIT_EVENT_CODES, s);
}
