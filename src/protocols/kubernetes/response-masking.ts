/**
 * Masking of Kubernetes responses in the data path (issue #5): whether it applies to a request,
 * what the request to the API server must ask for so that the answer can be masked, and the
 * transforms the answer streams through.
 *
 * Applies to every resource request (get, list, watch, create/update/patch/dry-run answers,
 * Tables, `pods/log`, proxied answers) unless masking is off or a policy rule lifted it for the
 * request (`mask: off`). Non-resource paths (discovery, OpenAPI, /version, /healthz) are the API
 * server's own documents and pass as they are.
 *
 * Formats that could bypass masking (SECURITY.md):
 * - protobuf: the Accept header sent upstream drops `application/vnd.kubernetes.protobuf`; a
 *   client that accepted only protobuf gets JSON (client-go decodes by the answer's
 *   Content-Type). YAML is asked for as JSON too: JSON is YAML, and the masker parses JSON;
 * - compression: no `Accept-Encoding` goes upstream; an answer compressed anyway (gzip, deflate,
 *   br) is decompressed before masking and sent uncompressed;
 * - anything else — another media type, an unknown encoding, malformed JSON, an element over
 *   the bound — is refused (RESPONSE_UNMASKABLE), never passed on unmasked.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { AuditMasking } from '../../audit/types.ts';
import type { Masking } from '../../masking/create-masking.ts';
import { createKubeJsonMasker, type KindHint } from '../../masking/kube/index.ts';
import { createTextMasker } from '../../masking/text/index.ts';
import type { KubeContext } from './pipeline/context.ts';
import { Rejection } from './pipeline/rejection.ts';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** The masking that applies to this request, or undefined (off, lifted, or not a resource request). */
export function maskingFor(ctx: KubeContext): Masking | undefined {
  const m = ctx.deps.masking;
  if (!m || !ctx.attributes?.isResourceRequest) return undefined;
  if (ctx.decision?.mask.lifted) return undefined;
  return m;
}

/** The audit note of a request whose masking a policy rule lifted. */
export function liftedMasking(ctx: KubeContext): AuditMasking | undefined {
  if (!ctx.deps.masking || !ctx.attributes?.isResourceRequest || !ctx.decision?.mask.lifted) return undefined;
  return { fields: {}, detectors: {}, lifted: [...ctx.decision.mask.by] };
}

/**
 * Rewrites the upstream headers of a masked request: Accept without protobuf (YAML asked as
 * JSON), no Accept-Encoding. Media-range parameters (`as=Table;g=meta.k8s.io;v=v1`,
 * `stream=watch`) are kept.
 */
export function maskableRequestHeaders(headers: OutgoingHttpHeaders): void {
  delete headers['accept-encoding'];
  const accept = headers.accept;
  if (accept === undefined) return;
  const ranges = (Array.isArray(accept) ? accept.join(',') : String(accept)).split(',');
  const out: string[] = [];
  for (const range of ranges) {
    const [type = '', ...params] = range.split(';').map((p) => p.trim());
    const t = type.toLowerCase();
    if (t === '') continue;
    if (t === PROTOBUF) {
      // The JSON twin of a protobuf range: same parameters (watch streams, Tables).
      out.push(['application/json', ...params].join(';'));
      continue;
    }
    out.push(t === 'application/yaml' ? ['application/json', ...params].join(';') : range.trim());
  }
  const unique = [...new Set(out)];
  headers.accept = unique.length ? unique.join(', ') : 'application/json';
}

/** The kind of the objects a request returns when they do not say so themselves. */
function kindHint(ctx: KubeContext): KindHint | undefined {
  const a = ctx.attributes!;
  if (a.apiGroup === '' && a.resource === 'secrets' && a.subresource === '') return { kind: 'Secret', apiGroup: '' };
  if (a.apiGroup === '' && a.resource === 'serviceaccounts' && a.subresource === 'token') return { kind: 'TokenRequest', apiGroup: 'authentication.k8s.io' };
  return undefined;
}

function unmaskable(message: string): Rejection {
  return new Rejection('RESPONSE_UNMASKABLE', 502, 'InternalError', `sluice: ${message}; masking applies to this response, so it was not passed on`);
}

export interface ResponseMasker {
  /** The transforms the body goes through, in order (decompression, then the masker). */
  transforms: Transform[];
  counts(): AuditMasking;
}

/**
 * The transforms for an answer, or null when it has no body to mask (HEAD, 204, 304, empty).
 * Throws a Rejection (RESPONSE_UNMASKABLE) for an answer that cannot be masked.
 */
export function responseMasker(ctx: KubeContext, m: Masking, res: IncomingMessage): ResponseMasker | null {
  const status = res.statusCode ?? 0;
  if (ctx.req.method === 'HEAD' || status === 204 || status === 304 || res.headers['content-length'] === '0') return null;
  const transforms: Transform[] = [];
  const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding === 'gzip' || encoding === 'x-gzip') transforms.push(createGunzip());
  else if (encoding === 'deflate') transforms.push(createInflate());
  else if (encoding === 'br') transforms.push(createBrotliDecompress());
  else if (encoding !== 'identity' && encoding !== '') throw unmaskable(`the answer is encoded as ${JSON.stringify(encoding.slice(0, 40))}, which Sluice cannot decode`);

  const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') {
    const hint = kindHint(ctx);
    const masker = createKubeJsonMasker({ masking: m.kube, maxElementBytes: m.maxElementBytes, ...(hint ? { hint } : {}) });
    transforms.push(masker);
    return { transforms, counts: () => masker.counts() };
  }
  if (type === 'text/plain') {
    const masker = createTextMasker({ detectors: m.detectors, maxLineBytes: m.maxLineBytes });
    transforms.push(masker);
    return {
      transforms,
      counts: () => {
        const c = masker.counts();
        return { fields: {}, detectors: c.detectors, ...(c.oversizeLines ? { oversizeLines: c.oversizeLines } : {}) };
      },
    };
  }
  throw unmaskable(`the answer is ${type ? JSON.stringify(type.slice(0, 80)) : 'of no declared type'}, which Sluice cannot mask`);
}
