/**
 * decide(principal, request, policies, {grants}): the authorization decision. Pure: no I/O, no
 * clock, same inputs → same decision.
 *
 * A rule matches when every field it sets matches (fields it leaves out match anything) and its
 * CEL condition, if any, is true. Default deny; among matching rules the most restrictive
 * effect wins: deny > review > allow. Rule order does not matter.
 * Fail closed: a condition that cannot be evaluated makes a deny or review rule match and an
 * allow rule not match, and is reported in `errors`. Guarded operations (guarded.ts) are only
 * granted by allow/review rules that name them literally.
 * Grants (grants.ts): the rules of each role the principal holds an active grant of take part as
 * if written for the principal, under the same precedence (a deny still wins); the caller passes
 * only grants active now. A role granted twice counts once (the grant that lasts longest names it).
 * Masking (maskDecision): on by default; matching `mask: off` rules lift it for an allow or
 * review decision unless a matching rule says `mask: on` (most restrictive wins, as for effects).
 * Sluice's own resources (connection `sluice`) are matched only by rules naming it literally.
 * Audit scope (auditScopeOf): an audit read is narrowed to the reader's own records when every
 * deciding rule says `auditScope: self`; one deciding rule without it grants the read unrestricted.
 */
import { EFFECT_RANK, type AuditScope, type Decision, type DecisionError, type DecisionRule, type Effect, type MaskDecision } from '../core/decision.ts';
import type { Principal } from '../core/principal.ts';
import { describeRequest, type RequestAttributes } from '../core/request.ts';
import { SLUICE_CONNECTION } from '../core/audit-read.ts';
import { conditionInput, type ConditionInput } from './cel-condition.ts';
import type { Glob } from './glob.ts';
import { grantHeldBy, type ActiveGrant } from './grants.ts';
import { guardedOperation, type GuardedOperation } from './guarded.ts';
import type { CompiledRule, PolicySet } from './policy-set.ts';
import { subjectMatches } from './subject-matches.ts';

export type { ActiveGrant } from './grants.ts';

export interface DecideOptions {
  /** Active grants (approved access requests); only those of the principal apply. The caller filters out expired and revoked ones. */
  grants?: readonly ActiveGrant[];
}

const anyOf = (globs: readonly Glob[] | undefined, value: string) => globs === undefined || globs.some((g) => g.test(value));

/**
 * Sluice's own resources (the reserved connection `sluice`: the audit trail) are matched only by
 * rules that name the connection literally: a rule written for clusters — without `connections`,
 * or with `connections: ["*"]` — never grants (or denies) reading the trail.
 */
const connectionMatches = (rule: CompiledRule, connection: string): boolean =>
  connection === SLUICE_CONNECTION ? (rule.connections?.some((g) => g.literal && g.pattern === connection) ?? false) : anyOf(rule.connections, connection);

function targetMatches(rule: CompiledRule, r: RequestAttributes): boolean {
  if (rule.scope === 'resource' && !r.isResourceRequest) return false;
  if (rule.scope === 'nonResource' && r.isResourceRequest) return false;
  if (!connectionMatches(rule, r.connection) || !anyOf(rule.verbs, r.verb)) return false;
  if (!r.isResourceRequest) return anyOf(rule.nonResourceURLs, r.path);
  if (!anyOf(rule.apiGroups, r.apiGroup) || !anyOf(rule.namespaces, r.namespace)) return false;
  if (rule.resources && !rule.resources.some((m) => m.test(r.resource, r.subresource))) return false;
  if (rule.names && (r.name === '' || !rule.names.some((g) => g.test(r.name)))) return false;
  return true;
}

/** Does the rule name the guarded operation literally (not through a glob)? */
function namesGuarded(rule: CompiledRule, g: GuardedOperation, r: RequestAttributes): boolean {
  if (g.namedBy === 'verb') return rule.verbs?.some((v) => v.literal && v.pattern === r.verb) ?? false;
  return rule.resources?.some((m) => m.literal && m.test(r.resource, r.subresource)) ?? false;
}

function entry(rule: CompiledRule, conditionError: boolean, grant: string | undefined): DecisionRule {
  return {
    id: rule.id,
    effect: rule.effect,
    ...(rule.message ? { message: rule.message } : {}),
    source: rule.source,
    ...(conditionError ? { conditionError } : {}),
    ...(grant !== undefined ? { grant } : {}),
    ...(rule.mask !== undefined ? { mask: rule.mask } : {}),
    ...(rule.auditScope !== undefined ? { auditScope: rule.auditScope } : {}),
  };
}

/**
 * The audit scope of an allow (or review) decision: `self` only when every deciding rule says
 * `auditScope: self`. A deciding rule without the directive grants what it names unrestricted,
 * so a person with an unscoped allow sees everything, whatever narrower rules match beside it.
 */
function auditScopeOf(effect: Effect, deciding: readonly DecisionRule[]): { auditScope?: AuditScope } {
  if (effect === 'deny' || deciding.length === 0) return {};
  return deciding.every((r) => r.auditScope === 'self') ? { auditScope: 'self' } : {};
}

