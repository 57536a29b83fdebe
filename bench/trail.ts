/**
 * Micro-benchmark of the audit trail's pure core (src/audit/trail/, ADR 0002): what the writer
 * pays per event (canonical JSON, chain hash), per recorded body byte (running digest), per
 * checkpoint (Ed25519 sign/verify), and how fast `verify` reads a trail, from memory and from a
 * JSON Lines export. Each figure is measured RUNS times and printed as min–max; the verify rate is
 * compared with the ADR's goal (≥ 100,000 events/s). Figures are process CPU time (user + system):
 * a shared machine's other load stretches wall time but not CPU time, and the goals are "on one
 * core"; wall clock is printed beside them.
 *
 * The event is a `request.begin` of a Kubernetes GET as the recorder writes it (~700 bytes of
 * JCS), in two shapes: members already in sorted order (an encoder that builds them so) and in
 * the recorder's field order (canonicalJson sorts them).
 *
 * Usage: node --import tsx bench/trail.ts   (prints, writes nothing; ~40 s on an idle 2-vCPU VM)
 * Environment: BENCH_TRAIL_EVENTS (1000000 events verified), BENCH_TRAIL_EXPORT_EVENTS (300000).
 */
import { cpus, loadavg } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyDigest } from '../src/audit/trail/body-digest.ts';
import { canonicalJson } from '../src/audit/trail/canonical-json.ts';
import { chainHash, ZERO_HASH } from '../src/audit/trail/chain-hash.ts';
import { checkpointHash, signCheckpoint, verifyCheckpointSignature, type CheckpointBody } from '../src/audit/trail/checkpoint.ts';
import { exportLine, parseExportLine } from '../src/audit/trail/export-line.ts';
import { generateSigningKey, parseTrustedKeys, publicKeyPem, type TrailSigner } from '../src/audit/trail/signing-key.ts';
import { verifyTrail, type TrailItem } from '../src/audit/trail/verify-trail.ts';

const RUNS = 3;
const EVENTS = Number(process.env.BENCH_TRAIL_EVENTS ?? 1_000_000);
const EXPORT_EVENTS = Math.min(EVENTS, Number(process.env.BENCH_TRAIL_EXPORT_EVENTS ?? 300_000));
const CHECKPOINT_EVERY = 10_000;
const VERIFY_GOAL = 100_000;
const JCS_GOAL_US = 5;
const CHAIN = 'gw-7f3a9c2e';

/** A request.begin of `kubectl get pod` as the recorder builds it (field order of src/audit/types.ts). */
function beginEvent(id: string): Record<string, unknown> {
  const path = '/api/v1/namespaces/dev/pods/web-1';
  return {
    type: 'request.begin',
    v: 1,
    id,
    time: 1764230400123,
    code: 'kubernetes.request',
    principal: { issuer: 'https://sso.example', subject: 'u-1042', username: 'bob', groups: ['dev', 'oncall', 'sre'], kind: 'person' },
    connection: 'prod',
    method: 'GET',
    path: `/clusters/prod${path}`,
    query: '',
    userAgent: 'kubectl/v1.33.1 (linux/amd64)',
    sourceIp: '10.42.7.19',
    attributes: { verb: 'get', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace: 'dev', name: 'web-1', isResourceRequest: true, path },
    decision: { effect: 'allow', rules: ['dev/read'], message: '', policyDigest: 'sha256:0123456789abcdef' },
  };
}

function sortedDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedDeep((v as Record<string, unknown>)[k])]));
  return v;
}

const uuid = (n: number): string => `3b241101-e2bb-4255-8caf-${n.toString(16).padStart(12, '0')}`;

interface Range {
  min: number;
  max: number;
}
function range(xs: number[]): Range {
  return { min: Math.min(...xs), max: Math.max(...xs) };
}
const fmt = (r: Range, digits = 0): string => (r.min.toFixed(digits) === r.max.toFixed(digits) ? r.min.toFixed(digits) : `${r.min.toFixed(digits)}–${r.max.toFixed(digits)}`);
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtRate = (r: Range): string => `${thousands(r.min)}–${thousands(r.max)}`;
/** A rate range from a per-item time range (µs). */
const rateOf = (us: Range, unit = 1): Range => ({ min: unit / (us.max / 1e6), max: unit / (us.min / 1e6) });

