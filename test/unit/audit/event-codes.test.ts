import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { AUDIT_EVENT_CODES } from '../../../src/audit/event-codes.ts';
import type { AuditRecord } from '../../../src/audit/types.ts';
import { auditEntry } from '../store/audit-store.conformance.ts';

const doc = await readFile(new URL('../../../docs/audit-events.md', import.meta.url), 'utf8');
const section = (title: string): string => doc.split(/^## /m).find((s) => s.startsWith(title)) ?? '';
const rows = (text: string): Set<string> => new Set([...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));

test('every audit event code is documented in docs/audit-events.md, and nothing else is', () => {
  const documented = rows(section('Codes'));
  for (const code of Object.keys(AUDIT_EVENT_CODES)) assert.ok(documented.has(code), `${code} is not documented`);
  for (const code of documented) assert.ok(code in AUDIT_EVENT_CODES, `${code} is documented but not in the registry`);
});

test('every field of a full audit record is documented, and nothing else is', () => {
  const full: AuditRecord = {
    ...auditEntry({ error: { code: 'X', message: 'y' } }),
    approvalId: '00000000-0000-4000-8000-000000000000',
    detail: {},
    seq: 1,
    outcome: {
      status: 200,
      bytesIn: 0,
      bytesOut: 0,
      durationMs: 0,
      completedAt: new Date(),
      error: { code: 'X', message: 'y' },
      masking: { fields: {}, detectors: {}, oversizeLines: 0, lifted: [] },
      detail: {},
    },
  };
  const paths = new Set<string>();
  const walk = (v: unknown, p: string): void => {
    if (p) paths.add(p);
    if (v && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
  };
  walk(full, '');
  const documented = rows(section('Fields'));
  for (const p of paths) assert.ok(documented.has(p), `record field ${p} is not documented`);
  for (const p of documented) assert.ok(paths.has(p), `${p} is documented but not a record field`);
});
