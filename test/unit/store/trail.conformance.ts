/**
 * The trail half of the AuditStore conformance suite (ADR 0002): every adapter appends the
 * events of its writes to one hash chain, in commit order, with no gaps; a refused write leaves
 * no event; recorded chunks come back in order. Stores may append events of their own (a
 * SQLite store opens its run with `trail.opened`), so each test looks only at what it wrote.
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditStore, StoredTrailEvent } from '../../../src/store/audit-store.ts';
import type { AuditCompletion } from '../../../src/audit/types.ts';
import { chainHash, ZERO_HASH } from '../../../src/audit/trail/chain-hash.ts';
import { digestChunks } from '../../../src/audit/trail/body-digest.ts';
import { auditEntry } from './audit-store.conformance.ts';

const done = (at = 0): AuditCompletion => ({ status: 200, bytesIn: 0, bytesOut: 10, durationMs: 3, completedAt: new Date(Date.parse('2026-01-10T12:00:01Z') + at) });

async function all(store: AuditStore): Promise<StoredTrailEvent[]> {
  const out: StoredTrailEvent[] = [];
  for await (const e of store.trail()) out.push(e);
  return out;
}

/** The hashes recompute from the stored text, seq by seq, from the chain's start. */
function assertChain(events: StoredTrailEvent[]): void {
  let prev = ZERO_HASH;
  events.forEach((e, i) => {
    assert.equal(e.seq, i + 1, 'seqs start at 1 and have no gaps');
    const h = chainHash(e.chain, e.seq, prev, e.event);
    assert.equal(e.hash, h.toString('hex'), `hash of seq ${e.seq}`);
    prev = h;
  });
}

export function trailConformance(name: string, open: () => Promise<AuditStore>): void {
  describe(`AuditStore trail conformance: ${name}`, () => {
    let store: AuditStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    test('a record appends request.begin, its completion request.outcome naming it; the chain recomputes', async () => {
      const before = (await all(store)).length;
      const e = auditEntry();
      await store.insert(e);
      await store.complete(e.id, done());
      const events = await all(store);
      const mine = events.slice(before);
      assert.deepEqual(
        mine.map((x) => [x.type, x.ref]),
        [
          ['request.begin', e.id],
          ['request.outcome', e.id],
        ],
      );
      const begin = JSON.parse(mine[0]!.event) as Record<string, unknown>;
      assert.equal(begin.id, e.id);
      assert.equal(begin.time, e.time.getTime());
      assert.equal(begin.path, e.path);
      assert.deepEqual(begin.principal, { ...e.principal });
      const outcome = JSON.parse(mine[1]!.event) as { outcome: { status: number; completedAt: number } };
      assert.equal(outcome.outcome.status, 200);
      assert.equal(outcome.outcome.completedAt, done().completedAt.getTime());
      assertChain(events);
    });

    test('a record written with its outcome appends both events; an approval transition is one `record` event', async () => {
      const before = (await all(store)).length;
      const a = auditEntry();
      await store.insert(a, done());
      const b = auditEntry({ code: 'approval.requested', approvalId: '0b7d5e39-5d1e-4c43-9a43-64f0d7e0b001', detail: { state: 'pending' } });
      await store.insert(b);
      const mine = (await all(store)).slice(before);
      assert.deepEqual(
        mine.map((x) => x.type),
        ['request.begin', 'request.outcome', 'record'],
      );
      assert.match(mine[2]!.event, /"detail":\{"state":"pending"\}/);
    });

    test('a refused write (duplicate id, completing an unknown or completed record) appends nothing', async () => {
      const e = auditEntry();
      await store.insert(e, done());
      const before = await all(store);
      await assert.rejects(store.insert(e));
      assert.equal(await store.complete(e.id, done(1)), false, 'completed already');
      assert.equal(await store.complete('0b7d5e39-5d1e-4c43-9a43-64f0d7e0b002', done()), false, 'unknown');
      assert.equal(await store.segment(e.id, { chunks: [] }), false, 'no segment for a completed record');
      const after = await all(store);
      assert.equal(after.length, before.length);
      const next = auditEntry();
      await store.insert(next);
      const last = (await all(store)).at(-1)!;
      assert.equal(last.seq, before.at(-1)!.seq + 1, 'the next event follows without a gap');
      assert.equal(last.ref, next.id);
    });

    test('concurrent writes get consecutive seqs in the order they were called', async () => {
      const before = (await all(store)).length;
      const entries = Array.from({ length: 40 }, (_, i) => auditEntry({ minute: i }));
      await Promise.all(entries.map((e, i) => (i % 2 ? store.insert(e, done()) : store.insert(e))));
      const events = await all(store);
      const begins = events.slice(before).filter((x) => x.type === 'request.begin');
      assert.deepEqual(
        begins.map((x) => x.ref),
        entries.map((e) => e.id),
      );
      assertChain(events);
    });

    test('recorded chunks are stored with the writes that carry them and come back in order; events commit to their digest', async () => {
      const e = auditEntry({ verb: 'watch' });
      const c = (n: number, stream: 'request' | 'response', text: string) => ({ n, stream, tUs: n * 1000, data: Buffer.from(text) });
      await store.insert(e, undefined, { chunks: [c(0, 'request', '{"kind":"Pod"}')] });
      const seg = [c(1, 'response', 'event-1\n'), c(2, 'response', 'event-2\n')];
      const segDigest = digestChunks(seg);
      assert.equal(await store.segment(e.id, { chunks: seg, bodies: { response: { chunks: 2, recordedBytes: 16, totalBytes: 16, truncated: false, digest: segDigest } } }), true);
      const last = [c(3, 'response', 'event-3\n')];
      const full = digestChunks([...seg, ...last]);
      await store.complete(e.id, done(), { chunks: last, bodies: { response: { chunks: 3, recordedBytes: 24, totalBytes: 24, truncated: false, digest: full } } });
      const chunks = await store.chunks(e.id);
      assert.deepEqual(
        chunks.map((k) => [k.stream, k.tUs, k.data.toString()]),
        [
          ['request', 0, '{"kind":"Pod"}'],
          ['response', 1000, 'event-1\n'],
          ['response', 2000, 'event-2\n'],
          ['response', 3000, 'event-3\n'],
        ],
      );
      assert.equal(digestChunks(chunks.filter((k) => k.stream === 'response')), full);
      const mine = (await all(store)).filter((x) => x.ref === e.id);
      assert.deepEqual(
        mine.map((x) => x.type),
        ['request.begin', 'body.segment', 'request.outcome'],
      );
      assert.ok(mine[1]!.event.includes(segDigest));
      assert.ok(mine[2]!.event.includes(full));
      assert.deepEqual(await store.chunks(auditEntry().id), [], 'no chunks for an unknown record');
    });

    test('a range of the trail reads only those seqs', async () => {
      for (let i = 0; i < 5; i++) await store.insert(auditEntry({ minute: i }), done());
      const events = await all(store);
      const from = events.at(-4)!.seq;
      const got: number[] = [];
      for await (const x of store.trail({ fromSeq: from, toSeq: from + 1 })) got.push(x.seq);
      assert.deepEqual(got, [from, from + 1]);
    });
  });
}
