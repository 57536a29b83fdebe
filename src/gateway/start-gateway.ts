/**
 * The composition root: wires configuration, identity, policy, audit and the connections into
 * the Kubernetes API listener. Everything with I/O is built here and injected downwards.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import { writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { createApprovalService, type ApprovalRole, type ApprovalServiceImpl } from '../approval/approval-service.ts';
import type { ApprovalEvent } from '../approval/types.ts';
import { createWebhookDispatcher, type WebhookDispatcher } from '../approval/webhooks.ts';
import type { AuditRecorder } from '../audit/types.ts';
import type { ApprovalStore } from '../store/approval-store.ts';
import type { AuditStore } from '../store/audit-store.ts';
import { activeGrants } from '../approval/active-grants.ts';
import { createTokenVerifier } from '../authn/create-verifier.ts';
import type { Config } from '../config/schema.ts';
import { SluiceError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { durationMs } from '../core/duration.ts';
import { parsePolicies } from '../policy/load-policies.ts';
import type { PolicySet } from '../policy/policy-set.ts';
import { watchPolicies } from '../policy/watch-policies.ts';
import { canRequestRole } from '../policy/grants.ts';
import { createMasking } from '../masking/create-masking.ts';
import { createKubernetesHandler } from '../protocols/kubernetes/handler.ts';
import { createInternalKubeClient } from '../protocols/kubernetes/internal-client.ts';
import { createMcpEndpoint, type McpEndpoint } from '../protocols/mcp/mcp-endpoint.ts';
import { SLUICE_TOOLS } from '../protocols/mcp/tools/index.ts';
import { createControlApi } from '../control/control-api.ts';
import { statusFailure } from '../protocols/kubernetes/status.ts';
import { createUpstream, type Upstream } from '../protocols/kubernetes/upstream.ts';
import { createLoopbackTls } from '../tls/dev-ca.ts';

export interface GatewayDeps {
  log: Logger;
  /** The audit trail; the gateway refuses requests it cannot record. */
  recorder: AuditRecorder;
  /** Where approvals live; without it the gateway holds nothing (review → 403 APPROVAL_REQUIRED). */
  approvalStore?: ApprovalStore;
  /**
   * The audit store the recorder writes to, for reading the trail through the control API
   * (`/sluice/v1/audit/…`, decided by the policy); without it those routes answer 404.
   */
  auditStore?: Pick<AuditStore, 'get' | 'list' | 'trail' | 'chunks' | 'trailOf'>;
  now?: () => Date;
}

export interface Gateway {
  /** Base URL of the listener, e.g. https://127.0.0.1:6443 (connections under /clusters/NAME). */
  url: string;
  port: number;
  /** The CA certificate clients must trust (dev TLS), or undefined with configured certificates. */
  caCert?: string;
  /** Server URL of a connection for a kubeconfig. */
  clusterUrl(connection: string): string;
  policies(): PolicySet;
  /** The approval service, when the gateway holds requests for approval. */
  approvals?: ApprovalServiceImpl;
  /** The MCP endpoint's URL and resource identifier (`mcp.enabled`). */
  mcpUrl?: string;
  close(): Promise<void>;
}


/**
 * Webhooks hear about a held request when approvers are to be asked: at once, or — for a rule
 * with requireReason — once the requester gave the reason (delivered as `approval.requested`).
 */
function forWebhooks(e: ApprovalEvent): ApprovalEvent | undefined {
  const a = e.approval;
  if (e.type === 'approval.requested' && a.requireReason && !a.reason) return undefined;
  if (e.type === 'approval.reason' && a.requireReason) return { ...e, type: 'approval.requested' };
  return e;
}

