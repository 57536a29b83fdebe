/**
 * Inline masking (issue #5) through the real gateway process, and the masker's own benchmarks.
 *
 *   1. added latency on a small Secret GET: sequential GETs (bench/latency.ts, concurrency 1) of
 *      `db-credentials` in `dev` as bob (masked) and as alice (policies/demo:
 *      sre/secrets-dev-unmasked lifts masking for her there: same gateway, same code path but
 *      the masking). The arms run in interleaved rounds, in mirrored order every other round
 *      (A B B A …), so that the noise of a shared machine falls on both. A control pair — bob
 *      and alice GETting a pod, masked for both — shows what the two identities differ by
 *      without masking. Both answers are checked first: bob's shows REDACTED, alice's the values;
 *   2. per-stream memory: BENCH_LOG_MB MiB (default 1024: 1 GiB) of pod log through the gateway
 *      as bob (masked line by line), from the emulator's `emulator.sluice.dev/log-volume-bytes`
 *      (testing/kube-emulator/README.md). The gateway's VmRSS is sampled every
 *      BENCH_LOG_SAMPLE_SECONDS (1) while the client reads as fast as it can, checks the whole
 *      stream for the fake credentials (none may get through) and counts the masks;
 *   3. the in-process benchmarks bench/masking-kube.ts (JSON masker) and
 *      bench/masking-detectors.ts (value detectors), each run BENCH_MASKING_MICRO_RUNS (3) times
 *      as a child process: ranges over the runs.
 *
 * Used by bench/run.ts (which writes docs/benchmarks.md) and runnable alone, which starts its
 * own world and prints (writes nothing):
 *   node --import tsx bench/masking-gateway.ts
 * Environment: BENCH_MASKING_ROUNDS (20), BENCH_MASKING_REQUESTS (300 GETs per arm and round,
 * plus 10 % warm-up on each round's fresh connection), BENCH_LOG_MB (1024), BENCH_LOG_MAX_SECONDS
 * (600), BENCH_LOG_SAMPLE_SECONDS (1), BENCH_MASKING_MICRO_RUNS (3; 0 skips them).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { FAKE } from '../testing/kube-emulator/store/seed.ts';
import { FAKE_LOG_JWT, LOG_VOLUME_ANNOTATION, volumeBlock } from '../testing/kube-emulator/streams/log-content.ts';
import type { KubeObject } from '../testing/kube-emulator/types.ts';
import { percentile, sequentialLatency, type LatencyResult } from './latency.ts';
import { GET_PATH, NAMESPACE, call, root, rssMb, startBenchWorld, stopProcess, type BenchWorld, type Target } from './world.ts';

const envNumber = (name: string, dflt: number, min = 1): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return v;
};

/** policies/demo: developers (bob) read Secrets in dev masked; sre (alice) unmasked (sre/secrets-dev-unmasked). */
export const MASKED_USER = 'bob';
export const UNMASKED_USER = 'alice';
export const SECRET_NAME = 'db-credentials';
export const SECRET_PATH = `/api/v1/namespaces/${NAMESPACE}/secrets/${SECRET_NAME}`;
export const LOG_POD = 'log-volume';
export const LOG_PATH = `/api/v1/namespaces/${NAMESPACE}/pods/${LOG_POD}/log`;

// ---------------------------------------------------------------- results

export interface Spread {
  median: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
}

function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { median: percentile(s, 50), q1: percentile(s, 25), q3: percentile(s, 75), min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}

export interface Arm {
  name: string;
  user: string;
  path: string;
  masked: boolean;
  /** Per round: the round's percentiles (bench/latency.ts). */
  rounds: LatencyResult[];
  /** Medians over the rounds of each round's percentile. */
  p50: number;
  p90: number;
  p99: number;
  requests: number;
  errors: number;
}

export interface LatencyAB {
  rounds: number;
  perRound: number;
  warmup: number;
  secretBytes: { masked: number; unmasked: number };
  /** bob's answer carries REDACTED and none of the values; alice's carries the values and no REDACTED. */
  check: { maskedOk: boolean; unmaskedOk: boolean };
  arms: { maskedSecret: Arm; unmaskedSecret: Arm; maskedPodBob: Arm; maskedPodAlice: Arm };
  /** Per round p50(bob, Secret) − p50(alice, Secret): the added latency of masking. */
  addedP50: Spread;
  addedP90: Spread;
  addedP99: Spread;
  /** Per round p50(bob, pod) − p50(alice, pod): both masked, what the identities differ by. */
  controlP50: Spread;
}

