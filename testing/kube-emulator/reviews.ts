/**
 * The "virtual" create-only resources that answer from the request's own context rather than
 * from storage:
 *  - authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`):
 *    k8s.io/kubernetes/pkg/registry/authorization/selfsubjectaccessreview/rest.go
 *  - authorization.k8s.io/v1 SelfSubjectRulesReview (`kubectl auth can-i --list`):
 *    pkg/registry/authorization/selfsubjectrulesreview/rest.go
 *  - authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`, KEP-3325):
 *    pkg/registry/authentication/selfsubjectreview/rest.go
 *  - core/v1 serviceaccounts/{name}/token, TokenRequest (`kubectl create token`, KEP-1205):
 *    pkg/registry/core/serviceaccount/storage/token.go
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';
import { StatusError } from './status.ts';
import type { KubeObject, UserInfo } from './types.ts';

export interface AuthorizeResult {
  allowed: boolean;
  reason?: string;
  /** Explicit deny (SubjectAccessReviewStatus.denied). */
  denied?: boolean;
}

export type Authorize = (user: UserInfo, info: RequestInfo) => AuthorizeResult;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj | undefined, k: string): string {
  const v = o?.[k];
  return typeof v === 'string' ? v : '';
}

function invalid(kind: string, group: string, field: string, detail: string): StatusError {
  return StatusError.of(422, 'Invalid', `${kind}.${group} "" is invalid: ${field}: ${detail}`, {
    group,
    kind,
    causes: [{ reason: 'FieldValueInvalid', message: detail, field }],
  });
}

/** The RequestInfo an access review's attributes describe (as authorizer.AttributesRecord). */
export function attributesToRequestInfo(spec: Obj): RequestInfo {
  const ra = isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nra = isObj(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (nra) {
    const path = str(nra, 'path');
    const info = parseRequestInfo('GET', path.startsWith('/') ? path : `/${path}`);
    return { ...info, isResourceRequest: false, path, verb: str(nra, 'verb'), apiPrefix: '', apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', parts: [] };
  }
  const fs = isObj(ra?.fieldSelector) ? str(ra.fieldSelector as Obj, 'rawSelector') : '';
  const ls = isObj(ra?.labelSelector) ? str(ra.labelSelector as Obj, 'rawSelector') : '';
  const group = str(ra, 'group');
  const version = str(ra, 'version');
  return {
    isResourceRequest: true,
    path: '',
    verb: str(ra, 'verb'),
    apiPrefix: group === '' ? 'api' : 'apis',
    apiGroup: group,
    apiVersion: version,
    namespace: str(ra, 'namespace'),
    resource: str(ra, 'resource'),
    subresource: str(ra, 'subresource'),
    name: str(ra, 'name'),
    parts: [],
    fieldSelector: fs,
    labelSelector: ls,
    verbViaPathPrefix: false,
    query: new URLSearchParams(),
  };
}

/** POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews → 201 with status filled. */
export function selfSubjectAccessReview(body: Obj, user: UserInfo, authorize: Authorize): Obj {
  const spec = isObj(body.spec) ? body.spec : {};
  const hasR = isObj(spec.resourceAttributes);
  const hasN = isObj(spec.nonResourceAttributes);
  if (hasR === hasN) {
    throw invalid(
      'SelfSubjectAccessReview',
      'authorization.k8s.io',
      'spec.resourceAttributes',
      hasR ? 'Invalid value: "resourceAttributes": cannot be specified in combination with nonResourceAttributes' : 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  }
  const decision = authorize(user, attributesToRequestInfo(spec));
  const status: Obj = { allowed: decision.allowed };
  if (decision.denied) status.denied = true;
  if (decision.reason) status.reason = decision.reason;
  const meta = isObj(body.metadata) ? body.metadata : {};
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { ...meta, creationTimestamp: null },
    spec,
    status,
  };
}

/**
 * POST selfsubjectrulesreviews. With the default allow-all authorizer every rule is "*"; with a
 * custom authorizer the rules cannot be enumerated and the review says so (incomplete), like
 * webhook authorizers do.
 */
export function selfSubjectRulesReview(body: Obj, customAuthorizer: boolean): Obj {
  const spec = isObj(body.spec) ? body.spec : {};
  if (str(spec, 'namespace') === '') {
    throw invalid('SelfSubjectRulesReview', 'authorization.k8s.io', 'spec.namespace', 'Required value');
  }
  const status: Obj = customAuthorizer
    ? { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'the emulator authorizer cannot enumerate rules' }
    : {
        resourceRules: [
          { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
          { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
        ],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      };
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}

/** POST /apis/authentication.k8s.io/{version}/selfsubjectreviews → the requesting user. */
export function selfSubjectReview(user: UserInfo, version = 'v1'): Obj {
  const userInfo: Obj = { username: user.username };
  if (user.uid) userInfo.uid = user.uid;
  userInfo.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length > 0) userInfo.extra = user.extra;
  return {
    kind: 'SelfSubjectReview',
    apiVersion: `authentication.k8s.io/${version}`,
    metadata: { creationTimestamp: null },
    status: { userInfo },
  };
}

const B64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * POST serviceaccounts/{name}/token. Returns the TokenRequest and the user the token will
 * authenticate as (the caller registers it). The token is JWT-shaped with the claims of a real
 * bound token but an opaque signature: only this emulator accepts it.
 */
export function tokenRequest(
  body: Obj,
  sa: KubeObject,
  now: Date,
): { response: Obj; token: string; user: UserInfo; expires: Date } {
  const ns = sa.metadata.namespace ?? 'default';
  const name = sa.metadata.name ?? '';
  const spec = isObj(body.spec) ? { ...body.spec } : {};
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? (spec.audiences as unknown[]).map(String) : [SERVICE_ACCOUNT_ISSUER];
  const requested = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
  if (requested < 600) {
    throw invalid('TokenRequest', 'authentication.k8s.io', 'spec.expirationSeconds', `Invalid value: ${requested}: may not specify a duration less than 10 minutes`);
  }
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + requested;
  const token = [
    B64({ alg: 'RS256', kid: 'kube-emulator' }),
    B64({
      aud: audiences,
      exp,
      iat,
      iss: SERVICE_ACCOUNT_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': { namespace: ns, serviceaccount: { name, uid: sa.metadata.uid ?? '' } },
      nbf: iat,
      sub: `system:serviceaccount:${ns}:${name}`,
    }),
    randomBytes(64).toString('base64url'),
  ].join('.');
  const expires = new Date(exp * 1000);
  const response: Obj = {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace: ns, creationTimestamp: null },
    spec: { audiences, expirationSeconds: requested, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: expires.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
  const user: UserInfo = {
    username: `system:serviceaccount:${ns}:${name}`,
    uid: sa.metadata.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
  };
  return { response, token, user, expires };
}
