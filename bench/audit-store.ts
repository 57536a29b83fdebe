/**
 * Micro-benchmark of the SQLite audit store's write path: begin+complete pairs (insert, await,
 * complete, await — what the gateway does per request), sequentially (concurrency 1) and with 32
 * pairs in flight, for `synchronous` full and normal. The store is a file in the temp folder.
 * Each pair also appends its two events to the hash-chained trail (ADR 0002) in the same
 * transaction. (The per-write Kysely path this was once compared with is gone: every write now
 * goes through the trail's single writer; bench/recording.ts has the open-loop figures.)
 *
 * Usage: node --import tsx bench/audit-store.ts [seconds-per-case, default 2]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditCompletion } from '../src/audit/types.ts';
import { benchAuditEntry } from './audit-entry.ts';
import type { AuditStore } from '../src/store/audit-store.ts';
import { openSqliteAuditStore } from '../src/store/sqlite/open-sqlite-audit-store.ts';

const seconds = Number(process.argv[2] ?? 2);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-store-'));
let n = 0;


const completion = (): AuditCompletion => ({ status: 200, bytesIn: 0, bytesOut: 1234, durationMs: 2, completedAt: new Date() });

interface Result {
  pairs: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function run(store: AuditStore, concurrency: number, secs = seconds): Promise<Result> {
  const latencies: number[] = [];
  const end = performance.now() + secs * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const e = benchAuditEntry();
      await store.insert(e);
      await store.complete(e.id, completion());
      latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { pairs: latencies.length, perSecond: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  console.log(`SQLite audit store, begin+complete pairs, ${seconds} s per case, file in ${tmpdir()}`);
  console.log('| write path | synchronous | in flight | pairs | pairs/s | p50 ms | p99 ms |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const synchronous of ['full', 'normal'] as const) {
    for (const [label, open] of [['group commit', (p: string) => openSqliteAuditStore({ path: p, synchronous })]] as const) {
      for (const concurrency of [1, 32]) {
        const store = await open(join(dir, `b${++n}`, 'sluice.db'));
        await run(store, concurrency, 0.3); // warm-up
        const r = await run(store, concurrency);
        await store.close();
        console.log(`| ${label} | ${synchronous} | ${concurrency} | ${r.pairs} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} |`);
      }
    }
  }
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
