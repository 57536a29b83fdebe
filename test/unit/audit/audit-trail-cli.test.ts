/**
 * `bin/sluice audit verify|export|keys` against a store written here through the real writer with
 * a signing key from `audit keys generate`: an untouched trail verifies (store and export), one
 * flipped byte fails at its seq, a key the auditor does not trust fails, a re-serialized export
 * still verifies, a recorded body changed in the store is found, and `--against` sees the newest
 * events cut away.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { loadSigningKey } from '../../../src/audit/trail/signing-key.ts';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';
import { runSluice, type CliResult } from './run-sluice.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trail-cli-'));
const db = join(dir, 'sluice.db');
const keyFile = join(dir, 'trail-signing.pem');
const config = join(dir, 'sluice.yaml');
let recordId = '';

const cli = (...args: string[]): Promise<CliResult> => runSluice(dir, args);

before(async () => {
  writeFileSync(config, `store:\n  sqlite:\n    path: ${db}\ntrail:\n  signingKeyFile: ${keyFile}\n  checkpointEvents: 20\n`);
  const gen = await cli('audit', 'keys', 'generate', '-c', config);
  assert.equal(gen.code, 0, gen.stderr);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const { signer } = loadSigningKey(keyFile);
  const store = await openSqliteAuditStore({ path: db, trail: { signer, checkpointEvents: 20, checkpointSeconds: 0 } });
  const recorder = createAuditRecorder(store);
  for (let i = 0; i < 30; i++) {
    const e = auditEntry({ minute: i });
    const h = recorder.begin(e);
    h.record('response', Buffer.from(`{"kind":"Pod","metadata":{"name":"web-${i}"}}`));
    await h.complete({ status: 200, bytesIn: 0, bytesOut: 40, durationMs: 1 });
    if (i === 7) recordId = e.id;
  }
  await recorder.close();
  writeFileSync(join(dir, 'trusted.pem'), (await cli('audit', 'keys', 'export', '-c', config)).stdout);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the store to tamper with. */
function copyDb(name: string): string {
  const to = join(dir, name);
  copyFileSync(db, to);
  return to;
}

test('keys generate refuses to overwrite; keys export prints the public key', async () => {
  const again = await cli('audit', 'keys', 'generate', '-c', config);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists/);
  assert.match(readFileSync(join(dir, 'trusted.pem'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
});

test('an untouched trail verifies, with the trusted key and the bodies', async () => {
  const r = await cli('audit', 'verify', '--db', db, '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok: \d+ events/);
  assert.match(r.stdout, /30 recorded bodies match/);
  const json = await cli('audit', 'verify', '--db', db, '--trusted-keys', join(dir, 'trusted.pem'), '--json');
  const report = JSON.parse(json.stdout) as { ok: boolean; checkpoints: number; events: number };
  assert.equal(report.ok, true);
  assert.ok(report.checkpoints >= 3, `checkpoints: ${report.checkpoints}`);
});

test('without --trusted-keys, verify says it trusts the gateway\'s own key', async () => {
  const r = await cli('audit', 'verify', '-c', config);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /trusting the gateway's own key/);
});

test('one flipped byte in an event fails verify at that seq, exit 1', async () => {
  const copy = copyDb('flipped.db');
  const sql = new Database(copy);
  const row = sql.prepare("select seq, event from trail where type = 'request.begin' order by seq limit 1 offset 5").get() as { seq: number; event: string };
  sql.prepare('update trail set event = ? where seq = ?').run(row.event.replace('web-1', 'web-X'), row.seq);
  sql.close();
  const r = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`FAILED: seq ${row.seq}: .*edited`));
});

test('a recorded body changed in the store is found; --no-bodies skips the check', async () => {
  const copy = copyDb('body.db');
  const sql = new Database(copy);
  sql.prepare("update trail_chunk set data = cast('{\"kind\":\"Pod\",\"metadata\":{\"name\":\"evil\"}}' as blob) where begin_seq = (select begin_seq from audit_events where id = ?)").run(recordId);
  sql.close();
  const r = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`FAILED: seq \\d+: recorded response of request ${recordId}`));
  const skip = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'), '--no-bodies');
  assert.equal(skip.code, 0, skip.stdout);
});

