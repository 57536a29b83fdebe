/**
 * Verifies a stretch of one chain of the audit trail, from any source (the store, an export, a
 * test's array): the algorithm of ADR 0002, Decision 3, "sluice audit verify".
 *
 * Rows come in seq order. Each event text is hashed exactly as given (never re-serialized) and
 * compared with the stored hash; a seq that skips forward is 'missing' (or 'reordered' when the
 * skipped seq comes next), one that goes back is 'reordered'. At each `trail.checkpoint` event
 * the running hash of the seq before it must equal the signed `toHash`, `count` and `fromSeq`
 * must match the events since the previous checkpoint event, `prevCheckpoint` must name that
 * checkpoint (a removed checkpoint breaks it), and a trusted key must have signed it. Keys from
 * the store are never trusted; the caller passes them. Failure kinds at a checkpoint:
 * 'checkpoint-count' (count, fromSeq or toSeq do not match the positions), 'checkpoint-hash'
 * (toHash is not the running hash: events before it changed and were re-hashed),
 * 'checkpoint-chain' (prevCheckpoint does not name the previous checkpoint, or another chain id),
 * 'checkpoint-signature' / 'checkpoint-unknown-key'. Verification stops at the first failure.
 *
 * Start: seq 1 starts from hash[0] = 32 zero bytes. A range (or a pruned trail) must start at a
 * checkpoint event, whose signed `toHash` is the predecessor of its own hash; otherwise it is
 * 'unanchored', unless the caller accepts `anchor: 'stored'` (the first row's stored hash is
 * trusted, and a note says so; the next checkpoint then proves everything after it).
 *
 * Stubs (a scoped reader's export hides other people's events as `seq a..b, hash[b]`) are
 * trusted as stated: the stub's hash becomes the predecessor of the next row, which must be b+1.
 * A checkpoint after a stub still proves the stubbed stretch, since its `toHash` is checked
 * against the running hash; its `fromSeq` and `prevCheckpoint` are not checked (the stub may hide
 * a checkpoint event).
 *
 * `against`: checkpoints published outside the host. Each one of this chain whose checkpoint
 * event falls in the verified range must equal the checkpoint found there ('against-mismatch';
 * bodies are compared: the body holds toHash, so an equal body pins the history up to it);
 * one beyond the last row means the newest events were deleted ('against-missing'). Without
 * `against`, deleting the newest events together with their checkpoints cannot be seen, and the
 * report says so.
 *
 * Speed (goal ≥ 100,000 events/s for 700-byte events on one core; bench/trail.ts): one SHA-256
 * per event over the text as given, and the event's top-level `type` and `v` found by
 * json-scan.ts without parsing (exact for well-formed JSON; a few string searches from the end
 * for canonical text, where JSON.parse would cost more than the hash); only checkpoint events
 * are parsed. Measured on the 2-vCPU VM: 330,000–366,000 events/s over 1,000,000 events in
 * memory, 129,000–183,000 events/s from export lines (parseExportLine included). So 'malformed' means: not one JSON object at the top level, no string `type`, no
 * integer `v`, a type that contradicts the row's type, or a checkpoint event that is not exactly
 * canonicalJson({checkpoint, signature, type, v: 1}); it does not check every JSON rule inside
 * nested values (a text whose hash verifies is what the writer hashed).
 */
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import { chainHash, ZERO_HASH } from './chain-hash.ts';
import { checkpointHash, checkpointProblem, verifyCheckpointSignature, type CheckpointBody } from './checkpoint.ts';
import { recanonicalize } from './export-line.ts';
import { topLevelMemberFast } from './json-scan.ts';

export interface TrailRow {
  chain: string;
  seq: number;
  type: string;
  /** The exact hashed text. */
  event: string;
  /** hex */
  hash: string;
}

/** Events seq fromSeq..toSeq hidden from a scoped reader; `hash` = hex of hash[toSeq]. */
export interface TrailStub {
  stub: { chain: string; fromSeq: number; toSeq: number; hash: string };
}

export type TrailItem = TrailRow | TrailStub;

