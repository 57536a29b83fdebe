/**
 * `describe_resource` — one object and the events about it, as readable text, like
 * `kubectl describe`.
 *
 * Requests, in order (as kubectl's describers make them, k8s.io/kubectl/pkg/describe):
 *   1. `GET /api/v1/[namespaces/{ns}/]{resource}/{name}` (or `/apis/{group}/{version}/…`),
 *      `Accept: application/json` — policy sees `get`;
 *   2. `GET /api/v1/[namespaces/{ns}/]events?fieldSelector=involvedObject.kind={kind},
 *      involvedObject.name={name},involvedObject.namespace={ns},involvedObject.uid={uid}`
 *      (kubectl's SearchEvents: the fields of the object's reference, sorted by key; kind and
 *      uid only when the object has them) — policy sees `list` on `events`.
 * The object is shown as YAML without `metadata.managedFields`; when the events cannot be read
 * (e.g. the policy allows reading the object but not listing events) the object is still shown,
 * with the reason the events are missing.
 */
import { stringify } from 'yaml';
import type { KubeAnswer, SluiceTool } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { readEvents, renderEvents } from './events.ts';
import {
  answerCutNote,
  bodyJson,
  bound,
  errorResult,
  failureResult,
  isRecord,
  isSuccess,
  kubeStatus,
  objectSummary,
  oneLine,
  refusalText,
  textResult,
  truncationNote,
  withoutManagedFields,
} from './results.ts';
import { isKind, objectRef } from './validation.ts';

/** Share of the text limit the object may take; the events get the rest. */
const OBJECT_TEXT_LIMIT = 80_000;
/** The newest events shown (kubectl describe shows all; a model needs the recent ones). */
const EVENTS_SHOWN = 50;
const UID = /^[A-Za-z0-9-]{1,64}$/;

const input = objectRef;

export const describeResource: SluiceTool<typeof input> = {
  name: 'describe_resource',
  title: 'Describe a Kubernetes object',
  description:
    'Show one object (as YAML) together with the recent events about it, like `kubectl describe`. The first tool to use when a pod, deployment or node misbehaves.',
  input,
  annotations: { readOnlyHint: true, openWorldHint: false },
  reach: { verbs: ['get', 'list'] },
  async run(args, kube) {
    const ref = args;
    const answer = await kube.request({ method: 'GET', path: resourcePath(ref), headers: { accept: 'application/json' } });
    if (!isSuccess(answer)) return failureResult(answer, `get ${describeRef(ref)}`);
    const json = bodyJson(answer);
    if (!isRecord(json)) {
      return errorResult(answer.truncated ? answerCutNote('The object is too large to describe; use get_resource.') : `describe ${describeRef(ref)}: the answer was not a JSON object.`);
    }
    const object = withoutManagedFields(json).value as Record<string, unknown>;
    const meta = isRecord(object.metadata) ? object.metadata : {};
    const selector: Record<string, string> = { 'involvedObject.name': args.name, 'involvedObject.namespace': args.namespace ?? '' };
    if (typeof object.kind === 'string' && isKind(object.kind)) selector['involvedObject.kind'] = object.kind;
    if (typeof meta.uid === 'string' && UID.test(meta.uid)) selector['involvedObject.uid'] = meta.uid;
    const fieldSelector = Object.keys(selector)
      .sort()
      .map((k) => `${k}=${selector[k]}`)
      .join(',');
    const events = await kube.request({
      method: 'GET',
      path: resourcePath({ apiVersion: 'v1', resource: 'events', namespace: args.namespace }),
      query: { fieldSelector },
      headers: { accept: 'application/json' },
    });

    const y = bound(stringify(object, { lineWidth: 0 }), OBJECT_TEXT_LIMIT);
    const lines = [`${describeRef(ref)}:`, y.text.trimEnd()];
    if (y.omitted) lines.push(truncationNote(y.omitted, 'Use get_resource for the whole object.'));
    lines.push('', 'Events:');
    const { text, count } = eventsSection(events, args.namespace === undefined);
    lines.push(text);
    return textResult(lines.join('\n'), { object: objectSummary(object), ...(count !== undefined ? { eventCount: count } : {}) });
  },
};

function eventsSection(answer: KubeAnswer, clusterScoped: boolean): { text: string; count?: number } {
  if (!isSuccess(answer)) {
    if (answer.sluiceError) {
      const msg = kubeStatus(bodyJson(answer))?.message;
      return { text: `  (not shown) ${refusalText(answer.sluiceError, msg, answer.requestId, 'list the events about this object').replace(/\n/g, '\n  ')}` };
    }
    const msg = kubeStatus(bodyJson(answer))?.message;
    return { text: `  (not shown: the Kubernetes API answered ${answer.status}${msg ? `: ${oneLine(msg, 500)}` : ''})` };
  }
  const events = readEvents(bodyJson(answer));
  if (!events) return { text: `  (not shown: ${answer.truncated ? 'too many events to read' : 'the answer was not an event list'}; use list_events)` };
  if (events.length === 0) return { text: '  <none>', count: 0 };
  const r = renderEvents(events, { max: EVENTS_SHOWN, namespaceColumn: clusterScoped });
  const text = r.text.replace(/^/gm, '  ');
  const more = events.length > r.shown ? `\n  [${events.length - r.shown} older events not shown; list_events lists them]` : '';
  return { text: text + more, count: events.length };
}
