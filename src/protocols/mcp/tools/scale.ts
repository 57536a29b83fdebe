/**
 * `scale` — set the replica count of a workload, like `kubectl scale --replicas=N`.
 *
 * Request: `PATCH /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/scale` with
 * `Content-Type: application/merge-patch+json` and the body `{"spec":{"replicas":N}}` — the
 * `scale` subresource (autoscaling/v1 Scale; api-conventions.md "Subresources"), patched the way
 * kubectl scale does it (k8s.io/kubectl/pkg/scale: a merge patch of the Scale). Policy sees the
 * verb `patch` on `{resource}/scale`.
 */
import { z } from 'zod';
import type { SluiceTool } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { bodyJson, failureResult, isRecord, isSuccess, writeResult } from './results.ts';
import { apiVersion, namespace, objectName, resource } from './validation.ts';

const input = z.strictObject({
  apiVersion: apiVersion.default('apps/v1'),
  resource: resource.default('deployments').describe('The workload resource with a scale subresource: deployments (default), statefulsets, replicasets, or a custom resource that has one.'),
  namespace,
  name: objectName,
  replicas: z.int().min(0).max(10_000).describe('The desired number of replicas (0–10000; 0 stops every pod of the workload).'),
});

export const scale: SluiceTool<typeof input> = {
  name: 'scale',
  title: 'Scale a workload',
  description: 'Set the number of replicas of a deployment, statefulset or replicaset, like `kubectl scale`. Scaling down removes pods.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  reach: { verbs: ['patch'] },
  async run(args, kube) {
    const ref = { apiVersion: args.apiVersion, resource: args.resource, namespace: args.namespace, name: args.name };
    const answer = await kube.request({
      method: 'PATCH',
      path: resourcePath({ ...ref, subresource: 'scale' }),
      headers: { 'content-type': 'application/merge-patch+json', accept: 'application/json' },
      body: JSON.stringify({ spec: { replicas: args.replicas } }),
    });
    if (!isSuccess(answer)) return failureResult(answer, `scale ${describeRef(ref)} to ${args.replicas} replicas`);
    const returned = bodyJson(answer);
    const status = isRecord(returned) && isRecord(returned.status) ? returned.status : {};
    const running = typeof status.replicas === 'number' ? status.replicas : undefined;
    const current =
      running === undefined ? undefined : running === args.replicas ? `It has ${running} replicas.` : `It has ${running} replicas now; its controller moves it to ${args.replicas}.`;
    return writeResult({ done: `scaled to ${args.replicas} replicas`, returned, what: describeRef(ref), dryRun: false, ...(current ? { extra: current } : {}) });
  },
};
