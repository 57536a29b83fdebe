/**
 * Just-in-time approval (issue #4): the two figures of the gateway's held requests.
 *
 *   1. approve → upstream: how long after an approver's `approve` the held request reaches the
 *      Kubernetes API (goal ≤ 50 ms p99 on loopback);
 *   2. held requests at once: what 1,000 requests held for approval cost the gateway in RSS
 *      (goal < 100 MB extra).
 *
 * Used by bench/run.ts (`approvalsBench(world)`) and runnable alone, which starts its own world:
 *   node --import tsx bench/approvals.ts
 * Environment: BENCH_APPROVALS (approve rounds, default 200), BENCH_APPROVALS_HELD (held at
 * once, 1000), BENCH_APPROVALS_HOLD_SECONDS (how long they are held while RSS is sampled, 5).
 *
 * The demo policy holds bob's deletes in namespace `prod` (rule developers/delete-prod) for an
 * approver (group approvers: carol). Pods to delete are created in `prod` on the emulator first.
 *
 * Times across processes: the emulator (bench/emulator-process.ts, BENCH_EMULATOR_DELETE_LOG)
 * writes `performance.timeOrigin + performance.now()` when a DELETE's headers arrive; this
 * process takes its times with the same expression. Both read the same system clock.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { percentile } from './latency.ts';
import { USER, call, rssMb, startBenchWorld, type BenchWorld, type Target } from './world.ts';

/** policies/demo: developers/delete-prod holds bob's deletes here; approvers (carol) decide. */
export const APPROVAL_NAMESPACE = 'prod';
export const APPROVER = 'carol';

const envNumber = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};

/** Milliseconds since the epoch with sub-millisecond resolution; the emulator uses the same. */
const now = (): number => performance.timeOrigin + performance.now();

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s.at(-1) ?? NaN };
}

export interface ApprovalsResult {
  rounds: number;
  warmup: number;
  /** Rounds that failed (a status other than 200, a timeout); not in the statistics. */
  roundErrors: number;
  /** t0 (just before the approve POST is sent) → the emulator received the DELETE. */
  toUpstream: Stats;
  /** t0 → the last byte of the DELETE's answer at bob's client. */
  toClient: Stats;
  /** t0 → the last byte of the approve POST's answer at carol's client. */
  approveCall: Stats;
  /** Rounds whose answers carried the gateway's `Warning: … approved by carol`. */
  warnings: number;
  /** Clock sanity: rounds where the emulator's time was not between t0 and bob's answer. */
  clockOddities: number;
  held: HeldResult;
}

export interface HeldResult {
  n: number;
  /** Requests the gateway listed as pending approvals (GET /sluice/v1/approvals?state=pending&limit=N). */
  pendingListed: number;
  /** Of those, held: the gateway logged `request held for approval` (the request waits on it). */
  heldLogged: number;
  /** Seconds from the first request sent to all N listed and held. */
  openSeconds: number;
  /** Requests still open (no answer, no error) just before they were approved. */
  openBeforeRelease: number;
  /** The gateway's RSS when this bench began (before the approve rounds). */
  rssIdleMb: number;
  rssBeforeMb: number;
  rssSamplesMb: number[];
  rssPeakMb: number;
  extraMb: number;
  holdSeconds: number;
  /** Approving all N (16 approve POSTs at a time): seconds until the last client got its answer. */
  releaseSeconds: number;
  /** Answers at the N clients by status ('error' for a failed connection, 'none' for no answer). */
  statuses: Record<string, number>;
  /** DELETEs of these pods the emulator received. */
  upstreamSaw: number;
  /** Per request: its approve POST sent → the emulator received its DELETE, with 16 approvals in flight. */
  toUpstreamUnderLoad: Stats;
  rssAfterMb: number;
}

// ---------------------------------------------------------------- HTTP

interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** now() at the last byte. */
  endAt: number;
}

