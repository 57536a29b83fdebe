/**
 * couldAllow / connectionsAllowing: what an MCP client is shown. Over the demo policies and
 * small written ones: allow and review rules count, deny rules and guarded operations behave
 * as in decide(), connections narrow, grants add their role's rules, and `sluice` is never offered.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Principal } from '../../../src/core/principal.ts';
import { connectionsAllowing, couldAllow } from '../../../src/policy/could-allow.ts';
import type { ActiveGrant } from '../../../src/policy/grants.ts';
import { loadPolicies, parsePolicies } from '../../../src/policy/load-policies.ts';

const who = (username: string, groups: string[]): Principal => ({ issuer: 'https://idp', subject: username, username, groups });
const bob = who('bob', ['developers']);
const alice = who('alice', ['sre', 'approvers']);
const mallory = who('mallory', []);
const conns = { connections: ['demo'] };

test('demo policies: bob could read and delete (held in prod) but never exec; alice could exec; mallory nothing', async () => {
  const p = await loadPolicies('policies/demo');
  assert.equal(couldAllow(bob, { verbs: ['get'] }, p, conns), true);
  assert.equal(couldAllow(bob, { verbs: ['delete'] }, p, conns), true);
  assert.equal(couldAllow(bob, { verbs: ['create', 'get'], resource: 'pods/exec' }, p, conns), false);
  assert.equal(couldAllow(alice, { verbs: ['create', 'get'], resource: 'pods/exec' }, p, conns), true);
  assert.equal(couldAllow(mallory, { verbs: ['delete'] }, p, conns), false);
});

test('a wildcard never grants a guarded operation; naming it literally does', () => {
  const wild = parsePolicies([{ source: 'w.yaml', text: 'rules:\n  - id: all\n    effect: allow\n    subjects: {groups: [ops]}\n    verbs: ["*"]\n    resources: ["*"]\n' }]);
  const ops = who('o', ['ops']);
  assert.equal(couldAllow(ops, { verbs: ['create'], resource: 'pods/exec' }, wild, conns), false);
  assert.equal(couldAllow(ops, { verbs: ['get'], resource: 'pods/log' }, wild, conns), true);
  const named = parsePolicies([{ source: 'n.yaml', text: 'rules:\n  - id: exec\n    effect: review\n    subjects: {groups: [ops]}\n    verbs: ["*"]\n    resources: [pods/exec]\n' }]);
  assert.equal(couldAllow(ops, { verbs: ['create'], resource: 'pods/exec' }, named, conns), true);
});

test('deny rules and rules for other subjects do not count; `except` excludes', () => {
  const p = parsePolicies([
    {
      source: 'p.yaml',
      text: [
        'rules:',
        '  - id: deny-all',
        '    effect: deny',
        '    subjects: {groups: [dev]}',
        '  - id: others',
        '    effect: allow',
        '    subjects: {groups: [ops]}',
        '    verbs: [get]',
        '    resources: ["*"]',
        '  - id: everyone-but-eve',
        '    effect: allow',
        '    subjects: {groups: [dev]}',
        '    except: {users: [eve]}',
        '    verbs: [list]',
        '    resources: ["*"]',
      ].join('\n'),
    },
  ]);
  assert.equal(couldAllow(who('d', ['dev']), { verbs: ['get'] }, p, conns), false);
  assert.equal(couldAllow(who('d', ['dev']), { verbs: ['list'] }, p, conns), true);
  assert.equal(couldAllow(who('eve', ['dev']), { verbs: ['list'] }, p, conns), false);
});

test('connections narrow what is offered, and the reserved connection sluice is never offered', () => {
  const p = parsePolicies([
    { source: 'c.yaml', text: 'rules:\n  - id: staging\n    effect: allow\n    subjects: {groups: [dev]}\n    connections: [staging, sluice]\n    verbs: [get]\n    resources: ["*"]\n' },
  ]);
  const d = who('d', ['dev']);
  assert.deepEqual(connectionsAllowing(d, { verbs: ['get'] }, p, { connections: ['prod', 'staging', 'sluice'] }), ['staging']);
});

test("an active grant adds its role's rules for its holder only", () => {
  const p = parsePolicies([
    {
      source: 'r.yaml',
      text: [
        'roles:',
        '  - name: breakglass',
        '    requestableBy: {groups: [dev]}',
        '    maxDuration: 1h',
        '    review: {approvers: [approvers]}',
        '    rules:',
        '      - id: breakglass/exec',
        '        effect: allow',
        '        verbs: ["*"]',
        '        resources: [pods/exec]',
      ].join('\n'),
    },
  ]);
  const d = who('d', ['dev']);
  const grant: ActiveGrant = { id: 'a', role: 'breakglass', username: 'd', issuer: d.issuer, subject: d.subject, activeUntil: new Date(Date.now() + 60_000) };
  assert.equal(couldAllow(d, { verbs: ['create'], resource: 'pods/exec' }, p, conns), false);
  assert.equal(couldAllow(d, { verbs: ['create'], resource: 'pods/exec' }, p, { ...conns, grants: [grant] }), true);
  assert.equal(couldAllow(who('x', ['dev']), { verbs: ['create'], resource: 'pods/exec' }, p, { ...conns, grants: [grant] }), false);
});
