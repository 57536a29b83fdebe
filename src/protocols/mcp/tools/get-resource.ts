/**
 * `get_resource` — one object as JSON, like `kubectl get <resource> <name> -o json`.
 *
 * Request: `GET /api/v1/[namespaces/{ns}/]{resource}/{name}` (or `/apis/{group}/{version}/…`)
 * with `Accept: application/json` (api-conventions.md "Resources"). Policy sees the verb `get`.
 * The text is the object exactly as the gateway released it (masked by the gateway's policy),
 * compact JSON, without `metadata.managedFields` — which kubectl hides as well
 * (`--show-managed-fields=false`) and which only repeats field ownership.
 */
import type { SluiceTool } from '../tool-types.ts';
import { describeRef, resourcePath } from './kube-paths.ts';
import { answerCutNote, bodyJson, bodyText, bound, failureResult, isRecord, isSuccess, textResult, truncationNote, withoutManagedFields } from './results.ts';
import { objectRef } from './validation.ts';

const input = objectRef;

export const getResource: SluiceTool<typeof input> = {
  name: 'get_resource',
  title: 'Get a Kubernetes object',
  description:
    'Get one Kubernetes object as JSON (spec, status, metadata), like `kubectl get -o json`. Values the organisation masks (secrets, tokens) appear masked.',
  input,
  annotations: { readOnlyHint: true, openWorldHint: false },
  reach: { verbs: ['get'] },
  async run(args, kube) {
    const ref = args;
    const answer = await kube.request({ method: 'GET', path: resourcePath(ref), headers: { accept: 'application/json' } });
    if (!isSuccess(answer)) return failureResult(answer, `get ${describeRef(ref)}`);
    const json = bodyJson(answer);
    if (json === undefined) {
      const b = bound(bodyText(answer));
      const notes = [answer.truncated ? answerCutNote('The object is too large to show whole.') : '', b.omitted ? truncationNote(b.omitted, 'The object is too large to show whole.') : ''];
      return textResult([b.text, ...notes].filter(Boolean).join('\n'), answer.truncated || b.omitted ? { truncated: true } : undefined);
    }
    const { value, dropped } = withoutManagedFields(json);
    const b = bound(JSON.stringify(value));
    const lines = [b.text];
    if (b.omitted) lines.push(truncationNote(b.omitted, 'The object is too large to show whole; describe_resource shows a readable summary.'));
    else if (dropped) lines.push('(metadata.managedFields omitted)');
    return textResult(lines.join('\n'), b.omitted === 0 && isRecord(value) ? value : undefined);
  },
};