export type VerifyFailureKind =
  | 'edited'
  | 'missing'
  | 'reordered'
  | 'chain-mismatch'
  | 'checkpoint-hash'
  | 'checkpoint-count'
  | 'checkpoint-signature'
  | 'checkpoint-unknown-key'
  | 'checkpoint-chain'
  | 'malformed'
  | 'unanchored'
  | 'against-mismatch'
  | 'against-missing';

export interface VerifyFailure {
  seq: number;
  kind: VerifyFailureKind;
  /** e.g. "seq 18342: event edited (stored 3f…, computed a1…)" */
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  chain?: string;
  fromSeq?: number;
  toSeq?: number;
  /** Rows whose hash was checked (stubs not included). */
  events: number;
  checkpoints: number;
  /** Events (seqs) after the last checkpoint event, not yet covered by a signature. */
  unsignedTail: number;
  failure?: VerifyFailure;
  notes: string[];
}

export interface VerifyOptions {
  trustedKeys: Map<string, KeyObject>;
  /** When the first row is not seq 1: require a checkpoint event there (default), or trust its stored hash. */
  anchor?: 'checkpoint' | 'stored';
  /** Checkpoints published elsewhere (log, webhooks). */
  against?: CheckpointBody[];
  /**
   * For exports a pipeline re-serialized: when an event's text does not hash, try its RFC 8785
   * form (export-line.ts `recanonicalize`) before reporting 'edited'. Off for the store, whose
   * text is what was hashed.
   */
  recanonicalize?: boolean;
}

export const CHECKPOINT_TYPE = 'trail.checkpoint';
const HEX64 = /^[0-9a-f]{64}$/;

class Failed {
  constructor(readonly failure: VerifyFailure) {}
}

function fail(seq: number, kind: VerifyFailureKind, message: string): Failed {
  return new Failed({ seq, kind, message: `seq ${seq}: ${message}` });
}

const short = (hex: string): string => `${hex.slice(0, 8)}…`;
const isSeq = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;

