/** `bin/sluice audit list|show` against a store filled here (the CLI opens it read-only). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import type { AuditBegin } from '../../../src/audit/types.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';
import { runSluice, type CliResult } from './run-sluice.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-cli-'));
const db = join(dir, 'sluice.db');

const cli = (...args: string[]): Promise<CliResult> => runSluice(dir, args);

const now = Date.now();
const ago = (min: number): Partial<AuditBegin> => ({ time: new Date(now - min * 60_000) });
const getDev = { ...auditEntry({ namespace: 'dev' }), ...ago(5) };
const delProd = {
  ...auditEntry({ verb: 'delete', namespace: 'prod', decision: { effect: 'deny', rules: ['no-prod-delete'], message: 'deleting in prod needs approval', policyDigest: 'sha256:1' } }),
  ...ago(4),
};
const botList = {
  ...auditEntry({ verb: 'list', namespace: 'dev', principal: { issuer: 'https://idp', subject: 'm', username: 'ci-bot', groups: [] } }),
  ...ago(3),
};
const authnFailed: AuditBegin = {
  id: auditEntry().id,
  code: 'authn.failed',
  principal: null,
  connection: 'demo',
  method: 'GET',
  path: '/api/v1/namespaces/prod/secrets',
  query: '',
  sourceIp: '10.0.0.9',
  error: { code: 'AUTHN_INVALID', message: 'token expired' },
  ...ago(2),
} as AuditBegin;
const old = { ...auditEntry({ verb: 'get', namespace: 'dev' }), ...ago(180) };

before(async () => {
  const store = await openSqliteAuditStore({ path: db });
  for (const e of [old, getDev, delProd, botList, authnFailed]) await store.insert(e);
  await store.complete(getDev.id, { status: 200, bytesIn: 0, bytesOut: 812, durationMs: 14, completedAt: new Date(now) });
  await store.complete(delProd.id, { status: 403, bytesIn: 0, bytesOut: 300, durationMs: 2, completedAt: new Date(now) });
  await store.complete(authnFailed.id, { status: 401, bytesIn: 0, bytesOut: 120, durationMs: 1, completedAt: new Date(now) });
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const idsIn = (out: string): string[] =>
  out.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[1]!);

test('audit list prints a table, newest first', async () => {
  const { stdout, code } = await cli('audit', 'list', '--db', db);
  assert.equal(code, 0);
  const lines = stdout.trim().split('\n');
  assert.match(lines[0]!, /^TIME\s+ID\s+USER\s+VERB\s+RESOURCE\s+NAMESPACE\/NAME\s+DECISION\s+STATUS\s+DURATION$/);
  assert.deepEqual(idsIn(stdout), [authnFailed, botList, delProd, getDev, old].map((e) => e.id.slice(0, 8)));
  const del = lines.find((l) => l.includes(delProd.id.slice(0, 8)))!;
  assert.match(del, /Z\s+\w{8}\s+alice\s+delete\s+pods\s+prod\/web-1\s+deny\s+403\s+2ms$/);
  assert.match(lines.find((l) => l.includes(authnFailed.id.slice(0, 8)))!, /\s-\s+get\s+\/api\/v1\/namespaces\/prod\/secrets\s+-\s+AUTHN_INVALID\s+401\s+1ms$/);
  assert.match(lines.find((l) => l.includes(botList.id.slice(0, 8)))!, /ci-bot\s+list\s+pods\s+dev\/web-1\s+allow\s+-\s+-$/, 'in-flight records show - for status and duration');
});

test('audit list filters by user, verb, namespace, decision and time', async () => {
  const ids = async (...args: string[]): Promise<string[]> => idsIn((await cli('audit', 'list', '--db', db, ...args)).stdout);
  const short = (...es: AuditBegin[]): string[] => es.map((e) => e.id.slice(0, 8));
  const cases: [string[], string[]][] = [
    [['--user', 'ci-bot'], short(botList)],
    [['--verb', 'delete'], short(delProd)],
    [['--namespace', 'dev'], short(botList, getDev, old)],
    [['--decision', 'deny'], short(delProd)],
    [['--since', '1h'], short(authnFailed, botList, delProd, getDev)],
    [['--until', '1h'], short(old)],
    [['--since', new Date(now - 4.5 * 60_000).toISOString(), '--until', '150s'], short(botList, delProd)],
    [['--user', 'alice', '--namespace', 'dev', '--since', '1d'], short(getDev, old)],
  ];
  const got = await Promise.all(cases.map(([args]) => ids(...args)));
  cases.forEach(([args, want], i) => assert.deepEqual(got[i], want, args.join(' ')));
  const none = await cli('audit', 'list', '--db', db, '--user', 'nobody');
  assert.equal(none.stdout, 'no audit records match\n');
});

test('audit list pages with --limit and --before, and prints JSON', async () => {
  const first = await cli('audit', 'list', '--db', db, '--limit', '2');
  assert.equal(idsIn(first.stdout).length, 2);
  const cursor = /--before (\S+)/.exec(first.stderr)?.[1];
  assert.ok(cursor, first.stderr);
  const rest = await cli('audit', 'list', '--db', db, '--limit', '10', '--before', cursor);
  assert.deepEqual(idsIn(rest.stdout), [delProd, getDev, old].map((e) => e.id.slice(0, 8)));
  const json = JSON.parse((await cli('audit', 'list', '--db', db, '--json', '--verb', 'delete')).stdout) as { records: { id: string; decision: { rules: string[] } }[] };
  assert.equal(json.records.length, 1);
  assert.equal(json.records[0]!.id, delProd.id);
  assert.deepEqual(json.records[0]!.decision.rules, ['no-prod-delete']);
});

test('audit show prints every field of a record found by id or unique prefix', async () => {
  const { stdout, code } = await cli('audit', 'show', delProd.id.slice(0, 8), '--db', db);
  assert.equal(code, 0);
  for (const re of [
    new RegExp(`^id:\\s+${delProd.id}$`, 'm'),
    /^code:\s+kubernetes\.request$/m,
    /^principal\.username:\s+alice$/m,
    /^principal\.groups:\s+dev, oncall$/m,
    /^attributes\.verb:\s+delete$/m,
    /^attributes\.namespace:\s+prod$/m,
    /^decision\.effect:\s+deny$/m,
    /^decision\.rules:\s+no-prod-delete$/m,
    /^decision\.message:\s+deleting in prod needs approval$/m,
    /^outcome\.status:\s+403$/m,
    /^outcome\.bytesOut:\s+300$/m,
    /^query:\s+pretty=true$/m,
    /^sourceIp:\s+127\.0\.0\.1$/m,
  ]) assert.match(stdout, re);
  const json = JSON.parse((await cli('audit', 'show', authnFailed.id, '--json', '--db', db)).stdout) as Record<string, unknown>;
  assert.equal(json.principal, null);
  assert.deepEqual(json.error, { code: 'AUTHN_INVALID', message: 'token expired' });
});

test('audit errors: unknown id, bad filters, missing store', async () => {
  const missing = await cli('audit', 'show', 'ffffffff', '--db', db);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\[AUDIT_RECORD_NOT_FOUND\]/);
  const bad = [['--since', 'yesterday'], ['--limit', '0'], ['--limit', '5000'], ['--decision', 'maybe'], ['--before', 'x']];
  const results = await Promise.all(bad.map((args) => cli('audit', 'list', '--db', db, ...args)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, bad[i]!.join(' '));
    assert.match(r.stderr, /\[AUDIT_QUERY_INVALID\]/, bad[i]!.join(' '));
  });
  const nostore = await cli('audit', 'list', '--db', join(dir, 'absent.db'));
  assert.equal(nostore.code, 2);
  assert.match(nostore.stderr, /absent\.db.*\[STORE_UNAVAILABLE\]/);
  const badId = await cli('audit', 'show', 'not-an-id!', '--db', db);
  assert.equal(badId.code, 2);
  assert.match(badId.stderr, /not an audit record id.*\[AUDIT_QUERY_INVALID\]/);
});

test('audit list --db takes the new filters: group, connection, resource, code, text, since today', async () => {
  const ids = async (...args: string[]): Promise<string[]> => idsIn((await cli('audit', 'list', '--db', db, ...args)).stdout);
  const short = (...es: AuditBegin[]): string[] => es.map((e) => e.id.slice(0, 8));
  assert.deepEqual(await ids('--group', 'oncall'), short(delProd, getDev, old));
  assert.deepEqual(await ids('--group', 'on'), []);
  assert.deepEqual(await ids('--connection', 'demo', '--user', 'ci-bot'), short(botList));
  assert.deepEqual(await ids('--resource', 'pods', '--verb', 'delete'), short(delProd));
  assert.deepEqual(await ids('--code', 'authn.failed'), short(authnFailed));
  assert.deepEqual(await ids('--text', 'SECRETS'), short(authnFailed));
  const today = await ids('--since', 'today');
  const midnight = new Date();
  midnight.setUTCHours(0, 0, 0, 0);
  const expected = [authnFailed, botList, delProd, getDev, old].filter((e) => e.time.getTime() >= midnight.getTime());
  assert.deepEqual(today, short(...expected));
  for (const bad of [['--code', 'nope'], ['--text', ''], ['--resource', 'a/b/c'], ['--group', 'x'.repeat(300)]]) {
    const r = await cli('audit', 'list', '--db', db, ...bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.match(r.stderr, /\[AUDIT_QUERY_INVALID\]/, bad.join(' '));
  }
});

test('without --db the CLI reads through the control API, and needs a token for it', async () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUICE_')));
  const r = await runSluice(dir, ['audit', 'list', '--user', 'bob'], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no access token.*\[AUTHN_MISSING\]/);
});
