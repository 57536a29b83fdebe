/**
 * Tool results (MCP 2025-06-18 "Tools" § Tool Result): text content a model reads easily,
 * bounded in size with a plain note when something was cut, and `isError: true` for every
 * answer that is not a success — a refusal or a Kubernetes error is a result the model must
 * read, never a JSON-RPC protocol error (§ Error Handling).
 *
 * When Sluice itself refused (the answer carries a Sluice error code, docs/errors.md), the text
 * says so in words a model cannot mistake for a transient fault: the organisation's access
 * policy (or an approver) refused; here is the gateway's message; do not retry or work around
 * it, tell the user. Other failures quote the Kubernetes `Status` message (api-conventions.md
 * "Response Status Kind").
 */
import type { KubeAnswer, ToolResult } from '../tool-types.ts';

/** The most characters of one result's text (about 25k tokens). */
export const TEXT_LIMIT = 100_000;
/** The most characters quoted from one error message. */
const MESSAGE_LIMIT = 2_000;

export interface Bounded {
  text: string;
  /** Characters left out (0 when nothing was cut). */
  omitted: number;
}

/** Cut `text` to `limit` characters, keeping the head (or the tail, for logs). */
export function bound(text: string, limit = TEXT_LIMIT, keep: 'head' | 'tail' = 'head'): Bounded {
  if (text.length <= limit) return { text, omitted: 0 };
  return keep === 'head'
    ? { text: text.slice(0, limit), omitted: text.length - limit }
    : { text: text.slice(text.length - limit), omitted: text.length - limit };
}

/** The note appended when a text was cut, with what to do about it. */
export function truncationNote(omitted: number, hint: string, where: 'end' | 'start' = 'end'): string {
  return `[truncated: ${omitted} more characters at the ${where} were not shown. ${hint}]`;
}

/** The note appended when the gateway's answer itself was longer than the tool reads. */
export function answerCutNote(hint: string): string {
  return `[truncated: the answer was longer than Sluice reads for a tool call and was cut. ${hint}]`;
}

export function textResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text }], ...(structuredContent ? { structuredContent } : {}) };
}

/** A tool-level failure (arguments the schema could not check, a manifest that does not parse). */
export function errorResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text }], isError: true, ...(structuredContent ? { structuredContent } : {}) };
}

export function isSuccess(answer: KubeAnswer): boolean {
  return answer.status >= 200 && answer.status < 300 && answer.sluiceError === undefined;
}

export function bodyText(answer: KubeAnswer): string {
  return answer.body.toString('utf8');
}

