/**
 * couldAllow(principal, reach, policies, opts): could any request of this shape be allowed (or
 * held for review) for this principal? Pure. It answers what an MCP client may be shown — the
 * tools in `tools/list` and the connections a tool offers — not what a request may do: every
 * request a tool makes is still decided by decide(), request by request.
 *
 * A rule counts when its subjects match the principal (or it belongs to a role the principal
 * holds an active grant of), its effect is allow or review, its verbs match one of `reach.verbs`,
 * it can apply to a resource request on one of the connections, and — when `reach.resource`
 * names one kind (`pods/exec`) — its resources match it, naming it literally when it is a guarded
 * operation (guarded.ts: wildcards never grant exec). Namespaces, names, API groups and CEL
 * conditions are not narrowed here: a tool shown may still be refused call by call; a tool
 * hidden is one no rule could ever allow.
 */
import { SLUICE_CONNECTION } from '../core/audit-read.ts';
import type { Principal } from '../core/principal.ts';
import type { Glob } from './glob.ts';
import { grantHeldBy, type ActiveGrant } from './grants.ts';
import { guardedOperation } from './guarded.ts';
import type { CompiledRule, PolicySet } from './policy-set.ts';
import { subjectMatches } from './subject-matches.ts';

export interface Reach {
  verbs: readonly string[];
  /** `resource` or `resource/subresource` of the core group, e.g. `pods/exec`, `pods/log`. */
  resource?: string;
}

export interface CouldAllowOptions {
  /** The connections to consider (never `sluice`, Sluice's own resources). */
  connections: readonly string[];
  grants?: readonly ActiveGrant[];
}

const anyOf = (globs: readonly Glob[] | undefined, value: string): boolean => globs === undefined || globs.some((g) => g.test(value));

function ruleReaches(rule: CompiledRule, reach: Reach, connection: string): boolean {
  if (rule.effect === 'deny' || rule.scope === 'nonResource') return false;
  if (!anyOf(rule.connections, connection)) return false;
  const [resource = '', subresource = ''] = (reach.resource ?? '').split('/');
  return reach.verbs.some((verb) => {
    if (!anyOf(rule.verbs, verb)) return false;
    if (!reach.resource) return true;
    if (rule.resources && !rule.resources.some((m) => m.test(resource, subresource))) return false;
    const guarded = guardedOperation({ connection, verb, apiGroup: '', apiVersion: 'v1', resource, subresource, namespace: '', name: '', isResourceRequest: true, path: '' });
    if (!guarded) return true;
    if (guarded.namedBy === 'verb') return rule.verbs?.some((v) => v.literal && v.pattern === verb) ?? false;
    return rule.resources?.some((m) => m.literal && m.test(resource, subresource)) ?? false;
  });
}

/** The rules that speak for the principal: its own (by subject) and those of roles it holds. */
function rulesFor(principal: Principal, policies: PolicySet, grants: readonly ActiveGrant[]): CompiledRule[] {
  const own = policies.rules.filter((r) => (!r.subjects || subjectMatches(r.subjects, principal)) && !(r.except && subjectMatches(r.except, principal)));
  const granted = grants.filter((g) => grantHeldBy(g, principal)).flatMap((g) => policies.roles.get(g.role)?.rules ?? []);
  return [...own, ...granted];
}

/** The connections (of `opts.connections`) on which some rule could allow a request of this shape. */
export function connectionsAllowing(principal: Principal, reach: Reach, policies: PolicySet, opts: CouldAllowOptions): string[] {
  const rules = rulesFor(principal, policies, opts.grants ?? []);
  return opts.connections.filter((c) => c !== SLUICE_CONNECTION && rules.some((r) => ruleReaches(r, reach, c)));
}

export function couldAllow(principal: Principal, reach: Reach, policies: PolicySet, opts: CouldAllowOptions): boolean {
  return connectionsAllowing(principal, reach, policies, opts).length > 0;
}