export interface RssSample {
  seconds: number;
  /** Bytes the client had received by then. */
  bytes: number;
  rssMb: number;
}

export interface StreamRun {
  /** Bytes of log the emulator sends (the annotation). */
  volumeBytes: number;
  /** Bytes received by the client (masked: a little shorter). */
  receivedBytes: number;
  status: number;
  complete: boolean;
  seconds: number;
  /** volumeBytes / seconds, 10^6 bytes per second. */
  mbps: number;
  samples: RssSample[];
  sampleSeconds: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  /** The gateway's VmHWM (peak RSS since it started) before and after the stream. */
  hwmBeforeMb: number;
  hwmAfterMb: number;
  /** Peak of the samples in the first and in the second half of the stream (by bytes). */
  firstHalfPeakMb: number;
  secondHalfPeakMb: number;
  emulatorStartMb: number;
  emulatorPeakMb: number;
  /** CPU seconds (user + system) the gateway process spent during the stream. */
  gatewayCpuSeconds: number;
  /** Fake credentials the emulator printed (computed from its block) and what arrived. */
  credentialsSent: number;
  leaks: number;
  masks: number;
  /** Credential lines among the first 64 KiB of output, and how many of them were masked. */
  sampleLines: number;
  sampleMasked: number;
}

export interface MicroTable {
  /** e.g. 'bench/masking-kube.ts' */
  script: string;
  runs: number;
  /** Context lines the script printed (input, detectors), from the first run. */
  notes: string[];
  /** [figure, goal, measured as a range over the runs, met in every run (undefined: no goal)] */
  rows: [string, string, string, boolean | undefined][];
  failed: number;
}

export interface MaskingResult {
  latency: LatencyAB;
  stream: StreamRun;
  micro: MicroTable[];
  gatewayRssIdleMb: number;
}

// ---------------------------------------------------------------- helpers

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds of a process so far (/proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}


/** Occurrences of `needle` in a stream of chunks, also those split across chunks. */
class Counter {
  count = 0;
  private carry = Buffer.alloc(0);
  constructor(private readonly needle: Buffer) {}
  push(chunk: Buffer): void {
    const k = this.needle.length - 1;
    if (this.carry.length) {
      // Only occurrences that span the boundary fit in (k bytes before) + (k bytes after).
      const edge = Buffer.concat([this.carry, chunk.subarray(0, k)]);
      for (let i = edge.indexOf(this.needle); i >= 0; i = edge.indexOf(this.needle, i + 1)) this.count++;
    }
    for (let i = chunk.indexOf(this.needle); i >= 0; i = chunk.indexOf(this.needle, i + 1)) this.count++;
    this.carry = Buffer.from(chunk.subarray(Math.max(0, chunk.length - k)));
  }
}

function occurrences(hay: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

// ---------------------------------------------------------------- 1. latency

async function seedSecret(emu: Target): Promise<void> {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  // The demo seed's db-credentials (testing/kube-emulator/store/seed.ts).
  const r = await call(emu, 'POST', `/api/v1/namespaces/${NAMESPACE}/secrets`, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRET_NAME, labels: { app: 'db' } },
    type: 'Opaque',
    data: { username: b64(FAKE.dbUser), password: b64(FAKE.dbPassword), url: b64(FAKE.databaseUrl) },
  });
  if (r.status !== 201 && r.status !== 409) throw new Error(`creating Secret ${SECRET_NAME}: ${r.status} ${r.body.slice(0, 300)}`);
}

function arm(name: string, user: string, path: string, masked: boolean): Arm {
  return { name, user, path, masked, rounds: [], p50: NaN, p90: NaN, p99: NaN, requests: 0, errors: 0 };
}

function summarise(a: Arm): void {
  a.p50 = spread(a.rounds.map((r) => r.p50)).median;
  a.p90 = spread(a.rounds.map((r) => r.p90)).median;
  a.p99 = spread(a.rounds.map((r) => r.p99)).median;
  a.requests = a.rounds.reduce((n, r) => n + r.n, 0);
  a.errors = a.rounds.reduce((n, r) => n + r.errors, 0);
}

