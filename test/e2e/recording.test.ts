/**
 * Body recording end to end (issue #6, ADR 0002 Decision 4): real kubectl 1.27 and 1.33 and raw
 * HTTPS through the gateway world, then the audit store read back. What the trail keeps of a
 * response is exactly what the client received — masked — and its digest in the outcome event
 * is the digest of the stored chunks; request bodies are kept masked; an answer whose masking
 * policy lifted is only counted; a watch is kept event by event, committed by `body.segment`
 * events while it runs; and the whole chain verifies with the gateway's public key.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRecord, RecordedChunk } from '../../src/audit/types.ts';
import { digestChunks } from '../../src/audit/trail/body-digest.ts';
import { generateSigningKey, loadSigningKey, parseTrustedKeys, publicKeyPem } from '../../src/audit/trail/signing-key.ts';
import type { BodyCommitment, BodyCommitments } from '../../src/audit/trail/trail-events.ts';
import { verifyTrail } from '../../src/audit/trail/verify-trail.ts';
import type { AuditListFilter } from '../../src/store/audit-store.ts';
import { runKubectl, spawnKubectl } from '../../testing/harness/index.ts';
import { DEMO_CONNECTION, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { FAKE } from '../../testing/kube-emulator/store/seed.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The seeded dev Secrets' values (clear and base64), none of which may be in a recorded masked body. */
const SEEDED_SECRET_VALUES = [FAKE.dbPassword, FAKE.databaseUrl, FAKE.serviceAccountToken].flatMap((s) => [s, b64(s)]);

interface TrailEvent {
  seq: number;
  type: string;
  ref: string | null;
  text: string;
  json: { bodies?: BodyCommitments; outcome?: { status: number; error?: { code: string } } } & Record<string, unknown>;
}

