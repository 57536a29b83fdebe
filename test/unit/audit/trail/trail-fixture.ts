/**
 * Builds real trails for the verify and export tests with the real functions (canonicalJson,
 * chainHash, signCheckpoint): request events, and a signed `trail.checkpoint` event after every
 * `checkpointEvery` events, placed and linked as the writer places them (the checkpoint event
 * follows the last event it covers; fromSeq is the event after the previous checkpoint event;
 * prevCheckpoint names the previous checkpoint). Also the tampering an attacker would do.
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../../../../src/audit/trail/canonical-json.ts';
import { chainHash, ZERO_HASH } from '../../../../src/audit/trail/chain-hash.ts';
import { checkpointHash, signCheckpoint, type CheckpointBody } from '../../../../src/audit/trail/checkpoint.ts';
import { generateSigningKey, parseTrustedKeys, publicKeyPem, type TrailSigner } from '../../../../src/audit/trail/signing-key.ts';
import type { TrailRow } from '../../../../src/audit/trail/verify-trail.ts';

export type Row = TrailRow & { time: number };

const keyDir = mkdtempSync(join(tmpdir(), 'sluice-trail-fixture-'));
after(() => rmSync(keyDir, { recursive: true, force: true }));
let keys = 0;
export function newSigner(): TrailSigner {
  return generateSigningKey(join(keyDir, `k${++keys}.pem`));
}
export const trustedOf = (...signers: TrailSigner[]): ReturnType<typeof parseTrustedKeys> => parseTrustedKeys(signers.map(publicKeyPem).join(''));

export function requestEvent(seq: number, time: number): string {
  return canonicalJson({
    type: seq % 2 ? 'request.begin' : 'request.outcome',
    v: 1,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    time,
    path: `/api/v1/namespaces/dev/pods/web-${seq}`,
    principal: { username: seq % 3 ? 'bob' : 'alice', groups: ['developers'], type: 'person' }, // a nested "type" on purpose
  });
}

export const checkpointEventText = (checkpoint: CheckpointBody, signature: string): string => canonicalJson({ checkpoint, signature, type: 'trail.checkpoint', v: 1 });

export interface BuildOptions {
  chain?: string;
  /** request events in total (checkpoint events come on top) */
  events: number;
  checkpointEvery?: number;
  signer: TrailSigner;
  /** checkpoint after the last event too */
  finalCheckpoint?: boolean;
  /** change a checkpoint body before it is signed (a buggy or malicious writer with the key) */
  tweak?: (body: CheckpointBody, index: number) => CheckpointBody;
}

/** A trail as the writer would leave it in the store. */
export function buildTrail(o: BuildOptions): Row[] {
  const chain = o.chain ?? 'gw-test';
  const rows: Row[] = [];
  let prev = ZERO_HASH;
  let lastCp: { seq: number; hash: string } | undefined;
  let cps = 0;
  const every = o.checkpointEvery ?? Infinity;
  const push = (type: string, event: string, time: number): void => {
    const seq = rows.length + 1;
    const hash = chainHash(chain, seq, prev, event);
    rows.push({ chain, seq, type, event, hash: hash.toString('hex'), time });
    prev = hash;
  };
  const checkpoint = (time: number): void => {
    const fromSeq = lastCp ? lastCp.seq + 1 : 1;
    const toSeq = rows.length;
    let body: CheckpointBody = { v: 1, chain, fromSeq, toSeq, count: toSeq - fromSeq + 1, toHash: prev.toString('hex'), time, keyId: o.signer.keyId, ...(lastCp ? { prevCheckpoint: lastCp.hash } : {}) };
    if (o.tweak) body = o.tweak(body, cps);
    cps++;
    const { checkpoint: c, signature } = signCheckpoint(body, o.signer);
    push('trail.checkpoint', checkpointEventText(c, signature), time);
    lastCp = { seq: rows.length, hash: checkpointHash(c, signature) };
  };
  let requests = 0;
  while (requests < o.events) {
    const time = 1764230400000 + rows.length;
    push(rows.length % 2 === 0 ? 'request.begin' : 'request.outcome', requestEvent(rows.length + 1, time), time);
    requests++;
    if (requests % every === 0 && requests < o.events) checkpoint(time);
  }
  if (o.finalCheckpoint) checkpoint(1764230400000 + rows.length);
  return rows;
}

/** Re-hashes rows from index `from` on, renumbering seqs — what someone with write access but no key does after an edit. */
export function rehash(rows: Row[], from = 0): Row[] {
  const out = rows.map((r) => ({ ...r }));
  let prev = from === 0 ? ZERO_HASH : Buffer.from(out[from - 1]!.hash, 'hex');
  for (let i = from; i < out.length; i++) {
    const r = out[i]!;
    r.seq = i + 1;
    const h = chainHash(r.chain, r.seq, prev, r.event);
    r.hash = h.toString('hex');
    prev = h;
  }
  return out;
}

export const checkpointSeqs = (rows: Row[]): number[] => rows.filter((r) => r.type === 'trail.checkpoint').map((r) => r.seq);

export function parsedCheckpoint(row: Row): { checkpoint: CheckpointBody; signature: string } {
  return JSON.parse(row.event) as { checkpoint: CheckpointBody; signature: string };
}
