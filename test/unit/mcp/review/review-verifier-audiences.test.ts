/**
 * The verifier's cache keeps audiences apart: a token verified (and cached) for the Kubernetes
 * listener is not thereby accepted for another audience list, not even an empty one. Found by the
 * issue #7 review: the cache key used to join the audiences, so `[]` and "the issuer's own"
 * gave the same key.
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
