/**
 * Each demo person can do exactly what the demo policy (policies/demo) says, and nothing more,
 * through the gateway with real kubectl 1.27 and 1.33. Denied requests print the rule that
 * denied them (or that no rule allows them) in kubectl's usual error output; requests a review
 * rule holds wait (kubectl just waits) until an approver decides — here carol denies them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKubectl } from '../../testing/harness/index.ts';
import { startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import type { Approval } from '../../src/approval/types.ts';
import type { Principal } from '../../src/core/principal.ts';

/** An approver, as the approval service sees one (only the groups make her eligible). */
const CAROL: Principal = { issuer: 'test', subject: 'carol', username: 'carol', groups: ['approvers'], kind: 'person' };

/** The approval `user`'s command opened (polled: kubectl needs a moment to send it). */
async function pendingApprovalOf(world: GatewayWorld, user: string, since: Date): Promise<Approval> {
  for (let i = 0; i < 600; i++) {
    const [a] = await world.approvalStore.list({ states: ['pending'], requester: user, since });
    if (a) return a;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no approval was opened for ${user}`);
}

type Expect = 'allow' | { deny: string } | { review: string };
interface Case {
  user: string;
  args: string[];
  expect: Expect;
}

const NO_RULE = 'no policy rule allows';

// Pods the commands name: db-0 exists in dev and prod; coredns runs in kube-system.
const CASES: Case[] = [
  // bob (developers)
  { user: 'bob', args: ['get', 'pods', '-n', 'dev'], expect: 'allow' },
  { user: 'bob', args: ['get', 'deploy,svc,cm,secrets', '-n', 'prod'], expect: 'allow' },
  { user: 'bob', args: ['logs', 'db-0', '-n', 'prod', '--tail=1'], expect: 'allow' },
  { user: 'bob', args: ['create', 'configmap', 'bob-cm', '-n', 'dev', '--from-literal=a=b'], expect: 'allow' },
  { user: 'bob', args: ['delete', 'configmap', 'bob-cm', '-n', 'dev'], expect: 'allow' },
  { user: 'bob', args: ['create', 'configmap', 'bob-cm', '-n', 'prod', '--from-literal=a=b'], expect: { deny: NO_RULE } },
  { user: 'bob', args: ['delete', 'pod', 'db-0', '-n', 'prod'], expect: { review: 'developers/delete-prod' } },
  { user: 'bob', args: ['exec', 'db-0', '-n', 'dev', '--', 'echo', 'hi'], expect: { deny: 'developers/no-exec' } },
  { user: 'bob', args: ['get', 'pods', '-n', 'kube-system'], expect: { deny: 'kube-system/only-alice' } },
  { user: 'bob', args: ['get', 'namespaces'], expect: { deny: NO_RULE } },
  { user: 'bob', args: ['delete', 'namespace', 'dev'], expect: { deny: 'developers/keep-namespaces' } },
  // alice (sre, approvers)
  { user: 'alice', args: ['get', 'pods', '-n', 'kube-system'], expect: 'allow' },
  { user: 'alice', args: ['delete', 'deployment', 'coredns', '-n', 'kube-system'], expect: { deny: 'kube-system/read-only' } },
  { user: 'alice', args: ['exec', 'db-0', '-n', 'dev', '--', 'echo', 'hi'], expect: 'allow' },
  { user: 'alice', args: ['exec', 'db-0', '-n', 'prod', '--', 'echo', 'hi'], expect: { review: 'sre/exec-prod' } },
  { user: 'alice', args: ['delete', 'pod', 'db-0', '-n', 'prod'], expect: { review: 'sre/delete-prod' } },
  { user: 'alice', args: ['scale', 'deploy', 'web', '-n', 'prod', '--replicas=3'], expect: 'allow' },
  { user: 'alice', args: ['create', 'clusterrolebinding', 'pwn', '--clusterrole=cluster-admin', '--user=alice'], expect: { deny: NO_RULE } },
  // carol (approvers): read-only
  { user: 'carol', args: ['get', 'pods', '-n', 'prod'], expect: 'allow' },
  { user: 'carol', args: ['delete', 'pod', 'db-0', '-n', 'dev'], expect: { deny: NO_RULE } },
  { user: 'carol', args: ['exec', 'db-0', '-n', 'dev', '--', 'echo', 'hi'], expect: { deny: NO_RULE } },
  // mallory: nothing
  { user: 'mallory', args: ['get', 'pods', '-n', 'dev'], expect: { deny: NO_RULE } },
  // ci-bot (automation): get/list in dev, create/patch deployments in dev
  { user: 'ci-bot', args: ['get', 'pods', '-n', 'dev'], expect: 'allow' },
  { user: 'ci-bot', args: ['create', 'deployment', 'ci-app', '-n', 'dev', '--image=nginx:1.27'], expect: 'allow' },
  { user: 'ci-bot', args: ['patch', 'deployment', 'ci-app', '-n', 'dev', '--type=merge', '-p', '{"metadata":{"labels":{"build":"42"}}}'], expect: 'allow' },
  { user: 'ci-bot', args: ['delete', 'deployment', 'ci-app', '-n', 'dev'], expect: { deny: NO_RULE } },
  { user: 'ci-bot', args: ['get', 'pods', '-n', 'prod'], expect: { deny: NO_RULE } },
];

for (const version of ['1.27', '1.33']) {
  describe(`demo policy through the gateway, kubectl ${version}`, () => {
    let dir: string;
    let world: GatewayWorld;
    const kubeconfigs = new Map<string, string>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-personas-'));
      world = await startGatewayWorld({ dir });
      for (const u of ['alice', 'bob', 'carol', 'mallory', 'ci-bot']) kubeconfigs.set(u, await world.kubeconfigFor(u));
    });
    after(async () => {
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const c of CASES) {
      const label = typeof c.expect === 'string' ? 'allowed' : 'deny' in c.expect ? 'denied' : 'held for review';
      test(`${c.user}: kubectl ${c.args.join(' ')} → ${label}`, async () => {
        const before = world.emulator.requests.length;
        const started = new Date();
        const running = runKubectl({ version, kubeconfig: kubeconfigs.get(c.user)!, args: c.args });
        let approval: Approval | undefined;
        if (typeof c.expect !== 'string' && 'review' in c.expect) {
          // Held: kubectl waits while the approval is pending; an approver denies it.
          approval = await pendingApprovalOf(world, c.user, started);
          assert.ok(approval.rules.includes(c.expect.review), `held by ${approval.rules.join(', ')}`);
          await world.gateway.approvals!.deny(approval.id, CAROL, 'not during this test');
        }
        const r = await running;
        if (c.expect === 'allow') {
          assert.equal(r.code, 0, `expected success:\n${r.stderr}`);
          const reached = world.emulator.requests.slice(before).filter((q) => q.user?.username === c.user);
          assert.ok(reached.length > 0, 'the request reached the cluster as the person');
          return;
        }
        assert.notEqual(r.code, 0, `expected a refusal, got:\n${r.stdout}`);
        // kubectl's usual wording: "Error from server (Forbidden): …", or for typed creates
        // "error: failed to create <kind>: …" with the same message.
        assert.match(r.stderr, /Error from server \(Forbidden\)|error: failed to create/);
        if ('deny' in c.expect) assert.ok(r.stderr.includes(c.expect.deny), r.stderr);
        else assert.ok(r.stderr.includes(`denied by carol: not during this test (approval ${approval!.id}`), r.stderr);
        assert.match(r.stderr, /request [0-9a-f-]{36}/);
        // A refused write never reached the cluster.
        const writes = world.emulator.requests.slice(before).filter((q) => q.method !== 'GET');
        assert.deepEqual(writes.map((q) => `${q.method} ${q.url}`), []);
      });
    }
  });
}
