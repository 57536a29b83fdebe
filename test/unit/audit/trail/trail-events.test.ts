/**
 * The events' canonical text: beginEvent builds members in sorted order by hand for speed, so it
 * must equal the generic RFC 8785 form of the whole record — no field dropped, none added, for
 * records with every optional field and with none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditBegin, AuditCompletion } from '../../../../src/audit/types.ts';
import { canonicalJson } from '../../../../src/audit/trail/canonical-json.ts';
import { beginEvent, outcomeEvent } from '../../../../src/audit/trail/trail-events.ts';
import { auditEntry } from '../../store/audit-store.conformance.ts';

/** The record as plain JSON with `time` in ms: what the event must hold. */
const generic = (type: string, e: AuditBegin): string => canonicalJson({ ...(JSON.parse(JSON.stringify(e)) as object), time: e.time.getTime(), type, v: 1 });

test('beginEvent is the canonical JSON of the whole record, whatever fields it has', () => {
  const full: AuditBegin = {
    ...auditEntry({ verb: 'create', namespace: 'prod' }),
    approvalId: '0b7d5e39-5d1e-4c43-9a43-64f0d7e0b001',
    detail: { z: 1, a: ['x', { b: 2, a: 1 }] },
    error: { code: 'REQUEST_INVALID', message: 'bad' },
  };
  full.attributes = { ...full.attributes!, objectError: 'unknown protobuf field 7' };
  const bare: AuditBegin = { id: full.id, time: full.time, code: 'http.malformed', principal: null, connection: '', method: '', path: '', query: '', sourceIp: '::1' };
  for (const e of [full, bare, auditEntry()]) assert.equal(beginEvent(e), generic('request.begin', e));
  const approval = { ...auditEntry(), code: 'approval.approved' as const, approvalId: full.approvalId! };
  assert.equal(beginEvent(approval), generic('record', approval));
});

test('outcomeEvent names the record and holds the outcome with completedAt in ms', () => {
  const c: AuditCompletion = { status: 200, bytesIn: 1, bytesOut: 2, durationMs: 3, completedAt: new Date(5000), masking: { fields: { 'Secret data': 2 }, detectors: {} } };
  const text = outcomeEvent('id-1', c);
  assert.equal(text, canonicalJson({ id: 'id-1', outcome: { ...c, completedAt: 5000 }, type: 'request.outcome', v: 1 }));
});
