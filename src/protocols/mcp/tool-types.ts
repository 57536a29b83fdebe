/**
 * The shape of Sluice's own MCP tools (issue #7): each tool validates its arguments strictly,
 * turns them into ordinary Kubernetes API requests, and sends them through `KubeAccess` — the
 * gateway's own Kubernetes pipeline (authorize, hold for approval, forward, mask, record) with
 * the caller's identity. A tool never reaches a cluster any other way: there is no side door.
 */
import type { z } from 'zod';
import type { InternalAnswer, InternalExecAnswer } from '../kubernetes/internal-client.ts';

/** One Kubernetes API request as a tool makes it. */
export interface KubeCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The API server path, e.g. `/api/v1/namespaces/dev/pods/web-1` (no /clusters prefix, no query). */
  path: string;
  /** Query parameters (encoded by the caller of `request`). */
  query?: Record<string, string>;
  /** Extra request headers: `accept`, `content-type`. */
  headers?: Record<string, string>;
  body?: string;
}

/**
 * The answer, as the pipeline released it to the caller (masked): the in-process client's
 * (body at most the access's answer cap, `truncated` beyond; `requestId` of the audit record;
 * `sluiceError` when Sluice refused the request — POLICY_DENIED, APPROVAL_DENIED…, docs/errors.md).
 */
export type KubeAnswer = InternalAnswer;

/** A non-interactive exec: argv only (no shell is added), no stdin, no TTY. */
export interface ExecCall {
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  /** The session is closed after this long (milliseconds). */
  timeoutMs: number;
}

/** An exec session's answer (internal-client.ts), its output decoded as UTF-8. */
export type ExecAnswer = Omit<InternalExecAnswer, 'stdout' | 'stderr'> & { stdout: string; stderr: string };

/** What a tool gets: the connection chosen by the caller, and the pipeline to reach it. */
export interface KubeAccess {
  /** The Sluice connection (cluster) the tool call addresses. */
  readonly connection: string;
  /** An opaque key of the caller's identity (issuer and subject): what a tool caches, it caches per caller. */
  readonly caller: string;
  request(call: KubeCall): Promise<KubeAnswer>;
  exec(call: ExecCall): Promise<ExecAnswer>;
  /** Aborted when the MCP client cancels the call or goes away. */
  readonly signal: AbortSignal;
}

/** The Kubernetes operations a tool may cause, for `tools/list` (shown only where policy could allow one). */
export interface ToolReach {
  verbs: string[];
  /** `resource` or `resource/subresource` (core group) when the tool is about one kind only, e.g. `pods/exec`. */
  resource?: string;
}

/** A tool result as MCP returns it (CallToolResult, text content). */
export interface ToolResult {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface SluiceTool<S extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  /** A strict zod object (unknown keys refused); `connection` is added by the endpoint. */
  input: S;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
  reach: ToolReach;
  run(args: z.infer<S>, kube: KubeAccess): Promise<ToolResult>;
}
