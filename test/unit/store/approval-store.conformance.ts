/**
 * The conformance suite of the ApprovalStore port (contract: src/store/approval-store.ts). Every
 * adapter runs it: `approvalStoreConformance('sqlite', async () => ({ store, close }))`.
 */
import { describe, test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Approval, ApprovalPerson } from '../../../src/approval/types.ts';
import type { ApprovalStore } from '../../../src/store/approval-store.ts';
import { SluiceError } from '../../../src/core/errors.ts';

const T0 = Date.parse('2026-01-10T12:00:00.000Z');
const min = (n: number): Date => new Date(T0 + n * 60_000);

export const person = (username: string, groups: string[] = []): ApprovalPerson => ({
  issuer: 'https://idp.example',
  subject: `sub-${username}`,
  username,
  groups,
  kind: 'person',
});
const bob = person('bob', ['developers']);
const carol = person('carol', ['approvers']);

/** A held-request approval created `minute` minutes after T0. */
export function requestApproval(over: Partial<Approval> & { minute?: number } = {}): Approval {
  const { minute = 0, ...rest } = over;
  return {
    id: randomUUID(),
    kind: 'request',
    state: 'pending',
    createdAt: min(minute),
    expiresAt: min(minute + 10),
    requester: bob,
    connection: 'demo',
    hash: 'a'.repeat(64),
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
      body: '{\n  "kind": "DeleteOptions",\n  "propagationPolicy": "Foreground"\n}',
      contentType: 'application/json',
      bodySha256: 'b'.repeat(64),
      firstRequestId: randomUUID(),
    },
    rules: ['prod-deletes-need-review'],
    message: 'Deleting in prod needs a second pair of eyes',
    requirements: [{ ruleId: 'prod-deletes-need-review', approvers: ['approvers'], minApprovals: 1 }],
    requireReason: true,
    reason: 'the pod is wedged',
    votes: [],
    ...rest,
  };
}

