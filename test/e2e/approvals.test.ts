/**
 * Just-in-time approval end to end (issue #4), with real kubectl through the gateway of the demo
 * world: a held request waits, runs exactly once when approved, never serves another request,
 * survives a gateway restart; time-bound grants add rules until they expire. The approval
 * cases of SECURITY.md ("Approval") are here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../src/approval/webhooks.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Approval } from '../../src/approval/types.ts';
import type { Principal } from '../../src/core/principal.ts';
import { isSluiceError } from '../../src/core/errors.ts';
import { findResource } from '../../testing/kube-emulator/resources.ts';
import { runKubectl } from '../../testing/harness/index.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';

let dir: string;
let world: GatewayWorld;
/** The gateway's clock runs with the real one, `skew` ahead (expiry tests move it). */
let skew = 0;
const now = (): Date => new Date(Date.now() + skew);
const kubeconfigs = new Map<string, string>();
const pods = findResource('', 'v1', 'pods')!;

const person = (username: string, groups: string[]): Principal => ({ issuer: world.idp.issuer, subject: username, username, groups, kind: 'person' });
const carol = (): Principal => person('carol', ['approvers']);
const alice = (): Principal => person('alice', ['sre', 'approvers']);

/** A webhook receiver: what the gateway POSTed, with the signature checked. */
const WEBHOOK_SECRET = 'approval-webhook-test-secret';
const deliveries: { type: string; approvalId: string; signed: boolean }[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += String(c)));
  req.on('end', () => {
    const parsed = JSON.parse(body) as { type: string; approval: { id: string } };
    deliveries.push({ type: parsed.type, approvalId: parsed.approval.id, signed: verifyWebhookSignature(WEBHOOK_SECRET, req.headers['sluice-signature'] as string, body) });
    res.writeHead(204).end();
  });
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-approvals-'));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const secretFile = join(dir, 'webhook.secret');
  await writeFile(secretFile, WEBHOOK_SECRET);
  world = await startGatewayWorld({
    dir,
    now,
    approvals: {
      sameAs: [{ person: 'alice', identities: ['ci-bot'] }],
      webhooks: [{ name: 'test', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, format: 'json', secretFile, events: ['approval.requested', 'approval.approved'] }],
    },
  });
  for (const u of ['alice', 'bob', 'carol']) kubeconfigs.set(u, await world.kubeconfigFor(u));
});
after(async () => {
  await world?.stop();
  receiver.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SLUICE = fileURLToPath(new URL('../../bin/sluice', import.meta.url));

/** `bin/sluice <args>` as `user`, talking to the gateway's control API. */
async function sluice(user: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const token = await world.tokenFor(user);
  return new Promise((resolve) => {
    execFile(SLUICE, args, { env: { ...process.env, SLUICE_SERVER: world.gateway.url, SLUICE_CA: world.caFile, SLUICE_TOKEN: token } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const kubectl = (user: string, args: string[], version = '1.33') => runKubectl({ version, kubeconfig: kubeconfigs.get(user)!, args, timeoutMs: 60_000 });

/** The newest pending approval `user` opened since `since` (kubectl needs a moment to send it). */
async function pendingOf(user: string, since: Date, n = 1): Promise<Approval[]> {
  for (let i = 0; i < 800; i++) {
    const open = await world.approvalStore.list({ states: ['pending'], requester: user, since });
    if (open.length >= n) return open;
    await sleep(25);
  }
  throw new Error(`no pending approval of ${user}`);
}

function createPod(ns: string, name: string): void {
  world.emulator.store.create(pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'approval-test' } },
    spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
  });
}
const deletesOf = (name: string, from: number): number =>
  world.emulator.requests.slice(from).filter((r) => r.method === 'DELETE' && r.url.startsWith(`/api/v1/namespaces/prod/pods/${name}`)).length;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isSluiceError(e) && e.code === code);
}

describe('a held request', () => {
  test('bob deletes a pod in prod: kubectl waits, carol approves, the pod is gone, the cluster saw exactly one DELETE', async () => {
    createPod('prod', 'web-held');
    const from = world.emulator.requests.length;
    const started = now();
    const running = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-held', '--wait=false']);
    const [a] = await pendingOf('bob', started);
    assert.equal(a!.request?.attributes.verb, 'delete');
    assert.equal(a!.request?.attributes.name, 'web-held');
    assert.deepEqual(a!.rules, ['developers/delete-prod']);
    assert.equal(deletesOf('web-held', from), 0, 'nothing reaches the cluster while held');

    // carol sees it in `sluice approvals` as hers to decide, with the whole request; bob may not decide on it.
    const list = await sluice('carol', ['approvals']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${a!.id.slice(0, 8)}.*bob.*delete pods/web-held`));
    const show = await sluice('carol', ['approvals', 'show', a!.id.slice(0, 8)]);
    assert.match(show.stdout, /developers\/delete-prod/);
    assert.match(show.stdout, /\/api\/v1\/namespaces\/prod\/pods\/web-held/);
    const byBob = await sluice('bob', ['approve', a!.id]);
    assert.notEqual(byBob.code, 0);
    assert.match(byBob.stderr, /APPROVAL_FORBIDDEN/);

    const ok = await sluice('carol', ['approve', a!.id.slice(0, 8), '--reason', 'looks fine']);
    assert.equal(ok.code, 0, ok.stderr);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod "web-held" deleted/);
    assert.match(r.stderr, new RegExp(`Warning: sluice: held for approval ${a!.id}, approved by carol`));
    assert.equal(world.emulator.store.get(pods, 'prod', 'web-held')?.metadata.deletionTimestamp !== undefined || !world.emulator.store.get(pods, 'prod', 'web-held'), true);
    assert.equal(deletesOf('web-held', from), 1, 'exactly one DELETE');
    const spent = await world.approvalStore.get(a!.id);
    assert.equal(spent?.state, 'spent');

    // The webhook heard about it: asked, then approved, each delivery signed.
    for (let i = 0; i < 200 && deliveries.filter((d) => d.approvalId === a!.id).length < 2; i++) await sleep(25);
    assert.deepEqual(
      deliveries.filter((d) => d.approvalId === a!.id),
      [
        { type: 'approval.requested', approvalId: a!.id, signed: true },
        { type: 'approval.approved', approvalId: a!.id, signed: true },
      ],
    );

    // The trail: the request record names the approval; the transitions are events.
    const records = (await world.store.list({ approvalId: a!.id })).records;
    const codes = records.map((x) => x.code).sort();
    assert.deepEqual(codes, ['approval.approved', 'approval.requested', 'approval.spent', 'approval.vote', 'kubernetes.request']);
    const req = records.find((x) => x.code === 'kubernetes.request')!;
    assert.equal(req.decision?.effect, 'review');
    assert.equal(req.outcome?.status, 200);
    const cli = await sluice('carol', ['audit', 'list', '--approval', a!.id, '--db', world.config.store.sqlite.path, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual((JSON.parse(cli.stdout) as { records: { code: string }[] }).records.map((x) => x.code).sort(), codes);
  });

  test('`sluice approvals --watch` prints a held request as it comes', async () => {
    const token = await world.tokenFor('carol');
    const watch = spawn(SLUICE, ['approvals', '--watch'], { env: { ...process.env, SLUICE_SERVER: world.gateway.url, SLUICE_CA: world.caFile, SLUICE_TOKEN: token } });
    let out = '';
    watch.stdout.on('data', (c: Buffer) => (out += String(c)));
    try {
      await sleep(500); // connected and past its snapshot
      createPod('prod', 'web-watched');
      const started = now();
      const held = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-watched', '--wait=false']);
      const [a] = await pendingOf('bob', started);
      for (let i = 0; i < 200 && !out.includes(a!.id.slice(0, 8)); i++) await sleep(25);
      assert.match(out, new RegExp(`${a!.id.slice(0, 8)}.*bob.*web-watched`));
      await world.gateway.approvals!.deny(a!.id, carol(), 'watched it');
      assert.notEqual((await held).code, 0);
    } finally {
      watch.kill();
    }
  });

  test('an approval never serves another request: replay on another pod opens its own approval', async () => {
    createPod('prod', 'web-a');
    createPod('prod', 'web-b');
    const from = world.emulator.requests.length;
    const started = now();
    const first = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-a', '--wait=false']);
    const [a] = await pendingOf('bob', started);
    const second = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-b', '--wait=false']);
    const both = await pendingOf('bob', started, 2);
    const b = both.find((x) => x.id !== a!.id)!;
    assert.equal(b.request?.attributes.name, 'web-b');
    assert.notEqual(a!.hash, b.hash);
    await world.gateway.approvals!.approve(a!.id, carol());
    assert.equal((await first).code, 0);
    assert.equal(deletesOf('web-b', from), 0, 'web-a\'s approval did not delete web-b');
    await world.gateway.approvals!.deny(b.id, carol(), 'not this one');
    const r2 = await second;
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /denied by carol: not this one/);
    assert.equal(deletesOf('web-b', from), 0);
    assert.ok(world.emulator.store.get(pods, 'prod', 'web-b'), 'web-b is still there');
  });

  test('concurrent identical attempts share one approval and run once', async () => {
    createPod('prod', 'web-twice');
    const from = world.emulator.requests.length;
    const started = now();
    const runs = [kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-twice', '--wait=false']), kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-twice', '--wait=false'])];
    const [a] = await pendingOf('bob', started);
    // Both attempts are held on the same approval before it is approved.
    for (let i = 0; i < 400 && world.gateway.approvals!.heldCount() < 2; i++) await sleep(25);
    assert.equal(world.gateway.approvals!.heldCount(), 2);
    assert.equal((await world.approvalStore.list({ requester: 'bob', since: started })).length, 1, 'one approval for both');
    await world.gateway.approvals!.approve(a!.id, carol());
    const results = await Promise.all(runs);
    assert.deepEqual(results.map((r) => r.code).sort(), [0, 1]);
    const loser = results.find((r) => r.code !== 0)!;
    assert.match(loser.stderr, /already used by another attempt/);
    assert.equal(deletesOf('web-twice', from), 1, 'executed once');
  });

  test('a client that gave up and retries finds the same approval; after approval the retry runs once', async () => {
    createPod('prod', 'web-retry');
    const from = world.emulator.requests.length;
    const started = now();
    const gaveUp = await runKubectl({ version: '1.27', kubeconfig: kubeconfigs.get('bob')!, args: ['-n', 'prod', 'delete', 'pod', 'web-retry', '--wait=false', '--request-timeout=2s'] });
    assert.notEqual(gaveUp.code, 0, 'kubectl gave up after 2 s');
    const [a] = await pendingOf('bob', started);
    await world.gateway.approvals!.approve(a!.id, carol());
    // The same command again (kubectl sends --request-timeout as ?timeout=2s: part of the request).
    const retry = await runKubectl({ version: '1.27', kubeconfig: kubeconfigs.get('bob')!, args: ['-n', 'prod', 'delete', 'pod', 'web-retry', '--wait=false', '--request-timeout=2s'] });
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(deletesOf('web-retry', from), 1);
    assert.equal((await world.approvalStore.get(a!.id))?.state, 'spent');
  });

  test('pending approvals survive a gateway restart; a retry afterwards finds its approval', async () => {
    createPod('prod', 'web-restart');
    const from = world.emulator.requests.length;
    const started = now();
    const held = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-restart', '--wait=false']);
    const [a] = await pendingOf('bob', started);
    await world.restartGateway();
    assert.notEqual((await held).code, 0, 'the restart cut the waiting client off');
    assert.equal((await world.approvalStore.get(a!.id))?.state, 'pending');
    await world.gateway.approvals!.approve(a!.id, carol());
    const retry = await kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-restart', '--wait=false']);
    assert.equal(retry.code, 0, retry.stderr);
    assert.equal(deletesOf('web-restart', from), 1);
  });

  test('expiry means deny', async () => {
    createPod('prod', 'web-expire');
    const from = world.emulator.requests.length;
    const started = now();
    const held = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-expire', '--wait=false']);
    const [a] = await pendingOf('bob', started);
    skew += 16 * 60_000; // the rule's timeout is 15 minutes
    await world.gateway.approvals!.sweep();
    const r = await held;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`approval ${a!.id} expired`));
    assert.equal((await world.approvalStore.get(a!.id))?.state, 'expired');
    assert.equal(deletesOf('web-expire', from), 0);
    await rejectsWith(world.gateway.approvals!.approve(a!.id, carol()), 'APPROVAL_CLOSED');
  });

  test('no self-approval: alice cannot approve her own exec in prod, nor through her machine identity', async () => {
    const started = now();
    const held = kubectl('alice', ['exec', 'db-0', '-n', 'prod', '--', 'echo', 'hi']);
    const [a] = await pendingOf('alice', started);
    assert.equal(a!.requireReason, true, 'sre/exec-prod asks for the requester\'s reason');
    await rejectsWith(world.gateway.approvals!.approve(a!.id, alice()), 'APPROVAL_FORBIDDEN');
    const aliceBot: Principal = { issuer: world.idp.issuer, subject: 'ci-bot', username: 'ci-bot', groups: ['approvers'], kind: 'machine' };
    await rejectsWith(world.gateway.approvals!.approve(a!.id, aliceBot), 'APPROVAL_FORBIDDEN');
    // carol cannot approve before alice said why; then she can, and the shell runs once.
    await rejectsWith(world.gateway.approvals!.approve(a!.id, carol()), 'APPROVAL_INVALID');
    await world.gateway.approvals!.setReason(a!.id, alice(), 'checking the replication lag');
    const approved = await world.gateway.approvals!.approve(a!.id, carol());
    assert.equal(approved.state, 'approved');
    const r = await held;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hi');
  });
});

describe('a time-bound grant', () => {
  test('bob asks for prod-write for 5 minutes; once carol approves he deletes in prod without waiting, until it expires', async () => {
    const asked = await sluice('bob', ['access', 'request', 'prod-write', '--duration', '5m', '--reason', 'hotfix rollout', '-o', 'json']);
    assert.equal(asked.code, 0, asked.stderr);
    const grant = JSON.parse(asked.stdout) as Approval;
    const tooLong = await sluice('bob', ['access', 'request', 'prod-write', '--duration', '2h', '--reason', 'too long']);
    assert.notEqual(tooLong.code, 0);
    assert.match(tooLong.stderr, /APPROVAL_INVALID/);
    const approved = await sluice('carol', ['approve', grant.id]);
    assert.equal(approved.code, 0, approved.stderr);

    createPod('prod', 'web-granted');
    const from = world.emulator.requests.length;
    const r = await kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-granted', '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(deletesOf('web-granted', from), 1);
    const cm = await kubectl('bob', ['-n', 'prod', 'create', 'configmap', 'granted-cm', '--from-literal=a=b']);
    assert.equal(cm.code, 0, cm.stderr);

    skew += 6 * 60_000; // past the grant
    createPod('prod', 'web-after');
    const started = now();
    const held = kubectl('bob', ['-n', 'prod', 'delete', 'pod', 'web-after', '--wait=false']);
    const [a] = await pendingOf('bob', started);
    assert.deepEqual(a!.rules, ['developers/delete-prod'], 'held again once the grant expired');
    await world.gateway.approvals!.deny(a!.id, carol(), 'grant is over');
    assert.notEqual((await held).code, 0);
    const other = await kubectl('bob', ['-n', 'prod', 'create', 'configmap', 'after-cm', '--from-literal=a=b']);
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /no policy rule allows/);
    await world.gateway.approvals!.sweep();
    assert.equal((await world.approvalStore.get(grant.id))?.state, 'expired');
  });
});
