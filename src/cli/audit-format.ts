/** Text rendering of audit records for `sluice audit list|show` (pure; tested through the CLI). */
import type { AuditRecord } from '../audit/types.ts';

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function resourceOf(r: AuditRecord): string {
  const a = r.attributes;
  if (!a || !a.isResourceRequest) return r.path;
  return `${a.resource}${a.apiGroup ? `.${a.apiGroup}` : ''}${a.subresource ? `/${a.subresource}` : ''}`;
}

function objectOf(r: AuditRecord): string {
  const a = r.attributes;
  if (!a || (!a.namespace && !a.name)) return '-';
  return a.namespace && a.name ? `${a.namespace}/${a.name}` : a.namespace || a.name;
}

export const LIST_COLUMNS = ['TIME', 'ID', 'USER', 'VERB', 'RESOURCE', 'NAMESPACE/NAME', 'DECISION', 'STATUS', 'DURATION'] as const;

export function listRow(r: AuditRecord): string[] {
  return [
    iso(r.time),
    r.id.slice(0, 8),
    r.principal?.username ?? '-',
    r.attributes?.verb ?? r.method.toLowerCase(),
    resourceOf(r),
    objectOf(r),
    r.decision?.effect ?? r.error?.code ?? '-',
    r.outcome ? String(r.outcome.status) : '-',
    r.outcome ? formatDuration(r.outcome.durationMs) : '-',
  ];
}

/** Left-aligned columns separated by two spaces (kubectl style). */
export function formatTable(header: readonly string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Every field of a record, one `key: value` line each, nested fields dotted. */
export function formatRecord(r: AuditRecord): string {
  const lines: [string, string][] = [];
  const walk = (v: unknown, key: string): void => {
    if (v === undefined) return;
    if (v === null) lines.push([key, '(none)']);
    else if (v instanceof Date) lines.push([key, v.toISOString()]);
    else if (Array.isArray(v)) lines.push([key, v.length ? v.map(String).join(', ') : '(none)']);
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
    else lines.push([key, v === '' ? '""' : String(v)]);
  };
  walk(r, '');
  if (!r.outcome) lines.push(['outcome', '(not completed: in flight, or the gateway stopped before the response ended)']);
  const width = Math.max(...lines.map(([k]) => k.length)) + 1;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n') + '\n';
}

/** JSON of a record with times as ISO strings: the control API's wire format (src/audit/record-json.ts). */
export { recordJson } from '../audit/record-json.ts';
