// The approval service (src/approval/approval-service.ts) over the in-memory approval store, a
// memory audit store + recorder, a clock the tests move by hand (`sweep()` expires what is due),
// and a silent logger. Covers the lifecycle of held requests and access grants, the rules for
// approvers (issue #4, SECURITY.md "Approval"), the audit trail, and restarts.
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { stringify as toYaml } from 'yaml';
import { createApprovalService, type ApprovalRole, type ApprovalServiceImpl, type ApprovalServiceOptions } from '../../../src/approval/approval-service.ts';
import { HELD_BODY_MAX } from '../../../src/approval/held-body.ts';
import { sha256Hex } from '../../../src/approval/request-hash.ts';
import type { Approval, ApprovalEvent, HoldInput, HoldResult } from '../../../src/approval/types.ts';
import { createAuditRecorder } from '../../../src/audit/recorder.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import type { Principal } from '../../../src/core/principal.ts';
import type { ApprovalStore } from '../../../src/store/approval-store.ts';
import { createMemoryApprovalStore } from '../../../src/store/memory/memory-approval-store.ts';
import { createMemoryAuditStore, type MemoryAuditStore } from '../../../src/store/memory/memory-audit-store.ts';
import { openSqliteApprovalStore } from '../../../src/store/sqlite/open-sqlite-approval-store.ts';
import { openSqliteAuditStore } from '../../../src/store/sqlite/open-sqlite-audit-store.ts';

// ---- fixtures -------------------------------------------------------------------------------

const ISSUER = 'https://idp.example';
const T0 = Date.parse('2026-01-10T12:00:00.000Z');
const MIN = 60_000;
const TIMEOUT = 10 * MIN;

const principal = (username: string, groups: string[], subject = `sub-${username}`): Principal => ({ issuer: ISSUER, subject, username, groups, kind: 'person' });
const alice = principal('alice', ['sre', 'approvers']);
const bob = principal('bob', ['developers']);
const carol = principal('carol', ['approvers']);
const dave = principal('dave', ['approvers']);
const eve = principal('eve', ['finance']);

const WEB1 = '/api/v1/namespaces/prod/pods/web-1';

function attributes(path: string, verb = 'delete'): HoldInput['attributes'] {
  const [, , , , namespace = '', resource = '', name = ''] = path.split('/');
  return { connection: 'demo', verb, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace, name, isResourceRequest: true, path };
}

/** A held `kubectl delete pod web-1 -n prod` by alice, with one review rule for `approvers`. */
function holdInput(over: Partial<HoldInput> = {}): HoldInput {
  const path = over.path ?? WEB1;
  return {
    principal: alice,
    connection: 'demo',
    method: 'DELETE',
    path,
    query: 'gracePeriodSeconds=0&dryRun=All',
    attributes: attributes(path),
    requirements: [{ ruleId: 'prod-deletes', approvers: ['approvers'], minApprovals: 1 }],
    rules: ['prod-deletes'],
    message: 'Deleting in prod needs a second pair of eyes',
    requestId: randomUUID(),
    ...over,
  };
}

const prodWrite: ApprovalRole = {
  name: 'prod-write',
  description: 'write access to prod',
  maxDurationMs: 3_600_000,
  review: { approvers: ['approvers'], minApprovals: 1 },
  requestable: (p) => p.groups.includes('developers'),
};

