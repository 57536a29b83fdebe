import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../../../src/audit/trail/canonical-json.ts';
import { chainHash, ZERO_HASH } from '../../../../src/audit/trail/chain-hash.ts';
import { checkpointHash, signCheckpoint, type CheckpointBody } from '../../../../src/audit/trail/checkpoint.ts';
import { verifyTrail, type TrailItem, type VerifyReport } from '../../../../src/audit/trail/verify-trail.ts';
import { buildTrail, checkpointEventText, checkpointSeqs, newSigner, parsedCheckpoint, rehash, trustedOf, type Row } from './trail-fixture.ts';

const signer = newSigner();
const trustedKeys = trustedOf(signer);
/** 40 request events, a checkpoint after every 10: checkpoint events at seqs 11, 22, 33; 34–43 unsigned. */
const trail = buildTrail({ events: 40, checkpointEvery: 10, signer });
const withFinal = buildTrail({ events: 40, checkpointEvery: 10, signer, finalCheckpoint: true });

function failure(r: VerifyReport): { seq: number; kind: string } | undefined {
  return r.failure && { seq: r.failure.seq, kind: r.failure.kind };
}

const edit = (rows: Row[], seq: number, change: (r: Row) => Partial<Row>): Row[] => rows.map((r) => (r.seq === seq ? { ...r, ...change(r) } : r));
/** Flips one character of a row's event text (a letter inside the path string). */
const flipByte = (text: string): string => text.replace('/pods/web-', '/pods/wex-');

