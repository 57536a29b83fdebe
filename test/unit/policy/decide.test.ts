import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../../src/policy/decide.ts';
import { nonResource, policy, principal, req } from './helpers.ts';

const bob = principal('bob', ['developers']);

test('default deny: no rule, no allow', () => {
  const d = decide(bob, req(), policy('[]'));
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.rules, []);
  assert.match(d.message, /no policy rule allows get pods in namespace dev for bob/);
});

test('an allow rule allows, and the decision names it with its source position', () => {
  const p = policy(`
- id: dev-read
  effect: allow
  subjects: { groups: [developers] }
  verbs: [get, list]
  resources: [pods]
  namespaces: [dev]
`);
  const d = decide(bob, req({ verb: 'list' }), p);
  assert.equal(d.effect, 'allow');
  assert.deepEqual(d.rules.map((r) => r.id), ['dev-read']);
  assert.deepEqual(d.rules[0]!.source, { file: 'test.yaml', line: 2, column: 3 });
  assert.equal(decide(bob, req({ verb: 'delete' }), p).effect, 'deny');
  assert.equal(decide(bob, req({ namespace: 'prod' }), p).effect, 'deny');
});

test('precedence: deny > review > allow, whatever the rule order', () => {
  const rules = {
    allow: `- { id: a, effect: allow, subjects: { users: [bob] }, verbs: ["*"], resources: ["*"] }\n`,
    review: `- { id: r, effect: review, message: needs ok, subjects: { users: [bob] }, verbs: [delete], resources: ["*"] }\n`,
    deny: `- { id: d, effect: deny, message: never, verbs: [delete], names: [db-*] }\n`,
  };
  for (const order of [['allow', 'review', 'deny'], ['deny', 'review', 'allow'], ['review', 'deny', 'allow']] as const) {
    const p = policy(order.map((k) => rules[k]).join(''));
    const del = (name: string) => decide(bob, req({ verb: 'delete', name }), p);
    assert.equal(del('db-0').effect, 'deny');
    assert.deepEqual(del('db-0').rules.map((r) => r.id), ['d']);
    assert.deepEqual(del('db-0').matched.map((r) => r.id).sort(), ['a', 'd', 'r']);
    assert.equal(del('db-0').message, 'never (rule d)');
    assert.equal(del('web-0').effect, 'review');
    assert.match(del('web-0').message, /^requires approval: needs ok \(rule r\)/);
    assert.equal(decide(bob, req({ verb: 'get' }), p).effect, 'allow');
  }
});

test('review carries its approval settings; several review rules are all required', () => {
  const p = policy(`
- id: r1
  effect: review
  subjects: { groups: [developers] }
  verbs: [delete]
  resources: ["*"]
  review: { approvers: [approvers], minApprovals: 2, timeout: 1h30m }
- id: r2
  effect: review
  subjects: { users: ["*"] }
  verbs: [delete]
  resources: [pods]
`);
  const d = decide(bob, req({ verb: 'delete', name: 'x' }), p);
  assert.equal(d.effect, 'review');
  assert.deepEqual(d.review, [
    { ruleId: 'r1', approvers: ['approvers'], minApprovals: 2, timeoutMs: 5_400_000 },
    { ruleId: 'r2', approvers: [], minApprovals: 1 },
  ]);
});

test('subjects: users and groups as globs; a principal without groups matches no group rule', () => {
  const p = policy(`
- { id: g, effect: allow, subjects: { groups: ["team-*"] }, verbs: [get], resources: [pods] }
- { id: u, effect: allow, subjects: { users: ["system:serviceaccount:ci:?ot"] }, verbs: [list], resources: [pods] }
`);
  assert.equal(decide(principal('x', ['team-a']), req(), p).effect, 'allow');
  assert.equal(decide(principal('x', ['other']), req(), p).effect, 'deny');
  assert.equal(decide(principal('mallory', []), req(), p).effect, 'deny');
  assert.equal(decide(principal('system:serviceaccount:ci:bot'), req({ verb: 'list' }), p).effect, 'allow');
  assert.equal(decide(principal('system:serviceaccount:ci:robot'), req({ verb: 'list' }), p).effect, 'deny');
});

