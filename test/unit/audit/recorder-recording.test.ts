/**
 * The recorder's recording of bodies and terminal streams (issue #6): chunks go to the store with
 * the write that follows them, long streams commit `body.segment`s as they go, caps cut the
 * stored bytes but not the count, withheld (unmasked) bytes are never stored, and a segment that
 * could not be written fails the completion (so the stream is cut).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuditRecorder, DEFAULT_RECORDING } from '../../../src/audit/recorder.ts';
import { createMemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import type { AuditStore, StoredTrailEvent } from '../../../src/store/audit-store.ts';
import { digestChunks } from '../../../src/audit/trail/body-digest.ts';
import type { BodyCommitments } from '../../../src/audit/trail/trail-events.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';

const outcome = { status: 200, bytesIn: 0, bytesOut: 0, durationMs: 1 };

async function eventsOf(store: AuditStore, id: string): Promise<StoredTrailEvent[]> {
  const out: StoredTrailEvent[] = [];
  for await (const e of store.trail()) if (e.ref === id) out.push(e);
  return out;
}

const bodiesOf = (e: StoredTrailEvent): BodyCommitments => (JSON.parse(e.event) as { bodies: BodyCommitments }).bodies;

test('a one-piece answer: request and response chunks are stored with the record and its outcome commits to their digests', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry({ verb: 'create' });
  const h = recorder.begin(e);
  h.record('request', Buffer.from('{"kind":"ConfigMap"}'));
  h.record('response', Buffer.from('{"kind":"ConfigMap","metadata":{}}'));
  await h.complete(outcome);
  const chunks = await store.chunks(e.id);
  assert.deepEqual(
    chunks.map((c) => [c.stream, c.data.toString()]),
    [
      ['request', '{"kind":"ConfigMap"}'],
      ['response', '{"kind":"ConfigMap","metadata":{}}'],
    ],
  );
  const [, out] = await eventsOf(store, e.id);
  const bodies = bodiesOf(out!);
  assert.equal(bodies.response?.digest, digestChunks(chunks.filter((c) => c.stream === 'response')));
  assert.equal(bodies.request?.totalBytes, 20);
  assert.equal(bodies.response?.truncated, false);
});

test('a stream commits body.segment events as it goes (every 64 chunks here) and the rest with its outcome', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry({ verb: 'watch' });
  const h = recorder.begin(e);
  await h.commit();
  for (let i = 0; i < 70; i++) h.record('response', Buffer.from(`{"type":"ADDED","n":${i}}\n`));
  await h.complete(outcome);
  const evs = await eventsOf(store, e.id);
  assert.deepEqual(
    evs.map((x) => x.type),
    ['request.begin', 'body.segment', 'request.outcome'],
  );
  assert.equal(bodiesOf(evs[1]!).response?.chunks, 64);
  assert.equal(bodiesOf(evs[2]!).response?.chunks, 70);
  const chunks = await store.chunks(e.id);
  assert.equal(chunks.length, 70);
  assert.equal(bodiesOf(evs[2]!).response?.digest, digestChunks(chunks));
  assert.ok(chunks.every((c, i) => i === 0 || c.tUs >= chunks[i - 1]!.tUs), 'timestamps never go back');
});

test('past the cap, bytes are counted but not stored, and the body is marked truncated', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store, { recording: { ...DEFAULT_RECORDING, maxResponseBytes: 10 } });
  const e = auditEntry();
  const h = recorder.begin(e);
  h.record('response', Buffer.from('0123456'));
  h.record('response', Buffer.from('789abcdef'));
  h.record('response', Buffer.from('ghi'));
  await h.complete(outcome);
  const chunks = await store.chunks(e.id);
  assert.equal(Buffer.concat(chunks.map((c) => c.data)).toString(), '0123456789');
  const bodies = bodiesOf((await eventsOf(store, e.id))[1]!);
  assert.deepEqual({ ...bodies.response, digest: undefined }, { chunks: 2, recordedBytes: 10, totalBytes: 19, truncated: true, digest: undefined });
});

test('withheld bytes (masking lifted by policy) are counted, never stored', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry();
  const h = recorder.begin(e);
  h.record('response', Buffer.from('{"data":{"password":"aHVudGVyMg=="}}'), true);
  await h.complete(outcome);
  assert.deepEqual(await store.chunks(e.id), []);
  const bodies = bodiesOf((await eventsOf(store, e.id))[1]!);
  assert.equal(bodies.response?.withheld, true);
  assert.equal(bodies.response?.totalBytes, 36);
  assert.equal(bodies.response?.recordedBytes, 0);
});

test('recording off: records and outcomes only', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store, { recording: { ...DEFAULT_RECORDING, enabled: false } });
  const e = auditEntry();
  const h = recorder.begin(e);
  h.record('response', Buffer.from('hello'));
  await h.complete(outcome);
  assert.deepEqual(await store.chunks(e.id), []);
  assert.doesNotMatch((await eventsOf(store, e.id))[1]!.event, /bodies/);
});

test('a segment the store refused fails the completion: the stream must be cut', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry({ verb: 'watch' });
  const h = recorder.begin(e);
  await h.commit();
  store.failWith = 'disk full';
  for (let i = 0; i < 64; i++) h.record('response', Buffer.from('x'));
  await new Promise((r) => setImmediate(r));
  store.failWith = undefined;
  await assert.rejects(h.complete(outcome), (err) => err instanceof SluiceError && err.code === 'STORE_UNAVAILABLE');
});

test('a withheld stream in flight still commits its counts in a body.segment (a crash keeps them)', async () => {
  const store = createMemoryAuditStore();
  const recorder = createAuditRecorder(store);
  const e = auditEntry({ verb: 'watch' });
  const h = recorder.begin(e);
  await h.commit();
  h.record('response', Buffer.from('{"type":"ADDED","object":{"kind":"Secret"}}\n'), true);
  for (let i = 0; i < 200 && (await eventsOf(store, e.id)).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
  const [, segment] = await eventsOf(store, e.id);
  assert.equal(segment?.type, 'body.segment');
  assert.deepEqual({ ...bodiesOf(segment!).response, digest: undefined }, { chunks: 0, recordedBytes: 0, totalBytes: 44, truncated: false, withheld: true, digest: undefined });
  await h.complete(outcome);
});
