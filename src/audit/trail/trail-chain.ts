/**
 * The head of one chain, as its single writer holds it (ADR 0002, "one writer per chain assigns
 * seq and hashes inside the group commit"): it gives each appended event the next seq and its
 * chain hash, and decides when a signed checkpoint is due. Store adapters call it inside their
 * write transaction; when the transaction fails they `restore()` the head they `mark()`ed
 * before, so a failed batch leaves no hole in the sequence.
 *
 * Checkpoints: the checkpoint event follows the last event it covers (`toSeq` = its own seq −
 * 1), covers everything since the previous checkpoint event, and names that one by
 * `checkpointHash` (verify-trail.ts checks exactly this).
 */
import { chainHash, ZERO_HASH } from './chain-hash.ts';
import { checkpointHash, signCheckpoint, type CheckpointBody } from './checkpoint.ts';
import type { TrailSigner } from './signing-key.ts';
import { checkpointEvent, type TrailEventType } from './trail-events.ts';

/** An event ready to append: its canonical text, built before its seq is known. */
export interface PendingEvent {
  type: TrailEventType;
  /** The request or approval id the event belongs to (lookups), or null. */
  ref: string | null;
  /** When the gateway observed it (ms). */
  time: number;
  text: string;
}

export interface AppendedEvent extends PendingEvent {
  chain: string;
  seq: number;
  hash: Buffer;
}

export interface ChainState {
  seq: number;
  hash: Buffer;
  /** seq of the newest checkpoint event, and its checkpointHash (the next one names it). */
  lastCheckpoint: { seq: number; hash: string } | null;
}

export interface CheckpointPolicy {
  /** A checkpoint after this many events (default 10,000). */
  events: number;
  signer: TrailSigner;
  now?: () => number;
}

export class TrailChain {
  readonly chain: string;
  #state: ChainState;
  readonly #policy: CheckpointPolicy | undefined;

  constructor(chain: string, state: ChainState | null, policy?: CheckpointPolicy) {
    this.chain = chain;
    this.#state = state ? { ...state } : { seq: 0, hash: ZERO_HASH, lastCheckpoint: null };
    this.#policy = policy;
  }

  get head(): { seq: number; hash: Buffer } {
    return { seq: this.#state.seq, hash: this.#state.hash };
  }

  /** The seq the next append gets. */
  get nextSeq(): number {
    return this.#state.seq + 1;
  }

  /** Events appended since the newest checkpoint. */
  get sinceCheckpoint(): number {
    return this.#state.seq - (this.#state.lastCheckpoint?.seq ?? 0);
  }

  mark(): ChainState {
    return { ...this.#state };
  }

  restore(state: ChainState): void {
    this.#state = { ...state };
  }

  append(e: PendingEvent): AppendedEvent {
    const state = this.#state;
    const seq = state.seq + 1;
    const hash = chainHash(this.chain, seq, state.hash, e.text);
    // On the writer's hot path: the state is this object's own (mark/restore copy it), so it is updated in place.
    state.seq = seq;
    state.hash = hash;
    return { type: e.type, ref: e.ref, time: e.time, text: e.text, chain: this.chain, seq, hash };
  }

  /** True when the policy's event count since the last checkpoint is reached. */
  checkpointDue(): boolean {
    return this.#policy !== undefined && this.sinceCheckpoint >= this.#policy.events;
  }

  /**
   * Append a signed checkpoint over the events since the previous one; undefined when there is
   * nothing new to cover or no signer.
   */
  checkpoint(): AppendedEvent | undefined {
    const policy = this.#policy;
    if (!policy || this.sinceCheckpoint === 0) return undefined;
    const last = this.#state.lastCheckpoint;
    const fromSeq = last ? last.seq + 1 : 1;
    const toSeq = this.#state.seq;
    const time = (policy.now ?? Date.now)();
    const body: CheckpointBody = {
      v: 1,
      chain: this.chain,
      fromSeq,
      toSeq,
      count: toSeq - fromSeq + 1,
      toHash: this.#state.hash.toString('hex'),
      time,
      keyId: policy.signer.keyId,
      ...(last ? { prevCheckpoint: last.hash } : {}),
    };
    const { checkpoint, signature } = signCheckpoint(body, policy.signer);
    const appended = this.append({ type: 'trail.checkpoint', ref: null, time, text: checkpointEvent(checkpoint, signature) });
    this.#state = { ...this.#state, lastCheckpoint: { seq: appended.seq, hash: checkpointHash(checkpoint, signature) } };
    return appended;
  }

}

/** The chain state a store rebuilds at start from its newest event and newest checkpoint event. */
export function stateFrom(head: { seq: number; hash: Buffer } | undefined, lastCheckpoint: { seq: number; text: string } | undefined): ChainState {
  let cp: ChainState['lastCheckpoint'] = null;
  if (lastCheckpoint) {
    const parsed = JSON.parse(lastCheckpoint.text) as { checkpoint: CheckpointBody; signature: string };
    cp = { seq: lastCheckpoint.seq, hash: checkpointHash(parsed.checkpoint, parsed.signature) };
  }
  return head ? { seq: head.seq, hash: head.hash, lastCheckpoint: cp } : { seq: 0, hash: ZERO_HASH, lastCheckpoint: null };
}
