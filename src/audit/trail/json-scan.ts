/**
 * Finding a top-level member's raw text in a JSON object text without parsing it, for the two
 * places that read the trail at 100,000+ events/s (ADR 0002): `verifyTrail` reads each event's
 * `type` and `v` (parsing a 700-byte event costs more than hashing it), and `parseExportLine`
 * slices the `event` member verbatim so the exact hashed bytes reach the hash.
 *
 * Exact for well-formed JSON: strings are skipped quote to quote (a quote preceded by an odd
 * number of backslashes is escaped), brackets are counted outside strings, so a `"type"` inside a
 * nested object or inside a string is never taken for the top-level one; with duplicate names the
 * last one wins, as in JSON.parse. The full walk checks the top-level structure (members, colons,
 * commas, the closing brace, nothing after it) and top-level scalars; the fast variant for
 * canonical text checks only the members after the one it finds; neither checks every rule
 * inside nested values (escapes, control characters, bracket kinds): they find members, they are
 * not validators.
 */

export interface Span {
  start: number;
  end: number;
}

const SCALAR = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null/y;

function skipWs(t: string, i: number): number {
  let c = t.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = t.charCodeAt(++i);
  return i;
}

/** Index just past the string whose opening quote is at `i`; -1 when unterminated. */
function stringEnd(t: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = t.indexOf('"', from);
    if (q < 0) return -1;
    let b = q - 1;
    while (t.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Index just past the JSON value that starts at `i` (no leading whitespace); -1 when there is none. */
export function valueEnd(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return stringEnd(t, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const d = t.charCodeAt(i);
      if (d === 0x22) {
        i = stringEnd(t, i);
        if (i < 0) return -1;
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return i + 1;
      } else if (d !== d) return -1; // NaN: past the end
      i++;
    }
  }
  SCALAR.lastIndex = i;
  return SCALAR.test(t) ? SCALAR.lastIndex : -1;
}

/**
 * The raw value text of the last top-level member called `name` of the JSON object `text`:
 * its span, null when there is no such member, undefined when `text` is not (structurally) one
 * JSON object.
 */
export function topLevelMember(text: string, name: string): Span | null | undefined {
  let found: Span | null = null;
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) !== 0x7d) {
    for (;;) {
      if (text.charCodeAt(i) !== 0x22) return undefined;
      const keyEnd = stringEnd(text, i);
      if (keyEnd < 0) return undefined;
      const isName = keyEnd - i - 2 === name.length ? text.startsWith(name, i + 1) : keyEquals(text, i, keyEnd, name);
      i = skipWs(text, keyEnd);
      if (text.charCodeAt(i) !== 0x3a) return undefined;
      const start = skipWs(text, i + 1);
      const end = valueEnd(text, start);
      if (end < 0) return undefined;
      if (isName) found = { start, end };
      i = skipWs(text, end);
      const sep = text.charCodeAt(i);
      if (sep === 0x7d) break;
      if (sep !== 0x2c) return undefined;
      i = skipWs(text, i + 1);
    }
  }
  return skipWs(text, i + 1) === text.length ? found : undefined;
}

/**
 * topLevelMember, fast for text written compactly (canonical JSON, as the trail stores events):
 * it looks for `{"name":` / `,"name":` from the end (keys are sorted, and `type` and `v` sort
 * late) and confirms that the candidate is top-level by walking the few members after it to the
 * closing brace, which must be the text's last character — the brace of a nested object is
 * always followed by more text. A `,"` cannot occur inside a JSON string (its quotes are
 * escaped), so candidates are real keys. Exact for well-formed JSON; when the text is spaced,
 * escaped or otherwise unusual, it falls back to the full walk of topLevelMember, which also
 * answers "absent" (null) and "not an object" (undefined). `name` must need no escaping.
 */
export function topLevelMemberFast(text: string, name: string): Span | null | undefined {
  if (text.charCodeAt(0) === 0x7b) {
    const pattern = `"${name}":`;
    let from = text.length;
    for (;;) {
      const k = text.lastIndexOf(pattern, from);
      if (k < 1) break;
      const before = text.charCodeAt(k - 1);
      if (before === 0x2c || before === 0x7b) {
        const start = k + pattern.length;
        const end = valueEnd(text, start);
        if (end < 0) break;
        const tail = closesAtEnd(text, end);
        if (tail === 1) return { start, end };
        if (tail === -1) break; // unusual text: let the full walk decide
      }
      from = k - 1;
    }
  }
  return topLevelMember(text, name);
}

/**
 * From `i` (just after a member's value, compact text): 1 when the members that follow end with
 * the object's closing brace as the last character of the text, 0 when that brace comes earlier
 * (a nested object), -1 when the text is not compact JSON there.
 */
function closesAtEnd(text: string, i: number): 1 | 0 | -1 {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x7d) return i === text.length - 1 ? 1 : 0;
    if (c !== 0x2c || text.charCodeAt(i + 1) !== 0x22) return -1;
    const keyEnd = stringEnd(text, i + 1);
    if (keyEnd < 0 || text.charCodeAt(keyEnd) !== 0x3a) return -1;
    i = valueEnd(text, keyEnd + 1);
    if (i < 0) return -1;
  }
}

/** Whether the key text[start, end) (quotes included), written with escapes (`"t\u0079pe"`), means `name`. */
function keyEquals(text: string, start: number, end: number, name: string): boolean {
  let escaped = false;
  for (let j = start + 1; j < end - 1 && !escaped; j++) escaped = text.charCodeAt(j) === 0x5c;
  if (!escaped) return false; // without escapes, a key of another length is another name
  try {
    return JSON.parse(text.slice(start, end)) === name;
  } catch {
    return false;
  }
}
