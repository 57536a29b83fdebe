/**
 * The running digest that commits a recorded body (request, response or terminal stream) into the
 * audit trail without putting the bytes into the chain (ADR 0002, Decision 2):
 *
 *   d[0] = 32 zero bytes;  d[k] = SHA-256(d[k-1] ‖ u64be(tUs) ‖ u32be(len) ‖ data)
 *
 * where `tUs` is the chunk's offset in microseconds. Its current value goes into `body.segment`,
 * `request.outcome` and `terminal.end` events; the chunks themselves live outside the chain, so
 * bodies can be pruned or erased and the chain still verifies. Chunk length and time are inside
 * the hash, so splitting, merging or re-timing chunks changes the digest. About 1.4 GiB/s on
 * 16 KiB chunks (bench/trail.ts, 2-vCPU VM): recording is bound by the disk, not by this.
 */
import { createHash } from 'node:crypto';

const MAX_CHUNK = 0xffff_ffff;

export class BodyDigest {
  #d: Buffer = Buffer.alloc(32);
  #bytes = 0;
  #chunks = 0;
  readonly #header = Buffer.alloc(12);

  /** Feeds one chunk: `tUs` its offset in µs (a non-negative safe integer), `data` its bytes as sent. */
  update(tUs: number, data: Buffer): void {
    if (!Number.isSafeInteger(tUs) || tUs < 0) throw new RangeError(`BodyDigest: tUs ${tUs} is not a non-negative safe integer`);
    if (data.length > MAX_CHUNK) throw new RangeError(`BodyDigest: a chunk of ${data.length} bytes is over the u32 length field`);
    const h = this.#header;
    h.writeUInt32BE(Math.floor(tUs / 0x1_0000_0000), 0);
    h.writeUInt32BE(tUs >>> 0, 4);
    h.writeUInt32BE(data.length, 8);
    this.#d = createHash('sha256').update(this.#d).update(h).update(data).digest();
    this.#bytes += data.length;
    this.#chunks++;
  }

  /** Total bytes fed. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Chunks fed. */
  get chunks(): number {
    return this.#chunks;
  }

  /** The current digest d[chunks] in hex (64 zeros when nothing was fed). */
  hex(): string {
    return this.#d.toString('hex');
  }
}

/** The digest of a whole recorded body, e.g. recomputed from stored chunks by `verify`. */
export function digestChunks(chunks: Iterable<{ tUs: number; data: Buffer }>): string {
  const d = new BodyDigest();
  for (const c of chunks) d.update(c.tUs, c.data);
  return d.hex();
}
