import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { IssuerConfigSchema, IssuersSchema } from '../../../src/authn/issuer-config.ts';
import { configRows } from '../../../src/config/config-docs.ts';

const base = { issuer: 'https://idp.example', audiences: ['sluice'] };

test('defaults: sub as username without prefix, groups prefixed oidc:, RS256/ES256/PS256, 30 s skew, access tokens only', () => {
  const c = IssuerConfigSchema.parse(base);
  assert.equal(c.usernameClaim, 'sub');
  assert.equal(c.usernamePrefix, '');
  assert.equal(c.groupsClaim, 'groups');
  assert.equal(c.groupsPrefix, 'oidc:');
  assert.deepEqual(c.algorithms, ['RS256', 'ES256', 'PS256']);
  assert.equal(c.clockSkewSeconds, 30);
  assert.equal(c.acceptIdTokens, false);
  assert.equal(c.discovery, true);
  assert.equal(c.machines.subjectIsClientId, true);
});

test('alg none and HS* can never be configured', () => {
  for (const alg of ['none', 'HS256', 'HS384', 'HS512', 'dir'])
    assert.equal(IssuerConfigSchema.safeParse({ ...base, algorithms: [alg] }).success, false, alg);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, algorithms: [] }).success, false, 'empty allowlist');
});

test('a groups or username prefix that could build "system:" is rejected', () => {
  for (const p of ['system:', 'system:oidc:', 's', 'sys', 'system'])
    assert.equal(IssuerConfigSchema.safeParse({ ...base, groupsPrefix: p }).success, false, `groupsPrefix ${p}`);
  for (const p of ['system:', 'sys'])
    assert.equal(IssuerConfigSchema.safeParse({ ...base, usernamePrefix: p }).success, false, `usernamePrefix ${p}`);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, groupsPrefix: 'corp:' }).success, true);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, groupsPrefix: 'System:' }).success, true, 'Kubernetes names are case-sensitive');
});

test('an empty groups prefix needs allowUnprefixedGroups', () => {
  assert.equal(IssuerConfigSchema.safeParse({ ...base, groupsPrefix: '' }).success, false);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, groupsPrefix: '', allowUnprefixedGroups: true }).success, true);
});

test('clock skew is bounded to 300 s; issuer and jwksUri must be https without query or fragment', () => {
  assert.equal(IssuerConfigSchema.safeParse({ ...base, clockSkewSeconds: 301 }).success, false);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, clockSkewSeconds: -1 }).success, false);
  for (const issuer of ['http://idp.example', 'https://idp.example?x=1', 'https://idp.example#f', 'idp.example', 'https://u:p@idp.example'])
    assert.equal(IssuerConfigSchema.safeParse({ ...base, issuer }).success, false, issuer);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, jwksUri: 'http://idp.example/jwks' }).success, false);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, discovery: false }).success, false, 'discovery off needs jwksUri');
  assert.equal(IssuerConfigSchema.safeParse({ ...base, discovery: false, jwksUri: 'https://idp.example/jwks' }).success, true);
  assert.equal(IssuerConfigSchema.safeParse({ ...base, audiences: [] }).success, false, 'an audience is required');
  assert.equal(IssuerConfigSchema.safeParse({ ...base, unknownOption: 1 }).success, false, 'unknown keys are refused');
});

test('several issuers: unique URLs and prefix-free username and group prefixes', () => {
  const a = { ...base, usernamePrefix: 'a:', groupsPrefix: 'a:' };
  const b = { issuer: 'https://other.example', audiences: ['sluice'], usernamePrefix: 'b:', groupsPrefix: 'b:' };
  assert.equal(IssuersSchema.safeParse([a, b]).success, true);
  assert.equal(IssuersSchema.safeParse([a, { ...a }]).success, false, 'same issuer twice');
  assert.equal(IssuersSchema.safeParse([base, { ...base, issuer: 'https://other.example' }]).success, false, 'default prefixes clash');
  assert.equal(IssuersSchema.safeParse([a, { ...b, usernamePrefix: '' }]).success, false, 'an empty username prefix clashes with every other');
  assert.equal(IssuersSchema.safeParse([a, { ...b, groupsPrefix: 'a:x:' }]).success, false, '"a:" is the beginning of "a:x:"');
  assert.equal(IssuersSchema.safeParse([base]).success, true, 'one issuer may keep the defaults');
});

test('every option is described (it is merged into the documented config schema)', () => {
  const rows = configRows(z.object({ issuer: IssuerConfigSchema }));
  assert.ok(rows.length > 20);
  for (const row of rows) assert.ok(row.description.length > 10, `${row.key} has no description`);
});
