/**
 * activeGrants: the approved access requests of the approval service as decide() takes them
 * (src/policy/grants.ts). The service lists only grants that are active now.
 */
import type { ActiveGrant } from '../policy/grants.ts';
import type { Approval } from './types.ts';

export function activeGrants(approvals: readonly Approval[]): ActiveGrant[] {
  return approvals
    .filter((a) => a.grant?.activeUntil !== undefined)
    .map((a) => ({ id: a.id, role: a.grant!.role, username: a.requester.username, issuer: a.requester.issuer, subject: a.requester.subject, activeUntil: a.grant!.activeUntil! }));
}
