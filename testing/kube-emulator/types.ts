/**
 * Contract between the pieces of the Kubernetes API emulator (the one stand-in in the project:
 * no kube-apiserver can run on our machines). It must behave like a real API server towards
 * real clients (kubectl, client-go, @kubernetes/client-node), and it records what it saw so
 * tests can assert on the identity every request was executed as.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Identity as the API server's authenticator and impersonation filter produce it (user.Info). */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: unknown[];
    finalizers?: string[];
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** One request as the emulator received it. Tokens are never stored, only their SHA-256. */
export interface RecordedRequest {
  seq: number;
  time: string;
  method: string;
  /** Raw request target as sent (path and query). */
  url: string;
  /** Request headers, lower-cased names; `authorization` replaced by `Bearer sha256:<hex>`. */
  headers: Record<string, string | string[]>;
  /** Body bytes as base64 (first 64 KiB), when there was a body. */
  bodyBase64?: string;
  bodyBytes: number;
  /** The identity that authenticated (the caller). Absent when authentication failed. */
  authenticated?: UserInfo;
  /** The identity the request was executed as (differs when impersonating). */
  user?: UserInfo;
  /** True when Impersonate-* headers were honoured. */
  impersonated: boolean;
  /** Final HTTP status (101 for upgrades). */
  status?: number;
}

/** What the REST core hands to the pod stream handlers (logs, exec, attach, port-forward). */
export interface PodStreamContext {
  pod: KubeObject;
  namespace: string;
  name: string;
  subresource: 'log' | 'exec' | 'attach' | 'portforward';
  query: URLSearchParams;
  user: UserInfo;
  /** Called when the handler has decided the final status (for the request record). */
  setStatus(code: number): void;
}

/** Streaming pod subresources; implemented in ./streams. */
export interface PodStreams {
  /** Plain HTTP: GET pods/x/log (maybe follow), and exec/attach/portforward without an upgrade (→ 400). */
  handleHttp(ctx: PodStreamContext, req: IncomingMessage, res: ServerResponse): void;
  /** Upgrade requests (WebSocket v4/v5.channel.k8s.io, SPDY/3.1) for exec, attach, portforward. */
  handleUpgrade(ctx: PodStreamContext, req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stop timers and close open streams (emulator shutdown). */
  close(): void;
}
