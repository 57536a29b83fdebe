/**
 * Finds one audit record by its id or a unique prefix of it, as `sluice audit show` and
 * `sluice audit replay` accept it (the ids `sluice audit list` prints are shortened).
 */
import { SluiceError } from '../core/errors.ts';
import type { AuditRecord } from '../audit/types.ts';
import type { AuditStore } from '../store/audit-store.ts';

/** How many matches of a prefix are read to tell "unique" from "ambiguous" (and listed when ambiguous). */
const PREFIX_PROBE = 5;

/** The record with this id, or the one record whose id starts with it; SluiceError AUDIT_RECORD_NOT_FOUND otherwise. */
export async function findAuditRecord(store: Pick<AuditStore, 'list'>, idOrPrefix: string): Promise<AuditRecord> {
  const wanted = idOrPrefix.trim().toLowerCase();
  if (!/^[0-9a-f-]{1,36}$/.test(wanted)) {
    throw new SluiceError('AUDIT_QUERY_INVALID', `${JSON.stringify(wanted.slice(0, 40))} is not an audit record id: give the id or a unique prefix of it (hex digits and dashes)`);
  }
  const { records } = await store.list({ idPrefix: wanted, limit: PREFIX_PROBE });
  if (records.length === 0) throw new SluiceError('AUDIT_RECORD_NOT_FOUND', `no audit record with id ${wanted}${wanted.length < 36 ? '…' : ''}`);
  const exact = records.find((r) => r.id === wanted);
  if (exact) return exact;
  if (records.length > 1) {
    throw new SluiceError('AUDIT_RECORD_NOT_FOUND', `id prefix ${wanted} is ambiguous; it matches ${records.map((r) => r.id).join(', ')}${records.length === PREFIX_PROBE ? ', …' : ''}`);
  }
  return records[0]!;
}
