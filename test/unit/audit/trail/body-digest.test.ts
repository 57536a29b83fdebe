import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BodyDigest, digestChunks } from '../../../../src/audit/trail/body-digest.ts';

/** d[k] = SHA-256(d[k-1] ‖ u64be(tUs) ‖ u32be(len) ‖ data), written out separately. */
function independent(chunks: { tUs: number; data: Buffer }[]): string {
  let d = Buffer.alloc(32);
  for (const c of chunks) {
    const t = Buffer.alloc(8);
    t.writeBigUInt64BE(BigInt(c.tUs));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(c.data.length);
    d = createHash('sha256').update(Buffer.concat([d, t, len, c.data])).digest();
  }
  return d.toString('hex');
}

test('nothing fed: the zero hash, no bytes, no chunks', () => {
  const d = new BodyDigest();
  assert.equal(d.hex(), '0'.repeat(64));
  assert.equal(d.bytes, 0);
  assert.equal(d.chunks, 0);
  assert.equal(digestChunks([]), '0'.repeat(64));
});

test('known answers (computed with Python hashlib outside this code base)', () => {
  const d = new BodyDigest();
  d.update(1500, Buffer.from('hello'));
  assert.equal(d.hex(), '928fef0dfd5caba324cf7fbe8f5e86566635d48e212181a7d5fc56ee8d46a125');
  d.update(2 ** 33 + 1, Buffer.alloc(0));
  assert.equal(d.hex(), 'fe95bd3caaf8a64676b6f3e48f0e7b0e07b5bc601126006571bd7b1536206be2');
  assert.equal(d.bytes, 5);
  assert.equal(d.chunks, 2);
});

test('running digest equals the formula; digestChunks equals feeding one by one', () => {
  const chunks = [
    { tUs: 0, data: Buffer.from('{"kind":"Pod"') },
    { tUs: 1_000_250, data: Buffer.alloc(16 * 1024, 7) },
    { tUs: 2 ** 40, data: Buffer.from('\u20ac\n', 'utf8') },
  ];
  const d = new BodyDigest();
  const seen: string[] = [];
  for (const [i, c] of chunks.entries()) {
    d.update(c.tUs, c.data);
    seen.push(d.hex());
    assert.equal(d.hex(), independent(chunks.slice(0, i + 1)), `after chunk ${i}`);
  }
  assert.equal(new Set(seen).size, 3, 'every chunk moves the digest');
  assert.equal(d.bytes, 13 + 16 * 1024 + 4);
  assert.equal(d.chunks, 3);
  assert.equal(digestChunks(chunks), d.hex());
});

test('splitting, merging, re-timing or reordering chunks changes the digest', () => {
  const base = digestChunks([
    { tUs: 10, data: Buffer.from('abc') },
    { tUs: 20, data: Buffer.from('def') },
  ]);
  const variants = [
    [{ tUs: 10, data: Buffer.from('abcdef') }],
    [
      { tUs: 10, data: Buffer.from('ab') },
      { tUs: 20, data: Buffer.from('cdef') },
    ],
    [
      { tUs: 10, data: Buffer.from('abc') },
      { tUs: 21, data: Buffer.from('def') },
    ],
    [
      { tUs: 20, data: Buffer.from('def') },
      { tUs: 10, data: Buffer.from('abc') },
    ],
    [
      { tUs: 10, data: Buffer.from('abc') },
      { tUs: 20, data: Buffer.from('deg') },
    ],
  ];
  for (const [i, v] of variants.entries()) assert.notEqual(digestChunks(v), base, `variant ${i}`);
});

test('refuses a time that is not a non-negative safe integer', () => {
  const d = new BodyDigest();
  for (const t of [-1, 1.5, NaN, 2 ** 53]) assert.throws(() => d.update(t, Buffer.from('x')), RangeError, String(t));
  assert.equal(d.chunks, 0, 'a refused chunk is not counted');
  assert.equal(d.hex(), '0'.repeat(64));
});
