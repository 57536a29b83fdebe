/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of an audit-trail event, so
 * anyone who parsed an event (a SIEM that re-serialized our export) can rebuild the exact bytes
 * the chain hashed (ADR 0002, Decision 2).
 *
 * - Object members sorted by their names' UTF-16 code units (RFC 8785 §3.2.3), which is what
 *   JavaScript's default string comparison does; no whitespace.
 * - Strings and numbers exactly as ECMAScript `JSON.stringify` writes them (§3.2.2.2, §3.2.2.3);
 *   events carry integers only, so number formatting never comes into play. A lone surrogate is
 *   written as `JSON.stringify` writes it (`"\udc00"`, escaped), which parses back to itself, so
 *   re-canonicalizing stays stable (RFC 8785 itself would refuse such a string: I-JSON, §3.1).
 * - Refused with a TypeError, where `JSON.stringify` would silently drop a value or write `null`:
 *   NaN/±Infinity, `undefined` as an array element (or a hole) or as the whole value, functions,
 *   symbols, bigints, cycles, and objects other than plain objects and arrays (Date, Buffer, Map,
 *   boxed primitives, class instances): an event must be exactly the data it says it is. Object
 *   members whose value is `undefined` are omitted, like `JSON.stringify` does (absent optional
 *   fields).
 *
 * Speed: V8's native `JSON.stringify` writes the bytes; a JavaScript writer that calls it per
 * string took about twice as long (8–10 µs against 4–5 µs for a 920-byte event). When every value
 * is plain JSON and every object's keys are already in order (encoders that build them so), it
 * writes the value itself; otherwise it writes a copy whose members were inserted in sorted
 * order. Only for objects with array-index keys ("10" sorts before "9", but JavaScript enumerates
 * it after), a "__proto__" key, or values to refuse does the JavaScript writer below run. On the
 * already-sorted path values are read twice (check, then write): a getter that changes its answer
 * between the reads could slip through; events are data, not objects with behaviour.
 * Measured with bench/trail.ts (2-vCPU VM, Node 20.20.2, CPU time, 724-byte request.begin of a
 * GET): 2.8–3.2 µs with members in order, 3.9–4.1 µs in the recorder's field order (goal ≤ 5 µs);
 * 5.4–6.8 µs for the latter while other test suites loaded the VM (load average 5–11).
 */

/** Writes `value` in RFC 8785 canonical form. Throws TypeError for values JSON cannot represent exactly. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) throw new TypeError('canonicalJson: undefined is not JSON');
  if (isReady(value, 0)) return JSON.stringify(value);
  const copy = sortedCopy(value, 0);
  if (copy !== SLOW) return JSON.stringify(copy);
  return write(value, []);
}

/** Depth past which the fast paths give up and let the writer (with its cycle check) decide. */
const MAX_FAST_DEPTH = 64;

/** True when `JSON.stringify(v)` is already the canonical form: plain JSON values, keys in order. */
function isReady(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (depth > MAX_FAST_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const e: unknown = v[i];
          if (e === undefined || !isReady(e, depth + 1)) return false;
        }
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      const keys = Object.keys(v);
      const rec = v as Record<string, unknown>;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (i > 0 && keys[i - 1]! > k) return false;
        const e = rec[k];
        if (e !== undefined && !isReady(e, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const SLOW: unique symbol = Symbol('slow');

/**
 * A copy with every object's members inserted in sorted order, so `JSON.stringify` writes them
 * in that order; SLOW when that cannot work (an array-index key such as "10": JavaScript
 * enumerates those first, in numeric order) or a value must be refused (the writer says why).
 */
function sortedCopy(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : SLOW;
    case 'object': {
      if (v === null) return v;
      if (depth > MAX_FAST_DEPTH) return SLOW;
      if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) {
          const e: unknown = v[i];
          const c = e === undefined ? SLOW : sortedCopy(e, depth + 1);
          if (c === SLOW) return SLOW;
          out.push(c);
        }
        return out;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return SLOW;
      const keys = Object.keys(v);
      sortKeys(keys);
      const rec = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        const first = k.charCodeAt(0);
        if ((first >= 0x30 && first <= 0x39 && ARRAY_INDEX.test(k)) || k === '__proto__') return SLOW; // __proto__: assigning it would set the prototype
        const e = rec[k];
        if (e === undefined) continue;
        const c = sortedCopy(e, depth + 1);
        if (c === SLOW) return SLOW;
        out[k] = c;
      }
      return out;
    }
    default:
      return SLOW;
  }
}

/** Sorts by UTF-16 code units; insertion sort for the few keys of an event's objects, else the built-in sort. */
function sortKeys(keys: string[]): void {
  if (keys.length > 24) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
}

/** Keys JavaScript treats as array indices (enumerated first, numerically); a few more is harmless. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

function write(v: unknown, ancestors: object[]): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: ${String(v)} is not a JSON number`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      return Array.isArray(v) ? writeArray(v, ancestors) : writeObject(v, ancestors);
    default:
      throw new TypeError(`canonicalJson: a ${typeof v} is not JSON`);
  }
}

function writeArray(a: unknown[], ancestors: object[]): string {
  if (ancestors.includes(a)) throw new TypeError('canonicalJson: cyclic structure');
  ancestors.push(a);
  let out = '[';
  for (let i = 0; i < a.length; i++) {
    const e: unknown = a[i];
    if (e === undefined) throw new TypeError(`canonicalJson: array element ${i} is undefined (or a hole)`);
    out += (i === 0 ? '' : ',') + write(e, ancestors);
  }
  ancestors.pop();
  return out + ']';
}

function writeObject(o: object, ancestors: object[]): string {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) {
    const name: unknown = (o as { constructor?: { name?: unknown } }).constructor?.name;
    throw new TypeError(`canonicalJson: ${typeof name === 'string' && name !== '' ? `a ${name}` : 'a non-plain object'} is not a plain object`);
  }
  if (ancestors.includes(o)) throw new TypeError('canonicalJson: cyclic structure');
  ancestors.push(o);
  const keys = Object.keys(o).sort();
  const rec = o as Record<string, unknown>;
  let out = '{';
  for (const k of keys) {
    const e = rec[k];
    if (e === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + write(e, ancestors);
  }
  ancestors.pop();
  return out + '}';
}
