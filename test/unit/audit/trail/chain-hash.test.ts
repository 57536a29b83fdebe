import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chainHash, ZERO_HASH } from '../../../../src/audit/trail/chain-hash.ts';

/** The ADR's formula written out separately: Buffer.concat + createHash, BigInt for the u64. */
function independent(chain: string, seq: number, prev: Buffer, event: string): string {
  const u64 = Buffer.alloc(8);
  u64.writeBigUInt64BE(BigInt(seq));
  const input = Buffer.concat([Buffer.from('sluice.trail.v1', 'ascii'), Buffer.from([0]), Buffer.from(chain, 'utf8'), Buffer.from([0]), u64, prev, Buffer.from(event, 'utf8')]);
  return createHash('sha256').update(input).digest('hex');
}

const PREV = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

test('ZERO_HASH is 32 zero bytes', () => {
  assert.equal(ZERO_HASH.length, 32);
  assert.ok(ZERO_HASH.every((b) => b === 0));
});

test('known answers (fixed vectors, computed with Python hashlib outside this code base)', () => {
  assert.equal(chainHash('c1', 1, ZERO_HASH, '{"type":"x","v":1}').toString('hex'), '726c17febb2a0efdaebb4f7ded22872701a1257a4a381752eaae174d4afda237');
  assert.equal(
    chainHash('gw-\u00e9', 2 ** 40 + 7, PREV, '{"path":"/caf\u00e9/\ud83d\ude00","type":"request.begin","v":1}').toString('hex'),
    'a12cb6b43f65045fdcad70479b9f1710e986105ccda7aae424a15b1c7c0f8aaf',
  );
});

test('equals the separately written formula, for short, long, non-ASCII and big-seq inputs', () => {
  const cases: [string, number, Buffer, string][] = [
    ['c', 0, ZERO_HASH, ''],
    ['c', 1, ZERO_HASH, '{"type":"trail.opened","v":1}'],
    ['chain-é', 4294967295, PREV, '"\u00e9\u20ac\ud83d\ude00"'],
    ['chain', 4294967296, PREV, 'x'],
    ['chain', Number.MAX_SAFE_INTEGER, PREV, 'y'],
    ['c'.repeat(300), 12345, PREV, '{"big":"' + 'z'.repeat(500_000) + '"}'], // beyond the reused buffer
    ['c', 7, PREV, '\u20ac'.repeat(2000)],
  ];
  for (const [chain, seq, prev, event] of cases) assert.equal(chainHash(chain, seq, prev, event).toString('hex'), independent(chain, seq, prev, event), `${chain.slice(0, 10)} ${seq}`);
  // after a large event, small ones still hash right (the scratch buffer is reused)
  assert.equal(chainHash('c', 2, PREV, 'after').toString('hex'), independent('c', 2, PREV, 'after'));
});

test('changing any input changes the hash', () => {
  const base = chainHash('gw1', 42, PREV, '{"id":"a","type":"request.begin","v":1}').toString('hex');
  const flipped = Buffer.from(PREV);
  flipped[31] = flipped[31]! ^ 1;
  const variants = [
    chainHash('gw2', 42, PREV, '{"id":"a","type":"request.begin","v":1}'),
    chainHash('gw1', 43, PREV, '{"id":"a","type":"request.begin","v":1}'),
    chainHash('gw1', 42 + 2 ** 32, PREV, '{"id":"a","type":"request.begin","v":1}'),
    chainHash('gw1', 42, flipped, '{"id":"a","type":"request.begin","v":1}'),
    chainHash('gw1', 42, ZERO_HASH, '{"id":"a","type":"request.begin","v":1}'),
    chainHash('gw1', 42, PREV, '{"id":"b","type":"request.begin","v":1}'),
    chainHash('gw1', 42, PREV, '{"id":"a","type":"request.begin","v":1} '),
  ].map((h) => h.toString('hex'));
  for (const [i, v] of variants.entries()) assert.notEqual(v, base, `variant ${i}`);
  assert.equal(new Set(variants).size, variants.length);
  assert.equal(chainHash('gw1', 42, PREV, '{"id":"a","type":"request.begin","v":1}').toString('hex'), base, 'deterministic');
});

test('a returned hash is not overwritten by the next call', () => {
  const a = chainHash('c', 1, ZERO_HASH, 'one');
  const copy = Buffer.from(a);
  chainHash('c', 2, a, 'two');
  assert.deepEqual(a, copy);
});

test('refuses inputs that have no unambiguous encoding', () => {
  assert.throws(() => chainHash('c', -1, ZERO_HASH, 'x'), RangeError);
  assert.throws(() => chainHash('c', 1.5, ZERO_HASH, 'x'), RangeError);
  assert.throws(() => chainHash('c', 2 ** 53, ZERO_HASH, 'x'), RangeError);
  assert.throws(() => chainHash('c', NaN, ZERO_HASH, 'x'), RangeError);
  assert.throws(() => chainHash('c', 1, Buffer.alloc(31), 'x'), RangeError);
  assert.throws(() => chainHash('a\0b', 1, ZERO_HASH, 'x'), TypeError);
});
