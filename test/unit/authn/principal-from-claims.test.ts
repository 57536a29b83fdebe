import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IssuerConfigSchema, type IssuerConfigInput } from '../../../src/authn/issuer-config.ts';
import { principalFromClaims } from '../../../src/authn/principal-from-claims.ts';

const ISS = 'https://idp.example';
const cfg = (o: Partial<IssuerConfigInput> = {}) => IssuerConfigSchema.parse({ issuer: ISS, audiences: ['sluice'], ...o });
const exp = 2_000_000_000;
const claims = (o: Record<string, unknown> = {}) => ({ iss: ISS, aud: 'sluice', sub: 'bob', exp, ...o });

test('a person: username from sub, groups prefixed, expiry from exp', () => {
  const r = principalFromClaims(claims({ groups: ['developers'], preferred_username: 'bob', client_id: 'sluice-cli' }), cfg(), 'access_token');
  assert.deepEqual(r, {
    ok: true,
    value: {
      issuer: ISS,
      subject: 'bob',
      username: 'bob',
      groups: ['oidc:developers'],
      kind: 'person',
      expiresAt: new Date(exp * 1000),
      tokenType: 'access_token',
      clientId: 'sluice-cli',
    },
  });
});

test('groups claim naming system:masters becomes oidc:system:masters, never system:masters', () => {
  const r = principalFromClaims(claims({ groups: ['system:masters', 'system:nodes'] }), cfg(), 'access_token');
  assert.ok(r.ok);
  assert.deepEqual(r.value.groups, ['oidc:system:masters', 'oidc:system:nodes']);
  assert.ok(r.value.groups.every((g) => !g.startsWith('system:')));
});

test('unprefixed groups (allowUnprefixedGroups): system: groups are dropped, others kept', () => {
  const r = principalFromClaims(claims({ groups: ['system:masters', 'developers'] }), cfg({ groupsPrefix: '', allowUnprefixedGroups: true }), 'access_token');
  assert.ok(r.ok);
  assert.deepEqual(r.value.groups, ['developers']);
});

test('no groups claim means no groups; a single string is one group; duplicates and empties go', () => {
  const none = principalFromClaims(claims(), cfg(), 'access_token');
  assert.ok(none.ok);
  assert.deepEqual(none.value.groups, []);
  const one = principalFromClaims(claims({ groups: 'sre' }), cfg(), 'access_token');
  assert.ok(one.ok);
  assert.deepEqual(one.value.groups, ['oidc:sre']);
  const dup = principalFromClaims(claims({ groups: ['sre', 'sre', ''] }), cfg(), 'access_token');
  assert.ok(dup.ok);
  assert.deepEqual(dup.value.groups, ['oidc:sre']);
});

test('a groups claim that is not strings refuses the token', () => {
  for (const groups of [[1, 2], { admin: true }, ['ok', null], 42]) {
    const r = principalFromClaims(claims({ groups }), cfg(), 'access_token');
    assert.equal(!r.ok && r.error.code, 'AUTHN_INVALID', JSON.stringify(groups));
  }
});

test('a configured username claim, prefix, and a username that would be system: is refused', () => {
  const r = principalFromClaims(claims({ preferred_username: 'robert' }), cfg({ usernameClaim: 'preferred_username', usernamePrefix: 'corp:' }), 'access_token');
  assert.ok(r.ok);
  assert.equal(r.value.username, 'corp:robert');
  assert.equal(r.value.subject, 'bob');
  const reserved = principalFromClaims(claims({ sub: 'system:admin' }), cfg(), 'access_token');
  assert.equal(!reserved.ok && reserved.error.code, 'AUTHN_INVALID');
  const missing = principalFromClaims(claims(), cfg({ usernameClaim: 'preferred_username' }), 'access_token');
  assert.equal(!missing.ok && missing.error.code, 'AUTHN_INVALID', 'username claim missing');
});

test('email as username needs email_verified not false', () => {
  const c = cfg({ usernameClaim: 'email' });
  assert.equal(principalFromClaims(claims({ email: 'b@x', email_verified: true }), c, 'id_token').ok, true);
  assert.equal(principalFromClaims(claims({ email: 'b@x', email_verified: false }), c, 'id_token').ok, false);
  assert.equal(principalFromClaims(claims({ email: 'b@x' }), c, 'id_token').ok, true);
});

test('machine: sub equals client_id (client credentials), or azp, or a configured claim', () => {
  const kind = (c: Record<string, unknown>, o: Partial<IssuerConfigInput> = {}) => {
    const r = principalFromClaims(claims(c), cfg(o), 'access_token');
    assert.ok(r.ok);
    return r.value.kind;
  };
  assert.equal(kind({ sub: 'ci-bot', client_id: 'ci-bot', preferred_username: 'ci-bot' }), 'machine');
  assert.equal(kind({ sub: 'ci-bot', azp: 'ci-bot' }), 'machine');
  assert.equal(kind({ sub: 'bob', client_id: 'sluice-cli' }), 'person');
  assert.equal(kind({ sub: 'ci-bot', client_id: 'ci-bot' }, { machines: { subjectIsClientId: false } }), 'person');
  assert.equal(kind({ sub: 'x', gty: 'client-credentials' }, { machines: { claims: { gty: 'client-credentials' } } }), 'machine');
});

test('required claims must be present with the configured value', () => {
  const c = cfg({ requiredClaims: { tenant: 'acme', roles: 'kube' } });
  assert.equal(principalFromClaims(claims({ tenant: 'acme', roles: ['kube', 'x'] }), c, 'access_token').ok, true);
  assert.equal(principalFromClaims(claims({ tenant: 'evil', roles: ['kube'] }), c, 'access_token').ok, false);
  assert.equal(principalFromClaims(claims({ roles: ['kube'] }), c, 'access_token').ok, false);
});

test('no subject or no expiry refuses the token', () => {
  assert.equal(principalFromClaims(claims({ sub: undefined }), cfg(), 'access_token').ok, false);
  assert.equal(principalFromClaims(claims({ sub: '' }), cfg(), 'access_token').ok, false);
  assert.equal(principalFromClaims(claims({ exp: undefined }), cfg(), 'access_token').ok, false);
});