/**
 * Masking is lifted only for a request that is forwarded (allow, or review once approved), by a
 * matching `mask: off` rule, and only when no matching rule says `mask: on`: a narrower rule can
 * re-impose masking, as a deny wins over an allow. A rule that counts only because its condition
 * failed (fail closed) never lifts masking, but its `on` still keeps it.
 */
function maskDecision(effect: Effect, matched: readonly DecisionRule[]): MaskDecision {
  if (effect === 'deny' || matched.some((m) => m.mask === 'on')) return { lifted: false, by: [] };
  const by = matched.filter((m) => m.mask === 'off' && m.effect !== 'deny' && !m.conditionError).map((m) => m.id);
  return by.length ? { lifted: true, by } : { lifted: false, by: [] };
}

/** The principal's grants whose role exists, one per role (the one active longest). */
function heldGrants(principal: Principal, policies: PolicySet, grants: readonly ActiveGrant[]): ActiveGrant[] {
  const byRole = new Map<string, ActiveGrant>();
  for (const g of grants) {
    if (!grantHeldBy(g, principal) || !policies.roles.has(g.role)) continue;
    const seen = byRole.get(g.role);
    if (!seen || g.activeUntil.getTime() > seen.activeUntil.getTime()) byRole.set(g.role, g);
  }
  return [...byRole.values()];
}

export function decide(principal: Principal, request: RequestAttributes, policies: PolicySet, opts: DecideOptions = {}): Decision {
  const hits: { rule: CompiledRule; entry: DecisionRule }[] = [];
  const errors: DecisionError[] = [];
  const guard = guardedOperation(request);
  let guardSkipped: string | undefined;
  let input: ConditionInput | undefined;

  /** Consider one rule whose subjects already match (a policy rule, or a granted role's rule). */
  const consider = (rule: CompiledRule, grant: string | undefined) => {
    if (!targetMatches(rule, request)) return;
    if (guard && rule.effect !== 'deny' && !namesGuarded(rule, guard, request)) {
      guardSkipped ??= rule.id;
      return;
    }
    if (rule.condition) {
      try {
        input ??= conditionInput(principal, request);
        if (!rule.condition.evaluate(input)) return;
      } catch (e) {
        errors.push({ ruleId: rule.id, message: `condition could not be evaluated: ${(e as Error).message}` });
        if (rule.effect !== 'allow') hits.push({ rule, entry: entry(rule, true, grant) });
        return;
      }
    }
    hits.push({ rule, entry: entry(rule, false, grant) });
  };

  for (const rule of policies.rules) {
    if (rule.subjects && !subjectMatches(rule.subjects, principal)) continue;
    if (rule.except && subjectMatches(rule.except, principal)) continue;
    consider(rule, undefined);
  }
  if (opts.grants?.length) {
    for (const grant of heldGrants(principal, policies, opts.grants)) {
      for (const rule of policies.roles.get(grant.role)!.rules) consider(rule, grant.id);
    }
  }
  const matched = hits.map((h) => h.entry);

  const what = describeRequest(request);
  if (matched.length === 0) {
    const hint = guard && guardSkipped
      ? `; ${guard.label} is a guarded operation: rule "${guardSkipped}" grants it only through a wildcard, and a rule must name it explicitly`
      : '';
    return { effect: 'deny', rules: [], matched, errors, message: `no policy rule allows ${what} for ${principal.username}${hint}`, mask: { lifted: false, by: [] } };
  }
  let top = matched.reduce((a, m) => (EFFECT_RANK[m.effect] > EFFECT_RANK[a.effect] ? m : a)).effect;
  let deciding = hits.filter((h) => h.rule.effect === top);
  // A grant was approved in advance for exactly this: an allow rule of an active grant lifts the
  // ordinary review rules (never a deny, and never a review rule of a role itself).
  const grantAllows = hits.filter((h) => h.entry.grant !== undefined && h.rule.effect === 'allow');
  if (top === 'review' && grantAllows.length && !deciding.some((h) => h.entry.grant !== undefined)) {
    top = 'allow';
    deciding = grantAllows;
  }
  const rules = deciding.map((h) => h.entry);
  const first = rules[0]!;
  const mask = maskDecision(top, matched);
  switch (top) {
    case 'deny':
      return { effect: 'deny', rules, matched, errors, message: `${first.message ?? `denied by policy`} (rule ${first.id})`, mask };
    case 'review': {
      const review = deciding.map(({ rule }) => {
        const settings = rule.review ?? { approvers: [], minApprovals: 1, requireReason: false };
        return {
          ruleId: rule.id,
          approvers: [...settings.approvers],
          minApprovals: settings.minApprovals,
          ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
          ...(settings.requireReason ? { requireReason: true } : {}),
        };
      });
      return { effect: 'review', rules, matched, errors, review, message: `requires approval: ${first.message ?? what} (rule ${first.id})`, mask, ...auditScopeOf(top, rules) };
    }
    case 'allow':
      return { effect: 'allow', rules, matched, errors, message: `allowed by rule ${first.id}`, mask, ...auditScopeOf(top, rules) };
  }
}
