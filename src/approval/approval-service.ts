/**
 * The approval service (the model and its rules are in types.ts): opens and joins approvals of
 * held requests, takes votes, spends a grant exactly once, expires what waits too long, and
 * keeps the access grants that are active for the policy engine.
 *
 * Source of truth is the store; this process keeps only what is live: the clients waiting on an
 * approval (`waiters`) and a timer per open approval. Every state change goes through
 * `store.update` (one transaction), so a change decided here can never overwrite one made in
 * between, and "exactly one attempt spends the grant" holds even across gateway restarts.
 *
 * Rules for approvers (issue #4): an approver must be in an approver group of the approval; every
 * requirement (one per review rule) needs `minApprovals` distinct eligible approvers; nobody
 * approves their own request, also not through another identity of theirs (same issuer +
 * subject, same username, or listed together in `approvals.sameAs`); one deny is final; with
 * `requireReason`, approvers cannot decide before the requester gave a reason.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { redactQuery } from '../audit/redact-secrets.ts';
import type { AuditBegin, AuditRecorder } from '../audit/types.ts';
import { SluiceError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { compileGlob } from '../policy/glob.ts';
import type { ApprovalStore } from '../store/approval-store.ts';
import { heldBodyText } from './held-body.ts';
import type { Masking } from '../masking/create-masking.ts';
import { requestHash, sha256Hex } from './request-hash.ts';
import type {
  Approval,
  ApprovalEvent,
  ApprovalListFilter,
  ApprovalPerson,
  ApprovalRequirement,
  ApprovalService,
  HoldInput,
  HoldResult,
  OpenedHold,
} from './types.ts';

/** A role people may ask for (from the policy set's `roles`). */
export interface ApprovalRole {
  name: string;
  description?: string;
  maxDurationMs: number;
  review: { approvers?: string[]; minApprovals: number; timeoutMs?: number; requireReason?: boolean };
  requestable(p: Principal): boolean;
}

export interface ApprovalServiceOptions {
  store: ApprovalStore;
  recorder: AuditRecorder;
  log: Logger;
  now?: () => Date;
  defaultApprovers: string[];
  defaultTimeoutMs: number;
  maxHeld: number;
  sameAs?: { person: string; identities: string[] }[];
  roles?: () => ReadonlyMap<string, ApprovalRole>;
  /** The gateway's masking: held bodies shown to approvers go through it (held-body.ts). */
  masking?: Masking;
}

export interface ApprovalServiceImpl extends ApprovalService {
  /** Expire everything due by `now()` (timers call it; tests with a frozen clock call it by hand). */
  sweep(): Promise<void>;
  /** Number of attempts waiting right now. */
  heldCount(): number;
}

const REASON_MAX = 2000;

/**
 * How long a denial also answers an identical new attempt. kubectl ≥ 1.30 retries a refused exec
 * over its other transport at once; without this the approver would be asked twice.
 */
const DENIAL_ECHO_MS = 60_000;

interface Waiter {
  requestId: string;
  resolve: (r: HoldResult) => void;
  /** The store failed while spending for this attempt. */
  reject: (e: unknown) => void;
}

