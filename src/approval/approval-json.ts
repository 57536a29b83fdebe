/**
 * Approvals as JSON and back: dates become ISO strings. The store keeps this form (one document
 * per approval), the control API sends it, webhooks deliver it.
 */
import type { Approval } from './types.ts';

/** Dates to ISO strings, everything else as is (a plain JSON value). */
export function approvalToJson(a: Approval): Record<string, unknown> {
  return JSON.parse(JSON.stringify(a)) as Record<string, unknown>;
}

const iso = (v: unknown): Date => new Date(String(v));

export function approvalFromJson(j: unknown): Approval {
  const a = structuredClone(j) as Approval & Record<string, unknown>;
  a.createdAt = iso(a.createdAt);
  a.expiresAt = iso(a.expiresAt);
  if (a.decidedAt !== undefined) a.decidedAt = iso(a.decidedAt);
  if (a.spentAt !== undefined) a.spentAt = iso(a.spentAt);
  if (a.grant?.activeUntil !== undefined) a.grant.activeUntil = iso(a.grant.activeUntil);
  a.votes = a.votes.map((v) => ({ ...v, at: iso(v.at) }));
  return a;
}