async function latencyAB(world: BenchWorld, gw: Target, log: (m: string) => void): Promise<LatencyAB> {
  const rounds = Math.round(envNumber('BENCH_MASKING_ROUNDS', 20));
  const perRound = Math.round(envNumber('BENCH_MASKING_REQUESTS', 300));
  const warmup = Math.max(5, Math.round(perRound / 10));
  await seedSecret(world.emu);
  const bob: Target = { ...gw, name: `${MASKED_USER} (masked)`, headers: { authorization: `Bearer ${await world.tokenFor(MASKED_USER)}` } };
  const alice: Target = { ...gw, name: `${UNMASKED_USER} (mask: off)`, headers: { authorization: `Bearer ${await world.tokenFor(UNMASKED_USER)}` } };

  // What is measured is what is claimed: bob's Secret is masked, alice's is not.
  const b = await call(bob, 'GET', SECRET_PATH);
  const a = await call(alice, 'GET', SECRET_PATH);
  if (b.status !== 200 || a.status !== 200) throw new Error(`GET ${SECRET_PATH}: ${MASKED_USER} ${b.status}, ${UNMASKED_USER} ${a.status}: ${b.body.slice(0, 200)} ${a.body.slice(0, 200)}`);
  const secretValue = Buffer.from(FAKE.dbPassword).toString('base64');
  const check = {
    maskedOk: b.body.includes('REDACTED') && !b.body.includes(secretValue),
    unmaskedOk: !a.body.includes('REDACTED') && a.body.includes(secretValue),
  };
  if (!check.maskedOk || !check.unmaskedOk) throw new Error(`masking is not what the bench assumes: ${MASKED_USER}: ${b.body.slice(0, 400)} / ${UNMASKED_USER}: ${a.body.slice(0, 400)}`);
  for (const t of [bob, alice]) {
    const p = await call(t, 'GET', GET_PATH);
    if (p.status !== 200) throw new Error(`${t.name} GET ${GET_PATH}: ${p.status} ${p.body.slice(0, 300)}`);
  }

  const arms = {
    maskedSecret: arm(`Secret as ${MASKED_USER} (masked)`, MASKED_USER, SECRET_PATH, true),
    unmaskedSecret: arm(`Secret as ${UNMASKED_USER} (mask: off)`, UNMASKED_USER, SECRET_PATH, false),
    maskedPodBob: arm(`control: pod as ${MASKED_USER} (masked)`, MASKED_USER, GET_PATH, true),
    maskedPodAlice: arm(`control: pod as ${UNMASKED_USER} (masked)`, UNMASKED_USER, GET_PATH, true),
  };
  const target = (x: Arm): Target => (x.user === MASKED_USER ? bob : alice);
  log(`masking: ${rounds} rounds × 4 arms × ${perRound} sequential GETs (+${warmup} warm-up each)…`);
  const order = [arms.maskedSecret, arms.unmaskedSecret, arms.maskedPodAlice, arms.maskedPodBob];
  for (let r = 0; r < rounds; r++) {
    for (const x of r % 2 === 0 ? order : [...order].reverse()) {
      x.rounds.push(await sequentialLatency(target(x), x.path, { warmup, requests: perRound }));
    }
  }
  for (const x of Object.values(arms)) summarise(x);
  const diff = (x: Arm, y: Arm, k: 'p50' | 'p90' | 'p99'): Spread => spread(x.rounds.map((rx, i) => rx[k] - y.rounds[i]![k]));
  return {
    rounds,
    perRound,
    warmup,
    secretBytes: { masked: Buffer.byteLength(b.body), unmasked: Buffer.byteLength(a.body) },
    check,
    arms,
    addedP50: diff(arms.maskedSecret, arms.unmaskedSecret, 'p50'),
    addedP90: diff(arms.maskedSecret, arms.unmaskedSecret, 'p90'),
    addedP99: diff(arms.maskedSecret, arms.unmaskedSecret, 'p99'),
    controlP50: diff(arms.maskedPodBob, arms.maskedPodAlice, 'p50'),
  };
}

// ---------------------------------------------------------------- 2. a big log stream

