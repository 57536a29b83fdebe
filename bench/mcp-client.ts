/**
 * The load generator of the MCP figure (bench/mcp.ts), in a process of its own: started fresh
 * for the measurement, so that it inherits nothing of the benchmarks that ran before it in
 * bench/run.ts. In alternating blocks, it times, each request waiting for the previous one:
 *   - `get`: the GET of one pod sent directly to the gateway (keep-alive HTTPS; bench/latency.ts);
 *   - `mcp`: the MCP `tools/call` of `get_resource` for the same pod through `/mcp`, sent the
 *     same lean way: one keep-alive HTTPS POST of the JSON-RPC request in the session, its SSE
 *     answer read until the response event — what the endpoint adds, like for like;
 *   - `sdk`: the same call through the official SDK Client and its Streamable HTTP transport
 *     (fetch, web streams, schema validation of every message) — what an agent sees.
 * It also measures its own CPU time per request of each kind.
 *
 * Usage: node --import tsx bench/mcp-client.ts <options.json>
 *   options.json: { gatewayBase, mcpUrl, ca, getToken, mcpToken, path, namespace, name, calls, rounds }
 * Prints one line of JSON: { get, mcp, sdk: number[] (ms), errors, clientCpuUs: { get, mcp, sdk } }.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { Agent, fetch as undiciFetch } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { sequentialLatency } from './latency.ts';
import type { Target } from './world.ts';

interface Options {
  gatewayBase: string;
  mcpUrl: string;
  ca: string;
  getToken: string;
  mcpToken: string;
  path: string;
  namespace: string;
  name: string;
  calls: number;
  rounds: number;
}

const o = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as Options;
const block = Math.max(1, Math.round(o.calls / o.rounds));
const warm = Math.max(1, Math.round(block / 10));
const gw: Pick<Target, 'name' | 'base' | 'headers' | 'ca'> = { name: 'gateway', base: o.gatewayBase, headers: { authorization: `Bearer ${o.getToken}` }, ca: o.ca };
const args = { apiVersion: 'v1', resource: 'pods', namespace: o.namespace, name: o.name };
let errors = 0;

// The SDK client opens the session (initialize, initialized) that the lean client reuses.
const dispatcher = new Agent({ connect: { ca: o.ca }, keepAliveTimeout: 60_000 });
const fetchFn = ((url: string | URL, init?: RequestInit) => undiciFetch(url, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
const client = new Client({ name: 'sluice-bench', version: '1.0.0' });
const transport = new StreamableHTTPClientTransport(new URL(o.mcpUrl), { fetch: fetchFn, requestInit: { headers: { authorization: `Bearer ${o.mcpToken}` } } });
await client.connect(transport);

const sdkCall = async (): Promise<number> => {
  const start = process.hrtime.bigint();
  const r = await client.callTool({ name: 'get_resource', arguments: args });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.isError) errors++;
  return ms;
};

const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: o.ca });
const url = new URL(o.mcpUrl);
const headers = {
  authorization: `Bearer ${o.mcpToken}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-session-id': transport.sessionId!,
  'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
};
let nextId = 1_000_000;
const leanCall = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_resource', arguments: args } });
    const start = process.hrtime.bigint();
    const req = https.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      let done = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (done) return;
        text += chunk;
        // SSE: the response is the `data:` line of the event that answers this id.
        for (const line of text.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const msg = JSON.parse(line.slice(6)) as { id?: number; result?: { isError?: boolean } };
          if (msg.id !== id) continue;
          done = true;
          if (res.statusCode !== 200 || msg.result?.isError) errors++;
          resolve(Number(process.hrtime.bigint() - start) / 1e6);
        }
      });
      res.on('end', () => done || reject(new Error(`no answer to call ${id} (HTTP ${res.statusCode}): ${text.slice(0, 200)}`)));
    });
    req.on('error', reject);
    req.end(body);
  });

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const out = { get: [] as number[], mcp: [] as number[], sdk: [] as number[] };
const cpu = { get: 0, mcp: 0, sdk: 0 };
for (let i = 0; i < warm; i++) {
  await sdkCall();
  await leanCall();
}
for (let round = 0; round < o.rounds; round++) {
  let c = cpuNow();
  const g = await sequentialLatency(gw, o.path, { warmup: warm, requests: block });
  cpu.get += (cpuNow() - c) / (block + warm);
  errors += g.errors;
  out.get.push(...g.samples);
  c = cpuNow();
  for (let i = 0; i < block; i++) out.mcp.push(await leanCall());
  cpu.mcp += (cpuNow() - c) / block;
  c = cpuNow();
  for (let i = 0; i < block; i++) out.sdk.push(await sdkCall());
  cpu.sdk += (cpuNow() - c) / block;
}
await client.close();
await dispatcher.close();
agent.destroy();
const per = (x: number): number => x / o.rounds;
process.stdout.write(`${JSON.stringify({ ...out, errors, clientCpuUs: { get: per(cpu.get), mcp: per(cpu.mcp), sdk: per(cpu.sdk) } })}\n`);