interface World {
  svc: ApprovalServiceImpl;
  store: ApprovalStore;
  audit: MemoryAuditStore;
  /** The service's clock. */
  now(): Date;
  advance(ms: number): void;
  /** Every event the service emitted, in order. */
  events: ApprovalEvent[];
  /** Audit event codes recorded for an approval, oldest first. */
  auditCodes(approvalId: string): Promise<string[]>;
  /** Another service instance over the same store (a restarted gateway). */
  restart(over?: Partial<ApprovalServiceOptions>): Promise<ApprovalServiceImpl>;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function world(over: Partial<ApprovalServiceOptions> & { realClock?: boolean } = {}): Promise<World> {
  const { realClock, ...opts } = over;
  let current = new Date(T0);
  const now = realClock ? () => new Date() : () => current;
  const store = opts.store ?? createMemoryApprovalStore();
  const audit = createMemoryAuditStore();
  const recorder = createAuditRecorder(audit, { closeStore: false });
  const make = async (o: Partial<ApprovalServiceOptions> = {}): Promise<ApprovalServiceImpl> => {
    const svc = await createApprovalService({
      store,
      recorder,
      log: pino({ level: 'silent' }),
      now,
      defaultApprovers: ['approvers'],
      defaultTimeoutMs: TIMEOUT,
      maxHeld: 100,
      roles: () => new Map([[prodWrite.name, prodWrite]]),
      ...opts,
      ...o,
    });
    closers.push(() => svc.close());
    return svc;
  };
  const svc = await make();
  const events: ApprovalEvent[] = [];
  svc.subscribe((e) => events.push(e));
  return {
    svc,
    store,
    audit,
    now,
    advance(ms) {
      current = new Date(current.getTime() + ms);
    },
    events,
    async auditCodes(approvalId) {
      await flush();
      const page = await audit.list({ approvalId, limit: 1000 });
      return page.records.map((r) => r.code).reverse();
    },
    restart: make,
  };
}

/** Let fire-and-forget work (audit commits, settling waiters) run. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** The result, or 'pending' when it has not settled after a few turns of the event loop. */
async function settled<T>(p: Promise<T>): Promise<T | 'pending'> {
  let out: T | 'pending' = 'pending';
  void p.then((v) => (out = v));
  await flush();
  return out;
}

/** The result, or 'hung' when it has not settled within `ms` (a generous bound, not a timing assertion). */
async function within<T>(p: Promise<T>, ms = 3000): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const never = (): AbortSignal => new AbortController().signal;

// ---- holding and joining --------------------------------------------------------------------

describe('hold', () => {
  test('opens a pending approval, durable in the store, with an approval.requested audit event', async () => {
    const w = await world();
    const input = holdInput();
    const h = await w.svc.hold(input);
    assert.equal(h.joined, false);
    const a = h.approval;
    assert.equal(a.kind, 'request');
    assert.equal(a.state, 'pending');
    assert.deepEqual(a.requester, { issuer: ISSUER, subject: 'sub-alice', username: 'alice', groups: ['sre', 'approvers'], kind: 'person' });
    assert.equal(a.connection, 'demo');
    assert.equal(a.createdAt.getTime(), T0);
    assert.equal(a.expiresAt.getTime(), T0 + TIMEOUT, 'the default timeout applies');
    assert.deepEqual(a.requirements, [{ ruleId: 'prod-deletes', approvers: ['approvers'], minApprovals: 1 }]);
    assert.deepEqual(a.rules, ['prod-deletes']);
    assert.equal(a.message, input.message);
    assert.equal(a.requireReason, false);
    assert.deepEqual(a.votes, []);
    assert.equal(a.request!.method, 'DELETE');
    assert.equal(a.request!.path, WEB1);
    assert.equal(a.request!.query, 'gracePeriodSeconds=0&dryRun=All');
    assert.equal(a.request!.firstRequestId, input.requestId);
    assert.equal(a.request!.bodySha256, '');
    assert.equal(a.request!.body, undefined);
    assert.deepEqual(a.request!.attributes, input.attributes);
    assert.deepEqual(await w.store.get(a.id), a, 'durable when hold resolves');
    assert.deepEqual(await w.auditCodes(a.id), ['approval.requested']);
    const [rec] = (await w.audit.list({ approvalId: a.id })).records;
    assert.equal(rec!.principal!.username, 'alice');
    assert.equal(rec!.path, WEB1);
    assert.equal(rec!.detail!.requestId, input.requestId);
    assert.deepEqual(
      w.events.map((e) => [e.type, e.actor?.username]),
      [['approval.requested', 'alice']],
    );
  });

  test('the shortest timeout of the deciding rules applies; default approvers fill in', async () => {
    const w = await world();
    const h = await w.svc.hold(
      holdInput({
        requirements: [
          { ruleId: 'a', approvers: [], minApprovals: 1, timeoutMs: 30 * MIN },
          { ruleId: 'b', approvers: ['sre'], minApprovals: 1, timeoutMs: 5 * MIN },
        ],
      }),
    );
    assert.equal(h.approval.expiresAt.getTime(), T0 + 5 * MIN);
    assert.deepEqual(h.approval.requirements[0]!.approvers, ['approvers']);
  });

  test('an identical attempt joins the open approval (query order, method case and access_token do not matter)', async () => {
    const w = await world();
    const body = Buffer.from('{"kind":"DeleteOptions","propagationPolicy":"Foreground"}');
    const first = await w.svc.hold(holdInput({ body, contentType: 'application/json' }));
    w.advance(MIN);
    for (const over of [
      { query: 'dryRun=All&gracePeriodSeconds=0' },
      { query: 'gracePeriodSeconds=0&access_token=abc&dryRun=All' },
      { method: 'delete' },
      { principal: { ...alice, groups: ['sre'] } }, // groups are not identity
    ]) {
      const again = await w.svc.hold(holdInput({ body: Buffer.from(body), contentType: 'application/json', ...over }));
      assert.equal(again.joined, true, JSON.stringify(over));
      assert.equal(again.approval.id, first.approval.id);
    }
    assert.equal((await w.store.list()).length, 1);
    assert.deepEqual(await w.auditCodes(first.approval.id), ['approval.requested'], 'joining opens nothing new');
  });

  test('two identical attempts arriving at the same time open one approval', async () => {
    const w = await world();
    const [h1, h2] = await Promise.all([w.svc.hold(holdInput()), w.svc.hold(holdInput())]);
    assert.equal(h1.approval.id, h2.approval.id);
    assert.deepEqual([h1.joined, h2.joined].sort(), [false, true]);
    assert.equal((await w.store.list()).length, 1);
  });

  test('another name, namespace, body, verb, person or connection is another approval; approving one never serves another', async () => {
    const w = await world();
    const web1 = await w.svc.hold(holdInput());
    const others = [
      holdInput({ path: '/api/v1/namespaces/prod/pods/db-0' }),
      holdInput({ path: '/api/v1/namespaces/staging/pods/web-1' }),
      holdInput({ body: Buffer.from('{"propagationPolicy":"Orphan"}'), contentType: 'application/json' }),
      holdInput({ body: Buffer.from('{"propagationPolicy":"Background"}'), contentType: 'application/json' }),
      holdInput({ query: 'gracePeriodSeconds=30&dryRun=All' }),
      holdInput({ method: 'GET' }),
      holdInput({ principal: bob }),
      holdInput({ principal: { ...alice, issuer: 'https://other-idp.example' } }),
      holdInput({ connection: 'prod-eu' }),
    ];
    const ids = new Set([web1.approval.id]);
    for (const input of others) {
      const h = await w.svc.hold(input);
      assert.equal(h.joined, false, `${input.method} ${input.path}?${input.query} by ${input.principal.username}@${input.connection}`);
      ids.add(h.approval.id);
    }
    assert.equal(ids.size, others.length + 1);

    await w.svc.approve(web1.approval.id, carol);
    // pods/db-0 is still waiting for its own decision: an attempt of it is not granted.
    const db0 = await w.svc.hold(holdInput({ path: '/api/v1/namespaces/prod/pods/db-0' }));
    assert.equal(db0.joined, true);
    assert.equal(db0.approval.state, 'pending');
    const ac = new AbortController();
    const waiting = db0.wait(ac.signal);
    assert.equal(await settled(waiting), 'pending');
    ac.abort();
    assert.equal((await waiting).outcome, 'aborted');
    // Another body does not ride on web-1's approval either.
    const orphan = await w.svc.hold(holdInput({ body: Buffer.from('{"propagationPolicy":"Orphan"}'), contentType: 'application/json' }));
    assert.equal(orphan.approval.state, 'pending');
  });

  test('holds are refused with APPROVAL_REQUIRED when maxHeld attempts wait already', async () => {
    const w = await world({ maxHeld: 1 });
    const h = await w.svc.hold(holdInput());
    const ac = new AbortController();
    const waiting = h.wait(ac.signal);
    await flush();
    assert.equal(w.svc.heldCount(), 1);
    await rejectsCode(w.svc.hold(holdInput({ path: '/api/v1/namespaces/prod/pods/db-0' })), 'APPROVAL_REQUIRED', /too many/);
    await rejectsCode(w.svc.hold(holdInput()), 'APPROVAL_REQUIRED');
    ac.abort();
    assert.equal((await waiting).outcome, 'aborted');
    assert.equal(w.svc.heldCount(), 0);
    const again = await w.svc.hold(holdInput());
    assert.equal(again.approval.id, h.approval.id, 'room again once the waiter left');
  });

  test('a store that cannot take the approval rejects the hold with STORE_UNAVAILABLE', async () => {
    const store = createMemoryApprovalStore();
    const w = await world({ store });
    store.failWith = 'disk full';
    await rejectsCode(w.svc.hold(holdInput()), 'STORE_UNAVAILABLE');
    store.failWith = undefined;
    assert.deepEqual(await store.list(), []);
  });
});

// ---- waiting, granting, spending ------------------------------------------------------------

describe('wait and approve', () => {
  test('carol approves: the waiting attempt is granted once and spends the approval', async () => {
    const w = await world();
    const input = holdInput();
    const h = await w.svc.hold(input);
    const waiting = h.wait(never());
    assert.equal(await settled(waiting), 'pending');
    assert.equal(w.svc.heldCount(), 1);
    const after = await w.svc.approve(h.approval.id, carol, 'checked with the team');
    assert.equal(after.state, 'approved');
    assert.equal(after.votes.length, 1);
    assert.equal(after.votes[0]!.approver.username, 'carol');
    assert.equal(after.votes[0]!.reason, 'checked with the team');
    assert.equal(after.decidedAt!.getTime(), T0);
    const r = await within(waiting);
    assert.notEqual(r, 'hung');
    const res = r as HoldResult;
    assert.equal(res.outcome, 'granted');
    assert.equal(res.approval.state, 'spent');
    assert.equal(res.approval.spentBy, input.requestId);
    const stored = (await w.store.get(h.approval.id))!;
    assert.equal(stored.state, 'spent');
    assert.equal(stored.spentBy, input.requestId);
    assert.equal(stored.spentAt!.getTime(), T0);
    assert.equal(w.svc.heldCount(), 0);
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.vote', 'approval.approved', 'approval.spent']);
    const spent = (await w.audit.list({ approvalId: h.approval.id, code: 'approval.spent' })).records;
    assert.equal(spent.length, 1, 'spent exactly once');
    assert.equal(spent[0]!.detail!.requestId, input.requestId);
    const vote = (await w.audit.list({ approvalId: h.approval.id, code: 'approval.vote' })).records[0]!;
    assert.equal(vote.principal!.username, 'carol');
    assert.equal(vote.detail!.vote, 'approve');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['approval.requested', 'approval.vote', 'approval.approved', 'approval.spent'],
    );
    await rejectsCode(w.svc.approve(h.approval.id, dave), 'APPROVAL_CLOSED');
  });

  test('two attempts wait on one approval: one is granted, the other gets conflict; the next identical attempt opens a new approval', async () => {
    const w = await world();
    const i1 = holdInput();
    const i2 = holdInput();
    const h1 = await w.svc.hold(i1);
    const h2 = await w.svc.hold(i2);
    assert.equal(h2.joined, true);
    const [p1, p2] = [h1.wait(never()), h2.wait(never())];
    await flush();
    assert.equal(w.svc.heldCount(), 2);
    await w.svc.approve(h1.approval.id, carol);
    const results = (await within(Promise.all([p1, p2]))) as HoldResult[];
    assert.notEqual(results, 'hung');
    assert.deepEqual(results.map((r) => r.outcome).sort(), ['conflict', 'granted']);
    const winner = results[0]!.outcome === 'granted' ? i1 : i2;
    for (const r of results) assert.equal(r.approval.spentBy, winner.requestId);
    assert.equal((await w.audit.list({ approvalId: h1.approval.id, code: 'approval.spent' })).records.length, 1);

    const next = await w.svc.hold(holdInput());
    assert.equal(next.joined, false, 'a spent approval is not open any more');
    assert.notEqual(next.approval.id, h1.approval.id);
    assert.equal(next.approval.state, 'pending');
  });

  test('a late attempt of a spent approval waits for a new decision instead of riding on the spent one', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    await w.svc.approve(h.approval.id, carol);
    assert.equal((await h.wait(never())).outcome, 'granted');
    // The OpenedHold of an attempt made before the approval was spent: waiting now is a conflict.
    assert.equal((await h.wait(never())).outcome, 'conflict');
  });

