/**
 * Time-bound grants: an approved access request for a role (src/approval/types.ts, kind
 * `grant`) makes the role's rules apply to its requester until it expires or is revoked.
 * decide() takes the active grants as an argument (`opts.grants`) and stays pure: it reads no
 * clock, so the caller passes only grants that are active now (approved, not revoked,
 * `activeUntil` in the future). `canRequestRole` says who may ask for a role.
 */
import type { Principal } from '../core/principal.ts';
import type { Role } from './policy-set.ts';
import { subjectMatches } from './subject-matches.ts';

/** An active grant of a role, as decide() needs it. */
export interface ActiveGrant {
  /** The approval's id; deciding rules that come from the grant carry it (DecisionRule.grant). */
  id: string;
  /** The role's name; a grant of a role the policy no longer defines adds nothing. */
  role: string;
  /** The grantee's username (informative; the grant applies by issuer + subject). */
  username: string;
  issuer: string;
  subject: string;
  /** Until when the grant is active; decide() does not look at it: callers filter. */
  activeUntil: Date;
}

/** Whether the principal may ask for the role (its `requestableBy`, matched like a rule's `subjects`). */
export function canRequestRole(principal: Principal, role: Role): boolean {
  return subjectMatches(role.requestableBy, principal);
}

/** Whether a grant belongs to the principal (same issuer and subject, never just the username). */
export function grantHeldBy(grant: ActiveGrant, principal: Principal): boolean {
  return grant.issuer === principal.issuer && grant.subject === principal.subject;
}