test('no groups → default deny, even with users: ["*"] rules only for groups', () => {
  const p = policy(`- { id: all-devs, effect: allow, subjects: { groups: ["*"] }, verbs: ["*"], resources: ["*"] }`);
  assert.equal(decide(principal('mallory', []), req(), p).effect, 'deny');
  assert.equal(decide(principal('bob', ['developers']), req(), p).effect, 'allow');
});

test('except removes subjects from a rule (deny for everyone but alice)', () => {
  const p = policy(`
- { id: ks, effect: deny, message: reserved, namespaces: [kube-system], except: { users: [alice] } }
- { id: read, effect: allow, subjects: { users: ["*"] }, verbs: [get], resources: ["*"] }
`);
  assert.equal(decide(principal('alice'), req({ namespace: 'kube-system' }), p).effect, 'allow');
  assert.equal(decide(principal('bob'), req({ namespace: 'kube-system' }), p).effect, 'deny');
  assert.equal(decide(principal('', ['x']), req({ namespace: 'kube-system' }), p).effect, 'deny');
});

test('names and namespaces are globs with * and ?; a request without a name never matches names', () => {
  const p = policy(`
- { id: n, effect: allow, subjects: { users: [bob] }, verbs: ["*"], resources: [pods], namespaces: ["team-?", "dev*"], names: ["web-*"] }
`);
  assert.equal(decide(bob, req({ namespace: 'team-a', name: 'web-1' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ namespace: 'dev-2', name: 'web-' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ namespace: 'team-ab', name: 'web-1' }), p).effect, 'deny');
  assert.equal(decide(bob, req({ namespace: 'dev', name: 'db-1' }), p).effect, 'deny');
  assert.equal(decide(bob, req({ namespace: 'dev', name: '' }), p).effect, 'deny', 'a list has no name');
  assert.equal(decide(bob, req({ namespace: '', name: 'web-1' }), p).effect, 'deny', 'cluster-wide is not a namespace');
});

test('namespaces: "*" matches every namespace and cluster-scoped requests; "" only cluster-scoped', () => {
  const p = policy(`
- { id: any, effect: allow, subjects: { users: [bob] }, verbs: [list], resources: [pods], namespaces: ["*"] }
- { id: cluster, effect: allow, subjects: { users: [bob] }, verbs: [get], resources: [nodes], namespaces: [""] }
`);
  assert.equal(decide(bob, req({ verb: 'list', namespace: '' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ verb: 'list', namespace: 'x' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ resource: 'nodes', namespace: '' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ resource: 'nodes', namespace: 'dev' }), p).effect, 'deny');
});

test('resources: pods excludes subresources; pods/log, pods/*, */status and * match as documented', () => {
  const rule = (id: string, res: string) => `- { id: ${id}, effect: allow, subjects: { users: [bob] }, verbs: [get], resources: ["${res}"] }\n`;
  const check = (res: string, resource: string, want: 'allow' | 'deny') =>
    assert.equal(decide(bob, req({ resource }), policy(rule('r', res))).effect, want, `${res} vs ${resource}`);
  check('pods', 'pods', 'allow');
  check('pods', 'pods/log', 'deny');
  check('pods/log', 'pods/log', 'allow');
  check('pods/log', 'pods', 'deny');
  check('pods/*', 'pods/log', 'allow');
  check('pods/*', 'pods', 'deny');
  check('*/status', 'deployments/status', 'allow');
  check('*/status', 'deployments', 'deny');
  check('*', 'pods', 'allow');
  check('*', 'pods/log', 'allow');
  check('config*', 'configmaps', 'allow');
});

