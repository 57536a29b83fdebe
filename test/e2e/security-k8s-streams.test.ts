/**
 * SECURITY.md "Kubernetes authorization", streaming half: exec over WebSocket (GET) and over
 * SPDY (POST) are the same verb, and so are attach, port-forward, `kubectl cp` and `kubectl
 * debug` (PATCH pods/x/ephemeralcontainers) — bob (developers/no-exec) is refused all of them,
 * with real kubectl 1.27 (SPDY) and 1.33 (WebSocket) and with raw upgrade requests. An upgrade
 * the API server answers with anything but 101 is relayed and the connection closed: bytes sent
 * after it are never tunnelled to the cluster (CVE-2018-1002105).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runKubectl } from '../../testing/harness/index.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import {
  assertStatus,
  auditSince,
  emulatorMark,
  emulatorSince,
  firstJsonBody,
  rawExchange,
  rawRequest,
  startSecurityWorld,
  statusLines,
  type SecurityWorld,
} from './security-helpers.ts';

const API = '/clusters/demo/api/v1';
const NO_EXEC = 'developers do not exec, attach, port-forward or debug through Sluice';

function wsHeaders(token: string): [string, string][] {
  return [
    ['Authorization', `Bearer ${token}`],
    ['Connection', 'Upgrade'],
    ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Version', '13'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Protocol', 'v5.channel.k8s.io'],
  ];
}

function spdyHeaders(token: string): [string, string][] {
  return [
    ['Authorization', `Bearer ${token}`],
    ['Connection', 'Upgrade'],
    ['Upgrade', 'SPDY/3.1'],
    ['X-Stream-Protocol-Version', 'v4.channel.k8s.io'],
    ['Content-Length', '0'],
  ];
}

describe('SECURITY.md Kubernetes authorization: exec, attach, port-forward, cp, debug and failed upgrades', { timeout: 400_000 }, () => {
  let sw: SecurityWorld;
  let bob: string;
  let alice: string;
  let scratch: string;

  before(async () => {
    sw = await startSecurityWorld('security-streams');
    [bob, alice] = await Promise.all([sw.token('bob'), sw.token('alice')]);
    scratch = await mkdtemp(join(tmpdir(), 'sluice-security-streams-scratch-'));
  });

  after(async () => {
    await sw?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Audit records since `since` for a subresource, with their outcome. */
  async function auditFor(since: Date, subresource: string, count = 1): Promise<AuditRecord[]> {
    return auditSince(sw.world, since, (r) => r.attributes?.subresource === subresource, { count });
  }

  /** No request for these subresources reached the cluster since the mark. */
  function assertNotForwarded(mark: number, pattern: RegExp, what: string): void {
    const hits = emulatorSince(sw.world, mark).filter((q) => pattern.test(q.url.split('?')[0]!));
    assert.deepEqual(hits.map((q) => `${q.method} ${q.url}`), [], `${what}: reached the cluster`);
  }

  for (const version of ['1.27', '1.33']) {
    test(`kubectl ${version} exec as bob (${version === '1.27' ? 'SPDY' : 'WebSocket'}) is refused with Forbidden and the rule`, { timeout: 60_000 }, async () => {
      const since = new Date();
      const mark = emulatorMark(sw.world);
      const k = await runKubectl({ version, kubeconfig: await sw.kubeconfig('bob'), args: ['exec', 'db-0', '-n', 'dev', '--', 'sh', '-c', 'echo pwned'], timeoutMs: 45_000 });
      assert.notEqual(k.code, 0, `exec succeeded: ${k.stdout}`);
      assert.doesNotMatch(k.stdout, /pwned/);
      assert.match(k.stderr, /Forbidden|forbidden/, k.stderr);
      assert.match(k.stderr, new RegExp(NO_EXEC), k.stderr);
      assertNotForwarded(mark, /\/exec$/, 'exec');
      const recs = await auditFor(since, 'exec');
      assert.ok(recs.length >= 1, 'exec audited');
      for (const r of recs) {
        assert.equal(r.principal?.username, 'bob');
        assert.equal(r.decision?.effect, 'deny');
        assert.ok(r.decision?.rules.includes('developers/no-exec'), `rules: ${r.decision?.rules.join(',')}`);
        assert.equal(r.outcome?.status, 403);
      }
    });
  }

  test('control: kubectl 1.33 exec as alice in dev works through the same path', { timeout: 60_000 }, async () => {
    const k = await runKubectl({ version: '1.33', kubeconfig: await sw.kubeconfig('alice'), args: ['exec', 'db-0', '-n', 'dev', '--', 'sh', '-c', 'echo sluice-ok'], timeoutMs: 45_000 });
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /sluice-ok/);
  });

  for (const [name, method, headers] of [
    ['WebSocket (GET)', 'GET', wsHeaders],
    ['SPDY (POST)', 'POST', spdyHeaders],
  ] as const) {
    for (const sub of ['exec?command=sh&stdout=true', 'attach?stdout=true', 'portforward?ports=5432']) {
      test(`raw ${name} upgrade to pods/${sub.split('?')[0]} as bob → 403 Status, connection closed, nothing upstream`, { timeout: 20_000 }, async () => {
        const since = new Date();
        const mark = emulatorMark(sw.world);
        const x = await rawExchange(sw.world, {
          bytes: rawRequest(method, `${API}/namespaces/dev/pods/db-0/${sub}`, headers(bob)),
          after: 'GET /api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: x\r\n\r\n',
        });
        assert.deepEqual(statusLines(x.text), [403], x.text.slice(0, 300));
        assertStatus(firstJsonBody(x.text), 403, 'Forbidden');
        assert.ok(x.closed, 'the connection stays open after a refused upgrade');
        assert.deepEqual(emulatorSince(sw.world, mark).map((q) => `${q.method} ${q.url}`), []);
        const recs = await auditFor(since, sub.split('?')[0]!);
        assert.equal(recs.length, 1);
        assert.equal(recs[0]!.attributes?.verb, method === 'GET' ? 'get' : 'create');
        assert.ok(recs[0]!.decision?.rules.includes('developers/no-exec'));
      });
    }
  }

  test('kubectl attach and kubectl port-forward as bob are refused', { timeout: 90_000 }, async () => {
    const kc = await sw.kubeconfig('bob');
    for (const version of ['1.27', '1.33']) {
      const mark = emulatorMark(sw.world);
      const attach = await runKubectl({ version, kubeconfig: kc, args: ['attach', 'db-0', '-n', 'dev'], timeoutMs: 30_000 });
      assert.notEqual(attach.code, 0, `${version} attach: ${attach.stdout}`);
      assert.match(attach.stderr, new RegExp(NO_EXEC), `${version} attach: ${attach.stderr}`);
      const pf = await runKubectl({ version, kubeconfig: kc, args: ['port-forward', 'pod/db-0', '-n', 'dev', '0:5432', '--address', '127.0.0.1'], timeoutMs: 20_000 });
      assert.notEqual(pf.code, 0, `${version} port-forward: ${pf.stdout}`);
      assert.doesNotMatch(pf.stdout, /Forwarding from/, `${version}: a port was forwarded`);
      assert.match(pf.stderr, new RegExp(NO_EXEC), `${version} port-forward: ${pf.stderr}`);
      assertNotForwarded(mark, /\/(attach|portforward)$/, `${version} attach/port-forward`);
    }
  });

  test('kubectl cp to and from a pod as bob is refused (it is exec of tar)', { timeout: 90_000 }, async () => {
    const kc = await sw.kubeconfig('bob');
    const src = join(scratch, 'upload.txt');
    await writeFile(src, 'payload\n');
    for (const version of ['1.27', '1.33']) {
      const mark = emulatorMark(sw.world);
      const up = await runKubectl({ version, kubeconfig: kc, args: ['cp', src, 'dev/db-0:/tmp/upload.txt'], timeoutMs: 30_000 });
      assert.notEqual(up.code, 0, `${version} cp to pod succeeded`);
      assert.match(up.stderr, new RegExp(NO_EXEC), `${version} cp to: ${up.stderr}`);
      const down = await runKubectl({ version, kubeconfig: kc, args: ['cp', 'dev/db-0:/etc/hostname', join(scratch, `hostname-${version}`)], timeoutMs: 30_000 });
      assert.notEqual(down.code, 0, `${version} cp from pod succeeded`);
      assert.match(down.stderr, new RegExp(NO_EXEC), `${version} cp from: ${down.stderr}`);
      assertNotForwarded(mark, /\/exec$/, `${version} cp`);
    }
  });

  test('kubectl debug (PATCH pods/x/ephemeralcontainers) as bob is refused like exec', { timeout: 90_000 }, async () => {
    const kc = await sw.kubeconfig('bob');
    for (const version of ['1.27', '1.33']) {
      const since = new Date();
      const mark = emulatorMark(sw.world);
      const k = await runKubectl({ version, kubeconfig: kc, args: ['debug', 'db-0', '-n', 'dev', '--image=busybox:1.36', '--', 'sleep', '1'], timeoutMs: 30_000 });
      assert.notEqual(k.code, 0, `${version} debug succeeded: ${k.stdout}`);
      assert.match(k.stderr, /Forbidden|forbidden/, `${version}: ${k.stderr}`);
      assert.match(k.stderr, new RegExp(NO_EXEC), `${version}: ${k.stderr}`);
      assertNotForwarded(mark, /\/ephemeralcontainers$/, `${version} debug`);
      const recs = await auditFor(since, 'ephemeralcontainers');
      assert.equal(recs.length, 1);
      assert.equal(recs[0]!.attributes?.verb, 'patch');
      assert.ok(recs[0]!.decision?.rules.includes('developers/no-exec'));
    }
  });

  const FAILED_UPGRADES: { what: string; path: string; status: number; method: 'GET' | 'POST' }[] = [
    { what: 'exec on a missing pod (WebSocket)', path: `${API}/namespaces/dev/pods/no-such-pod/exec?command=sh&stdout=true`, status: 404, method: 'GET' },
    { what: 'exec on a missing pod (SPDY)', path: `${API}/namespaces/dev/pods/no-such-pod/exec?command=sh&stdout=true`, status: 404, method: 'POST' },
    { what: 'exec in a missing container (WebSocket)', path: `${API}/namespaces/dev/pods/db-0/exec?command=sh&stdout=true&container=nope`, status: 400, method: 'GET' },
    { what: 'exec without a command (SPDY)', path: `${API}/namespaces/dev/pods/db-0/exec?stdout=true`, status: 400, method: 'POST' },
  ];

  for (const f of FAILED_UPGRADES) {
    test(`CVE-2018-1002105: ${f.what} → the client gets ${f.status}, the socket is closed, later bytes are not tunnelled`, { timeout: 20_000 }, async () => {
      const mark = emulatorMark(sw.world);
      const smuggled = 'GET /api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: x\r\n\r\nGET /clusters/demo/api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: x\r\n\r\n';
      const x = await rawExchange(sw.world, {
        bytes: rawRequest(f.method, f.path, f.method === 'GET' ? wsHeaders(alice) : spdyHeaders(alice)),
        after: smuggled,
        timeoutMs: 5_000,
      });
      assert.deepEqual(statusLines(x.text), [f.status], x.text.slice(0, 400));
      assert.match(x.text, /\r\nconnection: close\r\n/i);
      assert.ok(x.closed, 'the connection stayed open after a failed upgrade');
      const seen = emulatorSince(sw.world, mark);
      assert.equal(seen.length, 1, `the cluster saw: ${seen.map((q) => `${q.method} ${q.url}`).join(', ')}`);
      assert.equal(seen[0]!.status, f.status);
      assert.equal(seen[0]!.user?.username, 'alice');
      assert.ok(!seen.some((q) => q.url.includes('kube-system')), 'smuggled bytes reached the cluster');
    });
  }
});
