/**
 * A control API world for the control API and CLI tests: a real node:https server (loopback TLS
 * from the dev CA) serving createControlApi, the real identity provider (testing/oidc) and the
 * real token verifier, and an in-test ApprovalService over an array. The fake stands in for
 * the real service (tested by its own suite) so that these tests exercise the HTTP mapping:
 * visibility is "requester or in an approver group", decisions follow the documented codes.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type {
  Approval,
  ApprovalEvent,
  ApprovalListFilter,
  ApprovalPerson,
  ApprovalService,
  HoldInput,
  OpenedHold,
} from '../../../src/approval/types.ts';
import { FINAL_STATES } from '../../../src/approval/types.ts';
import { createTokenVerifier, type TokenVerifier } from '../../../src/authn/create-verifier.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import type { Principal } from '../../../src/core/principal.ts';
import { createControlApi, type ControlApi, type ControlApiDeps } from '../../../src/control/control-api.ts';
import { createLoopbackTls } from '../../../src/tls/dev-ca.ts';
import { idpTokenFor } from '../../../testing/harness/idp-token.ts';
import { startIdentityProvider, type IdentityProvider } from '../../../testing/oidc/index.ts';

export const ROLES = [{ name: 'prod-write', description: 'write access in prod', maxDurationMs: 3_600_000, requestableBy: 'developers' }];

const same = (a: ApprovalPerson, p: Principal): boolean => a.issuer === p.issuer && a.subject === p.subject;
const eligible = (a: Approval, p: Principal): boolean => a.requirements.some((r) => r.approvers.some((g) => g === '*' || p.groups.includes(g)));
const person = (p: Principal): ApprovalPerson => ({ issuer: p.issuer, subject: p.subject, username: p.username, groups: [...p.groups], kind: p.kind ?? 'person' });

/** ApprovalService over an array; `failWith` makes the next call fail. */
export class FakeApprovalService implements ApprovalService {
  readonly approvals: Approval[] = [];
  readonly listeners = new Set<(e: ApprovalEvent) => void>();
  failWith: Error | undefined;
  /** Calls of list(), with the filter (tests assert what the API asked for). */
  readonly listCalls: (ApprovalListFilter | undefined)[] = [];

  private check(): void {
    const e = this.failWith;
    this.failWith = undefined;
    if (e) throw e;
  }

  private find(id: string, viewer: Principal): Approval {
    const a = this.approvals.find((x) => x.id === id);
    if (!a || !(same(a.requester, viewer) || eligible(a, viewer))) throw new SluiceError('APPROVAL_NOT_FOUND', `no approval ${id}`);
    return a;
  }

  emit(type: string, approval: Approval, actor?: ApprovalPerson): void {
    const e: ApprovalEvent = { type, approval: structuredClone(approval), at: new Date(), ...(actor ? { actor } : {}) };
    for (const l of this.listeners) l(e);
  }

  add(a: Approval): Approval {
    this.approvals.unshift(a);
    return a;
  }

  async hold(input: HoldInput): Promise<OpenedHold> {
    const a = this.add(
      requestApproval({
        requester: person(input.principal),
        connection: input.connection,
        rules: input.rules,
        message: input.message,
        requirements: input.requirements.map((r) => ({ ruleId: r.ruleId, approvers: r.approvers, minApprovals: r.minApprovals })),
      }),
    );
    return { approval: a, joined: false, wait: async () => ({ outcome: 'aborted', approval: a }) };
  }

