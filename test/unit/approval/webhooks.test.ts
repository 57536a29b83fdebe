// Approval webhooks against a real local HTTP receiver (node:http on 127.0.0.1): signing,
// the Slack message, escaping, event filtering, retries, timeouts, redirects and shutdown.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createWebhookDispatcher, verifyWebhookSignature, type DeliveryResult, type WebhookConfig } from '../../../src/approval/webhooks.ts';
import type { Approval, ApprovalEvent, ApprovalPerson } from '../../../src/approval/types.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { VERSION } from '../../../src/core/version.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'whsec-test-0123456789abcdef';
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, `  ${SECRET}\n`);

// ---- fixtures -------------------------------------------------------------------------------

const person = (username: string, groups: string[] = []): ApprovalPerson => ({ issuer: 'https://idp.example', subject: `sub-${username}`, username, groups });
const bob = person('bob', ['developers']);
const alice = person('alice', ['approvers']);

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: '3f2a9c1e-7b4d-4e55-9a10-2c3d4e5f6a7b',
    kind: 'request',
    state: 'pending',
    createdAt: new Date('2026-01-10T12:00:00.000Z'),
    expiresAt: new Date('2026-01-10T12:10:00.000Z'),
    requester: bob,
    connection: 'demo',
    hash: 'a'.repeat(64),
    request: {
      method: 'DELETE',
      path: '/api/v1/namespaces/prod/pods/web-1',
      query: '',
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
      bodySha256: '',
      firstRequestId: 'req-1',
    },
    rules: ['prod-deletes-need-review'],
    message: 'Deleting in prod needs a second pair of eyes',
    requirements: [{ ruleId: 'prod-deletes-need-review', approvers: ['approvers'], minApprovals: 1 }],
    requireReason: false,
    reason: 'web-1 is wedged',
    votes: [],
    ...over,
  };
}

const grant = (): Approval =>
  approval({ kind: 'grant', connection: '', request: undefined, grant: { role: 'prod-write', durationMs: 30 * 60_000 }, hash: 'grant:prod-write:x:y:z', rules: ['prod-write'], message: 'Write access to prod' });

