/**
 * When the gateway releases an answer, measured against the audit trail (issue #3 item 7, the
 * "Principles" of SECURITY.md): no byte of a response before the request's record is durable,
 * and no complete response before its outcome is. The audit store's writes are held at a gate
 * here, so the test can look at what the client has received while a write is pending.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditBegin, AuditCompletion } from '../../src/audit/types.ts';
import type { AuditStore } from '../../src/store/audit-store.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { DEMO_CONNECTION, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';

type Write = 'insert' | 'insert+outcome' | 'complete';

/** Holds the writes of the kinds it is closed for until `open()`; lists what was asked. */
class Gate {
  private waiters: { what: Write; go: () => void }[] = [];
  private held = new Set<Write>();
  readonly writes: Write[] = [];
  close(kinds: Write[] = ['insert', 'insert+outcome', 'complete']): void {
    this.held = new Set(kinds);
  }
  open(kinds?: Write[]): void {
    this.held = kinds ? new Set([...this.held].filter((k) => !kinds.includes(k))) : new Set();
    for (const w of this.waiters.filter((x) => !this.held.has(x.what))) w.go();
    this.waiters = this.waiters.filter((x) => this.held.has(x.what));
  }
  pass(what: Write): Promise<void> {
    this.writes.push(what);
    return this.held.has(what) ? new Promise((go) => this.waiters.push({ what, go })) : Promise.resolve();
  }
}

const gate = new Gate();
let dir: string;
let world: GatewayWorld;
let token: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-release-order-'));
  world = await startGatewayWorld({
    dir,
    wrapStore: (store): AuditStore => ({
      ...store,
      insert: async (e: AuditBegin, c?: AuditCompletion): Promise<void> => {
        await gate.pass(c ? 'insert+outcome' : 'insert');
        return store.insert(e, c);
      },
      complete: async (id: string, c: AuditCompletion) => {
        await gate.pass('complete');
        return store.complete(id, c);
      },
    }),
  });
  token = await world.tokenFor('bob');
});
after(async () => {
  gate.open();
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(path: string): { response: Promise<IncomingMessage>; settled: () => boolean; req: ReturnType<typeof https.request> } {
  let done = false;
  const req = https.request(`${world.gateway.clusterUrl(DEMO_CONNECTION)}${path}`, {
    ca: world.ca.cert,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      done = true;
      resolve(res);
    });
    req.on('error', reject);
  });
  req.end();
  return { response, settled: () => done, req };
}

async function body(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of res) s += String(c);
  return s;
}

/** Wait until the emulator has answered a request for `path` (the gateway has the whole answer in hand). */
async function upstreamAnswered(path: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (world.emulator.requests.some((r) => r.url.startsWith(path))) return;
    await sleep(10);
  }
  throw new Error(`the emulator never saw ${path}`);
}

test('a GET is answered only once its record is durable, and completely only once its outcome is', async () => {
  const path = '/api/v1/namespaces/dev/pods/db-0';
  gate.writes.length = 0;
  gate.close();
  const { response, settled } = get(path);
  await upstreamAnswered(path);
  await sleep(100); // give a wrong implementation the time to release something
  assert.equal(settled(), false, 'no byte of the answer before the record is durable');
  assert.deepEqual(gate.writes, ['insert'], 'the record is written while the request travels');

  gate.open(['insert']);
  for (let i = 0; i < 300 && gate.writes.length < 2; i++) await sleep(10);
  await sleep(100);
  assert.deepEqual(gate.writes, ['insert', 'complete']);
  assert.equal(settled(), false, 'an answer in one piece is held whole until its outcome is written');

  gate.open();
  const res = await response;
  assert.equal(res.statusCode, 200);
  const text = await body(res);
  assert.equal((JSON.parse(text) as { metadata: { name: string } }).metadata.name, 'db-0');
  const rec = await world.store.get(String(res.headers['x-sluice-request-id']));
  assert.equal(rec?.outcome?.status, 200);
  assert.equal(rec?.outcome?.bytesOut, Buffer.byteLength(text));
});

test('a watch gets its head and events once the record is durable, and is completed when it ends', async () => {
  const path = '/api/v1/namespaces/dev/pods?watch=1&fieldSelector=metadata.name%3Ddb-0';
  gate.writes.length = 0;
  gate.close();
  const { response, settled, req } = get(path);
  await upstreamAnswered('/api/v1/namespaces/dev/pods?watch=1');
  await sleep(100);
  assert.equal(settled(), false, 'no head of the stream before the record is durable');
  assert.deepEqual(gate.writes, ['insert']);
  gate.open();
  const res = await response;
  assert.equal(res.statusCode, 200);

  // Events flow while the record has no outcome yet: the stream is not held back.
  let events = '';
  const seen = (pattern: RegExp): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => void (pattern.test(events) && (res.off('data', check), resolve()));
      res.on('data', check);
      check();
    });
  res.on('data', (c: Buffer) => (events += String(c)));
  await seen(/"type":"ADDED"/);
  const pods = findResource('', 'v1', 'pods')!;
  const pod = world.emulator.store.get(pods, 'dev', 'db-0')!;
  world.emulator.store.update(pods, { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, touched: 'yes' } } });
  await seen(/"type":"MODIFIED".*"touched":"yes"/);
  const id = String(res.headers['x-sluice-request-id']);
  assert.equal((await world.store.get(id))?.outcome, undefined, 'in flight: no outcome yet');

  req.destroy();
  for (let i = 0; i < 300 && !(await world.store.get(id))?.outcome; i++) await sleep(10);
  const outcome = (await world.store.get(id))?.outcome;
  assert.equal(outcome?.status, 200);
  assert.equal(outcome?.error?.code, 'STREAM_ABORTED', 'the client ended the stream');
  assert.ok(outcome!.bytesOut > 0);
});

test('a write is forwarded only once its record is durable', async () => {
  const path = '/api/v1/namespaces/dev/configmaps';
  gate.writes.length = 0;
  gate.close();
  const before = world.emulator.requests.length;
  const req = https.request(`${world.gateway.clusterUrl(DEMO_CONNECTION)}${path}`, {
    method: 'POST',
    ca: world.ca.cert,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  req.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gated', namespace: 'dev' }, data: { a: 'b' } }));
  for (let i = 0; i < 300 && gate.writes.length === 0; i++) await sleep(10);
  await sleep(100);
  assert.deepEqual(gate.writes, ['insert']);
  assert.equal(world.emulator.requests.slice(before).filter((r) => r.method === 'POST').length, 0, 'nothing reached the cluster yet');
  gate.open();
  const res = await response;
  assert.equal(res.statusCode, 201, await body(res));
  assert.deepEqual(gate.writes, ['insert', 'complete']);
});

test('a refused request is recorded with its outcome in one write', async () => {
  gate.writes.length = 0;
  gate.open();
  const { response } = get('/api/v1/namespaces/kube-system/secrets');
  const res = await response;
  assert.equal(res.statusCode, 403);
  const id = String(res.headers['x-sluice-request-id']);
  await body(res);
  for (let i = 0; i < 300 && !(await world.store.get(id))?.outcome; i++) await sleep(10);
  assert.deepEqual(gate.writes, ['insert+outcome']);
  const rec = await world.store.get(id);
  assert.equal(rec?.decision?.effect, 'deny');
  assert.equal(rec?.outcome?.status, 403);
});
