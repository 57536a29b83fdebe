/**
 * Bounded event history for watch-from-resourceVersion, like the apiserver's watch cache
 * (k8s.io/apiserver/pkg/storage/cacher/watch_cache.go): a ring buffer of the last N events;
 * a watch starting at a resourceVersion older than the oldest retained event gets
 * `too old resource version: <rv> (<oldest-1>)` (410 Expired).
 */
import type { KubeObject } from '../types.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  type: EventType;
  /** Resource key `${group}/${resource}`. */
  key: string;
  namespace: string | undefined;
  rv: number;
  object: KubeObject;
  /** The object before this change (MODIFIED/DELETED), for selector transitions. */
  prev?: KubeObject;
}

export class EventHistory {
  private buf: (StoredEvent | undefined)[];
  private start = 0;
  private size = 0;
  /** The highest resourceVersion that has been evicted (0 when nothing was). */
  compactedRV = 0;

  constructor(readonly capacity = 10000) {
    this.buf = new Array<StoredEvent | undefined>(capacity);
  }

  push(e: StoredEvent): void {
    if (this.size === this.capacity) {
      const old = this.buf[this.start];
      if (old) this.compactedRV = old.rv;
      this.buf[this.start] = e;
      this.start = (this.start + 1) % this.capacity;
    } else {
      this.buf[(this.start + this.size) % this.capacity] = e;
      this.size++;
    }
  }

  /** Events with rv > fromRV, oldest first. */
  since(fromRV: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let i = 0; i < this.size; i++) {
      const e = this.buf[(this.start + i) % this.capacity];
      if (e && e.rv > fromRV) out.push(e);
    }
    return out;
  }

  /** Forget everything up to and including rv (tests use it to simulate compaction). */
  compact(rv: number): void {
    while (this.size > 0) {
      const e = this.buf[this.start];
      if (!e || e.rv > rv) break;
      this.buf[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.size--;
    }
    this.compactedRV = Math.max(this.compactedRV, rv);
  }
}
