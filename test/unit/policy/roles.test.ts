import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SluiceError } from '../../../src/core/errors.ts';
import { decide, type ActiveGrant } from '../../../src/policy/decide.ts';
import { canRequestRole } from '../../../src/policy/grants.ts';
import { loadPolicies, parsePolicies } from '../../../src/policy/load-policies.ts';
import { parseTestCases, runTestCases } from '../../../src/policy/policy-test.ts';
import { policy, principal, req } from './helpers.ts';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    assert.equal(e.code, 'POLICY_INVALID');
    return e.message;
  }
  assert.fail('expected POLICY_INVALID');
}

const ROLES = `
rules:
  - id: dev/read
    effect: allow
    subjects: { groups: [developers] }
    verbs: [get, list]
    resources: ["*"]
    namespaces: [dev, prod]
  - id: no-db-delete
    effect: deny
    message: databases are not deleted by hand
    verbs: [delete]
    names: ["db-*"]
roles:
  - name: prod-write
    description: write access to prod for a change window
    requestableBy: { groups: [developers, sre] }
    maxDuration: 1h
    review: { approvers: [approvers], minApprovals: 2, timeout: 30m, requireReason: true }
    rules:
      - id: prod-write/workloads
        effect: allow
        verbs: [create, update, patch, delete]
        resources: ["*"]
        namespaces: [prod]
      - id: prod-write/scale-big
        effect: review
        message: more than 10 replicas in prod
        verbs: [create, update, patch]
        apiGroups: [apps]
        resources: [deployments]
        namespaces: [prod]
        condition: object != null && has(object.spec) && has(object.spec.replicas) && object.spec.replicas > 10
        review: { approvers: [sre], requireReason: true }
  - name: prod-exec
    requestableBy: { users: [alice] }
    maxDuration: 15m
    rules:
      - id: prod-exec/wide
        effect: allow
        verbs: ["*"]
        resources: ["*"]
        namespaces: [prod]
      - id: prod-exec/named
        effect: allow
        verbs: ["*"]
        resources: [pods/exec]
        namespaces: [staging]
`;

const bob = principal('bob', ['developers']);
const carol = principal('carol', ['developers']);
const alice = principal('alice', ['sre']);
const until = new Date('2030-01-01T00:00:00Z');
const grantOf = (p: typeof bob, role: string, id = `g-${p.username}-${role}`): ActiveGrant => ({
  id,
  role,
  username: p.username,
  issuer: p.issuer,
  subject: p.subject,
  activeUntil: until,
});

test('roles load into PolicySet.roles with compiled rules, maxDuration in ms and review settings; their rules are not ordinary rules', () => {
  const p = policy(ROLES);
  assert.deepEqual(p.rules.map((r) => r.id), ['dev/read', 'no-db-delete']);
  assert.deepEqual([...p.roles.keys()], ['prod-write', 'prod-exec']);
  const role = p.roles.get('prod-write')!;
  assert.equal(role.maxDurationMs, 3_600_000);
  assert.equal(role.description, 'write access to prod for a change window');
  assert.deepEqual(role.review, { approvers: ['approvers'], minApprovals: 2, timeoutMs: 1_800_000, requireReason: true });
  assert.deepEqual(role.rules.map((r) => [r.id, r.effect, r.subjects]), [
    ['prod-write/workloads', 'allow', undefined],
    ['prod-write/scale-big', 'review', undefined],
  ]);
  assert.deepEqual(role.source, { file: 'test.yaml', line: 15, column: 5 });
  assert.deepEqual(p.roles.get('prod-exec')!.review, { approvers: [], minApprovals: 1, requireReason: false });
});