  test('a client that gives up leaves the approval pending; the retry joins and is granted', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const ac = new AbortController();
    const waiting = h.wait(ac.signal);
    await flush();
    ac.abort();
    const r = await waiting;
    assert.equal(r.outcome, 'aborted');
    assert.equal(w.svc.heldCount(), 0);
    assert.equal((await w.store.get(h.approval.id))!.state, 'pending');

    const retryInput = holdInput({ query: 'dryRun=All&gracePeriodSeconds=0' });
    const retry = await w.svc.hold(retryInput);
    assert.equal(retry.joined, true);
    assert.equal(retry.approval.id, h.approval.id);
    const p = retry.wait(never());
    await flush();
    await w.svc.approve(h.approval.id, carol);
    const got = (await within(p)) as HoldResult;
    assert.equal(got.outcome, 'granted');
    assert.equal(got.approval.spentBy, retryInput.requestId, 'the retry spent it, not the attempt that gave up');
  });

  test('an already aborted signal returns aborted at once', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const ac = new AbortController();
    ac.abort();
    assert.equal((await h.wait(ac.signal)).outcome, 'aborted');
    assert.equal(w.svc.heldCount(), 0);
  });

  test('approved while nobody waits: the next attempt spends it at once', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const a = await w.svc.approve(h.approval.id, carol);
    assert.equal(a.state, 'approved');
    assert.equal(a.expiresAt.getTime(), T0 + TIMEOUT, 'the requester has the default timeout from approval to run it');
    w.advance(2 * MIN);
    const retryInput = holdInput();
    const retry = await w.svc.hold(retryInput);
    assert.equal(retry.joined, true);
    assert.equal(retry.approval.state, 'approved');
    const r = await retry.wait(never());
    assert.equal(r.outcome, 'granted');
    assert.equal(r.approval.spentBy, retryInput.requestId);
  });

  test('an approval decided while an attempt was reading it still reaches that attempt', async () => {
    // A store whose reads take a moment (as a networked database would): the vote lands between
    // the waiter's read (still pending) and the waiter's registration.
    const inner = createMemoryApprovalStore();
    let slowGets = false;
    const store: ApprovalStore = {
      ...inner,
      create: (a) => inner.create(a),
      findOpen: (h) => inner.findOpen(h),
      list: (f) => inner.list(f),
      update: (id, c) => inner.update(id, c),
      close: () => inner.close(),
      async get(id) {
        const a = await inner.get(id);
        if (slowGets) await sleep(20);
        return a;
      },
    };
    const w = await world({ store });
    const h = await w.svc.hold(holdInput());
    slowGets = true;
    const p = h.wait(never());
    await sleep(1); // the waiter has read "pending" and is not registered yet
    await w.svc.approve(h.approval.id, carol);
    const r = await within(p);
    assert.notEqual(r, 'hung', 'the waiter missed the approval');
    assert.equal((r as HoldResult).outcome, 'granted');
  });

  test('a store failure while spending rejects the waiting attempt (it does not hang) and the approval stays approved', async () => {
    const inner = createMemoryApprovalStore();
    let failUpdates = false;
    const store: ApprovalStore = {
      ...inner,
      create: (a) => inner.create(a),
      get: (id) => inner.get(id),
      findOpen: (h) => inner.findOpen(h),
      list: (f) => inner.list(f),
      close: () => inner.close(),
      async update(id, change) {
        // Let the vote through, then fail the spend that follows it.
        if (failUpdates) {
          inner.failWith = 'connection reset';
          failUpdates = false;
          try {
            return await inner.update(id, change);
          } finally {
            inner.failWith = undefined;
          }
        }
        const u = await inner.update(id, change);
        if (u?.approval.state === 'approved') failUpdates = true;
        return u;
      },
    };
    const w = await world({ store });
    const h = await w.svc.hold(holdInput());
    const p = h.wait(never());
    await flush();
    await w.svc.approve(h.approval.id, carol);
    const r = await within(p.then((x) => x, (e: unknown) => e));
    assert.notEqual(r, 'hung');
    assert.ok(r instanceof SluiceError && r.code === 'STORE_UNAVAILABLE', `expected STORE_UNAVAILABLE, got ${String((r as HoldResult).outcome ?? r)}`);
    assert.equal(w.svc.heldCount(), 0);
    assert.equal((await inner.get(h.approval.id))!.state, 'approved');
    // The retry spends it.
    const retry = await w.svc.hold(holdInput());
    assert.equal((await retry.wait(never())).outcome, 'granted');
  });

  test('closing the service answers waiting attempts aborted and refuses new holds', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const p = h.wait(never());
    await flush();
    await w.svc.close();
    assert.equal((await within(p) as HoldResult).outcome, 'aborted');
    assert.equal((await w.store.get(h.approval.id))!.state, 'pending');
    await rejectsCode(w.svc.hold(holdInput()), 'STORE_UNAVAILABLE');
  });
});

