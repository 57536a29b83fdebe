/**
 * The figure of issue #7 (Sluice's own MCP endpoint), part of `npm run bench`: the MCP
 * `tools/call` of a single-object get (`get_resource` of one pod) through `/mcp`, against the
 * same Kubernetes GET made directly through the gateway — both as bob, on a fresh gateway
 * process, sequentially (concurrency 1), timed by a fresh client process (bench/mcp-client.ts).
 * Like is compared with like: the GET with a keep-alive HTTPS request, the MCP call with a
 * keep-alive HTTPS POST of the JSON-RPC request in a session, its SSE answer read until the
 * response — so the difference is what the endpoint adds. The same call through the official
 * SDK client is measured too, with the client's own CPU time: what an agent sees end to end.
 * Blocks alternate, ROUNDS times, so that a noisy neighbour hurts all alike.
 * Goal: p50(MCP) − p50(GET) ≤ 3 ms.
 *
 * Environment: BENCH_MCP_CALLS (1000 per kind, after a tenth as warm-up), BENCH_MCP_ROUNDS (5).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { percentile } from './latency.ts';
import { GET_PATH, NAMESPACE, USER, root, stopProcess, type BenchWorld } from './world.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const CALLS = Math.round(num('BENCH_MCP_CALLS', 1000));
const ROUNDS = Math.round(num('BENCH_MCP_ROUNDS', 5));

type Stats = { p50: number; p90: number; p99: number };

export interface McpResult {
  calls: number;
  rounds: number;
  get: Stats;
  /** The lean MCP client (the goal's figure). */
  mcp: Stats;
  /** The official SDK client. */
  sdk: Stats;
  errors: number;
  /** The client process's CPU time per request (µs). */
  clientCpuUs: { get: number; mcp: number; sdk: number };
}

const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
};

/** Run bench/mcp-client.ts in a fresh process and read its one line of JSON. */
type ClientOutput = { get: number[]; mcp: number[]; sdk: number[]; errors: number; clientCpuUs: { get: number; mcp: number; sdk: number } };
function runClient(optionsFile: string): Promise<ClientOutput> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/mcp-client.ts'), optionsFile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`bench/mcp-client.ts exited with ${code}: ${err}`));
      else resolve(JSON.parse(line) as ClientOutput);
    });
  });
}

export async function mcpBench(world: BenchWorld, log: (msg: string) => void = console.log): Promise<McpResult> {
  log('mcp: starting a fresh gateway…');
  const gw = await world.startGateway('mcp');
  try {
    const mcpUrl = `${new URL(gw.base).origin}/mcp`;
    const optionsFile = join(world.dir, 'mcp-client.json');
    await writeFile(
      optionsFile,
      JSON.stringify({
        gatewayBase: gw.base,
        mcpUrl,
        ca: gw.ca,
        getToken: await world.tokenFor(USER),
        mcpToken: await world.tokenFor(USER, mcpUrl),
        path: GET_PATH,
        namespace: NAMESPACE,
        name: GET_PATH.split('/').at(-1),
        calls: CALLS,
        rounds: ROUNDS,
      }),
      { mode: 0o600 },
    );
    log(`mcp: ${CALLS} sequential GETs, lean tools/call and SDK tools/call, in a fresh client process…`);
    const r = await runClient(optionsFile);
    if (r.errors) log(`mcp: ${r.errors} errors`);
    return { calls: r.mcp.length, rounds: ROUNDS, get: stats(r.get), mcp: stats(r.mcp), sdk: stats(r.sdk), errors: r.errors, clientCpuUs: r.clientCpuUs };
  } finally {
    await stopProcess(gw.proc);
  }
}

const f2 = (n: number): string => n.toFixed(2);

export function mcpGoals(r: McpResult): [string, string, string, boolean][] {
  const added = r.mcp.p50 - r.get.p50;
  return [['MCP tools/call get_resource (lean client): added p50 over the same GET through the gateway', '≤ 3 ms', `${f2(added)} ms (${f2(r.mcp.p50)} vs ${f2(r.get.p50)})`, added <= 3 && r.errors === 0]];
}

export function mcpMethod(r: McpResult): string {
  return [
    `MCP (issue #7): sequential requests as ${USER} on a fresh gateway process, from a fresh client process (bench/mcp-client.ts), in ${r.rounds} alternating blocks of ${Math.round(r.calls / r.rounds)}:`,
    `the GET \`${GET_PATH}\` sent directly to the gateway on a keep-alive HTTPS connection; the MCP \`tools/call\` of \`get_resource\` for the same pod through \`/mcp\`, sent the same lean way (a keep-alive HTTPS POST of the JSON-RPC request in a stateful session, its SSE answer read until the response) — the goal compares these two, so the difference is what the endpoint adds;`,
    'and the same call through the official SDK client (Streamable HTTP transport: fetch, web streams, schema validation of every message), with the client process\'s own CPU time per request — what an agent sees end to end.',
  ].join(' ');
}

export function mcpResults(r: McpResult): string {
  const row = (what: string, s: Stats, cpuUs: number): string => `| ${what} | ${f2(s.p50)} | ${f2(s.p90)} | ${f2(s.p99)} | ${cpuUs.toFixed(0)} |`;
  return [
    '| path | p50 ms | p90 ms | p99 ms | client CPU µs/request |',
    '|---|---|---|---|---|',
    row('GET through the gateway', r.get, r.clientCpuUs.get),
    row('MCP tools/call get_resource (lean client)', r.mcp, r.clientCpuUs.mcp),
    row('MCP tools/call get_resource (official SDK client)', r.sdk, r.clientCpuUs.sdk),
    '',
    `Errors: ${r.errors}. Through the SDK client the call takes ${f2(r.sdk.p50 - r.get.p50)} ms more than the GET at p50; of that, the SDK client itself spends ${((r.clientCpuUs.sdk - r.clientCpuUs.mcp) / 1000).toFixed(2)} ms more CPU per call than the lean client.`,
  ].join('\n');
}
