/**
 * Review (issue #7): the verifier's cache key for `verify(token, { audiences })`. The key is
 * sha256(token + "\0" + audiences.join("\0")), and the Kubernetes listener's key is
 * sha256(token + "\0" + ""). With `mcp.audiences: []` (the schema allows an empty list) the two
 * keys are the same: a token the Kubernetes listener verified (and cached) is then accepted by
 * `/mcp`, although verifying it for `[]` refuses every token.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTokenVerifier, type TokenVerifier } from '../../../../src/authn/create-verifier.ts';
import { startLocalIssuer, type LocalIssuer } from '../../authn/local-issuer.ts';

let idp: LocalIssuer;
let verifier: TokenVerifier;
before(async () => {
  idp = await startLocalIssuer();
  verifier = createTokenVerifier([{ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile }]);
});
after(async () => {
  await verifier?.close();
  await idp?.close();
});

test('a token for the Kubernetes listener is never accepted for another audience list, even an empty one, even when cached', async () => {
  const token = await idp.sign({ aud: 'sluice' });
  assert.equal((await verifier.verify(token, { audiences: [] })).ok, false, 'uncached: refused');
  assert.equal((await verifier.verify(token)).ok, true, 'the Kubernetes listener accepts it');
  assert.equal((await verifier.verify(token, { audiences: [] })).ok, false, 'cached by the listener: must still be refused for audiences []');
});
