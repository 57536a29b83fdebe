/**
 * The demo world end to end: startDemo writes a demo folder; real kubectl (1.27 and 1.33) with
 * `kubeconfig-bob` runs `bin/sluice demo token bob --exec-credential` as its exec credential
 * plugin, which logs bob in at the real identity provider (code + PKCE); the emulator verifies
 * the JWT and records the request as user "bob" in group "developers". No recorded header
 * carries a raw token.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { parse as parseYaml } from 'yaml';
import { demoToken, readDemoState, startDemo, type DemoWorld } from '../../testing/demo/index.ts';
import { DEMO_USERS } from '../../testing/demo/users.ts';
import { runKubectl } from '../../testing/harness/index.ts';

const JWT = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}/;

describe('demo world', { timeout: 180_000 }, () => {
  let parent: string;
  let dir: string;
  let world: DemoWorld;

  before(async () => {
    parent = await mkdtemp(join(tmpdir(), 'sluice-demo-test-'));
    dir = join(parent, 'demo');
    world = await startDemo({ dir });
  });

  after(async () => {
    await world?.close();
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  test('writes kubeconfigs, the CA bundle and demo.json', { timeout: 10_000 }, async () => {
    for (const u of DEMO_USERS) {
      const kc = parseYaml(await readFile(join(dir, `kubeconfig-${u.name}`), 'utf8')) as {
        clusters: Array<{ cluster: { server: string } }>;
        users: Array<{ user: { exec: { apiVersion: string; command: string; args: string[]; interactiveMode: string } } }>;
      };
      assert.equal(kc.clusters[0]?.cluster.server, world.gatewayUrl);
      assert.match(world.gatewayUrl, /\/clusters\/demo$/);
      const exec = kc.users[0]?.user.exec;
      assert.equal(exec?.apiVersion, 'client.authentication.k8s.io/v1');
      assert.match(exec?.command ?? '', /\/bin\/sluice$/);
      assert.deepEqual(exec?.args, ['demo', 'token', u.name, '--exec-credential', '--demo-dir', dir]);
      assert.equal(exec?.interactiveMode, 'Never');
    }
    assert.match(await readFile(join(dir, 'ca.crt'), 'utf8'), /-----BEGIN CERTIFICATE-----/);
    const state = await readDemoState(dir);
    assert.equal(state.identityProvider.issuer, world.issuer);
    assert.equal(state.kubernetes.url, world.gatewayUrl);
    assert.ok(state.identityProvider.machineClients.find((m) => m.clientId === 'ci-bot')?.clientSecret);
    assert.equal((await stat(join(dir, 'demo.json'))).mode & 0o077, 0, 'demo.json is private (holds the ci-bot secret)');
  });

  test('demoToken gets tokens from the running provider (bare and as ExecCredential)', { timeout: 30_000 }, async () => {
    const bare = await demoToken(dir, 'alice');
    assert.deepEqual(decodeJwt(bare).groups, ['sre', 'approvers']);
    const cred = JSON.parse(await demoToken(dir, 'ci-bot', { execCredential: true })) as {
      apiVersion: string;
      kind: string;
      status: { token: string; expirationTimestamp: string };
    };
    assert.equal(cred.apiVersion, 'client.authentication.k8s.io/v1');
    assert.equal(cred.kind, 'ExecCredential');
    assert.deepEqual(decodeJwt(cred.status.token).groups, ['automation']);
    assert.match(cred.status.expirationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await assert.rejects(demoToken(dir, 'eve'), /unknown demo user "eve"/);
  });

  test('the summary names the MCP endpoint, and `sluice demo token --audience` gets a token the endpoint takes', { timeout: 60_000 }, async () => {
    const mcpUrl = world.world.gateway.mcpUrl!;
    assert.match(world.summary(), new RegExp(`MCP endpoint: +${mcpUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const { execFile } = await import('node:child_process');
    const token = await new Promise<string>((resolve, reject) =>
      execFile(join(process.cwd(), 'bin/sluice'), ['demo', 'token', 'bob', '--audience', mcpUrl, '--demo-dir', dir], (e, out) => (e ? reject(e) : resolve(out.trim()))),
    );
    assert.equal(decodeJwt(token).aud, mcpUrl);
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const { createTrustedFetch } = await import('../../testing/oidc/http-client.ts');
    const trusted = createTrustedFetch(await readFile(join(dir, 'ca.crt'), 'utf8'));
    const client = new Client({ name: 'demo-agent', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: (u, i) => trusted(String(u), i), requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      const r = await client.callTool({ name: 'list_resources', arguments: { resource: 'pods', namespace: 'dev' } });
      assert.match(JSON.stringify(r.content), /db-0/);
    } finally {
      await client.close();
      await trusted.close();
    }
  });

  for (const version of ['1.27', '1.33']) {
    test(`kubectl ${version} as bob lists pods in dev through the gateway, with the exec plugin`, { timeout: 90_000 }, async () => {
      const since = world.emulator.requests.length;
      const r = await runKubectl({ version, kubeconfig: join(dir, 'kubeconfig-bob'), args: ['get', 'pods', '-n', 'dev'], timeoutMs: 60_000 });
      assert.equal(r.code, 0, `kubectl ${version} get pods failed (exit ${r.code}):\n${r.stderr}`);
      assert.match(r.stdout, /^NAME\s/m);
      assert.match(r.stdout, /^db-0\s/m);
      assert.match(r.stdout, /^web-\S+\s/m);

      const mine = world.emulator.requests.slice(since);
      const list = mine.filter((q) => q.method === 'GET' && q.url.startsWith('/api/v1/namespaces/dev/pods'));
      assert.ok(list.length > 0, `no pod list request recorded; saw ${mine.map((q) => `${q.method} ${q.url}`).join(', ')}`);
      for (const q of list) {
        assert.equal(q.status, 200);
        // The cluster sees the person (impersonated by the gateway's service account).
        assert.equal(q.user?.username, 'bob');
        assert.ok(q.user?.groups.includes('developers'), `groups: ${q.user?.groups.join(',')}`);
        assert.equal(q.impersonated, true);
        assert.equal(q.authenticated?.username, 'system:serviceaccount:sluice:gateway');
      }
      for (const q of mine) {
        const headers = JSON.stringify(q.headers);
        assert.doesNotMatch(headers, JWT, `a raw token in the recorded headers of ${q.method} ${q.url}`);
        assert.match(String(q.headers.authorization), /^Bearer sha256:[0-9a-f]{64}$/);
      }
    });
  }

  test('kubectl 1.33 as ci-bot authenticates with the client-credentials grant, through the gateway', { timeout: 90_000 }, async () => {
    const since = world.emulator.requests.length;
    const r = await runKubectl({ version: '1.33', kubeconfig: join(dir, 'kubeconfig-ci-bot'), args: ['get', 'pods', '-n', 'dev', '-o', 'name'], timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pod\/db-0$/m);
    const list = world.emulator.requests.slice(since).filter((q) => q.url.startsWith('/api/v1/namespaces/dev/pods'));
    assert.ok(list.length > 0);
    assert.equal(list[0]?.user?.username, 'ci-bot');
    assert.deepEqual(list[0]?.user?.groups, ['automation', 'system:authenticated']);
  });
});