test('bodies deleted by retention are reported as pruned, not as broken', async () => {
  const copy = copyDb('pruned.db');
  const sql = new Database(copy);
  sql.prepare('delete from trail_chunk where begin_seq = (select begin_seq from audit_events where id = ?)').run(recordId);
  sql.close();
  const r = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /29 recorded bodies match, 1 pruned by retention/);
});

test('a key the auditor does not trust fails at the first checkpoint', async () => {
  const other = join(dir, 'other.pem');
  const gen = await cli('audit', 'keys', 'generate', '--file', other);
  assert.equal(gen.code, 0, gen.stderr);
  writeFileSync(join(dir, 'other.pub'), (await cli('audit', 'keys', 'export', '--file', other)).stdout);
  const r = await cli('audit', 'verify', '--db', db, '--trusted-keys', join(dir, 'other.pub'));
  assert.equal(r.code, 1);
  assert.match(r.stdout, /FAILED: seq \d+: checkpoint signed by key [0-9a-f]{16}, which is not among the trusted keys/);
});

test('an export verifies on its own, also after a pipeline re-serialized it; a range starts at a checkpoint', async () => {
  const exp = await cli('audit', 'export', '--db', db);
  assert.equal(exp.code, 0, exp.stderr);
  const lines = exp.stdout.trim().split('\n');
  assert.ok(lines.length > 60);
  for (const l of lines) assert.deepEqual(Object.keys(JSON.parse(l) as object), ['@timestamp', 'chain', 'hash', 'seq', 'type', 'event']);
  writeFileSync(join(dir, 'trail.jsonl'), exp.stdout);
  const r = await cli('audit', 'verify', '--export', join(dir, 'trail.jsonl'), '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r.code, 0, r.stdout + r.stderr);

  const reserialized = lines.map((l) => JSON.stringify(JSON.parse(l), null, 0).replace('"event":{', '"event": {')).join('\n');
  writeFileSync(join(dir, 'siem.jsonl'), reserialized);
  const r2 = await cli('audit', 'verify', '--export', join(dir, 'siem.jsonl'), '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);

  const ranged = await cli('audit', 'export', '--db', db, '--from', '40', '--to', '50');
  const first = JSON.parse(ranged.stdout.split('\n')[0]!) as { seq: number; type: string };
  assert.equal(first.type, 'trail.checkpoint', 'a range starts at the checkpoint before it, so it verifies alone');
  assert.ok(first.seq <= 40);
  writeFileSync(join(dir, 'range.jsonl'), ranged.stdout);
  const r3 = await cli('audit', 'verify', '--export', join(dir, 'range.jsonl'), '--trusted-keys', join(dir, 'trusted.pem'));
  assert.equal(r3.code, 0, r3.stdout + r3.stderr);
});

test('--against the checkpoints in the gateway log finds the newest events cut away', async () => {
  const exp = await cli('audit', 'export', '--db', db);
  const published = exp.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; event: { checkpoint?: unknown } })
    .filter((l) => l.type === 'trail.checkpoint')
    .map((l) => JSON.stringify({ level: 30, time: Date.now(), msg: 'trail checkpoint', checkpoint: l.event.checkpoint }));
  // The gateway's log as it is: checkpoint lines among others.
  const log = ['{"level":30,"msg":"sluice gateway listening"}', 'not json at all', ...published, '{"level":40,"msg":"slow upstream"}'];
  writeFileSync(join(dir, 'published.jsonl'), `${log.join('\n')}\n`);
  const ok = await cli('audit', 'verify', '--db', db, '--trusted-keys', join(dir, 'trusted.pem'), '--against', join(dir, 'published.jsonl'));
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);

  const copy = copyDb('cut.db');
  const sql = new Database(copy);
  const last = sql.prepare("select seq from trail where type = 'trail.checkpoint' order by seq desc limit 1 offset 1").get() as { seq: number };
  sql.prepare('delete from trail where seq > ?').run(last.seq - 3);
  sql.close();
  const plain = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'), '--no-bodies');
  assert.equal(plain.code, 0, 'the store alone cannot see a cut tail');
  const against = await cli('audit', 'verify', '--db', copy, '--trusted-keys', join(dir, 'trusted.pem'), '--no-bodies', '--against', join(dir, 'published.jsonl'));
  assert.equal(against.code, 1);
  assert.match(against.stdout, /FAILED/);
});
