/**
 * Real kubectl 1.27 and 1.33 through the Sluice gateway. Every kubectl command of the foundation
 * works through it (streams included: watch, logs -f, exec over SPDY and WebSocket, cp,
 * port-forward), and the cluster sees the person — impersonated by the gateway's service
 * account — never the person's token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATEWAY_SERVICE_ACCOUNT, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';
import { SCENARIOS, scenarioContext, type ScenarioContext } from './kubectl-scenarios.ts';

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version} through the gateway (alice in dev)`, () => {
    let dir: string;
    let world: GatewayWorld;
    let ctx: ScenarioContext;
    let aliceToken: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-gw-'));
      world = await startGatewayWorld({ dir });
      const kubeconfig = await world.kubeconfigFor('alice');
      aliceToken = /token: (\S+)/.exec(await readFile(kubeconfig, 'utf8'))?.[1] ?? '';
      assert.ok(aliceToken.length > 20);
      ctx = await scenarioContext(version, kubeconfig);
    });
    after(async () => {
      await world?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    for (const s of SCENARIOS) test(s.name, () => s.run(ctx));

    test('the cluster saw alice, impersonated by the gateway, and never her token', () => {
      const seen = world.emulator.requests;
      assert.ok(seen.length > 30);
      const saSha = createHash('sha256').update(readFileSyncToken(world)).digest('hex');
      const aliceSha = createHash('sha256').update(aliceToken).digest('hex');
      for (const r of seen) {
        assert.equal(r.user?.username, 'alice', `${r.method} ${r.url}`);
        assert.ok(r.user?.groups.includes('sre'));
        assert.equal(r.impersonated, true);
        assert.equal(r.authenticated?.username, GATEWAY_SERVICE_ACCOUNT.username);
        assert.equal(r.headers.authorization, `Bearer sha256:${saSha}`);
        assert.ok(!JSON.stringify(r).includes(aliceSha) && !JSON.stringify(r).includes(aliceToken));
        assert.match(String(r.headers['impersonate-extra-sluice-request-id']), /^[0-9a-f-]{36}$/);
      }
    });

    test('every request is in the audit trail with its decision and outcome', async () => {
      const page = await world.store.list({ limit: 1000 });
      const ids = new Set(page.records.map((r) => r.id));
      for (const r of world.emulator.requests) {
        const id = String(r.headers['impersonate-extra-sluice-request-id']);
        assert.ok(ids.has(id), `no audit record ${id} for ${r.method} ${r.url}`);
        assert.equal(r.headers['audit-id'], id);
      }
      const exec = page.records.find((r) => r.attributes?.subresource === 'exec');
      assert.ok(exec, 'an exec request was recorded');
      assert.equal(exec.principal?.username, 'alice');
      assert.equal(exec.decision?.effect, 'allow');
      assert.deepEqual(exec.decision?.rules, ['sre/exec-dev']);
      assert.equal(exec.outcome?.status, 101);
      const watch = page.records.find((r) => r.attributes?.verb === 'watch');
      assert.ok(watch?.outcome && watch.outcome.bytesOut > 0, 'a completed watch with bytes out');
    });
  });
}

/** The gateway's own upstream credential (its service-account token file). */
function readFileSyncToken(world: GatewayWorld): string {
  return readFileSync(world.config.connections[0]!.tokenFile!, 'utf8').trim();
}
