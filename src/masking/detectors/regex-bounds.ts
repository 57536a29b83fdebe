/**
 * Static bounds of an ECMAScript regular expression: the fewest and the most UTF-16 code units
 * one match can span, and whether an unbounded quantifier sits inside another one (`(a+)+`, the
 * shape behind catastrophic backtracking). The detectors use it to
 * - reject operator rules that can match the empty string (`min === 0`),
 * - reject operator rules with nested unbounded quantifiers,
 * - compute `maxMatchLength`, the overlap a stream keeps between chunks of one line, and the
 *   window a detector's regex runs over around a trigger.
 *
 * The source must already compile (`new RegExp(source, flags)`); this only measures it, following
 * the grammar of ECMA-262 §22.2.1 (Patterns) with the Annex B.1.2 leniencies of non-`u` patterns
 * (a `{` that starts no quantifier is a literal, `\8` without that many groups is a character).
 * Lookarounds match nothing themselves, but what they inspect is context a stream must keep: `max`
 * adds the longest lookaround twice (once before the match, once after; conservative). A
 * backreference counts 0 to ∞.
 */

export interface RegexBounds {
  /** Fewest code units a match spans. */
  min: number;
  /** Most code units a match spans; Infinity if unbounded. */
  matchMax: number;
  /** Most code units one lookaround inspects (context before or after a match). */
  lookaroundMax: number;
  /** `matchMax` plus the context on both sides: the window a stream must keep to find any match. */
  max: number;
  /** An unbounded quantifier (`*`, `+`, `{n,}`) applies to something that already contains one. */
  nestedUnbounded: boolean;
}

interface Node {
  min: number;
  max: number;
  /** Contains an unbounded quantifier. */
  unbounded: boolean;
}

const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : a * b);

