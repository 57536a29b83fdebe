/**
 * Content negotiation for resource requests, as k8s.io/apiserver/pkg/endpoints/handlers/negotiation
 * does it: a body in a media type the resource's codecs cannot decode is 415
 * (UnsupportedMediaType); an Accept header naming no type the emulator can serialise is 406
 * (NotAcceptable). The emulator always answers JSON: legal whenever the client's Accept lists
 * application/json (with any parameters), a wildcard, or YAML (served as JSON, a subset).
 * Custom resources are JSON-only like every CRD; built-in kinds would also speak protobuf on a
 * real server — the emulator decodes the protobuf bodies clients really send (./protobuf.ts) but
 * never answers in protobuf.
 */
import { StatusError } from './status.ts';

const JSON_ONLY_TYPES = 'application/json, application/yaml';

function mediaType(s: string): string {
  return (s.split(';')[0] ?? '').trim().toLowerCase();
}

/** True when the Accept header allows a JSON answer (empty Accept allows anything). */
export function acceptsJson(accept: string): boolean {
  if (accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const t = mediaType(part);
    return t === '*/*' || t === 'application/*' || t === 'application/json' || t === 'application/yaml';
  });
}

export function notAcceptable(): StatusError {
  return StatusError.of(406, 'NotAcceptable', `only the following media types are accepted: ${JSON_ONLY_TYPES}`);
}

export function unsupportedMediaType(contentType: string, detail?: string): StatusError {
  const base = `the body of the request was in an unknown format - accepted media types include: ${JSON_ONLY_TYPES}`;
  return StatusError.of(415, 'UnsupportedMediaType', detail ? `${base} (${mediaType(contentType)}: ${detail})` : base);
}
