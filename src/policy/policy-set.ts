/**
 * A loaded policy: compiled rules ready for decide(), and the roles that access requests ask
 * for. Built by load-policies.ts (from files) or compile-rule.ts (one rule at a time); immutable
 * once built, so a hot reload swaps the whole set.
 */
import type { AuditScope, Effect, MaskSetting, RuleSource } from '../core/decision.ts';
import type { CompiledCondition } from './cel-condition.ts';
import type { Glob } from './glob.ts';

export interface ResourceMatcher {
  readonly pattern: string;
  /** No glob characters: names exactly one resource or resource/subresource. */
  readonly literal: boolean;
  test(resource: string, subresource: string): boolean;
}

export interface CompiledRule {
  readonly id: string;
  readonly effect: Effect;
  readonly description?: string;
  readonly message?: string;
  readonly source: RuleSource;
  readonly subjects?: { users: Glob[]; groups: Glob[] };
  readonly except?: { users: Glob[]; groups: Glob[] };
  readonly connections?: Glob[];
  readonly verbs?: Glob[];
  readonly apiGroups?: Glob[];
  readonly resources?: ResourceMatcher[];
  readonly namespaces?: Glob[];
  readonly names?: Glob[];
  readonly nonResourceURLs?: Glob[];
  /** `resource`: only resource requests; `nonResource`: only non-resource requests; `any`: both. */
  readonly scope: 'resource' | 'nonResource' | 'any';
  readonly condition?: CompiledCondition;
  readonly review?: ReviewRule;
  /** The `mask` directive (allow and review rules only); absent: the rule says nothing about masking. */
  readonly mask?: MaskSetting;
  /** The `auditScope` directive (allow and review rules only); absent: the rule grants audit reads unrestricted. */
  readonly auditScope?: AuditScope;
}

/** Approval settings of a review rule, or of a role's access requests. */
export interface ReviewRule {
  /** Groups whose members may approve (globs); empty: the approval feature's default approvers. */
  readonly approvers: string[];
  readonly minApprovals: number;
  /** How long the request (or the access request) waits for approval, in milliseconds. */
  readonly timeoutMs?: number;
  /** Approvers are not asked until the requester gave a reason. */
  readonly requireReason: boolean;
}

/**
 * A role (time-bound grant): rules that an approved access request adds to the requester until
 * the grant expires or is revoked. Its rules have no subjects (`subjects` is undefined): decide()
 * applies them only for the holder of an active grant (src/policy/grants.ts).
 */
export interface Role {
  readonly name: string;
  readonly description?: string;
  /** Who may ask for the role; see canRequestRole(). */
  readonly requestableBy: { users: Glob[]; groups: Glob[] };
  /** The longest a grant may last, in milliseconds; requests for longer are refused. */
  readonly maxDurationMs: number;
  /** Who approves an access request for the role; `timeoutMs`: how long the request waits. */
  readonly review: ReviewRule;
  /** Allow and review rules, compiled like any rule (ids unique among all rules). */
  readonly rules: readonly CompiledRule[];
  /** Where the role was written. */
  readonly source: RuleSource;
}

export interface PolicySet {
  readonly rules: readonly CompiledRule[];
  /** Roles by name (time-bound grants); their rules are not in `rules`. */
  readonly roles: ReadonlyMap<string, Role>;
  /** The policy files the rules came from, in load order. */
  readonly files: readonly string[];
  /** sha256 over the files' names and contents (rules and roles): which policy decided, for the audit record. */
  readonly digest: string;
}
