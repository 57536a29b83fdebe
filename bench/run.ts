/**
 * Benchmarks (`npm run bench`): the Kubernetes data path, side by side in one run on loopback,
 * measured against the performance goals of issue #3, then the just-in-time approval figures of
 * issue #4 (bench/approvals.ts), the inline masking figures of issue #5
 * (bench/masking-gateway.ts), the recording and trail figures of issue #6
 * (bench/recording.ts) and the MCP figure of issue #7 (bench/mcp.ts), each against a fresh
 * gateway process.
 *
 * Targets, each in its own process:
 *   - direct: the Kubernetes API emulator (bench/emulator-process.ts), admin token;
 *   - kubectl proxy: kubectl 1.33's reverse proxy in front of it (the bare minimum a proxy costs);
 *   - Sluice: compiled `node dist/src/cli/main.js server -c <generated config>` (as in production) with authentication (bob's OIDC access
 *     token from the real demo identity provider), policy (policies/demo) and a SQLite audit
 *     trail; its upstream is the same emulator, reached with a service-account token that
 *     impersonates bob.
 * The load generator (autocannon, a sequential latency loop, the watch streams) runs in this
 * process; so does the identity provider, which is only hit to mint one token and for the JWKS.
 *
 * Results are printed and written to docs/benchmarks.md with the method and the machine.
 * Environment: BENCH_SECONDS (length of each timed run, default 5), BENCH_LATENCY_REQUESTS
 * (3000), BENCH_WATCHES (1000), BENCH_WATCH_SECONDS (10), BENCH_RSS_REQUESTS (100000),
 * BENCH_GATEWAY_NODE_FLAGS (node flags for the gateway, e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof"), BENCH_KEEP=1 (keep the temp folder: audit DB, gateway log),
 * BENCH_APPROVALS (200), BENCH_APPROVALS_HELD (1000), BENCH_APPROVALS_HOLD_SECONDS (5),
 * BENCH_MASKING_ROUNDS (20), BENCH_MASKING_REQUESTS (300), BENCH_LOG_MB (1024),
 * BENCH_LOG_MAX_SECONDS (600), BENCH_LOG_SAMPLE_SECONDS (1), BENCH_MASKING_MICRO_RUNS (3).
 */
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { kubectlPath } from '../testing/harness/kubectl-path.ts';
import { approvalGoals, approvalsBench, approvalsMethod, approvalsResults } from './approvals.ts';
import { sequentialLatency, type LatencyResult } from './latency.ts';
import { maskingBench, maskingGoals, maskingMethod, maskingResults } from './masking-gateway.ts';
import { recordingBench, recordingGoals, recordingMethod, recordingResults } from './recording.ts';
import { mcpBench, mcpGoals, mcpMethod, mcpResults } from './mcp.ts';
import { GET_PATH, LIST_PATH, NAMESPACE, PODS, USER, call, root, rssMb, startBenchWorld, stopProcess, type Target } from './world.ts';

