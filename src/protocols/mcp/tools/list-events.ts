/**
 * `list_events` — recent cluster events, like `kubectl events` / `kubectl get events`.
 *
 * Request: `GET /api/v1/[namespaces/{ns}/]events?limit=N[&fieldSelector=involvedObject.name={name}]`
 * (core/v1 Events; field selectors: api-conventions.md "Lists and Simple kinds", the Event fields
 * the API server indexes include `involvedObject.name`). Policy sees the verb `list` on `events`.
 */
import { z } from 'zod';
import type { SluiceTool } from '../tool-types.ts';
import { resourcePath } from './kube-paths.ts';
import { answerCutNote, bodyJson, errorResult, failureResult, isRecord, isSuccess, textResult, TEXT_LIMIT } from './results.ts';
import { readEvents, renderEvents } from './events.ts';
import { namespace, objectName } from './validation.ts';

const input = z.strictObject({
  namespace: namespace.optional().describe('Namespace whose events to list; omit for all namespaces.'),
  limit: z.int().min(1).max(500).default(100).describe('Most events to fetch (1–500, default 100).'),
  involvedObjectName: objectName.optional().describe('Only events about the object of this name (a pod, deployment, node…).'),
});

export const listEvents: SluiceTool<typeof input> = {
  name: 'list_events',
  title: 'List Kubernetes events',
  description:
    'List events (scheduling failures, image pull errors, restarts, scaling…) in a namespace or the whole cluster, oldest first, optionally only those about one object. Good for finding out why something is not running.',
  input,
  annotations: { readOnlyHint: true, openWorldHint: false },
  reach: { verbs: ['list'], resource: 'events' },
  async run(args, kube) {
    const query: Record<string, string> = { limit: String(args.limit) };
    if (args.involvedObjectName) query.fieldSelector = `involvedObject.name=${args.involvedObjectName}`;
    const path = resourcePath({ apiVersion: 'v1', resource: 'events', namespace: args.namespace });
    const answer = await kube.request({ method: 'GET', path, query, headers: { accept: 'application/json' } });
    const where = args.namespace ? `in namespace ${args.namespace}` : 'in all namespaces';
    if (!isSuccess(answer)) return failureResult(answer, `list events ${where}`);
    if (answer.truncated) return errorResult(answerCutNote('The events could not be read; use a smaller limit or involvedObjectName.'));
    const json = bodyJson(answer);
    const events = readEvents(json);
    if (!events) return errorResult('The API server answered with something that is not an event list.');
    const about = args.involvedObjectName ? ` about ${args.involvedObjectName}` : '';
    if (events.length === 0) return textResult(`No events${about} ${where}.`, { events: [] });
    // Show the newest events that fit in the text limit.
    let max = events.length;
    let r = renderEvents(events, { max, namespaceColumn: !args.namespace });
    while (r.text.length > TEXT_LIMIT && max > 1) {
      max = Math.floor(max * 0.8);
      r = renderEvents(events, { max, namespaceColumn: !args.namespace });
    }
    const lines = [r.text];
    if (r.shown < events.length) lines.push(`[truncated: the ${events.length - r.shown} oldest events were not shown.]`);
    const meta = isRecord(json) && isRecord(json.metadata) ? json.metadata : {};
    if (typeof meta.continue === 'string' && meta.continue !== '') lines.push(`More events exist: the API server returned only ${args.limit} (in its own order, not necessarily the newest); raise the limit or use involvedObjectName.`);
    const shown = events.slice(events.length - r.shown);
    return textResult(lines.join('\n'), { events: shown });
  },
};
