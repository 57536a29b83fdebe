/**
 * The figures of issue #6 (recording and the tamper-evident trail), part of `npm run bench`:
 *
 * 1. **Durable append** on the SQLite store with group commit (synchronous=full: the WAL is
 *    fdatasync'ed before a begin resolves). Open loop: requests arrive at a fixed rate, each a
 *    begin (awaited: it must be durable before the request goes on) then an outcome with a
 *    2 KiB response chunk — two events per request, as the gateway writes them. Reported: the
 *    event rate sustained and the begin's commit wait (p50/p99), i.e. what the trail adds to a
 *    request. Goal: ≥ 20,000 events/s with the wait ≤ 5 ms p99.
 * 2. **Verify** from the store: a trail of TRAIL_EVENTS events (with a checkpoint every 10,000)
 *    written through the real writer, then read back with `store.trail()` and checked with
 *    verifyTrail — what `sluice audit verify --no-bodies` does. Goal ≥ 100,000 events/s.
 * 3. **Recording on vs off** on the gateway: autocannon GET of one pod at 32 connections against
 *    two fresh gateway processes, one with `recording.enabled: false`, alternated over ROUNDS
 *    rounds; the ratio of the medians. Goal: recording costs ≤ 20 % throughput.
 *
 * Environment: BENCH_TRAIL_EVENTS (200000), BENCH_APPEND_SECONDS (5), BENCH_RECORDING_ROUNDS (3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { benchAuditEntry } from './audit-entry.ts';
import { openSqliteAuditStore } from '../src/store/sqlite/open-sqlite-audit-store.ts';
import { ephemeralSigner, parseTrustedKeys, publicKeyPem } from '../src/audit/trail/signing-key.ts';
import { verifyTrail } from '../src/audit/trail/verify-trail.ts';
import { BodyDigest } from '../src/audit/trail/body-digest.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditCompletion } from '../src/audit/types.ts';
import { percentile } from './latency.ts';
import { GET_PATH, rssMb, stopProcess, type BenchWorld, type Target } from './world.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const TRAIL_EVENTS = Math.round(num('BENCH_TRAIL_EVENTS', 200_000));
const APPEND_SECONDS = num('BENCH_APPEND_SECONDS', 5);
const ROUNDS = Math.round(num('BENCH_RECORDING_ROUNDS', 3));
const LOAD_SECONDS = num('BENCH_SECONDS', 5);

const signer = ephemeralSigner;


const BODY = Buffer.alloc(2048, 'x');

export interface AppendResult {
  /** `get`: one write per request (record, outcome and chunk together, as the gateway writes a read answered whole); `write`: the begin awaited, then the outcome (writes, exec, streams). */
  path: 'get' | 'write';
  targetEventsPerSecond: number;
  eventsPerSecond: number;
  waitP50: number;
  waitP99: number;
  requests: number;
}

/** Open loop at `requestsPerSecond` (two events each) for APPEND_SECONDS; arrivals every millisecond, as a timer would deliver them. */
async function appendOpenLoop(dir: string, path: AppendResult['path'], requestsPerSecond: number): Promise<AppendResult> {
  const store = await openSqliteAuditStore({ path: join(dir, `append-${path}-${requestsPerSecond}`, 'sluice.db'), trail: { signer: signer() } });
  const waits: number[] = [];
  const inFlight = new Set<Promise<void>>();
  const digest = new BodyDigest();
  digest.update(100, BODY);
  const recording = {
    chunks: [{ n: 0, stream: 'response' as const, tUs: 100, data: BODY }],
    bodies: { response: { chunks: 1, recordedBytes: BODY.length, totalBytes: BODY.length, truncated: false, digest: digest.hex() } },
  };
  const done = (): AuditCompletion => ({ status: 200, bytesIn: 0, bytesOut: BODY.length, durationMs: 1, completedAt: new Date() });
  const one = async (): Promise<void> => {
    const e = benchAuditEntry('bench');
    const t0 = performance.now();
    if (path === 'get') {
      await store.insert(e, done(), recording);
      waits.push(performance.now() - t0);
      return;
    }
    await store.insert(e);
    waits.push(performance.now() - t0);
    await store.complete(e.id, done(), recording);
  };
  const started = performance.now();
  let issued = 0;
  const end = started + APPEND_SECONDS * 1000;
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - started) / 1000) * requestsPerSecond);
    for (; issued < due; issued++) {
      const p = one();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await sleep(1);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  await store.close();
  waits.sort((a, b) => a - b);
  return { path, targetEventsPerSecond: requestsPerSecond * 2, eventsPerSecond: (issued * 2) / elapsed, waitP50: percentile(waits, 50), waitP99: percentile(waits, 99), requests: issued };
}

