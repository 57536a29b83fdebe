/**
 * The emulator's HTTPS server and request pipeline, in the order of the API server's handler
 * chain (k8s.io/apiserver/pkg/server/config.go DefaultBuildHandlerChain):
 *
 *   canonical path → authentication (401) → impersonation (403) → request info → audit record
 *   → authorization (403) → routing: non-resource (version, health, discovery, OpenAPI)
 *   or resource (404/405, 413, 415/406, self reviews, TokenRequest, pod streams, REST).
 *
 * WebSocket and SPDY upgrades (exec, attach, port-forward) take the same pipeline from the
 * server's 'upgrade' event and are handed to the pod stream handlers.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createLoopbackTls } from '../../src/tls/dev-ca.ts';
import { Authenticator, bearerToken, type OidcOptions } from './authn.ts';
import {
  aggregatedContentType,
  aggregatedDiscovery,
  aggregatedDiscoveryVersion,
  apiGroupDoc,
  apiGroupList,
  apiResourceList,
  apiVersions,
} from './discovery.ts';
import { applyImpersonation } from './impersonation.ts';
import { acceptsJson, notAcceptable, unsupportedMediaType } from './negotiation.ts';
import { buildOpenApiV3 } from './openapi.ts';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DEPRECATED, buildOpenApiV2 } from './openapi-v2.ts';
import { ProtobufDecodeError, decodeProtobufBody, isProtobuf } from './protobuf.ts';
import { Recorder } from './recorder.ts';
import { canonicalPathError, parseRequestInfo, type RequestInfo } from './request-info.ts';
import { findResource, type ResourceDef } from './resources.ts';
import { createRest, type Rest } from './rest/index.ts';
import { selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, tokenRequest, type Authorize, type AuthorizeResult } from './reviews.ts';
import { StatusError, rejectUpgrade, sendStatus, statusFailure, type StatusObject } from './status.ts';
import { createPodStreams } from './streams/index.ts';
import type { KubeObject, PodStreamContext, PodStreams, RecordedRequest, UserInfo } from './types.ts';

export type { Authorize, AuthorizeResult, OidcOptions };

/** The Kubernetes version the emulator claims (GET /version). */
export const EMULATED_VERSION = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.2',
  gitCommit: '39683505b630ff2121012f3c5b16215a1449d5ed',
  gitTreeState: 'clean',
  buildDate: '2024-06-11T20:21:00Z',
  goVersion: 'go1.22.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Request body limit of the real server (k8s.io/apiserver/pkg/server/config.go MaxRequestBodyBytes). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

export const ADMIN_USER: UserInfo = { username: 'emulator-admin', groups: ['system:masters', 'system:authenticated'] };

export interface EmulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Server certificate and key (PEM); `ca` is what clients must trust (default: the cert itself). Default: a fresh loopback dev CA. */
  tls?: { cert: string; key: string; ca?: string };
  /** Static bearer tokens (--token-auth-file). A generated admin token is always added. */
  tokens?: Record<string, UserInfo>;
  /** OIDC authentication (--oidc-* flags). */
  oidc?: OidcOptions;
  /** Usernames allowed to impersonate, in addition to members of system:masters. */
  impersonators?: string[];
  /** Authorization decision for every request and for SelfSubjectAccessReview (default: allow). */
  authorize?: Authorize;
  /** Initial objects (default 'demo'). */
  seed?: 'demo' | 'empty';
  /** Record requests (default true). */
  record?: boolean;
  /** Most records kept; older ones are dropped (default 10000). */
  maxRecorded?: number;
  /** Clock. */
  now?: () => Date;
  /** REST layer to use instead of a fresh createRest(). */
  rest?: Rest;
  /** Pod stream handlers to use instead of createPodStreams(). */
  streams?: PodStreams;
}

export interface Emulator {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** PEM CA certificate clients must trust. */
  caCert: string;
  /** Bearer token of "emulator-admin" (system:masters). */
  adminToken: string;
  /** Every request seen, oldest first (live array). */
  requests: RecordedRequest[];
  store: Rest['store'];
  rest: Rest;
  server: Server;
  /** Register a static bearer token. */
  addToken(token: string, user: UserInfo): void;
  clearRequests(): void;
  close(): Promise<void>;
}

const allowAll: Authorize = () => ({ allowed: true });
const POD_STREAMS = new Set(['log', 'exec', 'attach', 'portforward']);

interface Caller {
  authenticated: UserInfo;
  user: UserInfo;
}