export async function createApprovalService(opts: ApprovalServiceOptions): Promise<ApprovalServiceImpl> {
  const { store, recorder, log } = opts;
  const now = opts.now ?? (() => new Date());
  const waiters = new Map<string, Waiter[]>();
  const timers = new Map<string, NodeJS.Timeout>();
  const listeners = new Set<(e: ApprovalEvent) => void>();
  /** Per request hash: the open-or-join in progress, so identical attempts at the same time join one approval. */
  const opening = new Map<string, Promise<unknown>>();
  let grants: Approval[] = [];
  let closed = false;
  /** hash → a denial, answered to identical attempts for DENIAL_ECHO_MS. */
  const recentDenials = new Map<string, { approval: Approval; until: number }>();

  // ---------------------------------------------------------------- identities

  const sameAs = new Map<string, string>();
  for (const g of opts.sameAs ?? []) {
    sameAs.set(g.person, g.person);
    for (const i of g.identities) sameAs.set(i, g.person);
  }
  const personKeys = (p: { issuer: string; subject: string; username: string }): Set<string> => {
    const keys = new Set([`sub:${p.issuer}\u0000${p.subject}`, `user:${p.username}`]);
    const person = sameAs.get(p.username);
    if (person) keys.add(`person:${person}`);
    return keys;
  };
  const samePerson = (a: ApprovalPerson | Principal, b: ApprovalPerson | Principal): boolean => {
    const ka = personKeys(a);
    for (const k of personKeys(b)) if (ka.has(k)) return true;
    return false;
  };
  const toPerson = (p: Principal): ApprovalPerson => ({
    issuer: p.issuer,
    subject: p.subject,
    username: p.username,
    groups: [...p.groups],
    ...(p.kind ? { kind: p.kind } : {}),
  });
  const inGroups = (p: Principal | ApprovalPerson, patterns: string[]): boolean =>
    patterns.some((pat) => {
      const g = compileGlob(pat);
      return p.groups.some((x) => g.test(x));
    });
  const eligibleFor = (a: Approval, p: Principal | ApprovalPerson): boolean => a.requirements.some((r) => inGroups(p, r.approvers));

  // ---------------------------------------------------------------- events

  const emit = (type: string, approval: Approval, actor?: Principal, detail: Record<string, unknown> = {}): void => {
    const at = now();
    const entry: AuditBegin = {
      id: randomUUID(),
      time: at,
      code: type as AuditBegin['code'],
      principal: actor ? { issuer: actor.issuer, subject: actor.subject, username: actor.username, groups: [...actor.groups], ...(actor.kind ? { kind: actor.kind } : {}) } : null,
      connection: approval.connection,
      method: approval.request?.method ?? '',
      path: approval.request?.path ?? '',
      query: approval.request?.query ?? '',
      sourceIp: '',
      ...(approval.request ? { attributes: approval.request.attributes } : {}),
      approvalId: approval.id,
      detail: { kind: approval.kind, state: approval.state, requester: approval.requester.username, ...(approval.grant ? { role: approval.grant.role } : {}), ...detail },
    };
    try {
      recorder
        .begin(entry)
        .commit()
        .catch((e: unknown) => log.error({ approvalId: approval.id, event: type, err: (e as Error).message }, 'could not record an approval event'));
    } catch (e) {
      log.error({ approvalId: approval.id, event: type, err: (e as Error).message }, 'could not record an approval event');
    }
    const ev: ApprovalEvent = { type, approval, ...(actor ? { actor: toPerson(actor) } : {}), at };
    for (const l of listeners) {
      try {
        l(ev);
      } catch (e) {
        log.error({ err: (e as Error).message }, 'approval event listener failed');
      }
    }
  };

  // ---------------------------------------------------------------- timers and grants

  const refreshGrants = async (): Promise<void> => {
    grants = await store.list({ kind: 'grant', states: ['approved'] });
  };

  const schedule = (a: Approval): void => {
    clearTimeout(timers.get(a.id));
    timers.delete(a.id);
    if (closed || (a.state !== 'pending' && a.state !== 'approved')) return;
    // setTimeout holds at most ~24.8 days; a later expiry is re-armed when that fires.
    const ms = Math.min(Math.max(0, a.expiresAt.getTime() - now().getTime()), 2 ** 31 - 1);
    const t = setTimeout(() => void expire(a.id).catch((e: unknown) => log.error({ approvalId: a.id, err: (e as Error).message }, 'approval expiry failed')), ms);
    t.unref();
    timers.set(a.id, t);
  };

  const settle = (a: Approval): void => {
    const ws = waiters.get(a.id);
    if (!ws?.length) return;
    if (a.state === 'approved') {
      // One attempt spends the grant; the store decides which (it may have been spent elsewhere).
      const [first, ...rest] = ws;
      waiters.set(a.id, rest);
      void spend(a.id, first!.requestId).then(
        (r) => {
          first!.resolve(r);
          if (r.outcome === 'granted') settleAll(a.id, { outcome: 'conflict', approval: r.approval });
          else if (waiters.get(a.id)?.length) settle(r.approval);
        },
        (e: unknown) => {
          // The store failed: this attempt cannot know whether it may run; the next one tries again.
          log.error({ approvalId: a.id, err: (e as Error).message }, 'could not spend an approval');
          first!.reject(e);
          if (waiters.get(a.id)?.length) settle(a);
        },
      );
      return;
    }
    if (a.state === 'denied' || a.state === 'expired' || a.state === 'revoked') settleAll(a.id, { outcome: a.state === 'denied' ? 'denied' : 'expired', approval: a });
    else if (a.state === 'spent') settleAll(a.id, { outcome: 'conflict', approval: a });
  };
  const settleAll = (id: string, r: HoldResult): void => {
    const ws = waiters.get(id) ?? [];
    waiters.delete(id);
    for (const w of ws) w.resolve(r);
  };

  async function spend(id: string, requestId: string): Promise<HoldResult> {
    let reason: 'expired' | 'conflict' | 'denied' = 'conflict';
    const u = await store.update(id, (a) => {
      if (a.state !== 'approved') {
        reason = a.state === 'denied' ? 'denied' : a.state === 'expired' ? 'expired' : 'conflict';
        return undefined;
      }
      if (a.expiresAt <= now()) {
        reason = 'expired';
        return undefined;
      }
      return { ...a, state: 'spent', spentAt: now(), spentBy: requestId };
    });
    if (!u) throw new SluiceError('APPROVAL_NOT_FOUND', `approval ${id} is gone`);
    if (!u.changed) return { outcome: reason, approval: u.approval };
    clearTimeout(timers.get(id));
    timers.delete(id);
    emit('approval.spent', u.approval, undefined, { requestId });
    return { outcome: 'granted', approval: u.approval };
  }

  async function expire(id: string): Promise<void> {
    const t = now();
    const u = await store.update(id, (a) =>
      (a.state === 'pending' || a.state === 'approved') && a.expiresAt <= t ? { ...a, state: 'expired', decidedAt: t } : undefined,
    );
    if (!u) return;
    if (!u.changed) {
      schedule(u.approval); // not due yet (timer capped, or clock skew): re-arm
      return;
    }
    clearTimeout(timers.get(id)); // expired by sweep(): its timer must not fire later
    timers.delete(id);
    if (u.approval.kind === 'grant') await refreshGrants();
    emit('approval.expired', u.approval);
    settle(u.approval);
  }

  // Re-arm the timers of what was open when the gateway stopped, and load the active grants.
  for (const a of await store.list({ states: ['pending', 'approved'] })) schedule(a);
  await refreshGrants();

  // ---------------------------------------------------------------- checks

  const notFound = (id: string): SluiceError => new SluiceError('APPROVAL_NOT_FOUND', `no approval ${id} (or you may not see it)`);
  const checkReason = (reason: string | undefined, required: boolean): string | undefined => {
    const r = reason?.trim();
    if (!r) {
      if (required) throw new SluiceError('APPROVAL_INVALID', 'a reason is required');
      return undefined;
    }
    if (r.length > REASON_MAX) throw new SluiceError('APPROVAL_INVALID', `a reason is at most ${REASON_MAX} characters`);
    return r;
  };
  /** May `p` vote on `a` now? An approve also needs the requester's reason when the rule asks for one; a deny never waits. */
  const checkDecider = (a: Approval, p: Principal, vote: 'approve' | 'deny' = 'approve'): void => {
    if (a.state !== 'pending') throw new SluiceError('APPROVAL_CLOSED', `approval ${a.id} is ${a.state} already`);
    if (samePerson(a.requester, p)) throw new SluiceError('APPROVAL_FORBIDDEN', `${p.username} cannot decide on their own request (approval ${a.id})`);
    if (!eligibleFor(a, p)) {
      const groups = [...new Set(a.requirements.flatMap((r) => r.approvers))].join(', ');
      throw new SluiceError('APPROVAL_FORBIDDEN', `${p.username} is not an approver of approval ${a.id} (approver groups: ${groups})`);
    }
    if (a.votes.some((v) => samePerson(v.approver, p))) throw new SluiceError('APPROVAL_CLOSED', `${p.username} has voted on approval ${a.id} already`);
    if (vote === 'approve' && a.requireReason && !a.reason) throw new SluiceError('APPROVAL_INVALID', `approval ${a.id} waits for the requester's reason (sluice approvals reason ${a.id} "…")`);
    if (a.expiresAt <= now()) throw new SluiceError('APPROVAL_CLOSED', `approval ${a.id} has expired`);
  };
  /** Every requirement has its distinct eligible approvers. */
  const satisfied = (a: Approval): boolean =>
    a.requirements.every((r) => {
      const voters = a.votes.filter((v) => v.vote === 'approve' && inGroups(v.approver, r.approvers));
      const distinct: ApprovalPerson[] = [];
      for (const v of voters) if (!distinct.some((d) => samePerson(d, v.approver))) distinct.push(v.approver);
      return distinct.length >= r.minApprovals;
    });
  const visibleTo = (a: Approval, viewer: Principal): boolean => samePerson(a.requester, viewer) || eligibleFor(a, viewer);

  const requirementsOf = (reqs: { ruleId: string; approvers?: string[]; minApprovals: number }[]): ApprovalRequirement[] =>
    reqs.map((r) => ({ ruleId: r.ruleId, approvers: r.approvers?.length ? [...r.approvers] : [...opts.defaultApprovers], minApprovals: r.minApprovals }));

  // ---------------------------------------------------------------- the service

  async function openOrJoin(input: HoldInput, hash: string): Promise<OpenedHold> {
    const p = input.principal;
    const t = now();
    const denied = recentDenials.get(hash);
    if (denied && denied.until > t.getTime()) {
      const approval = denied.approval;
      return { approval, joined: true, wait: () => Promise.resolve({ outcome: 'denied', approval }) };
    }
    // Identical attempts at the same time: each waits for the one before it to open or join,
    // so the second joins what the first opened instead of opening a second approval.
    const before = opening.get(hash);
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    opening.set(hash, mine);
    if (before) await before;
    let approval: Approval | undefined;
    let joined: boolean;
    try {
      const open = (await store.findOpen(hash)).filter((a) => a.expiresAt > t);
      approval = open[0];
      joined = approval !== undefined;
      if (!approval) {
        const timeouts = input.requirements.map((r) => r.timeoutMs ?? opts.defaultTimeoutMs);
        const body = heldBodyText(input.body, input.contentType, input.attributes.apiGroup === '' && input.attributes.resource === 'secrets', opts.masking);
        approval = {
          id: randomUUID(),
          kind: 'request',
          state: 'pending',
          createdAt: t,
          expiresAt: new Date(t.getTime() + Math.min(...timeouts, Number.MAX_SAFE_INTEGER)),
          requester: toPerson(p),
          connection: input.connection,
          hash,
          request: {
            method: input.method,
            path: input.path,
            query: redactQuery(input.query),
            attributes: input.attributes,
            ...(body !== undefined ? { body } : {}),
            ...(input.contentType ? { contentType: input.contentType } : {}),
            bodySha256: input.body?.length ? sha256Hex(input.body) : '',
            firstRequestId: input.requestId,
          },
          rules: [...input.rules],
          message: input.message,
          requirements: requirementsOf(input.requirements),
          requireReason: input.requirements.some((r) => r.requireReason === true),
          votes: [],
        };
        await store.create(approval);
        schedule(approval);
        emit('approval.requested', approval, p, { requestId: input.requestId, awaitingReason: approval.requireReason });
      }
    } finally {
      done();
      if (opening.get(hash) === mine) opening.delete(hash);
    }
    const id = approval.id;
    const opened = approval;
    return {
      approval: opened,
      joined,
      async wait(signal: AbortSignal): Promise<HoldResult> {
        const current = (await store.get(id)) ?? opened;
        if (current.state === 'approved') return spend(id, input.requestId);
        if (current.state !== 'pending') return settledResult(current);
        return new Promise<HoldResult>((resolve, reject) => {
          const w: Waiter = {
            requestId: input.requestId,
            resolve: (r) => {
              signal.removeEventListener('abort', onAbort);
              resolve(r);
            },
            reject: (e) => {
              signal.removeEventListener('abort', onAbort);
              reject(e as Error);
            },
          };
          const onAbort = (): void => {
            const ws = waiters.get(id);
            if (ws) waiters.set(id, ws.filter((x) => x !== w));
            resolve({ outcome: 'aborted', approval: current });
          };
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          waiters.set(id, [...(waiters.get(id) ?? []), w]);
          // A decision made while `current` was read settled only the waiters it saw: look again.
          void store.get(id).then(
            (a) => {
              if (a && a.state !== 'pending' && waiters.get(id)?.includes(w)) settle(a);
            },
            () => undefined, // store down: the expiry timer (or the next decision) settles this waiter
          );
        });
      },
    };
  }

  const service: ApprovalServiceImpl = {
    async hold(input: HoldInput): Promise<OpenedHold> {
      if (closed) throw new SluiceError('STORE_UNAVAILABLE', 'the approval service is closed');
      if (service.heldCount() >= opts.maxHeld) {
        throw new SluiceError('APPROVAL_REQUIRED', `too many requests are held for approval (${opts.maxHeld}); try again later`, { maxHeld: opts.maxHeld });
      }
      const p = input.principal;
      const hash = requestHash({ issuer: p.issuer, subject: p.subject, connection: input.connection, method: input.method, path: input.path, query: input.query, ...(input.body ? { body: input.body } : {}), ...(input.body?.length && input.contentType ? { contentType: input.contentType } : {}) });
      return openOrJoin(input, hash);
    },

    async approve(id, approver, reason) {
      const why = checkReason(reason, false);
      let became = false;
      const u = await store.update(id, (a) => {
        checkDecider(a, approver);
        const next: Approval = { ...a, votes: [...a.votes, { approver: toPerson(approver), vote: 'approve', ...(why ? { reason: why } : {}), at: now() }] };
        if (!satisfied(next)) return next;
        became = true;
        const t = now();
        if (next.kind === 'grant') {
          const until = new Date(t.getTime() + next.grant!.durationMs);
          return { ...next, state: 'approved', decidedAt: t, expiresAt: until, grant: { ...next.grant!, activeUntil: until } };
        }
        // The requester has the default timeout from now to run the approved request once.
        return { ...next, state: 'approved', decidedAt: t, expiresAt: new Date(Math.max(next.expiresAt.getTime(), t.getTime() + opts.defaultTimeoutMs)) };
      });
      if (!u) throw notFound(id);
      emit('approval.vote', u.approval, approver, { vote: 'approve', ...(why ? { reason: why } : {}) });
      if (became) {
        if (u.approval.kind === 'grant') await refreshGrants();
        schedule(u.approval);
        emit('approval.approved', u.approval, approver);
        settle(u.approval);
      }
      return u.approval;
    },

    async deny(id, approver, reason) {
      const why = checkReason(reason, true)!;
      const u = await store.update(id, (a) => {
        checkDecider(a, approver, 'deny');
        const t = now();
        return { ...a, state: 'denied', decidedAt: t, votes: [...a.votes, { approver: toPerson(approver), vote: 'deny', reason: why, at: t }] };
      });
      if (!u) throw notFound(id);
      clearTimeout(timers.get(id));
      timers.delete(id);
      emit('approval.vote', u.approval, approver, { vote: 'deny', reason: why });
      emit('approval.denied', u.approval, approver, { reason: why });
      const until = now().getTime() + DENIAL_ECHO_MS;
      for (const [h, d] of recentDenials) if (d.until <= now().getTime()) recentDenials.delete(h);
      recentDenials.set(u.approval.hash, { approval: u.approval, until });
      settle(u.approval);
      return u.approval;
    },

    async setReason(id, requester, reason) {
      const why = checkReason(reason, true)!;
      const u = await store.update(id, (a) => {
        if (!samePerson(a.requester, requester) && !eligibleFor(a, requester)) throw notFound(id);
        if (!samePerson(a.requester, requester)) throw new SluiceError('APPROVAL_FORBIDDEN', `only ${a.requester.username} can give the reason of approval ${id}`);
        if (a.state !== 'pending') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is ${a.state} already`);
        return { ...a, reason: why };
      });
      if (!u) throw notFound(id);
      emit('approval.reason', u.approval, requester, { reason: why });
      return u.approval;
    },

    async requestAccess(requester, roleName, durationMs, reason) {
      const why = checkReason(reason, true)!;
      const role = opts.roles?.().get(roleName);
      if (!role) throw new SluiceError('APPROVAL_INVALID', `no role ${JSON.stringify(roleName)}; sluice access roles lists them`);
      if (!role.requestable(requester)) throw new SluiceError('APPROVAL_FORBIDDEN', `${requester.username} may not ask for role ${roleName}`);
      if (!Number.isFinite(durationMs) || durationMs <= 0) throw new SluiceError('APPROVAL_INVALID', 'the duration must be positive');
      if (durationMs > role.maxDurationMs) {
        throw new SluiceError('APPROVAL_INVALID', `role ${roleName} is granted for at most ${Math.round(role.maxDurationMs / 60_000)} minutes`);
      }
      const t = now();
      const id = randomUUID();
      const approval: Approval = {
        id,
        kind: 'grant',
        state: 'pending',
        createdAt: t,
        expiresAt: new Date(t.getTime() + (role.review.timeoutMs ?? opts.defaultTimeoutMs)),
        requester: toPerson(requester),
        connection: '',
        hash: `grant:${roleName}:${requester.issuer}:${requester.subject}:${id}`,
        grant: { role: roleName, durationMs },
        rules: [`role:${roleName}`],
        message: role.description ?? `role ${roleName}`,
        requirements: requirementsOf([{ ruleId: `role:${roleName}`, ...(role.review.approvers ? { approvers: role.review.approvers } : {}), minApprovals: role.review.minApprovals }]),
        requireReason: false,
        reason: why,
        votes: [],
      };
      await store.create(approval);
      schedule(approval);
      emit('approval.requested', approval, requester, { role: roleName, durationMs });
      return approval;
    },

    async revoke(id, by, reason) {
      const why = checkReason(reason, false);
      const u = await store.update(id, (a) => {
        if (!visibleTo(a, by)) throw notFound(id);
        if (a.kind !== 'grant') throw new SluiceError('APPROVAL_INVALID', `approval ${id} is a held request, not a grant: deny it instead`);
        if (a.state !== 'approved' && a.state !== 'pending') throw new SluiceError('APPROVAL_CLOSED', `approval ${id} is ${a.state} already`);
        return { ...a, state: 'revoked', decidedAt: now(), revokedBy: toPerson(by), ...(why ? { revokeReason: why } : {}) };
      });
      if (!u) throw notFound(id);
      clearTimeout(timers.get(id));
      timers.delete(id);
      await refreshGrants();
      emit('approval.revoked', u.approval, by, why ? { reason: why } : {});
      return u.approval;
    },

    async get(id, viewer) {
      const a = await store.get(id);
      if (!a || !visibleTo(a, viewer)) throw notFound(id);
      return a;
    },

    async list(viewer, f: ApprovalListFilter = {}) {
      const all = await store.list({
        ...(f.states ? { states: f.states } : {}),
        ...(f.kind ? { kind: f.kind } : {}),
        ...(f.requester ? { requester: f.requester } : {}),
        limit: 1000,
      });
      return all.filter((a) => visibleTo(a, viewer)).slice(0, f.limit ?? 100);
    },

    canDecide(a, viewer) {
      try {
        checkDecider(a, viewer);
        return true;
      } catch {
        return false;
      }
    },

    activeGrants() {
      const t = now();
      return grants.filter((g) => g.grant?.activeUntil && g.grant.activeUntil > t);
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async sweep() {
      const t = now();
      for (const a of await store.list({ states: ['pending', 'approved'] })) if (a.expiresAt <= t) await expire(a.id);
    },

    heldCount() {
      let n = 0;
      for (const ws of waiters.values()) n += ws.length;
      return n;
    },

    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const id of [...waiters.keys()]) {
        const a = await store.get(id).catch(() => undefined);
        if (a) settleAll(id, { outcome: 'aborted', approval: a });
      }
      listeners.clear();
    },
  };
  return service;
}

function settledResult(a: Approval): HoldResult {
  if (a.state === 'denied') return { outcome: 'denied', approval: a };
  if (a.state === 'spent') return { outcome: 'conflict', approval: a };
  return { outcome: 'expired', approval: a };
}
