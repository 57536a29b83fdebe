/**
 * Crash safety of the trail (ADR 0002, Decision 7): the gateway — `sluice server -c <config>`
 * in a process of its own, audit store in SQLite (synchronous full), identity from the real
 * identity provider — is killed with SIGKILL while HTTPS clients load it with GETs of a pod and
 * a few watches. "Acknowledged" means the client received the last byte, and that byte leaves
 * only after the outcome and every chunk of the body are committed; so every response a client
 * received in full has its begin, its outcome and its body in the store, and the chain still
 * verifies. The next start of the gateway on the same file says the last run was unclean and
 * closes the requests that were in flight with `request.abandoned`.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { digestChunks } from '../../src/audit/trail/body-digest.ts';
import { loadSigningKey, parseTrustedKeys, publicKeyPem } from '../../src/audit/trail/signing-key.ts';
import type { BodyCommitments } from '../../src/audit/trail/trail-events.ts';
import { verifyTrail } from '../../src/audit/trail/verify-trail.ts';
import type { AuditStore, StoredTrailEvent } from '../../src/store/audit-store.ts';
import { openSqliteAuditStore } from '../../src/store/sqlite/open-sqlite-audit-store.ts';
import { createDevCa } from '../../src/tls/dev-ca.ts';
import { DEMO_POLICY_DIR, GATEWAY_SERVICE_ACCOUNT } from '../../testing/harness/gateway-world.ts';
import { idpTokenFor } from '../../testing/harness/idp-token.ts';
import { startEmulator, type Emulator } from '../../testing/kube-emulator/index.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { startIdentityProvider, type IdentityProvider } from '../../testing/oidc/provider.ts';
import Database from 'better-sqlite3';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const HOST = '127.0.0.1';
const GET_PATH = '/api/v1/namespaces/dev/pods/db-0';
const WATCH_PATH = '/api/v1/namespaces/dev/pods?watch=1';
const CLIENTS = 24;
const WATCHES = 4;
/** The load runs until this many responses were received in full (and at least LOAD_MS). */
const MIN_ACKNOWLEDGED = 400;
const LOAD_MS = 1500;

let dir: string;
let dbFile: string;
let configFile: string;
let caCert: string;
let token: string;
let idp: IdentityProvider;
let emulator: Emulator;
const children = new Set<ChildProcess>();

interface Gateway {
  proc: ChildProcess;
  /** https://…/clusters/demo */
  base: string;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-recording-crash-'));
  dbFile = join(dir, 'audit', 'sluice.db');
  const ca = await createDevCa({ commonName: 'Sluice crash test CA' });
  caCert = ca.cert;
  const caFile = join(dir, 'ca.crt');
  await writeFile(caFile, ca.cert);
  const names = { dnsNames: ['localhost'], ips: [HOST] };

  idp = await startIdentityProvider({ ca, host: HOST });
  const saToken = randomBytes(32).toString('base64url');
  const tokenFile = join(dir, 'gateway-sa.token');
  await writeFile(tokenFile, saToken, { mode: 0o600 });
  emulator = await startEmulator({
    seed: 'demo',
    host: HOST,
    port: 0,
    tls: { ...(await ca.issue({ commonName: 'sluice-kubernetes', ...names })), ca: ca.cert },
    tokens: { [saToken]: GATEWAY_SERVICE_ACCOUNT },
    impersonators: [GATEWAY_SERVICE_ACCOUNT.username],
    record: false,
  });

  const tls = await ca.issue({ commonName: 'sluice-gateway', ...names });
  const certFile = join(dir, 'gateway.crt');
  const keyFile = join(dir, 'gateway.key');
  await writeFile(certFile, tls.cert);
  await writeFile(keyFile, tls.key, { mode: 0o600 });
  configFile = join(dir, 'sluice.yaml');
  await writeFile(
    configFile,
    stringify({
      log: { level: 'warn' },
      server: { host: HOST, port: 0, tls: { mode: 'files', certFile, keyFile } },
      identity: { issuers: [{ issuer: idp.issuer, audiences: [idp.audience], caFile, usernameClaim: 'sub', groupsPrefix: '', allowUnprefixedGroups: true }] },
      connections: [{ name: 'demo', server: emulator.url, caFile, tokenFile }],
      policy: { paths: [DEMO_POLICY_DIR] },
      store: { sqlite: { path: dbFile, synchronous: 'full' } },
      // Checkpoints during the load too, so verification checks signatures mid-run.
      trail: { signingKeyFile: join(dir, 'trail-signing.pem'), checkpointEvents: 300, checkpointSeconds: 1 },
    }),
  );
  token = await idpTokenFor(idp, 'bob');
});

