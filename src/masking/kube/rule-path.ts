/**
 * The path syntax of masking rules: where in an object (relative to its root, the object that
 * carries `kind`) a rule's values are. Small on purpose — operators write these in config, and
 * each step maps to one level of the JSON:
 *
 *   name        a member by key: `data`, `status`, `spec`      (any characters but . [ ] " * and space)
 *   *           any member of an object: `data.*`
 *   [*]         any element of an array: `containers[*]`, `env[*]`
 *   ["key"]     a member whose key has dots or brackets, as a JSON string:
 *               `metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]`
 *
 * Members are separated by dots; bracket steps follow their member directly. Examples:
 * `data.*`, `status.token`, `spec.template.spec.containers[*].env[*].value`, `spec.password`.
 * There are no recursive wildcards: a rule says exactly where its values are.
 */
import { KubeMaskError } from './types.ts';

export type PathStep = { type: 'key'; key: string } | { type: 'anyKey' } | { type: 'anyElement' };

const NAME = /[^.[\]"*\s]+/y;
const QUOTED = /\["(?:[^"\\]|\\.)*"\]/y;

function invalid(path: string, at: number, why: string): KubeMaskError {
  return new KubeMaskError('MASK_RULE_INVALID', `masking rule path ${JSON.stringify(path)}: ${why} at character ${at + 1}`);
}

/** Parses a rule path into steps; throws KubeMaskError MASK_RULE_INVALID on a malformed one. */
export function parseRulePath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  let i = 0;
  let expectMember = true; // at the start and after a dot
  while (i < path.length) {
    const c = path[i];
    if (c === '[') {
      if (path.startsWith('[*]', i)) {
        steps.push({ type: 'anyElement' });
        i += 3;
      } else {
        QUOTED.lastIndex = i;
        const m = QUOTED.exec(path);
        if (!m) throw invalid(path, i, 'expected [*] or ["key"]');
        steps.push({ type: 'key', key: JSON.parse(m[0].slice(1, -1)) as string });
        i += m[0].length;
      }
      expectMember = false;
      continue;
    }
    if (c === '.') {
      if (expectMember) throw invalid(path, i, 'empty step');
      expectMember = true;
      i++;
      continue;
    }
    if (!expectMember) throw invalid(path, i, 'expected . or [');
    if (c === '*') {
      steps.push({ type: 'anyKey' });
      i++;
    } else {
      NAME.lastIndex = i;
      const m = NAME.exec(path);
      if (!m) throw invalid(path, i, `unexpected ${JSON.stringify(c)}`);
      steps.push({ type: 'key', key: m[0] });
      i += m[0].length;
    }
    expectMember = false;
  }
  if (steps.length === 0 || expectMember) throw invalid(path, path.length - 1, 'the path is empty or ends with a dot');
  return steps;
}