export function regexBounds(source: string, flags = ''): RegexBounds {
  const unicode = flags.includes('u') || flags.includes('v');
  /** Width of one matched "character": a code point is up to 2 code units in `u` mode. */
  const W = unicode ? 2 : 1;
  let pos = 0;
  let nested = false;
  let lookaroundMax = 0;
  let lookaroundDepth = 0;
  const groupCount = countGroups(source);
  const hasNamedGroups = /\(\?<(?![=!])/.test(source);

  const peek = (k = 0): string => source[pos + k] ?? '';

  function disjunction(): Node {
    let best = alternative();
    while (peek() === '|') {
      pos++;
      const alt = alternative();
      best = { min: Math.min(best.min, alt.min), max: Math.max(best.max, alt.max), unbounded: best.unbounded || alt.unbounded };
    }
    return best;
  }

  function alternative(): Node {
    const acc: Node = { min: 0, max: 0, unbounded: false };
    while (pos < source.length && peek() !== '|' && peek() !== ')') {
      const t = term();
      acc.min += t.min;
      acc.max += t.max;
      acc.unbounded ||= t.unbounded;
    }
    return acc;
  }

  function term(): Node {
    const atomNode = atom();
    const q = quantifier();
    if (q === null) return atomNode;
    if (q.max === Infinity && atomNode.unbounded && atomNode.max > 0) nested = true;
    return {
      min: mul(atomNode.min, q.min),
      max: atomNode.max === 0 ? 0 : mul(atomNode.max, q.max),
      unbounded: atomNode.unbounded || (q.max === Infinity && atomNode.max > 0),
    };
  }

  function quantifier(): { min: number; max: number } | null {
    const c = peek();
    let q: { min: number; max: number } | null = null;
    if (c === '*') q = { min: 0, max: Infinity };
    else if (c === '+') q = { min: 1, max: Infinity };
    else if (c === '?') q = { min: 0, max: 1 };
    if (q !== null) pos++;
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(source.slice(pos));
      if (m === null) return null; // a literal `{` (Annex B)
      pos += m[0].length;
      const lo = Number(m[1]);
      q = { min: lo, max: m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]) };
    } else return null;
    if (peek() === '?') pos++; // lazy
    return q;
  }

  const char = (): Node => ({ min: 1, max: W, unbounded: false });
  const empty = (): Node => ({ min: 0, max: 0, unbounded: false });

  function atom(): Node {
    const c = peek();
    if (c === '^' || c === '$') {
      pos++;
      return empty();
    }
    if (c === '.') {
      pos++;
      return char();
    }
    if (c === '[') return charClass();
    if (c === '(') return group();
    if (c === '\\') return escape();
    pos++;
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff && unicode) {
      pos++; // a surrogate pair is one atom in `u` mode
      return { min: 2, max: 2, unbounded: false };
    }
    return { min: 1, max: 1, unbounded: false };
  }

  function group(): Node {
    pos++; // (
    let lookaround = false;
    if (peek() === '?') {
      const rest = source.slice(pos, pos + 3);
      if (rest.startsWith('?=') || rest.startsWith('?!')) {
        lookaround = true;
        pos += 2;
      } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
        lookaround = true;
        pos += 3;
      } else if (rest.startsWith('?<')) {
        pos = source.indexOf('>', pos) + 1;
      } else {
        // `?:` or modifiers such as `?i:`: skip to the colon
        pos = source.indexOf(':', pos) + 1;
      }
    }
    if (lookaround) lookaroundDepth++;
    const inner = disjunction();
    pos++; // )
    if (!lookaround) return inner;
    lookaroundDepth--;
    // A lookaround inside a lookaround widens the outer one's reach; a top-level one is context.
    if (lookaroundDepth > 0) return { min: 0, max: inner.max, unbounded: inner.unbounded };
    lookaroundMax = Math.max(lookaroundMax, inner.max);
    return { min: 0, max: 0, unbounded: inner.unbounded };
  }

  function charClass(): Node {
    pos++; // [
    while (pos < source.length && peek() !== ']') {
      if (peek() === '\\') pos += 2;
      else if (unicode && flags.includes('v') && peek() === '[') charClass(); // nested class (v mode)
      else pos++;
    }
    pos++; // ]
    return char();
  }

  function escape(): Node {
    pos++; // backslash
    const c = peek();
    pos++;
    if (c === 'b' || c === 'B') return empty();
    if (c >= '1' && c <= '9') {
      let digits = c;
      while (/[0-9]/.test(peek())) digits += source[pos++];
      if (Number(digits) <= groupCount) return { min: 0, max: Infinity, unbounded: false };
      return char(); // an octal or identity escape (Annex B)
    }
    if (c === 'k' && peek() === '<' && (hasNamedGroups || unicode)) {
      pos = source.indexOf('>', pos) + 1;
      return { min: 0, max: Infinity, unbounded: false };
    }
    if ((c === 'p' || c === 'P') && unicode && peek() === '{') {
      pos = source.indexOf('}', pos) + 1;
      return char();
    }
    if (c === 'u') {
      if (unicode && peek() === '{') {
        pos = source.indexOf('}', pos) + 1;
        return char();
      }
      if (/^[0-9a-fA-F]{4}$/.test(source.slice(pos, pos + 4))) pos += 4;
      return { min: 1, max: unicode ? 2 : 1, unbounded: false }; // `\uD83D\uDE00` in u mode is one code point
    }
    if (c === 'x' && /^[0-9a-fA-F]{2}$/.test(source.slice(pos, pos + 2))) {
      pos += 2;
      return { min: 1, max: 1, unbounded: false };
    }
    if (c === 'c' && /[A-Za-z]/.test(peek())) {
      pos++;
      return { min: 1, max: 1, unbounded: false };
    }
    if ('dDwWsS'.includes(c)) return char();
    return { min: 1, max: 1, unbounded: false };
  }

  const whole = disjunction();
  return { min: whole.min, matchMax: whole.max, lookaroundMax, max: whole.max + 2 * lookaroundMax, nestedUnbounded: nested };
}

/** Number of capturing groups (for telling backreferences from octal escapes). */
function countGroups(source: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && (source[i + 1] !== '?' || (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!'))) n++;
  }
  return n;
}
