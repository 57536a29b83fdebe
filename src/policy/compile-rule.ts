/**
 * Compiles one validated rule into matchers (globs, resource patterns, non-resource URL
 * prefixes) and a compiled CEL condition. Reports a condition that does not compile as a
 * problem at the rule's `condition` field instead of throwing. Role rules compile here too: they
 * have no `subjects`, and decide() applies them only to the holders of an active grant.
 */
import type { RuleSource } from '../core/decision.ts';
import { compileCondition, type CompiledCondition } from './cel-condition.ts';
import { compileGlob, type Glob } from './glob.ts';
import type { CompiledRule, ResourceMatcher } from './policy-set.ts';
import { durationMs, type PolicyRule } from './schema.ts';

export type CompileRuleResult = { rule: CompiledRule; problems?: undefined } | { rule?: undefined; problems: { path: string[]; message: string }[] };

function compileResource(pattern: string): ResourceMatcher {
  const literal = !/[*?]/.test(pattern);
  if (pattern === '*') return { pattern, literal, test: () => true };
  const slash = pattern.indexOf('/');
  const res = compileGlob(slash < 0 ? pattern : pattern.slice(0, slash));
  if (slash < 0) return { pattern, literal, test: (r, sub) => sub === '' && res.test(r) };
  const sub = compileGlob(pattern.slice(slash + 1));
  return { pattern, literal, test: (r, s) => s !== '' && res.test(r) && sub.test(s) };
}

/** Non-resource URLs as in Kubernetes RBAC: exact, or a prefix when the pattern ends in `*`. */
function compileNonResourceURL(pattern: string): Glob {
  if (pattern === '*') return { pattern, literal: false, test: () => true };
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return { pattern, literal: false, test: (p) => p.startsWith(prefix) };
  }
  return { pattern, literal: true, test: (p) => p === pattern };
}

const globs = (xs: string[] | undefined): Glob[] | undefined => xs?.map(compileGlob);
const subjects = (s: PolicyRule['subjects']) => (s ? { users: s.users?.map(compileGlob) ?? [], groups: s.groups?.map(compileGlob) ?? [] } : undefined);

export function compileRule(rule: PolicyRule, source: RuleSource): CompileRuleResult {
  let condition: CompiledCondition | undefined;
  if (rule.condition !== undefined) {
    try {
      condition = compileCondition(rule.condition);
    } catch (e) {
      return { problems: [{ path: ['condition'], message: `CEL: ${(e as Error).message}` }] };
    }
  }
  const resourceFields = rule.apiGroups ?? rule.resources ?? rule.namespaces ?? rule.names;
  const compiled: CompiledRule = {
    id: rule.id,
    effect: rule.effect,
    description: rule.description,
    message: rule.message,
    source,
    subjects: subjects(rule.subjects),
    except: subjects(rule.except),
    connections: globs(rule.connections),
    verbs: globs(rule.verbs),
    apiGroups: globs(rule.apiGroups),
    resources: rule.resources?.map(compileResource),
    namespaces: globs(rule.namespaces),
    names: globs(rule.names),
    nonResourceURLs: rule.nonResourceURLs?.map(compileNonResourceURL),
    scope: rule.nonResourceURLs ? 'nonResource' : resourceFields ? 'resource' : 'any',
    condition,
    review:
      rule.effect === 'review'
        ? {
            approvers: rule.review?.approvers ?? [],
            minApprovals: rule.review?.minApprovals ?? 1,
            timeoutMs: rule.review?.timeout ? durationMs(rule.review.timeout) : undefined,
            requireReason: rule.review?.requireReason ?? false,
          }
        : undefined,
    ...(rule.mask !== undefined ? { mask: rule.mask } : {}),
    ...(rule.auditScope !== undefined ? { auditScope: rule.auditScope } : {}),
  };
  return { rule: compiled };
}
