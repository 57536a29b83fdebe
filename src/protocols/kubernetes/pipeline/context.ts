/**
 * The state of one Kubernetes request as it moves through the gateway's pipeline. Each stage
 * fills in what it derives (connection, principal, body, attributes, decision, audit handle) or
 * throws a Rejection, which the runner answers with a Kubernetes `Status` and records.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ApprovalService, OpenedHold } from '../../../approval/types.ts';
import type { AuditHandle, AuditRecorder } from '../../../audit/types.ts';
import type { TokenVerifier } from '../../../authn/create-verifier.ts';
import type { VerifiedPrincipal } from '../../../authn/principal-from-claims.ts';
import type { Decision } from '../../../core/decision.ts';
import type { KubernetesRequestAttributes } from '../../../core/request.ts';
import type { Masking } from '../../../masking/create-masking.ts';
import type { PolicySet } from '../../../policy/policy-set.ts';
import type { RequestInfo } from '../request-info.ts';
import type { Upstream } from '../upstream.ts';

/** Everything the pipeline needs from the gateway; built once at start-up. */
export interface KubernetesDeps {
  upstreams: ReadonlyMap<string, Upstream>;
  verifier: TokenVerifier;
  /** The current policy set (hot-reloaded). */
  policies: () => PolicySet;
  recorder: AuditRecorder;
  /** Just-in-time approval; without it a `review` decision is refused (APPROVAL_REQUIRED). */
  approvals?: ApprovalService;
  log: Logger;
  limits: { maxRequestBodyBytes: number; maxBodyDepth: number };
  /** Inline masking of responses; absent when `masking.enabled` is false. */
  masking?: Masking;
  /** Record exec/attach sessions (config `recording.enabled`; default true). */
  recordSessions?: boolean;
  now?: () => Date;
}

/**
 * A request that Sluice itself makes on behalf of an authenticated caller of another protocol
 * (an MCP tool call): it enters the same pipeline through the in-process client
 * (../internal-client.ts), whose connections the network cannot reach, with the principal that
 * protocol verified. Only stage 1 differs: the principal is taken, not derived from a token.
 */
export interface InternalCaller {
  readonly principal: VerifiedPrincipal;
  /** The address of the client of the other protocol. */
  readonly sourceIp: string;
  /** What caused the request, recorded with it as `detail.via` (e.g. the MCP call's record id and tool). */
  readonly via: Record<string, unknown>;
  /**
   * Resolves once the record of what caused the request (the MCP call) is durable. A request that
   * changes anything is forwarded only after it (stage record-decision): the trail never holds
   * a change without its cause. Rejects → the request is refused with 503, nothing forwarded.
   */
  readonly recorded?: Promise<void>;
  /** Told the gateway's id of the request (its audit record) as soon as it is known. */
  onStart?(requestId: string): void;
  /** Told the policy's decision on the request. */
  onDecision?(decision: Decision, requestId: string): void;
  /** Told when the request is held for review (the MCP call keeps its client informed). */
  onHold?(hold: OpenedHold, requestId: string): void;
  /** Told why Sluice refused the request (the stable error code, docs/errors.md). */
  onRefused?(code: string, requestId: string): void;
}

export interface KubeContext {
  readonly id: string;
  readonly started: bigint;
  readonly time: Date;
  readonly req: IncomingMessage;
  /** The client's address, taken when the request arrived (the socket may be gone by the time a refusal is recorded). */
  readonly sourceIp: string;
  /** True for Connection: Upgrade requests (exec, attach, port-forward). */
  readonly upgrade: boolean;
  readonly deps: KubernetesDeps;
  /** Set for requests Sluice makes for a caller of another protocol (see InternalCaller). */
  readonly caller?: InternalCaller;
  /** The connection's upstream (stage resolve-connection). */
  upstream?: Upstream;
  /** Path and query as the API server will see them, without the /clusters/NAME prefix. */
  path: string;
  query: string;
  principal?: VerifiedPrincipal;
  /** The request body of writes, read in full (bounded) for classification and policy. */
  body?: Buffer;
  /** Parsed body (JSON or YAML); undefined for protobuf or no body. */
  object?: unknown;
  /** Why a body could not be decoded (then policy conditions over `object` fail closed). */
  objectError?: string;
  info?: RequestInfo;
  attributes?: KubernetesRequestAttributes;
  decision?: Decision;
  /**
   * The request's audit record (stage record-decision): committed before forwarding, except for
   * reads, whose record forward-http commits before the first byte of the answer is released.
   */
  audit?: AuditHandle;
  /** A request held for review (stage request-approval): the approval it opened or joined. */
  hold?: OpenedHold;
  /** A `Warning` header for the response (kubectl prints it), e.g. who approved a held request. */
  warning?: string;
  bytesIn: number;
}

/** One named step of the pipeline. */
export interface Stage {
  name: string;
  run(ctx: KubeContext): Promise<void> | void;
}
