/**
 * The `mask` directive of policy rules: `off` lifts response masking, `on` keeps it (most
 * restrictive wins), only for allow and review decisions, and `by` names the lifting rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type ActiveGrant } from '../../../src/policy/decide.ts';
import { parseTestCases, runTestCases } from '../../../src/policy/policy-test.ts';
import { policy, principal, problemsOf, req } from './helpers.ts';

const alice = principal('alice', ['sre']);
const bob = principal('bob', ['developers']);

const SRE = `
rules:
  - id: sre/all
    effect: allow
    subjects: { groups: [sre] }
    verbs: ["*"]
    resources: ["*"]
    namespaces: [dev, prod]
  - id: sre/secrets-dev
    effect: allow
    subjects: { groups: [sre] }
    verbs: [get, list]
    resources: [secrets]
    namespaces: [dev]
    mask: off
  - id: developers/read
    effect: allow
    subjects: { groups: [developers] }
    verbs: [get, list]
    resources: [pods, secrets]
    namespaces: [dev]
`;

test('masking stays on by default: no rule says mask: off', () => {
  const d = decide(bob, req({ resource: 'secrets' }), policy(SRE));
  assert.equal(d.effect, 'allow');
  assert.deepEqual(d.mask, { lifted: false, by: [] });
  assert.equal(d.rules[0]!.mask, undefined);
});

test('one matching mask: off rule lifts masking; by names it, and the rule entry carries the directive', () => {
  const p = policy(SRE);
  const d = decide(alice, req({ resource: 'secrets', name: 'db' }), p);
  assert.equal(d.effect, 'allow');
  assert.deepEqual(d.mask, { lifted: true, by: ['sre/secrets-dev'] });
  assert.equal(d.matched.find((r) => r.id === 'sre/secrets-dev')!.mask, 'off');
  assert.equal(d.matched.find((r) => r.id === 'sre/all')!.mask, undefined);
  // Outside the off rule's reach the same principal stays masked.
  assert.deepEqual(decide(alice, req({ resource: 'secrets', namespace: 'prod' }), p).mask, { lifted: false, by: [] });
  assert.deepEqual(decide(alice, req({ resource: 'configmaps' }), p).mask, { lifted: false, by: [] });
});

test('by lists every matching mask: off rule', () => {
  const p = policy(`${SRE}
  - id: sre/all-dev-clear
    effect: allow
    subjects: { users: [alice] }
    verbs: [get]
    resources: ["*"]
    namespaces: [dev]
    mask: off
`);
  const d = decide(alice, req({ resource: 'secrets' }), p);
  assert.equal(d.mask.lifted, true);
  assert.deepEqual([...d.mask.by].sort(), ['sre/all-dev-clear', 'sre/secrets-dev']);
});

test('a matching mask: on rule keeps masking, whatever the rule order', () => {
  const on = `
  - id: prod-db/keep-masked
    effect: allow
    subjects: { users: ["*"] }
    verbs: [get]
    resources: [secrets]
    names: ["db-*"]
    mask: on
`;
  for (const text of [`${SRE}${on}`, `rules:${on}${SRE.replace('rules:', '')}`]) {
    const p = policy(text);
    const d = decide(alice, req({ resource: 'secrets', name: 'db-main' }), p);
    assert.equal(d.effect, 'allow');
    assert.deepEqual(d.mask, { lifted: false, by: [] });
    assert.equal(d.matched.find((r) => r.id === 'prod-db/keep-masked')!.mask, 'on');
    // The on rule does not match other names: the off rule lifts again.
    assert.deepEqual(decide(alice, req({ resource: 'secrets', name: 'web' }), p).mask, { lifted: true, by: ['sre/secrets-dev'] });
  }
});

test('a deny decision never lifts masking, even when a matching allow rule says mask: off', () => {
  const p = policy(`${SRE}
  - id: no-tls-secrets
    effect: deny
    message: TLS keys are not read through Sluice
    names: ["tls-*"]
`);
  const d = decide(alice, req({ resource: 'secrets', name: 'tls-web' }), p);
  assert.equal(d.effect, 'deny');
  assert.ok(d.matched.some((r) => r.mask === 'off'));
  assert.deepEqual(d.mask, { lifted: false, by: [] });
  // The default deny has nothing to lift either.
  assert.deepEqual(decide(principal('mallory'), req({ resource: 'secrets' }), p).mask, { lifted: false, by: [] });
});

test('a review rule with mask: off lifts masking for the request once it is approved', () => {
  const p = policy(`
- id: sre/secrets-prod-clear
  effect: review
  message: reading prod secrets in clear needs an approver
  subjects: { groups: [sre] }
  verbs: [get]
  resources: [secrets]
  namespaces: [prod]
  review: { approvers: [approvers] }
  mask: off
`);
  const d = decide(alice, req({ resource: 'secrets', namespace: 'prod', name: 'db' }), p);
  assert.equal(d.effect, 'review');
  assert.deepEqual(d.mask, { lifted: true, by: ['sre/secrets-prod-clear'] });
});

test('an allow rule with mask: off lifts masking also when a review rule decides the effect', () => {
  const p = policy(`
- { id: read-clear, effect: allow, subjects: { users: [alice] }, verbs: ["*"], resources: [secrets], mask: off }
- { id: delete-held, effect: review, subjects: { users: [alice] }, verbs: [delete], resources: [secrets] }
`);
  const d = decide(alice, req({ verb: 'delete', resource: 'secrets', name: 'x' }), p);
  assert.equal(d.effect, 'review');
  assert.deepEqual(d.mask, { lifted: true, by: ['read-clear'] });
});

test('a mask: off rule that counts only because its condition failed never lifts masking (fail closed)', () => {
  const p = policy(`
- id: clear-when-labelled
  effect: review
  subjects: { users: [alice] }
  verbs: [get]
  resources: [secrets]
  condition: object.metadata.labels.clear == "yes"
  mask: off
`);
  const d = decide(alice, req({ resource: 'secrets', name: 'x' }), p);
  assert.equal(d.effect, 'review');
  assert.equal(d.matched[0]!.conditionError, true);
  assert.deepEqual(d.mask, { lifted: false, by: [] });
});

const ROLE = `
rules:
  - id: developers/read
    effect: allow
    subjects: { groups: [developers] }
    verbs: [get, list]
    resources: [pods, secrets]
    namespaces: [dev, prod]
roles:
  - name: secrets-clear
    requestableBy: { groups: [developers] }
    maxDuration: 1h
    rules:
      - id: secrets-clear/prod
        effect: allow
        verbs: [get]
        resources: [secrets]
        namespaces: [prod]
        mask: off
`;

const grant = (role: string, p = bob): ActiveGrant => ({
  id: `g-${role}`,
  role,
  username: p.username,
  issuer: p.issuer,
  subject: p.subject,
  activeUntil: new Date('2100-01-01T00:00:00Z'),
});

test("a role grant's mask: off rule lifts masking for the grantee, and the entry names the grant", () => {
  const p = policy(ROLE);
  const r = req({ resource: 'secrets', namespace: 'prod', name: 'db' });
  assert.deepEqual(decide(bob, r, p).mask, { lifted: false, by: [] });
  const d = decide(bob, r, p, { grants: [grant('secrets-clear')] });
  assert.equal(d.effect, 'allow');
  assert.deepEqual(d.mask, { lifted: true, by: ['secrets-clear/prod'] });
  const e = d.matched.find((m) => m.id === 'secrets-clear/prod')!;
  assert.equal(e.grant, 'g-secrets-clear');
  assert.equal(e.mask, 'off');
  // Somebody else's grant lifts nothing for bob.
  assert.equal(decide(bob, r, p, { grants: [grant('secrets-clear', principal('carol', ['developers']))] }).mask.lifted, false);
});

test('a mask directive on a deny rule is rejected at load, at its line', () => {
  const msg = problemsOf(() =>
    policy(
      [
        '- id: no-secrets',
        '  effect: deny',
        '  resources: [secrets]',
        '  mask: off',
        '- id: no-tokens',
        '  effect: deny',
        '  resources: [serviceaccounts/token]',
        '  mask: on',
      ].join('\n'),
    ),
  );
  assert.match(msg, /test\.yaml:4:9 0\.mask: mask belongs to allow and review rules/);
  assert.match(msg, /test\.yaml:8:9 1\.mask: mask belongs to allow and review rules/);
});

test('mask accepts only off and on; role rules accept it too', () => {
  const msg = problemsOf(() => policy('- { id: x, effect: allow, subjects: { users: [a] }, verbs: [get], resources: [pods], mask: false }'));
  assert.match(msg, /0\.mask: mask is "off" .* or "on"/);
  const p = policy(ROLE);
  assert.equal(p.roles.get('secrets-clear')!.rules[0]!.mask, 'off');
  assert.equal(p.rules[0]!.mask, undefined);
});

test('policy test cases: expectMask passes when it matches and fails with a clear diff', () => {
  const cases = parseTestCases(
    `
cases:
  - name: alice reads dev secrets in clear
    principal: { username: alice, groups: [sre] }
    request: { verb: get, resource: secrets, namespace: dev, name: db }
    expect: allow
    expectMask: lifted
  - name: bob reads dev secrets masked
    principal: { username: bob, groups: [developers] }
    request: { verb: get, resource: secrets, namespace: dev, name: db }
    expect: allow
    expectMask: masked
  - name: wrongly expects masked
    principal: { username: alice, groups: [sre] }
    request: { verb: get, resource: secrets, namespace: dev, name: db }
    expect: allow
    expectMask: masked
  - name: wrongly expects lifted
    principal: { username: bob, groups: [developers] }
    request: { verb: get, resource: secrets, namespace: dev, name: db }
    expect: allow
    expectMask: lifted
`,
    'mask.yaml',
  );
  assert.equal(cases[0]!.expectMask, 'lifted');
  const report = runTestCases(cases, policy(SRE));
  assert.deepEqual(report.results.map((r) => r.passed), [true, true, false, false]);
  assert.equal(report.results[2]!.message, '- expectMask: masked\n+ mask:       lifted (lifted by [sre/secrets-dev])');
  assert.equal(report.results[3]!.message, '- expectMask: lifted\n+ mask:       masked (no matching rule says mask: off)');
});

test('policy test cases: expectMask takes only masked or lifted', () => {
  const msg = problemsOf(
    () => parseTestCases('cases:\n  - principal: { username: a }\n    request: { verb: get, resource: pods }\n    expect: allow\n    expectMask: off\n', 'bad.yaml'),
    'POLICY_TEST_INVALID',
  );
  assert.match(msg, /bad\.yaml:5:17 cases\.0\.expectMask: expectMask is "masked"/);
});
