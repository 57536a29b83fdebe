/**
 * Sluice's own MCP endpoint: `/mcp` on the gateway's listener, Streamable HTTP (MCP 2025-11-25,
 * "Basic / Transports"; the SDK's transport, every protocol revision it supports). Each HTTP
 * request goes:
 *
 *   check Origin/Host (403) → authenticate (401 + WWW-Authenticate resource_metadata) → read the
 *   JSON-RPC body (bounded) → find the caller's session (stateful: 404 for an unknown or foreign
 *   one) or start a stateless exchange → the SDK transport → create-mcp-server.ts → call-tool.ts
 *
 * Tokens are OAuth access tokens issued for this resource (RFC 8707 `aud`: `mcp.resource`, or
 * `mcp.audiences`), checked with the identity issuers' keys; a token for the Kubernetes listener
 * is refused here. The token is not kept and never sent anywhere (no token passthrough): tools
 * reach clusters through the Kubernetes pipeline, which forwards with the gateway's own
 * credentials. A session is bound to the identity that opened it (issuer and subject), and every
 * request of it is authenticated again. Refusals are answered in the client's protocol (a
 * JSON-RPC error, or OAuth's 401) and recorded.
 */
import { principalOf } from '../../core/principal.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { AuditRecorder } from '../../audit/types.ts';
import { extractBearerToken } from '../../authn/bearer-token.ts';
import type { TokenVerifier } from '../../authn/create-verifier.ts';
import type { VerifiedPrincipal } from '../../authn/principal-from-claims.ts';
import { durationMs } from '../../core/duration.ts';
import type { Config } from '../../config/schema.ts';
import { originPolicy, originRefusal } from './check-origin.ts';
import { createMcpServer, type McpCaller, type McpServerDeps } from './create-mcp-server.ts';
import { bearerChallenge, MCP_PATH, protectedResource } from './protected-resource.ts';

export interface McpEndpointDeps extends Omit<McpServerDeps, 'elicitation'> {
  cfg: Config['mcp'];
  /** The listener's base URL (https://127.0.0.1:6443) and whether it is bound to loopback. */
  listenerUrl: string;
  loopback: boolean;
  port: number;
  verifier: TokenVerifier;
  recorder: AuditRecorder;
  log: Logger;
}

export interface McpEndpoint {
  /** The resource identifier tokens must be issued for. */
  readonly resource: string;
  /** Answer the request if it is the endpoint's (true), else leave it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): Promise<void>;
}

/** Largest JSON-RPC body read (bytes). */
const MAX_BODY_BYTES = 4 << 20;

interface Session {
  transport: StreamableHTTPServerTransport;
  owner: string;
  lastUsed: number;
  /** HTTP requests of the session still open (a call that waits for an approver, an SSE stream): a busy session is never closed for being idle. */
  inflight: number;
}

const ownerOf = (p: VerifiedPrincipal): string => `${p.issuer}\0${p.subject}`;

/** A JSON-RPC error answer (the body of a refused Streamable HTTP request). */
function jsonRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
}

async function readJson(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; status: number; message: string }> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return { ok: false, status: 413, message: `body larger than ${MAX_BODY_BYTES} bytes` };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) return { ok: false, status: 413, message: `body larger than ${MAX_BODY_BYTES} bytes` };
    chunks.push(c);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks, size).toString('utf8')) as unknown };
  } catch (e) {
    return { ok: false, status: 400, message: `Parse error: ${(e as Error).message.slice(0, 200)}` };
  }
}