test('a file may be {roles: [...]} alone; the digest covers roles', () => {
  const text = 'roles:\n  - name: r\n    requestableBy: { users: [bob] }\n    maxDuration: 30m\n    rules:\n      - { id: r/get, effect: allow, verbs: [get], resources: [pods] }\n';
  const a = parsePolicies([{ source: 'a.yaml', text }]);
  assert.deepEqual([a.rules.length, a.roles.size], [0, 1]);
  const b = parsePolicies([{ source: 'a.yaml', text: text.replace('30m', '45m') }]);
  assert.notEqual(a.digest, b.digest);
  assert.equal(policy('- { id: x, effect: deny, verbs: [delete] }').roles.size, 0);
  assert.match(problemsOf(() => policy('{}')), /a policy file is a list of rules, or a map with rules: and\/or roles:/);
});

test('role schema problems are reported with their lines: unknown fields, deny rules, subjects, bad names and durations', () => {
  const text = [
    'roles:', //                                                       1
    '  - name: Prod_Write', //                                         2
    '    requestableBy: { groups: [developers] }', //                  3
    '    maxDuration: 1 hour', //                                      4
    '    approvers: [x]', //                                           5
    '    rules:', //                                                   6
    '      - id: r/deny', //                                           7
    '        effect: deny', //                                         8
    '        verbs: [delete]', //                                      9
    '      - id: r/subjects', //                                       10
    '        effect: allow', //                                        11
    '        subjects: { users: [bob] }', //                           12
    '        verbs: [get]', //                                         13
    '        resources: [pods]', //                                    14
    '      - id: r/except', //                                         15
    '        effect: allow', //                                        16
    '        except: { users: [bob] }', //                             17
    '        verbs: [get]', //                                         18
    '        resources: [pods]', //                                    19
    '      - id: r/wide', //                                           20
    '        effect: allow', //                                        21
    '        color: blue', //                                          22
    '  - name: no-rules', //                                           23
    '    maxDuration: 0s', //                                          24
    '    rules: []', //                                                25
  ].join('\n');
  const msg = problemsOf(() => parsePolicies([{ source: 'r.yaml', text }]));
  assert.match(msg, /r\.yaml:2:11 roles\.0\.name: a role name is lower-case letters/);
  assert.match(msg, /r\.yaml:4:18 roles\.0\.maxDuration: a duration/);
  assert.equal(msg.match(/roles\.0\.maxDuration/g)?.length, 1, 'a malformed duration is one problem');
  assert.match(msg, /r\.yaml:2:5 roles\.0: Unrecognized key: "approvers"/);
  assert.match(msg, /r\.yaml:8:17 roles\.0\.rules\.0\.effect: a role rule is allow or review/);
  assert.match(msg, /r\.yaml:12:19 roles\.0\.rules\.1\.subjects: a role rule has no subjects/);
  assert.match(msg, /r\.yaml:17:17 roles\.0\.rules\.2\.except: a role rule has no except/);
  assert.match(msg, /r\.yaml:20:9 roles\.0\.rules\.3: Unrecognized key: "color"/);
  assert.match(msg, /roles\.0\.rules\.3\.effect: an allow rule must list its verbs/);
  assert.match(msg, /r\.yaml:23:5 roles\.1\.requestableBy: /);
  assert.match(msg, /r\.yaml:24:18 roles\.1\.maxDuration: maxDuration must be longer than 0s/);
  assert.match(msg, /r\.yaml:25:12 roles\.1\.rules: a role needs at least one rule/);
  assert.doesNotMatch(msg, /must name its subjects/);
});

test('role names are unique across files; role rule ids are unique together with rule ids', () => {
  const role = (name: string, id: string) =>
    `roles:\n  - name: ${name}\n    requestableBy: { users: [bob] }\n    maxDuration: 1h\n    rules:\n      - { id: ${id}, effect: allow, verbs: [get], resources: [pods] }\n`;
  const dupName = problemsOf(() =>
    parsePolicies([
      { source: 'a.yaml', text: role('ops', 'ops/a') },
      { source: 'b.yaml', text: role('ops', 'ops/b') },
    ]),
  );
  assert.match(dupName, /b\.yaml:2:11 roles\.0\.name: duplicate role name "ops" \(first defined at a\.yaml:2:5\)/);

  const dupId = problemsOf(() =>
    parsePolicies([
      { source: 'a.yaml', text: '- { id: same, effect: deny, verbs: [delete] }\n' },
      { source: 'b.yaml', text: role('ops', 'same') },
    ]),
  );
  assert.match(dupId, /b\.yaml:6:15 roles\.0\.rules\.0\.id: duplicate rule id "same" \(first defined at a\.yaml:1:3\)/);

  const inOneFile = problemsOf(() => policy(`rules:\n  - { id: x, effect: deny, verbs: [delete] }\n${role('ops', 'x')}`));
  assert.match(inOneFile, /roles\.0\.rules\.0\.id: duplicate rule id "x"/);
});

