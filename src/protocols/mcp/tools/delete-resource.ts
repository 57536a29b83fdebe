/**
 * `delete_resource` — delete one object, like `kubectl delete <resource> <name>`.
 *
 * Request: `DELETE /api/v1/[namespaces/{ns}/]{resource}/{name}` (or `/apis/{group}/{version}/…`);
 * options go in a `DeleteOptions` body (meta/v1: `propagationPolicy`, `gracePeriodSeconds`,
 * `dryRun: ["All"]`), as kubectl sends them (api-conventions.md "Deleting objects"; garbage
 * collection: "Foreground/Background/Orphan"). No body is sent when no option is set. The
 * answer is the deleted object, a Status, or — while finalizers run — the object with a
 * `deletionTimestamp` (202 Accepted or 200). Policy sees the verb `delete`.
 */
import { z } from 'zod';
import type { SluiceTool } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { bodyJson, failureResult, isRecord, isSuccess, objectSummary, textResult } from './results.ts';
import { apiVersion, dryRun, namespace, objectName, resource } from './validation.ts';

const input = z.strictObject({
  apiVersion,
  resource,
  namespace: namespace.optional().describe('Namespace of the object; omit for cluster-scoped resources.'),
  name: objectName,
  propagationPolicy: z
    .enum(['Foreground', 'Background', 'Orphan'])
    .optional()
    .describe('What happens to dependents (a deployment\'s replicasets and pods): Background (default for most kinds) deletes them afterwards, Foreground first, Orphan leaves them running.'),
  gracePeriodSeconds: z.int().min(0).max(86_400).optional().describe('Seconds pods get to shut down (0 = immediately); omit for the default.'),
  dryRun,
});

export const deleteResource: SluiceTool<typeof input> = {
  name: 'delete_resource',
  title: 'Delete a Kubernetes object',
  description: 'Delete one object by name, like `kubectl delete`. This cannot be undone; use dryRun: true to check first.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  reach: { verbs: ['delete'] },
  async run(args, kube) {
    const ref = { apiVersion: args.apiVersion, resource: args.resource, namespace: args.namespace, name: args.name };
    const options: Record<string, unknown> = {};
    if (args.propagationPolicy) options.propagationPolicy = args.propagationPolicy;
    if (args.gracePeriodSeconds !== undefined) options.gracePeriodSeconds = args.gracePeriodSeconds;
    if (args.dryRun) options.dryRun = ['All'];
    const withBody = Object.keys(options).length > 0;
    const answer = await kube.request({
      method: 'DELETE',
      path: resourcePath(ref),
      headers: withBody ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
      ...(withBody ? { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', ...options }) } : {}),
    });
    const what = describeRef(ref);
    if (!isSuccess(answer)) return failureResult(answer, `delete ${what}`);
    const returned = bodyJson(answer);
    const meta = isRecord(returned) && isRecord(returned.metadata) ? returned.metadata : {};
    const pending = typeof meta.deletionTimestamp === 'string';
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers.filter((f): f is string => typeof f === 'string') : [];
    let text: string;
    if (args.dryRun) text = `Dry run, nothing was deleted: ${what} would be deleted.`;
    else if (pending || answer.status === 202) {
      const until = finalizers.length ? `its finalizers (${finalizers.join(', ')}) have run` : 'its graceful shutdown or its dependents are done';
      text = `Deletion of ${what} has started: the object is marked for deletion and goes away once ${until}.`;
    } else text = `Deleted ${what}.`;
    return textResult(text, { ...objectSummary(returned), result: args.dryRun ? 'would be deleted' : pending || answer.status === 202 ? 'deleting' : 'deleted', dryRun: args.dryRun === true });
  },
};
