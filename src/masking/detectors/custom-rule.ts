/**
 * Operator-defined detectors (`custom:<name>`): a named ECMAScript regex, checked when the
 * configuration is loaded so that a bad rule fails start-up with its name instead of masking
 * nothing (or everything, or hanging) at run time. Rejected:
 * - a name that is not `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}` (it becomes part of the marker),
 * - flags other than `i`, `m`, `s`, `u` (`g` is added here; the rest is used as given),
 * - a pattern that does not compile,
 * - a pattern that can match the empty string (it would "match" between every two characters),
 * - nested unbounded quantifiers such as `(a+)+` or `(\w*\s?)*`, the shape of catastrophic
 *   backtracking: bound the inner one (`(?:[a-z0-9]{1,63}\.)+`) or restructure.
 * Such a rule has no prefilter: its regex runs over every string (and `maybe()` tests it).
 */
import { SluiceError } from '../../core/errors.ts';
import type { DetectorSpec } from './detector-spec.ts';
import { regexBounds } from './regex-bounds.ts';

export interface CustomRule {
  name: string;
  pattern: string;
  flags?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const FLAGS = /^(?!.*(.).*\1)[imsu]*$/;

function invalid(rule: string, why: string): SluiceError {
  return new SluiceError('CONFIG_INVALID', `custom detector "${rule}": ${why}`, { detector: rule });
}

export function compileCustomRule(rule: CustomRule): DetectorSpec {
  const label = typeof rule.name === 'string' ? rule.name : String(rule.name);
  if (typeof rule.name !== 'string' || !NAME.test(rule.name)) {
    throw invalid(label, 'the name must be 1–64 letters, digits, `_`, `.` or `-`, starting with a letter or digit');
  }
  const flags = rule.flags ?? '';
  if (typeof flags !== 'string' || !FLAGS.test(flags)) throw invalid(label, `flags "${String(flags)}": only i, m, s and u are allowed, each once`);
  if (typeof rule.pattern !== 'string' || rule.pattern === '') throw invalid(label, 'the pattern is empty');
  let re: RegExp;
  try {
    re = new RegExp(rule.pattern, `${flags}g`);
  } catch (e) {
    throw invalid(label, `the pattern does not compile: ${(e as Error).message}`);
  }
  const bounds = regexBounds(rule.pattern, flags);
  if (bounds.min === 0 || re.exec('') !== null) throw invalid(label, 'the pattern can match the empty string');
  re.lastIndex = 0;
  if (bounds.nestedUnbounded) {
    throw invalid(label, 'the pattern nests unbounded quantifiers (like `(a+)+`), which can backtrack catastrophically; bound the inner one, e.g. `{1,64}`');
  }
  return { name: `custom:${rule.name}`, kind: 'credential', re, triggers: null, back: 0 };
}
