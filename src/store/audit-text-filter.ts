/**
 * The `text` filter of audit listings, shared by every adapter so that they find the same
 * records: a case-insensitive (ASCII letters) substring of the path or of the raw query string.
 * Exec commands travel in the query as `command=` parameters, encoded like Go's
 * url.Values.Encode (client-go, kubectl): so the text is also looked for in that encoding
 * (`/etc/passwd` as `%2Fetc%2Fpasswd`, a space as `+`) and, when it has spaces, as separate
 * arguments (`rm -rf` as `rm&command=-rf`).
 */

/** Lower-case ASCII letters only (what SQLite's lower() does), so adapters agree. */
export function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Go's url.QueryEscape: everything but letters, digits and `-_.~` percent-encoded, space as `+`. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The substrings (lower-cased) a record's path or query must contain, any one of them. */
export function textNeedles(text: string): { path: string[]; query: string[] } {
  const plain = asciiLower(text);
  const query = new Set([plain]);
  try {
    query.add(asciiLower(queryEscape(text)));
    const words = text.split(' ').filter(Boolean);
    if (words.length > 1) query.add(asciiLower(words.map(queryEscape).join('&command=')));
  } catch {
    // A lone surrogate has no URL encoding: only the text as it is can be found.
  }
  return { path: [plain], query: [...query] };
}

/** A LIKE pattern (ESCAPE '\') that matches `needle` anywhere: `%`, `_` and `\` are escaped. */
export function containsPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Whether a record's path or query holds the text (the memory adapter; SQL adapters use LIKE). */
export function matchesText(path: string, query: string, text: string): boolean {
  const n = textNeedles(text);
  const p = asciiLower(path);
  const q = asciiLower(query);
  return n.path.some((x) => p.includes(x)) || n.query.some((x) => q.includes(x));
}
