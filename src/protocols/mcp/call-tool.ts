/**
 * One `tools/call` on Sluice's MCP endpoint, from arguments to recorded result:
 *
 *   validate (strict schema, connection among the caller's) → run the tool, whose every
 *   Kubernetes request goes through the in-process client into the Kubernetes pipeline with the
 *   caller's identity (authorize → hold → record → forward → mask) → record the call → release
 *   the result.
 *
 * A request the policy holds for review keeps the call waiting, and the client informed: a
 * `notifications/progress` at once and every `mcp.progressInterval` (clients that sent a progress
 * token reset their time-out on each), and — for clients that declared URL elicitation, when a
 * console is configured — an elicitation pointing at the approval's page. Refusals (policy,
 * approver, expiry) are tool results with `isError`, worded for the model; never protocol errors.
 *
 * The call's audit record (`mcp.call`: caller, tool, masked arguments) is begun before the tool
 * runs, so it is committed with — in the same group commit as, or before — the record of the
 * first Kubernetes request the call makes: no request is forwarded and no answer released before
 * the trail holds the call. Each request's own record names the call in `detail.via`. When the
 * call ends, its outcome adds the decision over those requests (deny > review > allow), their ids,
 * the approval that held one and the result's size; like the outcome of a stream, it is written
 * after the result is released (a gateway that stops first marks the call abandoned at its next
 * start). A call whose record the trail refused gets a tool error instead of its result.
 */
import { principalOf } from '../../core/principal.ts';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { AuditBegin, AuditDecision, AuditRecorder } from '../../audit/types.ts';
import type { VerifiedPrincipal } from '../../authn/principal-from-claims.ts';
import { EFFECT_RANK, type Decision } from '../../core/decision.ts';
import type { Masking } from '../../masking/create-masking.ts';
import type { InternalKubeClient } from '../kubernetes/internal-client.ts';
import type { InternalCaller } from '../kubernetes/pipeline/context.ts';
import type { OpenedHold } from '../../approval/types.ts';
import { argumentBytes, argumentsProblem, maskArguments } from './mask-arguments.ts';
import type { ExecAnswer, KubeAccess, KubeAnswer, SluiceTool, ToolResult } from './tool-types.ts';

export interface CallToolDeps {
  kube: InternalKubeClient;
  recorder: AuditRecorder;
  masking?: Masking;
  /** Digest of the policy in force, for the record's decision. */
  policyDigest: () => string;
  log: Logger;
  maxAnswerBytes: number;
  progressIntervalMs: number;
  /** Base URL of the web console (approvals.consoleUrl), for URL elicitation. */
  consoleUrl?: string;
  /** Give the reason of a held request as its requester (approvals' setReason), for a rule that waits for one. */
  giveReason?: (approvalId: string, requester: VerifiedPrincipal, reason: string) => Promise<void>;
  now: () => Date;
}

/** Who calls, and how to reach back to their client while the call runs. */
export interface CallContext {
  principal: VerifiedPrincipal;
  sourceIp: string;
  userAgent?: string;
  sessionId?: string;
  /** The SHA-256 of the definition of the tool called, as `tools/list` showed it. */
  definition?: string;
  /** The connections this caller may address (the tool's `connection` argument). */
  connections: readonly string[];
  /** Aborted when the client cancels the call or goes away. */
  signal: AbortSignal;
  /** Send a progress notification (absent when the client sent no progress token). */
  progress?: (progress: number, message: string) => Promise<void>;
  /** Ask the client to open a URL (absent unless the client declared URL elicitation). */
  elicitUrl?: (message: string, url: string, elicitationId: string) => Promise<void>;
  /** Ask the person for a reason through a form (absent unless the client declared form elicitation); undefined when they declined. */
  elicitReason?: (message: string) => Promise<string | undefined>;
}

interface Caused {
  id: string;
  status?: number;
  error?: string;
  decision?: Decision;
}

