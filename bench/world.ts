/**
 * The benchmark world (bench/run.ts, bench/profile.ts): every target in its own process on
 * loopback, built the way testing/harness/gateway-world.ts builds the gateway world.
 *   - the Kubernetes API emulator (bench/emulator-process.ts): trusts a service-account token
 *     for the gateway, which may impersonate; seeded with PODS pods in NAMESPACE;
 *   - `kubectl proxy` (kubectl 1.33) in front of it, with the emulator's admin token;
 *   - the Sluice gateway, compiled (`npm run build`) and run as `node dist/src/cli/main.js server -c <generated config>`: identity from the real demo
 *     identity provider (run in the calling process; only hit for one token and the JWKS),
 *     policy policies/demo, audit trail in SQLite in the temp folder.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { createDevCa } from '../src/tls/dev-ca.ts';
import { GATEWAY_SERVICE_ACCOUNT } from '../testing/harness/gateway-world.ts';
import { kubectlPath } from '../testing/harness/kubectl-path.ts';
import { startIdentityProvider } from '../testing/oidc/provider.ts';

export const root = resolve(fileURLToPath(import.meta.url), '../..');
export const PODS = 500;
/** policies/demo: developers (bob) may get/list/watch pods in dev (rule developers/read). */
export const NAMESPACE = 'dev';
export const USER = 'bob';
export const HOST = '127.0.0.1';
export const GET_PATH = `/api/v1/namespaces/${NAMESPACE}/pods/pod-1`;
export const LIST_PATH = `/api/v1/namespaces/${NAMESPACE}/pods`;
/** In the temp folder: the DELETEs the emulator received, with their times (bench/emulator-process.ts). */
const DELETE_LOG = 'emulator-deletes.jsonl';

export interface Target {
  name: string;
  /** API root: requests go to base + path (the gateway's has a /clusters/NAME prefix). */
  base: string;
  headers: Record<string, string>;
  ca?: string;
  proc: ChildProcess;
}

// ---------------------------------------------------------------- processes

/** Resolve on the first line matching `re` in the process's output; keep draining it afterwards. */
function waitForLine(proc: ChildProcess, re: RegExp, what: string, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  return new Promise((resolveP, reject) => {
    let buf = '';
    let done = false;
    const t = setTimeout(() => finish(new Error(`${what} did not start within ${timeoutMs} ms: ${buf}`)), timeoutMs);
    const finish = (e: Error | undefined, m?: RegExpMatchArray): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      if (e) reject(e);
      else resolveP(m!);
    };
    const on = (d: Buffer): void => {
      if (done) return;
      buf = (buf + d.toString()).slice(-65_536);
      const m = buf.match(re);
      if (m) finish(undefined, m);
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.on('exit', (code) => finish(new Error(`${what} exited with ${code}: ${buf}`)));
  });
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, 'exit').catch(() => undefined);
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

async function startEmulatorProcess(dir: string, tls: { cert: string; key: string; ca: string }, saToken: string): Promise<Target & { adminToken: string; kubeconfig: string }> {
  const kubeconfig = join(dir, 'admin.kubeconfig');
  const optsFile = join(dir, 'emulator.json');
  await writeFile(
    optsFile,
    JSON.stringify({
      host: HOST,
      tls,
      tokens: { [saToken]: GATEWAY_SERVICE_ACCOUNT },
      impersonators: [GATEWAY_SERVICE_ACCOUNT.username],
      seed: 'empty',
      kubeconfig,
    }),
    { mode: 0o600 },
  );
  // The emulator logs every DELETE it receives, with its time (bench/approvals.ts).
  const env = { ...process.env, BENCH_EMULATOR_DELETE_LOG: join(dir, DELETE_LOG) };
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/emulator-process.ts'), optsFile], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /emulator: (https:\/\/\S+)/, 'emulator');
  const cfg = parse(await readFile(kubeconfig, 'utf8')) as { users: { user: { token: string } }[] };
  const adminToken = cfg.users[0]!.user.token;
  return { name: 'direct (emulator)', base: m[1]!, headers: { authorization: `Bearer ${adminToken}` }, ca: tls.ca, proc, adminToken, kubeconfig };
}