test('apiGroups: "" is the core group, * is every group', () => {
  const p = policy(`
- { id: core, effect: allow, subjects: { users: [bob] }, verbs: [get], apiGroups: [""], resources: ["*"] }
- { id: apps, effect: allow, subjects: { users: [bob] }, verbs: [list], apiGroups: ["*"], resources: [deployments] }
`);
  assert.equal(decide(bob, req({ resource: 'pods' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ resource: 'deployments', apiGroup: 'apps' }), p).effect, 'deny');
  assert.equal(decide(bob, req({ verb: 'list', resource: 'deployments', apiGroup: 'apps' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ verb: 'list', resource: 'deployments', apiGroup: 'extensions' }), p).effect, 'allow');
});

test('verbs: * matches every verb, others match exactly', () => {
  const p = policy(`- { id: v, effect: allow, subjects: { users: [bob] }, verbs: ["*"], resources: [configmaps] }`);
  for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']) {
    assert.equal(decide(bob, req({ verb, resource: 'configmaps' }), p).effect, 'allow', verb);
  }
});

test('non-resource URLs: exact or * suffix; resource rules never match them and vice versa', () => {
  const p = policy(`
- { id: disc, effect: allow, subjects: { users: [bob] }, verbs: [get], nonResourceURLs: [/api, /apis/*, /version] }
- { id: res, effect: allow, subjects: { users: [bob] }, verbs: [get], resources: ["*"] }
`);
  assert.equal(decide(bob, nonResource('/api'), p).effect, 'allow');
  assert.equal(decide(bob, nonResource('/apis/apps/v1'), p).effect, 'allow');
  assert.equal(decide(bob, nonResource('/version'), p).effect, 'allow');
  assert.equal(decide(bob, nonResource('/version/x'), p).effect, 'deny');
  assert.equal(decide(bob, nonResource('/apis'), p).effect, 'deny');
  assert.equal(decide(bob, nonResource('/healthz'), p).effect, 'deny');
  assert.equal(decide(bob, nonResource('/api', 'post'), p).effect, 'deny');
  assert.deepEqual(decide(bob, req(), p).rules.map((r) => r.id), ['res']);
});

test('a deny rule with only subjects matches resource and non-resource requests alike', () => {
  const p = policy(`
- { id: block, effect: deny, subjects: { users: [mallory] } }
- { id: all, effect: allow, subjects: { users: ["*"] }, verbs: ["*"], nonResourceURLs: ["*"] }
`);
  assert.equal(decide(principal('mallory'), nonResource('/version'), p).effect, 'deny');
  assert.equal(decide(principal('mallory'), req(), p).effect, 'deny');
  assert.equal(decide(principal('bob'), nonResource('/version'), p).effect, 'allow');
});

test('connections are globs over the target connection', () => {
  const p = policy(`- { id: c, effect: allow, subjects: { users: [bob] }, connections: ["staging-*"], verbs: [get], resources: [pods] }`);
  assert.equal(decide(bob, req({ connection: 'staging-eu' }), p).effect, 'allow');
  assert.equal(decide(bob, req({ connection: 'prod-eu' }), p).effect, 'deny');
});

test('CEL condition on the request body: object.spec.replicas > 10 holds for review', () => {
  const p = policy(`
- { id: write, effect: allow, subjects: { groups: [developers] }, verbs: [create, update, patch], apiGroups: [apps], resources: [deployments] }
- id: big
  effect: review
  message: more than 10 replicas needs approval
  subjects: { groups: [developers] }
  verbs: [create, update, patch]
  apiGroups: [apps]
  resources: [deployments]
  condition: object != null && has(object.spec) && has(object.spec.replicas) && object.spec.replicas > 10
`);
  const write = (object: unknown) => decide(bob, req({ verb: 'create', apiGroup: 'apps', resource: 'deployments', object }), p);
  assert.equal(write({ spec: { replicas: 3 } }).effect, 'allow');
  assert.equal(write({ spec: { replicas: 11 } }).effect, 'review');
  assert.equal(write({ spec: {} }).effect, 'allow');
  assert.equal(write(undefined).effect, 'allow');
  assert.deepEqual(write({ spec: { replicas: 3 } }).errors, []);
});