// ---- denying --------------------------------------------------------------------------------

describe('deny', () => {
  test('with a reason: waiters are denied, the decision is final', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const [p1, p2] = [h.wait(never()), (await w.svc.hold(holdInput())).wait(never())];
    await flush();
    await rejectsCode(w.svc.deny(h.approval.id, carol, ''), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.deny(h.approval.id, carol, '   '), 'APPROVAL_INVALID');
    assert.equal((await w.store.get(h.approval.id))!.state, 'pending', 'a deny without a reason changes nothing');
    const d = await w.svc.deny(h.approval.id, carol, 'not during the freeze');
    assert.equal(d.state, 'denied');
    assert.deepEqual(
      d.votes.map((v) => [v.approver.username, v.vote, v.reason]),
      [['carol', 'deny', 'not during the freeze']],
    );
    const rs = (await within(Promise.all([p1, p2]))) as HoldResult[];
    assert.deepEqual(
      rs.map((r) => r.outcome),
      ['denied', 'denied'],
    );
    await rejectsCode(w.svc.approve(h.approval.id, dave), 'APPROVAL_CLOSED');
    await rejectsCode(w.svc.deny(h.approval.id, dave, 'me too'), 'APPROVAL_CLOSED');
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.vote', 'approval.denied']);
    const denied = (await w.audit.list({ approvalId: h.approval.id, code: 'approval.denied' })).records[0]!;
    assert.equal(denied.detail!.reason, 'not during the freeze');
    // An identical attempt right after the denial is answered with it (kubectl retries a refused
    // exec over its other transport at once); a minute later it asks anew.
    const echo = await w.svc.hold(holdInput());
    assert.equal(echo.approval.id, h.approval.id);
    assert.equal((await echo.wait(never())).outcome, 'denied');
    w.advance(60_000);
    const again = await w.svc.hold(holdInput());
    assert.equal(again.joined, false);
    assert.notEqual(again.approval.id, h.approval.id);
    assert.equal(again.approval.state, 'pending');
  });

  test('a deny by one of two needed approvers is final', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'r', approvers: ['approvers'], minApprovals: 2 }] }));
    await w.svc.approve(h.approval.id, carol);
    const d = await w.svc.deny(h.approval.id, dave, 'wrong pod');
    assert.equal(d.state, 'denied');
  });

  test('unknown ids are APPROVAL_NOT_FOUND', async () => {
    const w = await world();
    const id = randomUUID();
    await rejectsCode(w.svc.approve(id, carol), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.deny(id, carol, 'no'), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.setReason(id, alice, 'why'), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.revoke(id, alice), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.get(id, alice), 'APPROVAL_NOT_FOUND');
  });
});

// ---- who may approve ------------------------------------------------------------------------