let dir: string;
let world: GatewayWorld;
const kc = new Map<string, string>();
const tokens = new Map<string, string>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-recording-'));
  world = await startGatewayWorld({ dir });
  for (const u of ['alice', 'bob']) {
    kc.set(u, await world.kubeconfigFor(u));
    tokens.set(u, await world.tokenFor(u));
  }
});
after(async () => {
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const kubectl = (version: string, user: string, args: string[]) => runKubectl({ version, kubeconfig: kc.get(user)!, args });

/** A raw request through the gateway as `user`: the status, the request id and the body bytes exactly as received. */
function raw(user: string, path: string, opts: { method?: string; body?: string; accept?: string } = {}): Promise<{ status: number; id: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${tokens.get(user)!}`, accept: opts.accept ?? 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = https.request(`${world.gateway.clusterUrl(DEMO_CONNECTION)}${path}`, { method: opts.method ?? 'GET', ca: world.ca.cert, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: String(res.headers['x-sluice-request-id']), body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Every trail event naming `id`, in seq order, parsed. */
async function eventsOf(id: string): Promise<TrailEvent[]> {
  const out: TrailEvent[] = [];
  for await (const e of world.store.trail()) {
    if (e.ref === id) out.push({ seq: e.seq, type: e.type, ref: e.ref, text: e.event, json: JSON.parse(e.event) as TrailEvent['json'] });
  }
  return out;
}

async function outcomeOf(id: string): Promise<TrailEvent> {
  const outcomes = (await eventsOf(id)).filter((e) => e.type === 'request.outcome');
  assert.equal(outcomes.length, 1, `one request.outcome event for ${id}`);
  return outcomes[0]!;
}

async function streamChunks(id: string, stream: RecordedChunk['stream']): Promise<RecordedChunk[]> {
  return (await world.store.chunks(id)).filter((c) => c.stream === stream);
}

const joined = (chunks: RecordedChunk[]): Buffer => Buffer.concat(chunks.map((c) => c.data));

/** The single record matching `filter` (and `pick`) begun since `since`; its outcome is committed before kubectl got the last byte. */
async function recordOf(filter: AuditListFilter, since: Date, pick: (r: AuditRecord) => boolean = () => true): Promise<AuditRecord> {
  const page = await world.store.list({ ...filter, since, limit: 200 });
  const found = page.records.filter(pick);
  assert.equal(found.length, 1, `one record for ${JSON.stringify(filter)}: ${JSON.stringify(found.map((r) => r.path))}`);
  return found[0]!;
}

/** The commitment covers exactly the stored chunks: count, bytes, digest. */
function assertCommits(c: BodyCommitment | undefined, chunks: RecordedChunk[], what: string): void {
  assert.ok(c, `${what}: the event commits to the body`);
  assert.equal(c.chunks, chunks.length, `${what}: chunk count`);
  assert.equal(c.recordedBytes, joined(chunks).length, `${what}: recorded bytes`);
  assert.equal(c.digest, digestChunks(chunks), `${what}: digest of the stored chunks`);
}

function assertNoSeededSecret(text: string, what: string): void {
  for (const s of SEEDED_SECRET_VALUES) assert.ok(!text.includes(s), `${what}: ${s} is in the recording:\n${text.slice(0, 2000)}`);
}

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version}`, () => {
    test('bob gets a dev Secret -o json: the recorded response is the masked answer kubectl printed, and its digest is in the outcome', async () => {
      const since = new Date();
      const r = await kubectl(version, 'bob', ['get', 'secret', 'db-credentials', '-n', 'dev', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      const rec = await recordOf({ user: 'bob', verb: 'get', resource: 'secrets', namespace: 'dev' }, since, (x) => x.attributes?.name === 'db-credentials');
      const chunks = await streamChunks(rec.id, 'response');
      assert.ok(chunks.length >= 1, 'the response was recorded');
      const recorded = joined(chunks).toString('utf8');
      assert.deepEqual(JSON.parse(recorded), JSON.parse(r.stdout), 'kubectl printed the object the trail holds');
      assert.match(recorded, /"password":"REDACTED"/);
      assertNoSeededSecret(recorded, 'recorded response');
      const outcome = await outcomeOf(rec.id);
      assertCommits(outcome.json.bodies?.response, chunks, 'outcome');
      assert.equal(outcome.json.bodies?.response?.totalBytes, Buffer.byteLength(recorded));
      assert.equal(outcome.json.bodies?.response?.truncated, false);
      assert.equal(outcome.json.bodies?.response?.withheld, undefined);
      assert.equal(rec.outcome?.bytesOut, Buffer.byteLength(recorded), 'bytesOut counts the bytes recorded');
    });

    test('bob creates a Secret with --from-literal: the cluster has the value, the recorded request and response bodies do not', async () => {
      const name = `recorded-${version.replace('.', '-')}`;
      const clear = `rec-clear-value-${version}-7f3a9c`;
      const since = new Date();
      const r = await kubectl(version, 'bob', ['create', 'secret', 'generic', name, '-n', 'dev', `--from-literal=password=${clear}`]);
      assert.equal(r.code, 0, r.stderr);
      const stored = world.emulator.store.get(findResource('', 'v1', 'secrets')!, 'dev', name) as { data?: Record<string, string> } | undefined;
      assert.equal(stored?.data?.password, b64(clear), 'the request reached the cluster unmasked');

      const rec = await recordOf({ user: 'bob', verb: 'create', resource: 'secrets', namespace: 'dev' }, since);
      assert.equal(rec.outcome?.status, 201);
      const request = await streamChunks(rec.id, 'request');
      assert.ok(request.length >= 1, 'the request body was recorded');
      const body = joined(request).toString('utf8');
      const sent = JSON.parse(body) as { kind: string; metadata: { name: string }; data: Record<string, string> };
      assert.equal(sent.kind, 'Secret');
      assert.equal(sent.metadata.name, name);
      assert.deepEqual(Object.keys(sent.data), ['password'], 'the keys are kept');
      for (const [what, text] of [['request', body], ['response', joined(await streamChunks(rec.id, 'response')).toString('utf8')]] as const) {
        assert.ok(!text.includes(clear), `${what}: the clear value is recorded:\n${text}`);
        assert.ok(!text.includes(b64(clear)), `${what}: the base64 value is recorded:\n${text}`);
      }
      const outcome = await outcomeOf(rec.id);
      assertCommits(outcome.json.bodies?.request, request, 'outcome (request body)');
      assertCommits(outcome.json.bodies?.response, await streamChunks(rec.id, 'response'), 'outcome (response body)');
      const all = (await eventsOf(rec.id)).map((e) => e.text).join('\n');
      assert.ok(!all.includes(clear) && !all.includes(b64(clear)), 'no event of the record carries the value');
    });

    test('alice reads a dev Secret unmasked (sre/secrets-dev-unmasked): the answer is counted, never stored', async () => {
      const since = new Date();
      const r = await kubectl(version, 'alice', ['get', 'secret', 'db-credentials', '-n', 'dev', '-o', 'json']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.includes(b64(FAKE.dbPassword)), 'alice received the value in clear (masking lifted)');
      const rec = await recordOf({ user: 'alice', verb: 'get', resource: 'secrets', namespace: 'dev' }, since, (x) => x.attributes?.name === 'db-credentials');
      assert.deepEqual(rec.outcome?.masking?.lifted, ['sre/secrets-dev-unmasked']);
      assert.deepEqual(await streamChunks(rec.id, 'response'), [], 'no chunk of the answer is stored');
      const response = (await outcomeOf(rec.id)).json.bodies?.response;
      assert.equal(response?.withheld, true);
      assert.equal(response.chunks, 0);
      assert.equal(response.recordedBytes, 0);
      assert.ok(response.totalBytes > 0, 'the bytes sent are counted');
      assert.equal(response.totalBytes, rec.outcome?.bytesOut);
      const all = (await eventsOf(rec.id)).map((e) => e.text).join('\n');
      assertNoSeededSecret(all, 'events of the unmasked read');
    });
  });
}

test('raw GET of a Secret: the recorded chunks are byte for byte the body received', async () => {
  const r = await raw('bob', '/api/v1/namespaces/dev/secrets/default-token-fake1');
  assert.equal(r.status, 200, r.body.toString());
  const chunks = await streamChunks(r.id, 'response');
  assert.ok(r.body.length > 0);
  assert.ok(joined(chunks).equals(r.body), `recorded:\n${joined(chunks).toString()}\nreceived:\n${r.body.toString()}`);
  assert.ok(r.body.includes('REDACTED'));
  assertNoSeededSecret(r.body.toString('utf8'), 'received body');
  const outcome = await outcomeOf(r.id);
  assertCommits(outcome.json.bodies?.response, chunks, 'outcome');
  assert.equal(outcome.json.bodies?.response?.totalBytes, r.body.length);

  // The same as alice (lifted): she gets the value, the trail only its size.
  const a = await raw('alice', '/api/v1/namespaces/dev/secrets/default-token-fake1');
  assert.equal(a.status, 200);
  assert.ok(a.body.includes(b64(FAKE.serviceAccountToken)));
  assert.deepEqual(await streamChunks(a.id, 'response'), []);
  const lifted = (await outcomeOf(a.id)).json.bodies?.response;
  assert.equal(lifted?.withheld, true);
  assert.equal(lifted.totalBytes, a.body.length);
});

test('a raw list of 300 ConfigMaps (640 KB, sent in several chunks): recorded as sent, byte for byte', async () => {
  const cms = findResource('', 'v1', 'configmaps')!;
  for (let i = 0; i < 300; i++) world.emulator.store.create(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bulk-${i}`, namespace: 'dev' }, data: { blob: 'x'.repeat(2000) } });
  const r = await raw('bob', '/api/v1/namespaces/dev/configmaps');
  assert.equal(r.status, 200);
  const chunks = await streamChunks(r.id, 'response');
  assert.ok(chunks.length > 1, `a list of ${r.body.length} bytes is sent in several chunks (got ${chunks.length})`);
  assert.ok(joined(chunks).equals(r.body), 'the recorded list is what was received');
  for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.tUs >= chunks[i - 1]!.tUs, 'chunk times never go back');
  assertCommits((await outcomeOf(r.id)).json.bodies?.response, chunks, 'outcome');
});

test('kubectl get pods -w: each event is recorded as its own chunk, committed by body.segment while the watch runs and by the outcome', async () => {
  const since = new Date();
  const w = spawnKubectl({ version: '1.33', kubeconfig: kc.get('bob')!, args: ['get', 'pods', '-n', 'dev', '-w', '--output-watch-events'] });
  const pods = findResource('', 'v1', 'pods')!;
  const change = async (label: string, count: number): Promise<void> => {
    const pod = world.emulator.store.get(pods, 'dev', 'db-0')!;
    world.emulator.store.update(pods, { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, recorded: label } } });
    await w.waitFor(() => (w.stdout().match(/MODIFIED\s+db-0/g) ?? []).length >= count, 20_000, `the ${label} MODIFIED event`);
  };
  let id = '';
  try {
    await w.waitForOutput(/db-0/);
    // kubectl lists, then watches: the watch's record is durable before its head reaches kubectl.
    for (let i = 0; i < 200 && !id; i++) {
      const page = await world.store.list({ user: 'bob', verb: 'watch', resource: 'pods', namespace: 'dev', since });
      id = page.records[0]?.id ?? '';
      if (!id) await sleep(25);
    }
    assert.ok(id, 'the watch has a record');
    await change('first', 1);
    // A body.segment commits the first change while the watch is still open (at most 1 s after it).
    for (let i = 0; i < 800 && !(await eventsOf(id)).some((e) => e.type === 'body.segment'); i++) await sleep(25);
    assert.ok((await eventsOf(id)).some((e) => e.type === 'body.segment'), 'a body.segment was committed while the watch ran');
    assert.equal((await world.store.get(id))?.outcome, undefined, 'still in flight');
    await change('second', 2);
  } finally {
    await w.stop();
  }
  // kubectl went away: the outcome follows.
  for (let i = 0; i < 800 && (await world.store.get(id))?.outcome === undefined; i++) await sleep(25);
  assert.equal((await world.store.get(id))?.outcome?.error?.code, 'STREAM_ABORTED');

  const chunks = await streamChunks(id, 'response');
  for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.tUs >= chunks[i - 1]!.tUs, `chunk ${i} goes back in time`);
  const modified = chunks.filter((c) => c.data.toString().includes('"MODIFIED"'));
  assert.equal(modified.length, 2, 'both changes were recorded, each in a chunk of its own');
  for (const [i, label] of ['first', 'second'].entries()) {
    const lines = modified[i]!.data.toString().split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `one watch event per chunk: ${modified[i]!.data.toString().slice(0, 500)}`);
    const event = JSON.parse(lines[0]!) as { type: string };
    assert.equal(event.type, 'MODIFIED');
    assert.ok(lines[0]!.includes(`"recorded":"${label}"`), `the ${label} change: ${lines[0]!.slice(0, 500)}`);
  }
  assert.ok(modified[1]!.tUs > modified[0]!.tUs, 'the second change was made after the first was seen');
  assertNoSeededSecret(joined(chunks).toString(), 'recorded watch');

  // Every segment and the outcome commit to a prefix of the stored chunks; the outcome to all of them.
  const events = await eventsOf(id);
  assert.deepEqual([...new Set(events.map((e) => e.type))], ['request.begin', 'body.segment', 'request.outcome']);
  let previous = 0;
  for (const e of events.filter((x) => x.type !== 'request.begin')) {
    const c = e.json.bodies?.response;
    assert.ok(c, `${e.type} at seq ${e.seq} commits to the response`);
    assert.ok(c.chunks >= previous, 'commitments only grow');
    previous = c.chunks;
    assertCommits(c, chunks.slice(0, c.chunks), `${e.type} at seq ${e.seq}`);
  }
  assert.equal((await outcomeOf(id)).json.bodies?.response?.chunks, chunks.length, 'the outcome commits every chunk');
});

test('the trail verifies with the gateway public key, and every recorded body matches its commitment', async () => {
  const { signer } = loadSigningKey(join(dir, 'trail-signing.pem'));
  const trustedKeys = parseTrustedKeys(publicKeyPem(signer));
  const report = await verifyTrail(world.store.trail(), { trustedKeys });
  assert.equal(report.ok, true, JSON.stringify(report.failure));
  assert.ok(report.checkpoints >= 1, 'the start-up checkpoint is signed');
  assert.ok(report.events > 20);

  // A wrong key fails: the verification above is not vacuous.
  const other = parseTrustedKeys(publicKeyPem(generateSigningKey(join(dir, 'other-signing.pem'))));
  const wrong = await verifyTrail(world.store.trail(), { trustedKeys: other });
  assert.equal(wrong.ok, false);
  assert.equal(wrong.failure?.kind, 'checkpoint-unknown-key');

  let bodies = 0;
  for await (const e of world.store.trail()) {
    if (e.type !== 'request.outcome') continue;
    const { id, bodies: commitments } = JSON.parse(e.event) as { id: string; bodies?: BodyCommitments };
    if (!commitments) continue;
    const stored = await world.store.chunks(id);
    for (const [stream, c] of Object.entries(commitments)) {
      const chunks = stored.filter((x) => x.stream === stream);
      assertCommits(c, chunks, `${stream} of ${id}`);
      bodies++;
    }
  }
  assert.ok(bodies >= 10, `bodies checked: ${bodies}`);
});
