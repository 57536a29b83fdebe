/**
 * The request to the API server for one client request: same method, the canonical path under
 * the connection's base URL, the client's headers after forward-headers.ts, the connection's
 * own credential and the impersonation of the verified person. A request whose answer will be
 * masked asks for JSON without compression.
 */
import https from 'node:https';
import type { ClientRequest } from 'node:http';
import { forwardHeaders } from './forward-headers.ts';
import { maskableRequestHeaders } from './response-masking.ts';
import type { KubeContext } from './pipeline/context.ts';

export interface UpstreamRequestOptions {
  /** Keep `Upgrade` (exec, attach, port-forward). */
  upgrade?: string;
  /** The answer will be masked: ask for JSON, uncompressed (response-masking.ts). */
  maskable?: boolean;
}

export async function upstreamRequest(ctx: KubeContext, opts: UpstreamRequestOptions = {}): Promise<ClientRequest> {
  const up = ctx.upstream!;
  const p = ctx.principal!;
  const headers = forwardHeaders(ctx.req.rawHeaders, {
    authorization: await up.authorization(),
    impersonate: up.impersonate ? { username: p.username, groups: p.groups } : undefined,
    requestId: ctx.id,
    ...(opts.upgrade ? { upgrade: opts.upgrade } : {}),
  });
  if (ctx.body) headers['content-length'] = String(ctx.body.length);
  if (opts.maskable) maskableRequestHeaders(headers);
  return https.request({
    protocol: up.base.protocol,
    hostname: up.base.hostname,
    port: up.base.port,
    method: ctx.req.method,
    path: up.base.pathname.replace(/\/$/, '') + ctx.path + ctx.query,
    headers,
    agent: up.agent,
  });
}