describe('approvers', () => {
  test('nobody approves their own request', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    await rejectsCode(w.svc.approve(h.approval.id, alice), 'APPROVAL_FORBIDDEN', /own request/);
    await rejectsCode(w.svc.deny(h.approval.id, alice, 'changed my mind'), 'APPROVAL_FORBIDDEN');
    assert.equal(w.svc.canDecide(h.approval, alice), false);
    assert.deepEqual((await w.store.get(h.approval.id))!.votes, []);
  });

  test('nor through another identity listed in sameAs', async () => {
    const w = await world({ sameAs: [{ person: 'alice', identities: ['alice-bot'] }] });
    const aliceBot = principal('alice-bot', ['approvers'], 'sub-alice-bot');
    const h = await w.svc.hold(holdInput());
    await rejectsCode(w.svc.approve(h.approval.id, aliceBot), 'APPROVAL_FORBIDDEN');
    assert.equal(w.svc.canDecide(h.approval, aliceBot), false);
    // ... and the other way round: alice does not approve what her bot asked for.
    const byBot = await w.svc.hold(holdInput({ principal: aliceBot }));
    await rejectsCode(w.svc.approve(byBot.approval.id, alice), 'APPROVAL_FORBIDDEN');
    // Without sameAs, the bot is just another approver.
    const plain = await world();
    const h2 = await plain.svc.hold(holdInput());
    assert.equal((await plain.svc.approve(h2.approval.id, aliceBot)).state, 'approved');
  });

  test('nor as the same issuer and subject under another username', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const renamed = principal('alice.smith', ['approvers'], 'sub-alice');
    await rejectsCode(w.svc.approve(h.approval.id, renamed), 'APPROVAL_FORBIDDEN');
    // The same username at another issuer is treated as the same person too (refuses rather than risks).
    const elsewhere = { ...principal('alice', ['approvers'], 'other-sub'), issuer: 'https://other-idp.example' };
    await rejectsCode(w.svc.approve(h.approval.id, elsewhere), 'APPROVAL_FORBIDDEN');
  });

  test('someone outside the approver groups may not decide', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    await rejectsCode(w.svc.approve(h.approval.id, bob), 'APPROVAL_FORBIDDEN', /not an approver/);
    await rejectsCode(w.svc.deny(h.approval.id, bob, 'no'), 'APPROVAL_FORBIDDEN');
    assert.equal(w.svc.canDecide(h.approval, bob), false);
    assert.equal(w.svc.canDecide(h.approval, carol), true);
  });

  test('approver groups are globs', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ principal: bob, requirements: [{ ruleId: 'r', approvers: ['team-*-leads'], minApprovals: 1 }] }));
    const lead = principal('lena', ['team-db-leads']);
    assert.equal(w.svc.canDecide(h.approval, carol), false);
    assert.equal(w.svc.canDecide(h.approval, lead), true);
    assert.equal((await w.svc.approve(h.approval.id, lead)).state, 'approved');
  });

  test('minApprovals 2 needs two distinct approvers; the same approver twice is refused', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'two-eyes', approvers: ['approvers'], minApprovals: 2 }] }));
    const p = h.wait(never());
    const one = await w.svc.approve(h.approval.id, carol);
    assert.equal(one.state, 'pending', 'one approval is not enough');
    assert.equal(await settled(p), 'pending');
    await rejectsCode(w.svc.approve(h.approval.id, carol), 'APPROVAL_CLOSED', /voted/);
    await rejectsCode(w.svc.approve(h.approval.id, principal('carol.c', ['approvers'], 'sub-carol')), 'APPROVAL_CLOSED', /voted/);
    assert.equal(w.svc.canDecide((await w.store.get(h.approval.id))!, carol), false, 'carol has voted');
    assert.equal(w.svc.canDecide((await w.store.get(h.approval.id))!, dave), true);
    const two = await w.svc.approve(h.approval.id, dave);
    assert.equal(two.state, 'approved');
    assert.equal(((await within(p)) as HoldResult).outcome, 'granted');
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.vote', 'approval.vote', 'approval.approved', 'approval.spent']);
  });

  test('two requirements (rules with different approver groups): both must be met', async () => {
    const w = await world();
    const h = await w.svc.hold(
      holdInput({
        principal: bob,
        requirements: [
          { ruleId: 'prod-deletes', approvers: ['approvers'], minApprovals: 1 },
          { ruleId: 'sre-signoff', approvers: ['sre'], minApprovals: 1 },
        ],
        rules: ['prod-deletes', 'sre-signoff'],
      }),
    );
    const p = h.wait(never());
    const afterCarol = await w.svc.approve(h.approval.id, carol);
    assert.equal(afterCarol.state, 'pending', 'the sre requirement is not met');
    const afterDave = await w.svc.approve(h.approval.id, dave);
    assert.equal(afterDave.state, 'pending', 'more approvers of the first group do not meet the second');
    assert.equal(await settled(p), 'pending');
    const afterAlice = await w.svc.approve(h.approval.id, alice);
    assert.equal(afterAlice.state, 'approved');
    assert.equal(((await within(p)) as HoldResult).outcome, 'granted');
  });
});

// ---- the requester's reason -----------------------------------------------------------------

describe('requireReason', () => {
  test('approvers wait for the reason; only the requester gives it', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'why', approvers: ['approvers'], minApprovals: 1, requireReason: true }] }));
    assert.equal(h.approval.requireReason, true);
    assert.equal(h.approval.reason, undefined);
    const requested = (await w.audit.list({ approvalId: h.approval.id })).records[0]!;
    assert.equal(requested.detail!.awaitingReason, true);
    await rejectsCode(w.svc.approve(h.approval.id, carol), 'APPROVAL_INVALID', /reason/);
    assert.equal(w.svc.canDecide(h.approval, carol), false, 'nothing to approve before the reason');
    await rejectsCode(w.svc.setReason(h.approval.id, carol, 'because I say so'), 'APPROVAL_FORBIDDEN');
    await rejectsCode(w.svc.setReason(h.approval.id, bob, 'because'), 'APPROVAL_NOT_FOUND', undefined);
    await rejectsCode(w.svc.setReason(h.approval.id, alice, '  '), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.setReason(h.approval.id, alice, 'x'.repeat(2001)), 'APPROVAL_INVALID');
    assert.equal((await w.store.get(h.approval.id))!.reason, undefined);

    const withReason = await w.svc.setReason(h.approval.id, alice, '  web-1 is wedged, see INC-42  ');
    assert.equal(withReason.reason, 'web-1 is wedged, see INC-42');
    const replaced = await w.svc.setReason(h.approval.id, alice, 'web-1 is wedged (INC-42)');
    assert.equal(replaced.reason, 'web-1 is wedged (INC-42)');
    assert.equal(w.svc.canDecide(replaced, carol), true);
    const a = await w.svc.approve(h.approval.id, carol);
    assert.equal(a.state, 'approved');
    await rejectsCode(w.svc.setReason(h.approval.id, alice, 'too late'), 'APPROVAL_CLOSED');
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.reason', 'approval.reason', 'approval.vote', 'approval.approved']);
  });

  test('a deny does not wait for the reason', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'why', approvers: ['approvers'], minApprovals: 1, requireReason: true }] }));
    assert.equal((await w.svc.deny(h.approval.id, carol, 'no reason given, no delete')).state, 'denied');
  });
});

// ---- expiry ---------------------------------------------------------------------------------