/** The tool's error text for arguments that do not validate (for the model, and the record). */
function invalidArguments(e: z.ZodError): string {
  return e.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`)
    .join('; ');
}

/** The most restrictive decision among the requests a call made (deny > review > allow). */
function callDecision(caused: readonly Caused[], policyDigest: string): AuditDecision | undefined {
  let worst: Decision | undefined;
  for (const c of caused) if (c.decision && (!worst || EFFECT_RANK[c.decision.effect] > EFFECT_RANK[worst.effect])) worst = c.decision;
  if (!worst) return undefined;
  const rules = [...new Set(caused.flatMap((c) => c.decision?.rules.map((r) => r.id) ?? []))];
  return { effect: worst.effect, rules, message: worst.message, policyDigest };
}

const errorResult = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

export async function callTool(deps: CallToolDeps, tool: SluiceTool, rawArgs: Record<string, unknown> | undefined, ctx: CallContext): Promise<ToolResult> {
  const callId = randomUUID();
  const time = deps.now();
  const started = process.hrtime.bigint();
  const caused: Caused[] = [];
  const holds: string[] = [];
  const notices = new Set<NodeJS.Timeout>();
  const args = rawArgs ?? {};
  let result: ToolResult;
  let failure: { code: string; message: string } | undefined;
  // The connection named, or the only one the caller may use when none is named — never another
  // in place of one that was named but is not the caller's.
  const rawConnection = args.connection;
  const connection =
    rawConnection === undefined ? (ctx.connections.length === 1 ? ctx.connections[0]! : '') : typeof rawConnection === 'string' && ctx.connections.includes(rawConnection) ? rawConnection : '';
  // Begun and committed now: it goes to the trail with (or before) the first request's record,
  // and no request of the call is forwarded before it is durable (InternalCaller.recorded).
  const handle = deps.recorder.begin(callRecord(deps, ctx, { callId, time, tool: tool.name, definition: ctx.definition, args, connection }));
  const begun = handle.commit();
  begun.catch(() => undefined);
  /** Set once the call is over: a hold reported after that (a race with a cancel) starts nothing. */
  let done = false;

  function noticeHold(hold: OpenedHold): void {
    if (done) return;
    const a = hold.approval;
    holds.push(a.id);
    const approvers = [...new Set(a.requirements.flatMap((r) => r.approvers))].join(', ') || 'an approver';
    const askReason = a.requireReason && !a.reason;
    const canAsk = askReason && ctx.elicitReason !== undefined && deps.giveReason !== undefined;
    const reasonNote = !askReason
      ? ''
      : canAsk
        ? ' Approvers are asked once you give a reason (you are asked for it now).'
        : ` Approvers are asked once the requester gives a reason: sluice approvals reason ${a.id} "…".`;
    const text = `Held for approval ${a.id}: ${a.message}. Waiting for ${approvers} (until ${a.expiresAt.toISOString()}); the call completes once approved.${reasonNote}`;
    let n = 0;
    const send = (): void => void ctx.progress?.(++n, text).catch((e: unknown) => deps.log.debug({ err: (e as Error).message }, 'progress notification not sent'));
    if (ctx.progress) {
      send();
      const timer = setInterval(send, deps.progressIntervalMs);
      notices.add(timer);
    }
    if (canAsk) {
      // Form elicitation: the person (not the model) gives the reason that approvers will read.
      ctx.elicitReason!(`${a.message}. Approvers (${approvers}) are asked once you say why you need this.`)
        .then((why) => (why ? deps.giveReason!(a.id, ctx.principal, why) : undefined))
        .catch((e: unknown) => deps.log.debug({ err: (e as Error).message }, 'reason not given through elicitation'));
    }
    if (ctx.elicitUrl && deps.consoleUrl) {
      const url = `${deps.consoleUrl.replace(/\/$/, '')}/approvals/${encodeURIComponent(a.id)}`;
      // Informational: the approval goes on whatever the person answers.
      ctx.elicitUrl(text, url, a.id).catch((e: unknown) => deps.log.debug({ err: (e as Error).message }, 'URL elicitation not answered'));
    }
  }

  /** The caller of one request, which notes what the pipeline tells of it in `c`. */
  const callerFor = (c: Caused): InternalCaller => {
    caused.push(c);
    return {
      principal: ctx.principal,
      sourceIp: ctx.sourceIp,
      via: { protocol: 'mcp', call: callId, tool: tool.name },
      onStart: (id) => void (c.id = id),
      onDecision: (d) => void (c.decision = d),
      onRefused: (code) => void (c.error = code),
      onHold: (hold) => noticeHold(hold),
      recorded: begun,
    };
  };

  /** The call's own record must be durable before anything of it is used; else nothing is released. */
  async function callRecorded(): Promise<void> {
    try {
      await begun;
    } catch (e) {
      throw new AuditFailure((e as Error).message);
    }
  }

  try {
    const { connection: _connection, ...rest } = args;
    const problem = argumentsProblem(args);
    if (problem) throw new ArgumentsError(`the arguments are ${problem}`);
    if (!connection) {
      const known = ctx.connections.join(', ') || '(none)';
      throw new ArgumentsError(rawConnection === undefined ? `connection: required (one of ${known})` : `connection: not one you may use (one of ${known})`);
    }
    const parsed = tool.input.safeParse(rest);
    if (!parsed.success) throw new ArgumentsError(invalidArguments(parsed.error));
    const base = `/clusters/${encodeURIComponent(connection)}`;
    const kube: KubeAccess = {
      connection,
      caller: `${ctx.principal.issuer}\u0000${ctx.principal.subject}`,
      signal: ctx.signal,
      async request(call): Promise<KubeAnswer> {
        if (ctx.signal.aborted) throw new Error('the call was cancelled');
        const q = call.query ? new URLSearchParams(call.query).toString() : '';
        const c: Caused = { id: '' };
        const a = await deps.kube.request(
          callerFor(c),
          { method: call.method, url: `${base}${call.path}${q ? `?${q}` : ''}`, headers: { 'user-agent': `sluice-mcp (${tool.name})`, ...call.headers }, ...(call.body !== undefined ? { body: call.body } : {}) },
          { maxBytes: deps.maxAnswerBytes, signal: ctx.signal },
        );
        c.status = a.status;
        await callRecorded();
        return a;
      },
      async exec(call): Promise<ExecAnswer> {
        if (ctx.signal.aborted) throw new Error('the call was cancelled');
        const q = new URLSearchParams();
        for (const arg of call.command) q.append('command', arg);
        if (call.container) q.set('container', call.container);
        q.set('stdout', 'true');
        q.set('stderr', 'true');
        const url = `${base}/api/v1/namespaces/${encodeURIComponent(call.namespace)}/pods/${encodeURIComponent(call.pod)}/exec?${q.toString()}`;
        const c: Caused = { id: '' };
        const a = await deps.kube.exec(callerFor(c), { url, timeoutMs: call.timeoutMs }, { maxBytes: deps.maxAnswerBytes, signal: ctx.signal });
        c.status = a.status;
        await callRecorded();
        return { ...a, stdout: a.stdout.toString('utf8'), stderr: a.stderr.toString('utf8') };
      },
    };
    result = await tool.run(parsed.data, kube);
    const refused = caused.find((c) => c.error);
    if (refused && result.isError) failure = { code: refused.error!, message: firstText(result) };
  } catch (e) {
    if (e instanceof ArgumentsError) {
      failure = { code: 'REQUEST_INVALID', message: e.message };
      result = errorResult(`Invalid arguments for ${tool.name}: ${e.message}`);
    } else if (e instanceof AuditFailure) {
      failure = { code: 'AUDIT_UNAVAILABLE', message: e.message };
      result = errorResult(AUDIT_UNAVAILABLE_TEXT(tool.name, callId));
    } else if (ctx.signal.aborted) {
      failure = { code: 'MCP_CALL_CANCELLED', message: 'the client cancelled the call or went away' };
      result = errorResult('The call was cancelled.');
    } else {
      deps.log.error({ call: callId, tool: tool.name, err: e instanceof Error ? e.stack : String(e) }, 'tool call failed');
      failure = { code: 'INTERNAL_ERROR', message: 'the tool failed unexpectedly' };
      result = errorResult(`Sluice could not complete ${tool.name}: an internal error (call ${callId}); the detail is in the gateway log.`);
    }
  } finally {
    done = true;
    for (const t of notices) clearInterval(t);
  }

  const status = !failure ? 200 : (FAILURE_STATUS[failure.code] ?? 403);
  try {
    await begun;
  } catch (e) {
    deps.log.error({ call: callId, err: (e as Error).message }, 'could not record an MCP tool call; nothing of it was done or released');
    return errorResult(AUDIT_UNAVAILABLE_TEXT(tool.name, callId));
  }
  const detail = outcomeDetail(caused, holds, deps.policyDigest());
  handle
    .complete({
      status,
      bytesIn: argumentBytes(args),
      bytesOut: Buffer.byteLength(JSON.stringify(result)),
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
      ...(failure ? { error: failure } : {}),
      detail,
    })
    .catch((e: unknown) => deps.log.error({ call: callId, err: (e as Error).message }, 'could not record the outcome of an MCP tool call'));
  return result;
}

class ArgumentsError extends Error {}
/** The call's own record could not be written. */
class AuditFailure extends Error {}

const AUDIT_UNAVAILABLE_TEXT = (tool: string, callId: string): string =>
  `NOT DONE (Sluice AUDIT_UNAVAILABLE): the gateway could not record this ${tool} call in its audit trail, so it changed nothing in the cluster and released nothing (call ${callId}). Tell the user; this is a fault of the gateway, not of the request.`;

/** The outcome status of a failed call (0: the client went away, as for a Kubernetes request). */
const FAILURE_STATUS: Record<string, number> = { REQUEST_INVALID: 400, INTERNAL_ERROR: 500, APPROVAL_CONFLICT: 409, AUDIT_UNAVAILABLE: 503, MCP_CALL_CANCELLED: 0 };

interface CallFacts {
  callId: string;
  time: Date;
  tool: string;
  args: Record<string, unknown>;
  connection: string;
  /** The SHA-256 of the tool's definition (create-mcp-server.ts toolDefinition). */
  definition?: string;
  failure?: { code: string; message: string };
}

/** The `mcp.call` record of a call, as it is begun: who calls which tool with what (masked). */
function callRecord(deps: CallToolDeps, ctx: CallContext, f: CallFacts): AuditBegin {
  const p = ctx.principal;
  const entry: AuditBegin = {
    id: f.callId,
    time: f.time,
    code: 'mcp.call',
    principal: principalOf(p),
    connection: f.connection,
    method: 'tools/call',
    path: '/mcp',
    query: '',
    sourceIp: ctx.sourceIp,
    detail: {
      tool: f.tool.slice(0, 128),
      ...(f.definition ? { definition: f.definition } : {}),
      arguments: maskArguments(f.args, deps.masking),
      ...(ctx.sessionId ? { session: ctx.sessionId } : {}),
    },
  };
  if (ctx.userAgent) entry.userAgent = ctx.userAgent.slice(0, 256);
  if (f.failure) entry.error = f.failure;
  return entry;
}

/** What the call's outcome adds: the decision over the requests it made, their ids, the approval that held one. */
function outcomeDetail(caused: readonly Caused[], holds: readonly string[], policyDigest: string): Record<string, unknown> {
  const decision = callDecision(caused, policyDigest);
  return {
    ...(decision ? { decision } : {}),
    requests: caused.filter((c) => c.id).map((c) => ({ id: c.id, ...(c.status !== undefined ? { status: c.status } : {}), ...(c.error ? { error: c.error } : {}) })),
    ...(holds[0] ? { approvalId: holds[0] } : {}),
  };
}

/** Record a call of a tool that does not exist or that the caller is not shown (answered -32602). */
export async function recordUnknownTool(deps: CallToolDeps, name: string, args: Record<string, unknown> | undefined, ctx: CallContext): Promise<void> {
  const failure = { code: 'REQUEST_INVALID', message: `unknown tool ${JSON.stringify(name.slice(0, 100))}` };
  const entry = callRecord(deps, ctx, { callId: randomUUID(), time: deps.now(), tool: name, args: args ?? {}, connection: '', failure });
  const bytesIn = argumentBytes(args);
  await deps.recorder
    .begin(entry)
    .complete({ status: 400, bytesIn, bytesOut: 0, durationMs: 0, error: failure })
    .catch((e: unknown) => deps.log.error({ err: (e as Error).message }, 'could not record a call of an unknown tool'));
}

function firstText(r: ToolResult): string {
  return (r.content[0]?.text ?? '').slice(0, 500);
}