/** CPU time of this process in µs (user + system): unlike wall time, not inflated by other load on the machine. */
function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** µs per item, as CPU time and as wall time, of RUNS runs of `run` (which does `n` items). */
interface Timing {
  cpu: Range;
  wall: Range;
}
async function timed(n: number, run: () => unknown): Promise<Timing> {
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = cpuUs();
    const w0 = performance.now();
    await run();
    wall.push(((performance.now() - w0) * 1000) / n);
    cpu.push((cpuUs() - c0) / n);
  }
  return { cpu: range(cpu), wall: range(wall) };
}

/** Calls `fn(i)` n times per run, after a warm-up. */
function perCall(n: number, fn: (i: number) => unknown): Promise<Timing> {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i);
  return timed(n, () => {
    for (let i = 0; i < n; i++) fn(i);
  });
}

/** A trail of `n` request events with a signed checkpoint event after every CHECKPOINT_EVERY, as the writer leaves it. */
function buildTrail(n: number, signer: TrailSigner, template: string, idAt: number): { rows: { chain: string; seq: number; type: string; event: string; hash: string; time: number }[]; published: CheckpointBody[] } {
  const rows: { chain: string; seq: number; type: string; event: string; hash: string; time: number }[] = [];
  const published: CheckpointBody[] = [];
  let prev = ZERO_HASH;
  let last: { seq: number; hash: string } | undefined;
  const push = (type: string, event: string): void => {
    const seq = rows.length + 1;
    prev = chainHash(CHAIN, seq, prev, event);
    rows.push({ chain: CHAIN, seq, type, event, hash: prev.toString('hex'), time: 1764230400000 + seq });
  };
  for (let i = 1; i <= n; i++) {
    push('request.begin', template.slice(0, idAt) + uuid(i) + template.slice(idAt + 36));
    if (i % CHECKPOINT_EVERY === 0) {
      const fromSeq = last ? last.seq + 1 : 1;
      const toSeq = rows.length;
      const body: CheckpointBody = { v: 1, chain: CHAIN, fromSeq, toSeq, count: toSeq - fromSeq + 1, toHash: prev.toString('hex'), time: 1764230400000 + toSeq, keyId: signer.keyId, ...(last ? { prevCheckpoint: last.hash } : {}) };
      const { checkpoint, signature } = signCheckpoint(body, signer);
      push('trail.checkpoint', canonicalJson({ checkpoint, signature, type: 'trail.checkpoint', v: 1 }));
      last = { seq: rows.length, hash: checkpointHash(checkpoint, signature) };
      published.push(checkpoint);
    }
  }
  return { rows, published };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-trail-'));
  try {
    const signer = generateSigningKey(join(dir, 'trail-signing.pem'));
    const trustedKeys = parseTrustedKeys(publicKeyPem(signer));
    const recorderOrder = beginEvent(uuid(0));
    const sortedOrder = sortedDeep(recorderOrder);
    const text = canonicalJson(recorderOrder);
    const bytes = Buffer.byteLength(text);
    console.log(`audit trail core, ${RUNS} runs per figure (min–max), Node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(2)}`);
    console.log(`event: request.begin of a GET, ${bytes} bytes of canonical JSON`);
    console.log('goals are judged on CPU time (one core, whatever else the machine runs); wall clock shown beside it\n');

    const rows: [string, string, string, string, string][] = [];
    const us = (t: Timing, digits: number): [string, string] => [`${fmt(t.cpu, digits)} µs`, `${fmt(t.wall, digits)} µs`];
    const perSecond = (t: Timing, unit = 1, what = 'events/s'): [string, string] => [`${fmtRate(rateOf(t.cpu, unit))} ${what}`, `${fmtRate(rateOf(t.wall, unit))} ${what}`];
    const jcsSorted = await perCall(200_000, () => canonicalJson(sortedOrder));
    const jcsRecorder = await perCall(200_000, () => canonicalJson(recorderOrder));
    const atMost = (t: Timing, goal: number): string => (t.cpu.max <= goal ? 'PASS' : 'FAIL');
    // The writer's encoders (src/audit/trail/trail-events.ts) build members in canonical order: the first row is what a request costs.
    rows.push(['canonicalJson, members already in order (as the writer builds them)', `≤ ${JCS_GOAL_US} µs`, ...us(jcsSorted, 2), atMost(jcsSorted, JCS_GOAL_US)]);
    rows.push(['canonicalJson, members in another order (sorted by it)', '', ...us(jcsRecorder, 2), '']);

    const prev = Buffer.alloc(32, 7);
    rows.push(['chainHash', '', ...perSecond(await perCall(300_000, (i) => chainHash(CHAIN, i + 1, prev, text))), '']);

    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const digest = new BodyDigest();
    const mib = chunk.length / 1024 / 1024;
    rows.push(['BodyDigest, 16 KiB chunks', '', ...perSecond(await perCall(8192, (i) => digest.update(i, chunk)), mib, 'MiB/s'), '']);

    const body: CheckpointBody = { v: 1, chain: CHAIN, fromSeq: 40001, toSeq: 50000, count: 10000, toHash: 'ab'.repeat(32), time: 1764230400000, keyId: signer.keyId, prevCheckpoint: 'cd'.repeat(32) };
    const { signature } = signCheckpoint(body, signer);
    rows.push(['Ed25519 sign a checkpoint (incl. JCS)', '', ...us(await perCall(3000, () => signCheckpoint(body, signer)), 1), '']);
    rows.push(['Ed25519 verify a checkpoint (incl. JCS)', '', ...us(await perCall(3000, () => verifyCheckpointSignature(body, signature, trustedKeys)), 1), '']);

    const idAt = text.indexOf(uuid(0));
    const t0 = performance.now();
    const trail = buildTrail(EVENTS, signer, text, idAt);
    const buildSeconds = (performance.now() - t0) / 1000;
    const total = trail.rows.length;
    const atLeast = (t: Timing, goal: number): string => (rateOf(t.cpu).min >= goal ? 'PASS' : 'FAIL');
    await verifyTrail(trail.rows.slice(0, 20_000), { trustedKeys }); // warm-up
    const verifyTiming = await timed(total, async () => {
      const report = await verifyTrail(trail.rows, { trustedKeys, against: trail.published });
      if (!report.ok || report.events !== total) throw new Error(`verify failed: ${report.failure?.message ?? `${report.events} of ${total} events`}`);
    });
    rows.push([`verifyTrail, ${thousands(total)} events in memory (a checkpoint every ${thousands(CHECKPOINT_EVERY)}, against ${trail.published.length} published)`, `≥ ${thousands(VERIFY_GOAL)}/s`, ...perSecond(verifyTiming), atLeast(verifyTiming, VERIFY_GOAL)]);

    const exportRows = trail.rows.slice(0, EXPORT_EVENTS);
    const lines = exportRows.map(exportLine);
    const verifyExport = async (n: number): Promise<void> => {
      const items = function* (): Generator<TrailItem> {
        for (let i = 0; i < n; i++) yield parseExportLine(lines[i]!, i + 1);
      };
      const report = await verifyTrail(items(), { trustedKeys });
      if (!report.ok || report.events !== n) throw new Error(`export verify failed: ${report.failure?.message ?? ''}`);
    };
    await verifyExport(Math.min(lines.length, 20_000)); // warm-up
    const exportTiming = await timed(lines.length, () => verifyExport(lines.length));
    rows.push([`verify an export: ${thousands(lines.length)} lines → parseExportLine → verifyTrail`, `≥ ${thousands(VERIFY_GOAL)}/s`, ...perSecond(exportTiming), atLeast(exportTiming, VERIFY_GOAL)]);

    console.log('| figure | goal | measured (CPU time) | wall clock | |');
    console.log('|---|---|---|---|---|');
    for (const [what, goal, cpu, wall, verdict] of rows) console.log(`| ${what} | ${goal} | ${cpu} | ${wall} | ${verdict} |`);
    console.log(`\n(building the ${thousands(total)}-event trail took ${buildSeconds.toFixed(1)} s; its events average ${Math.round(exportRows.reduce((a, r) => a + r.event.length, 0) / exportRows.length)} bytes)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