describe('expiry', () => {
  test('sweep expires a pending approval once the clock passes expiresAt; waiters get expired', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const p = h.wait(never());
    w.advance(TIMEOUT - 1);
    await w.svc.sweep();
    assert.equal((await w.store.get(h.approval.id))!.state, 'pending', 'not due yet');
    assert.equal(await settled(p), 'pending');
    w.advance(1);
    await rejectsCode(w.svc.approve(h.approval.id, carol), 'APPROVAL_CLOSED', /expired/);
    assert.equal(w.svc.canDecide(h.approval, carol), false);
    await w.svc.sweep();
    const stored = (await w.store.get(h.approval.id))!;
    assert.equal(stored.state, 'expired');
    assert.equal(stored.decidedAt!.getTime(), T0 + TIMEOUT);
    const r = (await within(p)) as HoldResult;
    assert.equal(r.outcome, 'expired');
    assert.equal(w.svc.heldCount(), 0);
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.expired']);
    const ev = w.events.at(-1)!;
    assert.equal(ev.type, 'approval.expired');
    assert.equal(ev.actor, undefined, 'nobody caused an expiry');
    await rejectsCode(w.svc.approve(h.approval.id, carol), 'APPROVAL_CLOSED');
    await w.svc.sweep(); // nothing more to do
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.expired']);
    const again = await w.svc.hold(holdInput());
    assert.equal(again.joined, false, 'an expired approval is not joined');
  });

  test('an approval past its expiry is not joined even before the sweep', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    w.advance(TIMEOUT);
    const next = await w.svc.hold(holdInput());
    assert.equal(next.joined, false);
    assert.notEqual(next.approval.id, h.approval.id);
  });

  test('an approved request that is never run expires; a late attempt is not granted by it', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const a = await w.svc.approve(h.approval.id, carol);
    w.advance(a.expiresAt.getTime() - w.now().getTime());
    // An attempt made before the sweep may not spend an approval past its time.
    assert.equal((await h.wait(never())).outcome, 'expired');
    await w.svc.sweep();
    assert.equal((await w.store.get(h.approval.id))!.state, 'expired');
    const retry = await w.svc.hold(holdInput());
    assert.equal(retry.joined, false);
    assert.equal(retry.approval.state, 'pending');
  });

  test('the timer expires an approval by itself (real clock, short timeout)', async () => {
    const w = await world({ realClock: true });
    const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'quick', approvers: ['approvers'], minApprovals: 1, timeoutMs: 50 }] }));
    const p = h.wait(never());
    let state = h.approval.state;
    for (let i = 0; i < 200 && state === 'pending'; i++) {
      await sleep(25);
      state = (await w.store.get(h.approval.id))!.state;
    }
    assert.equal(state, 'expired');
    assert.equal(((await within(p)) as HoldResult).outcome, 'expired');
    assert.deepEqual(await w.auditCodes(h.approval.id), ['approval.requested', 'approval.expired']);
  });
});

// ---- restarts -------------------------------------------------------------------------------

describe('restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-approval-svc-'));
  closers.push(async () => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['memory', 'sqlite'] as const) {
    test(`pending approvals survive a restart; the identical retry is granted (${kind})`, async () => {
      let store: ApprovalStore;
      if (kind === 'sqlite') {
        const path = join(dir, `${randomUUID()}.db`);
        const audit = await openSqliteAuditStore({ path });
        store = openSqliteApprovalStore({ path });
        closers.push(() => audit.close());
        closers.push(() => store.close());
      } else store = createMemoryApprovalStore();
      const w = await world({ store });
      const h = await w.svc.hold(holdInput());
      const p = h.wait(never());
      await flush();
      await w.svc.close(); // the gateway stops: the held client is let go
      assert.equal(((await within(p)) as HoldResult).outcome, 'aborted');

      const svc2 = await w.restart();
      const seen = await svc2.get(h.approval.id, carol);
      assert.equal(seen.state, 'pending');
      assert.ok((await svc2.list(carol)).some((a) => a.id === h.approval.id));
      assert.equal((await svc2.approve(h.approval.id, carol)).state, 'approved');
      const retryInput = holdInput({ query: 'dryRun=All&gracePeriodSeconds=0' });
      const retry = await svc2.hold(retryInput);
      assert.equal(retry.joined, true);
      const r = (await within(retry.wait(never()))) as HoldResult;
      assert.equal(r.outcome, 'granted');
      assert.equal((await store.get(h.approval.id))!.spentBy, retryInput.requestId);
    });
  }

  test('a restarted service expires what came due while it was down, and knows the active grants', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const g = await w.svc.requestAccess(bob, 'prod-write', 30 * MIN, 'deploy the hotfix');
    await w.svc.approve(g.id, carol);
    await w.svc.close();
    w.advance(TIMEOUT);
    const svc2 = await w.restart();
    assert.deepEqual(
      svc2.activeGrants().map((a) => a.id),
      [g.id],
    );
    await svc2.sweep();
    assert.equal((await w.store.get(h.approval.id))!.state, 'expired');
    assert.equal((await w.store.get(g.id))!.state, 'approved', 'the grant runs 30 minutes from its approval');
  });
});

// ---- access grants --------------------------------------------------------------------------

describe('grants', () => {
  test('requestAccess checks the role, the duration and the reason', async () => {
    const w = await world();
    await rejectsCode(w.svc.requestAccess(bob, 'root', 30 * MIN, 'please'), 'APPROVAL_INVALID', /no role/);
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', 3_600_001, 'long'), 'APPROVAL_INVALID', /at most 60 minutes/);
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', 0, 'zero'), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', -5, 'negative'), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', Number.NaN, 'nan'), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', 30 * MIN, ''), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.requestAccess(bob, 'prod-write', 30 * MIN, '   '), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.requestAccess(carol, 'prod-write', 30 * MIN, 'I want it'), 'APPROVAL_FORBIDDEN');
    const none = await world({ roles: undefined });
    await rejectsCode(none.svc.requestAccess(bob, 'prod-write', 30 * MIN, 'please'), 'APPROVAL_INVALID');
    assert.deepEqual(await w.store.list(), []);
  });

  test('approved: active until approval time + duration, then gone; sweep marks it expired', async () => {
    const w = await world();
    const g = await w.svc.requestAccess(bob, 'prod-write', 30 * MIN, 'deploy the hotfix');
    assert.equal(g.kind, 'grant');
    assert.equal(g.state, 'pending');
    assert.equal(g.reason, 'deploy the hotfix');
    assert.deepEqual(g.grant, { role: 'prod-write', durationMs: 30 * MIN });
    assert.equal(g.connection, '');
    assert.match(g.hash, /^grant:prod-write:/);
    assert.deepEqual(g.requirements, [{ ruleId: 'role:prod-write', approvers: ['approvers'], minApprovals: 1 }]);
    assert.equal(g.expiresAt.getTime(), T0 + TIMEOUT);
    assert.deepEqual(w.svc.activeGrants(), []);
    await rejectsCode(w.svc.approve(g.id, bob), 'APPROVAL_FORBIDDEN');

    w.advance(2 * MIN);
    const approvedAt = w.now().getTime();
    const a = await w.svc.approve(g.id, carol);
    assert.equal(a.state, 'approved');
    assert.equal(a.grant!.activeUntil!.getTime(), approvedAt + 30 * MIN);
    const active = w.svc.activeGrants();
    assert.deepEqual(
      active.map((x) => x.id),
      [g.id],
    );
    assert.equal(active[0]!.grant!.activeUntil!.getTime(), approvedAt + 30 * MIN);

    w.advance(30 * MIN - 1);
    assert.equal(w.svc.activeGrants().length, 1);
    w.advance(1);
    assert.deepEqual(w.svc.activeGrants(), [], 'not active at activeUntil');
    await w.svc.sweep();
    assert.equal((await w.store.get(g.id))!.state, 'expired');
    assert.deepEqual(w.svc.activeGrants(), []);
    assert.deepEqual(await w.auditCodes(g.id), ['approval.requested', 'approval.vote', 'approval.approved', 'approval.expired']);
    const rec = (await w.audit.list({ approvalId: g.id, code: 'approval.requested' })).records[0]!;
    assert.equal(rec.detail!.role, 'prod-write');
    await rejectsCode(w.svc.revoke(g.id, bob), 'APPROVAL_CLOSED');
  });

  test('revoke by the requester ends the grant; an approver may revoke too; others may not see it', async () => {
    const w = await world();
    const g = await w.svc.requestAccess(bob, 'prod-write', 30 * MIN, 'deploy');
    await w.svc.approve(g.id, carol);
    assert.equal(w.svc.activeGrants().length, 1);
    await rejectsCode(w.svc.revoke(g.id, eve), 'APPROVAL_NOT_FOUND');
    const r = await w.svc.revoke(g.id, bob, 'done early');
    assert.equal(r.state, 'revoked');
    assert.equal(r.revokedBy!.username, 'bob');
    assert.equal(r.revokeReason, 'done early');
    assert.deepEqual(w.svc.activeGrants(), []);
    assert.equal((await w.store.get(g.id))!.state, 'revoked');
    await rejectsCode(w.svc.revoke(g.id, bob), 'APPROVAL_CLOSED');
    assert.deepEqual(await w.auditCodes(g.id), ['approval.requested', 'approval.vote', 'approval.approved', 'approval.revoked']);

    const g2 = await w.svc.requestAccess(bob, 'prod-write', 10 * MIN, 'again');
    await w.svc.approve(g2.id, carol);
    assert.equal((await w.svc.revoke(g2.id, dave)).state, 'revoked');
    assert.deepEqual(w.svc.activeGrants(), []);
  });

  test('revoking a held request is APPROVAL_INVALID (deny it instead)', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    await rejectsCode(w.svc.revoke(h.approval.id, alice), 'APPROVAL_INVALID');
    await rejectsCode(w.svc.revoke(h.approval.id, carol), 'APPROVAL_INVALID');
    assert.equal((await w.store.get(h.approval.id))!.state, 'pending');
  });
});