async function createLogPod(emu: Target, bytes: number): Promise<KubeObject> {
  const path = `/api/v1/namespaces/${NAMESPACE}/pods`;
  await call(emu, 'DELETE', `${path}/${LOG_POD}?gracePeriodSeconds=0`);
  for (let i = 0; i < 100; i++) {
    const r = await call(emu, 'POST', path, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: LOG_POD, labels: { app: 'bench-logs' }, annotations: { [LOG_VOLUME_ANNOTATION]: String(bytes) } },
      spec: { containers: [{ name: 'main', image: 'registry.example/app:1.0' }] },
    });
    if (r.status === 201) break;
    if (r.status !== 409) throw new Error(`creating pod ${LOG_POD}: ${r.status} ${r.body.slice(0, 300)}`);
    await sleep(100); // still being deleted
  }
  // Logs need a started container: wait for the emulator's kubelet to report it Running.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const g = await call(emu, 'GET', `${path}/${LOG_POD}`);
    const pod = JSON.parse(g.body) as KubeObject & { status?: { phase?: string } };
    if (g.status === 200 && pod.status?.phase === 'Running') return pod;
    if (Date.now() > deadline) throw new Error(`pod ${LOG_POD} is not Running: ${g.status} ${g.body.slice(0, 300)}`);
    await sleep(100);
  }
}

async function logStream(world: BenchWorld, gw: Target, log: (m: string) => void): Promise<StreamRun> {
  const volumeBytes = Math.round(envNumber('BENCH_LOG_MB', 1024) * 2 ** 20);
  const maxSeconds = envNumber('BENCH_LOG_MAX_SECONDS', 600);
  const sampleMs = envNumber('BENCH_LOG_SAMPLE_SECONDS', 1, 0.1) * 1000;
  const pid = gw.proc.pid!;
  const emuPid = world.emu.proc.pid!;
  const pod = await createLogPod(world.emu, volumeBytes);

  // What the emulator will print: its block repeated, cut at volumeBytes.
  const block = volumeBlock(pod, 'main');
  const whole = Math.floor(volumeBytes / block.length);
  const rest = block.subarray(0, volumeBytes % block.length);
  const needles = [Buffer.from(FAKE.dbPassword), Buffer.from(FAKE_LOG_JWT)];
  const credentialsSent = needles.reduce((n, nd) => n + whole * occurrences(block, nd) + occurrences(rest, nd), 0);

  await sleep(1000);
  const hwmBeforeMb = rssMb(pid, 'VmHWM');
  const cpuBefore = cpuSeconds(pid);
  log(`masking: ${(volumeBytes / 2 ** 20).toFixed(0)} MiB of pod log through the gateway as ${MASKED_USER}…`);
  const leaks = needles.map((nd) => new Counter(nd));
  const masks = new Counter(Buffer.from('[MASKED:'));
  let received = 0;
  let head = Buffer.alloc(0);
  const samples: RssSample[] = [];
  const emulatorStartMb = rssMb(emuPid);
  let emulatorPeakMb = emulatorStartMb;
  const started = performance.now();
  const sample = (): void => {
    samples.push({ seconds: (performance.now() - started) / 1000, bytes: received, rssMb: rssMb(pid) });
    emulatorPeakMb = Math.max(emulatorPeakMb, rssMb(emuPid));
  };
  sample();
  const timer = setInterval(sample, sampleMs);
  const agent = new https.Agent({ keepAlive: false, ...(gw.ca ? { ca: gw.ca } : {}) });
  const { status, complete } = await new Promise<{ status: number; complete: boolean }>((res, rej) => {
    const req = https.get(new URL(gw.base + LOG_PATH), { agent, headers: { ...gw.headers, accept: '*/*' } }, (resp) => {
      const status = resp.statusCode ?? 0;
      const bound = setTimeout(() => req.destroy(new Error(`stopped after ${maxSeconds} s`)), maxSeconds * 1000);
      resp.on('data', (c: Buffer) => {
        received += c.length;
        if (head.length < 65_536) head = Buffer.concat([head, c]).subarray(0, 65_536);
        for (const l of leaks) l.push(c);
        masks.push(c);
      });
      resp.on('end', () => {
        clearTimeout(bound);
        res({ status, complete: resp.complete });
      });
      resp.on('error', (e) => {
        clearTimeout(bound);
        log(`masking: the log stream broke off: ${e.message}`);
        res({ status, complete: false });
      });
      resp.on('close', () => {
        clearTimeout(bound);
        res({ status, complete: resp.complete });
      });
    });
    req.on('error', rej);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  sample();
  const gatewayCpuSeconds = cpuSeconds(pid) - cpuBefore;
  agent.destroy();
  await sleep(2000);
  const rssEndMb = rssMb(pid);
  const hwmAfterMb = rssMb(pid, 'VmHWM');

  const lines = head.toString('utf8').split('\n').slice(0, -1);
  const credLines = lines.filter((l) => l.includes('postgres://app:') || l.includes('Authorization: Bearer'));
  const half = received / 2;
  const peak = (xs: RssSample[]): number => Math.max(...xs.map((s) => s.rssMb));
  return {
    volumeBytes,
    receivedBytes: received,
    status,
    complete,
    seconds,
    mbps: volumeBytes / 1e6 / seconds,
    samples,
    sampleSeconds: sampleMs / 1000,
    rssStartMb: samples[0]!.rssMb,
    rssPeakMb: peak(samples),
    rssEndMb,
    hwmBeforeMb,
    hwmAfterMb,
    firstHalfPeakMb: peak(samples.filter((s) => s.bytes <= half)),
    secondHalfPeakMb: peak(samples.filter((s) => s.bytes > half)),
    emulatorStartMb,
    emulatorPeakMb,
    gatewayCpuSeconds,
    credentialsSent,
    leaks: leaks.reduce((n, l) => n + l.count, 0),
    masks: masks.count,
    sampleLines: credLines.length,
    sampleMasked: credLines.filter((l) => l.includes('[MASKED:')).length,
  };
}

// ---------------------------------------------------------------- 3. the in-process benchmarks

const NUMBER = /\d+(?:\.\d+)?/g;

/** One cell over several runs: each number as "min–max" where the runs differ; ✅/❌ summarised. */
export function mergeCells(cells: string[]): { text: string; met: boolean | undefined } {
  const strip = (c: string): string => c.replace(/\s*[✅❌]\s*/gu, ' ').trim();
  const skeleton = (c: string): string => strip(c).replace(NUMBER, '#');
  const marks = cells.map((c) => (c.includes('✅') ? true : c.includes('❌') ? false : undefined));
  const met = marks.every((m) => m === undefined) ? undefined : marks.every((m) => m === true);
  if (cells.some((c) => skeleton(c) !== skeleton(cells[0]!))) return { text: cells.map(strip).join(' · '), met };
  const nums = cells.map((c) => strip(c).match(NUMBER) ?? []);
  let i = 0;
  const text = strip(cells[0]!).replace(NUMBER, (m) => {
    const vals = nums.map((n) => n[i]!);
    i++;
    const sorted = [...vals].sort((x, y) => Number(x) - Number(y));
    return sorted[0] === sorted.at(-1) ? m : `${sorted[0]}–${sorted.at(-1)}`;
  });
  const passed = marks.filter((m) => m === true).length;
  const mark = met === undefined ? '' : met ? ' ✅' : passed === 0 ? ' ❌' : ` ❌ (met in ${passed} of ${cells.length} runs)`;
  return { text: text + mark, met };
}

/** bench/masking-kube.ts prints a table `| figure | goal | measured |` after a few context lines. */
function parseKube(out: string): { notes: string[]; rows: Map<string, [string, string]> } {
  const notes: string[] = [];
  const rows = new Map<string, [string, string]>();
  for (const line of out.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.length < 3 || cells[0] === 'figure' || /^-+$/.test(cells[0]!)) continue;
      rows.set(cells[0]!, [cells[1]!, cells.slice(2).join(' | ')]);
    } else if (line.trim()) notes.push(line.trim());
  }
  return { notes, rows };
}

