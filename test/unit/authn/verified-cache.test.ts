import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenVerifier } from '../../../src/authn/create-verifier.ts';
import { startLocalIssuer, type LocalIssuer } from './local-issuer.ts';

let idp: LocalIssuer;
before(async () => (idp = await startLocalIssuer()));
after(() => idp.close());

const nowS = (d: Date) => Math.floor(d.getTime() / 1000);
const cfg = () => ({ issuer: idp.issuer, audiences: ['sluice'], caFile: idp.caFile, retryAfterFailureSeconds: 1 });

test('a verified token is remembered: repeated requests need no key fetch, even while the issuer is down', async () => {
  const clock = new Date();
  const v = createTokenVerifier([cfg()], { now: () => clock });
  try {
    const token = await idp.sign({ exp: nowS(clock) + 600 });
    assert.equal((await v.verify(token)).ok, true);
    const fetches = idp.hits.jwks + idp.hits.discovery;
    idp.mode.jwks = 'error';
    idp.mode.discovery = 'error';
    for (let i = 0; i < 5; i++) assert.equal((await v.verify(token)).ok, true);
    assert.equal(idp.hits.jwks + idp.hits.discovery, fetches);
  } finally {
    idp.mode.jwks = 'ok';
    idp.mode.discovery = 'ok';
    await v.close();
  }
});

test('the memory never outlives the token: past exp (and the skew) it is refused', async () => {
  let clock = new Date();
  const v = createTokenVerifier([cfg()], { now: () => clock });
  try {
    const token = await idp.sign({ exp: nowS(clock) + 60 });
    assert.equal((await v.verify(token)).ok, true);
    clock = new Date(clock.getTime() + 95_000); // exp + 30 s skew + 5 s
    const r = await v.verify(token);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, /expired/);
  } finally {
    await v.close();
  }
});

test('a failed verification is not remembered as a success, and a different token is checked on its own', async () => {
  const v = createTokenVerifier([cfg()]);
  try {
    const good = await idp.sign();
    const [h, p] = good.split('.');
    assert.equal((await v.verify(good)).ok, true);
    assert.equal((await v.verify(`${h}.${p}.AAAA`)).ok, false, 'same header and payload, forged signature');
    assert.equal((await v.verify(`${h}.${p}.AAAA`)).ok, false);
  } finally {
    await v.close();
  }
});
