/**
 * The control API over real HTTPS with real tokens from the test identity provider, and an
 * in-test ApprovalService (./control-fixture.ts): authentication, every route's mapping of
 * results and error codes to statuses, id prefixes, body limits, and the event stream.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import type { Approval } from '../../../src/approval/types.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { requestApproval, startControlWorld, type ControlWorld } from './control-fixture.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('control API', { timeout: 120_000 }, () => {
  let w: ControlWorld;
  let agent: Agent;
  const alice = (): Promise<string> => w.token('alice');
  const bob = (): Promise<string> => w.token('bob');
  const carol = (): Promise<string> => w.token('carol');

  async function call(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string | Readable; headers?: Record<string, string>; base?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers };
    let body: string | Readable | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await request(`${opts.base ?? w.url}${path}`, { method: method as 'GET', headers, dispatcher: agent, ...(body !== undefined ? { body } : {}) });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json };
  }

  const expectError = (a: Answer, status: number, code: string, message?: RegExp): void => {
    assert.equal(a.status, status, a.text);
    assert.equal(a.json?.error?.code, code, a.text);
    assert.equal(typeof a.json.error.message, 'string');
    if (message) assert.match(a.json.error.message, message);
    assert.match(String(a.headers['content-type']), /^application\/json/);
  };

  let bobs: Approval; // bob's pending delete in prod; approvers may decide
  let carols: Approval; // carol's, only sre may decide: bob cannot see it
  let grant: Approval; // bob's active grant

  before(async () => {
    w = await startControlWorld();
    agent = new Agent({ connect: { ca: w.caCert } });
    const bobP = w.person('bob', ['developers']);
    const carolP = w.person('carol', ['approvers']);
    bobs = w.service.add(requestApproval({ requester: bobP }));
    carols = w.service.add(
      requestApproval({ requester: carolP, requirements: [{ ruleId: 'kube-system', approvers: ['sre'], minApprovals: 1 }], rules: ['kube-system'] }),
    );
    const { request: _r, ...base } = requestApproval({ requester: bobP, connection: '' });
    grant = w.service.add({ ...base, kind: 'grant', state: 'approved', grant: { role: 'prod-write', durationMs: 1_800_000, activeUntil: new Date(Date.now() + 1_800_000) } });
    await Promise.all([alice(), bob(), carol()]);
  });

  after(async () => {
    await agent?.close();
    await w?.stop();
  });

  describe('authentication', () => {
    test('no token → 401 AUTHN_MISSING with a Bearer challenge', async () => {
      const a = await call('GET', '/sluice/v1/whoami');
      expectError(a, 401, 'AUTHN_MISSING');
      assert.equal(a.headers['www-authenticate'], 'Bearer realm="sluice"');
    });

    test('a bad token → 401 AUTHN_INVALID, and the token is not echoed', async () => {
      const a = await call('GET', '/sluice/v1/approvals', { token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig' });
      expectError(a, 401, 'AUTHN_INVALID');
      assert.match(String(a.headers['www-authenticate']), /error="invalid_token"/);
      assert.ok(!a.text.includes('eyJ'));
    });

    test('a token in the query string → 400 AUTHN_BAD_REQUEST', async () => {
      expectError(await call('GET', `/sluice/v1/whoami?access_token=${await alice()}`), 400, 'AUTHN_BAD_REQUEST');
    });

    test('an unreachable issuer → 503 AUTHN_ISSUER_UNAVAILABLE', async () => {
      const { createTokenVerifier } = await import('../../../src/authn/create-verifier.ts');
      const down = createTokenVerifier([{ issuer: w.idp.issuer, audiences: [w.idp.audience], caFile: w.caFile }], {
        fetch: async () => {
          throw new Error('connect ECONNREFUSED');
        },
      });
      const other = await w.startApi({ verifier: down });
      try {
        expectError(await call('GET', '/sluice/v1/whoami', { token: await alice(), base: other.url }), 503, 'AUTHN_ISSUER_UNAVAILABLE');
      } finally {
        await other.close();
        await down.close();
      }
    });

    test('paths outside /sluice/v1 are left to the caller', async () => {
      const a = await call('GET', '/clusters/demo/api', { token: await alice() });
      assert.equal(a.status, 404);
      assert.equal(a.text, 'not the control API');
    });
  });

  test('whoami: the verified principal', async () => {
    const a = await call('GET', '/sluice/v1/whoami', { token: await alice() });
    assert.equal(a.status, 200);
    assert.deepEqual({ ...a.json, expiresAt: undefined }, {
      username: 'alice',
      groups: ['sre', 'approvers'],
      issuer: w.idp.issuer,
      subject: 'alice',
      kind: 'person',
      expiresAt: undefined,
    });
    assert.equal(a.json.expiresAt, new Date((decodeJwt(await alice()).exp ?? 0) * 1000).toISOString());
  });

  test('roles', async () => {
    const a = await call('GET', '/sluice/v1/roles', { token: await bob() });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json.roles.map((r: { name: string }) => r.name), ['prod-write']);
  });

  describe('list', () => {
    test('what each viewer may see, with canDecide and ISO dates', async () => {
      const forAlice = await call('GET', '/sluice/v1/approvals', { token: await alice() });
      assert.equal(forAlice.status, 200);
      const ids = forAlice.json.approvals.map((a: { id: string }) => a.id);
      assert.ok(ids.includes(bobs.id) && ids.includes(carols.id));
      const b = forAlice.json.approvals.find((a: { id: string }) => a.id === bobs.id);
      assert.equal(b.canDecide, true);
      assert.equal(b.createdAt, bobs.createdAt.toISOString());
      assert.equal(b.request.attributes.name, 'web-1');

      const forBob = await call('GET', '/sluice/v1/approvals', { token: await bob() });
      const bobIds = forBob.json.approvals.map((a: { id: string }) => a.id);
      assert.ok(bobIds.includes(bobs.id) && !bobIds.includes(carols.id));
      assert.equal(forBob.json.approvals.find((a: { id: string }) => a.id === bobs.id).canDecide, false, 'never your own');
    });

    test('filters: state, kind, mine, limit are passed to the service', async () => {
      const a = await call('GET', '/sluice/v1/approvals?state=pending,approved&kind=grant&mine=true&limit=5', { token: await bob() });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(w.service.listCalls.at(-1), { states: ['pending', 'approved'], kind: 'grant', limit: 5, requester: 'bob' });
      assert.deepEqual(a.json.approvals.map((x: { id: string }) => x.id), [grant.id]);
      const mine = await call('GET', '/sluice/v1/approvals?mine=true', { token: await carol() });
      assert.deepEqual(mine.json.approvals.map((x: { id: string }) => x.id), [carols.id]);
    });

    test('bad queries → 400 REQUEST_INVALID', async () => {
      for (const q of ['state=bogus', 'state=', 'kind=all', 'limit=0', 'limit=x', 'mine=yes', 'sort=age']) {
        expectError(await call('GET', `/sluice/v1/approvals?${q}`, { token: await bob() }), 400, 'REQUEST_INVALID');
      }
    });
  });

  describe('get and id prefixes', () => {
    test('full id, upper case, unique prefix', async () => {
      for (const id of [bobs.id, bobs.id.toUpperCase(), bobs.id.slice(0, 8), bobs.id.slice(0, 6)]) {
        const a = await call('GET', `/sluice/v1/approvals/${id}`, { token: await alice() });
        assert.equal(a.status, 200, `${id}: ${a.text}`);
        assert.equal(a.json.id, bobs.id);
        assert.equal(a.json.canDecide, true);
      }
    });

    test('ambiguous prefix → 404 naming the candidates; too short → 400; unknown or invisible → 404', async () => {
      const p = w.person('bob', ['developers']);
      const x = w.service.add(requestApproval({ requester: p, id: 'abcdef01-0000-4000-8000-000000000001' }));
      const y = w.service.add(requestApproval({ requester: p, id: 'abcdef02-0000-4000-8000-000000000002' }));
      const amb = await call('GET', '/sluice/v1/approvals/abcdef', { token: await bob() });
      expectError(amb, 404, 'APPROVAL_NOT_FOUND', /ambiguous/);
      assert.ok(amb.json.error.message.includes(x.id) && amb.json.error.message.includes(y.id));
      assert.equal((await call('GET', '/sluice/v1/approvals/abcdef01', { token: await bob() })).json.id, x.id);
      expectError(await call('GET', '/sluice/v1/approvals/abcde', { token: await bob() }), 400, 'APPROVAL_INVALID', /at least 6/);
      expectError(await call('GET', '/sluice/v1/approvals/not-an-id!', { token: await bob() }), 400, 'APPROVAL_INVALID');
      expectError(await call('GET', '/sluice/v1/approvals/fedcba98', { token: await bob() }), 404, 'APPROVAL_NOT_FOUND');
      expectError(await call('GET', `/sluice/v1/approvals/${carols.id}`, { token: await bob() }), 404, 'APPROVAL_NOT_FOUND');
      expectError(await call('GET', `/sluice/v1/approvals/${carols.id.slice(0, 8)}`, { token: await bob() }), 404, 'APPROVAL_NOT_FOUND');
    });
  });

  describe('decisions', () => {
    test('approve: 200 with the new state; again 409; own request 403', async () => {
      const mine = w.service.add(requestApproval({ requester: w.person('bob', ['developers']), requirements: [{ ruleId: 'r', approvers: ['approvers', 'developers'], minApprovals: 1 }] }));
      expectError(await call('POST', `/sluice/v1/approvals/${mine.id}/approve`, { token: await bob() }), 403, 'APPROVAL_FORBIDDEN');
      const a = await call('POST', `/sluice/v1/approvals/${mine.id.slice(0, 8)}/approve`, { token: await carol(), body: { reason: 'looks fine' } });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.state, 'approved');
      assert.equal(a.json.canDecide, false);
      assert.equal(a.json.votes[0].approver.username, 'carol');
      assert.equal(a.json.votes[0].reason, 'looks fine');
      assert.equal(typeof a.json.votes[0].at, 'string');
      expectError(await call('POST', `/sluice/v1/approvals/${mine.id}/approve`, { token: await alice() }), 409, 'APPROVAL_CLOSED');
    });

    test('deny needs a non-empty reason', async () => {
      const d = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
      expectError(await call('POST', `/sluice/v1/approvals/${d.id}/deny`, { token: await carol() }), 400, 'APPROVAL_INVALID', /reason/);
      expectError(await call('POST', `/sluice/v1/approvals/${d.id}/deny`, { token: await carol(), body: { reason: '   ' } }), 400, 'APPROVAL_INVALID', /reason/);
      const a = await call('POST', `/sluice/v1/approvals/${d.id}/deny`, { token: await carol(), body: { reason: 'not during the freeze' } });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.state, 'denied');
    });

    test('reason: the requester only', async () => {
      const r = w.service.add(requestApproval({ requester: w.person('bob', ['developers']), requireReason: true }));
      expectError(await call('POST', `/sluice/v1/approvals/${r.id}/reason`, { token: await carol(), body: { reason: 'x' } }), 403, 'APPROVAL_FORBIDDEN');
      const a = await call('POST', `/sluice/v1/approvals/${r.id}/reason`, { token: await bob(), body: { reason: 'web-1 is stuck' } });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.reason, 'web-1 is stuck');
    });

    test('revoke: an active grant; anything else 409', async () => {
      expectError(await call('POST', `/sluice/v1/approvals/${bobs.id}/revoke`, { token: await bob() }), 409, 'APPROVAL_CLOSED');
      const a = await call('POST', `/sluice/v1/approvals/${grant.id}/revoke`, { token: await bob(), body: { reason: 'done' } });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.state, 'revoked');
      assert.equal(a.json.revokeReason, 'done');
    });

    test('access request: 201 with the grant approval; bad role or duration 400', async () => {
      const a = await call('POST', '/sluice/v1/access-requests', { token: await bob(), body: { role: 'prod-write', duration: '30m', reason: 'hotfix' } });
      assert.equal(a.status, 201, a.text);
      assert.equal(a.json.kind, 'grant');
      assert.equal(a.json.state, 'pending');
      assert.deepEqual(a.json.grant, { role: 'prod-write', durationMs: 1_800_000 });
      assert.equal(a.json.requester.username, 'bob');
      const bad = async (body: unknown, re: RegExp): Promise<void> =>
        expectError(await call('POST', '/sluice/v1/access-requests', { token: await bob(), body }), 400, 'APPROVAL_INVALID', re);
      await bad({ role: 'root', duration: '30m', reason: 'x' }, /unknown role/);
      await bad({ role: 'prod-write', duration: '2h', reason: 'x' }, /at most/);
      await bad({ role: 'prod-write', duration: 'soon', reason: 'x' }, /duration/);
      await bad({ role: 'prod-write', duration: '0m', reason: 'x' }, /longer than 0s/);
      await bad({ role: 'prod-write', duration: '30m' }, /reason/);
    });

    test('service failures: STORE_UNAVAILABLE → 503; anything else → 500 without detail', async () => {
      w.service.failWith = new SluiceError('STORE_UNAVAILABLE', 'the store is unavailable');
      expectError(await call('GET', '/sluice/v1/approvals', { token: await bob() }), 503, 'STORE_UNAVAILABLE');
      w.service.failWith = new TypeError('boom: cannot read /var/lib/secret at line 3');
      const a = await call('GET', '/sluice/v1/approvals', { token: await bob() });
      expectError(a, 500, 'INTERNAL_ERROR', /^internal error$/);
      assert.ok(!/boom|secret|at /.test(a.text), a.text);
    });
  });

  describe('request validation', () => {
    test('unknown fields are refused', async () => {
      const a = await call('POST', `/sluice/v1/approvals/${bobs.id}/approve`, { token: await carol(), body: { reason: 'ok', force: true } });
      expectError(a, 400, 'APPROVAL_INVALID', /force/);
      const b = await call('POST', '/sluice/v1/access-requests', { token: await bob(), body: { role: 'prod-write', duration: '30m', reason: 'x', namespace: 'prod' } });
      expectError(b, 400, 'APPROVAL_INVALID', /namespace/);
    });

    test('a body over 64 KiB → 413 (declared or streamed)', async () => {
      const big = JSON.stringify({ reason: 'x'.repeat(70 * 1024) });
      expectError(await call('POST', `/sluice/v1/approvals/${bobs.id}/deny`, { token: await carol(), raw: big, headers: { 'content-type': 'application/json' } }), 413, 'REQUEST_TOO_LARGE');
      async function* chunks(): AsyncIterable<Buffer> {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(10 * 1024, 0x20);
      }
      expectError(await call('POST', `/sluice/v1/approvals/${bobs.id}/deny`, { token: await carol(), raw: Readable.from(chunks()), headers: { 'content-type': 'application/json' } }), 413, 'REQUEST_TOO_LARGE');
      assert.equal(w.service.approvals.find((x) => x.id === bobs.id)?.state, 'pending');
    });

    test('bad JSON → 400; another media type → 415', async () => {
      expectError(
        await call('POST', `/sluice/v1/approvals/${bobs.id}/deny`, { token: await carol(), raw: '{"reason": ', headers: { 'content-type': 'application/json' } }),
        400,
        'REQUEST_INVALID',
        /not valid JSON/,
      );
      expectError(
        await call('POST', `/sluice/v1/approvals/${bobs.id}/deny`, { token: await carol(), raw: 'reason=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'REQUEST_INVALID',
      );
    });

    test('unknown route → 404, wrong method → 405 with Allow', async () => {
      expectError(await call('GET', '/sluice/v1/nothing', { token: await bob() }), 404, 'REQUEST_INVALID');
      expectError(await call('GET', '/sluice/v1/approvals/', { token: await bob() }), 404, 'REQUEST_INVALID');
      const m = await call('DELETE', `/sluice/v1/approvals/${bobs.id}`, { token: await bob() });
      expectError(m, 405, 'REQUEST_INVALID');
      assert.equal(m.headers.allow, 'GET');
      const p = await call('GET', `/sluice/v1/approvals/${bobs.id}/approve`, { token: await bob() });
      expectError(p, 405, 'REQUEST_INVALID');
      assert.equal(p.headers.allow, 'POST');
    });
  });

  describe('event stream', () => {
    /** Open the stream; collect events and comments as they arrive. */
    async function open(token: string, base = w.url) {
      const res = await request(`${base}/sluice/v1/approvals/events`, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
      const events: { event: string; data: any }[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
      const comments: string[] = [];
      let ended = false;
      let buf = '';
      res.body.setEncoding('utf8');
      res.body.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ event, data: JSON.parse(data) });
        }
      });
      res.body.on('end', () => (ended = true));
      res.body.on('error', () => (ended = true));
      return { res, events, comments, ended: () => ended };
    }

    const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    test('snapshot, then visible transitions only, pings; unsubscribes when the client goes away', async () => {
      const before = w.service.listeners.size;
      const s = await open(await bob());
      assert.equal(s.res.statusCode, 200);
      assert.match(String(s.res.headers['content-type']), /^text\/event-stream/);
      await until('snapshot', () => s.events.length > 0);
      assert.equal(s.events[0]!.event, 'snapshot');
      const snap = s.events[0]!.data.approvals as { id: string; state: string; canDecide: boolean }[];
      assert.ok(snap.some((a) => a.id === bobs.id));
      assert.ok(!snap.some((a) => a.id === carols.id), 'not visible to bob');
      assert.ok(snap.every((a) => a.state === 'pending'));
      assert.equal(w.service.listeners.size, before + 1);

      // A transition bob may not see, then one of his own (carol approves through the API).
      w.service.emit('approval.reason', w.service.approvals.find((a) => a.id === carols.id)!);
      const fresh = w.service.add(requestApproval({ requester: w.person('bob', ['developers']) }));
      const voted = await call('POST', `/sluice/v1/approvals/${fresh.id}/approve`, { token: await carol() });
      assert.equal(voted.status, 200, voted.text);
      await until('the approved event', () => s.events.some((e) => e.event === 'approval.approved'));
      const pushed = s.events.slice(1);
      assert.deepEqual(pushed.map((e) => e.event), ['approval.vote', 'approval.approved']);
      const ev = pushed[1]!.data;
      assert.equal(ev.type, 'approval.approved');
      assert.equal(ev.approval.id, fresh.id);
      assert.equal(ev.approval.state, 'approved');
      assert.equal(ev.approval.canDecide, false);
      assert.equal(ev.actor.username, 'carol');
      assert.equal(typeof ev.at, 'string');
      await until('a ping', () => s.comments.includes('ping'));

      s.res.body.destroy();
      await until('unsubscribe', () => w.service.listeners.size === before);
    });

    test('an approver sees the requests they may decide as they come', async () => {
      const before = w.service.listeners.size;
      const s = await open(await alice());
      await until('snapshot', () => s.events.length > 0);
      const held = await w.service.hold({
        principal: { issuer: w.idp.issuer, subject: 'bob', username: 'bob', groups: ['developers'], kind: 'person' },
        connection: 'demo',
        method: 'DELETE',
        path: '/api/v1/namespaces/prod/pods/web-2',
        query: '',
        attributes: bobs.request!.attributes,
        requirements: [{ ruleId: 'r', approvers: ['sre'], minApprovals: 1 }],
        rules: ['r'],
        message: 'needs approval',
        requestId: 'x',
      });
      w.service.emit('approval.requested', held.approval);
      await until('requested', () => s.events.some((e) => e.event === 'approval.requested'));
      assert.equal(s.events.at(-1)!.data.approval.canDecide, true);
      s.res.body.destroy();
      await until('unsubscribe', () => w.service.listeners.size === before);
    });

    test('the stream ends when the token expires, and when the API closes', async () => {
      const token = await bob();
      const exp = (decodeJwt(token).exp ?? 0) * 1000;
      // A clock 300 ms before the token's expiry (the verifier keeps the real clock).
      const other = await w.startApi({ now: () => new Date(Date.now() + (exp - Date.now() - 300)) });
      try {
        const before = w.service.listeners.size;
        const s = await open(token, other.url);
        await until('snapshot', () => s.events.length > 0);
        await until('the end of the stream', s.ended, 5000);
        assert.ok(s.comments.some((c) => /token expired/.test(c)));
        await until('unsubscribe', () => w.service.listeners.size === before);

        const t = await open(await alice());
        await until('snapshot', () => t.events.length > 0);
        const closing = await w.startApi({});
        const u = await open(await alice(), closing.url);
        await until('snapshot', () => u.events.length > 0);
        closing.api.close();
        await until('the end of the stream', u.ended);
        assert.equal(t.ended(), false, 'other APIs are not affected');
        t.res.body.destroy();
        await closing.close();
      } finally {
        await other.close();
      }
    });
  });
});
