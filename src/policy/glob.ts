/**
 * Glob matching for names, namespaces, users, groups and connections: `*` matches any run of
 * characters (also none), `?` exactly one character, everything else matches itself
 * (case-sensitive, as Kubernetes names are). Matched without regular expressions in at most
 * O(pattern × value) steps, so a hostile name cannot make a pattern backtrack exponentially.
 */

export interface Glob {
  readonly pattern: string;
  /** True when the pattern has no `*` or `?`: it names exactly one value. */
  readonly literal: boolean;
  test(value: string): boolean;
}

function globMatch(p: string, s: string): boolean {
  let pi = 0;
  let si = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const c = p[pi];
    if (c === '*') {
      starP = pi++;
      starS = si;
    } else if (c !== undefined && (c === '?' || c === s[si])) {
      pi++;
      si++;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

export function compileGlob(pattern: string): Glob {
  const literal = !/[*?]/.test(pattern);
  return {
    pattern,
    literal,
    test: literal ? (v) => v === pattern : pattern === '*' ? () => true : (v) => globMatch(pattern, v),
  };
}