function send(url: string, opts: { method: string; headers: Record<string, string>; agent: https.Agent; body?: unknown; timeoutMs?: number }): Promise<Answer> {
  return new Promise((res, rej) => {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string | number> = { ...opts.headers, accept: 'application/json' };
    if (data !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(data);
    }
    const r = https.request(url, { method: opts.method, headers, agent: opts.agent }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: resp.headers, endAt: now() }));
      resp.on('error', rej);
    });
    if (opts.timeoutMs) r.setTimeout(opts.timeoutMs, () => r.destroy(new Error(`${opts.method} ${url}: timeout`)));
    r.on('error', rej);
    r.end(data);
  });
}

// ---------------------------------------------------------------- what the other processes say

/** The gateway's log (pino JSON on stderr): which approvals a request is waiting on. */
function heldLog(proc: ChildProcess): { held: Set<string>; waitFor(id: string, timeoutMs: number): Promise<void>; close(): void } {
  const held = new Set<string>();
  const waiting = new Map<string, () => void>();
  let buf = '';
  const on = (d: Buffer): void => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.includes('"request held for approval"')) continue;
      const id = /"approval":"([^"]+)"/.exec(line)?.[1];
      if (!id) continue;
      held.add(id);
      waiting.get(id)?.();
    }
  };
  proc.stderr!.on('data', on);
  return {
    held,
    async waitFor(id, timeoutMs) {
      if (held.has(id)) return;
      await new Promise<void>((res, rej) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          rej(new Error(`the gateway did not log that a request is held for approval ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, () => {
          clearTimeout(t);
          waiting.delete(id);
          res();
        });
      });
    },
    close: () => void proc.stderr!.off('data', on),
  };
}

/** The emulator's DELETE log, read as it grows: path → time received. */
function deleteLog(file: string): { seen: Map<string, number>; read(): void; waitFor(path: string, timeoutMs: number): Promise<number> } {
  const seen = new Map<string, number>();
  let offset = 0;
  let rest = '';
  const read = (): void => {
    if (!existsSync(file)) return;
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= offset) return;
      const b = Buffer.alloc(size - offset);
      readSync(fd, b, 0, b.length, offset);
      offset = size;
      const lines = (rest + b.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (!l) continue;
        const e = JSON.parse(l) as { time: number; url: string };
        const path = e.url.split('?')[0]!;
        if (!seen.has(path)) seen.set(path, e.time);
      }
    } finally {
      closeSync(fd);
    }
  };
  return {
    seen,
    read,
    async waitFor(path, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        read();
        const t = seen.get(path);
        if (t !== undefined) return t;
        if (Date.now() > deadline) throw new Error(`the emulator did not log DELETE ${path} within ${timeoutMs} ms`);
        await sleep(2);
      }
    },
  };
}

function openFileLimit(): number {
  try {
    return Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
  } catch {
    return Infinity;
  }
}

// ---------------------------------------------------------------- the bench

interface ApprovalJson {
  id: string;
  request?: { path: string };
}

/**
 * Both measurements against `gateway` (default world.gw; audit store synchronous=full, approvals
 * in the same SQLite file). bench/run.ts passes a fresh one (world.startGateway), so that the RSS
 * figure does not start from what the watches left in the gateway's memory. `log` reports progress.
 */
export async function approvalsBench(world: BenchWorld, log: (msg: string) => void = console.log, gateway: Target = world.gw): Promise<ApprovalsResult> {
  const rounds = Math.round(envNumber('BENCH_APPROVALS', 200));
  const warmup = Math.max(5, Math.round(rounds / 10));
  const heldN = Math.round(envNumber('BENCH_APPROVALS_HELD', 1000));
  const holdSeconds = envNumber('BENCH_APPROVALS_HOLD_SECONDS', 5);
  // They are found (and approved) through one list call, which returns at most 1,000.
  if (heldN > 1000) throw new Error('BENCH_APPROVALS_HELD is at most 1000 (the control API lists at most 1000 approvals)');
  const limit = openFileLimit();
  // Each process holds one socket per held request (the gateway two once they are released).
  if (limit < 2 * heldN + 500) throw new Error(`open-file limit ${limit} is too low for ${heldN} held requests: raise it (ulimit -n ${2 * heldN + 500}) or lower BENCH_APPROVALS_HELD`);

  const gw = gateway;
  const gwPid = gw.proc.pid!;
  const { emu } = world;
  const rssIdleMb = rssMb(gwPid);
  const origin = new URL(gw.base).origin;
  const kube = (path: string): string => gw.base + path;
  const control = (path: string): string => `${origin}/sluice/v1${path}`;
  const bob = gw.headers;
  const carol = { authorization: `Bearer ${await world.tokenFor(APPROVER)}` };
  const tag = randomBytes(3).toString('hex');
  const podPath = (name: string): string => `/api/v1/namespaces/${APPROVAL_NAMESPACE}/pods/${name}`;
  const roundPod = (i: number): string => `approve-${tag}-${i}`;
  const heldPod = (i: number): string => `held-${tag}-${i}`;

  // ---- pods to delete, created directly on the emulator
  log(`approvals: creating ${warmup + rounds + heldN} pods in namespace ${APPROVAL_NAMESPACE} on the emulator…`);
  const ns = await call(emu, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APPROVAL_NAMESPACE } });
  if (ns.status !== 201 && ns.status !== 409) throw new Error(`creating namespace ${APPROVAL_NAMESPACE}: ${ns.status} ${ns.body}`);
  const names = [...Array.from({ length: warmup + rounds }, (_, i) => roundPod(i)), ...Array.from({ length: heldN }, (_, i) => heldPod(i))];
  for (let i = 0; i < names.length; i += 16) {
    await Promise.all(
      names.slice(i, i + 16).map(async (name) => {
        const r = await call(emu, 'POST', `/api/v1/namespaces/${APPROVAL_NAMESPACE}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name, labels: { app: 'bench-approvals' } },
          spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
        });
        if (r.status !== 201) throw new Error(`creating pod ${name}: ${r.status} ${r.body}`);
      }),
    );
  }

  const held = heldLog(gw.proc);
  const deletes = deleteLog(world.deleteLog);
  // bob: one keep-alive connection (as kubectl); carol: keep-alive too, so that the approve POST
  // does not pay a TLS handshake (a console or CLI that stays connected).
  const bobAgent = new https.Agent({ keepAlive: true, maxSockets: 1, ...(gw.ca ? { ca: gw.ca } : {}) });
  const carolAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ...(gw.ca ? { ca: gw.ca } : {}) });
  const massAgent = new https.Agent({ keepAlive: false, maxSockets: Infinity, ...(gw.ca ? { ca: gw.ca } : {}) });
  const pending = async (n: number): Promise<ApprovalJson[]> => {
    const r = await send(control(`/approvals?state=pending&limit=${n}`), { method: 'GET', headers: carol, agent: carolAgent, timeoutMs: 30_000 });
    if (r.status !== 200) throw new Error(`listing pending approvals: ${r.status} ${r.body.slice(0, 300)}`);
    return (JSON.parse(r.body) as { approvals: ApprovalJson[] }).approvals;
  };
  const approve = (id: string): Promise<Answer> =>
    send(control(`/approvals/${id}/approve`), { method: 'POST', headers: carol, agent: carolAgent, body: { reason: 'bench' }, timeoutMs: 30_000 });

  try {
    // ---- 1. approve → upstream, one held request at a time
    log(`approvals: ${rounds} approve rounds after ${warmup} warm-up…`);
    const up: number[] = [];
    const client: number[] = [];
    const apCall: number[] = [];
    let roundErrors = 0;
    let warnings = 0;
    let clockOddities = 0;
    for (let i = 0; i < warmup + rounds; i++) {
      const path = podPath(roundPod(i));
      try {
        const del = send(kube(path), { method: 'DELETE', headers: bob, agent: bobAgent, timeoutMs: 60_000 });
        del.catch(() => undefined);
        // As an approver's console would: the approval shows up as pending…
        let id: string | undefined;
        const deadline = Date.now() + 10_000;
        while (!id) {
          id = (await pending(10)).find((a) => a.request?.path === path)?.id;
          if (!id && Date.now() > deadline) throw new Error(`no pending approval for DELETE ${path}`);
          if (!id) await sleep(1);
        }
        // …and the request is really waiting on it (its audit record is durable; the gateway
        // logged `request held for approval`): before that, an approve would also time the record.
        await held.waitFor(id, 10_000);
        const t0 = now();
        const ap = await approve(id);
        if (ap.status !== 200) throw new Error(`approve ${id}: ${ap.status} ${ap.body.slice(0, 300)}`);
        const d = await del;
        if (d.status !== 200) throw new Error(`DELETE ${path}: ${d.status} ${d.body.slice(0, 300)}`);
        const t1 = await deletes.waitFor(path, 10_000);
        if (!(t1 >= t0 && t1 <= d.endAt)) clockOddities++;
        if (i < warmup) continue;
        up.push(t1 - t0);
        client.push(d.endAt - t0);
        apCall.push(ap.endAt - t0);
        if (String(d.headers.warning ?? '').includes(`approved by ${APPROVER}`)) warnings++;
      } catch (e) {
        roundErrors++;
        log(`approvals: round ${i}: ${(e as Error).message}`);
        if (roundErrors > 20) throw new Error('approvals: more than 20 rounds failed', { cause: e });
      }
    }
    bobAgent.destroy();

    // ---- 2. N held at once
    log(`approvals: ${heldN} held requests at once, held ${holdSeconds} s…`);
    await sleep(1000);
    const rssBeforeMb = rssMb(gwPid);
    interface Held {
      path: string;
      status?: number | 'error';
      id?: string;
    }
    const hs: Held[] = [];
    const answered: Promise<void>[] = [];
    const started = Date.now();
    for (let i = 0; i < heldN; i++) {
      const h: Held = { path: podPath(heldPod(i)) };
      hs.push(h);
      answered.push(
        send(kube(h.path), { method: 'DELETE', headers: bob, agent: massAgent }).then(
          (a) => void (h.status = a.status),
          () => void (h.status = 'error'),
        ),
      );
      // In batches, so that 1,000 TLS handshakes do not all land in the same tick.
      if (i % 50 === 49) await sleep(20);
    }
    const mine = new Set(hs.map((h) => h.path));
    const byPath = new Map(hs.map((h) => [h.path, h]));
    let listed: ApprovalJson[] = [];
    const openDeadline = Date.now() + 60_000;
    for (;;) {
      listed = (await pending(heldN)).filter((a) => a.request && mine.has(a.request.path));
      const allHeld = listed.length >= heldN && listed.every((a) => held.held.has(a.id));
      if (allHeld || Date.now() > openDeadline || hs.every((h) => h.status !== undefined)) break;
      await sleep(250);
    }
    for (const a of listed) byPath.get(a.request!.path)!.id = a.id;
    const openSeconds = (Date.now() - started) / 1000;
    const samples: number[] = [rssMb(gwPid)];
    const holdUntil = Date.now() + holdSeconds * 1000;
    while (Date.now() < holdUntil) {
      await sleep(500);
      samples.push(rssMb(gwPid));
    }
    const rssPeakMb = Math.max(...samples);
    const openBeforeRelease = hs.filter((h) => h.status === undefined).length;

    // Release: approve every one (16 approve POSTs in flight), then count the answers.
    log(`approvals: approving the ${listed.length} held requests…`);
    const approveSent = new Map<string, number>();
    const releaseStarted = Date.now();
    const queue = hs.filter((h) => h.id);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let h = queue.shift(); h; h = queue.shift()) {
          approveSent.set(h.path, now());
          const r = await approve(h.id!).catch((e: unknown) => ({ status: 0, body: (e as Error).message }));
          if (r.status !== 200) log(`approvals: approve ${h.id}: ${r.status} ${r.body.slice(0, 200)}`);
        }
      }),
    );
    const bound = new AbortController();
    await Promise.race([Promise.all(answered), sleep(60_000, undefined, { signal: bound.signal }).catch(() => undefined)]);
    bound.abort();
    const releaseSeconds = (Date.now() - releaseStarted) / 1000;
    await sleep(500);
    deletes.read();
    const statuses: Record<string, number> = {};
    for (const h of hs) statuses[String(h.status ?? 'none')] = (statuses[String(h.status ?? 'none')] ?? 0) + 1;
    const underLoad: number[] = [];
    let upstreamSaw = 0;
    for (const h of hs) {
      const t1 = deletes.seen.get(h.path);
      if (t1 === undefined) continue;
      upstreamSaw++;
      const t0 = approveSent.get(h.path);
      if (t0 !== undefined) underLoad.push(t1 - t0);
    }
    massAgent.destroy();
    await sleep(2000);
    const rssAfterMb = rssMb(gwPid);

    return {
      rounds,
      warmup,
      roundErrors,
      toUpstream: stats(up),
      toClient: stats(client),
      approveCall: stats(apCall),
      warnings,
      clockOddities,
      held: {
        n: heldN,
        pendingListed: listed.length,
        heldLogged: listed.filter((a) => held.held.has(a.id)).length,
        openSeconds,
        openBeforeRelease,
        rssIdleMb,
        rssBeforeMb,
        rssSamplesMb: samples,
        rssPeakMb,
        extraMb: rssPeakMb - rssBeforeMb,
        holdSeconds,
        releaseSeconds,
        statuses,
        upstreamSaw,
        toUpstreamUnderLoad: stats(underLoad),
        rssAfterMb,
      },
    };
  } finally {
    held.close();
    bobAgent.destroy();
    carolAgent.destroy();
    massAgent.destroy();
  }
}

