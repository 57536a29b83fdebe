import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlob } from '../../../src/policy/glob.ts';

test('globs: * is any run (also none), ? one character, the rest literal', () => {
  const cases: [string, string, boolean][] = [
    ['web-*', 'web-1', true],
    ['web-*', 'web-', true],
    ['web-*', 'web', false],
    ['*-db', 'prod-db', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'axxbyy', false],
    ['?', 'a', true],
    ['?', '', false],
    ['team-??', 'team-ab', true],
    ['team-??', 'team-abc', false],
    ['*', '', true],
    ['a.b', 'axb', false],
    ['[a]', '[a]', true],
    ['Web', 'web', false],
  ];
  for (const [p, s, want] of cases) assert.equal(compileGlob(p).test(s), want, `${p} ~ ${s}`);
  assert.equal(compileGlob('pods').literal, true);
  assert.equal(compileGlob('po*').literal, false);
});

test('globs do not backtrack exponentially on hostile input', () => {
  const g = compileGlob('*a*a*a*a*a*a*a*b');
  const s = 'a'.repeat(5000);
  const t0 = performance.now();
  assert.equal(g.test(s), false);
  assert.ok(performance.now() - t0 < 500);
});
