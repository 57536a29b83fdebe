import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../../src/policy/decide.ts';
import { policy, principal, req } from './helpers.ts';

// A body the gateway could not decode (e.g. a protobuf field it does not know) is forwarded as
// it is; a condition that reads `object` must then fail closed, whatever guards it uses.
const set = policy(`
- id: dev/write
  effect: allow
  subjects: { groups: [developers] }
  verbs: [create]
  resources: [configmaps]
  namespaces: [dev]
- id: dev/no-blocked
  effect: deny
  message: no blocked- names
  verbs: [create]
  resources: [configmaps]
  condition: 'object != null && has(object.metadata) && object.metadata.name.startsWith("blocked-")'
- id: dev/small-only
  effect: allow
  subjects: { groups: [developers] }
  verbs: [create]
  resources: [secrets]
  namespaces: [dev]
  condition: 'has(object.data) && size(object.data) < 3'
`);
const bob = principal('bob', ['developers']);

test('a deny rule guarded with has() still matches when the body could not be decoded', () => {
  const d = decide(bob, req({ verb: 'create', resource: 'configmaps', namespace: 'dev', objectError: 'unknown field 99' }), set);
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.rules.map((r) => r.id), ['dev/no-blocked']);
  assert.match(d.errors[0]?.message ?? '', /unknown field 99/);
});

test('an allow rule whose condition reads the body does not allow an undecodable body', () => {
  const d = decide(bob, req({ verb: 'create', resource: 'secrets', namespace: 'dev', objectError: 'unknown field 99' }), set);
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.rules, []);
});

test('rules without conditions on the body are unaffected', () => {
  const ok = decide(bob, req({ verb: 'create', resource: 'configmaps', namespace: 'dev', object: { metadata: { name: 'fine' } } }), set);
  assert.equal(ok.effect, 'allow');
});