// ---------------------------------------------------------------- report

const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
const f0 = (n: number): string => (Number.isFinite(n) ? String(Math.round(n)) : 'n/a');

/** Whether the N held requests were all held, then all answered 200 and seen upstream. */
export function heldOk(h: HeldResult): boolean {
  return h.pendingListed === h.n && h.heldLogged === h.n && h.openBeforeRelease === h.n && h.statuses['200'] === h.n && h.upstreamSaw === h.n;
}

/** Rows for the Goals table: [figure, goal, measured, met]. */
export function approvalGoals(r: ApprovalsResult): [string, string, string, boolean][] {
  const h = r.held;
  return [
    [
      'approve → request reaches the API server, p99',
      '≤ 50 ms',
      `${f2(r.toUpstream.p99)} ms (p50 ${f2(r.toUpstream.p50)}, max ${f2(r.toUpstream.max)}; ${r.toUpstream.n} rounds)`,
      r.toUpstream.p99 <= 50 && r.roundErrors === 0,
    ],
    [
      `${h.n} held requests: extra gateway RSS`,
      '< 100 MB',
      `${f0(h.extraMb)} MB (${f0(h.rssBeforeMb)} → peak ${f0(h.rssPeakMb)} MB); ${h.heldLogged} held, ${h.statuses['200'] ?? 0} answered 200 once approved`,
      h.extraMb < 100 && heldOk(h),
    ],
  ];
}

