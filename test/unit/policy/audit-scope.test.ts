/**
 * Reading the audit trail through the policy (ADR 0002, Decision 6): audit reads are requests on
 * the reserved connection `sluice`; `auditScope: self` narrows an allow to the reader's own
 * records unless another deciding rule grants the read unrestricted; `events/body` and
 * `events/terminal` are guarded operations; `expectAuditScope` in test cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditReadAttributes } from '../../../src/core/audit-read.ts';
import { SluiceError } from '../../../src/core/errors.ts';
import { parseConfig } from '../../../src/config/load-config.ts';
import { decide, type ActiveGrant } from '../../../src/policy/decide.ts';
import { parseTestCases, runTestCases } from '../../../src/policy/policy-test.ts';
import { policy, principal, problemsOf, req } from './helpers.ts';

const alice = principal('alice', ['sre']);
const bob = principal('bob', ['developers']);
const list = auditReadAttributes('list', '/sluice/v1/audit/events');
const get = auditReadAttributes('get', '/sluice/v1/audit/events/abc', { name: 'abc' });
const body = auditReadAttributes('get', '/sluice/v1/audit/events/abc/body', { subresource: 'body', name: 'abc' });
const terminal = auditReadAttributes('get', '/sluice/v1/audit/events/abc/terminal', { subresource: 'terminal', name: 'abc' });

const AUDIT = `
rules:
  - id: audit/auditors
    effect: allow
    subjects: { groups: [sre] }
    connections: [sluice]
    apiGroups: [audit.sluice.dev]
    verbs: [get, list]
    resources: [events, events/body, events/terminal]
  - id: audit/own
    effect: allow
    subjects: { groups: [developers] }
    connections: [sluice]
    apiGroups: [audit.sluice.dev]
    verbs: [get, list]
    resources: [events, events/terminal]
    auditScope: self
`;

test('an audit read is a resource request on connection sluice, group audit.sluice.dev, resource events', () => {
  assert.deepEqual(list, {
    connection: 'sluice',
    verb: 'list',
    apiGroup: 'audit.sluice.dev',
    apiVersion: 'v1',
    resource: 'events',
    subresource: '',
    namespace: '',
    name: '',
    isResourceRequest: true,
    path: '/sluice/v1/audit/events',
  });
  assert.equal(body.subresource, 'body');
});

test('an unscoped allow reads everything: the decision carries no audit scope', () => {
  const p = policy(AUDIT);
  for (const r of [list, get, body, terminal]) {
    const d = decide(alice, r, p);
    assert.equal(d.effect, 'allow', `${r.verb} ${r.subresource}`);
    assert.equal(d.auditScope, undefined);
    assert.equal(d.rules[0]!.auditScope, undefined);
  }
});

test('auditScope: self narrows the allow to the reader, and the deciding rule entry carries it', () => {
  const p = policy(AUDIT);
  for (const r of [list, get, terminal]) {
    const d = decide(bob, r, p);
    assert.equal(d.effect, 'allow');
    assert.equal(d.auditScope, 'self');
    assert.deepEqual(d.rules.map((x) => [x.id, x.auditScope]), [['audit/own', 'self']]);
  }
  // The scoped rule does not name bodies: bob is denied them.
  assert.equal(decide(bob, body, p).effect, 'deny');
  assert.equal(decide(bob, body, p).auditScope, undefined);
});

test('one deciding allow without auditScope makes the read unrestricted, whatever the rule order', () => {
  const open = `
  - id: audit/alice
    effect: allow
    subjects: { users: [bob] }
    connections: [sluice]
    apiGroups: [audit.sluice.dev]
    verbs: [list]
    resources: [events]
`;
  for (const text of [`${AUDIT}${open}`, `rules:${open}${AUDIT.replace('rules:', '')}`]) {
    const p = policy(text);
    const d = decide(bob, list, p);
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.rules.map((r) => r.id).sort(), ['audit/alice', 'audit/own']);
    assert.equal(d.auditScope, undefined, 'unrestricted');
    // For get, only the scoped rule matches: bob sees only his own.
    assert.equal(decide(bob, get, p).auditScope, 'self');
  }
});

test('two scoped rules stay scoped; a deny still wins over a scoped allow', () => {
  const p = policy(`${AUDIT}
  - id: audit/own-again
    effect: allow
    subjects: { users: [bob] }
    connections: [sluice]
    apiGroups: ["*"]
    verbs: [list]
    resources: [events]
    auditScope: self
  - id: audit/not-on-fridays
    effect: deny
    subjects: { users: [bob] }
    connections: [sluice]
    verbs: [get]
`);
  const d = decide(bob, list, p);
  assert.equal(d.effect, 'allow');
  assert.equal(d.rules.length, 2);
  assert.equal(d.auditScope, 'self');
  const denied = decide(bob, get, p);
  assert.equal(denied.effect, 'deny');
  assert.equal(denied.auditScope, undefined);
});

test("a role grant's scoped rule scopes the grantee's read; a grant's unscoped rule opens it", () => {
  const p = policy(`
roles:
  - name: audit-own
    requestableBy: { groups: [developers] }
    maxDuration: 1h
    rules:
      - { id: audit-own/read, effect: allow, connections: [sluice], apiGroups: [audit.sluice.dev], verbs: [list], resources: [events], auditScope: self }
  - name: audit-all
    requestableBy: { groups: [developers] }
    maxDuration: 1h
    rules:
      - { id: audit-all/read, effect: allow, connections: [sluice], apiGroups: [audit.sluice.dev], verbs: [list], resources: [events] }
`);
  const grant = (role: string): ActiveGrant => ({ id: `g-${role}`, role, username: bob.username, issuer: bob.issuer, subject: bob.subject, activeUntil: new Date('2100-01-01T00:00:00Z') });
  assert.equal(decide(bob, list, p).effect, 'deny');
  const scoped = decide(bob, list, p, { grants: [grant('audit-own')] });
  assert.equal(scoped.effect, 'allow');
  assert.equal(scoped.auditScope, 'self');
  assert.equal(decide(bob, list, p, { grants: [grant('audit-own'), grant('audit-all')] }).auditScope, undefined);
});

test('events/body and events/terminal are guarded: a wildcard never grants them, events it does', () => {
  const p = policy(`
- id: audit/wide
  effect: allow
  subjects: { users: [alice] }
  connections: [sluice]
  apiGroups: ["*"]
  verbs: ["*"]
  resources: ["*"]
- id: audit/events-star
  effect: allow
  subjects: { users: [alice] }
  connections: [sluice]
  apiGroups: [audit.sluice.dev]
  verbs: [get]
  resources: ["events/*"]
`);
  assert.equal(decide(alice, list, p).effect, 'allow');
  for (const r of [body, terminal]) {
    const d = decide(alice, r, p);
    assert.equal(d.effect, 'deny');
    assert.match(d.message, new RegExp(`events/${r.subresource} is a guarded operation: rule "audit/(wide|events-star)" grants it only through a wildcard`));
  }
  // Named literally, they are granted.
  assert.equal(decide(alice, body, policy(AUDIT)).effect, 'allow');
});

test('the sluice connection is matched only by rules that name it literally: cluster rules never grant reading the trail', () => {
  const p = policy(`
- id: everything-everywhere
  effect: allow
  subjects: { users: [alice] }
  verbs: ["*"]
  apiGroups: ["*"]
  resources: ["*"]
- id: all-connections
  effect: allow
  subjects: { users: [alice] }
  connections: ["*"]
  verbs: [list]
  resources: [events]
`);
  const d = decide(alice, list, p);
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.rules, [], 'no rule matched: the default deny');
  assert.equal(decide(alice, list, policy(AUDIT)).effect, 'allow');
});

test('auditScope is refused on deny rules and accepts only self', () => {
  const onDeny = problemsOf(() => policy('- { id: x, effect: deny, connections: [sluice], auditScope: self }'));
  assert.match(onDeny, /test\.yaml:1:\d+ 0\.auditScope: auditScope belongs to allow and review rules/);
  const bad = problemsOf(() => policy('- { id: x, effect: allow, subjects: { users: [a] }, verbs: [list], resources: [events], auditScope: all }'));
  assert.match(bad, /0\.auditScope: auditScope is "self"/);
  assert.equal(policy(AUDIT).rules[1]!.auditScope, 'self');
});

test('a Kubernetes request decided by a scoped rule is unaffected but for the directive it carries', () => {
  const p = policy(`
- { id: dev/read, effect: allow, subjects: { groups: [developers] }, verbs: [get], resources: [pods] }
`);
  const d = decide(bob, req(), p);
  assert.equal(d.effect, 'allow');
  assert.equal(d.auditScope, undefined);
});

test('policy test cases: expectAuditScope passes when it matches and fails with the reason', () => {
  const request = '{ connection: sluice, verb: list, apiGroup: audit.sluice.dev, resource: events }';
  const cases = parseTestCases(
    `
cases:
  - name: alice sees all
    principal: { username: alice, groups: [sre] }
    request: ${request}
    expect: allow
    expectAuditScope: all
  - name: bob sees his own
    principal: { username: bob, groups: [developers] }
    request: ${request}
    expect: allow
    expectAuditScope: self
  - name: wrongly expects self
    principal: { username: alice, groups: [sre] }
    request: ${request}
    expect: allow
    expectAuditScope: self
  - name: wrongly expects all
    principal: { username: bob, groups: [developers] }
    request: ${request}
    expect: allow
    expectAuditScope: all
  - name: mallory is denied
    principal: { username: mallory }
    request: ${request}
    expect: deny
    expectAuditScope: self
`,
    'audit.yaml',
  );
  assert.equal(cases[1]!.expectAuditScope, 'self');
  const report = runTestCases(cases, policy(AUDIT));
  assert.deepEqual(report.results.map((r) => r.passed), [true, true, false, false, false]);
  assert.equal(report.results[2]!.message, '- expectAuditScope: self\n+ auditScope:       all (no auditScope in [audit/auditors])');
  assert.equal(report.results[3]!.message, '- expectAuditScope: all\n+ auditScope:       self (every deciding rule says auditScope: self: [audit/own])');
  assert.equal(report.results[4]!.message, '- expectAuditScope: self\n+ auditScope:       all (the request is denied)');
});

test('policy test cases: expectAuditScope takes only self or all', () => {
  const msg = problemsOf(
    () => parseTestCases('cases:\n  - principal: { username: a }\n    request: { verb: list, resource: events }\n    expect: allow\n    expectAuditScope: mine\n', 'bad.yaml'),
    'POLICY_TEST_INVALID',
  );
  assert.match(msg, /bad\.yaml:5:23 cases\.0\.expectAuditScope: expectAuditScope is "self"/);
});

test('configuration refuses a Kubernetes connection named sluice (reserved)', () => {
  assert.throws(
    () => parseConfig('connections:\n  - { name: sluice, inCluster: true }\n', 'c.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof SluiceError);
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.match(e.message, /c\.yaml:2:\d+ connections\.0\.name: "sluice" is reserved/);
      return true;
    },
  );
  assert.equal(parseConfig('connections:\n  - { name: sluice-prod, inCluster: true }\n', 'c.yaml').connections[0]!.name, 'sluice-prod');
});