test('a role rule whose CEL condition does not compile is reported at its line', () => {
  const text = 'roles:\n  - name: r\n    requestableBy: { users: [bob] }\n    maxDuration: 1h\n    rules:\n      - id: r/c\n        effect: allow\n        verbs: [get]\n        resources: [pods]\n        condition: object.spec >\n';
  assert.match(problemsOf(() => policy(text)), /test\.yaml:10:20 roles\.0\.rules\.0\.condition: CEL: /);
});

test('without a grant, role rules never apply', () => {
  const p = policy(ROLES);
  const d = decide(bob, req({ verb: 'patch', namespace: 'prod', name: 'web' }), p);
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.matched, []);
  assert.equal(decide(bob, req({ verb: 'patch', namespace: 'prod', name: 'web' }), p, { grants: [] }).effect, 'deny');
});

test("a grant adds its role's rules for its holder; the deciding rule names the grant", () => {
  const p = policy(ROLES);
  const d = decide(bob, req({ verb: 'patch', namespace: 'prod', name: 'web' }), p, { grants: [grantOf(bob, 'prod-write', 'appr-1')] });
  assert.equal(d.effect, 'allow');
  assert.deepEqual(d.rules.map((r) => [r.id, r.grant]), [['prod-write/workloads', 'appr-1']]);
  assert.equal(d.message, 'allowed by rule prod-write/workloads');
  assert.deepEqual(d.rules[0]!.source, { file: 'test.yaml', line: 21, column: 9 });
  // Ordinary rules carry no grant.
  const read = decide(bob, req({ verb: 'get', namespace: 'prod' }), p, { grants: [grantOf(bob, 'prod-write')] });
  assert.deepEqual(read.rules.map((r) => [r.id, r.grant]), [['dev/read', undefined]]);
  // The role covers only what it says.
  assert.equal(decide(bob, req({ verb: 'patch', namespace: 'dev', name: 'web' }), p, { grants: [grantOf(bob, 'prod-write')] }).effect, 'deny');
});

test("another person's grant never applies, not even with the same username; only issuer + subject count", () => {
  const p = policy(ROLES);
  const r = req({ verb: 'patch', namespace: 'prod', name: 'web' });
  assert.equal(decide(bob, r, p, { grants: [grantOf(carol, 'prod-write')] }).effect, 'deny');
  const sameNameOtherIssuer = { ...grantOf(bob, 'prod-write'), issuer: 'https://other-issuer.test' };
  assert.equal(decide(bob, r, p, { grants: [sameNameOtherIssuer] }).effect, 'deny');
  const sameNameOtherSubject = { ...grantOf(bob, 'prod-write'), subject: 'someone-else' };
  assert.equal(decide(bob, r, p, { grants: [sameNameOtherSubject] }).effect, 'deny');
  assert.equal(decide(bob, r, p, { grants: [grantOf(carol, 'prod-write'), grantOf(bob, 'prod-write', 'mine')] }).rules[0]!.grant, 'mine');
});

test('a grant of a role the policy no longer defines adds nothing', () => {
  const p = policy(ROLES);
  const d = decide(bob, req({ verb: 'patch', namespace: 'prod', name: 'web' }), p, { grants: [grantOf(bob, 'gone')] });
  assert.equal(d.effect, 'deny');
});