async function startKubectlProxy(kubeconfig: string): Promise<Target> {
  const proc = spawn(kubectlPath('1.33'), ['proxy', '--port=0', `--address=${HOST}`, '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /Starting to serve on ([\d.]+:\d+)/, 'kubectl proxy');
  return { name: 'kubectl proxy', base: `http://${m[1]}`, headers: {}, proc };
}

let built = false;

async function startGatewayProcess(dir: string, configFile: string, ca: string, token: string, name: string): Promise<Target> {
  // The gateway runs as in production: compiled JavaScript (`npm run build`), plain node.
  // BENCH_GATEWAY_NODE_FLAGS (e.g. --cpu-prof, which NODE_OPTIONS refuses) go in front.
  if (!built) execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  built = true;
  const flags = (process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const proc = spawn(process.execPath, [...flags, join(root, 'dist/src/cli/main.js'), 'server', '-c', configFile], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The gateway's own log (pino JSON on stderr) goes to a file in the temp folder.
  const log = createWriteStream(join(dir, `gateway-${name.replace(/\W+/g, '-')}.log`));
  proc.stderr!.pipe(log);
  // One wait for both lines: they often arrive in one chunk, which a second wait would miss.
  const m = await waitForLine(proc, /connection demo: (https:\/\/\S+)[\s\S]*?^ready$/m, 'sluice server');
  return { name, base: m[1]!, headers: { authorization: `Bearer ${token}` }, ca, proc };
}

/** A memory figure of a process from /proc/PID/status, MB: VmRSS now, or VmHWM (peak since start). */
export function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return kb / 1024;
}

// ---------------------------------------------------------------- HTTP helpers

export function call(t: Target, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const url = new URL(t.base + path);
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...t.headers, accept: 'application/json' };
    if (data !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(data);
    }
    const mod = url.protocol === 'https:' ? https : http;
    const r = mod.request(url, { method, headers, ...(t.ca ? { ca: t.ca } : {}) }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    r.setTimeout(30_000, () => r.destroy(new Error(`${method} ${path}: timeout`)));
    r.on('error', rej);
    r.end(data);
  });
}

async function seed(emu: Target): Promise<void> {
  const ns = await call(emu, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  if (ns.status !== 201 && ns.status !== 409) throw new Error(`creating namespace ${NAMESPACE}: ${ns.status} ${ns.body}`);
  for (let i = 0; i < PODS; i++) {
    const r = await call(emu, 'POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
      spec: { containers: [{ name: 'main', image: 'nginx:1.27', env: [{ name: 'INDEX', value: String(i) }] }] },
    });
    if (r.status !== 201) throw new Error(`creating pod ${i}: ${r.status} ${r.body}`);
  }
}


export interface BenchWorld {
  dir: string;
  emu: Target & { adminToken: string; kubeconfig: string };
  proxy: Target;
  /** The gateway with the default, power-loss-safe audit store (synchronous=full). */
  gw: Target;
  /** The same gateway with store.sqlite.synchronous=normal (durable across process crashes only). */
  gwNormal?: Target;
  gwPid: number;
  /** The gateway's audit database (plus its -wal file): size in bytes. */
  auditBytes(): number;
  /** A fresh access token of a demo identity (e.g. carol, an approver) from the identity provider; `audience`: for another resource (the MCP endpoint's URL). */
  tokenFor(user: string, audience?: string): Promise<string>;
  /** JSON lines `{time, method, url}`, one per DELETE the emulator received (bench/emulator-process.ts). */
  deleteLog: string;
  /**
   * Start one more gateway like `gw` (synchronous=full) with its own config and database: a fresh
   * process for a measurement that must not inherit what earlier ones left in its memory
   * (bench/approvals.ts after the watches). `extra`: top-level config sections to add (e.g.
   * `{ recording: { enabled: false } }`). world.stop() stops it too.
   */
  startGateway(tag: string, extra?: Record<string, unknown>): Promise<Target>;
  stop(): Promise<void>;
}

/** Start the identity provider, the emulator (seeded), kubectl proxy and the gateway. */
/** `auditDb`: put the audit database elsewhere (profiling only, e.g. on tmpfs to take fsync out). */
export async function startBenchWorld(opts: { withProxy?: boolean; keep?: boolean; auditDb?: string } = {}): Promise<BenchWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  const procs: ChildProcess[] = [];
  let idpClose: (() => Promise<void>) | undefined;
  const stop = async (): Promise<void> => {
    for (const p of procs.reverse()) await stopProcess(p);
    procs.length = 0;
    await idpClose?.().catch(() => undefined);
    if (opts.keep) console.log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  };
  try {
    const ca = await createDevCa({ commonName: 'Sluice bench CA' });
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, ca.cert);
    const names = { dnsNames: ['localhost'], ips: [HOST] };

    const idp = await startIdentityProvider({ ca, host: HOST });
    idpClose = () => idp.close();

    const saToken = randomBytes(32).toString('base64url');
    const tokenFile = join(dir, 'gateway-sa.token');
    await writeFile(tokenFile, saToken, { mode: 0o600 });
    const emuTls = await ca.issue({ commonName: 'sluice-kubernetes', ...names });
    const emu = await startEmulatorProcess(dir, { ...emuTls, ca: ca.cert }, saToken);
    procs.push(emu.proc);
    await seed(emu);

    let proxy: Target | undefined;
    if (opts.withProxy ?? true) {
      proxy = await startKubectlProxy(emu.kubeconfig);
      procs.push(proxy.proc);
    }

    const gwTls = await ca.issue({ commonName: 'sluice-gateway', ...names });
    const certFile = join(dir, 'gateway.crt');
    const keyFile = join(dir, 'gateway.key');
    await writeFile(certFile, gwTls.cert);
    await writeFile(keyFile, gwTls.key, { mode: 0o600 });
    const token = await idp.tokenFor(USER);
    // One gateway per durability mode of the audit store (store.sqlite.synchronous); `tag`
    // names a further one (its own config and database), started later by startGateway.
    const startGw = async (synchronous: 'full' | 'normal', tag: string = synchronous, extra: Record<string, unknown> = {}): Promise<Target> => {
      const dbFile = (tag === synchronous && opts.auditDb) || join(dir, `audit-${tag}`, 'sluice.db');
      const configFile = join(dir, `sluice-${tag}.yaml`);
      await writeFile(
        configFile,
        stringify({
          server: { host: HOST, port: 0, tls: { mode: 'files', certFile, keyFile } },
          identity: { issuers: [{ issuer: idp.issuer, audiences: [idp.audience], caFile, usernameClaim: 'sub', groupsPrefix: '', allowUnprefixedGroups: true }] },
          connections: [{ name: 'demo', server: emu.base, caFile, tokenFile }],
          policy: { paths: [join(root, 'policies/demo')] },
          store: { sqlite: { path: dbFile, synchronous } },
          trail: { signingKeyFile: join(dir, 'trail-signing.pem') },
          ...extra,
        }),
      );
      dbFiles.push(dbFile);
      const t = await startGatewayProcess(dir, configFile, ca.cert, token, tag === synchronous ? `Sluice (audit synchronous=${synchronous})` : `Sluice (${tag})`);
      procs.push(t.proc);
      return t;
    };
    const dbFiles: string[] = [];
    const gw = await startGw('full');
    const gwNormal = opts.auditDb ? undefined : await startGw('normal');

    // Sanity: every target answers the GET and the LIST with 200 (a 403 would void the run).
    for (const t of [emu, proxy, gw, gwNormal]) {
      if (!t) continue;
      for (const p of [GET_PATH, LIST_PATH]) {
        const r = await call(t, 'GET', p);
        if (r.status !== 200) throw new Error(`${t.name} GET ${p}: ${r.status} ${r.body.slice(0, 300)}`);
      }
    }
    const auditBytes = (): number => {
      let n = 0;
      for (const suffix of ['', '-wal']) {
        try {
          n += statSync(dbFiles[0] + suffix).size;
        } catch {
          // no such file (yet)
        }
      }
      return n;
    };
    const tokenFor = (user: string, audience?: string): Promise<string> => idp.tokenFor(user, audience ? { audience } : {});
    const deleteLog = join(dir, DELETE_LOG);
    const startGateway = (tag: string, extra?: Record<string, unknown>): Promise<Target> => startGw('full', tag, extra);
    return { dir, emu, proxy: proxy ?? gw, gw, ...(gwNormal ? { gwNormal } : {}), gwPid: gw.proc.pid!, auditBytes, tokenFor, deleteLog, startGateway, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