/** The parsed `trail.checkpoint` event: exactly canonicalJson({checkpoint, signature, type, v: 1}). */
function parseCheckpointEvent(seq: number, text: string): { checkpoint: CheckpointBody; signature: string } | Failed {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(seq, 'malformed', 'checkpoint event is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail(seq, 'malformed', 'checkpoint event is not a JSON object');
  const e = parsed as Record<string, unknown>;
  const keys = Object.keys(e).sort().join(',');
  if (keys !== 'checkpoint,signature,type,v' || e.v !== 1 || typeof e.signature !== 'string') {
    return fail(seq, 'malformed', `checkpoint event has members ${keys}, expected checkpoint, signature, type and v: 1`);
  }
  const problem = checkpointProblem(e.checkpoint);
  if (problem) return fail(seq, 'malformed', `checkpoint ${problem}`);
  if (canonicalJson(parsed) !== text) return fail(seq, 'malformed', 'checkpoint event is not in canonical form (RFC 8785)');
  return { checkpoint: e.checkpoint as CheckpointBody, signature: e.signature };
}

function tryRecanonicalize(text: string): string | undefined {
  try {
    return recanonicalize(text);
  } catch {
    return undefined;
  }
}

const VERSION = /^[1-9][0-9]*$/;

/** The event's top-level type, or why it has none. */
function eventType(seq: number, text: string): string | Failed {
  const t = topLevelMemberFast(text, 'type');
  if (t === undefined) return fail(seq, 'malformed', 'event is not a JSON object');
  if (t === null) return fail(seq, 'malformed', 'event has no type');
  const v = topLevelMemberFast(text, 'v');
  if (!v || !VERSION.test(text.slice(v.start, v.end))) return fail(seq, 'malformed', 'event has no integer v');
  const raw = text.slice(t.start, t.end);
  if (raw.charCodeAt(0) !== 0x22) return fail(seq, 'malformed', 'event type is not a string');
  if (!raw.includes('\\')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return fail(seq, 'malformed', 'event type is not a valid JSON string');
  }
}

class Verifier {
  chain: string | undefined;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  prev: Buffer = ZERO_HASH;
  events = 0;
  checkpoints = 0;
  lastCheckpointSeq: number | undefined;
  /** fromSeq the next checkpoint must have; undefined when unknown (after a stub or a mid-chain start). */
  segmentStart: number | undefined;
  /** checkpointHash of the previous checkpoint; null: none since seq 1; undefined: unknown. */
  prevCheckpoint: string | null | undefined;
  /** A forward jump seen at the last row: 'missing' unless the skipped seq comes next. */
  pendingJump: { expected: number; got: number } | undefined;
  stubs = 0;
  stubbedEvents = 0;
  recanonicalized = 0;
  readonly notes: string[] = [];
  readonly opts: VerifyOptions;
  against: CheckpointBody[] | undefined;
  againstNext = 0;
  againstBefore = 0;
  againstHidden = 0;

  constructor(opts: VerifyOptions) {
    this.opts = opts;
  }

  push(item: TrailItem): Failed | undefined {
    try {
      return 'stub' in item ? this.stub(item.stub) : this.row(item);
    } catch (e) {
      const seq = 'stub' in item ? item.stub.fromSeq : item.seq;
      return fail(isSeq(seq) ? seq : (this.lastSeq ?? 0) + 1, 'malformed', `cannot be verified: ${(e as Error).message}`);
    }
  }

  /** Chain and order checks shared by rows and stubs; sets the chain and the first seq. */
  position(chain: unknown, seq: number): Failed | undefined {
    if (typeof chain !== 'string' || chain === '' || chain.includes('\0')) return fail(seq, 'malformed', 'chain id is not a non-empty string without NUL');
    if (this.chain === undefined) {
      this.chain = chain;
      this.firstSeq = seq;
      this.prepareAgainst(chain, seq);
    } else if (chain !== this.chain) {
      return fail(seq, 'chain-mismatch', `row of chain ${JSON.stringify(chain)} among rows of chain ${JSON.stringify(this.chain)}`);
    }
    const jump = this.pendingJump;
    if (jump) {
      if (seq > jump.expected - 1 && seq < jump.got) return fail(seq, 'reordered', `rows out of order: seq ${seq} comes after seq ${jump.got}`);
      return fail(jump.expected, 'missing', `event${jump.got - jump.expected > 1 ? `s ${jump.expected}–${jump.got - 1}` : ''} missing (deleted?): seq ${jump.expected - 1} is followed by seq ${jump.got}`);
    }
    const last = this.lastSeq;
    if (last !== undefined && seq <= last) return fail(seq, 'reordered', `rows out of order: seq ${seq} comes after seq ${last}`);
    return undefined;
  }

  row(r: TrailRow): Failed | undefined {
    const seq = r.seq;
    if (!isSeq(seq)) return fail((this.lastSeq ?? 0) + 1, 'malformed', `seq ${String(seq)} is not a positive integer`);
    if (typeof r.event !== 'string' || typeof r.hash !== 'string' || typeof r.type !== 'string') return fail(seq, 'malformed', 'row lacks event, hash or type text');
    const pos = this.position(r.chain, seq);
    if (pos) return pos;
    if (this.lastSeq !== undefined && seq > this.lastSeq + 1) {
      this.pendingJump = { expected: this.lastSeq + 1, got: seq };
      return undefined; // decided by the next row (or the end)
    }
    const chain = this.chain!;
    const started = this.lastSeq !== undefined;

    let text = r.event;
    let before = this.prev; // hash[seq-1]
    let trustStored = false;
    let signatureChecked = false;
    let type: string | undefined;
    let cp: { checkpoint: CheckpointBody; signature: string } | undefined;
    if (!started) {
      if (seq === 1) {
        before = ZERO_HASH;
        this.segmentStart = 1;
        this.prevCheckpoint = null;
      } else {
        const t = eventType(seq, text);
        if (t instanceof Failed) return t;
        type = t;
        if (type === CHECKPOINT_TYPE) {
          if (this.opts.recanonicalize) text = tryRecanonicalize(text) ?? text;
          const parsed = parseCheckpointEvent(seq, text);
          if (parsed instanceof Failed) return parsed;
          cp = parsed;
          // everything after hangs on this signature: check it before anything else
          const sig = this.signature(seq, cp.checkpoint, cp.signature);
          if (sig) return sig;
          signatureChecked = true;
          if (cp.checkpoint.toSeq !== seq - 1) return fail(seq, 'checkpoint-count', `checkpoint covers up to seq ${cp.checkpoint.toSeq}, but a checkpoint event follows the last event it covers (expected ${seq - 1})`);
          before = Buffer.from(cp.checkpoint.toHash, 'hex');
          this.notes.push(`started at the checkpoint at seq ${seq}: its signed toHash anchors the range`);
        } else if (this.opts.anchor === 'stored') {
          if (!HEX64.test(r.hash)) return fail(seq, 'malformed', 'stored hash is not 64 lowercase hex digits');
          trustStored = true;
          this.notes.push(`start not anchored: the stored hash of seq ${seq} is trusted as the starting point; the next checkpoint proves what follows`);
        } else {
          return fail(seq, 'unanchored', `the first row is neither seq 1 nor a ${CHECKPOINT_TYPE} event, so nothing anchors it (start at a checkpoint, or accept the stored hash as the start)`);
        }
        this.segmentStart = undefined;
        this.prevCheckpoint = undefined;
      }
    }

    let computed: Buffer;
    if (trustStored) computed = Buffer.from(r.hash, 'hex');
    else {
      computed = chainHash(chain, seq, before, text);
      let hex = computed.toString('hex');
      const stored = r.hash.toLowerCase();
      if (hex !== stored && this.opts.recanonicalize) {
        const canonical = tryRecanonicalize(text);
        if (canonical !== undefined && canonical !== text) {
          const again = chainHash(chain, seq, before, canonical);
          if (again.toString('hex') === stored) {
            text = canonical;
            computed = again;
            hex = stored;
            this.recanonicalized++;
          }
        }
      }
      if (hex !== stored) return fail(seq, 'edited', `event edited (stored ${short(r.hash)}, computed ${short(hex)})`);
    }

    if (type === undefined) {
      const t = eventType(seq, text);
      if (t instanceof Failed) return t;
      type = t;
    }
    if (type !== r.type) return fail(seq, 'malformed', `type column says ${JSON.stringify(r.type)}, the event says ${JSON.stringify(type)}`);
    if (type === CHECKPOINT_TYPE && !cp) {
      const parsed = parseCheckpointEvent(seq, text);
      if (parsed instanceof Failed) return parsed;
      cp = parsed;
    }

    if (cp) {
      const bad = this.checkpoint(seq, cp.checkpoint, cp.signature, before, signatureChecked);
      if (bad) return bad;
    }
    const against = this.checkAgainst(seq, cp?.checkpoint);
    if (against) return against;

    this.prev = computed;
    this.lastSeq = seq;
    this.events++;
    return undefined;
  }

  signature(seq: number, c: CheckpointBody, signature: string): Failed | undefined {
    const sig = verifyCheckpointSignature(c, signature, this.opts.trustedKeys);
    if (sig === 'unknown-key') return fail(seq, 'checkpoint-unknown-key', `checkpoint signed by key ${c.keyId}, which is not among the trusted keys`);
    if (sig === 'bad-signature') return fail(seq, 'checkpoint-signature', `checkpoint signature does not verify with trusted key ${c.keyId} (forged or altered checkpoint)`);
    return undefined;
  }

  checkpoint(seq: number, c: CheckpointBody, signature: string, before: Buffer, signatureChecked: boolean): Failed | undefined {
    const sig = signatureChecked ? undefined : this.signature(seq, c, signature);
    if (sig) return sig;
    if (c.chain !== this.chain) return fail(seq, 'checkpoint-chain', `checkpoint is for chain ${JSON.stringify(c.chain)}, not ${JSON.stringify(this.chain)}`);
    if (c.toSeq !== seq - 1) return fail(seq, 'checkpoint-count', `checkpoint covers up to seq ${c.toSeq}, expected ${seq - 1} (the seq before the checkpoint event)`);
    const running = before.toString('hex');
    if (running !== c.toHash) return fail(seq, 'checkpoint-hash', `checkpoint says hash[${c.toSeq}] is ${short(c.toHash)}, the chain computes ${short(running)} (events up to seq ${c.toSeq} were changed and re-hashed)`);
    if (c.count !== c.toSeq - c.fromSeq + 1) return fail(seq, 'checkpoint-count', `checkpoint count ${c.count} does not match seqs ${c.fromSeq}..${c.toSeq}`);
    if (this.segmentStart !== undefined && c.fromSeq !== this.segmentStart) {
      return fail(seq, 'checkpoint-count', `checkpoint covers from seq ${c.fromSeq}, expected ${this.segmentStart} (the event after the previous checkpoint event, or the chain start)`);
    }
    if (this.prevCheckpoint === null && c.prevCheckpoint !== undefined) {
      return fail(seq, 'checkpoint-chain', `checkpoint names a previous checkpoint ${short(c.prevCheckpoint)}, but none precedes it since seq 1`);
    }
    if (typeof this.prevCheckpoint === 'string' && c.prevCheckpoint !== this.prevCheckpoint) {
      return fail(seq, 'checkpoint-chain', `checkpoint names previous checkpoint ${c.prevCheckpoint ? short(c.prevCheckpoint) : '(none)'}, but the previous checkpoint event (seq ${this.lastCheckpointSeq}) hashes to ${short(this.prevCheckpoint)} (a checkpoint was removed or replaced)`);
    }
    this.prevCheckpoint = checkpointHash(c, signature);
    this.segmentStart = seq + 1;
    this.lastCheckpointSeq = seq;
    this.checkpoints++;
    return undefined;
  }

  stub(s: TrailStub['stub']): Failed | undefined {
    const { fromSeq, toSeq } = s;
    if (!isSeq(fromSeq) || !isSeq(toSeq) || toSeq < fromSeq) return fail(isSeq(fromSeq) ? fromSeq : (this.lastSeq ?? 0) + 1, 'malformed', `stub seqs ${String(fromSeq)}-${String(toSeq)} are not a range of positive integers`);
    if (typeof s.hash !== 'string' || !HEX64.test(s.hash)) return fail(fromSeq, 'malformed', 'stub hash is not 64 lowercase hex digits');
    const pos = this.position(s.chain, fromSeq);
    if (pos) return pos;
    if (this.lastSeq !== undefined && fromSeq > this.lastSeq + 1) {
      this.pendingJump = { expected: this.lastSeq + 1, got: fromSeq };
      return undefined;
    }
    if (this.lastSeq === undefined) this.notes.push(`the range starts with a stub (seqs ${fromSeq}-${toSeq}), trusted as stated`);
    if (this.against) {
      while (this.againstNext < this.against.length && this.against[this.againstNext]!.toSeq + 1 <= toSeq) {
        this.againstNext++;
        this.againstHidden++;
      }
    }
    this.prev = Buffer.from(s.hash, 'hex');
    this.lastSeq = toSeq;
    this.segmentStart = undefined;
    this.prevCheckpoint = undefined;
    this.stubs++;
    this.stubbedEvents += toSeq - fromSeq + 1;
    return undefined;
  }

  prepareAgainst(chain: string, firstSeq: number): void {
    const all = this.opts.against;
    if (!all || all.length === 0) return;
    const mine = all.filter((c) => c.chain === chain).sort((a, b) => a.toSeq - b.toSeq);
    if (mine.length < all.length) this.notes.push(`${all.length - mine.length} published checkpoint(s) of other chains ignored`);
    let i = 0;
    while (i < mine.length && mine[i]!.toSeq + 1 < firstSeq) i++;
    this.againstBefore = i;
    this.against = mine;
    this.againstNext = i;
  }

  /** Published checkpoints whose checkpoint event is at `seq` must equal the one found there. */
  checkAgainst(seq: number, found: CheckpointBody | undefined): Failed | undefined {
    const list = this.against;
    if (!list) return undefined;
    while (this.againstNext < list.length && list[this.againstNext]!.toSeq + 1 === seq) {
      const published = list[this.againstNext]!;
      if (!found) return fail(seq, 'against-mismatch', `a published checkpoint covers up to seq ${published.toSeq}, but the store has no checkpoint event at seq ${seq} (history was rewritten)`);
      let same: boolean;
      try {
        same = canonicalJson(published) === canonicalJson(found);
      } catch {
        same = false;
      }
      if (!same) return fail(seq, 'against-mismatch', `the store's checkpoint (toHash ${short(found.toHash)}) differs from the published one (toHash ${short(String(published.toHash))}): history up to seq ${published.toSeq} was rewritten`);
      this.againstNext++;
    }
    return undefined;
  }

  finish(): Failed | undefined {
    const jump = this.pendingJump;
    if (jump) return fail(jump.expected, 'missing', `event${jump.got - jump.expected > 1 ? `s ${jump.expected}–${jump.got - 1}` : ''} missing (deleted?): seq ${jump.expected - 1} is followed by seq ${jump.got}`);
    const list = this.against;
    if (list && this.againstNext < list.length) {
      const first = list[this.againstNext]!;
      const seq = (this.lastSeq ?? 0) + 1;
      return fail(seq, 'against-missing', `a published checkpoint covers up to seq ${first.toSeq}, but the trail ends at seq ${this.lastSeq ?? 0}: the newest events were deleted`);
    }
    if (this.opts.against && this.opts.against.length > 0 && this.chain === undefined) {
      return fail(1, 'against-missing', 'published checkpoints exist, but there are no events: the trail was deleted');
    }
    return undefined;
  }

  report(failed: Failed | undefined): VerifyReport {
    const notes = [...this.notes];
    const last = this.lastSeq;
    const unsignedTail = last === undefined ? 0 : last - (this.lastCheckpointSeq ?? this.firstSeq! - 1);
    if (!failed) {
      if (this.chain === undefined) notes.push('no events to verify');
      if (this.recanonicalized > 0) notes.push(`${this.recanonicalized} event(s) verified only in their re-canonicalized (RFC 8785) form: the file was re-serialized`);
      if (this.stubs > 0) notes.push(`${this.stubbedEvents} event(s) in ${this.stubs} stub(s) trusted as stated (hidden from this reader); checkpoints after them prove their hashes`);
      if (unsignedTail > 0) notes.push(`not yet signed: ${unsignedTail} event(s) after the last checkpoint`);
      if (this.againstBefore > 0) notes.push(`${this.againstBefore} published checkpoint(s) precede the verified range (not checked)`);
      if (this.againstHidden > 0) notes.push(`${this.againstHidden} published checkpoint(s) fall inside stubs (not checked)`);
      if (!this.opts.against || this.opts.against.length === 0) {
        notes.push('deleting the newest events together with their checkpoints cannot be seen from the store alone: verify against published checkpoints for that');
      }
    }
    return {
      ok: !failed,
      ...(this.chain !== undefined ? { chain: this.chain, fromSeq: this.firstSeq!, ...(last !== undefined ? { toSeq: last } : {}) } : {}),
      events: this.events,
      checkpoints: this.checkpoints,
      unsignedTail,
      ...(failed ? { failure: failed.failure } : {}),
      notes,
    };
  }
}

/** Verifies rows (and stubs) of one chain, in seq order; stops at the first failure. */
export async function verifyTrail(rows: AsyncIterable<TrailItem> | Iterable<TrailItem>, opts: VerifyOptions): Promise<VerifyReport> {
  const v = new Verifier(opts);
  let failed: Failed | undefined;
  if (Symbol.asyncIterator in rows) {
    for await (const item of rows) if ((failed = v.push(item))) break;
  } else {
    for (const item of rows) if ((failed = v.push(item))) break;
  }
  return v.report(failed ?? v.finish());
}