export function createMcpEndpoint(deps: McpEndpointDeps): McpEndpoint {
  const { cfg, log } = deps;
  const resource = cfg.resource ?? `${deps.listenerUrl}${MCP_PATH}`;
  const audiences = cfg.audiences ?? [resource];
  const pr = protectedResource(resource, cfg.authorizationServers ?? deps.verifier.issuers, cfg.scopes);
  const origins = originPolicy({ resource, listenerUrl: deps.listenerUrl, loopback: deps.loopback, port: deps.port, allowedOrigins: cfg.allowedOrigins, allowedHosts: cfg.allowedHosts });
  const endpointPath = new URL(resource).pathname.replace(/\/$/, '') || MCP_PATH;
  const stateful = cfg.sessions === 'stateful';
  const idleMs = durationMs(cfg.sessionIdleTimeout);
  const sessions = new Map<string, Session>();
  // Tasks and URL elicitation need the client's later requests to reach the same server: stateful sessions only.
  const taskStore = stateful ? new InMemoryTaskStore() : undefined;
  const serverDeps: McpServerDeps = { ...deps, elicitation: stateful, ...(taskStore ? { taskStore } : {}) };

  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.inflight === 0 && now - s.lastUsed > idleMs) void closeSession(id);
  }, Math.min(60_000, idleMs)).unref();

  /** Count a request of a session as in flight until its response closes. */
  function track(s: Session, res: ServerResponse): void {
    s.inflight++;
    s.lastUsed = Date.now();
    res.once('close', () => {
      s.inflight--;
      s.lastUsed = Date.now();
    });
  }

  async function closeSession(id: string): Promise<void> {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
  }

  /** Record a request refused before any tool ran (best effort: the refusal stands regardless). */
  function recordRefusal(req: IncomingMessage, principal: VerifiedPrincipal | null, status: number, code: string, message: string, codeOfEvent: 'mcp.request.rejected' | 'authn.failed'): void {
    const error = { code, message };
    const p = principal;
    deps.recorder
      .begin({
        id: randomUUID(),
        time: deps.now(),
        code: codeOfEvent,
        principal: p ? principalOf(p) : null,
        connection: '',
        method: req.method ?? '',
        path: endpointPath,
        query: '',
        sourceIp: req.socket.remoteAddress ?? '',
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'].slice(0, 256) } : {}),
        error,
      })
      .complete({ status, bytesIn: 0, bytesOut: 0, durationMs: 0, error })
      .catch((e: unknown) => log.error({ err: (e as Error).message }, 'could not record a refused MCP request'));
    log.info({ code, status, user: p?.username, method: req.method }, 'MCP request refused');
  }

  async function authenticate(req: IncomingMessage, res: ServerResponse): Promise<VerifiedPrincipal | undefined> {
    const token = extractBearerToken(req.rawHeaders, req.url ?? '/');
    const result = token.ok ? await deps.verifier.verify(token.value, { audiences }) : token;
    if (result.ok) return result.value;
    const e = result.error;
    const headers: Record<string, string> = {};
    if (e.status === 401) {
      const error = e.code === 'AUTHN_MISSING' ? undefined : { error: 'invalid_token', description: e.message };
      headers['www-authenticate'] = bearerChallenge(pr, cfg.scopes, error);
    }
    const body = JSON.stringify(e.status === 401 ? { error: e.code === 'AUTHN_MISSING' ? 'unauthorized' : 'invalid_token', error_description: e.message } : { error: 'invalid_request', error_description: e.message });
    res.writeHead(e.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
    recordRefusal(req, null, e.status, e.code, e.message, 'authn.failed');
    return undefined;
  }

  function attach(req: IncomingMessage, principal: VerifiedPrincipal): void {
    const ua = req.headers['user-agent'];
    const caller: McpCaller = { principal, sourceIp: req.socket.remoteAddress ?? '', ...(ua ? { userAgent: ua } : {}) };
    const auth: AuthInfo = {
      token: '', // the token stays with the endpoint's verifier; nothing downstream needs it
      clientId: principal.clientId ?? '',
      scopes: [],
      expiresAt: Math.floor(principal.expiresAt.getTime() / 1000),
      resource: new URL(resource),
      extra: { caller },
    };
    (req as IncomingMessage & { auth?: AuthInfo }).auth = auth;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = originRefusal(origins, req.headers.host, req.headers.origin);
    if (refusal) {
      jsonRpcError(res, 403, -32000, `Forbidden: ${refusal}`);
      recordRefusal(req, null, 403, 'MCP_ORIGIN_REFUSED', refusal, 'mcp.request.rejected');
      return;
    }
    // An allowed browser origin (mcp.allowedOrigins) gets CORS: a preflight is answered before
    // authentication (it carries no credentials), and every answer names the origin.
    const origin = req.headers.origin;
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', new URL(origin).origin);
      res.setHeader('access-control-expose-headers', 'Mcp-Session-Id, WWW-Authenticate');
      res.setHeader('vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'POST, GET, DELETE',
          'access-control-allow-headers': 'Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID',
          'access-control-max-age': '600',
        }).end();
        return;
      }
    }
    const principal = await authenticate(req, res);
    if (!principal) return;
    // Refusals the SDK's transport answers itself (a bad Accept, an unsupported protocol
    // version, an oversized batch) are recorded too.
    let answered = false;
    res.once('finish', () => {
      if (!answered && res.statusCode >= 400) {
        const code = res.statusCode >= 500 ? 'INTERNAL_ERROR' : res.statusCode === 413 ? 'REQUEST_TOO_LARGE' : 'REQUEST_INVALID';
        recordRefusal(req, principal, res.statusCode, code, `the MCP transport refused the request (HTTP ${res.statusCode})`, 'mcp.request.rejected');
      }
    });
    const refuse = (status: number, code: number, message: string, errorCode: string, detail: string, headers: Record<string, string> = {}): void => {
      answered = true;
      jsonRpcError(res, status, code, message, headers);
      recordRefusal(req, principal, status, errorCode, detail, 'mcp.request.rejected');
    };
    const method = req.method ?? '';
    if (!['POST', 'GET', 'DELETE'].includes(method)) {
      refuse(405, -32000, 'Method not allowed', 'REQUEST_INVALID', `method ${method.slice(0, 20)} is not allowed`, { allow: 'POST, GET, DELETE' });
      return;
    }
    let body: unknown;
    if (method === 'POST') {
      const read = await readJson(req);
      if (!read.ok) {
        refuse(read.status, read.status === 400 ? -32700 : -32600, read.message, read.status === 413 ? 'REQUEST_TOO_LARGE' : 'REQUEST_INVALID', read.message);
        return;
      }
      body = read.value;
    }
    attach(req, principal);

    if (!stateful) {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const server = createMcpServer(serverDeps);
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
      return;
    }

    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const s = sessions.get(sessionId);
      // Another identity's session is answered exactly like a session that does not exist.
      if (!s || s.owner !== ownerOf(principal)) {
        refuse(404, -32001, 'Session not found', 'MCP_SESSION_UNKNOWN', s ? 'a session of another identity' : 'no such session');
        return;
      }
      track(s, res);
      await s.transport.handleRequest(req, res, body);
      return;
    }
    const initializing = method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.some((m) => isInitializeRequest(m))));
    if (!initializing) {
      refuse(400, -32000, 'Bad Request: no valid session ID; initialize first', 'REQUEST_INVALID', 'no session id on a request other than initialize');
      return;
    }
    const owner = ownerOf(principal);
    // At the limit, the identity's least recently used idle session goes; a busy one (a call
    // waiting for an approver) is never closed, so when all are busy the new one is refused.
    const mine = [...sessions].filter(([, s]) => s.owner === owner);
    if (mine.length >= cfg.maxSessionsPerPrincipal) {
      const idle = mine.filter(([, s]) => s.inflight === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
      if (!idle[0]) {
        refuse(429, -32000, `Too many open sessions (${cfg.maxSessionsPerPrincipal}); close one first`, 'REQUEST_INVALID', 'too many open sessions, all busy', { 'retry-after': '10' });
        return;
      }
      void closeSession(idle[0][0]);
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, owner, lastUsed: Date.now(), inflight: 0 });
      },
      onsessionclosed: (id) => void sessions.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    const server = createMcpServer(serverDeps);
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  return {
    resource,
    handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0]!;
      if (req.method === 'GET' && pr.metadataPaths.includes(path)) {
        const body = JSON.stringify(pr.document);
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' }).end(body);
        return true;
      }
      if (path !== endpointPath) return false;
      serve(req, res).catch((e: unknown) => {
        log.error({ err: e instanceof Error ? e.stack : String(e) }, 'MCP endpoint failed');
        if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal error');
        else res.destroy();
      });
      return true;
    },
    async close() {
      clearInterval(sweeper);
      taskStore?.cleanup();
      await Promise.all([...sessions.keys()].map((id) => closeSession(id)));
    },
  };
}
