/**
 * createControlApi: the gateway's control API for approvals, JSON over the gateway's HTTPS
 * listener under `/sluice/v1/`. The CLI (`sluice approvals`, `sluice access`) and the web
 * console talk to Sluice only through it (DESIGN.md "Components").
 *
 * Every request is authenticated like a Kubernetes request (./authenticate-caller.ts); what a
 * caller may see or do is the ApprovalService's decision, never this layer's. Routes:
 *
 *   GET  /sluice/v1/whoami                       the caller's principal
 *   GET  /sluice/v1/roles                        roles one can request (`sluice access request`)
 *   GET  /sluice/v1/approvals?state=&kind=&mine=&limit=   approvals the caller may see
 *   GET  /sluice/v1/approvals/events             server-sent events (./approval-event-stream.ts)
 *   GET  /sluice/v1/approvals/:id                one approval (id or unique prefix ≥ 6 hex)
 *   POST /sluice/v1/approvals/:id/approve        {reason?}
 *   POST /sluice/v1/approvals/:id/deny           {reason}
 *   POST /sluice/v1/approvals/:id/reason         {reason}   (the requester)
 *   POST /sluice/v1/approvals/:id/revoke         {reason?}  (an active grant)
 *   POST /sluice/v1/access-requests              {role, duration, reason} → 201
 *   GET  /sluice/v1/audit/events?user=&since=&…  audit records (./audit-reads.ts)
 *   GET  /sluice/v1/audit/events/:id             one audit record (id or unique prefix)
 *   GET  /sluice/v1/audit/export?…                the trail as JSON Lines (filters; stubs outside the reader's scope)
 *   GET  /sluice/v1/audit/events/:id/terminal     a recorded exec/attach session (guarded: events/terminal)
 *   GET  /sluice/v1/audit/events/:id/body         its recorded request/response bodies (guarded: events/body)
 *
 * Approvals carry `canDecide` for the caller. Audit reads are decided by the gateway's policy
 * (connection `sluice`, apiGroup `audit.sluice.dev`) and recorded as `audit.read`. Errors are
 * `{error: {code, message}}` with the status of ./control-error.ts. A small route table rather
 * than a framework: twelve fixed routes on the data-plane listener, which hands over requests
 * as node:http objects.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Approval, ApprovalListFilter, ApprovalService } from '../approval/types.ts';
import type { TokenVerifier } from '../authn/create-verifier.ts';
import type { VerifiedPrincipal } from '../authn/principal-from-claims.ts';
import { SluiceError } from '../core/errors.ts';
import { streamApprovalEvents, type OpenEventStream } from './approval-event-stream.ts';
import { createAuditReads, type AuditReadDeps } from './audit-reads.ts';
import { authenticateCaller } from './authenticate-caller.ts';
import { ControlProblem, sendProblem } from './control-error.ts';
import { AccessRequestBody, ApproveBody, DenyBody, ListQuery, ReasonBody, RevokeBody, durationMs, parseWith } from './control-schemas.ts';
import { readJsonBody } from './read-json-body.ts';
import { resolveApprovalId } from './resolve-approval-id.ts';
import { sendJson } from './send-json.ts';
import type { ApprovalView, RoleJson, WhoamiJson } from './wire-types.ts';

/** Every control API path starts with this. */
export const CONTROL_API_PREFIX = '/sluice/v1';
/** Interval of the `: ping` comments on event streams. */
export const SSE_HEARTBEAT_MS = 15_000;

export interface ControlApiDeps {
  verifier: TokenVerifier;
  approvals: ApprovalService;
  /** The roles `viewer` may request, for GET /roles (read at each request: policies reload). */
  roles: (viewer: VerifiedPrincipal) => RoleJson[];
  log: Logger;
  /** Clock (token expiry of event streams); default the system clock. */
  now?: () => Date;
  /** Interval of event-stream heartbeats; default SSE_HEARTBEAT_MS. */
  heartbeatMs?: number;
  /** The audit trail and the policy that governs reading it; absent, the audit routes answer 404. */
  audit?: AuditReadDeps;
}

