import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { isSluiceError } from '../../../../src/core/errors.ts';
import { generateSigningKey, keyIdOf, loadOrCreateSigningKey, loadSigningKey, parseTrustedKeys, publicKeyPem } from '../../../../src/audit/trail/signing-key.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-trail-key-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `k${++n}`, 'nested', 'trail-signing.pem');

function trailKeyError(message: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(isSluiceError(e), `expected a SluiceError, got ${String(e)}`);
    assert.equal(e.code, 'TRAIL_KEY_INVALID');
    assert.match(e.message, message);
    return true;
  };
}

test('generate writes a PKCS#8 PEM with mode 0600 in a new folder, and the signer signs with it', () => {
  const file = fresh();
  const signer = generateSigningKey(file);
  const pem = readFileSync(file, 'utf8');
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(signer.keyId, /^[0-9a-f]{16}$/);
  const pub = createPublicKey(pem);
  assert.equal(pub.asymmetricKeyType, 'ed25519');
  assert.equal(signer.publicKeySpki, pub.export({ type: 'spki', format: 'der' }).toString('base64'));
  const data = Buffer.from('checkpoint bytes');
  const sig = signer.sign(data);
  assert.equal(sig.length, 64);
  assert.ok(verify(null, data, pub, sig));
  assert.equal(verify(null, Buffer.from('other bytes'), pub, sig), false);
});

test('generate refuses to overwrite an existing file', () => {
  const file = fresh();
  const first = generateSigningKey(file);
  const before = readFileSync(file, 'utf8');
  assert.throws(() => generateSigningKey(file), trailKeyError(/already exists/));
  assert.equal(readFileSync(file, 'utf8'), before);
  assert.equal(loadSigningKey(file).signer.keyId, first.keyId);
});

test('keyId is the first 16 hex digits of SHA-256 over the DER SPKI, from the public or the private key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const expected = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  assert.equal(keyIdOf(publicKey), expected);
  assert.equal(keyIdOf(privateKey), expected);
  assert.notEqual(keyIdOf(generateKeyPairSync('ed25519').publicKey), expected);
});

test('load returns the same key, without warnings for a 0600 file', () => {
  const file = fresh();
  const made = generateSigningKey(file);
  const { signer, warnings } = loadSigningKey(file);
  assert.equal(signer.keyId, made.keyId);
  assert.equal(signer.publicKeySpki, made.publicKeySpki);
  assert.deepEqual(warnings, []);
});

test('load warns when group or others may read the key', () => {
  const file = fresh();
  generateSigningKey(file);
  chmodSync(file, 0o644);
  const { warnings } = loadSigningKey(file);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /accessible to group or others \(mode 0644\)/);
  assert.ok(warnings[0]!.includes(file));
});

test('load refuses a missing, unreadable or non-Ed25519 key, naming the file and how to create one', () => {
  const missing = join(dir, 'nope', 'trail-signing.pem');
  assert.throws(() => loadSigningKey(missing), trailKeyError(/nope\/trail-signing\.pem cannot be read \(ENOENT\).*sluice audit keys generate/));
  const folder = join(dir, 'a-folder.pem');
  mkdirSync(folder);
  assert.throws(() => loadSigningKey(folder), trailKeyError(/a-folder\.pem cannot be read \(EISDIR\)/));
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a key', { mode: 0o600 });
  assert.throws(() => loadSigningKey(garbage), trailKeyError(/garbage\.pem is not a PEM private key.*sluice audit keys generate/));
  const ec = join(dir, 'ec.pem');
  writeFileSync(ec, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  assert.throws(() => loadSigningKey(ec), trailKeyError(/ec\.pem is a key of type ec, not Ed25519/));
  const pub = join(dir, 'public.pem');
  writeFileSync(pub, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o600 });
  assert.throws(() => loadSigningKey(pub), trailKeyError(/public\.pem is not a PEM private key/));
});

test('loadOrCreate creates the key on first use and loads it afterwards', () => {
  const file = fresh();
  const first = loadOrCreateSigningKey(file);
  assert.equal(first.created, true);
  assert.deepEqual(first.warnings, []);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const second = loadOrCreateSigningKey(file);
  assert.equal(second.created, false);
  assert.equal(second.signer.keyId, first.signer.keyId);
  const garbage = join(dir, 'garbage2.pem');
  writeFileSync(garbage, 'x', { mode: 0o600 });
  assert.throws(() => loadOrCreateSigningKey(garbage), trailKeyError(/garbage2\.pem/), 'an existing bad file is not replaced');
});

test('trusted keys: several PUBLIC KEY blocks with comments around them, keyed by keyId', () => {
  const a = generateSigningKey(fresh());
  const b = generateSigningKey(fresh());
  const text = `# gateway a\n${publicKeyPem(a)}\n# gateway b (rotated 2026-11)\n${publicKeyPem(b)}${publicKeyPem(a)}`;
  const keys = parseTrustedKeys(text);
  assert.deepEqual([...keys.keys()].sort(), [a.keyId, b.keyId].sort());
  const data = Buffer.from('x');
  assert.ok(verify(null, data, keys.get(a.keyId)!, a.sign(data)));
  assert.equal(verify(null, data, keys.get(b.keyId)!, a.sign(data)), false);
});

test('trusted keys: refuses no block, a private key, unbalanced blocks and non-Ed25519 keys', () => {
  assert.throws(() => parseTrustedKeys(''), trailKeyError(/no -----BEGIN PUBLIC KEY----- block/));
  const priv = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => parseTrustedKeys(priv), trailKeyError(/block 1 is a PRIVATE KEY/));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  assert.throws(() => parseTrustedKeys(rsa), trailKeyError(/block 1 is a key of type rsa, not Ed25519/));
  const good = publicKeyPem(generateSigningKey(fresh()));
  assert.throws(() => parseTrustedKeys(good + '-----BEGIN PUBLIC KEY-----\nAAAA\n'), trailKeyError(/no matching -----END/));
  assert.throws(() => parseTrustedKeys('-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n'), trailKeyError(/block 1 is not a valid public key/));
});
