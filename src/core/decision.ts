/**
 * Decision: the answer of the policy engine, Cedar-style: the effect, the rules that decided it
 * and any errors met on the way. A rule whose condition failed to evaluate is listed in
 * `errors` and never allows (it counts as matching when it denies or asks for review).
 */

/** What a rule (and a decision) says: `deny` > `review` > `allow` (most restrictive wins). */
export type Effect = 'allow' | 'deny' | 'review';

/** How restrictive each effect is; the highest among the matching rules wins. */
export const EFFECT_RANK: Readonly<Record<Effect, number>> = { allow: 0, review: 1, deny: 2 };

/**
 * What a rule says about response masking (policy `mask` directive): `off` lifts it for the
 * requests the rule matches, `on` keeps it even when another matching rule says `off`.
 */
export type MaskSetting = 'off' | 'on';

/**
 * What a rule says about the audit records an audit read may return (policy `auditScope`
 * directive, ADR 0002 Decision 6): `self` narrows it to the requester's own records.
 */
export type AuditScope = 'self';

/**
 * Whether the response of a decided request is masked. Masking is on by default; it is lifted
 * only when the effect is allow or review, some matching allow/review rule says `mask: off` and
 * no matching rule says `mask: on` (most restrictive wins, as for effects).
 */
export interface MaskDecision {
  /** True: the response is forwarded without structure-aware masking. */
  lifted: boolean;
  /** Ids of the matching `mask: off` rules that lifted it, for the audit record; [] when not lifted. */
  by: string[];
}

/** Where a rule was written: `policies/demo/20-developers.yaml:12:5`. */
export interface RuleSource {
  file: string;
  line: number;
  column: number;
}

/** One rule that took part in a decision. */
export interface DecisionRule {
  id: string;
  effect: Effect;
  /** The rule's message (deny and review rules), for the client and the approver. */
  message?: string;
  source?: RuleSource;
  /** True when the rule counted only because its condition failed to evaluate (fail closed). */
  conditionError?: boolean;
  /** Set when the rule is a role's rule that applied through an active grant: the grant's id. */
  grant?: string;
  /** The rule's `mask` directive, when it has one. */
  mask?: MaskSetting;
  /** The rule's `auditScope` directive, when it has one. */
  auditScope?: AuditScope;
}

/** A rule whose condition could not be evaluated for this request. */
export interface DecisionError {
  ruleId: string;
  message: string;
}

/** Approval settings of a review rule, carried in the decision for the approval workflow. */
export interface ReviewRequirement {
  ruleId: string;
  /** Groups whose members may approve; empty = the approval feature's default approvers. */
  approvers: string[];
  /** Distinct approvers needed (never the requester). */
  minApprovals: number;
  /** How long the request may wait for approval before it is denied, in milliseconds. */
  timeoutMs?: number;
  /** Approvers are not asked until the requester gave a reason (absent: false). */
  requireReason?: boolean;
}

export interface Decision {
  effect: Effect;
  /** The rules that decided the effect (all matching rules of the winning effect); empty for the default deny. */
  rules: DecisionRule[];
  /** Every rule that matched, whatever its effect (for explanations and the audit record). */
  matched: DecisionRule[];
  /** Conditions that failed to evaluate. */
  errors: DecisionError[];
  /** One line for the client: why it was denied or why it waits for approval. */
  message: string;
  /** For `review`: the requirements of every deciding review rule; all of them must be met. */
  review?: ReviewRequirement[];
  /** Response masking: lifted only by `mask: off` rules, and then the ids of those rules. */
  mask: MaskDecision;
  /**
   * For audit reads: `self` when every deciding rule says `auditScope: self` (the reader sees
   * only records whose principal is the reader); absent, the allow is unrestricted: one deciding
   * rule without the directive is enough to see everything it grants.
   */
  auditScope?: AuditScope;
}