export interface ControlApi {
  /** Serve `req` if its path is the control API's (then true); false leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** End open event streams. */
  close(): void;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  principal: VerifiedPrincipal;
  /** Path parameters (`id`). */
  params: Record<string, string>;
  query: URLSearchParams;
}

interface Route {
  method: 'GET' | 'POST';
  /** Matched against the raw path; named groups become params. */
  path: RegExp;
  run(call: Call): Promise<void>;
}

const ID = '(?<id>[^/]+)';

export function createControlApi(deps: ControlApiDeps): ControlApi {
  const { approvals, log } = deps;
  const now = deps.now ?? (() => new Date());
  const streams = new Set<OpenEventStream>();
  const auditReads = deps.audit ? createAuditReads({ ...deps.audit, log, now }) : undefined;
  const audit = (): NonNullable<typeof auditReads> => {
    if (!auditReads) throw new ControlProblem(404, 'REQUEST_INVALID', 'this gateway does not serve its audit trail through the control API');
    return auditReads;
  };

  const view = (a: Approval, viewer: VerifiedPrincipal): ApprovalView => ({ ...a, canDecide: approvals.canDecide(a, viewer) });
  const idOf = (call: Call): Promise<string> => resolveApprovalId(call.params.id ?? '', call.principal, approvals);
  const body = async <T>(call: Call, parse: (v: unknown) => T): Promise<T> => parse(await readJsonBody(call.req));

  const action = (name: string, run: (call: Call) => Promise<Approval>): Route => ({
    method: 'POST',
    path: new RegExp(`^/approvals/${ID}/${name}$`),
    async run(call) {
      const a = await run(call);
      log.info({ approval: a.id, by: call.principal.username, action: name, state: a.state }, `approval ${name}`);
      sendJson(call.res, 200, view(a, call.principal));
    },
  });

  const routes: Route[] = [
    {
      method: 'GET',
      path: /^\/whoami$/,
      async run({ res, principal: p }) {
        const who: WhoamiJson = {
          username: p.username,
          groups: [...p.groups],
          issuer: p.issuer,
          subject: p.subject,
          kind: p.kind,
          expiresAt: p.expiresAt.toISOString(),
        };
        sendJson(res, 200, who);
      },
    },
    {
      method: 'GET',
      path: /^\/roles$/,
      async run({ res, principal }) {
        sendJson(res, 200, { roles: deps.roles(principal) });
      },
    },
    {
      method: 'GET',
      path: /^\/approvals$/,
      async run({ res, principal, query }) {
        const q = parseWith(ListQuery, Object.fromEntries(query), 'REQUEST_INVALID', 'approval list query');
        const filter: ApprovalListFilter = {};
        if (q.state) filter.states = q.state;
        if (q.kind) filter.kind = q.kind;
        if (q.limit) filter.limit = q.limit;
        if (q.mine) filter.requester = principal.username;
        let list = await approvals.list(principal, filter);
        // "mine" is this identity (issuer and subject), whatever `requester` matches on.
        if (q.mine) list = list.filter((a) => a.requester.issuer === principal.issuer && a.requester.subject === principal.subject);
        sendJson(res, 200, { approvals: list.map((a) => view(a, principal)) });
      },
    },
    {
      method: 'GET',
      path: /^\/approvals\/events$/,
      async run({ req, res, principal }) {
        const stream = await streamApprovalEvents(req, res, principal, { approvals, log, now, heartbeatMs: deps.heartbeatMs ?? SSE_HEARTBEAT_MS });
        streams.add(stream);
        void stream.closed.then(() => streams.delete(stream));
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/approvals/${ID}$`),
      async run(call) {
        const a = await approvals.get(await idOf(call), call.principal);
        sendJson(call.res, 200, view(a, call.principal));
      },
    },
    action('approve', async (call) => {
      const { reason } = await body(call, (v) => parseWith(ApproveBody, v, 'APPROVAL_INVALID', 'approve request'));
      return approvals.approve(await idOf(call), call.principal, reason);
    }),
    action('deny', async (call) => {
      const { reason } = await body(call, (v) => parseWith(DenyBody, v, 'APPROVAL_INVALID', 'deny request'));
      return approvals.deny(await idOf(call), call.principal, reason);
    }),
    action('reason', async (call) => {
      const { reason } = await body(call, (v) => parseWith(ReasonBody, v, 'APPROVAL_INVALID', 'reason'));
      return approvals.setReason(await idOf(call), call.principal, reason);
    }),
    action('revoke', async (call) => {
      const { reason } = await body(call, (v) => parseWith(RevokeBody, v, 'APPROVAL_INVALID', 'revoke request'));
      return approvals.revoke(await idOf(call), call.principal, reason);
    }),
    {
      method: 'POST',
      path: /^\/access-requests$/,
      async run(call) {
        const b = await body(call, (v) => parseWith(AccessRequestBody, v, 'APPROVAL_INVALID', 'access request'));
        const ms = durationMs(b.duration);
        if (!(ms > 0)) throw new SluiceError('APPROVAL_INVALID', 'invalid access request: duration must be longer than 0s');
        const a = await approvals.requestAccess(call.principal, b.role, ms, b.reason);
        log.info({ approval: a.id, by: call.principal.username, role: b.role, durationMs: ms }, 'access requested');
        sendJson(call.res, 201, view(a, call.principal));
      },
    },
    {
      method: 'GET',
      path: /^\/audit\/events$/,
      async run({ req, res, principal, query }) {
        await audit().list(req, res, principal, `${CONTROL_API_PREFIX}/audit/events`, query);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/audit/events/${ID}$`),
      async run({ req, res, principal, params }) {
        const id = params.id ?? '';
        await audit().show(req, res, principal, `${CONTROL_API_PREFIX}/audit/events/${id}`, id);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/audit/events/${ID}/terminal$`),
      async run({ req, res, principal, params, query }) {
        const id = params.id ?? '';
        await audit().terminal(req, res, principal, `${CONTROL_API_PREFIX}/audit/events/${id}/terminal`, id, query);
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/audit/events/${ID}/body$`),
      async run({ req, res, principal, params }) {
        const id = params.id ?? '';
        await audit().body(req, res, principal, `${CONTROL_API_PREFIX}/audit/events/${id}/body`, id);
      },
    },
    {
      method: 'GET',
      path: /^\/audit\/export$/,
      async run({ req, res, principal, query }) {
        await audit().export(req, res, principal, `${CONTROL_API_PREFIX}/audit/export`, query);
      },
    },
  ];

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const principal = await authenticateCaller(req, deps.verifier, log);
    const matching = routes.filter((r) => r.path.test(path));
    if (matching.length === 0) throw new ControlProblem(404, 'REQUEST_INVALID', `no control API route ${CONTROL_API_PREFIX}${path}`);
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      const allow = [...new Set(matching.map((r) => r.method))].join(', ');
      throw new ControlProblem(405, 'REQUEST_INVALID', `${req.method ?? ''} is not allowed here; use ${allow}`, { allow });
    }
    const params = { ...(route.path.exec(path)?.groups ?? {}) };
    await route.run({ req, res, principal, params, query });
  }

  return {
    handle(req, res) {
      const target = req.url ?? '';
      const q = target.indexOf('?');
      const rawPath = q === -1 ? target : target.slice(0, q);
      if (rawPath !== CONTROL_API_PREFIX && !rawPath.startsWith(`${CONTROL_API_PREFIX}/`)) return false;
      const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
      serve(req, res, rawPath.slice(CONTROL_API_PREFIX.length), query).catch((err: unknown) => sendProblem(res, err, log));
      return true;
    },
    close() {
      for (const s of streams) s.close();
      streams.clear();
    },
  };
}
