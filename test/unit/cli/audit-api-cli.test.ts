/**
 * `bin/sluice audit list|show` as a real process reading through the control API (real HTTPS,
 * the real identity provider, the demo policy: alice and carol read everything, bob his own).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import type { AuditBegin } from '../../../src/audit/types.ts';
import { loadPolicies } from '../../../src/policy/load-policies.ts';
import { createMemoryAuditStore, type MemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { startControlWorld, type ControlWorld } from '../control/control-fixture.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';

const sluice = fileURLToPath(new URL('../../../bin/sluice', import.meta.url));

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

describe('sluice audit through the control API', { timeout: 180_000 }, () => {
  let w: ControlWorld;
  let api: { url: string; close(): Promise<void> };
  let store: MemoryAuditStore;
  let cwd: string;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_')));
  const now = Date.now();
  let bobProd: AuditBegin;
  let bobDev: AuditBegin;
  let aliceProd: AuditBegin;
  let bobYesterday: AuditBegin;

  function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(sluice, args, { cwd, env: { ...env, ...extraEnv } }, (err, stdout, stderr) => {
        resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 });
      });
    });
  }
  const as = async (user: string, ...args: string[]): Promise<Run> => cli([...args, '--token', await w.token(user), '--server', api.url, '--ca', w.caFile]);
  const idsIn = (out: string): string[] => out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[1]!);

  before(async () => {
    w = await startControlWorld();
    cwd = mkdtempSync(join(tmpdir(), 'sluice-audit-api-cli-'));
    store = createMemoryAuditStore();
    const bob = w.person('bob', ['developers']);
    const alice = w.person('alice', ['sre', 'approvers']);
    bobProd = { ...auditEntry({ verb: 'delete', namespace: 'prod', principal: bob }), time: new Date(now - 30_000) };
    bobDev = { ...auditEntry({ namespace: 'dev', principal: bob }), time: new Date(now - 20_000) };
    aliceProd = { ...auditEntry({ namespace: 'prod', principal: alice }), time: new Date(now - 10_000) };
    bobYesterday = { ...auditEntry({ namespace: 'prod', principal: bob }), time: new Date(now - 2 * 86_400_000) };
    for (const e of [bobProd, bobDev, aliceProd, bobYesterday]) await store.insert(e);
    const policies = await loadPolicies('policies/demo');
    api = await w.startApi({ audit: { store, recorder: createAuditRecorder(store, { closeStore: false }), policies: () => policies } });
    await Promise.all(['alice', 'bob', 'mallory'].map((u) => w.token(u)));
  });

  after(async () => {
    await api?.close();
    await w?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  test('"what did bob do in prod today" is one command', async () => {
    const r = await as('alice', 'audit', 'list', '--user', 'bob', '--namespace', 'prod', '--since', 'today', '--code', 'kubernetes.request');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^TIME\s+ID\s+USER\s+VERB/);
    assert.deepEqual(idsIn(r.stdout), [bobProd.id.slice(0, 8)]);
    const week = await as('alice', 'audit', 'list', '--user', 'bob', '--namespace', 'prod', '--since', '7d', '--code', 'kubernetes.request');
    assert.deepEqual(idsIn(week.stdout), [bobProd, bobYesterday].map((e) => e.id.slice(0, 8)));
  });

  test('--json prints what the API answers; token, server and CA may come from the environment', async () => {
    const r = await cli(['audit', 'list', '--json', '--verb', 'delete'], { SLUICE_TOKEN: await w.token('alice'), SLUICE_SERVER: api.url, SLUICE_CA: w.caFile });
    assert.equal(r.code, 0, r.stderr);
    const page = JSON.parse(r.stdout) as { records: { id: string; time: string }[] };
    assert.deepEqual(page.records.map((x) => x.id), [bobProd.id]);
    assert.equal(page.records[0]!.time, bobProd.time.toISOString());
  });

  test('bob lists only his own records and cannot show alice\'s', async () => {
    const r = await as('bob', 'audit', 'list', '--code', 'kubernetes.request');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(idsIn(r.stdout), [bobDev, bobProd, bobYesterday].map((e) => e.id.slice(0, 8)));
    const theirs = await as('bob', 'audit', 'show', aliceProd.id.slice(0, 8));
    assert.equal(theirs.code, 2);
    assert.match(theirs.stderr, /no audit record .*\(or you may not see it\) \[AUDIT_RECORD_NOT_FOUND\]/);
    const own = await as('bob', 'audit', 'show', bobProd.id.slice(0, 8));
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, new RegExp(`^id:\\s+${bobProd.id}$`, 'm'));
    assert.match(own.stdout, /^attributes\.verb:\s+delete$/m);
    assert.match(own.stdout, /^time:\s+\d{4}-\d{2}-\d{2}T/m);
  });

  test('mallory is refused by the policy; bad filters are refused before anything is sent', async () => {
    const r = await as('mallory', 'audit', 'list');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /you may not read the audit trail: no policy rule allows list events\.audit\.sluice\.dev for mallory \[POLICY_DENIED\]/);
    const before = (await store.list({ code: 'audit.read', limit: 1000 })).records.length;
    const bad = await as('alice', 'audit', 'list', '--since', 'yesterday');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\[AUDIT_QUERY_INVALID\]/);
    assert.equal((await store.list({ code: 'audit.read', limit: 1000 })).records.length, before, 'nothing reached the gateway');
  });

  test('each CLI read is recorded as audit.read at the gateway', async () => {
    await as('alice', 'audit', 'list', '--group', 'developers', '--resource', 'pods', '--text', 'web-1', '--limit', '3');
    const [read] = (await store.list({ code: 'audit.read', user: 'alice' })).records;
    assert.deepEqual(read?.detail, { filter: { group: 'developers', resource: 'pods', text: 'web-1', limit: 3 }, count: 3 });
  });
});
