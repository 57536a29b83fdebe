/**
 * Counts of masking actions, kept while a response streams: per field label (`Secret data`,
 * `env value`, `ConfigMap data.DB_URL`) and per detector (`jwt`). Labels name where a value was,
 * never what it was, so the counts can go into the audit record and metrics.
 */
import type { MaskCounts } from './types.ts';

export class MaskCounter {
  private readonly fieldCounts = new Map<string, number>();
  private readonly detectorCounts = new Map<string, number>();

  field(label: string, n = 1): void {
    this.fieldCounts.set(label, (this.fieldCounts.get(label) ?? 0) + n);
  }

  hits(hits: Record<string, number>): void {
    for (const [name, n] of Object.entries(hits)) if (n > 0) this.detectorCounts.set(name, (this.detectorCounts.get(name) ?? 0) + n);
  }

  merge(other: MaskCounter): void {
    for (const [label, n] of other.fieldCounts) this.field(label, n);
    for (const [name, n] of other.detectorCounts) this.detectorCounts.set(name, (this.detectorCounts.get(name) ?? 0) + n);
  }

  get empty(): boolean {
    return this.fieldCounts.size === 0 && this.detectorCounts.size === 0;
  }

  toCounts(): MaskCounts {
    return { fields: Object.fromEntries(this.fieldCounts), detectors: Object.fromEntries(this.detectorCounts) };
  }
}