test("a grant's allow does not beat a deny; its review rule holds for review with its settings", () => {
  const p = policy(ROLES);
  const grants = [grantOf(bob, 'prod-write', 'appr-7')];
  const del = decide(bob, req({ verb: 'delete', namespace: 'prod', name: 'db-0' }), p, { grants });
  assert.equal(del.effect, 'deny');
  assert.deepEqual(del.rules.map((r) => r.id), ['no-db-delete']);
  assert.deepEqual(del.matched.map((r) => r.id).sort(), ['no-db-delete', 'prod-write/workloads']);
  assert.equal(decide(bob, req({ verb: 'delete', namespace: 'prod', name: 'web-0' }), p, { grants }).effect, 'allow');

  const big = decide(bob, req({ verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'prod', name: 'web', object: { spec: { replicas: 20 } } }), p, {
    grants,
  });
  assert.equal(big.effect, 'review');
  assert.deepEqual(big.rules.map((r) => [r.id, r.grant]), [['prod-write/scale-big', 'appr-7']]);
  assert.deepEqual(big.review, [{ ruleId: 'prod-write/scale-big', approvers: ['sre'], minApprovals: 1, requireReason: true }]);
  assert.match(big.message, /^requires approval: more than 10 replicas in prod \(rule prod-write\/scale-big\)/);
});

test('guarded operations apply to role rules: a wildcard in a role grants no exec; naming it does', () => {
  const p = policy(ROLES);
  const grants = [grantOf(alice, 'prod-exec')];
  const prod = decide(alice, req({ verb: 'create', resource: 'pods/exec', namespace: 'prod', name: 'w' }), p, { grants });
  assert.equal(prod.effect, 'deny');
  assert.match(prod.message, /guarded operation: rule "prod-exec\/wide" grants it only through a wildcard/);
  assert.equal(decide(alice, req({ verb: 'create', resource: 'pods/exec', namespace: 'staging', name: 'w' }), p, { grants }).effect, 'allow');
});

test('the same role granted twice counts once, named by the grant that lasts longest', () => {
  const p = policy(ROLES);
  const short = { ...grantOf(bob, 'prod-write', 'short'), activeUntil: new Date('2029-01-01T00:00:00Z') };
  const long = grantOf(bob, 'prod-write', 'long');
  const d = decide(bob, req({ verb: 'patch', namespace: 'prod', name: 'web' }), p, { grants: [short, long] });
  assert.deepEqual(d.rules.map((r) => r.grant), ['long']);
});

test('decide with grants is pure: same inputs, same decision; inputs are not modified', () => {
  const p = policy(ROLES);
  const grants = [grantOf(bob, 'prod-write')];
  const before = JSON.stringify(grants);
  const r = req({ verb: 'patch', namespace: 'prod', name: 'web' });
  assert.deepEqual(decide(bob, r, p, { grants }), decide(bob, r, p, { grants }));
  assert.equal(JSON.stringify(grants), before);
});

test('canRequestRole matches requestableBy like subjects', () => {
  const p = policy(ROLES);
  const prodWrite = p.roles.get('prod-write')!;
  const prodExec = p.roles.get('prod-exec')!;
  assert.equal(canRequestRole(bob, prodWrite), true);
  assert.equal(canRequestRole(alice, prodWrite), true);
  assert.equal(canRequestRole(principal('carol', ['approvers']), prodWrite), false);
  assert.equal(canRequestRole(principal('mallory'), prodWrite), false);
  assert.equal(canRequestRole(alice, prodExec), true);
  assert.equal(canRequestRole(bob, prodExec), false);
});

