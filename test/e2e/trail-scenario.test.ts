/**
 * Issue #6 "done when", in the demo world with real kubectl and the real `sluice` CLI: after a
 * scripted session — bob gets pods, reads a Secret (masked), deletes a pod in prod (held until
 * carol approves), is denied exec; alice runs a short interactive shell in prod once carol
 * approved it — the trail answers "what did bob do in prod today" with one command, shows the
 * approved delete with its approver, replays alice's session, and verifies; one flipped byte in
 * the database makes `verify` fail at that event.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Approval } from '../../src/approval/types.ts';
import type { Principal } from '../../src/core/principal.ts';
import { loadSigningKey, publicKeyPem } from '../../src/audit/trail/signing-key.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { FAKE } from '../../testing/kube-emulator/store/seed.ts';
import { runKubectl } from '../../testing/harness/index.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';

const SLUICE = fileURLToPath(new URL('../../bin/sluice', import.meta.url));
let dir: string;
let world: GatewayWorld;
let db: string;
let trusted: string;
const kubeconfigs = new Map<string, string>();
const person = (username: string, groups: string[]): Principal => ({ issuer: world.idp.issuer, subject: username, username, groups, kind: 'person' });

interface Listed {
  id: string;
  code: string;
  principal: { username: string } | null;
  attributes?: { verb: string; namespace: string; resource: string; subresource: string; name: string };
  decision?: { effect: string };
  approvalId?: string;
  outcome?: { status: number };
}
let deleteApproval = '';
let aliceExec = '';

async function sluice(user: string | null, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, SLUICE_SERVER: world.gateway.url, SLUICE_CA: world.caFile, ...(user ? { SLUICE_TOKEN: await world.tokenFor(user) } : {}) };
  return new Promise((resolve) => {
    execFile(SLUICE, args, { env, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

const kubectl = (user: string, args: string[], stdin?: string) =>
  runKubectl({ version: '1.33', kubeconfig: kubeconfigs.get(user)!, args, timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });

async function pendingOf(user: string, since: Date): Promise<Approval> {
  for (let i = 0; i < 800; i++) {
    const open = await world.approvalStore.list({ states: ['pending'], requester: user, since });
    if (open.length) return open[0]!;
    await sleep(25);
  }
  throw new Error(`no pending approval of ${user}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-trail-e2e-'));
  world = await startGatewayWorld({ dir });
  db = world.config.store.sqlite.path;
  trusted = join(dir, 'auditor.pem');
  await writeFile(trusted, publicKeyPem(loadSigningKey(world.config.trail.signingKeyFile).signer));
  for (const u of ['alice', 'bob', 'carol']) kubeconfigs.set(u, await world.kubeconfigFor(u));
  world.emulator.store.create(findResource('', 'v1', 'pods')!, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-old', namespace: 'prod' },
    spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
  });

  // ---- the scripted session
  const get = await kubectl('bob', ['get', 'pods', '-n', 'prod']);
  assert.equal(get.code, 0, get.stderr);
  const secret = await kubectl('bob', ['get', 'secret', 'db-credentials', '-n', 'prod', '-o', 'json']);
  assert.equal(secret.code, 0, secret.stderr);
  assert.match(secret.stdout, /REDACTED/);

  const started = new Date();
  const held = kubectl('bob', ['delete', 'pod', 'web-old', '-n', 'prod', '--wait=false']);
  const a = await pendingOf('bob', started);
  deleteApproval = a.id;
  await world.gateway.approvals!.approve(a.id, person('carol', ['approvers']));
  const del = await held;
  assert.equal(del.code, 0, del.stderr);

  const denied = await kubectl('bob', ['exec', 'db-0', '-n', 'prod', '--', 'env']);
  assert.notEqual(denied.code, 0);

  const shellStarted = new Date();
  const shell = kubectl('alice', ['exec', '-i', 'db-0', '-n', 'prod', '--', 'sh'], 'echo hello-from-alice\nexit 3\n');
  const e = await pendingOf('alice', shellStarted);
  await world.gateway.approvals!.setReason(e.id, person('alice', ['sre', 'approvers']), 'checking the replication lag');
  await world.gateway.approvals!.approve(e.id, person('carol', ['approvers']));
  const r = await shell;
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /hello-from-alice/);
});

after(async () => {
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('"what did bob do in prod today" is one command, and shows his get, secret read, held delete and denied exec', async () => {
  const r = await sluice('alice', ['audit', 'list', '--user', 'bob', '--namespace', 'prod', '--since', 'today', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { records } = JSON.parse(r.stdout) as { records: Listed[] };
  assert.ok(records.every((x) => x.principal?.username === 'bob' && x.attributes?.namespace === 'prod'));
  const what = records.map((x) => `${x.attributes!.verb} ${x.attributes!.resource}${x.attributes!.subresource ? `/${x.attributes!.subresource}` : ''} ${x.decision?.effect}`);
  for (const want of [/^list pods allow$/, /^get secrets allow$/, /^delete pods review$/, /^(get|create) pods\/exec deny$/]) {
    assert.ok(what.some((w) => want.test(w)), `${want} in ${what.join(', ')}`);
  }
  // The secret read's recorded response, as an auditor sees it: masked, as bob received it.
  const read = records.find((x) => x.attributes?.resource === 'secrets' && x.attributes.verb === 'get')!;
  const shown = await sluice('alice', ['audit', 'show', read.id, '--body']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /--- response body \(\d+ of \d+ bytes recorded\)/);
  assert.match(shown.stdout, /"db-credentials"/);
  assert.match(shown.stdout, /REDACTED/);
  const offline = await sluice(null, ['audit', 'show', read.id, '--body', '--db', db]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, shown.stdout, 'the same from the store file');
  const table = await sluice('alice', ['audit', 'list', '--user', 'bob', '--namespace', 'prod', '--since', 'today']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /delete/);
});

test('the approved delete shows its approver', async () => {
  const r = await sluice('carol', ['audit', 'list', '--approval', deleteApproval, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { records } = JSON.parse(r.stdout) as { records: Listed[] };
  const approved = records.find((x) => x.code === 'approval.approved');
  assert.equal(approved?.principal?.username, 'carol');
  const ran = records.find((x) => x.code === 'kubernetes.request' && x.outcome?.status === 200);
  assert.ok(ran, 'the delete that ran is in the same listing, with its outcome');
});

test("alice's shell in prod replays: its output and exit status", async () => {
  const r = await sluice('alice', ['audit', 'list', '--user', 'alice', '--namespace', 'prod', '--since', 'today', '--json']);
  const { records } = JSON.parse(r.stdout) as { records: Listed[] };
  const exec = records.find((x) => x.attributes?.subresource === 'exec' && x.outcome?.status === 101);
  assert.ok(exec, 'the exec that ran');
  aliceExec = exec.id;
  const cast = await sluice(null, ['audit', 'replay', aliceExec, '--cast', '--db', db]);
  assert.equal(cast.code, 0, cast.stderr);
  const [first, ...rest] = cast.stdout.trim().split('\n');
  const header = JSON.parse(first!) as { version: number; command: string };
  const events = rest.map((l) => JSON.parse(l) as [number, string, string]);
  assert.equal(header.version, 2);
  assert.match(header.command, /sh/);
  const output = events.filter((e) => e[1] === 'o').map((e) => e[2]).join('');
  assert.match(output, /hello-from-alice/);
  assert.deepEqual(events.at(-1)?.slice(1), ['m', 'exit 3']);
  const played = await sluice(null, ['audit', 'replay', aliceExec, '--speed', '1000', '--db', db]);
  assert.equal(played.code, 0, played.stderr);
  assert.match(played.stdout, /hello-from-alice/);
  // Through the control API, as carol (the policy grants her events/terminal): the same cast.
  const viaApi = await sluice('carol', ['audit', 'replay', aliceExec, '--cast']);
  assert.equal(viaApi.code, 0, viaApi.stderr);
  assert.equal(viaApi.stdout, cast.stdout);
});

test('bob may see only his own records: not alice\'s exec', async () => {
  const mine = await sluice('bob', ['audit', 'list', '--since', 'today', '--json']);
  assert.equal(mine.code, 0, mine.stderr);
  const { records } = JSON.parse(mine.stdout) as { records: Listed[] };
  assert.ok(records.length > 0);
  assert.ok(records.every((x) => x.principal?.username === 'bob'), records.map((x) => x.principal?.username).join(','));
  const other = await sluice('bob', ['audit', 'show', aliceExec]);
  assert.notEqual(other.code, 0);
  const replay = await sluice('bob', ['audit', 'replay', aliceExec, '--cast']);
  assert.notEqual(replay.code, 0);
  assert.match(replay.stderr, /AUDIT_RECORD_NOT_FOUND/, "someone else's session is answered like a missing one");
  assert.doesNotMatch(replay.stdout, /hello-from-alice/);
});

test('SECURITY (Audit): no bearer token, agent credential or unmasked seed secret anywhere in the trail, its records or recorded chunks', async () => {
  const agentToken = (await readFile(join(dir, 'gateway-sa.token'), 'utf8')).trim();
  const sql = new Database(db, { readonly: true });
  const texts: string[] = [];
  for (const r of sql.prepare('select event from trail').all() as { event: string }[]) texts.push(r.event);
  for (const r of sql.prepare('select data from trail_chunk').all() as { data: Buffer }[]) texts.push(r.data.toString('utf8'));
  for (const r of sql.prepare('select * from audit_events').all() as Record<string, unknown>[]) texts.push(JSON.stringify(r));
  sql.close();
  assert.ok(texts.length > 50);
  const all = texts.join('\n');
  assert.doesNotMatch(all, /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/, 'no JWT (access tokens are JWTs)');
  assert.doesNotMatch(all, /Bearer\s+[\w.~+/-]{16,}/i);
  assert.ok(!all.includes(agentToken), "the gateway's own credential");
  // The fake credentials the emulator seeds into Secrets and env (testing/kube-emulator/store/seed.ts), clear and base64:
  // bob read them masked (get pods, get secret), so none may be in what was recorded.
  for (const v of [FAKE.awsSecretAccessKey, FAKE.bearerToken, FAKE.serviceAccountToken, FAKE.dbPassword, FAKE.awsAccessKeyId]) {
    assert.ok(!all.includes(v) && !all.includes(Buffer.from(v).toString('base64')), v);
  }
});

test('the trail verifies; one flipped byte in the database fails verify at that event', async () => {
  const ok = await sluice(null, ['audit', 'verify', '--db', db, '--trusted-keys', trusted]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok: /);

  const copy = join(dir, 'tampered.db');
  await copyFile(db, copy);
  for (const suffix of ['-wal', '-shm']) await copyFile(db + suffix, copy + suffix).catch(() => undefined);
  const sql = new Database(copy);
  const row = sql.prepare("select seq, event from trail where type = 'request.begin' and event like '%\"verb\":\"delete\"%' limit 1").get() as { seq: number; event: string };
  const i = row.event.indexOf('web-old');
  const flipped = row.event.slice(0, i) + String.fromCharCode(row.event.charCodeAt(i) ^ 1) + row.event.slice(i + 1);
  sql.prepare('update trail set event = ? where seq = ?').run(flipped, row.seq);
  sql.close();
  const bad = await sluice(null, ['audit', 'verify', '--db', copy, '--trusted-keys', trusted]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, new RegExp(`FAILED: seq ${row.seq}: .*edited`));
});
