/**
 * decide(principal, request, policies): the authorization decision. Pure: no I/O, no clock,
 * same inputs → same decision.
 *
 * A rule matches when every field it sets matches (fields it leaves out match anything) and its
 * CEL condition, if any, is true. Default deny; among matching rules the most restrictive
 * effect wins: deny > review > allow. Rule order does not matter.
 * Fail closed: a condition that cannot be evaluated makes a deny or review rule match and an
 * allow rule not match, and is reported in `errors`. Guarded operations (guarded.ts) are only
 * granted by allow/review rules that name them literally.
 */
import { EFFECT_RANK, type Decision, type DecisionError, type DecisionRule } from '../core/decision.ts';
import type { Principal } from '../core/principal.ts';
import { describeRequest, type RequestAttributes } from '../core/request.ts';
import { conditionInput, type ConditionInput } from './cel-condition.ts';
import type { Glob } from './glob.ts';
import { guardedOperation, type GuardedOperation } from './guarded.ts';
import type { CompiledRule, PolicySet } from './policy-set.ts';

const anyOf = (globs: readonly Glob[] | undefined, value: string) => globs === undefined || globs.some((g) => g.test(value));

function subjectMatches(s: { users: readonly Glob[]; groups: readonly Glob[] }, p: Principal): boolean {
  return (p.username !== '' && s.users.some((g) => g.test(p.username))) || p.groups.some((grp) => s.groups.some((g) => g.test(grp)));
}

function targetMatches(rule: CompiledRule, r: RequestAttributes): boolean {
  if (rule.scope === 'resource' && !r.isResourceRequest) return false;
  if (rule.scope === 'nonResource' && r.isResourceRequest) return false;
  if (!anyOf(rule.connections, r.connection) || !anyOf(rule.verbs, r.verb)) return false;
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

function entry(rule: CompiledRule, conditionError = false): DecisionRule {
  return {
    id: rule.id,
    effect: rule.effect,
    ...(rule.message ? { message: rule.message } : {}),
    source: rule.source,
    ...(conditionError ? { conditionError } : {}),
  };
}

export function decide(principal: Principal, request: RequestAttributes, policies: PolicySet): Decision {
  const hits: { rule: CompiledRule; entry: DecisionRule }[] = [];
  const errors: DecisionError[] = [];
  const guard = guardedOperation(request);
  let guardSkipped: string | undefined;
  let input: ConditionInput | undefined;

  for (const rule of policies.rules) {
    if (rule.subjects && !subjectMatches(rule.subjects, principal)) continue;
    if (rule.except && subjectMatches(rule.except, principal)) continue;
    if (!targetMatches(rule, request)) continue;
    if (guard && rule.effect !== 'deny' && !namesGuarded(rule, guard, request)) {
      guardSkipped ??= rule.id;
      continue;
    }
    if (rule.condition) {
      try {
        input ??= conditionInput(principal, request);
        if (!rule.condition.evaluate(input)) continue;
      } catch (e) {
        errors.push({ ruleId: rule.id, message: `condition could not be evaluated: ${(e as Error).message}` });
        if (rule.effect === 'allow') continue;
        hits.push({ rule, entry: entry(rule, true) });
        continue;
      }
    }
    hits.push({ rule, entry: entry(rule) });
  }
  const matched = hits.map((h) => h.entry);

  const what = describeRequest(request);
  if (matched.length === 0) {
    const hint = guard && guardSkipped
      ? `; ${guard.label} is a guarded operation: rule "${guardSkipped}" grants it only through a wildcard, and a rule must name it explicitly`
      : '';
    return { effect: 'deny', rules: [], matched, errors, message: `no policy rule allows ${what} for ${principal.username}${hint}` };
  }
  const top = matched.reduce((a, m) => (EFFECT_RANK[m.effect] > EFFECT_RANK[a.effect] ? m : a)).effect;
  const deciding = hits.filter((h) => h.rule.effect === top);
  const rules = deciding.map((h) => h.entry);
  const first = rules[0]!;
  switch (top) {
    case 'deny':
      return { effect: 'deny', rules, matched, errors, message: `${first.message ?? `denied by policy`} (rule ${first.id})` };
    case 'review': {
      const review = deciding.map(({ rule }) => {
        const settings = rule.review ?? { approvers: [], minApprovals: 1 };
        return { ruleId: rule.id, approvers: [...settings.approvers], minApprovals: settings.minApprovals, ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}) };
      });
      return { effect: 'review', rules, matched, errors, review, message: `requires approval: ${first.message ?? what} (rule ${first.id})` };
    }
    case 'allow':
      return { effect: 'allow', rules, matched, errors, message: `allowed by rule ${first.id}` };
  }
}
