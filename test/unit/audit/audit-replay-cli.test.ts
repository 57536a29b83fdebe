/**
 * `bin/sluice audit replay` against a SQLite store filled here with an exec session and its
 * recorded chunks (the CLI opens the file read-only): `--cast` prints a valid asciicast v2, a
 * fast playback writes the output (and, with `--input`, what was typed) in order, a record that
 * is not a recorded exec/attach is refused with AUDIT_NOT_REPLAYABLE. No timing is asserted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditBegin, RecordedStream } from '../../../src/audit/types.ts';
import type { NumberedChunk } from '../../../src/store/audit-store.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';
import { digestChunks } from '../../../src/audit/trail/body-digest.ts';
import type { BodyCommitments } from '../../../src/audit/trail/trail-events.ts';
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { runSluice, type CliResult } from './run-sluice.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-audit-replay-'));
const db = join(dir, 'sluice.db');

const cli = (...args: string[]): Promise<CliResult> => runSluice(dir, args);

const TIME = new Date('2026-11-27T10:00:00.000Z');

function entry(subresource: string, query: string): AuditBegin {
  const path = `/api/v1/namespaces/shop/pods/web-1${subresource ? `/${subresource}` : ''}`;
  return {
    id: randomUUID(),
    time: TIME,
    code: 'kubernetes.request',
    principal: { issuer: 'https://idp', subject: 'u-1', username: 'alice', groups: [] },
    connection: 'prod',
    method: 'GET',
    path,
    query,
    sourceIp: '127.0.0.1',
    attributes: { connection: 'prod', verb: subresource ? 'create' : 'get', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource, namespace: 'shop', name: 'web-1', isResourceRequest: true, path },
    decision: { effect: 'allow', rules: ['sre'], message: '', policyDigest: 'sha256:1' },
  };
}

const exec = entry('exec', 'command=sh&container=app&stdin=true&stdout=true&tty=true');
const quiet = entry('exec', 'command=true&container=app');
const get = entry('', '');
const done = { status: 101, bytesIn: 10, bytesOut: 100, durationMs: 1500, completedAt: new Date(TIME.getTime() + 1500) };

/** What the recorder's outcome commits to for these chunks (one digest per stream). */
function commitmentsOf(chunks: NumberedChunk[]): BodyCommitments {
  const out: BodyCommitments = {};
  for (const stream of new Set(chunks.map((c) => c.stream))) {
    const mine = chunks.filter((c) => c.stream === stream);
    const bytes = mine.reduce((a, c) => a + c.data.length, 0);
    out[stream] = { chunks: mine.length, recordedBytes: bytes, totalBytes: bytes, truncated: false, digest: digestChunks(mine) };
  }
  return out;
}

let n = 0;
const chunk = (stream: RecordedStream, tUs: number, data: string): NumberedChunk => ({ n: n++, stream, tUs, data: Buffer.from(data) });

before(async () => {
  const store = await openSqliteAuditStore({ path: db });
  await store.insert(exec);
  const chunks = [
    chunk('resize', 100, '{"Width":100,"Height":30}'),
    chunk('stdout', 2_000, '/ # '),
    chunk('stdin', 300_000, 'ls\r'),
    chunk('stdout', 310_000, 'ls\r\nbin  etc\r\n/ # '),
    chunk('stdin', 900_000, 'exit\r'),
    chunk('stdout', 910_000, 'exit\r\n'),
    chunk('status', 1_000_000, '{"metadata":{},"status":"Success"}'),
  ];
  await store.complete(exec.id, done, { chunks, bodies: commitmentsOf(chunks) });
  await store.insert(quiet);
  await store.complete(quiet.id, done);
  await store.insert(get);
  await store.complete(get.id, { ...done, status: 200 });
  await store.close();
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('--cast prints the asciicast v2 of the session (by id prefix)', async () => {
  const r = await cli('audit', 'replay', exec.id.slice(0, 13), '--cast', '--db', db);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
  assert.deepEqual(lines[0], { version: 2, width: 100, height: 30, timestamp: TIME.getTime() / 1000, command: 'sh', title: 'alice@prod pod/web-1 -c app' });
  assert.deepEqual(lines.slice(1), [
    [0.002, 'o', '/ # '],
    [0.31, 'o', 'ls\r\nbin  etc\r\n/ # '],
    [0.91, 'o', 'exit\r\n'],
    [1, 'm', 'exit 0'],
  ]);
});

test('--cast --input --idle-limit: input events and idle_time_limit in the file', async () => {
  const r = await cli('audit', 'replay', exec.id, '--cast', '--input', '--idle-limit', '2', '--db', db);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as [number, string, string] | { idle_time_limit?: number });
  assert.equal((lines[0] as { idle_time_limit?: number }).idle_time_limit, 2);
  assert.deepEqual(
    lines.slice(1).filter((e) => Array.isArray(e) && e[1] === 'i'),
    [
      [0.3, 'i', 'ls\r'],
      [0.9, 'i', 'exit\r'],
    ],
  );
});

test('playback writes the output in order, input only with --input, and names the exit', async () => {
  const plain = await cli('audit', 'replay', exec.id, '--speed', '100', '--db', db);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, '/ # ls\r\nbin  etc\r\n/ # exit\r\n');
  assert.match(plain.stderr, new RegExp(`session ${exec.id} ended: exit 0`));
  const typed = await cli('audit', 'replay', exec.id, '--speed', '100', '--input', '--db', db);
  assert.equal(typed.stdout, '/ # ls\rls\r\nbin  etc\r\n/ # exit\rexit\r\n');
});

test('a record that is not an exec/attach, or a session with nothing recorded, is refused', async () => {
  const [notSession, empty] = await Promise.all([cli('audit', 'replay', get.id, '--db', db), cli('audit', 'replay', quiet.id, '--db', db)]);
  assert.equal(notSession.code, 2);
  assert.match(notSession.stderr, /is not an exec or attach session \(it is get pods\) \[AUDIT_NOT_REPLAYABLE\]/);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /nothing of session .* was recorded.*\[AUDIT_NOT_REPLAYABLE\]/);
});

test('unknown ids and bad options are refused', async () => {
  const missing = await cli('audit', 'replay', 'ffffffff', '--db', db);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\[AUDIT_RECORD_NOT_FOUND\]/);
  const bad = [
    ['--speed', '0'],
    ['--speed', 'fast'],
    ['--idle-limit', '-1'],
  ] as const;
  const results = await Promise.all(bad.map(([opt, value]) => cli('audit', 'replay', exec.id, opt, value, '--db', db)));
  results.forEach((r, i) => {
    assert.equal(r.code, 2, bad[i]!.join(' '));
    assert.match(r.stderr, /\[AUDIT_QUERY_INVALID\]/);
  });
});

test('a session whose chunks were changed in the store is refused; --unverified plays it with a warning', async () => {
  const copy = join(dir, 'tampered.db');
  copyFileSync(db, copy);
  const sql = new Database(copy);
  sql.prepare("update trail_chunk set data = cast('rm -rf /\r' as blob) where stream = 'stdin' and n = (select min(n) from trail_chunk where stream = 'stdin')").run();
  sql.close();
  const refused = await cli('audit', 'replay', exec.id, '--cast', '--db', copy);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /does not match the trail \(seq \d+: recorded stdin of request .* does not match the chain/);
  assert.match(refused.stderr, /AUDIT_NOT_REPLAYABLE/);
  const forced = await cli('audit', 'replay', exec.id, '--cast', '--input', '--unverified', '--db', copy);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: session .* does not match the trail/);
  assert.match(forced.stdout, /rm -rf/);
});
