/**
 * Stage 4 — classify: the API server's RequestInfo derivation (request-info.ts) turned into the
 * protocol-neutral attributes the policy engine decides on. exec over WebSocket (GET) and over
 * SPDY (POST) are the same request to policy: resource pods, subresource exec.
 */
import type { KubernetesRequestAttributes } from '../../../core/request.ts';
import { parseRequestInfo } from '../request-info.ts';
import { StatusError } from '../status.ts';
import type { Stage } from './context.ts';
import { Rejection } from './rejection.ts';

export const classify: Stage = {
  name: 'classify',
  run(ctx) {
    let info;
    try {
      info = parseRequestInfo(ctx.req.method ?? 'GET', ctx.path + ctx.query);
    } catch (e) {
      const message = e instanceof StatusError ? (e.status.message ?? 'invalid request') : (e as Error).message;
      throw new Rejection('REQUEST_INVALID', 400, 'BadRequest', message);
    }
    if (info.isResourceRequest && !info.verb) {
      throw new Rejection('REQUEST_INVALID', 405, 'MethodNotAllowed', `method ${ctx.req.method} is not allowed on ${info.path}`);
    }
    ctx.info = info;
    const attributes: KubernetesRequestAttributes = {
      connection: ctx.upstream!.name,
      verb: info.verb,
      apiGroup: info.apiGroup,
      apiVersion: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      isResourceRequest: info.isResourceRequest,
      path: info.path,
    };
    if (ctx.object !== undefined) attributes.object = ctx.object;
    if (ctx.objectError !== undefined) attributes.objectError = ctx.objectError;
    ctx.attributes = attributes;
  },
};
