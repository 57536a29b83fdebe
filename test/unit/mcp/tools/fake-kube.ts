/**
 * An in-memory KubeAccess for the tool tests: it records every request and exec the tools make
 * and answers each from a handler (or a fixed queue), so a test asserts exactly which
 * Kubernetes requests a tool call causes and how it renders the answers.
 */
import type { ExecAnswer, ExecCall, KubeAccess, KubeAnswer, KubeCall, SluiceTool, ToolResult } from '../../../../src/protocols/mcp/tool-types.ts';

export type Answer = Partial<Omit<KubeAnswer, 'body'>> & { body?: unknown };

export interface FakeKube extends KubeAccess {
  calls: KubeCall[];
  execs: ExecCall[];
}

/** A KubeAnswer: `body` as given (a string or Buffer stays as it is, anything else is JSON). */
export function answer(a: Answer = {}): KubeAnswer {
  const b = a.body;
  const body = b === undefined ? Buffer.alloc(0) : Buffer.isBuffer(b) ? b : Buffer.from(typeof b === 'string' ? b : JSON.stringify(b));
  return {
    status: a.status ?? 200,
    headers: a.headers ?? {},
    body,
    truncated: a.truncated ?? false,
    ...(a.requestId ? { requestId: a.requestId } : {}),
    ...(a.sluiceError ? { sluiceError: a.sluiceError } : {}),
  };
}

export function fakeKube(
  handler: Answer[] | ((call: KubeCall, index: number) => Answer) = [],
  opts: { connection?: string; caller?: string; exec?: (call: ExecCall) => Partial<ExecAnswer> } = {},
): FakeKube {
  const calls: KubeCall[] = [];
  const execs: ExecCall[] = [];
  return {
    connection: opts.connection ?? 'demo',
    caller: opts.caller ?? 'https://idp\u0000bob',
    signal: new AbortController().signal,
    calls,
    execs,
    async request(call) {
      calls.push(structuredClone(call));
      const i = calls.length - 1;
      if (typeof handler === 'function') return answer(handler(call, i));
      const a = handler[i];
      if (!a) throw new Error(`unexpected request #${i + 1}: ${call.method} ${call.path}`);
      return answer(a);
    },
    async exec(call) {
      execs.push(structuredClone(call));
      const a = opts.exec?.(call) ?? {};
      return { status: 101, stdout: '', stderr: '', timedOut: false, truncated: false, ...a };
    },
  };
}

/** Validate `args` as the endpoint does (throws on invalid input) and run the tool. */
export async function call(tool: SluiceTool, args: Record<string, unknown>, kube: KubeAccess): Promise<ToolResult> {
  const parsed = tool.input.parse(args);
  return tool.run(parsed, kube);
}

/** The validation problems of `args` (empty when they are valid). */
export function problems(tool: SluiceTool, args: Record<string, unknown>): string[] {
  const r = tool.input.safeParse(args);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

export function text(r: ToolResult): string {
  return r.content.map((c) => c.text).join('\n');
}

/** A Kubernetes Status, as the API server (or the gateway) writes it. */
export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
