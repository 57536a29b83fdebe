/**
 * The figure of issue #7 (Sluice's own MCP endpoint), part of `npm run bench`: the MCP
 * `tools/call` of a single-object get (`get_resource` of one pod) through `/mcp`, against the
 * same Kubernetes GET made directly through the gateway — both as bob, on a fresh gateway
 * process, sequentially (concurrency 1). The MCP client is the official SDK's Client with its
 * Streamable HTTP transport in a stateful session (each call a POST answered over SSE); the
 * direct GET is a keep-alive HTTPS request. Blocks of BLOCK requests alternate between the two,
 * ROUNDS times, so that a noisy neighbour hurts both alike. Goal: p50(MCP) − p50(GET) ≤ 3 ms.
 *
 * Environment: BENCH_MCP_CALLS (1000 per side, after a tenth as warm-up), BENCH_MCP_ROUNDS (5).
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { percentile, sequentialLatency } from './latency.ts';
import { GET_PATH, NAMESPACE, USER, stopProcess, type BenchWorld } from './world.ts';

const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const CALLS = Math.round(num('BENCH_MCP_CALLS', 1000));
const ROUNDS = Math.round(num('BENCH_MCP_ROUNDS', 5));
const BLOCK = Math.max(1, Math.round(CALLS / ROUNDS));

export interface McpResult {
  calls: number;
  rounds: number;
  get: { p50: number; p90: number; p99: number };
  mcp: { p50: number; p90: number; p99: number };
  errors: number;
}

const stats = (xs: number[]): { p50: number; p90: number; p99: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
};

export async function mcpBench(world: BenchWorld, log: (msg: string) => void = console.log): Promise<McpResult> {
  log('mcp: starting a fresh gateway…');
  const gw = await world.startGateway('mcp');
  const mcpUrl = `${new URL(gw.base).origin}/mcp`;
  const dispatcher = new Agent({ connect: { ca: gw.ca! }, keepAliveTimeout: 60_000 });
  const fetchFn = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
  const token = await world.tokenFor(USER, mcpUrl);
  const client = new Client({ name: 'sluice-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: fetchFn, requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  const name = GET_PATH.split('/').at(-1)!;
  let errors = 0;
  const oneCall = async (): Promise<number> => {
    const start = process.hrtime.bigint();
    const r = await client.callTool({ name: 'get_resource', arguments: { apiVersion: 'v1', resource: 'pods', namespace: NAMESPACE, name } });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.isError) errors++;
    return ms;
  };
  try {
    const warm = Math.max(1, Math.round(BLOCK / 10));
    for (let i = 0; i < warm; i++) await oneCall();
    const mcp: number[] = [];
    const get: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const g = await sequentialLatency(gw, GET_PATH, { warmup: warm, requests: BLOCK });
      errors += g.errors;
      get.push(...g.samples);
      for (let i = 0; i < BLOCK; i++) mcp.push(await oneCall());
    }
    if (errors) log(`mcp: ${errors} errors`);
    return { calls: mcp.length, rounds: ROUNDS, get: stats(get), mcp: stats(mcp), errors };
  } finally {
    await client.close().catch(() => undefined);
    await dispatcher.close();
    await stopProcess(gw.proc);
  }
}

const f2 = (n: number): string => n.toFixed(2);

export function mcpGoals(r: McpResult): [string, string, string, boolean][] {
  const added = r.mcp.p50 - r.get.p50;
  return [['MCP tools/call get_resource: added p50 over the same GET through the gateway', '≤ 3 ms', `${f2(added)} ms (${f2(r.mcp.p50)} vs ${f2(r.get.p50)})`, added <= 3 && r.errors === 0]];
}

export function mcpMethod(r: McpResult): string {
  return `MCP (issue #7): ${r.calls} sequential \`tools/call\` of \`get_resource\` (one pod) through \`/mcp\` with the official SDK client (Streamable HTTP, stateful session, each answer over SSE), against the same GET \`${GET_PATH}\` sent directly to the gateway on a keep-alive HTTPS connection — both as ${USER}, on a fresh gateway process, in ${r.rounds} alternating blocks.`;
}

export function mcpResults(r: McpResult): string {
  const row = (what: string, s: { p50: number; p90: number; p99: number }): string => `| ${what} | ${f2(s.p50)} | ${f2(s.p90)} | ${f2(s.p99)} |`;
  return ['| path | p50 ms | p90 ms | p99 ms |', '|---|---|---|---|', row('GET through the gateway', r.get), row('MCP tools/call get_resource', r.mcp), '', `Errors: ${r.errors}.`].join('\n');
}