/** An access-grant approval created `minute` minutes after T0. */
export function grantApproval(over: Partial<Approval> & { minute?: number } = {}): Approval {
  const { minute = 0, ...rest } = over;
  const id = randomUUID();
  return {
    id,
    kind: 'grant',
    state: 'pending',
    createdAt: min(minute),
    expiresAt: min(minute + 10),
    requester: bob,
    connection: '',
    hash: `grant:prod-write:${bob.issuer}:${bob.subject}:${id}`,
    grant: { role: 'prod-write', durationMs: 30 * 60_000 },
    rules: ['role:prod-write'],
    message: 'role prod-write',
    requirements: [{ ruleId: 'role:prod-write', approvers: ['approvers'], minApprovals: 1 }],
    requireReason: false,
    reason: 'incident 42',
    votes: [],
    ...rest,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SluiceError, `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

export interface OpenedApprovalStore {
  store: ApprovalStore;
  close(): Promise<void>;
}

export function approvalStoreConformance(name: string, open: () => Promise<OpenedApprovalStore>): void {
  describe(`ApprovalStore conformance: ${name}`, () => {
    let opened: OpenedApprovalStore;
    let store: ApprovalStore;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.close();
    });

    test('create then get returns a request approval as written (votes, body, dates)', async () => {
      const a = requestApproval({
        state: 'approved',
        votes: [
          { approver: carol, vote: 'approve', reason: 'looks fine', at: min(3) },
          { approver: person('dave', ['approvers']), vote: 'approve', at: min(4) },
        ],
        decidedAt: min(4),
      });
      await store.create(a);
      const r = await store.get(a.id);
      assert.deepEqual(r, a);
      assert.ok(r!.createdAt instanceof Date && r!.votes[0]!.at instanceof Date && r!.decidedAt instanceof Date, 'dates come back as Dates');
      const spent = requestApproval({ state: 'spent', decidedAt: min(1), spentAt: min(2), spentBy: randomUUID() });
      await store.create(spent);
      assert.deepEqual(await store.get(spent.id), spent);
    });

    test('create then get returns a grant approval as written (activeUntil, revocation)', async () => {
      const g = grantApproval({
        state: 'revoked',
        grant: { role: 'prod-write', durationMs: 1_800_000, activeUntil: min(35) },
        votes: [{ approver: carol, vote: 'approve', at: min(5) }],
        decidedAt: min(20),
        revokedBy: carol,
        revokeReason: 'done early',
      });
      await store.create(g);
      const r = await store.get(g.id);
      assert.deepEqual(r, g);
      assert.ok(r!.grant!.activeUntil instanceof Date);
      assert.equal(r!.grant!.activeUntil.getTime(), min(35).getTime());
    });

    test('the store keeps its own copy: changing an object after create or get changes nothing stored', async () => {
      const a = requestApproval();
      await store.create(a);
      a.votes.push({ approver: carol, vote: 'approve', at: min(1) });
      a.requirements[0]!.minApprovals = 9;
      const r = (await store.get(a.id))!;
      assert.equal(r.votes.length, 0);
      assert.equal(r.requirements[0]!.minApprovals, 1);
      r.state = 'denied';
      assert.equal((await store.get(a.id))!.state, 'pending');
    });

    test('get of an unknown id is undefined', async () => {
      assert.equal(await store.get(randomUUID()), undefined);
    });

    test('a duplicate id is refused with STORE_UNAVAILABLE and the first approval stays', async () => {
      const a = requestApproval();
      await store.create(a);
      await rejectsWith(store.create({ ...a, message: 'other', hash: 'c'.repeat(64) }), 'STORE_UNAVAILABLE');
      assert.deepEqual(await store.get(a.id), a);
    });

    test('findOpen returns only pending and approved approvals with that hash', async () => {
      const h = 'd'.repeat(64);
      const pending = requestApproval({ hash: h, minute: 1 });
      const approved = requestApproval({ hash: h, state: 'approved', minute: 2 });
      const others = (['denied', 'expired', 'spent'] as const).map((state, i) => requestApproval({ hash: h, state, minute: 3 + i }));
      const otherHash = requestApproval({ hash: 'e'.repeat(64) });
      for (const a of [pending, approved, ...others, otherHash]) await store.create(a);
      const open = await store.findOpen(h);
      assert.deepEqual(open.map((a) => a.id).sort(), [pending.id, approved.id].sort());
      assert.deepEqual(
        open.find((a) => a.id === approved.id),
        approved,
      );
      assert.deepEqual(await store.findOpen('f'.repeat(64)), []);
      const g = grantApproval({ state: 'revoked' });
      await store.create(g);
      assert.deepEqual(await store.findOpen(g.hash), [], 'a revoked grant is not open');
    });

    test('list is newest first and filters by states, kind, requester, since and limit', async () => {
      const a1 = requestApproval({ minute: 1 });
      const a2 = requestApproval({ minute: 2, state: 'approved', requester: carol });
      const g3 = grantApproval({ minute: 3 });
      const a4 = requestApproval({ minute: 4, state: 'denied' });
      const g5 = grantApproval({ minute: 5, state: 'approved', requester: carol });
      // Created out of order: the order comes from createdAt, not insertion.
      for (const a of [g3, a1, g5, a4, a2]) await store.create(a);
      const ids = (xs: Approval[]): string[] => xs.map((a) => a.id);
      assert.deepEqual(ids(await store.list()), ids([g5, a4, g3, a2, a1]));
      assert.deepEqual(ids(await store.list({})), ids([g5, a4, g3, a2, a1]));
      assert.deepEqual(ids(await store.list({ states: ['pending'] })), ids([g3, a1]));
      assert.deepEqual(ids(await store.list({ states: ['approved', 'denied'] })), ids([g5, a4, a2]));
      assert.deepEqual(ids(await store.list({ kind: 'grant' })), ids([g5, g3]));
      assert.deepEqual(ids(await store.list({ kind: 'request' })), ids([a4, a2, a1]));
      assert.deepEqual(ids(await store.list({ requester: 'carol' })), ids([g5, a2]));
      assert.deepEqual(ids(await store.list({ requester: 'car' })), [], 'requester is exact');
      assert.deepEqual(ids(await store.list({ since: min(3) })), ids([g5, a4, g3]), 'since is inclusive');
      assert.deepEqual(ids(await store.list({ limit: 2 })), ids([g5, a4]));
      assert.deepEqual(ids(await store.list({ kind: 'grant', states: ['approved'], requester: 'carol', since: min(1), limit: 5 })), ids([g5]));
      assert.deepEqual((await store.list({ kind: 'grant', states: ['approved'] }))[0], g5, 'listed approvals are complete');
    });

    test('update: a change is written and returned; undefined changes nothing; an unknown id resolves undefined', async () => {
      const a = requestApproval();
      await store.create(a);
      const vote = { approver: carol, vote: 'approve' as const, at: min(2) };
      const u = await store.update(a.id, (cur) => {
        assert.deepEqual(cur, a, 'change gets the current approval');
        return { ...cur, state: 'approved', decidedAt: min(2), expiresAt: min(30), votes: [...cur.votes, vote] };
      });
      const want: Approval = { ...a, state: 'approved', decidedAt: min(2), expiresAt: min(30), votes: [vote] };
      assert.deepEqual(u, { approval: want, changed: true });
      assert.deepEqual(await store.get(a.id), want);
      assert.deepEqual((await store.findOpen(a.hash)).map((x) => x.state), ['approved']);
      assert.deepEqual(ids1(await store.list({ states: ['approved'] })), [a.id], 'list sees the new state');

      const same = await store.update(a.id, () => undefined);
      assert.deepEqual(same, { approval: want, changed: false });
      assert.deepEqual(await store.get(a.id), want);

      let called = false;
      assert.equal(
        await store.update(randomUUID(), () => {
          called = true;
          return undefined;
        }),
        undefined,
      );
      assert.equal(called, false);

      await store.update(a.id, (cur) => ({ ...cur, state: 'spent', spentAt: min(3), spentBy: 'req-9' }));
      assert.deepEqual(await store.findOpen(a.hash), [], 'a spent approval is not open');
      assert.deepEqual(ids1(await store.list({ states: ['pending', 'approved'] })), []);
    });

    test('an error thrown inside change rejects update with that very error and changes nothing', async () => {
      const a = requestApproval();
      await store.create(a);
      const sluiceErr = new SluiceError('APPROVAL_CLOSED', 'decided already');
      await assert.rejects(
        store.update(a.id, (cur) => {
          cur.state = 'denied'; // mutating the argument must not leak into the store either
          throw sluiceErr;
        }),
        (e) => e === sluiceErr,
      );
      const plain = new TypeError('a bug in change');
      await assert.rejects(
        store.update(a.id, () => {
          throw plain;
        }),
        (e) => e === plain,
      );
      assert.deepEqual(await store.get(a.id), a);
      // The store still works afterwards (no transaction left open).
      const u = await store.update(a.id, (cur) => ({ ...cur, state: 'denied' }));
      assert.equal(u?.changed, true);
      assert.equal((await store.get(a.id))!.state, 'denied');
    });

    test('two racing "spend" updates: exactly one sees the approval still approved', async () => {
      const a = requestApproval({ state: 'approved' });
      await store.create(a);
      const spend = (by: string) =>
        store.update(a.id, (cur) => (cur.state === 'approved' ? { ...cur, state: 'spent', spentAt: min(5), spentBy: by } : undefined));
      const [r1, r2] = await Promise.all([spend('req-1'), spend('req-2')]);
      assert.deepEqual([r1!.changed, r2!.changed].sort(), [false, true]);
      const winner = r1!.changed ? 'req-1' : 'req-2';
      const stored = (await store.get(a.id))!;
      assert.equal(stored.state, 'spent');
      assert.equal(stored.spentBy, winner);
      const loser = r1!.changed ? r2! : r1!;
      assert.equal(loser.approval.state, 'spent', 'the loser sees the spent approval');
      assert.equal(loser.approval.spentBy, winner);
    });

    test('every operation of a closed store rejects with STORE_UNAVAILABLE', async () => {
      const a = requestApproval();
      await store.create(a);
      await store.close();
      await rejectsWith(store.create(requestApproval()), 'STORE_UNAVAILABLE');
      await rejectsWith(store.get(a.id), 'STORE_UNAVAILABLE');
      await rejectsWith(store.findOpen(a.hash), 'STORE_UNAVAILABLE');
      await rejectsWith(store.list(), 'STORE_UNAVAILABLE');
      await rejectsWith(
        store.update(a.id, (cur) => cur),
        'STORE_UNAVAILABLE',
      );
      await store.close(); // closing twice is harmless
    });
  });
}

const ids1 = (xs: Approval[]): string[] => xs.map((a) => a.id);
