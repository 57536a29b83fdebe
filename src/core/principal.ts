/**
 * Principal: who is asking. Derived by authentication from a verified token (never from what
 * the client claims); the policy engine matches rules against it.
 */

/** People log in interactively; machines use client credentials or workload identity. */
export type PrincipalKind = 'person' | 'machine';

export interface Principal {
  /** The identity provider that vouched for this principal (the token's `iss`). */
  issuer: string;
  /** Stable subject identifier at that issuer (the token's `sub`). */
  subject: string;
  /** Human-readable name that policies, audit records and approvals show (e.g. `bob`). */
  username: string;
  /** Group memberships from the token; empty when the token carries none (then only rules for users or everyone can match). */
  groups: readonly string[];
  /** Person or machine, when the identity provider says so. */
  kind?: PrincipalKind;
}

/** The plain Principal of a verified one (no expiry, token type or client id): what an audit record keeps. */
export function principalOf(p: Principal): Principal {
  return { issuer: p.issuer, subject: p.subject, username: p.username, groups: [...p.groups], kind: p.kind };
}
