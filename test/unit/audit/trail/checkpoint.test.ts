import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointHash, signCheckpoint, verifyCheckpointSignature, type CheckpointBody } from '../../../../src/audit/trail/checkpoint.ts';
import { generateSigningKey, parseTrustedKeys, publicKeyPem } from '../../../../src/audit/trail/signing-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-checkpoint-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const signer = generateSigningKey(join(dir, 'a.pem'));
const other = generateSigningKey(join(dir, 'b.pem'));
const trusted = parseTrustedKeys(publicKeyPem(signer));

const body: CheckpointBody = {
  v: 1,
  chain: 'gw-1',
  fromSeq: 40001,
  toSeq: 50000,
  count: 10000,
  toHash: 'ab'.repeat(32),
  time: 1764230400000,
  keyId: signer.keyId,
  prevCheckpoint: 'cd'.repeat(32),
};
/** The body's JCS form, written out by hand (members in code-unit order). */
const bodyJcs = `{"chain":"gw-1","count":10000,"fromSeq":40001,"keyId":"${signer.keyId}","prevCheckpoint":"${'cd'.repeat(32)}","time":1764230400000,"toHash":"${'ab'.repeat(32)}","toSeq":50000,"v":1}`;

test('the signature is Ed25519 over "sluice.checkpoint.v1\\0" + the JCS body', () => {
  const { checkpoint, signature } = signCheckpoint(body, signer);
  assert.deepEqual(checkpoint, body);
  const sig = Buffer.from(signature, 'base64');
  assert.equal(sig.length, 64);
  const pub = createPublicKey({ key: Buffer.from(signer.publicKeySpki, 'base64'), format: 'der', type: 'spki' });
  assert.ok(verify(null, Buffer.from('sluice.checkpoint.v1\0' + bodyJcs, 'utf8'), pub, sig));
  assert.equal(verify(null, Buffer.from(bodyJcs, 'utf8'), pub, sig), false, 'the domain prefix is part of the signed bytes');
  assert.equal(verifyCheckpointSignature(checkpoint, signature, trusted), 'ok');
});

test('the first checkpoint of a chain has no prevCheckpoint member at all', () => {
  const first: CheckpointBody = { v: 1, chain: 'gw-1', fromSeq: 1, toSeq: 9, count: 9, toHash: '00'.repeat(32), time: 1, keyId: signer.keyId };
  const { checkpoint, signature } = signCheckpoint(first, signer);
  assert.equal('prevCheckpoint' in checkpoint, false);
  assert.equal(verifyCheckpointSignature({ ...checkpoint, prevCheckpoint: undefined }, signature, trusted), 'ok', 'undefined is the same as absent');
});

test('verification: any changed member, a foreign key, an unknown key or a mangled signature fails', () => {
  const { checkpoint, signature } = signCheckpoint(body, signer);
  const changed: Partial<CheckpointBody>[] = [{ toSeq: 50001 }, { count: 9999 }, { toHash: 'ac'.repeat(32) }, { chain: 'gw-2' }, { time: 1764230400001 }, { prevCheckpoint: undefined }, { fromSeq: 40000 }];
  for (const c of changed) assert.equal(verifyCheckpointSignature({ ...checkpoint, ...c }, signature, trusted), 'bad-signature', JSON.stringify(c));
  assert.equal(verifyCheckpointSignature({ ...checkpoint, keyId: 'ffffffffffffffff' }, signature, trusted), 'unknown-key');
  const byOther = signCheckpoint({ ...body, keyId: other.keyId }, other);
  assert.equal(verifyCheckpointSignature(byOther.checkpoint, byOther.signature, trusted), 'unknown-key', 'keys from the store are never trusted');
  // a forger who names the trusted key but signs with their own
  const forged = other.sign(Buffer.from('sluice.checkpoint.v1\0' + bodyJcs, 'utf8')).toString('base64');
  assert.equal(verifyCheckpointSignature(checkpoint, forged, trusted), 'bad-signature');
  const sig = Buffer.from(signature, 'base64');
  sig[10] = sig[10]! ^ 0x01;
  assert.equal(verifyCheckpointSignature(checkpoint, sig.toString('base64'), trusted), 'bad-signature');
  assert.equal(verifyCheckpointSignature(checkpoint, signature.slice(0, -4), trusted), 'bad-signature', 'truncated');
  assert.equal(verifyCheckpointSignature(checkpoint, ` ${signature}`, trusted), 'bad-signature', 'only one spelling of the base64');
  const ed = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  assert.equal(verifyCheckpointSignature(checkpoint, signature, new Map([[signer.keyId, rsa]])), 'bad-signature', 'a non-Ed25519 key never verifies');
  assert.equal(verifyCheckpointSignature(checkpoint, signature, new Map([[signer.keyId, ed.publicKey]])), 'bad-signature', 'the wrong key under the right id');
});

test('signCheckpoint refuses a body that could never verify', () => {
  assert.throws(() => signCheckpoint({ ...body, keyId: other.keyId }, signer), /names key/);
  assert.throws(() => signCheckpoint({ ...body, count: 3 }, signer), /count 3 does not match/);
  assert.throws(() => signCheckpoint({ ...body, toHash: 'AB'.repeat(32) }, signer), /toHash/);
  assert.throws(() => signCheckpoint({ ...body, fromSeq: -1 }, signer), /fromSeq/);
  assert.throws(() => signCheckpoint({ ...body, prevCheckpoint: 'x' }, signer), /prevCheckpoint/);
  assert.throws(() => signCheckpoint({ ...body, v: 2 } as unknown as CheckpointBody, signer), /v is 2/);
});

test('checkpointHash is SHA-256 of the JCS form of {checkpoint, signature}', () => {
  const { checkpoint, signature } = signCheckpoint(body, signer);
  const expected = createHash('sha256').update(`{"checkpoint":${bodyJcs},"signature":"${signature}"}`, 'utf8').digest('hex');
  assert.equal(checkpointHash(checkpoint, signature), expected);
  assert.notEqual(checkpointHash({ ...checkpoint, time: 0 }, signature), expected);
  assert.notEqual(checkpointHash(checkpoint, signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))), expected);
});