export interface VerifyResult {
  events: number;
  buildSeconds: number;
  verifySeconds: number;
  eventsPerSecond: number;
  ok: boolean;
}

async function verifyRate(dir: string): Promise<VerifyResult> {
  const s = signer();
  const path = join(dir, 'verify', 'sluice.db');
  const store = await openSqliteAuditStore({ path, synchronous: 'normal', trail: { signer: s, checkpointSeconds: 0 } });
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < TRAIL_EVENTS / 2; i++) {
    pending.push(store.insert(benchAuditEntry('bench'), { status: 200, bytesIn: 0, bytesOut: 100, durationMs: 1, completedAt: new Date() }));
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.close();
  const buildSeconds = (performance.now() - t0) / 1000;
  const read = await openSqliteAuditStore({ path, readonly: true });
  const keys = parseTrustedKeys(publicKeyPem(s));
  const t1 = performance.now();
  const report = await verifyTrail(read.trail(), { trustedKeys: keys });
  const verifySeconds = (performance.now() - t1) / 1000;
  await read.close();
  return { events: report.events, buildSeconds, verifySeconds, eventsPerSecond: report.events / verifySeconds, ok: report.ok };
}

export interface RecordingLoad {
  on: number[];
  off: number[];
  ratio: number;
  /** Gateway RSS (MB) after the rounds, recording on and off. */
  rssOn?: number;
  rssOff?: number;
}

