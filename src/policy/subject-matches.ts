/**
 * subjectMatches(subjects, principal): whether a principal is one of the compiled `subjects`
 * (or `except`, or a role's `requestableBy`): its username matches one of `users`, or one of its
 * groups matches one of `groups`. An empty username matches no user glob, and a principal
 * without groups matches no group glob, not even `*`.
 */
import type { Principal } from '../core/principal.ts';
import type { Glob } from './glob.ts';

export interface CompiledSubjects {
  readonly users: readonly Glob[];
  readonly groups: readonly Glob[];
}

export function subjectMatches(s: CompiledSubjects, p: Principal): boolean {
  return (p.username !== '' && s.users.some((g) => g.test(p.username))) || p.groups.some((grp) => s.groups.some((g) => g.test(grp)));
}