/** bench/masking-detectors.ts prints sections `<detectors>, <input>:` of `  <scenario>  N MB/s   (h hits)`. */
function parseDetectors(out: string): { notes: string[]; rows: Map<string, [string, string]> } {
  const notes: string[] = [];
  const rows = new Map<string, [string, string]>();
  let section = '';
  for (const line of out.split('\n')) {
    const sec = /^(\S.*):$/.exec(line);
    const row = /^\s+(.+?)\s+(\d+(?:\.\d+)?) MB\/s\s*(\(.*\))?$/.exec(line);
    if (sec) section = sec[1]!;
    else if (row) rows.set(`${section}: ${row[1]}`, ['—', `${row[2]} MB/s`]);
    else if (line.trim()) notes.push(line.trim());
  }
  return { notes, rows };
}

const run = promisify(execFile);

export async function maskingMicro(log: (m: string) => void, runs = Math.round(envNumber('BENCH_MASKING_MICRO_RUNS', 3, 0))): Promise<MicroTable[]> {
  const out: MicroTable[] = [];
  for (const [script, parse] of [
    ['bench/masking-kube.ts', parseKube],
    ['bench/masking-detectors.ts', parseDetectors],
  ] as const) {
    if (runs === 0) break;
    const parsed: ReturnType<typeof parse>[] = [];
    let failed = 0;
    for (let i = 0; i < runs; i++) {
      log(`masking: ${script} (${i + 1} of ${runs})…`);
      try {
        const r = await run(process.execPath, ['--import', 'tsx', join(root, script)], { cwd: root, maxBuffer: 16 * 2 ** 20, timeout: 600_000 });
        parsed.push(parse(r.stdout));
      } catch (e) {
        failed++;
        log(`masking: ${script} failed: ${(e as Error).message.slice(0, 300)}`);
      }
    }
    const rows: MicroTable['rows'] = [];
    for (const [figure, [goal]] of parsed[0]?.rows ?? []) {
      const cells = parsed.map((p) => p.rows.get(figure)?.[1]).filter((c): c is string => c !== undefined);
      const m = mergeCells(cells);
      rows.push([figure, goal, m.text, goal === '—' ? undefined : m.met]);
    }
    out.push({ script, runs: parsed.length, notes: parsed[0]?.notes ?? [], rows, failed });
  }
  return out;
}