test('an untouched trail verifies, with its counts and the unsigned tail', async () => {
  assert.deepEqual(checkpointSeqs(trail), [11, 22, 33]);
  const r = await verifyTrail(trail, { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.chain, 'gw-test');
  assert.equal(r.fromSeq, 1);
  assert.equal(r.toSeq, 43);
  assert.equal(r.events, 43);
  assert.equal(r.checkpoints, 3);
  assert.equal(r.unsignedTail, 10);
  assert.ok(r.notes.some((n) => n.includes('not yet signed: 10 event(s)')));
  assert.ok(r.notes.some((n) => n.includes('cannot be seen from the store alone')), 'says what it cannot prove');

  const f = await verifyTrail(withFinal, { trustedKeys });
  assert.equal(f.ok, true, f.failure?.message);
  assert.equal(f.unsignedTail, 0);
  assert.equal(f.checkpoints, 4);
});

test('rows may come from an async iterable (a database cursor)', async () => {
  async function* cursor(): AsyncGenerator<TrailItem> {
    for (const r of trail) yield r;
  }
  const r = await verifyTrail(cursor(), { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.events, 43);
  const bad = await verifyTrail((async function* () {
    for (const r of edit(trail, 5, (x) => ({ event: flipByte(x.event) }))) yield r;
  })(), { trustedKeys });
  assert.deepEqual(failure(bad), { seq: 5, kind: 'edited' });
});

test('one flipped byte of an event is "edited" at that seq, with both hashes in the message', async () => {
  for (const seq of [1, 7, 11, 40]) {
    const rows = edit(trail, seq, (r) => ({ event: seq === 11 ? r.event.replace('"v":1}', '"v":2}') : flipByte(r.event) }));
    const r = await verifyTrail(rows, { trustedKeys });
    assert.deepEqual(failure(r), { seq, kind: 'edited' }, `seq ${seq}`);
    const stored = trail[seq - 1]!.hash;
    const computed = chainHash('gw-test', seq, seq === 1 ? ZERO_HASH : Buffer.from(trail[seq - 2]!.hash, 'hex'), rows[seq - 1]!.event).toString('hex');
    assert.equal(r.failure!.message, `seq ${seq}: event edited (stored ${stored.slice(0, 8)}…, computed ${computed.slice(0, 8)}…)`);
    assert.equal(r.ok, false);
    assert.equal(r.events, seq - 1, 'counts stop at the failure');
  }
});

test('an edited stored hash is "edited" at that seq', async () => {
  const r = await verifyTrail(edit(trail, 15, (x) => ({ hash: x.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) })), { trustedKeys });
  assert.deepEqual(failure(r), { seq: 15, kind: 'edited' });
});

test('a deleted row is "missing" at its seq; several deleted rows name the stretch', async () => {
  const r = await verifyTrail(trail.filter((x) => x.seq !== 17), { trustedKeys });
  assert.deepEqual(failure(r), { seq: 17, kind: 'missing' });
  assert.match(r.failure!.message, /^seq 17: event missing \(deleted\?\): seq 16 is followed by seq 18$/);
  const several = await verifyTrail(trail.filter((x) => x.seq < 5 || x.seq > 8), { trustedKeys });
  assert.deepEqual(failure(several), { seq: 5, kind: 'missing' });
  assert.match(several.failure!.message, /events 5–8 missing/);
  const first = await verifyTrail(trail.slice(1), { trustedKeys });
  assert.deepEqual(failure(first), { seq: 2, kind: 'unanchored' }, 'without seq 1 nothing anchors seq 2');
});

test('a deleted checkpoint event is "missing" at its seq; re-hashing the rest breaks the next checkpoint', async () => {
  const dropped = trail.filter((x) => x.seq !== 22);
  assert.deepEqual(failure(await verifyTrail(dropped, { trustedKeys })), { seq: 22, kind: 'missing' });
  // without the key, the attacker can renumber and re-hash, but the next checkpoint (now at seq 32)
  // still says the old toSeq and toHash
  const r = await verifyTrail(rehash(dropped, 21), { trustedKeys });
  assert.deepEqual(failure(r), { seq: 32, kind: 'checkpoint-count' });
});

test('rows out of order are "reordered" at the right seq; swapped contents are "edited"', async () => {
  const swapped = [...trail];
  [swapped[8], swapped[9]] = [swapped[9]!, swapped[8]!]; // seqs 9 and 10 delivered as 10, 9
  assert.deepEqual(failure(await verifyTrail(swapped, { trustedKeys })), { seq: 9, kind: 'reordered' });
  const duplicate = [...trail.slice(0, 12), trail[11]!, ...trail.slice(12)];
  assert.deepEqual(failure(await verifyTrail(duplicate, { trustedKeys })), { seq: 12, kind: 'reordered' });
  const back = [...trail.slice(0, 20), trail[4]!];
  assert.deepEqual(failure(await verifyTrail(back, { trustedKeys })), { seq: 5, kind: 'reordered' });
  // the rows' contents swapped while their seqs stay (what an UPDATE of two rows does)
  const contents = trail.map((r) => ({ ...r }));
  const [a, b] = [contents[8]!, contents[9]!];
  [a.event, a.hash, b.event, b.hash] = [b.event, b.hash, a.event, a.hash];
  assert.deepEqual(failure(await verifyTrail(contents, { trustedKeys })), { seq: 9, kind: 'edited' });
});

test('rows of another chain are a "chain-mismatch"', async () => {
  const other = buildTrail({ chain: 'gw-other', events: 40, checkpointEvery: 10, signer });
  const mixed = [...trail.slice(0, 5), other[5]!, ...trail.slice(6)];
  assert.deepEqual(failure(await verifyTrail(mixed, { trustedKeys })), { seq: 6, kind: 'chain-mismatch' });
});

test('an edit re-hashed by someone without the key breaks at the next checkpoint ("checkpoint-hash")', async () => {
  const edited = rehash(edit(trail, 14, (r) => ({ event: flipByte(r.event) })), 13);
  const r = await verifyTrail(edited, { trustedKeys });
  assert.deepEqual(failure(r), { seq: 22, kind: 'checkpoint-hash' });
  assert.match(r.failure!.message, /events up to seq 21 were changed and re-hashed/);
  // ...and rewriting that checkpoint's toHash to match breaks its signature
  const cp = parsedCheckpoint(edited[21]!);
  const forgedBody = { ...cp.checkpoint, toHash: edited[20]!.hash };
  const forged = rehash(edit(edited, 22, () => ({ event: checkpointEventText(forgedBody, cp.signature) })), 21);
  assert.deepEqual(failure(await verifyTrail(forged, { trustedKeys })), { seq: 22, kind: 'checkpoint-signature' });
});

test('a forged checkpoint signature is "checkpoint-signature"; a checkpoint by an untrusted key is "checkpoint-unknown-key"', async () => {
  const cp = parsedCheckpoint(trail[10]!);
  const sig = Buffer.from(cp.signature, 'base64');
  sig[0] = sig[0]! ^ 0x80;
  const forged = rehash(edit(trail, 11, () => ({ event: checkpointEventText(cp.checkpoint, sig.toString('base64')) })), 10);
  assert.deepEqual(failure(await verifyTrail(forged, { trustedKeys })), { seq: 11, kind: 'checkpoint-signature' });
  // a whole trail signed by a key the verifier does not trust
  const mallory = newSigner();
  const theirs = buildTrail({ events: 40, checkpointEvery: 10, signer: mallory });
  const r = await verifyTrail(theirs, { trustedKeys });
  assert.deepEqual(failure(r), { seq: 11, kind: 'checkpoint-unknown-key' });
  assert.ok(r.failure!.message.includes(mallory.keyId));
  assert.equal((await verifyTrail(theirs, { trustedKeys: trustedOf(signer, mallory) })).ok, true, 'trusting both keys');
  // mallory names the trusted keyId but signs with her own key
  const impostor = buildTrail({ events: 40, checkpointEvery: 10, signer: { ...mallory, keyId: signer.keyId } });
  assert.deepEqual(failure(await verifyTrail(impostor, { trustedKeys })), { seq: 11, kind: 'checkpoint-signature' });
});

test('checkpoints a writer with the key got wrong: count, fromSeq, toSeq, prevCheckpoint, chain', async () => {
  const cases: [string, (b: CheckpointBody, i: number) => CheckpointBody, { seq: number; kind: string }][] = [
    ['count', (b, i) => (i === 1 ? { ...b, count: b.count + 1, fromSeq: b.fromSeq - 1 } : b), { seq: 22, kind: 'checkpoint-count' }],
    ['toSeq', (b, i) => (i === 0 ? { ...b, toSeq: 9, count: 9 } : b), { seq: 11, kind: 'checkpoint-count' }],
    ['prevCheckpoint missing', (b, i) => (i === 2 ? { ...b, prevCheckpoint: undefined } : b), { seq: 33, kind: 'checkpoint-chain' }],
    ['prevCheckpoint wrong', (b, i) => (i === 1 ? { ...b, prevCheckpoint: 'ee'.repeat(32) } : b), { seq: 22, kind: 'checkpoint-chain' }],
    ['prevCheckpoint on the first', (b, i) => (i === 0 ? { ...b, prevCheckpoint: 'ee'.repeat(32) } : b), { seq: 11, kind: 'checkpoint-chain' }],
    ['chain', (b, i) => (i === 0 ? { ...b, chain: 'gw-else' } : b), { seq: 11, kind: 'checkpoint-chain' }],
    ['toHash', (b, i) => (i === 1 ? { ...b, toHash: 'ff'.repeat(32) } : b), { seq: 22, kind: 'checkpoint-hash' }],
  ];
  for (const [name, tweak, expected] of cases) {
    const rows = buildTrail({ events: 40, checkpointEvery: 10, signer, tweak });
    assert.deepEqual(failure(await verifyTrail(rows, { trustedKeys })), expected, name);
  }
});

test('a range starting at a checkpoint event is anchored by its signed toHash', async () => {
  const range = trail.slice(21); // seq 22 (checkpoint) … 43
  const r = await verifyTrail(range, { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.fromSeq, 22);
  assert.equal(r.events, 22);
  assert.equal(r.checkpoints, 2);
  assert.equal(r.unsignedTail, 10);
  assert.ok(r.notes.some((n) => n.includes('started at the checkpoint at seq 22')));
  // the anchor is only as good as its signature
  const cp = parsedCheckpoint(range[0]!);
  const moved = { ...cp.checkpoint, toHash: '11'.repeat(32) };
  const bad = rehash(edit(trail, 22, () => ({ event: checkpointEventText(moved, cp.signature) })), 21).slice(21);
  assert.deepEqual(failure(await verifyTrail(bad, { trustedKeys })), { seq: 22, kind: 'checkpoint-signature' });
  // an edit inside the range is found
  assert.deepEqual(failure(await verifyTrail(edit(trail, 30, (x) => ({ event: flipByte(x.event) })).slice(21), { trustedKeys })), { seq: 30, kind: 'edited' });
  // an untrusted anchor
  assert.deepEqual(failure(await verifyTrail(range, { trustedKeys: trustedOf(newSigner()) })), { seq: 22, kind: 'checkpoint-unknown-key' });
});

test('a range starting elsewhere is "unanchored", unless the stored hash is accepted as the start', async () => {
  const range = trail.slice(14); // seq 15 …
  const r = await verifyTrail(range, { trustedKeys });
  assert.deepEqual(failure(r), { seq: 15, kind: 'unanchored' });
  const stored = await verifyTrail(range, { trustedKeys, anchor: 'stored' });
  assert.equal(stored.ok, true, stored.failure?.message);
  assert.equal(stored.fromSeq, 15);
  assert.equal(stored.checkpoints, 2);
  assert.ok(stored.notes.some((n) => n.startsWith('start not anchored: the stored hash of seq 15 is trusted')));
  // the next checkpoint still proves the stretch after the trusted start
  const edited = rehash(edit(trail, 18, (x) => ({ event: flipByte(x.event) })), 17).slice(14);
  assert.deepEqual(failure(await verifyTrail(edited, { trustedKeys, anchor: 'stored' })), { seq: 22, kind: 'checkpoint-hash' });
});

test('against published checkpoints: truncating the newest events is "against-missing"', async () => {
  const published = withFinal.filter((r) => r.type === 'trail.checkpoint').map((r) => parsedCheckpoint(r).checkpoint);
  assert.equal(published.length, 4);
  const all = await verifyTrail(withFinal, { trustedKeys, against: published });
  assert.equal(all.ok, true, all.failure?.message);
  assert.ok(!all.notes.some((n) => n.includes('cannot be seen from the store alone')));
  // the newest events and their checkpoint deleted: the store alone looks fine…
  const truncated = withFinal.slice(0, 30);
  assert.equal((await verifyTrail(truncated, { trustedKeys })).ok, true);
  // …but not against what was published
  const r = await verifyTrail(truncated, { trustedKeys, against: published });
  assert.deepEqual(failure(r), { seq: 31, kind: 'against-missing' });
  assert.match(r.failure!.message, /covers up to seq 32, but the trail ends at seq 30: the newest events were deleted/);
  // only the last checkpoint event deleted
  assert.deepEqual(failure(await verifyTrail(withFinal.slice(0, -1), { trustedKeys, against: published })), { seq: 44, kind: 'against-missing' });
  // everything deleted
  assert.deepEqual(failure(await verifyTrail([], { trustedKeys, against: published })), { seq: 1, kind: 'against-missing' });
  // published checkpoints of another chain are not this chain's business
  const foreign = published.map((c) => ({ ...c, chain: 'gw-other', toSeq: c.toSeq + 1000 }));
  const other = await verifyTrail(withFinal, { trustedKeys, against: foreign });
  assert.equal(other.ok, true);
  assert.ok(other.notes.some((n) => n.includes('4 published checkpoint(s) of other chains ignored')));
});

test('against published checkpoints: history rewritten and re-signed with the stolen key is "against-mismatch"', async () => {
  const published = withFinal.filter((r) => r.type === 'trail.checkpoint').map((r) => parsedCheckpoint(r).checkpoint);
  // root on the host rewrites seq 14 and re-signs every checkpoint from there with the host's key
  const rewritten: Row[] = [];
  let prev = ZERO_HASH;
  let lastCp: { seq: number; hash: string } | undefined;
  for (const r of withFinal) {
    let event = r.event;
    if (r.seq === 14) event = flipByte(event);
    if (r.type === 'trail.checkpoint') {
      const old = parsedCheckpoint(r).checkpoint;
      const body: CheckpointBody = { ...old, toHash: prev.toString('hex'), ...(lastCp ? { prevCheckpoint: lastCp.hash } : {}) };
      const { checkpoint, signature } = signCheckpoint(body, signer);
      event = checkpointEventText(checkpoint, signature);
      lastCp = { seq: r.seq, hash: checkpointHash(checkpoint, signature) };
    }
    const hash = chainHash(r.chain, r.seq, prev, event);
    rewritten.push({ ...r, event, hash: hash.toString('hex') });
    prev = hash;
  }
  assert.equal((await verifyTrail(rewritten, { trustedKeys })).ok, true, 'consistent by itself: the key signs anything');
  const r = await verifyTrail(rewritten, { trustedKeys, against: published });
  assert.deepEqual(failure(r), { seq: 22, kind: 'against-mismatch' });
  assert.match(r.failure!.message, /history up to seq 21 was rewritten/);
  // a range that starts after the rewrite only checks what it covers
  const later = await verifyTrail(rewritten.slice(32), { trustedKeys, against: published.slice(2) });
  assert.deepEqual(failure(later), { seq: 33, kind: 'against-mismatch' });
  const noted = await verifyTrail(withFinal.slice(32), { trustedKeys, against: published });
  assert.equal(noted.ok, true, noted.failure?.message);
  assert.ok(noted.notes.some((n) => n.includes('2 published checkpoint(s) precede the verified range')));
  // a published checkpoint where the store has an ordinary event
  const shifted = published.map((c, i) => (i === 0 ? { ...c, toSeq: 11 } : c));
  assert.deepEqual(failure(await verifyTrail(withFinal, { trustedKeys, against: shifted })), { seq: 12, kind: 'against-mismatch' });
});

test('malformed events are reported even when their hashes were computed over them', async () => {
  const chain = 'gw-test';
  const make = (events: [string, string][]): Row[] => {
    let prev = ZERO_HASH;
    return events.map(([type, event], i) => {
      const hash = chainHash(chain, i + 1, prev, event);
      prev = hash;
      return { chain, seq: i + 1, type, event, hash: hash.toString('hex'), time: 0 };
    });
  };
  const ok = canonicalJson({ type: 'trail.opened', v: 1 });
  const cases: [string, [string, string], RegExp][] = [
    ['not JSON', ['request.begin', 'request.begin v1'], /not a JSON object/],
    ['truncated', ['request.begin', '{"type":"request.begin","v":1'], /not a JSON object/],
    ['no type', ['request.begin', '{"principal":{"type":"person"},"v":1}'], /no type/],
    ['type in a string only', ['x', '{"path":"\\"type\\":\\"x\\"","v":1}'], /no type/],
    ['no v', ['request.begin', '{"type":"request.begin"}'], /no integer v/],
    ['type not a string', ['request.begin', '{"type":1,"v":1}'], /type is not a string/],
    ['type column differs', ['record', '{"type":"request.begin","v":1}'], /type column says "record", the event says "request.begin"/],
    ['checkpoint type column on another event', ['trail.checkpoint', ok], /type column says "trail.checkpoint"/],
    ['checkpoint without signature', ['trail.checkpoint', '{"checkpoint":{},"type":"trail.checkpoint","v":1}'], /checkpoint event has members checkpoint,type,v/],
  ];
  for (const [name, event, message] of cases) {
    const r = await verifyTrail(make([['trail.opened', ok], event]), { trustedKeys });
    assert.deepEqual(failure(r), { seq: 2, kind: 'malformed' }, name);
    assert.match(r.failure!.message, message, name);
  }
  // a well-formed checkpoint, but not in canonical form
  const good = parsedCheckpoint(trail[10]!);
  const spaced = JSON.stringify({ checkpoint: good.checkpoint, signature: good.signature, type: 'trail.checkpoint', v: 1 }, null, 1);
  const r = await verifyTrail(make([...trail.slice(0, 10).map((x): [string, string] => [x.type, x.event]), ['trail.checkpoint', spaced]]), { trustedKeys });
  assert.deepEqual(failure(r), { seq: 11, kind: 'malformed' });
  assert.match(r.failure!.message, /not in canonical form/);
});

test('stubs: trusted as stated, the next row continues from the stub hash, a checkpoint after them proves them', async () => {
  /** Replaces seqs from..to of `items` (rows of `trail`, or stubs already made) by one stub. */
  const hide = (items: TrailItem[], from: number, to: number): TrailItem[] => {
    const out: TrailItem[] = [];
    for (const x of items) {
      if ('stub' in x) out.push(x);
      else {
        if (x.seq === from) out.push({ stub: { chain: x.chain, fromSeq: from, toSeq: to, hash: trail[to - 1]!.hash } });
        if (x.seq < from || x.seq > to) out.push(x);
      }
    }
    return out;
  };
  const scoped = hide(hide(trail, 2, 9), 23, 25);
  const r = await verifyTrail(scoped, { trustedKeys });
  assert.equal(r.ok, true, r.failure?.message);
  assert.equal(r.events, 43 - 8 - 3);
  assert.equal(r.toSeq, 43);
  assert.ok(r.notes.some((n) => n.includes('11 event(s) in 2 stub(s) trusted as stated')));
  // a stub may hide checkpoint events: the next checkpoint still verifies
  const hidesCheckpoint = await verifyTrail(hide(trail, 5, 12), { trustedKeys });
  assert.equal(hidesCheckpoint.ok, true, hidesCheckpoint.failure?.message);
  // a stub at the very start
  const leading = await verifyTrail(hide(trail, 1, 4), { trustedKeys });
  assert.equal(leading.ok, true, leading.failure?.message);
  assert.ok(leading.notes.some((n) => n.includes('starts with a stub (seqs 1-4)')));
  // a lying stub: the row after it no longer links…
  const lying = hide(trail, 2, 9).map((x) => ('stub' in x ? { stub: { ...x.stub, hash: '00'.repeat(32) } } : x));
  assert.deepEqual(failure(await verifyTrail(lying, { trustedKeys })), { seq: 10, kind: 'edited' });
  // …and if the rows after it were re-hashed to fit, the next checkpoint catches it
  const refit: TrailItem[] = [];
  let prev: Buffer = Buffer.alloc(32, 0xaa);
  for (const x of hide(trail, 2, 9)) {
    if ('stub' in x) refit.push({ stub: { ...x.stub, hash: prev.toString('hex') } });
    else if (x.seq > 9) {
      prev = chainHash(x.chain, x.seq, prev, x.event);
      refit.push({ ...x, hash: prev.toString('hex') });
    } else refit.push(x);
  }
  assert.deepEqual(failure(await verifyTrail(refit, { trustedKeys })), { seq: 11, kind: 'checkpoint-hash' });
  // gaps around stubs are still gaps
  const gap = hide(trail, 2, 9).filter((x) => 'stub' in x || x.seq !== 10);
  assert.deepEqual(failure(await verifyTrail(gap, { trustedKeys })), { seq: 10, kind: 'missing' });
  const bad = await verifyTrail([trail[0]!, { stub: { chain: 'gw-test', fromSeq: 2, toSeq: 1, hash: '00'.repeat(32) } }], { trustedKeys });
  assert.deepEqual(failure(bad), { seq: 2, kind: 'malformed' });
});

test('no rows: nothing to verify, and it says so', async () => {
  const r = await verifyTrail([], { trustedKeys });
  assert.equal(r.ok, true);
  assert.equal(r.events, 0);
  assert.equal(r.chain, undefined);
  assert.ok(r.notes.includes('no events to verify'));
});