test('CEL variables: request, principal, and JSON integers as CEL ints', () => {
  const p = policy(`
- id: c
  effect: allow
  subjects: { users: ["*"] }
  verbs: ["*"]
  resources: ["*"]
  condition: >-
    request.namespace.startsWith("team-") && request.namespace == "team-" + principal.username
    && "devs" in principal.groups && principal.kind == "" && (object == null || object.spec.replicas + 1 == 4)
`);
  const alice = principal('alice', ['devs']);
  assert.equal(decide(alice, req({ namespace: 'team-alice' }), p).effect, 'allow');
  assert.equal(decide(alice, req({ namespace: 'team-bob' }), p).effect, 'deny');
  assert.equal(decide(alice, req({ namespace: 'team-alice', verb: 'create', object: { spec: { replicas: 3 } } }), p).effect, 'allow');
});

test('CEL error fails closed: a deny/review rule counts as matching, an allow rule never, and it is reported', () => {
  const p = policy(`
- { id: allow-small, effect: allow, subjects: { users: [bob] }, verbs: [create], resources: [deployments], condition: object.spec.replicas < 5 }
- { id: deny-big, effect: deny, message: too big, subjects: { users: [bob] }, verbs: [create], resources: [deployments], condition: object.spec.replicas > 100 }
`);
  const d = decide(bob, req({ verb: 'create', resource: 'deployments', object: { kind: 'Deployment' } }), p);
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.rules.map((r) => [r.id, r.conditionError]), [['deny-big', true]]);
  assert.deepEqual(d.errors.map((e) => e.ruleId).sort(), ['allow-small', 'deny-big']);
  assert.match(d.errors[0]!.message, /condition could not be evaluated: No such key: spec/);

  const onlyAllow = policy(`- { id: allow-small, effect: allow, subjects: { users: [bob] }, verbs: [create], resources: [deployments], condition: object.spec.replicas < 5 }`);
  const d2 = decide(bob, req({ verb: 'create', resource: 'deployments' }), onlyAllow);
  assert.equal(d2.effect, 'deny', 'object is null: the allow rule errors and does not allow');
  assert.equal(d2.errors.length, 1);
});

test('CEL: a non-bool result at run time is an error, not a truthy value', () => {
  const p = policy(`- { id: a, effect: allow, subjects: { users: [bob] }, verbs: [create], resources: [pods], condition: object.metadata.labels.enabled }`);
  const d = decide(bob, req({ verb: 'create', object: { metadata: { labels: { enabled: 'yes' } } } }), p);
  assert.equal(d.effect, 'deny');
  assert.match(d.errors[0]!.message, /not a bool/);
});

test('CEL: hostile bodies (prototype keys, deep nesting) neither crash nor allow', () => {
  const p = policy(`
- { id: a, effect: allow, subjects: { users: [bob] }, verbs: [create], resources: [pods], condition: 'has(object.spec) && object.spec.ok == true' }
- { id: r, effect: review, subjects: { users: [bob] }, verbs: [create], resources: [pods], condition: '"__proto__" in object && object.x == 1' }
`);
  const proto = JSON.parse('{"__proto__": {"spec": {"ok": true}}, "constructor": 1}') as unknown;
  assert.equal(decide(bob, req({ verb: 'create', object: proto }), p).effect, 'review');
  let deep: unknown = { spec: { ok: true } };
  for (let i = 0; i < 200; i++) deep = { spec: deep };
  const d = decide(bob, req({ verb: 'create', object: deep }), p);
  assert.equal(d.effect, 'review', 'conversion error: the review rule matches fail-closed, the allow rule does not');
  assert.ok(d.errors.some((e) => /nested deeper/.test(e.message)));
});