async function getLoad(t: Target): Promise<number> {
  const r = await autocannon({
    url: t.base + GET_PATH,
    headers: { ...t.headers, accept: 'application/json' },
    connections: 32,
    duration: LOAD_SECONDS,
    ...(t.ca ? { tlsOptions: { ca: t.ca } } : {}),
  } as autocannon.Options);
  if (r.non2xx || r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function recordingOnOff(world: BenchWorld, log: (m: string) => void): Promise<RecordingLoad> {
  const on = await world.startGateway('recording-on');
  const off = await world.startGateway('recording-off', { recording: { enabled: false } });
  const r: RecordingLoad = { on: [], off: [], ratio: NaN };
  try {
    await getLoad(on); // warm-up, both
    await getLoad(off);
    for (let i = 0; i < ROUNDS; i++) {
      r.on.push(await getLoad(on));
      r.off.push(await getLoad(off));
      log(`recording round ${i + 1}/${ROUNDS}: on ${r.on.at(-1)!.toFixed(0)} req/s, off ${r.off.at(-1)!.toFixed(0)} req/s`);
    }
    r.rssOn = rssMb(on.proc.pid!);
    r.rssOff = rssMb(off.proc.pid!);
  } finally {
    await stopProcess(on.proc);
    await stopProcess(off.proc);
  }
  r.ratio = median(r.on) / median(r.off);
  return r;
}

export interface RecordingBench {
  append: AppendResult[];
  verify: VerifyResult;
  load: RecordingLoad;
}

async function storeFigures(dir: string, log: (m: string) => void): Promise<{ append: AppendResult[]; verify: VerifyResult }> {
  const append: AppendResult[] = [];
  for (const [path, rps] of [['get', 5_000], ['get', 10_000], ['get', 12_500], ['write', 5_000], ['write', 10_000]] as const) {
    log(`trail: durable append (${path} path), open loop at ${rps * 2} events/s for ${APPEND_SECONDS} s…`);
    append.push(await appendOpenLoop(dir, path, rps));
  }
  log(`trail: writing ${TRAIL_EVENTS} events, then verifying them from the store…`);
  const verify = await verifyRate(dir);
  return { append, verify };
}

export async function recordingBench(world: BenchWorld, log: (m: string) => void): Promise<RecordingBench> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-trail-'));
  try {
    const { append, verify } = await storeFigures(dir, log);
    log(`recording on vs off: GET one pod, 32 connections, ${ROUNDS} rounds of ${LOAD_SECONDS} s each…`);
    const load = await recordingOnOff(world, log);
    return { append, verify, load };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f0 = (n: number): string => n.toFixed(0);
const f2 = (n: number): string => n.toFixed(2);

export function recordingGoals(r: RecordingBench): [string, string, string, boolean][] {
  const at20k = r.append.find((a) => a.path === 'get' && a.targetEventsPerSecond === 20_000)!;
  return [
    ['trail: durable append (GET path), open loop at 20,000 events/s', '≥ 20,000 events/s sustained', `${f0(at20k.eventsPerSecond)} events/s`, at20k.eventsPerSecond >= 19_800],
    ['same: commit wait a request sees (record durable)', '≤ 5 ms p99', `p50 ${f2(at20k.waitP50)} ms, p99 ${f2(at20k.waitP99)} ms`, at20k.waitP99 <= 5],
    ['audit verify from the store', '≥ 100,000 events/s', `${f0(r.verify.eventsPerSecond)} events/s (${r.verify.events} events${r.verify.ok ? '' : ', FAILED'})`, r.verify.ok && r.verify.eventsPerSecond >= 100_000],
    ['recording on vs off, GET one pod at 32', '≤ 20 % fewer req/s', `${f2(r.load.ratio)}× (on ${f0(median(r.load.on))}, off ${f0(median(r.load.off))} req/s)`, r.load.ratio >= 0.8],
  ];
}

export function recordingResults(r: RecordingBench): string {
  const lines = ['| path | open loop (events/s) | sustained events/s | requests | commit wait p50 ms | p99 ms |', '|---|---:|---:|---:|---:|---:|'];
  for (const a of r.append) lines.push(`| ${a.path} | ${a.targetEventsPerSecond} | ${f0(a.eventsPerSecond)} | ${a.requests} | ${f2(a.waitP50)} | ${f2(a.waitP99)} |`);
  lines.push('', `Verify: ${r.verify.events} events written in ${r.verify.buildSeconds.toFixed(1)} s, verified in ${r.verify.verifySeconds.toFixed(2)} s (${f0(r.verify.eventsPerSecond)} events/s).`);
  lines.push('', `GET one pod at 32 connections, req/s per round — recording on: ${r.load.on.map(f0).join(', ')}; off: ${r.load.off.map(f0).join(', ')}.`);
  if (r.load.rssOn !== undefined) lines.push(`Gateway RSS after the rounds: recording on ${f0(r.load.rssOn)} MB, off ${f0(r.load.rssOff ?? NaN)} MB.`);
  return lines.join('\n');
}

export const recordingMethod = `Trail and recording (issue #6, bench/recording.ts): durable append in open loop on the SQLite store (synchronous=full, group commit, in this process; arrivals every millisecond), ${APPEND_SECONDS} s per rate, two events per request — the GET path writes the record, its outcome and a 2 KiB response chunk in one write, as the gateway does for a read answered whole; the write path awaits the durable begin, then writes the outcome with the chunk; the wait is from the write's call to its durable commit; verify of a ${TRAIL_EVENTS}-event trail read back from the store with verifyTrail (the work of \`sluice audit verify --no-bodies\`); autocannon GET of one pod at 32 connections against two fresh gateways, recording on and off, ${ROUNDS} alternating rounds of ${LOAD_SECONDS} s, medians compared.`;

// Alone (`node --import tsx bench/recording.ts`): the in-process store figures only, printed.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').slice(-2).join('/'))) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-trail-'));
  storeFigures(dir, (m) => console.log(m))
    .then(({ append, verify }) => console.log(recordingResults({ append, verify, load: { on: [], off: [], ratio: NaN } })))
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}
