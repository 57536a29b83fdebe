/**
 * Operating the gateway: `sluice server` from a configuration file, connections from a
 * kubeconfig, rotating upstream token files, policy hot reload, and `sluice audit` reading the
 * trail the gateway wrote.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runKubectl, writeKubeconfig } from '../../testing/harness/index.ts';
import { DEMO_POLICY_DIR, GATEWAY_SERVICE_ACCOUNT, startGatewayWorld, type GatewayWorld } from '../../testing/harness/gateway-world.ts';

const SLUICE = fileURLToPath(new URL('../../bin/sluice', import.meta.url));
let dir: string;
let world: GatewayWorld;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-ops-'));
  const policies = join(dir, 'policies');
  await cp(DEMO_POLICY_DIR, policies, { recursive: true });
  world = await startGatewayWorld({ dir, policyPaths: [policies] });
});
after(async () => {
  await world?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a rotated upstream token file is picked up without a restart', async () => {
  const kc = await world.kubeconfigFor('bob');
  const tokenFile = world.config.connections[0]!.tokenFile!;
  const fresh = randomBytes(32).toString('base64url');
  world.emulator.addToken(fresh, GATEWAY_SERVICE_ACCOUNT);
  await writeFile(tokenFile, fresh);
  // The file is looked at again at most once a second; a later request must use the new token.
  let used = '';
  for (let i = 0; i < 40 && used !== `Bearer sha256:${sha(fresh)}`; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const before = world.emulator.requests.length;
    const r = await runKubectl({ version: '1.33', kubeconfig: kc, args: ['get', 'pod', 'db-0', '-n', 'dev', '-o', 'name'] });
    assert.equal(r.code, 0, r.stderr);
    used = String(world.emulator.requests.slice(before).at(-1)?.headers.authorization);
  }
  assert.equal(used, `Bearer sha256:${sha(fresh)}`);
});

test('a policy change takes effect without a restart; a broken policy keeps the last valid one', async () => {
  const kc = await world.kubeconfigFor('mallory');
  const denied = await runKubectl({ version: '1.33', kubeconfig: kc, args: ['get', 'pods', '-n', 'dev'] });
  assert.equal(denied.code, 1);
  const file = join(dir, 'policies', '70-mallory.yaml');
  await writeFile(
    file,
    stringify({ rules: [{ id: 'mallory/read-dev', effect: 'allow', subjects: { users: ['mallory'] }, verbs: ['get', 'list'], resources: ['pods'], namespaces: ['dev'] }] }),
  );
  const wait = async (want: number): Promise<number> => {
    let code = -1;
    for (let i = 0; i < 50 && code !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = (await runKubectl({ version: '1.33', kubeconfig: kc, args: ['get', 'pod', 'db-0', '-n', 'dev', '-o', 'name'] })).code ?? -1;
    }
    return code;
  };
  assert.equal(await wait(0), 0, 'the new rule allows mallory to read pods in dev');
  await writeFile(file, 'rules:\n  - id: [broken\n');
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(await wait(0), 0, 'a broken file does not drop the last valid policy');
  await rm(file);
  assert.equal(await wait(1), 1, 'removing the rule takes the access away again');
});

test('`sluice audit list` and `show` read what the gateway recorded', async () => {
  const db = world.config.store.sqlite.path;
  const kc = await world.kubeconfigFor('bob');
  await runKubectl({ version: '1.33', kubeconfig: kc, args: ['get', 'pods', '-n', 'kube-system'] });
  const list = await run(SLUICE, ['audit', 'list', '--db', db, '--user', 'bob', '--decision', 'deny']);
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.includes('kube-system'));
  assert.ok(row, list.stdout);
  assert.match(row, /\bbob\b.*\blist\b.*\bpods\b.*\bdeny\b.*\b403\b/);
  const id = row.split(/\s+/)[1]!;
  const show = await run(SLUICE, ['audit', 'show', id, '--db', db, '--json']);
  assert.equal(show.code, 0, show.stderr);
  const rec = JSON.parse(show.stdout) as { principal: { username: string }; decision: { rules: string[] }; outcome: { status: number } };
  assert.equal(rec.principal.username, 'bob');
  assert.deepEqual(rec.decision.rules, ['kube-system/only-alice']);
  assert.equal(rec.outcome.status, 403);
  assert.doesNotMatch(show.stdout, /eyJ[\w-]+\.[\w-]+\./, 'no token in the record');
});

test('`sluice audit` reads through the gateway\'s control API, as far as the policy lets each person', async () => {
  const kc = await world.kubeconfigFor('bob');
  await runKubectl({ version: '1.33', kubeconfig: kc, args: ['get', 'pods', '-n', 'prod', '-o', 'name'] });
  const as = async (user: string, ...args: string[]) =>
    run(SLUICE, ['audit', ...args, '--server', world.gateway.url, '--ca', world.caFile, '--token', await world.tokenFor(user)]);
  const forAlice = await as('alice', 'list', '--user', 'bob', '--namespace', 'prod', '--since', 'today', '--json');
  assert.equal(forAlice.code, 0, forAlice.stderr);
  const records = (JSON.parse(forAlice.stdout) as { records: { id: string; principal: { username: string }; attributes: { namespace: string } }[] }).records;
  assert.ok(records.length > 0);
  for (const r of records) assert.deepEqual([r.principal.username, r.attributes.namespace], ['bob', 'prod']);
  // bob sees his own records, and nobody else's: alice's read just now is not among them.
  const forBob = await as('bob', 'list', '--limit', '1000', '--json');
  assert.equal(forBob.code, 0, forBob.stderr);
  const users = new Set((JSON.parse(forBob.stdout) as { records: { principal: { username: string } | null }[] }).records.map((r) => r.principal?.username));
  assert.deepEqual([...users], ['bob']);
  const aliceRead = await as('alice', 'list', '--code', 'audit.read', '--user', 'alice', '--limit', '1', '--json');
  const readId = (JSON.parse(aliceRead.stdout) as { records: { id: string }[] }).records[0]!.id;
  const hidden = await as('bob', 'show', readId);
  assert.equal(hidden.code, 2);
  assert.match(hidden.stderr, /\[AUDIT_RECORD_NOT_FOUND\]/);
  const mallory = await as('mallory', 'list');
  assert.equal(mallory.code, 2);
  assert.match(mallory.stderr, /\[POLICY_DENIED\]/);
});

test('`sluice server -c` runs the gateway from a configuration file, with a kubeconfig connection', async () => {
  // The connection takes server, CA and credentials from a kubeconfig (the gateway's own).
  const upstreamKubeconfig = await writeKubeconfig({
    path: join(dir, 'upstream.kubeconfig'),
    server: world.emulator.url,
    caCert: world.ca.cert,
    user: 'sluice-gateway',
    token: (await readFile(world.config.connections[0]!.tokenFile!, 'utf8')).trim(),
  });
  const cfg = {
    log: { level: 'warn' },
    server: { host: '127.0.0.1', port: 0, tls: { mode: 'dev', caOut: join(dir, 'server-ca.crt') } },
    identity: { issuers: world.config.identity.issuers },
    connections: [{ name: 'staging', kubeconfig: upstreamKubeconfig }],
    policy: { paths: [DEMO_POLICY_DIR] },
    store: { sqlite: { path: join(dir, 'server.db') } },
  };
  const file = join(dir, 'sluice.yaml');
  await writeFile(file, stringify(cfg));
  assert.equal((await run(SLUICE, ['config', 'check', file])).code, 0);

  const server: ChildProcess = spawn(SLUICE, ['server', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    server.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !(/\bready\b/.test(out) && /tls\.mode is/.test(out)); i++) await new Promise((r) => setTimeout(r, 100));
    const url = /connection staging: (\S+)/.exec(out)?.[1];
    assert.ok(url, out);
    assert.match(out, /tls\.mode is \\"dev\\"/, `insecure settings warn at start-up:\n${out}`);
    const kc = await writeKubeconfig({
      path: join(dir, 'kc-staging-bob'),
      server: url,
      caCert: await readFile(join(dir, 'server-ca.crt'), 'utf8'),
      user: 'bob',
      token: await world.tokenFor('bob'),
    });
    const before = world.emulator.requests.length;
    const r = await runKubectl({ version: '1.27', kubeconfig: kc, args: ['get', 'pods', '-n', 'dev', '-o', 'name'] });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod\/db-0/);
    const seen = world.emulator.requests.slice(before);
    assert.ok(seen.length > 0 && seen.every((q) => q.user?.username === 'bob' && q.impersonated));
    const audit = await run(SLUICE, ['audit', 'list', '--db', join(dir, 'server.db'), '--user', 'bob', '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    assert.ok(audit.stdout.includes('"connection":"staging"') || audit.stdout.includes('"connection": "staging"'), audit.stdout.slice(0, 500));
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
  assert.equal(server.exitCode, 0, 'SIGTERM stops the server cleanly');
});
