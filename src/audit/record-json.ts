/**
 * Audit records as JSON: what `GET /sluice/v1/audit/events` answers and `sluice audit list|show
 * --json` prints, one shape for both (times as ISO 8601 strings, absent fields left out), and
 * the way back for clients that format what the control API sent.
 */
import type { Jsonified } from '../core/jsonified.ts';
import type { AuditRecord } from './types.ts';

/** An audit record on the wire. */
export type AuditRecordJson = Jsonified<AuditRecord>;

/** A page of audit records on the wire; `next` is the cursor of the following page. */
export interface AuditPageJson {
  records: AuditRecordJson[];
  next?: string;
}

/** JSON of a record with times as ISO strings. */
export function recordJson(r: AuditRecord): AuditRecordJson {
  return JSON.parse(JSON.stringify(r)) as AuditRecordJson;
}

/** A record as the control API sent it, with its times as Dates again. */
export function recordFromJson(j: AuditRecordJson): AuditRecord {
  const { time, outcome, ...rest } = j;
  const r = structuredClone(rest) as Omit<AuditRecord, 'time' | 'outcome'>;
  return {
    ...r,
    time: new Date(time),
    ...(outcome ? { outcome: { ...structuredClone(outcome), completedAt: new Date(outcome.completedAt) } } : {}),
  };
}
