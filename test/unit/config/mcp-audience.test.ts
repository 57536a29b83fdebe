/**
 * The MCP endpoint's audience must differ from the Kubernetes listener's: otherwise a token for
 * one would be accepted by the other (MCP authorization: audience-bound tokens, no passthrough).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigSchema } from '../../../src/config/schema.ts';

const issuers = [{ issuer: 'https://idp.example.com', audiences: ['sluice', 'https://sluice.example.com/mcp'] }];

test('mcp.resource or mcp.audiences equal to an issuer audience is refused, naming the option', () => {
  const byResource = ConfigSchema.safeParse({ identity: { issuers }, mcp: { resource: 'https://sluice.example.com/mcp' } });
  assert.equal(byResource.success, false);
  assert.deepEqual(byResource.error!.issues[0]!.path, ['mcp', 'resource']);
  assert.match(byResource.error!.issues[0]!.message, /token for the Kubernetes listener would be accepted/);
  const byAudience = ConfigSchema.safeParse({ identity: { issuers }, mcp: { resource: 'https://other.example.com/mcp', audiences: ['x', 'sluice'] } });
  assert.equal(byAudience.success, false);
  assert.deepEqual(byAudience.error!.issues[0]!.path, ['mcp', 'audiences', 1]);
  assert.equal(ConfigSchema.safeParse({ identity: { issuers }, mcp: { audiences: [] } }).success, false, 'an empty audience list is refused');
});

test('distinct audiences are accepted', () => {
  const ok = ConfigSchema.safeParse({ identity: { issuers: [{ issuer: 'https://idp.example.com', audiences: ['sluice'] }] }, mcp: { resource: 'https://sluice.example.com/mcp' } });
  assert.equal(ok.success, true, JSON.stringify(ok.error?.issues));
});