// ---------------------------------------------------------------- the bench

/**
 * The gateway figures against `gateway` (a fresh gateway process like world.gw: bench/run.ts
 * passes one from world.startGateway; alone, one is started and stopped here), then the
 * in-process benchmarks.
 */
export async function maskingBench(world: BenchWorld, log: (m: string) => void, gateway?: Target): Promise<MaskingResult> {
  const gw = gateway ?? (await world.startGateway('masking'));
  try {
    await sleep(500);
    const gatewayRssIdleMb = rssMb(gw.proc.pid!);
    const latency = await latencyAB(world, gw, log);
    const stream = await logStream(world, gw, log);
    const micro = await maskingMicro(log);
    return { latency, stream, micro, gatewayRssIdleMb };
  } finally {
    if (!gateway) await stopProcess(gw.proc);
  }
}

// ---------------------------------------------------------------- report

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const f3 = (n: number): string => (Number.isFinite(n) ? n.toFixed(3) : 'n/a');
const f0 = (n: number): string => (Number.isFinite(n) ? String(Math.round(n)) : 'n/a');
const gib = (b: number): string => (b >= 2 ** 30 ? `${f2(b / 2 ** 30)} GiB` : `${f0(b / 2 ** 20)} MiB`);
const sp = (s: Spread, f = f3): string => `${f(s.median)} ms (rounds: quartiles ${f(s.q1)} … ${f(s.q3)}, range ${f(s.min)} … ${f(s.max)})`;

/** Flat: the peak within 50 MB of the start, and the second half's peak within 10 MB of the first half's. */
export function streamFlat(s: StreamRun): boolean {
  return s.rssPeakMb - s.rssStartMb <= 50 && s.secondHalfPeakMb - s.firstHalfPeakMb <= 10;
}

export function streamOk(s: StreamRun): boolean {
  return s.status === 200 && s.complete && s.leaks === 0 && s.masks >= s.credentialsSent && s.masks <= s.credentialsSent + 1 && s.sampleMasked === s.sampleLines;
}

/** Rows for the Goals table: [figure, goal, measured, met]. */
export function maskingGoals(r: MaskingResult): [string, string, string, boolean][] {
  const l = r.latency;
  const s = r.stream;
  const kube = r.micro.find((m) => m.script === 'bench/masking-kube.ts');
  const rows: [string, string, string, boolean][] = [];
  for (const [figure, goal, measured, met] of kube?.rows ?? []) {
    if (met === undefined) continue;
    rows.push([`masking, in process (bench/masking-kube.ts, ${kube!.runs} runs): ${figure}`, goal, measured.replace(/\s*[✅❌].*$/u, ''), met]);
  }
  rows.push([
    `masking: added p50 on a small Secret GET through the gateway (${l.arms.maskedSecret.user} masked vs ${l.arms.unmaskedSecret.user} mask: off)`,
    '≤ 0.3 ms',
    `${f3(l.addedP50.median)} ms (${f3(l.arms.maskedSecret.p50)} vs ${f3(l.arms.unmaskedSecret.p50)}; rounds' quartiles ${f3(l.addedP50.q1)} … ${f3(l.addedP50.q3)}; control ${f3(l.controlP50.median)})`,
    l.addedP50.median <= 0.3 && l.check.maskedOk && l.check.unmaskedOk,
  ]);
  rows.push([
    `masking: ${gib(s.volumeBytes)} log stream through the gateway: RSS`,
    'flat (peak ≤ start + 50 MB; 2nd half ≤ 1st half + 10 MB)',
    `${f0(s.rssStartMb)} MB start, ${f0(s.rssPeakMb)} peak, ${f0(s.rssEndMb)} end; ${f0(s.mbps)} MB/s; ${s.leaks} credentials leaked, ${s.masks} of ${s.credentialsSent} masked`,
    streamFlat(s) && streamOk(s),
  ]);
  return rows;
}

