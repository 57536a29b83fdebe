import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../../src/audit/trail/canonical-json.ts';
import { topLevelMember, topLevelMemberFast, valueEnd } from '../../../../src/audit/trail/json-scan.ts';

const member = (text: string, name: string): string | null | undefined => {
  const s = topLevelMember(text, name);
  return s ? text.slice(s.start, s.end) : s;
};

test('finds the top-level member, not one in a nested object or inside a string', () => {
  const text = '{"a":{"type":"nested"},"b":["type",{"type":1}],"p":"\\"type\\":\\"fake\\"","type":"request.begin","v":1}';
  assert.equal(member(text, 'type'), '"request.begin"');
  assert.equal(member(text, 'v'), '1');
  assert.equal(member(text, 'a'), '{"type":"nested"}');
  assert.equal(member(text, 'b'), '["type",{"type":1}]');
  assert.equal(member('{"a":{"type":"nested"},"v":1}', 'type'), null);
  assert.equal(member('{"p":"\\"type\\":\\"x\\"","v":1}', 'type'), null);
});

test('escapes: quotes after backslashes, escaped keys, the last duplicate wins (as in JSON.parse)', () => {
  assert.equal(member('{"s":"a\\\\","type":"x"}', 'type'), '"x"', 'an escaped backslash ends the string');
  assert.equal(member('{"s":"a\\\\\\"b","type":"x"}', 'type'), '"x"');
  assert.equal(member('{"t\\u0079pe":"escaped"}', 'type'), '"escaped"');
  assert.equal(member('{"typ\\"":"x"}', 'type'), null);
  assert.equal(member('{"type":"first","type":"second"}', 'type'), '"second"');
  assert.equal(JSON.parse('{"type":"first","type":"second"}').type, 'second');
});

test('whitespace anywhere JSON allows it', () => {
  const text = ' \n{ "v" : 1 ,\r\n\t"event" : { "type" : "x" } , "z" : [ 1 , 2 ] }\n';
  assert.equal(member(text, 'event'), '{ "type" : "x" }');
  assert.equal(member(text, 'z'), '[ 1 , 2 ]');
  assert.equal(member('{ }', 'x'), null);
});

test('not one JSON object: undefined', () => {
  for (const bad of ['', '[]', '"type"', '{', '{"type":"x"', '{"type":"x"}}', '{"type":"x"} x', '{"type" "x"}', '{"type":"x",}', '{"type":x}', '{type:"x"}', '{"a":"unterminated}', '{"a":{"b":1}', '{"a":01}'])
    assert.equal(topLevelMember(bad, 'type'), undefined, bad);
  for (const good of ['{"a":-1.5e+3}', '{"a":true,"b":false,"c":null}', '{"a":0}'])
    assert.notEqual(topLevelMember(good, 'type'), undefined, good);
});

test('valueEnd: just past the value at an index', () => {
  const t = 'x{"a":[1,"]"],"b":"}"}y';
  assert.equal(valueEnd(t, 1), t.length - 1);
  assert.equal(valueEnd('"a\\"b"rest', 0), 6);
  assert.equal(valueEnd('123,', 0), 3);
  assert.equal(valueEnd('{"a":1', 0), -1);
  assert.equal(valueEnd('"abc', 0), -1);
  assert.equal(valueEnd('', 0), -1);
});

test('topLevelMemberFast agrees with the full walk, on tricky texts and on random canonical objects', () => {
  const same = (text: string, name: string): void => assert.deepEqual(topLevelMemberFast(text, name), topLevelMember(text, name), `${name} in ${text}`);
  const tricky = [
    '{"type":"top","z":{"type":"nested"}}',
    '{"a":{"type":"nested"}}',
    '{"a":[{"type":"in array"}],"type":"top","v":1}',
    '{"a\\"type":1,"type":"x"}',
    '{"p":",\\"type\\":\\"fake\\"}","v":1}',
    '{"type":"first","type":"second"}',
    '{"type":"x","v":1} ',
    '{ "type": "spaced", "v": 1 }',
    '{"t\\u0079pe":"escaped","v":1}',
    '{"type":"x","v":1',
    '{"type":"x","v":1}}',
    'x,"type":"x"}',
    '{"type":"x","userAgent":"k,\\"v\\":2}","v":1}',
    '{"b":{"v":2},"v":1}',
    '{"v":{"v":2}}',
  ];
  for (const t of tricky) for (const name of ['type', 'v']) same(t, name);
  const keys = ['type', 'v', 'a', 'z', 'userAgent', 'types', 'principal'];
  let seed = 7;
  const r = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  const value = (depth: number): unknown => {
    const p = r();
    if (depth > 2 || p < 0.4) return r() < 0.5 ? 'x",\\"type\\":\\"y' : Math.floor(r() * 100);
    if (p < 0.6) return [value(depth + 1), value(depth + 1)];
    const o: Record<string, unknown> = {};
    for (const k of keys) if (r() < 0.4) o[k] = value(depth + 1);
    return o;
  };
  for (let i = 0; i < 2000; i++) {
    const text = canonicalJson(value(0));
    for (const name of ['type', 'v', 'principal']) same(text, name);
  }
});