test('guarded operations: wildcards do not grant exec, proxy, tokens, impersonation or RBAC writes; naming them does', () => {
  const wide = policy(`- { id: wide, effect: allow, subjects: { users: [alice] }, verbs: ["*"], apiGroups: ["*"], resources: ["*"] }`);
  const alice = principal('alice');
  const guarded = [
    req({ verb: 'create', resource: 'pods/exec', name: 'w' }),
    req({ verb: 'get', resource: 'pods/exec', name: 'w' }),
    req({ verb: 'get', resource: 'pods/attach', name: 'w' }),
    req({ verb: 'create', resource: 'pods/portforward', name: 'w' }),
    req({ verb: 'patch', resource: 'pods/ephemeralcontainers', name: 'w' }),
    req({ verb: 'get', resource: 'nodes/proxy', namespace: '', name: 'n' }),
    req({ verb: 'get', resource: 'services/proxy', name: 's' }),
    req({ verb: 'proxy', resource: 'pods', name: 'w' }),
    req({ verb: 'create', resource: 'serviceaccounts/token', name: 'default' }),
    req({ verb: 'impersonate', resource: 'users', namespace: '', name: 'system:admin' }),
    req({ verb: 'impersonate', resource: 'serviceaccounts', name: 'default' }),
    req({ verb: 'bind', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', name: 'cluster-admin' }),
    req({ verb: 'escalate', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', name: 'edit' }),
    req({ verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings' }),
    req({ verb: 'patch', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', namespace: '', name: 'edit' }),
    req({ verb: 'update', apiGroup: 'certificates.k8s.io', resource: 'certificatesigningrequests/approval', namespace: '', name: 'csr-1' }),
  ];
  for (const r of guarded) {
    const d = decide(alice, r, wide);
    assert.equal(d.effect, 'deny', `${r.verb} ${r.resource}/${r.subresource}`);
    assert.match(d.message, /guarded operation/);
  }
  assert.equal(decide(alice, req({ verb: 'get', apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings' }), wide).effect, 'allow', 'reading RBAC is not guarded');

  const named = policy(`
- { id: exec, effect: allow, subjects: { users: [alice] }, verbs: ["*"], resources: [pods/exec] }
- { id: imp, effect: review, subjects: { users: [alice] }, verbs: [impersonate], resources: ["*"] }
- { id: rb, effect: allow, subjects: { users: [alice] }, verbs: ["*"], apiGroups: ["*"], resources: [rolebindings] }
- { id: glob, effect: allow, subjects: { users: [alice] }, verbs: ["*"], resources: ["pods/p*"] }
`);
  assert.equal(decide(alice, req({ verb: 'create', resource: 'pods/exec', name: 'w' }), named).effect, 'allow');
  assert.equal(decide(alice, req({ verb: 'impersonate', resource: 'users', namespace: '', name: 'x' }), named).effect, 'review');
  assert.equal(decide(alice, req({ verb: 'create', apiGroup: 'rbac.authorization.k8s.io', resource: 'rolebindings' }), named).effect, 'allow');
  assert.equal(decide(alice, req({ verb: 'create', resource: 'pods/portforward', name: 'w' }), named).effect, 'deny', 'a glob is not a name');
});

test('decide is pure: same inputs, same decision; inputs are not modified', () => {
  const p = policy(`- { id: a, effect: allow, subjects: { users: [bob] }, verbs: [create], resources: [pods], condition: 'object.spec.n == 1' }`);
  const r = req({ verb: 'create', object: { spec: { n: 1 } } });
  const before = JSON.stringify(r);
  assert.deepEqual(decide(bob, r, p), decide(bob, r, p));
  assert.equal(JSON.stringify(r), before);
});