/** The method bullets (for docs/benchmarks.md). */
export function maskingMethod(r: MaskingResult): string {
  const l = r.latency;
  const s = r.stream;
  return `- **Gateway.** A gateway process of its own, configured like the others (\`masking\` at its
  defaults: on, Secret values \`marker\`), started after the approvals and stopped after these
  measurements; the emulator, kubectl proxy and the other gateways idle meanwhile.
- **Added latency on a small Secret GET.** \`GET ${SECRET_PATH}\` (the demo's 3-key Secret;
  ${l.secretBytes.masked} B answer masked, ${l.secretBytes.unmasked} B in clear) as ${MASKED_USER} (\`developers/read\`: masked)
  and as ${UNMASKED_USER} (\`sre/secrets-dev-unmasked\`, \`mask: off\`: the same gateway and code path, the masking
  lifted); checked first: ${MASKED_USER}'s answer shows \`REDACTED\` and none of the values, ${UNMASKED_USER}'s the values.
  ${l.rounds} interleaved rounds; in each, every arm runs bench/latency.ts's \`sequentialLatency\` (${l.perRound} sequential GETs on
  one fresh keep-alive connection after ${l.warmup} warm-up, hrtime from request to last byte), the arms in
  mirrored order every other round (A B C D, D C B A, …) so drift and neighbours' noise fall on
  all of them. Per arm: the median over the rounds of the round's p50 / p90 / p99. *Added* =
  the median over the rounds of (p50 masked − p50 mask: off) of the same round, with the
  quartiles and range of those per-round differences. Control: \`GET ${GET_PATH}\` as both users, masked for both (a pod's env values go
  through the detectors): what the two identities differ by apart from masking.
- **Per-stream memory.** A pod annotated \`${LOG_VOLUME_ANNOTATION}: ${s.volumeBytes}\`: the emulator streams
  ${gib(s.volumeBytes)} of request lines, one in 50 printing a fake credential (a password in a
  postgres URL, a bearer JWT: ${s.credentialsSent.toLocaleString('en')} in all), block by block with backpressure. ${MASKED_USER}
  reads \`GET ${LOG_PATH}\` through the gateway (masked line by line) with a raw \`node:https\`
  client that only counts: bytes, the fake credentials (across chunk boundaries too) and the
  \`[MASKED:\` markers in the whole stream. The gateway's VmRSS (/proc/PID/status) is sampled
  every ${s.sampleSeconds} s, its VmHWM (peak since start) read
  before and after, its CPU time (/proc/PID/stat) over the stream. MB/s = log bytes sent by the
  emulator / wall time from request to last byte (10^6 bytes). The emulator, the gateway and
  the client share the ${cpus().length} CPUs, each also doing TLS.
- **In-process benchmarks.** ${r.micro.map((m) => `\`node --import tsx ${m.script}\``).join(' and ')}, each run ${r.micro[0]?.runs ?? 0} times as a
  child process (one core each) after the gateway measurements; figures are ranges over the runs.`;
}

/** The results section (### headings) for docs/benchmarks.md. */
export function maskingResults(r: MaskingResult): string {
  const l = r.latency;
  const s = r.stream;
  const armRow = (a: Arm): string => `| ${a.name} | \`${a.path.replace(`/api/v1/namespaces/${NAMESPACE}/`, '…/')}\` | ${a.requests} | ${f3(a.p50)} | ${f3(a.p90)} | ${f3(a.p99)} | ${a.errors} |`;
  // At most ~30 samples shown (a slow machine samples for minutes); the peak is always among them.
  const every = Math.max(1, Math.ceil(s.samples.length / 30));
  const peakAt = s.samples.findIndex((x) => x.rssMb === s.rssPeakMb);
  const samples = s.samples
    .filter((_, i) => i % every === 0 || i === peakAt || i === s.samples.length - 1)
    .map((x) => `${f0(x.seconds)} s ${f0(x.rssMb)}`)
    .join(', ');
  const micro = r.micro
    .map(
      (m) => `### ${m.script} (in process, ${m.runs} runs${m.failed ? `, ${m.failed} failed` : ''}: ranges)
${m.notes.map((n) => `- ${n}`).join('\n')}

| figure | goal | measured |
|---|---|---|
${m.rows.map(([f, g, v]) => `| ${f} | ${g} | ${v} |`).join('\n')}
`,
    )
    .join('\n');
  return `### Masking: small Secret GET, concurrency 1 (${l.rounds} interleaved rounds, medians over rounds)
| arm | path | requests | p50 ms | p90 ms | p99 ms | errors |
|---|---|---:|---:|---:|---:|---:|
${armRow(l.arms.maskedSecret)}
${armRow(l.arms.unmaskedSecret)}
${armRow(l.arms.maskedPodBob)}
${armRow(l.arms.maskedPodAlice)}

- added by masking (${MASKED_USER} − ${UNMASKED_USER} on the Secret, per round): p50 **${sp(l.addedP50)}**; p90 ${sp(l.addedP90)}; p99 ${sp(l.addedP99)}
- control (${MASKED_USER} − ${UNMASKED_USER} on the pod, both masked): p50 ${sp(l.controlP50)}
- answers checked: ${MASKED_USER}'s Secret masked (\`REDACTED\`, no value): ${l.check.maskedOk ? 'yes' : 'NO'}; ${UNMASKED_USER}'s in clear: ${l.check.unmaskedOk ? 'yes' : 'NO'}

### Masking: ${gib(s.volumeBytes)} of pod log through the gateway (${MASKED_USER}, masked)
- status ${s.status}, ${s.complete ? 'complete' : '**incomplete**'}: ${(s.volumeBytes / 1e6).toFixed(0)} MB sent by the emulator, ${(s.receivedBytes / 1e6).toFixed(0)} MB received, in ${f2(s.seconds)} s: **${f0(s.mbps)} MB/s**; the gateway used ${f2(s.gatewayCpuSeconds)} CPU seconds (busy ${f0((s.gatewayCpuSeconds / s.seconds) * 100)} % of one core; ${f0(s.volumeBytes / 1e6 / s.gatewayCpuSeconds)} MB per CPU second)
- fake credentials printed: ${s.credentialsSent.toLocaleString('en')}; arrived in clear: **${s.leaks}**; \`[MASKED:\` markers received: ${s.masks.toLocaleString('en')}; credential lines in the first 64 KiB: ${s.sampleLines}, masked: ${s.sampleMasked}
- gateway RSS: **${f0(s.rssStartMb)} MB at the start, ${f0(s.rssPeakMb)} MB peak, ${f0(s.rssEndMb)} MB 2 s after the end** (peak of the first half ${f0(s.firstHalfPeakMb)} MB, of the second ${f0(s.secondHalfPeakMb)} MB; VmHWM ${f0(s.hwmBeforeMb)} → ${f0(s.hwmAfterMb)} MB; ${f0(r.gatewayRssIdleMb)} MB idle after start); emulator RSS ${f0(s.emulatorStartMb)} MB at the start, peak ${f0(s.emulatorPeakMb)} MB
- samples (time, MB): ${samples}

${micro}`;
}

// ---------------------------------------------------------------- alone

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const t0 = Date.now();
  const log = (msg: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}`);
  log('starting the identity provider, the emulator and the gateway…');
  const world = await startBenchWorld({ withProxy: false, keep: Boolean(process.env.BENCH_KEEP) });
  try {
    const r = await maskingBench(world, log);
    console.log(
      [
        '',
        '| figure | goal | measured | met? |',
        '|---|---|---|---|',
        ...maskingGoals(r).map(([what, goal, measured, met]) => `| ${what} | ${goal} | ${measured} | ${met ? '✅ yes' : '❌ no'} |`),
        '',
        maskingResults(r),
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; ${f0((Date.now() - t0) / 1000)} s`,
      ].join('\n'),
    );
  } finally {
    await world.stop();
  }
}