export async function startGateway(cfg: Config, deps: GatewayDeps): Promise<Gateway> {
  const { log } = deps;
  let cert: string;
  let key: string;
  let caCert: string | undefined;
  if (cfg.server.tls.mode === 'dev') {
    log.warn('tls.mode is "dev": serving a generated certificate from a throw-away CA; configure tls.mode "files" in production');
    const tls = await createLoopbackTls();
    cert = tls.server.cert;
    key = tls.server.key;
    caCert = tls.ca.cert;
    if (cfg.server.tls.caOut) await writeFile(cfg.server.tls.caOut, caCert);
  } else {
    try {
      cert = readFileSync(cfg.server.tls.certFile!, 'utf8');
      key = readFileSync(cfg.server.tls.keyFile!, 'utf8');
    } catch (e) {
      throw new SluiceError('CONFIG_INVALID', `cannot read the TLS certificate or key: ${(e as Error).message}`);
    }
  }
  if (cfg.identity.issuers.length === 0) log.warn('no identity.issuers configured: every request will be refused with 401');
  if (cfg.connections.length === 0) log.warn('no connections configured: every request will be answered 404');

  const masking = createMasking(cfg.masking);
  if (!masking) log.warn('masking.enabled is false: responses (Secret values, tokens, credentials in logs and exec output) reach clients unmasked');

  const verifier = createTokenVerifier(cfg.identity.issuers, deps.now ? { now: deps.now } : {});
  let policies: { current(): PolicySet; close(): Promise<void> | void };
  if (cfg.policy.paths.length === 0) {
    log.warn('no policy.paths configured: every request is denied (default deny)');
    const empty = parsePolicies([]);
    policies = { current: () => empty, close: () => undefined };
  } else {
    policies = await watchPolicies(cfg.policy.paths, {
      onReload: (p) => log.info({ rules: p.rules.length, digest: p.digest }, 'policy reloaded'),
      onError: (e) => log.error({ err: e.message }, 'policy reload failed; keeping the last valid policy'),
    });
  }
  const upstreams = new Map<string, Upstream>();
  for (const c of cfg.connections) upstreams.set(c.name, await createUpstream(c));

  let approvals: ApprovalServiceImpl | undefined;
  let webhooks: WebhookDispatcher | undefined;
  if (deps.approvalStore) {
    approvals = await createApprovalService({
      store: deps.approvalStore,
      recorder: deps.recorder,
      log: log.child({ component: 'approvals' }),
      ...(deps.now ? { now: deps.now } : {}),
      defaultApprovers: cfg.approvals.defaultApprovers,
      defaultTimeoutMs: durationMs(cfg.approvals.defaultTimeout),
      maxHeld: cfg.approvals.maxHeld,
      sameAs: cfg.approvals.sameAs,
      roles: () => approvalRoles(policies.current()),
      ...(masking ? { masking } : {}),
    });
    if (cfg.approvals.webhooks.length) {
      const dispatcher = await createWebhookDispatcher(cfg.approvals.webhooks, { log: log.child({ component: 'webhooks' }), ...(cfg.approvals.consoleUrl ? { consoleUrl: cfg.approvals.consoleUrl } : {}) });
      webhooks = dispatcher;
      approvals.subscribe((e) => {
        const ev = forWebhooks(e);
        if (ev) dispatcher.deliver(ev);
      });
    }
  }

  const handler = createKubernetesHandler({
    upstreams,
    verifier,
    policies: () => policies.current(),
    recorder: deps.recorder,
    ...(approvals ? { approvals } : {}),
    log,
    limits: { maxRequestBodyBytes: cfg.server.maxRequestBodyBytes, maxBodyDepth: cfg.server.maxBodyDepth },
    ...(masking ? { masking } : {}),
    recordSessions: cfg.recording.enabled,
    ...(deps.now ? { now: deps.now } : {}),
  });

  // Node's strict HTTP parser stays on (no insecureHTTPParser): Content-Length with
  // Transfer-Encoding, duplicate Content-Length and malformed framing are refused with 400.
  const server = https.createServer({ cert, key, requestTimeout: 0, headersTimeout: 30_000, keepAliveTimeout: 65_000 });
  const auditReads = deps.auditStore
    ? { store: deps.auditStore, recorder: deps.recorder, policies: () => policies.current(), grants: () => activeGrants(approvals?.activeGrants() ?? []) }
    : undefined;
  const controlApi = approvals
    ? createControlApi({
        verifier,
        approvals,
        roles: (viewer) => roleSummaries(policies.current(), viewer),
        log: log.child({ component: 'control-api' }),
        ...(deps.now ? { now: deps.now } : {}),
        ...(auditReads ? { audit: auditReads } : {}),
      })
    : undefined;

  // Sluice's own MCP endpoint (created once the listener's URL is known).
  let mcp: McpEndpoint | undefined;
  server.on('request', (req, res) => {
    if (req.url === '/healthz' || req.url === '/readyz' || req.url === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (controlApi?.handle(req, res)) return;
    if (mcp?.handle(req, res)) return;
    handler.handleRequest(req, res);
  });
  server.on('upgrade', (req, socket, head) => handler.handleUpgrade(req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Bytes the strict parser refused: answer in the client's protocol, close, and record it.
    const parseError = typeof err.code === 'string' && err.code.startsWith('HPE_');
    const sourceIp = (socket as Socket).remoteAddress ?? '';
    if (socket.writable) {
      const status = statusFailure(err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400, 'BadRequest', 'sluice: malformed HTTP request');
      const body = JSON.stringify(status);
      socket.end(
        `HTTP/1.1 ${status.code} ${status.code === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
    if (!parseError) return;
    const id = randomUUID();
    const error = { code: 'REQUEST_INVALID', message: `malformed HTTP request (${err.code})` };
    Promise.resolve()
      .then(() =>
        deps.recorder
          .begin({ id, time: new Date(), code: 'http.malformed', principal: null, connection: '', method: '', path: '', query: '', sourceIp, error })
          .complete({ status: 400, bytesIn: 0, bytesOut: 0, durationMs: 0, error }),
      )
      .catch((e: unknown) => log.error({ err: (e as Error).message }, 'could not record a malformed request'));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.server.port, cfg.server.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = cfg.server.host.includes(':') ? `[${cfg.server.host}]` : cfg.server.host;
  const url = `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  log.info({ url, connections: [...upstreams.keys()] }, 'Kubernetes API listener started');
  if (cfg.mcp.enabled) {
    mcp = createMcpEndpoint({
      cfg: cfg.mcp,
      listenerUrl: url,
      loopback: isLoopback(cfg.server.host),
      port,
      verifier,
      kube: createInternalKubeClient(handler),
      recorder: deps.recorder,
      ...(masking ? { masking } : {}),
      policies: () => policies.current(),
      policyDigest: () => policies.current().digest,
      grants: () => activeGrants(approvals?.activeGrants() ?? []),
      connections: [...upstreams.keys()],
      tools: SLUICE_TOOLS,
      log: log.child({ component: 'mcp' }),
      maxAnswerBytes: cfg.mcp.maxAnswerBytes,
      progressIntervalMs: durationMs(cfg.mcp.progressInterval),
      ...(cfg.approvals.consoleUrl ? { consoleUrl: cfg.approvals.consoleUrl } : {}),
      ...(approvals ? { giveReason: async (id: string, requester: Principal, reason: string) => void (await approvals.setReason(id, requester, reason)) } : {}),
      now: deps.now ?? (() => new Date()),
    });
    if (!cfg.mcp.resource && !isLoopback(cfg.server.host)) log.warn({ resource: mcp.resource }, 'mcp.resource is not set: the MCP endpoint names itself by the listener\'s address; set it to the URL clients use');
    log.info({ url: mcp.resource, sessions: cfg.mcp.sessions }, 'MCP endpoint started');
  }

  return {
    url,
    port,
    caCert,
    clusterUrl: (c) => `${url}/clusters/${c}`,
    policies: () => policies.current(),
    ...(approvals ? { approvals } : {}),
    ...(mcp ? { mcpUrl: mcp.resource } : {}),
    async close() {
      controlApi?.close();
      await mcp?.close();
      await approvals?.close();
      await webhooks?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await policies.close();
      await verifier.close();
      for (const u of upstreams.values()) u.close();
    },
  };
}

/** Is the listener bound to a loopback address only? */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** The policy's roles as the approval service sees them. */
function approvalRoles(p: PolicySet): ReadonlyMap<string, ApprovalRole> {
  const out = new Map<string, ApprovalRole>();
  for (const role of p.roles.values()) {
    out.set(role.name, {
      name: role.name,
      ...(role.description ? { description: role.description } : {}),
      maxDurationMs: role.maxDurationMs,
      review: {
        approvers: [...role.review.approvers],
        minApprovals: role.review.minApprovals,
        ...(role.review.timeoutMs !== undefined ? { timeoutMs: role.review.timeoutMs } : {}),
        requireReason: role.review.requireReason,
      },
      requestable: (principal) => canRequestRole(principal, role),
    });
  }
  return out;
}

/** The roles `viewer` may ask for, as the control API lists them. */
export function roleSummaries(p: PolicySet, viewer: Principal): { name: string; description?: string; maxDurationMs: number; requestableBy: string }[] {
  return [...p.roles.values()].filter((r) => canRequestRole(viewer, r)).map((r) => ({
    name: r.name,
    ...(r.description ? { description: r.description } : {}),
    maxDurationMs: r.maxDurationMs,
    requestableBy: [...r.requestableBy.users.map((g) => `user ${g.pattern}`), ...r.requestableBy.groups.map((g) => `group ${g.pattern}`)].join(', '),
  }));
}
