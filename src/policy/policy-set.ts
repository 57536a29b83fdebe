/**
 * A loaded policy: compiled rules ready for decide(). Built by load-policies.ts (from files) or
 * compile-rule.ts (one rule at a time); immutable once built, so a hot reload swaps the whole set.
 */
import type { Effect, RuleSource } from '../core/decision.ts';
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
  readonly review?: { approvers: string[]; minApprovals: number; timeoutMs?: number };
}

export interface PolicySet {
  readonly rules: readonly CompiledRule[];
  /** The policy files the rules came from, in load order. */
  readonly files: readonly string[];
  /** sha256 over the files' names and contents: which policy decided, for the audit record. */
  readonly digest: string;
}