// ---- who sees what --------------------------------------------------------------------------

describe('visibility', () => {
  test('requester and eligible approvers see an approval; nobody else', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    const g = await w.svc.requestAccess(bob, 'prod-write', 30 * MIN, 'deploy');
    assert.equal((await w.svc.get(h.approval.id, alice)).id, h.approval.id);
    assert.equal((await w.svc.get(h.approval.id, carol)).id, h.approval.id);
    await rejectsCode(w.svc.get(h.approval.id, bob), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.get(h.approval.id, eve), 'APPROVAL_NOT_FOUND');
    await rejectsCode(w.svc.get(g.id, eve), 'APPROVAL_NOT_FOUND');
    assert.equal((await w.svc.get(g.id, bob)).id, g.id);

    const ids = async (p: Principal, f?: Parameters<typeof w.svc.list>[1]): Promise<string[]> => (await w.svc.list(p, f)).map((a) => a.id);
    assert.deepEqual((await ids(carol)).sort(), [g.id, h.approval.id].sort());
    assert.deepEqual(await ids(bob), [g.id], "bob sees his own grant, not alice's request");
    assert.deepEqual((await ids(alice)).sort(), [g.id, h.approval.id].sort(), 'alice sees her request, and bob\'s grant as an approver');
    assert.deepEqual(await ids(principal('sam', ['sre'])), [], 'an sre who is not an approver sees neither');
    assert.deepEqual(await ids(eve), []);
    assert.deepEqual(await ids(carol, { kind: 'grant' }), [g.id]);
    assert.deepEqual(await ids(carol, { requester: 'alice' }), [h.approval.id]);
    assert.deepEqual(await ids(carol, { states: ['approved'] }), []);
    assert.deepEqual((await ids(carol, { limit: 1 })).length, 1);
  });

  test('list is newest first', async () => {
    const w = await world();
    const first = await w.svc.hold(holdInput());
    w.advance(MIN);
    const second = await w.svc.hold(holdInput({ path: '/api/v1/namespaces/prod/pods/db-0' }));
    assert.deepEqual(
      (await w.svc.list(carol)).map((a) => a.id),
      [second.approval.id, first.approval.id],
    );
  });

  test('canDecide: an eligible approver of an open approval, never the requester', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput());
    assert.equal(w.svc.canDecide(h.approval, carol), true);
    assert.equal(w.svc.canDecide(h.approval, dave), true);
    assert.equal(w.svc.canDecide(h.approval, bob), false);
    assert.equal(w.svc.canDecide(h.approval, alice), false);
    const a = await w.svc.approve(h.approval.id, carol);
    assert.equal(w.svc.canDecide(a, dave), false, 'decided already');
  });
});

// ---- the held body --------------------------------------------------------------------------

