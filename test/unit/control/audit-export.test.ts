/**
 * `GET /sluice/v1/audit/export` and `sluice audit export` over it, with real tokens, the demo
 * policy and an in-memory store whose trail is real: auditors get every event, bob gets his own
 * with stub lines for everyone else's — and both exports verify (verifyTrail); no stub ever carries another person's data; filters apply;
 * the read is recorded; a caller without a rule gets 403 and no line.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import type { AuditBegin } from '../../../src/audit/types.ts';
import { loadPolicies } from '../../../src/policy/load-policies.ts';
import { createMemoryAuditStore, type MemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { parseExportLine } from '../../../src/audit/trail/export-line.ts';
import { verifyTrail, type TrailItem } from '../../../src/audit/trail/verify-trail.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';
import { startControlWorld, type ControlWorld } from './control-fixture.ts';

const SLUICE = fileURLToPath(new URL('../../../bin/sluice', import.meta.url));
const done = { status: 200, bytesIn: 0, bytesOut: 10, durationMs: 1, completedAt: new Date() };

describe('control API: audit export', { timeout: 120_000 }, () => {
  let w: ControlWorld;
  let agent: Agent;
  let store: MemoryAuditStore;
  let api: { url: string; close(): Promise<void> };
  const mine: AuditBegin[] = [];
  const theirs: AuditBegin[] = [];

  async function exportAs(user: string, query = ''): Promise<{ status: number; type: string; lines: string[] }> {
    const res = await request(`${api.url}/sluice/v1/audit/export${query}`, { headers: { authorization: `Bearer ${await w.token(user)}` }, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), lines: text.split('\n').filter(Boolean) };
  }
  const items = (lines: string[]): TrailItem[] => lines.map((l, i) => parseExportLine(l, i + 1));

  before(async () => {
    w = await startControlWorld();
    agent = new Agent({ connect: { ca: w.caCert } });
    store = createMemoryAuditStore();
    const bob = w.person('bob', ['developers']);
    const alice = w.person('alice', ['sre', 'approvers']);
    for (let i = 0; i < 4; i++) {
      const b = auditEntry({ minute: i, namespace: 'prod', principal: bob });
      const a = auditEntry({ minute: i, namespace: 'prod', principal: alice, path: '/api/v1/namespaces/prod/secrets/alices-secret' });
      mine.push(b);
      theirs.push(a);
      await store.insert(b, done);
      await store.insert(a, done);
    }
    const recorder = createAuditRecorder(store, { closeStore: false });
    const current = await loadPolicies('policies/demo');
    api = await w.startApi({ audit: { store, recorder, policies: () => current } });
    await Promise.all(['alice', 'bob', 'mallory'].map((u) => w.token(u)));
  });

  after(async () => {
    await api?.close();
    await agent?.close();
    await w?.stop();
  });

  test('an auditor exports every event as JSON Lines, and the export verifies', async () => {
    const r = await exportAs('alice');
    assert.equal(r.status, 200);
    assert.match(r.type, /^application\/x-ndjson/);
    const got = items(r.lines);
    assert.ok(got.every((x) => !('stub' in x)), 'no stubs for an unscoped reader');
    for (const e of [...mine, ...theirs]) assert.ok(r.lines.some((l) => l.includes(e.id)));
    const report = await verifyTrail(got, { trustedKeys: new Map() });
    assert.equal(report.ok, true, report.failure?.message);
  });

  test('bob gets his own events and stub lines for the rest; his export verifies and holds nothing of alice', async () => {
    const r = await exportAs('bob');
    assert.equal(r.status, 200);
    const got = items(r.lines);
    const stubs = got.filter((x) => 'stub' in x);
    assert.ok(stubs.length > 0);
    for (const e of mine) assert.ok(r.lines.some((l) => l.includes(e.id)), 'his own events are there');
    for (const e of theirs) assert.ok(!r.lines.some((l) => l.includes(e.id)), "alice's ids are not");
    assert.ok(!r.lines.some((l) => l.includes('alices-secret') || l.includes('"username":"alice"')), "nothing of alice's requests");
    const report = await verifyTrail(got, { trustedKeys: new Map() });
    assert.equal(report.ok, true, report.failure?.message);
    assert.ok(report.events > 0 && report.events < got.length + 100);
  });

  test('filters narrow the export the same way; everything else is stubbed', async () => {
    const r = await exportAs('alice', `?user=bob&since=${encodeURIComponent(new Date(0).toISOString())}`);
    assert.equal(r.status, 200);
    for (const e of theirs) assert.ok(!r.lines.some((l) => l.includes(e.id)));
    assert.equal((await verifyTrail(items(r.lines), { trustedKeys: new Map() })).ok, true);
  });

  test('sluice audit export reads through the control API as the person running it', async () => {
    const token = await w.token('bob');
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(SLUICE, ['audit', 'export'], { env: { ...process.env, SLUICE_SERVER: api.url.replace(/\/$/, ''), SLUICE_CA: w.caFile, SLUICE_TOKEN: token } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.split('\n').filter(Boolean);
    for (const e of theirs) assert.ok(!lines.some((l) => l.includes(e.id)));
    assert.equal((await verifyTrail(items(lines), { trustedKeys: new Map() })).ok, true);
  });

  test('the export is itself recorded; a caller without a rule gets 403 and no line; bad parameters 400', async () => {
    const reads = (await store.list({ code: 'audit.read', user: 'bob' })).records;
    assert.ok(reads.some((x) => x.path === '/sluice/v1/audit/export' && x.outcome?.status === 200 && (x.outcome.bytesOut ?? 0) > 0));
    const denied = await exportAs('mallory');
    assert.equal(denied.status, 403);
    assert.ok(!denied.lines.some((l) => l.includes('"seq"')));
    assert.equal((await exportAs('alice', '?fromSeq=abc')).status, 400);
    assert.equal((await exportAs('alice', '?nonsense=1')).status, 400);
  });
});