function internalError(e: unknown): StatusObject {
  const msg = e instanceof Error ? e.message : String(e);
  return statusFailure(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

function qualified(info: RequestInfo): string {
  return info.apiGroup ? `${info.resource}.${info.apiGroup}` : info.resource;
}

/** responsewriters.ForbiddenStatusError (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go). */
export function forbiddenStatus(user: UserInfo, info: RequestInfo, reason?: string): StatusObject {
  let msg: string;
  if (!info.isResourceRequest) {
    msg = `User "${user.username}" cannot ${info.verb} path "${info.path}"`;
  } else {
    const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    msg = info.namespace
      ? `User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" in the namespace "${info.namespace}"`
      : `User "${user.username}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" at the cluster scope`;
  }
  if (reason) msg += `: ${reason}`;
  if (!info.isResourceRequest || info.resource === '') return statusFailure(403, 'Forbidden', `forbidden: ${msg}`, {});
  const details: { name?: string; group?: string; kind: string } = { kind: info.resource };
  if (info.name) details.name = info.name;
  if (info.apiGroup) details.group = info.apiGroup;
  const head = info.name ? `${qualified(info)} "${info.name}"` : qualified(info);
  return statusFailure(403, 'Forbidden', `${head} is forbidden: ${msg}`, details);
}

const notFoundResource = (): StatusError => StatusError.of(404, 'NotFound', 'the server could not find the requested resource', {});
const methodNotAllowed = (): StatusError => StatusError.of(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

function sendJson(res: ServerResponse, code: number, obj: unknown, contentType = 'application/json', extra: Record<string, string> = {}): void {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache, private', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Read the body up to `limit` bytes; beyond it, keep counting but stop buffering. */
function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer | undefined; total: number; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) {
        tooLarge = true;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve({ body: total > 0 ? Buffer.concat(chunks) : undefined, total, tooLarge }));
    req.on('error', reject);
  });
}

