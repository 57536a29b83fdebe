import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../../src/audit/trail/canonical-json.ts';

// RFC 8785 §3.2.2 (primitives) — input as printed in the RFC, parsed by JSON.parse.
test('RFC 8785 §3.2.2: serialization of primitives, incl. string escaping', () => {
  const input = String.raw`{
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  }`;
  const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
  assert.equal(canonicalJson(JSON.parse(input)), expected);
  // §3.2.4: the same as UTF-8 bytes (the € is e2 82 ac; everything else ASCII)
  const bytes = Buffer.from(canonicalJson(JSON.parse(input)), 'utf8');
  assert.equal(bytes.subarray(0, 12).toString('hex'), '7b226c69746572616c73223a');
  assert.ok(bytes.includes(Buffer.from('22e282ac245c7530303066', 'hex')), '"€$\\u000f as in the RFC');
});

// RFC 8785 §3.2.3: sorting by UTF-16 code units, incl. a non-BMP key (sorted by its surrogates).
test('RFC 8785 §3.2.3: property sorting by UTF-16 code units', () => {
  const input = String.raw`{
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  }`;
  const out = canonicalJson(JSON.parse(input));
  const values = [...out.matchAll(/:"([^"]*)"/g)].map((m) => m[1]); // in written order (Object.values would put "1" first)
  assert.deepEqual(values, [
    'Carriage Return',
    'One',
    'Control',
    'Latin Small Letter O With Diaeresis',
    'Euro Sign',
    'Emoji: Grinning Face',
    'Hebrew Letter Dalet With Dagesh',
  ]);
  assert.equal(out, '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  // Code-unit order is not code-point order: U+1F600 (UTF-16 d83d de00) sorts before U+FB33.
  assert.ok(out.indexOf('\ud83d\ude00') < out.indexOf('\ufb33'));
});

// Test data of the JCS reference implementation (cyberphone/json-canonicalization, testdata/).
test('JCS reference test data: structures and weird keys', () => {
  assert.equal(
    canonicalJson(JSON.parse('{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0}, "10": { }, "": "empty", "a": { }, "111": [ { } ], "A": { }}')),
    '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
  );
  assert.equal(
    canonicalJson(JSON.parse(String.raw`{"\u20ac": "Euro Sign", "1": "One", "\u0080": "Control\u007f", "\ud83d\ude02": "Smiley", "\u00f6": "Latin Small Letter O With Diaeresis", "\ufb33": "Hebrew Letter Dalet With Dagesh", "</script>": "Browser Challenge"}`)),
    '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  );
  assert.equal(canonicalJson(JSON.parse('{"Unnormalized Unicode":"\\u1e0d\\u0307"}')), '{"Unnormalized Unicode":"\u1e0d\u0307"}', 'no Unicode normalization');
});

test('array-index keys sort as strings ("10" < "9"), which JavaScript does not enumerate that way', () => {
  const o = { b: 1, 9: 'nine', 10: 'ten', '': 0, ' ': 1, '01': 2 };
  assert.deepEqual(Object.keys(o).slice(0, 2), ['9', '10'], 'precondition: JS enumerates indices first');
  assert.equal(canonicalJson(o), '{"":0," ":1,"01":2,"10":"ten","9":"nine","b":1}');
  assert.equal(canonicalJson({ a: { 2: 'x', 1: 'y' } }), '{"a":{"1":"y","2":"x"}}');
});

test('a "__proto__" member (as JSON.parse makes it) is kept, not turned into a prototype', () => {
  const o = JSON.parse('{"z":1,"__proto__":{"polluted":true},"a":2}') as Record<string, unknown>;
  assert.equal(canonicalJson(o), '{"__proto__":{"polluted":true},"a":2,"z":1}');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('undefined members are omitted; absent optional fields never become null', () => {
  assert.equal(canonicalJson({ b: undefined, a: 1, c: { d: undefined } }), '{"a":1,"c":{}}');
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  assert.equal(canonicalJson({ z: null }), '{"z":null}');
});

test('strings and numbers as JSON.stringify writes them', () => {
  assert.equal(canonicalJson(-0), '0');
  assert.equal(canonicalJson([1e21, 1e-7, -5, 9007199254740991]), '[1e+21,1e-7,-5,9007199254740991]');
  assert.equal(canonicalJson('\ud800x\udc00'), '"\\ud800x\\udc00"', 'lone surrogates escaped (well-formed JSON.stringify)');
  assert.equal(canonicalJson('\u2028\u007f\u001f"'), '"\u2028\u007f\\u001f\\""');
  assert.equal(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: 2 })), '{"a":2,"b":1}', 'null-prototype objects are plain');
});

test('refuses what JSON cannot represent exactly, anywhere in the value', () => {
  class Point {
    x = 1;
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cyclicArray: unknown[] = [];
  cyclicArray.push({ a: cyclicArray });
  const cases: [string, unknown][] = [
    ['NaN', { a: NaN }],
    ['Infinity', [Infinity]],
    ['-Infinity', { b: { c: -Infinity } }],
    ['undefined', undefined],
    ['undefined element', [1, undefined]],
    ['hole', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['function', { f: () => 1 }],
    ['symbol', { s: Symbol('x') }],
    ['bigint', { n: 1n }],
    ['Date', { d: new Date(0) }],
    ['Buffer', [Buffer.from('x')]],
    ['Map', new Map([['a', 1]])],
    ['class instance', { p: new Point() }],
    ['boxed string', { s: new String('x') }],
    ['cycle', cyclic],
    ['cycle through an array', cyclicArray],
    ['unsorted object holding a Date', { b: 1, a: new Date(0) }],
  ];
  for (const [name, value] of cases) assert.throws(() => canonicalJson(value), TypeError, name);
  // the same object twice (not a cycle) is fine
  const shared = { x: 1 };
  assert.equal(canonicalJson({ b: shared, a: [shared, shared] }), '{"a":[{"x":1},{"x":1}],"b":{"x":1}}');
});

// ---- random objects against a slow, independent reference -------------------------------------

function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const SHORT_ESCAPES: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

function refString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const short = SHORT_ESCAPES[c];
    if (short) out += short;
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += '\\u' + c.toString(16);
    else out += s[i]!;
  }
  return out + '"';
}

function reference(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (typeof v === 'string') return refString(v);
  if (Array.isArray(v)) return '[' + v.map(reference).join(',') + ']';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort(compareUtf16);
  return '{' + keys.map((k) => refString(k) + ':' + reference(o[k])).join(',') + '}';
}

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEY_POOL = ['', 'a', 'A', 'b', 'aa', 'ab', '1', '9', '10', '01', '__proto__', 'type', 'v', '\r', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33', '\ud800', '"', '\\', 'é', 'e\u0301'];
const UNIT_POOL = [0x00, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, 0x22, 0x2f, 0x5c, 0x41, 0x7a, 0x7f, 0x80, 0xe9, 0x2028, 0x20ac, 0xd83d, 0xde00, 0xdbff, 0xdc00, 0xfb33, 0xfeff, 0xffff];

function randomValue(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return Math.floor((r() - 0.5) * 2 ** (r() * 60));
    case 3:
      return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    case 4:
    case 5: {
      let s = '';
      const n = Math.floor(r() * 12);
      for (let i = 0; i < n; i++) s += String.fromCharCode(r() < 0.5 ? UNIT_POOL[Math.floor(r() * UNIT_POOL.length)]! : 0x20 + Math.floor(r() * 0x5f));
      return s;
    }
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 7);
      for (let i = 0; i < n; i++) {
        const k = r() < 0.7 ? KEY_POOL[Math.floor(r() * KEY_POOL.length)]! : String(randomValue(r, 9));
        Object.defineProperty(o, k, { value: r() < 0.1 ? undefined : randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

test('random values: equal to the reference, stable under parse + re-canonicalize', () => {
  const r = rng(0x5eed);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(r, 0);
    const expected = reference(v);
    const got = canonicalJson(v);
    assert.equal(got, expected, `case ${i}`);
    assert.equal(canonicalJson(JSON.parse(got)), got, `case ${i} re-canonicalized`);
  }
});

test('an already-sorted event and the same event built in another order give the same bytes', () => {
  const sorted = { a: 1, b: { c: [1, 2, { d: 'x', e: 'y' }], f: '' }, type: 'request.begin', v: 1 };
  const shuffled = { v: 1, type: 'request.begin', b: { f: '', c: [1, 2, { e: 'y', d: 'x' }] }, a: 1 };
  assert.equal(canonicalJson(shuffled), canonicalJson(sorted));
  assert.equal(canonicalJson(sorted), JSON.stringify(sorted));
});
