/**
 * Renders server-side printed lists (meta.k8s.io/v1 `Table`, k8s.io/apimachinery/pkg/apis/meta/v1
 * types.go; produced by k8s.io/apiserver/pkg/endpoints/handlers/response.go) as the text `kubectl get`
 * prints: upper-case column names, the columns of priority 0 (all of them with `wide`, like
 * `-o wide`), a NAMESPACE column first when rows come from several namespaces, three spaces
 * between columns (kubectl's tabwriter padding).
 */
import { isRecord, oneLine } from './results.ts';

/** The most characters of one cell (a long message or annotation does not wreck the layout). */
const CELL_LIMIT = 200;

export interface RenderedTable {
  columns: string[];
  rows: string[][];
  /** `metadata.continue` of the list: there are more items. */
  continue?: string;
  remainingItemCount?: number;
}

/** The Table in `v`, reduced to printable columns and cells; undefined when `v` is not a Table. */
export function readTable(v: unknown, opts: { wide: boolean; namespaceColumn: boolean }): RenderedTable | undefined {
  if (!isRecord(v) || v.kind !== 'Table' || !Array.isArray(v.rows)) return undefined;
  const defs = Array.isArray(v.columnDefinitions) ? v.columnDefinitions : [];
  const picked: { index: number; name: string }[] = [];
  defs.forEach((d, index) => {
    if (!isRecord(d) || typeof d.name !== 'string') return;
    const priority = typeof d.priority === 'number' ? d.priority : 0;
    if (opts.wide || priority === 0) picked.push({ index, name: d.name.toUpperCase() });
  });
  const rows: string[][] = [];
  const namespaces: string[] = [];
  for (const r of v.rows) {
    if (!isRecord(r) || !Array.isArray(r.cells)) continue;
    const cells = r.cells as unknown[];
    rows.push(picked.map((c) => cellText(cells[c.index])));
    const ns = isRecord(r.object) && isRecord(r.object.metadata) ? r.object.metadata.namespace : undefined;
    namespaces.push(typeof ns === 'string' ? ns : '');
  }
  const columns = picked.map((c) => c.name);
  const table: RenderedTable = { columns, rows };
  if (opts.namespaceColumn && namespaces.some((n) => n !== '')) {
    table.columns = ['NAMESPACE', ...columns];
    table.rows = rows.map((r, i) => [namespaces[i] ?? '', ...r]);
  }
  const meta = isRecord(v.metadata) ? v.metadata : {};
  if (typeof meta.continue === 'string' && meta.continue !== '') table.continue = meta.continue;
  if (typeof meta.remainingItemCount === 'number') table.remainingItemCount = meta.remainingItemCount;
  return table;
}

/** What kubectl prints for one cell: `<none>` for null, JSON for objects, one line always. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (typeof v === 'string') return oneLine(v, CELL_LIMIT);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return oneLine(JSON.stringify(v), CELL_LIMIT);
}

/** Columns padded to their widest cell, three spaces apart, no trailing spaces. */
export function alignColumns(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}