const envNumber = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const DURATION = envNumber('BENCH_SECONDS', 5);
const LATENCY_REQUESTS = Math.round(envNumber('BENCH_LATENCY_REQUESTS', 3000));
const LATENCY_WARMUP = Math.max(1, Math.round(LATENCY_REQUESTS / 10));
const WATCHES = Math.round(envNumber('BENCH_WATCHES', 1000));
const WATCH_HOLD_SECONDS = envNumber('BENCH_WATCH_SECONDS', 10);
const RSS_REQUESTS = Math.round(envNumber('BENCH_RSS_REQUESTS', 100_000));
const RSS_SAMPLE_EVERY = Math.max(1, Math.round(RSS_REQUESTS / 10));
const RSS_WARMUP = RSS_SAMPLE_EVERY * 2;
/** Time bound of the RSS run: the whole bench should stay near 5 minutes. */
const RSS_MAX_SECONDS = envNumber('BENCH_RSS_MAX_SECONDS', 200);
const t0 = Date.now();
const log = (msg: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}`);

// ---------------------------------------------------------------- measurements

interface LoadResult {
  target: string;
  scenario: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function cannonOptions(t: Target, path: string, connections: number): autocannon.Options {
  return {
    url: t.base + path,
    headers: { ...t.headers, accept: 'application/json' },
    connections,
    duration: DURATION,
    ...(t.ca ? { tlsOptions: { ca: t.ca } } : {}),
  } as autocannon.Options;
}

async function load(t: Target, scenario: string, path: string, connections: number): Promise<LoadResult> {
  const r = await autocannon(cannonOptions(t, path, connections));
  return { target: t.name, scenario, connections, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

interface RssRun {
  samples: { requests: number; rssMb: number }[];
  requests: number;
  seconds: number;
  errors: number;
  growthPct: number;
}

/** RSS_REQUESTS GETs at 32 connections; gateway RSS sampled every RSS_SAMPLE_EVERY responses. */
function rssOverRequests(t: Target, pid: number): Promise<RssRun> {
  return new Promise((res, rej) => {
    const samples: RssRun['samples'] = [{ requests: 0, rssMb: rssMb(pid) }];
    let n = 0;
    const started = Date.now();
    const opts = { ...cannonOptions(t, GET_PATH, 32), amount: RSS_REQUESTS } as autocannon.Options;
    delete (opts as { duration?: unknown }).duration;
    const inst = autocannon(opts, (err, r) => {
      clearTimeout(timer);
      if (err) return rej(err);
      if (samples.at(-1)!.requests !== n) samples.push({ requests: n, rssMb: rssMb(pid) });
      const warm = samples.find((s) => s.requests >= RSS_WARMUP) ?? samples[0]!;
      const end = samples.at(-1)!;
      res({
        samples,
        requests: n,
        seconds: (Date.now() - started) / 1000,
        errors: r.errors + r.timeouts + r.non2xx,
        growthPct: ((end.rssMb - warm.rssMb) / warm.rssMb) * 100,
      });
    });
    inst.on('response', () => {
      n++;
      if (n % RSS_SAMPLE_EVERY === 0) samples.push({ requests: n, rssMb: rssMb(pid) });
    });
    // Bound in time as well as in count.
    const timer = setTimeout(() => inst.stop(), RSS_MAX_SECONDS * 1000);
  });
}

interface WatchRun {
  opened: number;
  ok200: number;
  openAfterHold: number;
  sawEvent: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssAfterCloseMb: number;
  openSeconds: number;
  eventSeconds: number;
}

/** Open WATCHES watch streams through the gateway, hold them, change a pod, count who saw it. */
async function watches(gw: Target, emu: Target, pid: number): Promise<WatchRun> {
  const list = await call(emu, 'GET', `${LIST_PATH}?limit=1`);
  const rv = (JSON.parse(list.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const url = new URL(`${gw.base}${LIST_PATH}?watch=1&resourceVersion=${rv}&timeoutSeconds=600`);
  // One TLS connection per watch, as separate informers would have.
  const agent = new https.Agent({ keepAlive: false, maxSockets: Infinity, ...(gw.ca ? { ca: gw.ca } : {}) });
  const mark = randomBytes(6).toString('hex');
  interface W {
    req: http.ClientRequest;
    status?: number;
    open: boolean;
    saw: boolean;
    buf: string;
  }
  const ws: W[] = [];
  const rssBeforeMb = rssMb(pid);
  const t0 = Date.now();
  for (let i = 0; i < WATCHES; i++) {
    const w: W = { open: true, saw: false, buf: '' } as W;
    w.req = https.request(url, { agent, headers: { ...gw.headers, accept: 'application/json' } }, (resp) => {
      w.status = resp.statusCode;
      resp.setEncoding('utf8');
      resp.on('data', (d: string) => {
        w.buf += d;
        let nl: number;
        while ((nl = w.buf.indexOf('\n')) >= 0) {
          const line = w.buf.slice(0, nl);
          w.buf = w.buf.slice(nl + 1);
          if (line.includes(mark)) w.saw = true;
        }
      });
      resp.on('close', () => (w.open = false));
    });
    w.req.on('error', () => (w.open = false));
    w.req.end();
    ws.push(w);
    // Open in batches so that 1,000 TLS handshakes do not all land in the same tick.
    if (i % 50 === 49) await sleep(20);
  }
  // Wait (bounded) for every stream's response headers.
  const openDeadline = Date.now() + 30_000;
  while (Date.now() < openDeadline && ws.some((w) => w.status === undefined && w.open)) await sleep(100);
  const openSeconds = (Date.now() - t0) / 1000;
  let rssPeakMb = rssMb(pid);
  const holdUntil = Date.now() + WATCH_HOLD_SECONDS * 1000;
  while (Date.now() < holdUntil) {
    await sleep(500);
    rssPeakMb = Math.max(rssPeakMb, rssMb(pid));
  }
  const openAfterHold = ws.filter((w) => w.open && w.status === 200).length;
  // Change one pod upstream; every watcher should see a MODIFIED event carrying the mark.
  const t1 = Date.now();
  const patch = await call(emu, 'PATCH', GET_PATH, { metadata: { labels: { 'bench-mark': mark } } }, 'application/merge-patch+json');
  if (patch.status !== 200) throw new Error(`patching pod-1: ${patch.status} ${patch.body}`);
  const eventDeadline = Date.now() + 15_000;
  while (Date.now() < eventDeadline && ws.some((w) => w.open && w.status === 200 && !w.saw)) await sleep(50);
  const eventSeconds = (Date.now() - t1) / 1000;
  rssPeakMb = Math.max(rssPeakMb, rssMb(pid));
  const result = {
    opened: ws.length,
    ok200: ws.filter((w) => w.status === 200).length,
    openAfterHold,
    sawEvent: ws.filter((w) => w.saw).length,
    rssBeforeMb,
    rssPeakMb,
    rssAfterCloseMb: 0,
    openSeconds,
    eventSeconds,
  };
  for (const w of ws) w.req.destroy();
  agent.destroy();
  await sleep(2000);
  result.rssAfterCloseMb = rssMb(pid);
  return result;
}

// ---------------------------------------------------------------- report

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const f0 = (n: number): string => (Number.isFinite(n) ? String(Math.round(n)) : 'n/a');
const yes = (b: boolean): string => (b ? '✅ yes' : '❌ no');

function openFileLimit(): string {
  try {
    const out = readFileSync('/proc/self/limits', 'utf8');
    return /Max open files\s+(\d+)/.exec(out)?.[1] ?? '?';
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------- main

const benchStarted = Date.now();
log('starting the identity provider, the emulator, kubectl proxy and the gateway…');
const world = await startBenchWorld({ keep: Boolean(process.env.BENCH_KEEP) });
try {
  const { emu, proxy, gw, gwNormal, gwPid } = world;
  const targets: Target[] = [emu, proxy, gw, ...(gwNormal ? [gwNormal] : [])];
  const gwRssIdle = rssMb(gwPid);

  log(`latency: ${LATENCY_REQUESTS} sequential GETs per target after ${LATENCY_WARMUP} warm-up…`);
  const latency: LatencyResult[] = [];
  for (const t of targets) latency.push(await sequentialLatency(t, GET_PATH, { warmup: LATENCY_WARMUP, requests: LATENCY_REQUESTS }));

  log(`throughput: ${DURATION} s runs with autocannon…`);
  const loads: LoadResult[] = [];
  for (const t of targets) loads.push(await load(t, 'GET one pod', GET_PATH, 32));
  for (const t of [emu, proxy, gw]) loads.push(await load(t, `LIST ${PODS} pods`, LIST_PATH, 4));

  log(`RSS over ${RSS_REQUESTS} GETs through the gateway…`);
  const rssRun = await rssOverRequests(gw, gwPid);

  log(`${WATCHES} concurrent watches through the gateway for ${WATCH_HOLD_SECONDS} s…`);
  const watchRun = await watches(gw, emu, gwPid);

  // The approval figures on a gateway process of their own: the watches left the first one's
  // memory grown, which would hide what the held requests cost.
  log('approvals: starting a fresh gateway (audit synchronous=full)…');
  const approvalsGw = await world.startGateway('approvals');
  const approvals = await approvalsBench(world, log, approvalsGw);
  await stopProcess(approvalsGw.proc);

  // Masking (issue #5) on a gateway process of its own too: its RSS over a long log stream.
  log('masking: starting a fresh gateway…');
  const maskingGw = await world.startGateway('masking');
  const masking = await maskingBench(world, log, maskingGw);
  await stopProcess(maskingGw.proc);

  // Recording and the trail (issue #6): the store in process, then two fresh gateways.
  const recording = await recordingBench(world, log);

  // MCP (issue #7): tools/call through /mcp against the same GET, on a fresh gateway.
  const mcp = await mcpBench(world, log);

  log('done');
  const dbBytes = world.auditBytes();

  // ---- goals
  const lat = (name: string): LatencyResult => latency.find((l) => l.target === name)!;
  const ld = (name: string, scenario: string): LoadResult => loads.find((l) => l.target === name && l.scenario === scenario)!;
  const dLat = lat(emu.name);
  const gLat = lat(gw.name);
  const addP50 = gLat.p50 - dLat.p50;
  const addP99 = gLat.p99 - dLat.p99;
  const gw32 = ld(gw.name, 'GET one pod').rps;
  const px32 = ld(proxy.name, 'GET one pod').rps;
  const listRatio = ld(gw.name, `LIST ${PODS} pods`).rps / ld(emu.name, `LIST ${PODS} pods`).rps;
  const nLat = gwNormal ? lat(gwNormal.name) : undefined;
  const nAddP50 = nLat ? nLat.p50 - dLat.p50 : NaN;
  const nAddP99 = nLat ? nLat.p99 - dLat.p99 : NaN;
  const nGw32 = gwNormal ? ld(gwNormal.name, 'GET one pod').rps : NaN;
  const watchesOk = watchRun.ok200 === WATCHES && watchRun.openAfterHold === WATCHES && watchRun.sawEvent === WATCHES;
  const rssFlat = rssRun.growthPct < 10 && rssRun.requests === RSS_REQUESTS;
  const goals = [
    ['GET, concurrency 1: added p50 over direct', '≤ 0.5 ms', `${f2(addP50)} ms (${f2(gLat.p50)} vs ${f2(dLat.p50)})`, addP50 <= 0.5],
    ['GET, concurrency 1: added p99 over direct', '≤ 3 ms', `${f2(addP99)} ms (${f2(gLat.p99)} vs ${f2(dLat.p99)})`, addP99 <= 3],
    ['GET, concurrency 32: throughput', '≥ kubectl proxy', `${f0(gw32)} vs ${f0(px32)} req/s (${f2(gw32 / px32)}×)`, gw32 >= px32],
    ['same, audit store synchronous=normal: added p50', '≤ 0.5 ms', `${f2(nAddP50)} ms (${f2(nLat?.p50 ?? NaN)} vs ${f2(dLat.p50)})`, nAddP50 <= 0.5],
    ['same, synchronous=normal: added p99', '≤ 3 ms', `${f2(nAddP99)} ms (${f2(nLat?.p99 ?? NaN)} vs ${f2(dLat.p99)})`, nAddP99 <= 3],
    ['same, synchronous=normal: throughput at 32', '≥ kubectl proxy', `${f0(nGw32)} vs ${f0(px32)} req/s (${f2(nGw32 / px32)}×)`, nGw32 >= px32],
    [`LIST ${PODS} pods: throughput vs direct`, '≥ 0.7×', `${f2(listRatio)}×`, listRatio >= 0.7],
    [
      `${WATCHES} concurrent watches: gateway RSS`,
      '< 300 MB, all held, events flow',
      `peak ${f0(watchRun.rssPeakMb)} MB; ${watchRun.ok200} answered 200, ${watchRun.openAfterHold} open after ${WATCH_HOLD_SECONDS} s, ${watchRun.sawEvent} saw the change`,
      watchRun.rssPeakMb < 300 && watchesOk,
    ],
    [
      `RSS over ${RSS_REQUESTS.toLocaleString('en')} requests`,
      `flat (< 10 % growth after ${RSS_WARMUP.toLocaleString('en')})`,
      `${f2(rssRun.growthPct)} % (${f0(rssRun.samples.find((s) => s.requests >= RSS_WARMUP)?.rssMb ?? NaN)} → ${f0(rssRun.samples.at(-1)!.rssMb)} MB, ${rssRun.requests} requests)`,
      rssFlat,
    ],
    ...approvalGoals(approvals),
    ...maskingGoals(masking),
    ...recordingGoals(recording),
    ...mcpGoals(mcp),
  ] as const;

  const goalTable = [
    '| figure | goal | measured | met? |',
    '|---|---|---|---|',
    ...goals.map(([what, goal, measured, met]) => `| ${what} | ${goal} | ${measured} | ${yes(met)} |`),
  ].join('\n');
  const latTable = [
    '| target | requests | p50 ms | p90 ms | p99 ms | max ms | errors |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...latency.map((l) => `| ${l.target} | ${l.n} | ${f2(l.p50)} | ${f2(l.p90)} | ${f2(l.p99)} | ${f2(l.max)} | ${l.errors} |`),
  ].join('\n');
  const loadTable = [
    '| target | scenario | connections | req/s | p50 ms | p99 ms | errors |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...loads.map((r) => `| ${r.target} | ${r.scenario} | ${r.connections} | ${f0(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
  ].join('\n');
  const rssTable = [
    '| requests | gateway RSS MB |',
    '|---:|---:|',
    ...rssRun.samples.map((s) => `| ${s.requests.toLocaleString('en')} | ${f0(s.rssMb)} |`),
  ].join('\n');
  const watchLines = [
    `- streams opened: ${watchRun.opened}; answered 200: ${watchRun.ok200} (all headers within ${f2(watchRun.openSeconds)} s)`,
    `- still open after ${WATCH_HOLD_SECONDS} s: ${watchRun.openAfterHold}`,
    `- saw the MODIFIED event of one pod changed upstream: ${watchRun.sawEvent} (within ${f2(watchRun.eventSeconds)} s)`,
    `- gateway RSS: ${f0(watchRun.rssBeforeMb)} MB before, ${f0(watchRun.rssPeakMb)} MB peak while held, ${f0(watchRun.rssAfterCloseMb)} MB 2 s after closing them`,
  ].join('\n');

  const kubectlVer = await new Promise<string>((res) => {
    const p = spawn(kubectlPath('1.33'), ['version', '--client', '-o', 'json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', () => res((JSON.parse(out || '{}') as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion ?? '1.33'));
    p.on('error', () => res('1.33'));
  });
  const machine = [
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, ${process.platform} ${process.arch}`,
    `Node ${process.version}, kubectl ${kubectlVer}, open-file limit ${openFileLimit()}, temp folder on the root file system`,
    `run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, total bench time ${f0((Date.now() - benchStarted) / 1000)} s`,
  ].join('  \n');

  console.log(`\n${goalTable}\n\n${latTable}\n\n${loadTable}\n\n${rssTable}\n\n${watchLines}\n\n${approvalsResults(approvals)}\n${maskingResults(masking)}\n\n${recordingResults(recording)}\n\n${mcpResults(mcp)}`);

  const doc = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts); rerun it to refresh this page. The goals are those of
issue #3 (the data path), issue #4 (just-in-time approval: the two approval rows), issue #5
(inline masking: the rows starting with “masking”, detailed in [Masking](#masking) below), issue
#6 (the rows starting with “trail”, “audit verify” and “recording”, [Recording and the
trail](#recording-and-the-trail)) and issue #7 (the MCP row, [MCP](#mcp)). How to profile the
gateway when a goal is missed: bench/README.md.

## Goals
${goalTable}

"Added" latency is the gateway's percentile minus direct's percentile of the same run.

## Method
- **One run, one machine, loopback only.** Every target runs in its own process; the load
  generator runs in the bench process (autocannon 8 for throughput, a sequential
  \`node:https\` loop for latency, plain \`node:https\` streams for watches).
- **Targets.** *direct* — the Kubernetes API emulator over HTTPS (bench/emulator-process.ts,
  request recording off), seeded with ${PODS} pods in namespace \`${NAMESPACE}\`, reached with its
  admin token. *kubectl proxy* — kubectl ${kubectlVer}'s reverse proxy in front of it (plain HTTP
  on loopback, the bare minimum a proxy costs). *Sluice* — compiled JavaScript (\`npm run build\`, as in production), \`node dist/src/cli/main.js server -c <generated
  config>\`: TLS, authentication of ${USER}'s access token from the real demo identity provider
  (oidc-provider, JWKS over HTTPS), policy \`policies/demo\` (\`developers/read\` allows the
  requests), and the audit trail in SQLite (WAL, group commit) in a temp folder on the root file
  system; upstream is the same emulator, reached with a service-account token that impersonates
  ${USER}. Two gateway processes run: the default \`store.sqlite.synchronous: full\` (every
  audit commit fsynced: survives power loss) and \`normal\` (survives a crash of the process, may
  lose the last commits on power loss); the latency and single-GET throughput are measured for
  both, everything else for \`full\`.
- **GET latency at concurrency 1.** ${LATENCY_REQUESTS} sequential \`GET ${GET_PATH}\` on one
  keep-alive connection after ${LATENCY_WARMUP} warm-up requests, each timed with
  \`process.hrtime.bigint()\` from request to last byte.
- **Throughput.** autocannon, ${DURATION}-second runs with keep-alive connections: the single-pod
  GET at 32 connections, \`LIST ${LIST_PATH}\` (${PODS} pods, JSON) at 4 connections. autocannon's
  latencies are whole milliseconds.
- **RSS over ${RSS_REQUESTS.toLocaleString('en')} requests.** autocannon with \`amount: ${RSS_REQUESTS}\` at 32 connections
  on the single-pod GET through the gateway (bounded to ${RSS_MAX_SECONDS} s); the gateway's VmRSS (/proc/PID/status) is read every
  ${RSS_SAMPLE_EVERY.toLocaleString('en')} responses. Flat means less than 10 % growth from the
  ${RSS_WARMUP.toLocaleString('en')}-request sample (after warm-up) to the end.
- **${WATCHES} concurrent watches.** ${WATCHES} \`GET ${LIST_PATH}?watch=1&resourceVersion=<current>\`
  streams through the gateway, one TLS connection each, held ${WATCH_HOLD_SECONDS} s while the
  gateway's RSS is sampled every 0.5 s; then one pod is patched directly on the emulator and we
  count the streams that delivered its MODIFIED event (within 15 s).
${approvalsMethod(approvals)}
  Both approval figures are measured on a third gateway process (same configuration as
  \`synchronous: full\`, its own database), started after the watches and stopped after them.
- The machine has ${cpus().length} CPUs shared by all processes (emulator, proxy, gateway, load
  generator): absolute numbers are low and noisy; compare rows of the same run.

## Machine
${machine}

## Results

### GET one pod, concurrency 1 (sequential, hrtime)
${latTable}

### Throughput (autocannon)
${loadTable}

### Gateway RSS over ${RSS_REQUESTS.toLocaleString('en')} GETs (32 connections, ${f0(rssRun.requests / rssRun.seconds)} req/s, ${rssRun.errors} errors)
${rssTable}

### ${WATCHES} concurrent watches through the gateway
${watchLines}

Gateway RSS idle after start: ${f0(gwRssIdle)} MB. Audit database after the run: ${f0(dbBytes / 2 ** 20)} MB.

${approvalsResults(approvals)}
## Masking
The figures of issue #5: masking throughput ≥ 150 MB/s on one core for a 5 MB PodList +
SecretList (the JSON masker in process), ≤ 0.3 ms added p50 on a small Secret GET, and memory
bounded per stream (a 1 GB log stream through the gateway keeps its RSS flat). Same run and
machine as above ([Machine](#machine)).

### Method
${maskingMethod(masking)}

${maskingResults(masking)}

## Recording and the trail
The figures of issue #6: durable append ≥ 20,000 events/s on SQLite with group commit and the
commit wait ≤ 5 ms p99, \`audit verify\` ≥ 100,000 events/s, recording on costs ≤ 20 %
throughput on the single-object GET. Same run and machine as above ([Machine](#machine)).

### Method
${recordingMethod}

${recordingResults(recording)}

## MCP
The figure of issue #7: a \`tools/call\` of a single-object get through Sluice's MCP endpoint
adds ≤ 3 ms p50 over the same Kubernetes GET made directly through the gateway. Same run and
machine as above ([Machine](#machine)).

### Method
${mcpMethod(mcp)}

${mcpResults(mcp)}`;
  await writeFile(join(root, 'docs/benchmarks.md'), doc);
  console.log('written to docs/benchmarks.md');
} finally {
  await world.stop();
}