/** The body as JSON, or undefined when it is not JSON (or was cut). */
export function bodyJson(answer: KubeAnswer): unknown {
  if (answer.truncated) return undefined;
  try {
    return JSON.parse(bodyText(answer)) as unknown;
  } catch {
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface StatusSummary {
  message?: string;
  reason?: string;
  code?: number;
}

/** The `message`, `reason` and `code` of a Kubernetes Status (undefined when `v` is none). */
export function kubeStatus(v: unknown): StatusSummary | undefined {
  if (!isRecord(v) || v.kind !== 'Status') return undefined;
  const out: StatusSummary = {};
  if (typeof v.message === 'string') out.message = v.message;
  if (typeof v.reason === 'string') out.reason = v.reason;
  if (typeof v.code === 'number') out.code = v.code;
  return out;
}

/** Sluice codes that are decisions of the organisation's access policy or of an approver. */
const POLICY_REFUSALS: Record<string, string> = {
  POLICY_DENIED: "REFUSED by the organisation's access policy (Sluice POLICY_DENIED): no policy rule allows this action for you, or a rule forbids it.",
  APPROVAL_REQUIRED:
    "REFUSED by the organisation's access policy (Sluice APPROVAL_REQUIRED): this action needs an approver's consent, and the gateway could not hold it for approval.",
  APPROVAL_DENIED: "REFUSED by an approver (Sluice APPROVAL_DENIED): the organisation's access policy held this action for approval, and an approver denied it.",
  APPROVAL_EXPIRED:
    "NOT DONE (Sluice APPROVAL_EXPIRED): the organisation's access policy held this action for approval, and no approver decided in time.",
  APPROVAL_CONFLICT:
    'NOT DONE (Sluice APPROVAL_CONFLICT): the approval of this action was already used by another attempt of the same request; an approval runs its request exactly once.',
};

/** Other Sluice codes: the gateway could not or would not carry the request out. */
const GATEWAY_FAILURES: Record<string, string> = {
  RESPONSE_UNMASKABLE:
    'WITHHELD by the Sluice gateway (RESPONSE_UNMASKABLE): the answer had to be masked and could not be, so it was not passed on. Do not try to obtain this data another way; tell the user.',
  UPSTREAM_UNAVAILABLE: 'FAILED (Sluice UPSTREAM_UNAVAILABLE): the gateway could not reach the Kubernetes API server. Tell the user; trying again later may help.',
  AUDIT_UNAVAILABLE: 'NOT DONE (Sluice AUDIT_UNAVAILABLE): the gateway could not record the request in its audit trail, so it did not forward it. Tell the user.',
  REQUEST_INVALID: 'REFUSED by the Sluice gateway as malformed (REQUEST_INVALID).',
  REQUEST_TOO_LARGE: 'REFUSED by the Sluice gateway (REQUEST_TOO_LARGE): the request body is larger than the gateway accepts.',
};

export function isPolicyRefusal(code: string): boolean {
  return code === 'POLICY_DENIED' || code.startsWith('APPROVAL_');
}

/**
 * The text for an answer Sluice refused: what refused it, the gateway's own message (quoted),
 * the request id, and plain instructions for the model.
 */
export function refusalText(code: string, message: string | undefined, requestId: string | undefined, what?: string): string {
  const action = what ? `Action: ${what}.\n` : '';
  const quoted = message ? `Sluice's message: "${oneLine(message, MESSAGE_LIMIT)}"` : 'Sluice gave no message.';
  const id = requestId ? ` Request id: ${requestId}.` : '';
  if (isPolicyRefusal(code)) {
    const head = POLICY_REFUSALS[code] ?? `REFUSED by the organisation's access policy (Sluice ${code}).`;
    return [
      head,
      `${action}${quoted}${id}`,
      "This is a decision of the organisation's access policy, not a technical fault. Do not retry this action and do not try to reach the same result another way (another tool, resource, namespace or command). Tell the user that it was refused, quote the message and the request id, and let them decide (they can ask a Sluice administrator or an approver).",
    ].join('\n');
  }
  const head = GATEWAY_FAILURES[code] ?? `NOT DONE: the Sluice gateway did not carry out the request (${code}).`;
  return `${head}\n${action}${quoted}${id}`;
}

/**
 * The result for an answer that is not a success: a Sluice refusal, or the Kubernetes Status
 * message with its code and reason. `what` names the attempted operation, e.g. `get pods/web`.
 */
export function failureResult(answer: KubeAnswer, what: string, hint?: string): ToolResult {
  const status = kubeStatus(bodyJson(answer));
  const message = status?.message ?? plainMessage(answer);
  const structured: Record<string, unknown> = { status: answer.status };
  if (status?.reason) structured.reason = status.reason;
  if (answer.requestId) structured.requestId = answer.requestId;
  if (answer.sluiceError) {
    structured.sluiceError = answer.sluiceError;
    return errorResult(refusalText(answer.sluiceError, message, answer.requestId, what), structured);
  }
  const reason = status?.reason ? ` ${status.reason}` : '';
  const lines = [`FAILED: ${what}: the Kubernetes API answered ${answer.status}${reason}${message ? `: ${oneLine(message, MESSAGE_LIMIT)}` : ''}`];
  if (hint) lines.push(hint);
  if (answer.requestId) lines.push(`(Sluice request id: ${answer.requestId})`);
  return errorResult(lines.join('\n'), structured);
}

/** A non-Status error body, as a short single line (e.g. a proxy's text answer). */
function plainMessage(answer: KubeAnswer): string | undefined {
  const text = bodyText(answer).trim();
  return text ? oneLine(text, 500) : undefined;
}

/** Control characters and line breaks become spaces; at most `limit` characters. */
export function oneLine(s: string, limit: number): string {
  // eslint-disable-next-line no-control-regex
  const flat = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}

/** An object without `metadata.managedFields` (kubectl hides them too: --show-managed-fields=false). */
export function withoutManagedFields(v: unknown): { value: unknown; dropped: boolean } {
  if (!isRecord(v) || !isRecord(v.metadata) || !('managedFields' in v.metadata)) return { value: v, dropped: false };
  const { managedFields: _drop, ...metadata } = v.metadata;
  return { value: { ...v, metadata }, dropped: true };
}

/** `kind/name` (and namespace) of an object a write returned, for a one-line summary. */
export function objectSummary(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) return {};
  const m = isRecord(v.metadata) ? v.metadata : {};
  const out: Record<string, unknown> = {};
  for (const [k, val] of [
    ['apiVersion', v.apiVersion],
    ['kind', v.kind],
    ['name', m.name],
    ['namespace', m.namespace],
    ['uid', m.uid],
    ['resourceVersion', m.resourceVersion],
    ['generation', m.generation],
  ] as const) {
    if (typeof val === 'string' || typeof val === 'number') out[k] = val;
  }
  return out;
}

/**
 * The result of a successful write: one line naming what was done to which object (with its
 * resourceVersion and generation), and for a dry run the object as the API server would store it.
 */
export function writeResult(w: { done: string; returned: unknown; what: string; dryRun: boolean; extra?: string }): ToolResult {
  const summary = objectSummary(w.returned);
  const facts = ['resourceVersion', 'generation'].filter((k) => summary[k] !== undefined).map((k) => `${k} ${String(summary[k])}`);
  const head = w.dryRun ? `Dry run, nothing was changed: would be ${w.done}` : `${w.done[0]!.toUpperCase()}${w.done.slice(1)}`;
  const lines = [`${head}: ${w.what}${facts.length ? ` (${facts.join(', ')})` : ''}.`];
  if (w.extra) lines.push(w.extra);
  if (w.dryRun && isRecord(w.returned)) {
    const b = bound(JSON.stringify(withoutManagedFields(w.returned).value), 50_000);
    lines.push('The object as the API server would store it:', b.text);
    if (b.omitted) lines.push(truncationNote(b.omitted, 'The object is too large to show whole.'));
  }
  return textResult(lines.join('\n'), { ...summary, result: w.done, dryRun: w.dryRun });
}