/** The method bullets (for docs/benchmarks.md's Method list). */
export function approvalsMethod(r: ApprovalsResult): string {
  return `- **Approvals: approve → upstream.** ${r.rounds} rounds (after ${r.warmup} warm-up) of: ${USER} sends
  \`DELETE /api/v1/namespaces/${APPROVAL_NAMESPACE}/pods/<a fresh pod>\` through the gateway (one keep-alive
  connection), which \`developers/delete-prod\` holds for approval; ${APPROVER} (group approvers)
  polls \`GET /sluice/v1/approvals?state=pending\` until it is listed and the gateway has logged
  \`request held for approval\` for it (the request waits on it; its audit record is durable);
  t0 is taken just before ${APPROVER}'s \`POST /sluice/v1/approvals/<id>/approve\` is sent (its own
  keep-alive connection). *To upstream*: t0 → the emulator received the DELETE (the emulator
  process logs each DELETE's arrival; both processes read \`performance.timeOrigin +
  performance.now()\`). *To client*: t0 → the last byte of the DELETE's answer at ${USER}'s client.
  The approvals live in the audit trail's SQLite file, on their own connection, each change
  committed with \`synchronous=FULL\` (an fsync on the gateway's event loop).
- **Approvals: ${r.held.n} held at once.** ${r.held.n} such DELETEs of distinct pods (distinct approvals), one TLS
  connection each, opened in batches of 50; once the gateway lists all ${r.held.n} as pending and has
  logged each as held, its RSS is sampled every 0.5 s for ${r.held.holdSeconds} s. Extra RSS = peak while held − the
  sample just before opening them. Then ${APPROVER} **approves** all of them (16 approve POSTs in
  flight) and we count the clients' statuses and the DELETEs the emulator received.`;
}

