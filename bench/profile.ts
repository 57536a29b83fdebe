/**
 * Profile the gateway under one load (see bench/README.md): start the bench world (without
 * kubectl proxy), run one scenario against the gateway only, stop it so that node writes the
 * profile, and print what the load generator saw.
 *
 *   BENCH_GATEWAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" \
 *     node --import tsx bench/profile.ts [get32|get1|list] [seconds]
 *
 * `lat1 [requests]` instead times sequential GETs (hrtime, as the bench does) against direct,
 * then the gateway, then direct again, and prints the percentiles and the added p50.
 *
 * BENCH_AUDIT_DB=/dev/shm/x/sluice.db puts the audit database on tmpfs (fsync becomes a no-op):
 * a diagnostic to tell the cost of durability from the rest, never a configuration to measure.
 */
import autocannon from 'autocannon';
import { sequentialLatency } from './latency.ts';
import { GET_PATH, LIST_PATH, rssMb, startBenchWorld } from './world.ts';

const scenario = process.argv[2] ?? 'get32';
const seconds = Number(process.argv[3] ?? 10);
const paths: Record<string, [string, number]> = { get32: [GET_PATH, 32], get1: [GET_PATH, 1], list: [LIST_PATH, 4] };
const chosen = scenario === 'lat1' ? [GET_PATH, 1] : paths[scenario];
if (!chosen || !Number.isFinite(seconds) || seconds <= 0 || (scenario !== 'lat1' && seconds > 300)) {
  throw new Error('usage: profile.ts [get32|get1|list] [seconds ≤ 300] | lat1 [requests]');
}
const world = await startBenchWorld({ withProxy: false, keep: Boolean(process.env.BENCH_KEEP), ...(process.env.BENCH_AUDIT_DB ? { auditDb: process.env.BENCH_AUDIT_DB } : {}) });
try {
  const { gw, gwPid } = world;
  if (scenario === 'lat1') {
    const n = { warmup: Math.max(1, Math.round(seconds / 10)), requests: seconds };
    const rows = [await sequentialLatency(world.emu, GET_PATH, n), await sequentialLatency(gw, GET_PATH, n), await sequentialLatency(world.emu, GET_PATH, n)];
    for (const r of rows) console.log(`${r.target.padEnd(40)} p50 ${r.p50.toFixed(3)}  p90 ${r.p90.toFixed(3)}  p99 ${r.p99.toFixed(3)} ms  errors ${r.errors}`);
    console.log(`added p50: ${(rows[1]!.p50 - Math.min(rows[0]!.p50, rows[2]!.p50)).toFixed(3)} ms`);
    process.exitCode = 0;
  } else {
  const [path, connections] = chosen;
  const r = await autocannon({
    url: gw.base + path,
    headers: { ...gw.headers, accept: 'application/json' },
    connections,
    duration: seconds,
    ...(gw.ca ? { tlsOptions: { ca: gw.ca } } : {}),
  } as autocannon.Options);
  console.log(
    `${scenario}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
      `errors ${r.errors + r.timeouts + r.non2xx}, gateway RSS ${Math.round(rssMb(gwPid))} MB, audit ${Math.round(world.auditBytes() / 2 ** 20)} MB`,
  );
  }
} finally {
  await world.stop();
}