test('requireReason: defaults to false, is carried into the review requirement when true', () => {
  const p = policy(`
- { id: plain, effect: review, subjects: { users: [bob] }, verbs: [delete], resources: [pods] }
- { id: why, effect: review, subjects: { users: [bob] }, verbs: [delete], resources: [pods], names: [db-*], review: { requireReason: true, timeout: 10m } }
`);
  assert.deepEqual(decide(bob, req({ verb: 'delete', name: 'web' }), p).review, [{ ruleId: 'plain', approvers: [], minApprovals: 1 }]);
  assert.deepEqual(decide(bob, req({ verb: 'delete', name: 'db-0' }), p).review, [
    { ruleId: 'plain', approvers: [], minApprovals: 1 },
    { ruleId: 'why', approvers: [], minApprovals: 1, timeoutMs: 600_000, requireReason: true },
  ]);
  assert.match(problemsOf(() => policy('- { id: r, effect: review, subjects: { users: [a] }, verbs: [get], resources: [pods], review: { requireReason: yes please } }')), /0\.review\.requireReason/);
});

test('the demo policy: role prod-write for developers (1h, approvers), and a shell in prod needs a reason', async () => {
  const set = await loadPolicies('policies/demo');
  const role = set.roles.get('prod-write');
  assert.ok(role, 'no role prod-write in the demo policy');
  assert.equal(role.maxDurationMs, 3_600_000);
  assert.deepEqual(role.review, { approvers: ['approvers'], minApprovals: 1, requireReason: false });
  assert.equal(canRequestRole(principal('bob', ['developers']), role), true);
  assert.equal(canRequestRole(principal('carol', ['approvers']), role), false);
  assert.ok(role.rules.every((r) => r.effect === 'allow' && r.source.file.startsWith('policies/demo/')));

  const demoBob = principal('bob', ['developers']);
  const patchProd = req({ connection: 'default', verb: 'patch', apiGroup: 'apps', resource: 'deployments', namespace: 'prod', name: 'web' });
  assert.equal(decide(demoBob, patchProd, set).effect, 'deny');
  const granted = decide(demoBob, patchProd, set, { grants: [grantOf(demoBob, 'prod-write', 'g1')] });
  assert.equal(granted.effect, 'allow');
  assert.deepEqual(granted.rules.map((r) => [r.id, r.grant]), [['prod-write/workloads', 'g1']]);

  const exec = decide(principal('alice', ['sre', 'approvers']), req({ verb: 'create', resource: 'pods/exec', namespace: 'prod', name: 'web-1' }), set);
  assert.equal(exec.effect, 'review');
  assert.deepEqual(exec.review, [{ ruleId: 'sre/exec-prod', approvers: ['approvers'], minApprovals: 1, timeoutMs: 600_000, requireReason: true }]);
});

test('test cases: grants: [role] gives the principal an active grant; an unknown role fails the case', () => {
  const cases = parseTestCases(
    [
      'cases:',
      '  - principal: &bob { username: bob, groups: [developers] }',
      '    grants: [prod-write]',
      '    request: { verb: patch, resource: pods, namespace: prod, name: web }',
      '    expect: allow',
      '    expectRules: [prod-write/workloads]',
      '  - principal: *bob',
      '    request: { verb: patch, resource: pods, namespace: prod, name: web }',
      '    expect: deny',
      '  - principal: *bob',
      '    grants: [no-such-role]',
      '    request: { verb: get, resource: pods, namespace: dev }',
      '    expect: allow',
    ].join('\n'),
    'c.yaml',
  );
  assert.deepEqual(cases[0]!.grants, ['prod-write']);
  const report = runTestCases(cases, policy(ROLES));
  assert.deepEqual(report.results.map((r) => r.passed), [true, true, false]);
  assert.equal(report.results[0]!.decision.rules[0]!.grant, 'test:prod-write');
  assert.match(report.results[2]!.message, /- grants: role "no-such-role" is not defined in the policy/);
  assert.throws(
    () => parseTestCases('cases:\n  - principal: { username: a }\n    grants: []\n    request: { verb: get }\n    expect: deny\n', 'c.yaml'),
    (e: unknown) => e instanceof SluiceError && e.code === 'POLICY_TEST_INVALID' && /c\.yaml:3:13 cases\.0\.grants/.test(e.message),
  );
});
