/**
 * `list_resources` — what `kubectl get <resource>` shows: one page of a list, as the aligned
 * table the API server prints itself.
 *
 * Request: `GET /api/v1/[namespaces/{ns}/]{resource}` or `/apis/{group}/{version}/…` with
 * `limit`, `labelSelector`, `fieldSelector`, `continue` (api-conventions.md "Lists and Simple
 * kinds"; chunking: KEP-365 "Paginated API lists"), and the Accept header kubectl sends for
 * server-side printing: `application/json;as=Table;v=v1;g=meta.k8s.io,application/json`.
 * An answer that is not a Table (an aggregated API that cannot print) falls back to the names
 * of its items. Policy sees the verb `list`.
 */
import { z } from 'zod';
import type { SluiceTool, ToolResult } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { answerCutNote, bodyJson, bodyText, bound, errorResult, failureResult, isRecord, isSuccess, TEXT_LIMIT, textResult, truncationNote } from './results.ts';
import { alignColumns, readTable, type RenderedTable } from './table.ts';
import { apiVersion, continueToken, fieldSelector, labelSelector, namespace, resource } from './validation.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

const input = z.strictObject({
  apiVersion: apiVersion.default('v1'),
  resource,
  namespace: namespace.optional().describe('Namespace to list in; omit to list across all namespaces (or for cluster-scoped resources such as nodes and namespaces).'),
  labelSelector: labelSelector.optional(),
  fieldSelector: fieldSelector.optional(),
  limit: z.int().min(1).max(500).default(100).describe('Most items in this page (1–500, default 100); a continue token is given when there are more.'),
  continue: continueToken.optional(),
  wide: z.boolean().default(false).describe('Show the extra columns of `kubectl get -o wide` (for pods: IP, node…).'),
});

export const listResources: SluiceTool<typeof input> = {
  name: 'list_resources',
  title: 'List Kubernetes resources',
  description:
    'List resources of one type, like `kubectl get`: a table with the columns the API server prints (NAME, STATUS, AGE…), one page at a time. Use it to find names before get_resource, describe_resource or pod_logs.',
  input,
  annotations: { readOnlyHint: true, openWorldHint: false },
  reach: { verbs: ['list'] },
  async run(args, kube) {
    const ref = { apiVersion: args.apiVersion, resource: args.resource, namespace: args.namespace };
    const query: Record<string, string> = { limit: String(args.limit) };
    if (args.labelSelector) query.labelSelector = args.labelSelector;
    if (args.fieldSelector) query.fieldSelector = args.fieldSelector;
    if (args.continue) query.continue = args.continue;
    const answer = await kube.request({ method: 'GET', path: resourcePath(ref), query, headers: { accept: TABLE_ACCEPT } });
    if (!isSuccess(answer)) return failureResult(answer, `list ${describeRef(ref)}`);
    const json = bodyJson(answer);
    const table = readTable(json, { wide: args.wide, namespaceColumn: !args.namespace }) ?? namesTable(json, !args.namespace);
    if (answer.truncated) return errorResult(answerCutNote('The list could not be read; use a smaller limit or a selector.'));
    if (!table) {
      const b = bound(bodyText(answer));
      const note = b.omitted ? truncationNote(b.omitted, 'Use a smaller limit or a selector.') : '';
      return textResult(['The API server answered with something that is not a list:', b.text, note].filter(Boolean).join('\n'));
    }
    return renderList(table, ref.namespace);
  },
};

/** A list that is not a Table: its items' names (and namespaces). */
function namesTable(v: unknown, namespaceColumn: boolean): RenderedTable | undefined {
  if (!isRecord(v) || !Array.isArray(v.items)) return undefined;
  const rows = v.items.map((item) => {
    const m = isRecord(item) && isRecord(item.metadata) ? item.metadata : {};
    return [typeof m.namespace === 'string' ? m.namespace : '', typeof m.name === 'string' ? m.name : '<unnamed>'];
  });
  const meta = isRecord(v.metadata) ? v.metadata : {};
  const withNs = namespaceColumn && rows.some((r) => r[0] !== '');
  const table: RenderedTable = withNs ? { columns: ['NAMESPACE', 'NAME'], rows } : { columns: ['NAME'], rows: rows.map((r) => [r[1]!]) };
  if (typeof meta.continue === 'string' && meta.continue !== '') table.continue = meta.continue;
  if (typeof meta.remainingItemCount === 'number') table.remainingItemCount = meta.remainingItemCount;
  return table;
}

function renderList(table: RenderedTable, ns: string | undefined): ToolResult {
  if (table.rows.length === 0 && !table.continue) {
    return textResult(ns ? `No resources found in namespace ${ns}.` : 'No resources found.', { columns: table.columns, rows: [] });
  }
  // Keep whole rows within the text limit.
  let rows = table.rows;
  let text = alignColumns(table.columns, rows);
  while (text.length > TEXT_LIMIT && rows.length > 1) {
    rows = rows.slice(0, Math.floor(rows.length * 0.8));
    text = alignColumns(table.columns, rows);
  }
  const lines = [text];
  const hidden = table.rows.length - rows.length;
  if (hidden > 0) lines.push(`[truncated: ${hidden} more rows of this page were not shown; use a smaller limit or a selector.]`);
  if (table.continue) {
    const more = table.remainingItemCount !== undefined ? ` (about ${table.remainingItemCount} more)` : '';
    lines.push(`More items exist${more}: call list_resources again with the same arguments and continue: "${table.continue}"`);
  }
  const structured: Record<string, unknown> = { columns: table.columns, rows };
  if (table.continue) structured.continue = table.continue;
  if (table.remainingItemCount !== undefined) structured.remainingItemCount = table.remainingItemCount;
  if (hidden > 0) structured.truncated = true;
  return textResult(lines.join('\n'), structured);
}
