/**
 * Terminal recording end to end (issue #6, ADR 0002 Decision 5): alice runs `kubectl exec -i`
 * through the gateway of the demo world (real recorder, real SQLite store) with kubectl 1.27
 * (SPDY) and 1.33 (WebSocket); the store then holds the session — stdin masked, stdout and
 * stderr as kubectl printed them, the exit Status — and `bin/sluice audit replay --cast` turns it
 * into an asciicast v2 that plays back what kubectl showed, ending in `exit 5`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { isTerminalSession, sessionCast } from '../../src/audit/asciicast.ts';
import type { AuditRecord } from '../../src/audit/types.ts';
import { runKubectl } from '../../testing/harness/index.ts';
import { startSecurityWorld, type SecurityWorld } from './security-helpers.ts';

const sluice = fileURLToPath(new URL('../../bin/sluice', import.meta.url));
const run = promisify(execFile);
const GHP = ['gh', 'p_', 'FakeTokenForTestsOnly'.padEnd(36, '0')].join('');

/** The newest exec record of alice once its outcome is written. */
async function lastSession(sw: SecurityWorld, after: Set<string>): Promise<AuditRecord> {
  for (let i = 0; i < 800; i++) {
    const { records } = await sw.world.store.list({ user: 'alice', limit: 20 });
    const r = records.find((x) => isTerminalSession(x) && !after.has(x.id));
    if (r?.outcome) return r;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('no completed exec record of alice');
}

describe('terminal sessions are recorded and replay (issue #6)', { timeout: 300_000 }, () => {
  let sw: SecurityWorld;
  let scratch: string;
  const seen = new Set<string>();

  before(async () => {
    sw = await startSecurityWorld('terminal-recording');
    scratch = await mkdtemp(join(tmpdir(), 'sluice-terminal-recording-'));
  });

  after(async () => {
    await sw?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  for (const version of ['1.27', '1.33']) {
    test(`kubectl ${version} exec -i: stdin masked, output as printed, exit status; audit replay --cast plays it`, { timeout: 120_000 }, async () => {
      const kubeconfig = await sw.kubeconfig('alice');
      const k = await runKubectl({
        version,
        kubeconfig,
        args: ['exec', '-i', 'db-0', '-n', 'dev', '-c', 'postgres', '--', 'sh', '-c', 'cat; echo to stderr >&2; exit 5'],
        stdin: `export T=${GHP}\nsecond line\n`,
        timeoutMs: 60_000,
      });
      assert.equal(k.code, 5, k.stderr);
      assert.equal(k.stdout, 'export T=[MASKED:github-token]\nsecond line\n');

      const record = await lastSession(sw, seen);
      seen.add(record.id);
      const chunks = await sw.world.store.chunks(record.id);
      const text = (s: string): string => Buffer.concat(chunks.filter((c) => c.stream === s).map((c) => c.data)).toString();
      assert.equal(text('stdin'), 'export T=[MASKED:github-token]\nsecond line\n', 'stdin is masked in the recording');
      assert.equal(text('stdout'), k.stdout);
      assert.equal(text('stderr'), 'to stderr\n');
      assert.ok(!Buffer.concat(chunks.map((c) => c.data)).includes(GHP), 'the token reached the store in clear');
      for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.tUs >= chunks[i - 1]!.tUs, 'chunks come back in order');

      const cast = sessionCast(record, chunks);
      assert.equal(cast.header.command, "sh -c 'cat; echo to stderr >&2; exit 5'");
      assert.equal(cast.header.title, 'alice@demo pod/db-0 -c postgres');
      assert.deepEqual(cast.exit, { code: 5, marker: 'exit 5' });

      // The CLI reads the gateway's database file read-only, while the gateway runs.
      const { stdout } = await run(sluice, ['audit', 'replay', record.id.slice(0, 12), '--cast', '--db', sw.world.config.store.sqlite.path], { cwd: scratch });
      const lines = stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
      const events = lines.slice(1) as [number, string, string][];
      assert.equal((lines[0] as { version: number }).version, 2);
      assert.equal(
        events.filter((e) => e[1] === 'o').map((e) => e[2]).join('').split('\n').sort().join('\n'),
        `${k.stdout}to stderr\n`.split('\n').sort().join('\n'),
        'stdout and stderr both play back',
      );
      assert.deepEqual(events[events.length - 1]!.slice(1), ['m', 'exit 5']);
    });
  }
});
