/**
 * The Ed25519 key that signs audit-trail checkpoints, and the trusted public keys a verifier
 * checks them with (ADR 0002, Decision 3). node:crypto only.
 *
 * - The signing key is a PKCS#8 PEM file (`trail.signingKeyFile`, default
 *   `.sluice/trail-signing.pem`) written with mode 0600 by `sluice audit keys generate` or at
 *   first start; loading warns when group or others may access it.
 * - `keyId` = the first 16 hex digits of SHA-256 over the DER SPKI public key: what a checkpoint
 *   names so a verifier can pick the key.
 * - A verifier never trusts keys from the store: it gets a PEM file of one or more
 *   `PUBLIC KEY` blocks (`sluice audit keys export`), kept by the auditor.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SluiceError } from '../../core/errors.ts';

export interface TrailSigner {
  keyId: string;
  /** The public key, base64 of its DER SubjectPublicKeyInfo. */
  publicKeySpki: string;
  /** Ed25519 signature (64 bytes) over `data`. */
  sign(data: Buffer): Buffer;
}

const CREATE_HINT = 'create one with `sluice audit keys generate`';

/** First 16 hex digits of SHA-256 over the DER SPKI of the (public half of the) key. */
export function keyIdOf(publicKey: KeyObject): string {
  const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const spki = pub.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 16);
}

/** A signer whose key lives only as long as the process (an in-memory store's trail, tests). */
export function ephemeralSigner(): TrailSigner {
  return signerOf(generateKeyPairSync('ed25519').privateKey);
}

function signerOf(privateKey: KeyObject): TrailSigner {
  const pub = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(pub),
    publicKeySpki: pub.export({ type: 'spki', format: 'der' }).toString('base64'),
    sign: (data: Buffer): Buffer => sign(null, data, privateKey),
  };
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

/**
 * Writes a new Ed25519 key to `file` (PKCS#8 PEM, mode 0600), creating its folder (0700).
 * Never overwrites: an existing file is refused with TRAIL_KEY_INVALID.
 */
export function generateSigningKey(file: string): TrailSigner {
  const created = writeNewKey(file);
  if (created === 'exists') {
    throw new SluiceError('TRAIL_KEY_INVALID', `trail signing key ${file} already exists; refusing to overwrite it (rotate with \`sluice audit keys rotate\`)`, { file });
  }
  return created;
}

function writeNewKey(file: string): TrailSigner | 'exists' {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw new SluiceError('TRAIL_KEY_INVALID', `trail signing key ${file} cannot be written (${reason(e)})`, { file });
  }
  return signerOf(privateKey);
}

/** Reads the signing key; warns when the file is accessible to group or others. */
export function loadSigningKey(file: string): { signer: TrailSigner; warnings: string[] } {
  let pem: string;
  let mode: number;
  try {
    pem = readFileSync(file, 'utf8');
    mode = statSync(file).mode;
  } catch (e) {
    throw new SluiceError('TRAIL_KEY_INVALID', `trail signing key ${file} cannot be read (${reason(e)}); ${CREATE_HINT}`, { file });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new SluiceError('TRAIL_KEY_INVALID', `trail signing key ${file} is not a PEM private key (${reason(e)}); ${CREATE_HINT}`, { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SluiceError('TRAIL_KEY_INVALID', `trail signing key ${file} is a key of type ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519; ${CREATE_HINT}`, { file });
  }
  const warnings: string[] = [];
  if ((mode & 0o077) !== 0) {
    warnings.push(`trail signing key ${file} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it`);
  }
  return { signer: signerOf(key), warnings };
}

/** Loads the key, or generates it when the file does not exist (first start). */
export function loadOrCreateSigningKey(file: string): { signer: TrailSigner; created: boolean; warnings: string[] } {
  if (!existsSync(file)) {
    const signer = writeNewKey(file);
    if (signer !== 'exists') return { signer, created: true, warnings: [] };
    // another process created it between the check and the write: use theirs
  }
  return { ...loadSigningKey(file), created: false };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The trusted keys of a verifier, by keyId: every `-----BEGIN PUBLIC KEY-----` block of `pemText`
 * (text around the blocks, e.g. comments naming the keys, is ignored). Anything else — no block,
 * another block type (a private key or a certificate has no place here), a key that is not
 * Ed25519 — is refused with TRAIL_KEY_INVALID.
 */
export function parseTrustedKeys(pemText: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  let n = 0;
  for (const m of pemText.matchAll(PEM_BLOCK)) {
    n++;
    if (m[1] !== 'PUBLIC KEY') {
      throw new SluiceError('TRAIL_KEY_INVALID', `trusted keys: block ${n} is a ${m[1]!}, expected PUBLIC KEY blocks only (export them with \`sluice audit keys export\`)`);
    }
    let key: KeyObject;
    try {
      key = createPublicKey(m[0]);
    } catch (e) {
      throw new SluiceError('TRAIL_KEY_INVALID', `trusted keys: block ${n} is not a valid public key (${reason(e)})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new SluiceError('TRAIL_KEY_INVALID', `trusted keys: block ${n} is a key of type ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
    }
    keys.set(keyIdOf(key), key);
  }
  if (n === 0) throw new SluiceError('TRAIL_KEY_INVALID', 'trusted keys: no -----BEGIN PUBLIC KEY----- block found');
  if (pemText.split('-----BEGIN ').length - 1 !== n) throw new SluiceError('TRAIL_KEY_INVALID', 'trusted keys: a -----BEGIN line has no matching -----END line');
  return keys;
}

/** The signer's public key as a PEM `PUBLIC KEY` block (what `sluice audit keys export` prints). */
export function publicKeyPem(signer: TrailSigner): string {
  const key = createPublicKey({ key: Buffer.from(signer.publicKeySpki, 'base64'), format: 'der', type: 'spki' });
  return key.export({ type: 'spki', format: 'pem' }).toString();
}