function parseJsonBody(body: Buffer | undefined): Record<string, unknown> {
  if (!body || body.length === 0) throw StatusError.of(400, 'BadRequest', 'the body of the request was empty');
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw StatusError.of(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? (() => new Date());
  let tls = opts.tls;
  let caCert: string;
  if (tls) {
    caCert = tls.ca ?? tls.cert;
  } else {
    const t = await createLoopbackTls('kube-emulator');
    tls = { cert: t.server.cert, key: t.server.key };
    caCert = t.ca.cert;
  }
  const adminToken = `emulator-admin-${randomBytes(24).toString('hex')}`;
  const authn = new Authenticator({ tokens: { ...opts.tokens, [adminToken]: ADMIN_USER }, oidc: opts.oidc });
  const impersonators = new Set(opts.impersonators ?? []);
  const mayImpersonate = (u: UserInfo) => u.groups.includes('system:masters') || impersonators.has(u.username);
  const authorize = opts.authorize ?? allowAll;
  const customAuthorizer = opts.authorize !== undefined;
  const recorder = new Recorder(opts.record ?? true, opts.maxRecorded ?? 10000, now);
  const rest = opts.rest ?? createRest({ seed: opts.seed ?? 'demo', now });
  const streams = opts.streams ?? createPodStreams();
  const openapi = buildOpenApiV3();
  let openapiV2: ReturnType<typeof buildOpenApiV2> | undefined;
  let serverAddress = '127.0.0.1:0';

  /** Steps shared by plain requests and upgrades: canonical path, authn, impersonation, info, authz. */
  async function admit(req: IncomingMessage, rec: RecordedRequest): Promise<{ caller: Caller; info: RequestInfo }> {
    const bad = canonicalPathError(req.url ?? '/');
    if (bad) throw bad;
    const token = bearerToken(req.headers.authorization);
    const authenticated = token ? await authn.authenticate(token) : undefined;
    if (!authenticated) throw StatusError.of(401, 'Unauthorized', 'Unauthorized');
    rec.authenticated = authenticated;
    const { user, impersonated } = applyImpersonation(authenticated, req.headersDistinct, mayImpersonate);
    rec.user = user;
    rec.impersonated = impersonated;
    const info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
    const decision = authorize(user, info);
    if (!decision.allowed) throw new StatusError(forbiddenStatus(user, info, decision.reason));
    return { caller: { authenticated, user }, info };
  }

  /** Resolve the resource (and subresource) a resource request names; 404/405 like go-restful's routes. */
  function resolve(info: RequestInfo): ResourceDef {
    const def = findResource(info.apiGroup, info.apiVersion, info.resource);
    if (!def) throw notFoundResource();
    const namedInPath = info.parts.length >= 2;
    if (def.namespaced && info.namespace === '' && namedInPath) throw notFoundResource();
    if (!def.namespaced && info.namespace !== '' && def.resource !== 'namespaces') throw notFoundResource();
    if (def.namespaced && info.namespace === '' && !['list', 'watch'].includes(info.verb)) throw methodNotAllowed();
    if (info.subresource) {
      const sub = def.subresources?.find((s) => s.name === info.subresource);
      if (!sub || (info.parts.length > 3 && info.subresource !== 'proxy')) throw notFoundResource();
      if (!sub.verbs.includes(info.verb)) throw methodNotAllowed();
    } else if (!def.verbs.includes(info.verb)) {
      throw methodNotAllowed();
    }
    return def;
  }

  function nonResource(req: IncomingMessage, res: ServerResponse, info: RequestInfo): void {
    const path = info.path.replace(/\/+$/, '') || '/';
    const accept = req.headers.accept ?? '';
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    const parts = path.split('/').filter(Boolean);
    const discovery = parts[0] === 'api' || parts[0] === 'apis' || parts[0] === 'version' || parts[0] === 'openapi';
    if (discovery && !isRead) throw methodNotAllowed();
    if (path === '/version') return sendJson(res, 200, EMULATED_VERSION);
    if (/^\/(healthz|livez|readyz)(\/[a-z0-9-]+)?$/.test(path)) return sendText(res, 200, 'ok');
    if (path === '/api' || path === '/apis') {
      const v = aggregatedDiscoveryVersion(accept);
      const which = path === '/api' ? 'api' : 'apis';
      if (v) return sendJson(res, 200, aggregatedDiscovery(which, v), aggregatedContentType(v), { vary: 'Accept' });
      return sendJson(res, 200, which === 'api' ? apiVersions(serverAddress) : apiGroupList(), 'application/json', { vary: 'Accept' });
    }
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = apiResourceList('', parts[1] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = apiGroupDoc(parts[1] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = apiResourceList(parts[1] ?? '', parts[2] ?? '');
      if (doc) return sendJson(res, 200, doc);
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openapi.root);
    if (path === '/openapi/v2') {
      openapiV2 ??= buildOpenApiV2();
      const pb = accept.split(',').some((a) => [OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DEPRECATED].includes(a.split(';')[0]?.trim() ?? ''));
      const data = pb ? openapiV2.protobuf : Buffer.from(openapiV2.json);
      res.writeHead(200, { 'content-type': pb ? OPENAPI_V2_PROTOBUF : 'application/json', etag: `"${openapiV2.etag}"`, 'cache-control': 'no-cache, private', 'content-length': data.length, vary: 'Accept' });
      res.end(req.method === 'HEAD' ? undefined : data);
      return;
    }
    if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const doc = openapi.docs.get(parts.slice(2).join('/'));
      if (doc) {
        const hash = info.query.get('hash');
        const cache = hash === doc.hash ? { 'cache-control': 'public, immutable', expires: new Date(now().getTime() + 365 * 86400_000).toUTCString() } : {};
        res.writeHead(200, { 'content-type': 'application/json', etag: `"${doc.hash}"`, 'cache-control': 'no-cache, private', ...cache, 'content-length': Buffer.byteLength(doc.json) });
        res.end(req.method === 'HEAD' ? undefined : doc.json);
        return;
      }
    }
    if (parts[0] === 'api' || parts[0] === 'apis') {
      return sendStatus(res, statusFailure(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    sendText(res, 404, '404 page not found\n');
  }

  async function podStreamContext(info: RequestInfo, user: UserInfo, rec: RecordedRequest): Promise<PodStreamContext> {
    const podsDef = findResource('', 'v1', 'pods') as ResourceDef;
    const pod = rest.store.get(podsDef, info.namespace, info.name);
    if (!pod) throw StatusError.of(404, 'NotFound', `pods "${info.name}" not found`, { name: info.name, kind: 'pods' });
    return {
      pod,
      namespace: info.namespace,
      name: info.name,
      subresource: info.subresource as PodStreamContext['subresource'],
      query: info.query,
      user,
      setStatus: (code) => {
        rec.status = code;
      },
    };
  }

  async function resourceRequest(req: IncomingMessage, res: ServerResponse, info: RequestInfo, caller: Caller, rec: RecordedRequest): Promise<void> {
    const def = resolve(info);
    const accept = req.headers.accept ?? '';
    let contentType = req.headers['content-type'] ?? '';

    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    let body: Buffer | undefined;
    if (hasBody) {
      const r = await readBody(req, MAX_REQUEST_BODY_BYTES);
      recorder.body(rec, r.body, r.total);
      if (r.tooLarge) {
        res.setHeader('connection', 'close');
        throw StatusError.of(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${MAX_REQUEST_BODY_BYTES}`);
      }
      body = r.body;
    }

    if (body && isProtobuf(contentType)) {
      if (!def.protobuf) throw unsupportedMediaType(contentType);
      try {
        body = Buffer.from(JSON.stringify(decodeProtobufBody(body)));
        contentType = 'application/json';
      } catch (e) {
        if (e instanceof ProtobufDecodeError) throw unsupportedMediaType(contentType, e.message);
        throw e;
      }
    }
    if (!acceptsJson(accept)) throw notAcceptable();

    const user = caller.user;
    const g = info.apiGroup;
    if (g === 'authorization.k8s.io' && info.resource === 'selfsubjectaccessreviews') {
      return sendJson(res, 201, selfSubjectAccessReview(parseJsonBody(body), user, authorize));
    }
    if (g === 'authorization.k8s.io' && info.resource === 'selfsubjectrulesreviews') {
      return sendJson(res, 201, selfSubjectRulesReview(parseJsonBody(body), customAuthorizer));
    }
    if (g === 'authentication.k8s.io' && info.resource === 'selfsubjectreviews') {
      return sendJson(res, 201, selfSubjectReview(user, info.apiVersion));
    }
    if (g === '' && info.resource === 'serviceaccounts' && info.subresource === 'token') {
      const sa = rest.store.get(def, info.namespace, info.name);
      if (!sa) throw StatusError.of(404, 'NotFound', `serviceaccounts "${info.name}" not found`, { name: info.name, kind: 'serviceaccounts' });
      const t = tokenRequest(body ? parseJsonBody(body) : {}, sa as KubeObject, now());
      authn.addToken(t.token, t.user);
      return sendJson(res, 201, t.response);
    }
    if (g === '' && info.resource === 'pods' && POD_STREAMS.has(info.subresource)) {
      const ctx = await podStreamContext(info, user, rec);
      streams.handleHttp(ctx, req, res);
      return;
    }
    await rest.handle({ info, def, user, req, res, body, accept, contentType });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rec = recorder.start(req);
    res.on('close', () => {
      if (res.headersSent) rec.status ??= res.statusCode;
    });
    try {
      const { caller, info } = await admit(req, rec);
      if (!info.isResourceRequest) nonResource(req, res, info);
      else await resourceRequest(req, res, info, caller, rec);
      if (res.headersSent && rec.status === undefined && res.writableEnded) rec.status = res.statusCode;
    } catch (e) {
      const status = e instanceof StatusError ? e.status : internalError(e);
      rec.status = status.code;
      if (!res.headersSent) sendStatus(res, status);
      else res.destroy();
      // A request rejected before its body was read still has the body in flight: discard it.
      if (!req.complete) req.resume();
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const rec = recorder.start(req);
    try {
      const { caller, info } = await admit(req, rec);
      if (!info.isResourceRequest || info.apiGroup !== '' || info.resource !== 'pods' || !['exec', 'attach', 'portforward'].includes(info.subresource)) {
        throw StatusError.of(400, 'BadRequest', `upgrade requests are only supported for pods/exec, pods/attach and pods/portforward (got ${info.path})`);
      }
      resolve(info);
      const ctx = await podStreamContext(info, caller.user, rec);
      streams.handleUpgrade(ctx, req, socket, head);
    } catch (e) {
      const status = e instanceof StatusError ? e.status : internalError(e);
      rec.status = status.code;
      rejectUpgrade(socket, status);
    }
  }

  const server = createServer({ cert: tls.cert, key: tls.key });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    void handleUpgrade(req, socket, head);
  });
  server.on('tlsClientError', () => {});

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  serverAddress = `${urlHost}:${port}`;

  let closed: Promise<void> | undefined;
  return {
    url: `https://${urlHost}:${port}`,
    port,
    caCert,
    adminToken,
    requests: recorder.requests,
    store: rest.store,
    rest,
    server,
    addToken: (token, user) => authn.addToken(token, user),
    clearRequests: () => recorder.clear(),
    close() {
      closed ??= new Promise<void>((resolveClose) => {
        streams.close();
        rest.close();
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