  async approve(id: string, approver: Principal, reason?: string): Promise<Approval> {
    this.check();
    const a = this.find(id, approver);
    if (FINAL_STATES.includes(a.state) || a.state === 'approved') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is already ${a.state}`);
    if (same(a.requester, approver)) throw new SluiceError('APPROVAL_FORBIDDEN', 'you may not approve your own request');
    if (!eligible(a, approver)) throw new SluiceError('APPROVAL_FORBIDDEN', 'you are not an eligible approver');
    a.votes.push({ approver: person(approver), vote: 'approve', ...(reason ? { reason } : {}), at: new Date() });
    this.emit('approval.vote', a, person(approver));
    if (a.votes.filter((v) => v.vote === 'approve').length >= a.requirements.reduce((n, r) => n + r.minApprovals, 0)) {
      a.state = 'approved';
      a.decidedAt = new Date();
      if (a.grant) a.grant.activeUntil = new Date(Date.now() + a.grant.durationMs);
      this.emit('approval.approved', a, person(approver));
    }
    return structuredClone(a);
  }

  async deny(id: string, approver: Principal, reason: string): Promise<Approval> {
    this.check();
    const a = this.find(id, approver);
    if (a.state !== 'pending') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is already ${a.state}`);
    if (!eligible(a, approver) || same(a.requester, approver)) throw new SluiceError('APPROVAL_FORBIDDEN', 'you are not an eligible approver');
    a.votes.push({ approver: person(approver), vote: 'deny', reason, at: new Date() });
    a.state = 'denied';
    a.decidedAt = new Date();
    this.emit('approval.denied', a, person(approver));
    return structuredClone(a);
  }

  async setReason(id: string, requester: Principal, reason: string): Promise<Approval> {
    this.check();
    const a = this.find(id, requester);
    if (!same(a.requester, requester)) throw new SluiceError('APPROVAL_FORBIDDEN', 'not your request');
    if (a.state !== 'pending') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is already ${a.state}`);
    a.reason = reason;
    this.emit('approval.reason', a, person(requester));
    return structuredClone(a);
  }

  async requestAccess(requester: Principal, role: string, durationMs: number, reason: string): Promise<Approval> {
    this.check();
    const r = ROLES.find((x) => x.name === role);
    if (!r) throw new SluiceError('APPROVAL_INVALID', `unknown role ${role}`);
    if (durationMs > r.maxDurationMs) throw new SluiceError('APPROVAL_INVALID', `role ${role} is granted for at most 1h`);
    const id = randomUUID();
    const { request: _held, ...base } = requestApproval({ id, requester: person(requester), connection: '', rules: [`role:${role}`], message: r.description, reason });
    const a = this.add({ ...base, kind: 'grant', hash: `grant:${role}:${requester.issuer}:${requester.subject}:${id}`, grant: { role, durationMs } });
    this.emit('approval.requested', a, person(requester));
    return structuredClone(a);
  }

  async revoke(id: string, by: Principal, reason?: string): Promise<Approval> {
    this.check();
    const a = this.find(id, by);
    if (a.kind !== 'grant' || a.state !== 'approved') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is not an active grant`);
    a.state = 'revoked';
    a.revokedBy = person(by);
    if (reason) a.revokeReason = reason;
    this.emit('approval.revoked', a, person(by));
    return structuredClone(a);
  }

  async get(id: string, viewer: Principal): Promise<Approval> {
    this.check();
    return structuredClone(this.find(id, viewer));
  }

  async list(viewer: Principal, filter?: ApprovalListFilter): Promise<Approval[]> {
    this.check();
    this.listCalls.push(filter);
    const out = this.approvals.filter(
      (a) =>
        (same(a.requester, viewer) || eligible(a, viewer)) &&
        (!filter?.states || filter.states.includes(a.state)) &&
        (!filter?.kind || a.kind === filter.kind) &&
        (!filter?.requester || a.requester.username === filter.requester),
    );
    return structuredClone(out.slice(0, filter?.limit ?? out.length));
  }

  canDecide(a: Approval, viewer: Principal): boolean {
    return a.state === 'pending' && !same(a.requester, viewer) && eligible(a, viewer);
  }

  activeGrants(): readonly Approval[] {
    return this.approvals.filter((a) => a.kind === 'grant' && a.state === 'approved');
  }

  subscribe(listener: (e: ApprovalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {}
}

/** A held `delete pods/web-1 -n prod` approval needing one approver from `approvers`. */
export function requestApproval(over: Partial<Approval> & { requester: ApprovalPerson }): Approval {
  const now = Date.now();
  return {
    id: randomUUID(),
    kind: 'request',
    state: 'pending',
    createdAt: new Date(now - 120_000),
    expiresAt: new Date(now + 600_000),
    connection: 'demo',
    hash: 'sha256:' + '0'.repeat(64),
    request: {
      method: 'DELETE',
      path: '/api/v1/namespaces/prod/pods/web-1',
      query: 'gracePeriodSeconds=0',
      attributes: {
        connection: 'demo',
        verb: 'delete',
        apiGroup: '',
        apiVersion: 'v1',
        resource: 'pods',
        subresource: '',
        namespace: 'prod',
        name: 'web-1',
        isResourceRequest: true,
        path: '/api/v1/namespaces/prod/pods/web-1',
      },
      body: '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}',
      contentType: 'application/json',
      bodySha256: 'a'.repeat(64),
      firstRequestId: randomUUID(),
    },
    rules: ['prod-delete-needs-approval'],
    message: 'deleting in prod needs an approver',
    requirements: [{ ruleId: 'prod-delete-needs-approval', approvers: ['approvers'], minApprovals: 1 }],
    requireReason: false,
    votes: [],
    ...over,
  };
}

export interface ControlWorld {
  url: string;
  caFile: string;
  caCert: string;
  idp: IdentityProvider;
  verifier: TokenVerifier;
  service: FakeApprovalService;
  api: ControlApi;
  /** A fresh token (cached per user) from the identity provider. */
  token(user: string): Promise<string>;
  /** The approval person of a demo user as the verifier sees them. */
  person(user: string, groups: string[]): ApprovalPerson;
  /** Another control API over the same service and verifier, on its own server (other deps). */
  startApi(over: Partial<ControlApiDeps>): Promise<{ url: string; api: ControlApi; close(): Promise<void> }>;
  stop(): Promise<void>;
}

async function serve(api: ControlApi, tls: { cert: string; key: string }): Promise<{ server: Server; url: string }> {
  const server = createServer({ ...tls, requestTimeout: 0 }, (req, res) => {
    if (!api.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not the control API');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function shut(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startControlWorld(): Promise<ControlWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-control-'));
  const { ca, server: tls } = await createLoopbackTls();
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ca.cert);
  const idp = await startIdentityProvider({ ca });
  const verifier = createTokenVerifier([
    { issuer: idp.issuer, audiences: [idp.audience], caFile, usernameClaim: 'sub', groupsPrefix: '', allowUnprefixedGroups: true },
  ]);
  const service = new FakeApprovalService();
  const log = pino({ level: 'silent' });
  const deps: ControlApiDeps = { verifier, approvals: service, roles: () => ROLES, log, heartbeatMs: 200 };
  const api = createControlApi(deps);
  const main = await serve(api, tls);
  const extra: Server[] = [];
  const tokens = new Map<string, Promise<string>>();
  return {
    url: main.url,
    caFile,
    caCert: ca.cert,
    idp,
    verifier,
    service,
    api,
    token(user) {
      let t = tokens.get(user);
      if (!t) tokens.set(user, (t = idpTokenFor(idp, user)));
      return t;
    },
    person: (user, groups) => ({ issuer: idp.issuer, subject: user, username: user, groups, kind: 'person' }),
    async startApi(over) {
      const other = createControlApi({ ...deps, ...over });
      const s = await serve(other, tls);
      extra.push(s.server);
      return { url: s.url, api: other, close: () => shut(s.server) };
    },
    async stop() {
      api.close();
      for (const s of [main.server, ...extra]) await shut(s);
      await verifier.close();
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
