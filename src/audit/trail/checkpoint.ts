/**
 * Signed checkpoints of the audit trail (ADR 0002, Decision 3): a statement "chain C holds
 * events fromSeq..toSeq, count of them, and hash[toSeq] is toHash", signed with the gateway's
 * Ed25519 key. Copies published outside the host (log, webhooks) fix history up to them.
 *
 * - Signed bytes: "sluice.checkpoint.v1\0" ‖ utf8(canonicalJson(body)) — the domain prefix keeps a
 *   checkpoint signature from ever being valid for anything else the key signs.
 * - `prevCheckpoint` = checkpointHash of the previous checkpoint of the chain, so removing or
 *   replacing a checkpoint breaks the next one.
 * - Bodies may carry members this version does not know (a later `peers`, `nextKeyId`): the
 *   signature and hash cover whatever the body holds, since both go through canonicalJson.
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { TrailSigner } from './signing-key.ts';

export interface CheckpointBody {
  v: 1;
  chain: string;
  fromSeq: number;
  toSeq: number;
  count: number;
  /** hex of hash[toSeq] */
  toHash: string;
  /** ms since the epoch */
  time: number;
  keyId: string;
  /** hex checkpointHash of the previous checkpoint of the chain; absent for the chain's first. */
  prevCheckpoint?: string;
}

const DOMAIN = 'sluice.checkpoint.v1\0';
const HEX64 = /^[0-9a-f]{64}$/;

function signedBytes(body: CheckpointBody): Buffer {
  return Buffer.from(DOMAIN + canonicalJson(body), 'utf8');
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Why `body` is not a well-formed checkpoint, or undefined when it is. Extra members are allowed. */
export function checkpointProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const b = body as Record<string, unknown>;
  if (b.v !== 1) return `v is ${JSON.stringify(b.v)}, not 1`;
  if (typeof b.chain !== 'string' || b.chain === '') return 'chain is not a non-empty string';
  for (const k of ['fromSeq', 'toSeq', 'count', 'time'] as const) if (!isCount(b[k])) return `${k} is not a non-negative integer`;
  if (typeof b.toHash !== 'string' || !HEX64.test(b.toHash)) return 'toHash is not 64 lowercase hex digits';
  if (typeof b.keyId !== 'string' || b.keyId === '') return 'keyId is not a non-empty string';
  if (b.prevCheckpoint !== undefined && (typeof b.prevCheckpoint !== 'string' || !HEX64.test(b.prevCheckpoint))) return 'prevCheckpoint is not 64 lowercase hex digits';
  return undefined;
}

/**
 * Signs `body` with `signer`. Refuses (TypeError) a malformed body, a count that does not match
 * fromSeq..toSeq, or a keyId other than the signer's: a checkpoint that could never verify.
 */
export function signCheckpoint(body: CheckpointBody, signer: TrailSigner): { checkpoint: CheckpointBody; signature: string } {
  const problem = checkpointProblem(body);
  if (problem) throw new TypeError(`signCheckpoint: ${problem}`);
  if (body.count !== body.toSeq - body.fromSeq + 1) throw new TypeError(`signCheckpoint: count ${body.count} does not match ${body.fromSeq}..${body.toSeq}`);
  if (body.keyId !== signer.keyId) throw new TypeError(`signCheckpoint: body names key ${body.keyId}, the signer is ${signer.keyId}`);
  const checkpoint: CheckpointBody = { ...body };
  return { checkpoint, signature: signer.sign(signedBytes(checkpoint)).toString('base64') };
}

/** 'ok' when a trusted key with the body's keyId made `signature` (base64) over the body. */
export function verifyCheckpointSignature(body: CheckpointBody, signature: string, trusted: Map<string, KeyObject>): 'ok' | 'unknown-key' | 'bad-signature' {
  const key = trusted.get(body.keyId);
  if (!key) return 'unknown-key';
  if (key.asymmetricKeyType !== 'ed25519') return 'bad-signature';
  const sig = Buffer.from(signature, 'base64');
  // one spelling only: no whitespace, padding as written by toString('base64')
  if (sig.length !== 64 || sig.toString('base64') !== signature) return 'bad-signature';
  try {
    return verify(null, signedBytes(body), key, sig) ? 'ok' : 'bad-signature';
  } catch {
    return 'bad-signature'; // not an Ed25519 key, or a body canonicalJson refuses
  }
}

/** hex SHA-256 of canonicalJson({checkpoint, signature}): what the next checkpoint's prevCheckpoint names. */
export function checkpointHash(body: CheckpointBody, signature: string): string {
  return createHash('sha256').update(canonicalJson({ checkpoint: body, signature }), 'utf8').digest('hex');
}
