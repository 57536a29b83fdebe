/**
 * What the end-to-end tests of Sluice's own MCP endpoint share: the SDK client connected to a
 * gateway world's `/mcp` with a bearer token (fetch trusting the world's CA), tokens issued for
 * the endpoint, the records a call left, and bounded polling. `world` is read lazily, so a kit
 * can be made before the world is started in `before()`.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { AuditRecord } from '../../src/audit/types.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createTrustedFetch, type TrustedFetch } from '../oidc/http-client.ts';
import type { GatewayWorld } from './gateway-world.ts';

/** The text of a tool result (all its text content). */
export function toolText(r: object): string {
  return (((r as { content?: unknown }).content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('\n');
}

/** Poll (bounded: `tries` × 50 ms) until `probe` returns a value. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface McpEndpointKit {
  /** fetch through the world's CA (URLs or strings, as the SDK passes them). */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
  mcpUrl(): string;
  /** An access token of a demo identity issued for the MCP endpoint (RFC 8707 resource). */
  tokenFor(user: string): Promise<string>;
  connect(token: string, opts?: { name?: string; capabilities?: ClientCapabilities }): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>;
  person(username: string, groups: string[]): Principal;
  /** The records of `code` since `since`, oldest first. */
  recordsOf(code: string, since: Date): Promise<AuditRecord[]>;
  /** Close every client the kit connected, and its fetch. */
  close(): Promise<void>;
}

export function mcpEndpointKit(world: () => GatewayWorld): McpEndpointKit {
  let trusted: TrustedFetch | undefined;
  const clients: Client[] = [];
  const kit: McpEndpointKit = {
    fetch: (url, init) => (trusted ??= createTrustedFetch(world().ca.cert))(String(url), init),
    mcpUrl: () => world().gateway.mcpUrl!,
    tokenFor: (user) => world().idp.tokenFor(user, { audience: kit.mcpUrl() }),
    async connect(token, opts = {}) {
      const client = new Client({ name: opts.name ?? 'test-agent', version: '1.0.0' }, opts.capabilities ? { capabilities: opts.capabilities } : {});
      const transport = new StreamableHTTPClientTransport(new URL(kit.mcpUrl()), { fetch: kit.fetch, requestInit: { headers: { authorization: `Bearer ${token}` } } });
      await client.connect(transport);
      clients.push(client);
      return { client, transport };
    },
    person: (username, groups) => ({ issuer: world().idp.issuer, subject: username, username, groups, kind: 'person' }),
    async recordsOf(code, since) {
      const page = await world().store.list({ code, since, limit: 500 });
      return [...page.records].sort((a, b) => a.seq - b.seq);
    },
    async close() {
      for (const c of clients.splice(0)) await c.close().catch(() => undefined);
      await trusted?.close();
      trusted = undefined;
    },
  };
  return kit;
}