const event = (type: string, a: Approval = approval(), actor?: ApprovalPerson): ApprovalEvent => ({ type, approval: a, actor, at: new Date() });

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver: records every request and answers with `respond` (default 200). */
async function receiver(respond: (n: number, res: ServerResponse) => void = (_n, res) => res.end('ok')) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      respond(received.length, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/XXXXsecretpath`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const hook = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({ name: 'test', url, format: 'json', secretFile, events: ['approval.requested'], timeout: '5s', ...over });

function setup(hooks: WebhookConfig[], opts: { consoleUrl?: string } = {}) {
  const results: DeliveryResult[] = [];
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
  return createWebhookDispatcher(hooks, { ...opts, log, onResult: (r) => results.push(r) }).then((d) => ({ d, results, logLines }));
}

type Msg = { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { text: unknown; url?: string }[] }[] };

/** Every mrkdwn/plain text of a Slack message. */
function texts(m: Msg): string[] {
  const out = [m.text];
  for (const b of m.blocks) {
    if (b.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    for (const el of b.elements ?? []) out.push(typeof el.text === 'string' ? el.text : (el.text as { text: string }).text);
  }
  return out;
}

// ---- json -----------------------------------------------------------------------------------

test('json: signed delivery; the signature verifies, and fails for a tampered body, a wrong secret, a stale timestamp', async () => {
  const r = await receiver();
  try {
    const { d, results, logLines } = await setup([hook(r.url)]);
    const a = approval();
    d.deliver(event('approval.requested', a));
    await d.close();

    assert.equal(r.received.length, 1);
    const { headers, body } = r.received[0]!;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['user-agent'], `sluice/${VERSION}`);
    assert.equal(headers['sluice-event'], 'approval.requested');
    assert.match(String(headers['sluice-delivery']), /^[0-9a-f-]{36}$/);
    const sig = String(headers['sluice-signature']);
    assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);

    const payload = JSON.parse(body) as Record<string, unknown> & { approval: Record<string, unknown> & { request: { attributes: { verb: string } } } };
    assert.equal(payload.type, 'approval.requested');
    assert.match(String(payload.at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(payload.actor, null);
    assert.equal(payload.approval.id, a.id);
    assert.equal(payload.approval.createdAt, '2026-01-10T12:00:00.000Z');
    assert.equal(payload.approval.expiresAt, '2026-01-10T12:10:00.000Z');
    assert.equal(payload.approval.request.attributes.verb, 'delete');
    assert.equal(payload.approval.reason, 'web-1 is wedged');
    assert.deepEqual(payload.approval.requirements, a.requirements);

    assert.equal(verifyWebhookSignature(SECRET, sig, body), true);
    assert.equal(verifyWebhookSignature(SECRET, sig, Buffer.from(body)), true);
    assert.equal(verifyWebhookSignature(SECRET, sig, body.replace('web-1 is wedged', 'web-1 is fine!')), false);
    assert.equal(verifyWebhookSignature('another-secret', sig, body), false);
    const later = () => new Date(Date.now() + 10 * 60_000);
    assert.equal(verifyWebhookSignature(SECRET, sig, body, { now: later }), false);
    assert.equal(verifyWebhookSignature(SECRET, sig, body, { now: later, toleranceSeconds: 3600 }), true);
    assert.equal(verifyWebhookSignature(SECRET, undefined, body), false);
    assert.equal(verifyWebhookSignature(SECRET, 'v1=abc', body), false);
    assert.equal(verifyWebhookSignature(SECRET, sig.replace(/t=\d+/, 't=1'), body), false);

    assert.deepEqual(results, [{ hook: 'test', event: 'approval.requested', approvalId: a.id, ok: true, status: 200, attempts: 1 }]);
    const logs = logLines.join('');
    assert.match(logs, /webhook delivered/);
    for (const secretish of [SECRET, sig.split('v1=')[1]!, 'XXXXsecretpath']) assert.ok(!logs.includes(secretish), `log must not contain ${secretish}`);
  } finally {
    await r.close();
  }
});

test('json: actor is included; a grant carries its details', async () => {
  const r = await receiver();
  try {
    const { d } = await setup([hook(r.url, { events: ['approval.approved'] })]);
    const g = { ...grant(), state: 'approved' as const };
    g.grant!.activeUntil = new Date('2026-01-10T12:30:00.000Z');
    d.deliver(event('approval.approved', g, alice));
    await d.close();
    const payload = JSON.parse(r.received[0]!.body) as { actor: ApprovalPerson; approval: { grant: { role: string; activeUntil: string } } };
    assert.deepEqual(payload.actor, alice);
    assert.equal(payload.approval.grant.role, 'prod-write');
    assert.equal(payload.approval.grant.activeUntil, '2026-01-10T12:30:00.000Z');
  } finally {
    await r.close();
  }
});

// ---- slack ----------------------------------------------------------------------------------

test('slack: text, fields and Approve/Deny links to the console', async () => {
  const r = await receiver();
  try {
    const { d } = await setup([hook(r.url, { format: 'slack', secretFile: undefined })], { consoleUrl: 'https://sluice.example/console/' });
    d.deliver(event('approval.requested'));
    await d.close();
    assert.equal(r.received.length, 1);
    assert.equal(r.received[0]!.headers['content-type'], 'application/json');
    assert.equal(r.received[0]!.headers['sluice-signature'], undefined);
    const m = JSON.parse(r.received[0]!.body) as Msg;
    assert.equal(m.text, 'bob asks to delete pods/web-1 in prod on demo — approval 3f2a9c1e…');
    assert.equal(m.blocks[0]!.type, 'header');
    const all = texts(m).join('\n');
    for (const s of ['*Requester*\nbob', '*Connection*\ndemo', '*Verb*\ndelete', '*Resource*\npods', '*Namespace*\nprod', '*Name*\nweb-1', 'Deleting in prod needs a second pair of eyes', '*Reason:* web-1 is wedged', '*Expires*\n<!date^']) {
      assert.ok(all.includes(s), `message includes ${JSON.stringify(s)}`);
    }
    const actions = m.blocks.filter((b) => b.type === 'actions');
    assert.equal(actions.length, 1);
    assert.deepEqual(
      actions[0]!.elements!.map((b) => [(b.text as { text: string }).text, b.url]),
      [
        ['Approve', 'https://sluice.example/console/approvals/3f2a9c1e-7b4d-4e55-9a10-2c3d4e5f6a7b?action=approve'],
        ['Deny', 'https://sluice.example/console/approvals/3f2a9c1e-7b4d-4e55-9a10-2c3d4e5f6a7b?action=deny'],
      ],
    );
  } finally {
    await r.close();
  }
});

test('slack: no buttons without consoleUrl; grants and later events read as one line', async () => {
  const r = await receiver();
  try {
    const { d } = await setup([hook(r.url, { format: 'slack', secretFile: undefined, events: ['approval.requested', 'approval.denied'] })]);
    d.deliver(event('approval.requested', grant()));
    d.deliver(event('approval.denied', approval({ state: 'denied', votes: [{ approver: alice, vote: 'deny', reason: 'not during the freeze', at: new Date() }] }), alice));
    await d.close();
    const msgs = r.received.map((x) => JSON.parse(x.body) as Msg);
    assert.equal(msgs.length, 2);
    const [g, denied] = [msgs.find((m) => m.text.includes('role'))!, msgs.find((m) => m.text.includes('denied'))!];
    assert.equal(g.text, 'bob asks for role prod-write for 30m — approval 3f2a9c1e…');
    assert.ok(!g.blocks.some((b) => b.type === 'actions'));
    assert.ok(texts(denied).some((t) => t.includes('denied by alice: not during the freeze')));
    assert.ok(!denied.blocks.some((b) => b.type === 'actions'));
  } finally {
    await r.close();
  }
});

test('slack: user-controlled text cannot inject mentions or links', async () => {
  const r = await receiver();
  try {
    const { d } = await setup([hook(r.url, { format: 'slack', secretFile: undefined })], { consoleUrl: 'https://sluice.example' });
    const a = approval({ requester: person('<!channel>'), reason: '<@U123> please <https://evil.example|click here> & approve' });
    a.request!.attributes.name = 'web-1<@U999>';
    d.deliver(event('approval.requested', a));
    await d.close();
    const m = JSON.parse(r.received[0]!.body) as Msg;
    const all = texts(m).join('\n');
    assert.ok(all.includes('&lt;@U123&gt; please &lt;https://evil.example|click here&gt; &amp; approve'));
    assert.ok(all.includes('&lt;!channel&gt; asks to delete'));
    // Outside Slack's own date tokens, no '<' or '>' survives.
    assert.doesNotMatch(all.replace(/<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]+>/g, ''), /[<>]/);
  } finally {
    await r.close();
  }
});

// ---- delivery ---------------------------------------------------------------------------------

test('events are filtered per hook', async () => {
  const requestedOnly = await receiver();
  const spent = await receiver();
  try {
    const { d, results } = await setup([hook(requestedOnly.url, { name: 'requested-only' }), hook(spent.url, { name: 'spent', events: ['approval.spent'] })]);
    d.deliver(event('approval.spent', approval({ state: 'spent' })));
    await d.close();
    assert.equal(requestedOnly.received.length, 0);
    assert.equal(spent.received.length, 1);
    assert.deepEqual(results.map((x) => x.hook), ['spent']);
  } finally {
    await requestedOnly.close();
    await spent.close();
  }
});

test('a 500 is retried (same delivery id, fresh valid signature); then success', async () => {
  const r = await receiver((n, res) => {
    res.statusCode = n === 1 ? 500 : 200;
    res.end();
  });
  try {
    const { d, results } = await setup([hook(r.url)]);
    d.deliver(event('approval.requested'));
    await d.close();
    assert.equal(r.received.length, 2);
    assert.equal(r.received[0]!.headers['sluice-delivery'], r.received[1]!.headers['sluice-delivery']);
    for (const x of r.received) assert.ok(verifyWebhookSignature(SECRET, String(x.headers['sluice-signature']), x.body));
    assert.equal(results.length, 1);
    assert.equal(results[0]!.ok, true);
    assert.equal(results[0]!.attempts, 2);
    assert.equal(results[0]!.status, 200);
  } finally {
    await r.close();
  }
});

test('a 400 is not retried', async () => {
  const r = await receiver((_n, res) => {
    res.statusCode = 400;
    res.end('bad');
  });
  try {
    const { d, results, logLines } = await setup([hook(r.url)]);
    d.deliver(event('approval.requested'));
    await d.close();
    assert.equal(r.received.length, 1);
    assert.deepEqual(results[0], { hook: 'test', event: 'approval.requested', approvalId: approval().id, ok: false, status: 400, attempts: 1, error: 'HTTP 400' });
    assert.match(logLines.join(''), /webhook delivery failed/);
  } finally {
    await r.close();
  }
});

test('a redirect is not followed', async () => {
  const elsewhere = await receiver();
  const r = await receiver((_n, res) => {
    res.writeHead(307, { location: elsewhere.url });
    res.end();
  });
  try {
    const { d, results } = await setup([hook(r.url)]);
    d.deliver(event('approval.requested'));
    await d.close();
    assert.equal(elsewhere.received.length, 0);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.status, 307);
    assert.equal(results[0]!.attempts, 1);
  } finally {
    await r.close();
    await elsewhere.close();
  }
});

test('a receiver that never answers times out after three attempts', async () => {
  const r = await receiver(() => {
    /* never answer */
  });
  try {
    const { d, results } = await setup([hook(r.url, { timeout: '1s' })]);
    const t0 = Date.now();
    d.deliver(event('approval.requested'));
    await d.close();
    const took = Date.now() - t0;
    assert.equal(r.received.length, 3);
    assert.equal(results[0]!.ok, false);
    assert.equal(results[0]!.attempts, 3);
    assert.equal(results[0]!.status, undefined);
    assert.equal(results[0]!.error, 'no answer within 1s');
    assert.ok(took >= 3000 + 2500 - 100 && took < 10_000, `took ${took} ms`);
  } finally {
    await r.close();
  }
});

test('a refused connection is a failed delivery, not a crash', async () => {
  const r = await receiver();
  const url = r.url;
  await r.close();
  const { d, results } = await setup([hook(url)]);
  d.deliver(event('approval.requested'));
  await d.close();
  assert.equal(results[0]!.ok, false);
  assert.equal(results[0]!.attempts, 3);
  assert.match(results[0]!.error!, /ECONNREFUSED/);
});

test('deliver does not block; close() waits for in-flight deliveries', async () => {
  const r = await receiver((_n, res) => void setTimeout(() => res.end('ok'), 300));
  try {
    const { d, results } = await setup([hook(r.url)]);
    const t0 = performance.now();
    d.deliver(event('approval.requested'));
    assert.ok(performance.now() - t0 < 50, 'deliver returned at once');
    assert.equal(results.length, 0);
    await d.close();
    assert.ok(performance.now() - t0 >= 290);
    assert.equal(results.length, 1);
    assert.equal(results[0]!.ok, true);
    d.deliver(event('approval.requested'));
    await d.close();
    assert.equal(r.received.length, 1, 'nothing is delivered after close');
  } finally {
    await r.close();
  }
});

// ---- configuration ------------------------------------------------------------------------------

test('a missing or empty secret file is CONFIG_INVALID naming the file', async () => {
  const log = pino({ level: 'silent' });
  const missing = join(dir, 'no-such-secret');
  const empty = join(dir, 'empty-secret');
  writeFileSync(empty, ' \n');
  for (const f of [missing, empty]) {
    await assert.rejects(createWebhookDispatcher([hook('http://127.0.0.1:9/', { secretFile: f })], { log }), (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.ok(e.message.includes(f), e.message);
      return true;
    });
  }
});