after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    }
  }
  await emulator?.close().catch(() => undefined);
  await idp?.close().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `sluice server -c <config>` (bin/sluice: the sources through tsx; it execs node, so the pid is the gateway's); resolves once it printed `ready`. */
async function startGateway(run: number): Promise<Gateway> {
  const proc = spawn(join(root, 'bin/sluice'), ['server', '-c', configFile], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  children.add(proc);
  proc.stderr!.pipe(createWriteStream(join(dir, `gateway-${run}.log`)));
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const base = await new Promise<string>((resolveP, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sluice server did not start: ${out}\n${err}`)), 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /connection demo: (https:\/\/\S+)[\s\S]*^ready$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveP(m[1]!);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      setTimeout(() => reject(new Error(`sluice server exited (${code ?? signal}) before it was ready: ${out}\n${err}`)), 50);
    });
  });
  return { proc, base };
}

async function kill(proc: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode };
  const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  proc.kill(signal);
  const [code, sig] = await exited;
  return { code, signal: sig };
}

interface Received {
  id: string;
  status: number;
  body: Buffer;
}

/** The load: GET workers and watches; what each client received in full, and the watches' ids. */
class Load {
  readonly acknowledged: Received[] = [];
  readonly watchIds: string[] = [];
  readonly errors: Error[] = [];
  killed = false;
  #stop = false;
  readonly #agent: https.Agent;
  readonly #running: Promise<void>[] = [];
  readonly #requests = new Set<ReturnType<typeof https.request>>();

  constructor(readonly base: string) {
    this.#agent = new https.Agent({ keepAlive: true, maxSockets: CLIENTS + WATCHES, ca: caCert });
  }

  start(): void {
    for (let i = 0; i < CLIENTS; i++) this.#running.push(this.#worker());
    for (let i = 0; i < WATCHES; i++) this.#running.push(this.#watch());
  }

  #request(path: string, onHead: (res: IncomingMessage) => void): Promise<Received> {
    return new Promise((resolveP, reject) => {
      const req = https.request(`${this.base}${path}`, { agent: this.#agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
        onHead(res);
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          // Only a message that arrived whole (Content-Length reached, or the chunked terminator) is acknowledged.
          if (res.complete) resolveP({ id: String(res.headers['x-sluice-request-id']), status: res.statusCode ?? 0, body: Buffer.concat(parts) });
          else reject(new Error(`${path}: the response ended incomplete`));
        });
        res.on('error', reject);
        res.on('aborted', () => reject(new Error(`${path}: aborted`)));
      });
      this.#requests.add(req);
      req.on('close', () => this.#requests.delete(req));
      req.on('error', reject);
      req.end();
    });
  }

  async #worker(): Promise<void> {
    while (!this.#stop) {
      try {
        this.acknowledged.push(await this.#request(GET_PATH, () => undefined));
      } catch (e) {
        if (!this.killed) this.errors.push(e as Error);
        return;
      }
    }
  }

  async #watch(): Promise<void> {
    try {
      await this.#request(WATCH_PATH, (res) => this.watchIds.push(String(res.headers['x-sluice-request-id'])));
      if (!this.killed) this.errors.push(new Error('a watch ended before the kill'));
    } catch (e) {
      if (!this.killed) this.errors.push(e as Error);
    }
  }

  /** Stop issuing requests, end what is still open, and wait for every client. */
  async end(): Promise<void> {
    this.#stop = true;
    for (const r of this.#requests) r.destroy();
    this.#agent.destroy();
    await Promise.all(this.#running);
  }
}

async function trailRows(store: AuditStore, fromSeq = 1): Promise<StoredTrailEvent[]> {
  const rows: StoredTrailEvent[] = [];
  for await (const r of store.trail({ fromSeq })) rows.push(r);
  return rows;
}

const parse = (r: StoredTrailEvent): { bodies?: BodyCommitments; outcome?: { status: number }; [k: string]: unknown } =>
  JSON.parse(r.event) as { bodies?: BodyCommitments; outcome?: { status: number } };

function trustedKeys(): ReturnType<typeof parseTrustedKeys> {
  return parseTrustedKeys(publicKeyPem(loadSigningKey(join(dir, 'trail-signing.pem')).signer));
}

async function withStore<T>(fn: (store: AuditStore) => Promise<T>): Promise<T> {
  const store = await openSqliteAuditStore({ path: dbFile, readonly: true });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

test('SIGKILL under load loses no acknowledged request; the next start marks the run unclean and abandons what was in flight', async (t: TestContext) => {
  // ---- run 1: load, then SIGKILL
  const first = await startGateway(1);
  const load = new Load(first.base);
  load.start();
  const pods = findResource('', 'v1', 'pods')!;
  const started = Date.now();
  // The kill waits for a committed body.segment of the watches too (read from the file while the
  // gateway runs), so what the segments committed is checked after the kill on every machine.
  const segmentCommitted = (): boolean => {
    try {
      const db = new Database(dbFile, { readonly: true });
      try {
        return db.prepare("select 1 from trail where type = 'body.segment' limit 1").get() !== undefined;
      } finally {
        db.close();
      }
    } catch {
      return false;
    }
  };
  let segmentSeen = false;
  for (let i = 0; load.acknowledged.length < MIN_ACKNOWLEDGED || Date.now() - started < LOAD_MS || load.watchIds.length < WATCHES || !segmentSeen; i++) {
    if (i % 10 === 9) segmentSeen ||= segmentCommitted();
    assert.deepEqual(load.errors.map((e) => e.message), [], 'no request failed before the kill');
    // Bounded by rounds (each sleeps 50 ms), not by a measured duration.
    assert.ok(i < 600, `the load did not reach ${MIN_ACKNOWLEDGED} acknowledged responses, ${WATCHES} watches and a committed segment (got ${load.acknowledged.length}, ${load.watchIds.length}, ${segmentSeen})`);
    // Changes for the watches to stream (and body.segment events to commit).
    const pod = emulator.store.get(pods, 'dev', 'web-load');
    if (pod) emulator.store.update(pods, { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, tick: String(i) } } });
    else emulator.store.create(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-load', namespace: 'dev', labels: { tick: '0' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    await sleep(50);
  }
  load.killed = true;
  const loadMs = Date.now() - started;
  const exit = await kill(first.proc, 'SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  await load.end();
  const acked = load.acknowledged;
  t.diagnostic(`acknowledged responses at the kill: ${acked.length} in ${loadMs} ms of load; watches open: ${load.watchIds.length}`);
  assert.ok(acked.length >= MIN_ACKNOWLEDGED, `at least ${MIN_ACKNOWLEDGED} acknowledged responses (got ${acked.length})`);
  assert.equal(new Set(acked.map((a) => a.id)).size, acked.length, 'every response has its own request id');

  // ---- the store as the kill left it
  const keys = trustedKeys();
  const { openBegins, head } = await withStore(async (store) => {
    const rows = await trailRows(store);
    const byRef = new Map<string, StoredTrailEvent[]>();
    for (const r of rows) if (r.ref) byRef.set(r.ref, [...(byRef.get(r.ref) ?? []), r]);

    for (const a of acked) {
      assert.equal(a.status, 200, a.body.toString());
      const events = byRef.get(a.id) ?? [];
      const types = events.map((e) => e.type);
      assert.equal(types.filter((x) => x === 'request.begin').length, 1, `${a.id}: one request.begin (${types.join(', ')})`);
      const outcomes = events.filter((e) => e.type === 'request.outcome');
      assert.equal(outcomes.length, 1, `${a.id}: one request.outcome (${types.join(', ')})`);
      const outcome = parse(outcomes[0]!);
      assert.equal(outcome.outcome?.status, a.status);
      const chunks = (await store.chunks(a.id)).filter((c) => c.stream === 'response');
      assert.ok(Buffer.concat(chunks.map((c) => c.data)).equals(a.body), `${a.id}: the recorded response is the body received`);
      assert.equal(outcome.bodies?.response?.digest, digestChunks(chunks), `${a.id}: digest`);
      assert.equal(outcome.bodies?.response?.totalBytes, a.body.length);
    }

    // The watches were in flight: begun, no outcome; what their segments committed is stored.
    const completed = new Set(rows.filter((r) => r.type === 'request.outcome' || r.type === 'request.abandoned').map((r) => r.ref));
    const begins = rows.filter((r) => r.type === 'request.begin').map((r) => r.ref!);
    const open = new Set(begins.filter((id) => !completed.has(id)));
    for (const id of load.watchIds) {
      assert.ok(open.has(id), `watch ${id} has a begin and no outcome`);
      const chunks = (await store.chunks(id)).filter((c) => c.stream === 'response');
      for (const s of (byRef.get(id) ?? []).filter((e) => e.type === 'body.segment')) {
        const c = parse(s).bodies?.response;
        assert.ok(c, 'a segment commits to the response');
        assert.equal(c.digest, digestChunks(chunks.slice(0, c.chunks)), `watch ${id}: segment at seq ${s.seq}`);
      }
    }
    assert.ok(rows.some((r) => r.type === 'body.segment'), 'the watches committed segments before the kill');

    const report = await verifyTrail(store.trail(), { trustedKeys: keys });
    assert.equal(report.ok, true, JSON.stringify(report.failure));
    assert.ok(report.checkpoints >= 2, `checkpoints signed during the run: ${report.checkpoints}`);
    assert.equal(report.events, rows.length);
    assert.ok(!rows.some((r) => r.type === 'trail.closed'), 'the killed run never closed the trail');
    t.diagnostic(`trail after the kill: ${rows.length} events, ${report.checkpoints} checkpoints, ${report.unsignedTail} unsigned at the tail; ${open.size} requests in flight`);
    return { openBegins: open, head: rows.at(-1)! };
  });

  // ---- run 2 on the same file
  const second = await startGateway(2);
  try {
    await withStore(async (store) => {
      const rows = await trailRows(store, head.seq + 1);
      const opened = rows[0]!;
      assert.equal(opened.type, 'trail.opened', 'the new run starts with trail.opened');
      const o = parse(opened) as { unclean?: boolean; previous?: { seq: number; hash: string }; abandoned?: number };
      assert.equal(o.unclean, true);
      assert.deepEqual(o.previous, { seq: head.seq, hash: head.hash });
      assert.equal(o.abandoned, openBegins.size);

      const abandoned = rows.filter((r) => r.type === 'request.abandoned');
      t.diagnostic(`request.abandoned at the restart: ${abandoned.length}`);
      assert.deepEqual(new Set(abandoned.map((r) => r.ref)), openBegins, 'exactly the requests in flight at the kill are abandoned');
      assert.equal(abandoned.length, openBegins.size);
      for (const id of load.watchIds) {
        const e = abandoned.find((r) => r.ref === id)!;
        const chunks = (await store.chunks(id)).filter((c) => c.stream === 'response');
        assert.ok(chunks.length >= 1, `watch ${id}: its committed events are kept`);
        assert.equal(parse(e).bodies?.response?.digest, digestChunks(chunks), `watch ${id}: the abandoned event commits to what the stream left`);
        const rec = await store.get(id);
        assert.equal(rec?.outcome?.error?.code, 'REQUEST_ABANDONED');
      }
      assert.ok(rows.some((r) => r.type === 'trail.checkpoint'), 'a checkpoint follows the start');
      const report = await verifyTrail(store.trail(), { trustedKeys: trustedKeys() });
      assert.equal(report.ok, true, JSON.stringify(report.failure));
    });

    // The restarted gateway serves and records.
    const r = await new Promise<Received>((resolveP, reject) => {
      https
        .get(`${second.base}${GET_PATH}`, { agent: false, ca: caCert, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolveP({ id: String(res.headers['x-sluice-request-id']), status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
        })
        .on('error', reject);
    });
    assert.equal(r.status, 200);

    // A clean stop closes the trail, and everything is signed.
    const exit = await kill(second.proc, 'SIGTERM');
    assert.equal(exit.code, 0, await readFile(join(dir, 'gateway-2.log'), 'utf8'));
    await withStore(async (store) => {
      const rows = await trailRows(store, head.seq + 1);
      assert.deepEqual(rows.slice(-2).map((x) => x.type), ['trail.closed', 'trail.checkpoint']);
      const chunks = (await store.chunks(r.id)).filter((c) => c.stream === 'response');
      assert.ok(Buffer.concat(chunks.map((c) => c.data)).equals(r.body), 'the request after the restart was recorded');
      const report = await verifyTrail(store.trail(), { trustedKeys: trustedKeys() });
      assert.equal(report.ok, true, JSON.stringify(report.failure));
      assert.equal(report.unsignedTail, 0, 'a clean stop leaves nothing unsigned');
    });
  } finally {
    await kill(second.proc, 'SIGKILL');
  }
});