describe('held body', () => {
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db', namespace: 'prod' },
    type: 'Opaque',
    data: { password: 'aHVudGVyMg==', username: 'YWRtaW4=' },
    stringData: { 'api-key': 'sk-live-0123456789' },
  };
  const secretsPath = '/api/v1/namespaces/prod/secrets';

  const holdBody = async (w: World, body: Buffer, contentType: string | undefined, path = secretsPath): Promise<Approval> =>
    (await w.svc.hold(holdInput({ method: 'POST', path, attributes: attributes(path, 'create'), body, ...(contentType ? { contentType } : {}) }))).approval;

  const assertMasked = (text: string): void => {
    for (const v of ['aHVudGVyMg==', 'YWRtaW4=', 'sk-live-0123456789']) assert.ok(!text.includes(v), `the value ${v} is shown: ${text}`);
    for (const k of ['password', 'username', 'api-key', 'Opaque', 'db']) assert.ok(text.includes(k), `${k} is missing: ${text}`);
    assert.ok(text.includes('REDACTED'));
  };

  test('a Secret (JSON) is stored with its values masked, keys kept; bodySha256 is of the exact bytes', async () => {
    const w = await world();
    const raw = Buffer.from(JSON.stringify(secret));
    const a = await holdBody(w, raw, 'application/json; charset=utf-8');
    assertMasked(a.request!.body!);
    assert.deepEqual(JSON.parse(a.request!.body!).data, { password: 'REDACTED', username: 'REDACTED' });
    assert.equal(a.request!.contentType, 'application/json; charset=utf-8');
    assert.equal(a.request!.bodySha256, sha256Hex(raw));
    const stored = (await w.store.get(a.id))!;
    assertMasked(JSON.stringify(stored));
  });

  test('a Secret (YAML) is stored with its values masked', async () => {
    const w = await world();
    const raw = Buffer.from(toYaml(secret));
    const a = await holdBody(w, raw, 'application/yaml');
    assertMasked(a.request!.body!);
    assert.equal(a.request!.bodySha256, sha256Hex(raw));
    assertMasked(JSON.stringify(await w.store.get(a.id)));
  });

  test('a Secret inside a List is masked too', async () => {
    const w = await world();
    const a = await holdBody(w, Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secret] })), 'application/json');
    assertMasked(a.request!.body!);
  });

  test('patches of a Secret (merge patch, JSON patch, apply YAML without kind) never show its values', async () => {
    const w = await world();
    const path = `${secretsPath}/db`;
    const merge = await holdBody(w, Buffer.from(JSON.stringify({ data: { password: 'aHVudGVyMg==' } })), 'application/merge-patch+json', path);
    assert.ok(!merge.request!.body!.includes('aHVudGVyMg=='), merge.request!.body);
    assert.ok(merge.request!.body!.includes('password'));
    const strategic = await holdBody(w, Buffer.from(JSON.stringify({ stringData: { 'api-key': 'sk-live-0123456789' } })), 'application/strategic-merge-patch+json', path);
    assert.ok(!strategic.request!.body!.includes('sk-live-0123456789'), strategic.request!.body);
    const jsonPatch = await holdBody(
      w,
      Buffer.from(
        JSON.stringify([
          { op: 'replace', path: '/data/password', value: 'aHVudGVyMg==' },
          { op: 'add', path: '/stringData', value: { 'api-key': 'sk-live-0123456789' } },
          { op: 'replace', path: '/metadata/labels/tier', value: 'db' },
        ]),
      ),
      'application/json-patch+json',
      path,
    );
    const jp = jsonPatch.request!.body!;
    assert.ok(!jp.includes('aHVudGVyMg==') && !jp.includes('sk-live-0123456789'), jp);
    assert.ok(jp.includes('/data/password') && jp.includes('api-key') && jp.includes('/metadata/labels/tier'), jp);
    const apply = await holdBody(w, Buffer.from('data:\n  password: aHVudGVyMg==\n'), 'application/apply-patch+yaml', path);
    assert.ok(!apply.request!.body!.includes('aHVudGVyMg=='), apply.request!.body);
  });

  test('two Secret bodies that differ only in their (masked) values are two approvals', async () => {
    const w = await world();
    const a1 = await holdBody(w, Buffer.from(JSON.stringify(secret)), 'application/json');
    const other = { ...secret, data: { ...secret.data, password: 'b3RoZXI=' } };
    const h2 = await w.svc.hold(
      holdInput({ method: 'POST', path: secretsPath, attributes: attributes(secretsPath, 'create'), body: Buffer.from(JSON.stringify(other)), contentType: 'application/json' }),
    );
    assert.equal(h2.joined, false);
    assert.notEqual(h2.approval.id, a1.id);
    assert.equal(h2.approval.request!.body, a1.request!.body, 'approvers see the same masked text');
    assert.notEqual(h2.approval.request!.bodySha256, a1.request!.bodySha256, 'but the hash tells them apart');
  });

  test('a JWT anywhere in the body is redacted', async () => {
    const w = await world();
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
    const path = '/api/v1/namespaces/prod/configmaps';
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { token: jwt, auth: `Bearer ${jwt}` } };
    const a = await holdBody(w, Buffer.from(JSON.stringify(cm)), 'application/json', path);
    assert.ok(!a.request!.body!.includes(jwt), a.request!.body);
    assert.ok(a.request!.body!.includes('[redacted]'));
    assert.ok(a.request!.body!.includes('cfg'), 'the rest is shown');
    const text = await holdBody(w, Buffer.from(`token=${jwt}`), 'text/plain', path);
    assert.equal(text.request!.body, 'token=[redacted]');
  });

  test('a body over 64 KiB is cut with a marker; the hash still covers every byte', async () => {
    const w = await world();
    const raw = Buffer.from('x'.repeat(100 * 1024));
    const a = await holdBody(w, raw, 'text/plain', '/api/v1/namespaces/prod/configmaps');
    const body = a.request!.body!;
    assert.ok(body.startsWith('x'.repeat(HELD_BODY_MAX)));
    assert.ok(!body.startsWith('x'.repeat(HELD_BODY_MAX + 1)));
    assert.match(body.slice(HELD_BODY_MAX), /cut at 65536/);
    assert.ok(body.length < HELD_BODY_MAX + 200);
    assert.equal(a.request!.bodySha256, sha256Hex(raw));
    const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { blob: 'y'.repeat(80 * 1024) } };
    const b = await holdBody(w, Buffer.from(JSON.stringify(big)), 'application/json', '/api/v1/namespaces/prod/configmaps');
    assert.match(b.request!.body!, /cut at 65536 characters/);
  });

  test('a protobuf body is described, not shown', async () => {
    const w = await world();
    const raw = Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f]);
    const a = await holdBody(w, raw, 'application/vnd.kubernetes.protobuf', '/api/v1/namespaces/prod/configmaps');
    assert.equal(a.request!.body, '(6 bytes of application/vnd.kubernetes.protobuf)');
    assert.equal(a.request!.bodySha256, sha256Hex(raw));
  });

  test('credentials in the query are not kept', async () => {
    const w = await world();
    const h = await w.svc.hold(holdInput({ query: 'dryRun=All&access_token=abc&password=hunter2' }));
    assert.equal(h.approval.request!.query, 'dryRun=All&password=[redacted]');
  });
});

// ---- the change feed ------------------------------------------------------------------------

test('subscribe delivers every transition until unsubscribed; a failing listener harms nobody', async () => {
  const w = await world();
  const seen: string[] = [];
  w.svc.subscribe(() => {
    throw new Error('listener bug');
  });
  const off = w.svc.subscribe((e) => seen.push(`${e.type}:${e.approval.state}`));
  const h = await w.svc.hold(holdInput({ requirements: [{ ruleId: 'why', approvers: ['approvers'], minApprovals: 1, requireReason: true }] }));
  await w.svc.setReason(h.approval.id, alice, 'INC-42');
  await w.svc.approve(h.approval.id, carol);
  off();
  await h.wait(never());
  assert.deepEqual(seen, ['approval.requested:pending', 'approval.reason:pending', 'approval.vote:approved', 'approval.approved:approved']);
  assert.equal(w.events.at(-1)!.type, 'approval.spent');
});