/** The results section (### headings) for docs/benchmarks.md. */
export function approvalsResults(r: ApprovalsResult): string {
  const h = r.held;
  const row = (what: string, s: Stats): string => `| ${what} | ${s.n} | ${f2(s.p50)} | ${f2(s.p90)} | ${f2(s.p99)} | ${f2(s.max)} |`;
  const statuses = Object.entries(h.statuses)
    .map(([k, v]) => `${v} × ${k}`)
    .join(', ');
  return `### Approvals: approve → held request released (sequential, ${r.rounds} rounds)
| from t0 (approve POST sent) to | rounds | p50 ms | p90 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|
${row('the emulator receives the DELETE', r.toUpstream)}
${row(`the DELETE's answer at ${USER}'s client (last byte)`, r.toClient)}
${row("the approve POST's answer at carol's client", r.approveCall)}

Failed rounds: ${r.roundErrors}; answers carrying the gateway's \`Warning: … approved by ${APPROVER}\`: ${r.warnings} of ${r.toClient.n}; clock check (t0 ≤ upstream ≤ client answer) failed in ${r.clockOddities} rounds.

### Approvals: ${h.n} requests held at once
- pending approvals listed: ${h.pendingListed}; logged as held: ${h.heldLogged} (all within ${f2(h.openSeconds)} s); still open after ${h.holdSeconds} s: ${h.openBeforeRelease}
- gateway RSS: ${f0(h.rssIdleMb)} MB before the approve rounds, ${f0(h.rssBeforeMb)} MB just before opening them, peak ${f0(h.rssPeakMb)} MB while held (**+${f0(h.extraMb)} MB**; samples ${h.rssSamplesMb.map(f0).join(', ')}), ${f0(h.rssAfterMb)} MB 2 s after all were answered
- approved all (16 at a time): every client answered within ${f2(h.releaseSeconds)} s; answers: ${statuses}; DELETEs received by the emulator: ${h.upstreamSaw}
- approve POST sent → emulator received the DELETE, with 16 approvals in flight: p50 ${f2(h.toUpstreamUnderLoad.p50)} ms, p99 ${f2(h.toUpstreamUnderLoad.p99)} ms, max ${f2(h.toUpstreamUnderLoad.max)} ms (${h.toUpstreamUnderLoad.n} requests)
`;
}

// ---------------------------------------------------------------- alone

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const t0 = Date.now();
  const log = (msg: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${msg}`);
  log('starting the identity provider, the emulator and the gateway…');
  const world = await startBenchWorld({ withProxy: false, keep: Boolean(process.env.BENCH_KEEP) });
  try {
    const r = await approvalsBench(world, log);
    const goals = approvalGoals(r);
    console.log(
      [
        '',
        '| figure | goal | measured | met? |',
        '|---|---|---|---|',
        ...goals.map(([what, goal, measured, met]) => `| ${what} | ${goal} | ${measured} | ${met ? '✅ yes' : '❌ no'} |`),
        '',
        approvalsResults(r),
        `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; ${f0((Date.now() - t0) / 1000)} s`,
      ].join('\n'),
    );
  } finally {
    await world.stop();
  }
}
