/**
 * Benchmarks (`npm run bench`): the Kubernetes data path, side by side in one run on loopback.
 * Targets: the emulator directly, and `kubectl proxy` (a real Go reverse proxy: the bare minimum
 * a proxy costs). The Sluice gateway joins the table when it exists (issue #3).
 *
 * Each target runs in its own process; the load generator (autocannon) runs here. Results are
 * printed and written to docs/benchmarks.md together with the method and the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { parse } from 'yaml';
import { kubectlPath } from '../testing/harness/kubectl-path.ts';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  ca?: string;
  proc: ChildProcess;
}

function waitForLine(proc: ChildProcess, re: RegExp, what: string): Promise<RegExpMatchArray> {
  return new Promise((resolveP, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${buf}`)), 30_000);
    const on = (d: Buffer): void => {
      buf += d.toString();
      const m = buf.match(re);
      if (m) {
        clearTimeout(t);
        resolveP(m);
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
    proc.on('exit', (code) => reject(new Error(`${what} exited with ${code}: ${buf}`)));
  });
}

async function startEmulatorProcess(dir: string): Promise<Target & { token: string }> {
  const kc = join(dir, 'admin.kubeconfig');
  const proc = spawn(join(root, 'bin/sluice'), ['dev', 'emulator', '--port', '0', '--kubeconfig', kc], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /emulator: (https:\/\/\S+)/, 'emulator');
  const cfg = parse(await readFile(kc, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const token = cfg.users[0]!.user.token;
  const ca = Buffer.from(cfg.clusters[0]!.cluster['certificate-authority-data'], 'base64').toString();
  return { name: 'direct (emulator)', url: m[1]!, headers: { authorization: `Bearer ${token}` }, ca, proc, token };
}

async function startKubectlProxy(kubeconfig: string): Promise<Target> {
  const proc = spawn(kubectlPath('1.33'), ['proxy', '--port=0', '--kubeconfig', kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /Starting to serve on ([\d.]+:\d+)/, 'kubectl proxy');
  return { name: 'kubectl proxy', url: `http://${m[1]}`, headers: {}, proc };
}

function post(base: string, ca: string, token: string, path: string, body: unknown): Promise<number> {
  return new Promise((res, rej) => {
    const data = JSON.stringify(body);
    const r = request(
      new URL(path, base),
      { method: 'POST', ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
      (resp) => {
        resp.resume();
        resp.on('end', () => res(resp.statusCode ?? 0));
      },
    );
    r.on('error', rej);
    r.end(data);
  });
}

async function seed(emu: Target & { token: string }): Promise<void> {
  const ns = await post(emu.url, emu.ca!, emu.token, '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
  if (ns !== 201) throw new Error(`creating namespace bench: ${ns}`);
  for (let i = 0; i < 500; i++) {
    const code = await post(emu.url, emu.ca!, emu.token, '/api/v1/namespaces/bench/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
      spec: { containers: [{ name: 'main', image: 'nginx:1.27', env: [{ name: 'INDEX', value: String(i) }] }] },
    });
    if (code !== 201) throw new Error(`creating pod ${i}: ${code}`);
  }
}

interface Result {
  target: string;
  scenario: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(t: Target, scenario: string, path: string, connections: number): Promise<Result> {
  const r = await autocannon({
    url: new URL(path, t.url).toString(),
    headers: { ...t.headers, accept: 'application/json' },
    connections,
    duration: DURATION,
    tlsOptions: t.ca ? { ca: t.ca } : undefined,
  } as autocannon.Options);
  return {
    target: t.name,
    scenario,
    connections,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
  };
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
const emu = await startEmulatorProcess(dir);
const targets: Target[] = [emu];
try {
  await seed(emu);
  targets.push(await startKubectlProxy(join(dir, 'admin.kubeconfig')));
  const results: Result[] = [];
  for (const t of targets) {
    results.push(await load(t, 'GET one pod', '/api/v1/namespaces/bench/pods/pod-1', 1));
    results.push(await load(t, 'GET one pod', '/api/v1/namespaces/bench/pods/pod-1', 32));
    results.push(await load(t, 'LIST 500 pods', '/api/v1/namespaces/bench/pods', 4));
  }
  const rss = await rssMb(emu.proc.pid!);
  const lines = [
    '| target | scenario | connections | req/s | p50 ms | p99 ms | errors |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.target} | ${r.scenario} | ${r.connections} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.errors} |`),
  ];
  const table = lines.join('\n');
  console.log(table);
  console.log(`emulator RSS after the run: ${rss} MB`);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const doc = `# Benchmarks

Produced by \`npm run bench\` (bench/run.ts); rerun it to refresh this page.

## Method
- Every target runs in its own process on loopback; the load generator (autocannon ${'8'}) runs in the
  bench process. Each row is one ${DURATION}-second run with keep-alive connections.
- Targets: **direct** — the Kubernetes API emulator over HTTPS (\`bin/sluice dev emulator\`), seeded
  with 500 pods in namespace \`bench\`; **kubectl proxy** — kubectl 1.33's reverse proxy in front of
  it, the bare minimum a proxy costs. The Sluice gateway joins the table with issue #3.
- Scenarios: a single-object GET at 1 and 32 connections, and a 500-pod LIST at 4 connections.
  Latency is per request, in milliseconds.

## Machine
${machine}

## Results
${table}

Emulator RSS after the run: ${rss} MB.
`;
  await writeFile(join(root, 'docs/benchmarks.md'), doc);
} finally {
  for (const t of targets) {
    t.proc.kill('SIGTERM');
    await once(t.proc, 'exit').catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
}
