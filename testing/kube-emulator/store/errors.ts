/**
 * The API errors the storage layer raises, with the exact reasons, messages and details of
 * k8s.io/apimachinery/pkg/api/errors (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid,
 * NewResourceExpired, NewBadRequest) as the generic registry (k8s.io/apiserver/pkg/registry/generic/registry/store.go)
 * uses them.
 */
import type { ResourceDef } from '../resources.ts';
import type { StatusDetails } from '../status.ts';
import { StatusError } from '../status.ts';

/** schema.GroupResource.String(): "pods", "deployments.apps". */
export function qualifiedResource(def: Pick<ResourceDef, 'group' | 'resource'>): string {
  return def.group ? `${def.resource}.${def.group}` : def.resource;
}

function details(def: Pick<ResourceDef, 'group' | 'resource'>, name: string): StatusDetails {
  const d: StatusDetails = { name };
  if (def.group) d.group = def.group;
  d.kind = def.resource;
  return d;
}

export function notFound(def: Pick<ResourceDef, 'group' | 'resource'>, name: string): StatusError {
  return StatusError.of(404, 'NotFound', `${qualifiedResource(def)} "${name}" not found`, details(def, name));
}

export function alreadyExists(def: Pick<ResourceDef, 'group' | 'resource'>, name: string): StatusError {
  return StatusError.of(409, 'AlreadyExists', `${qualifiedResource(def)} "${name}" already exists`, details(def, name));
}

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(def: Pick<ResourceDef, 'group' | 'resource'>, name: string, message = OPTIMISTIC_LOCK_MESSAGE): StatusError {
  return StatusError.of(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(def)} "${name}": ${message}`, details(def, name));
}

export interface FieldCause {
  type: 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate';
  field: string;
  /** Full cause message, e.g. `Required value: name or generateName is required`. */
  message: string;
}

/** errors.NewInvalid: `Kind[.group] "name" is invalid: field: detail` (422). */
export function invalid(kind: string, group: string, name: string, causes: FieldCause[]): StatusError {
  const msgs = causes.map((c) => `${c.field}: ${c.message}`);
  const agg = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const d: StatusDetails = { name };
  if (group) d.group = group;
  d.kind = kind;
  d.causes = causes.map((c) => ({ reason: c.type, message: c.message, field: c.field }));
  return StatusError.of(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${agg}`, d);
}

export function expired(message: string): StatusError {
  return StatusError.of(410, 'Expired', message);
}

export function badRequest(message: string): StatusError {
  return StatusError.of(400, 'BadRequest', message);
}

export function forbidden(def: Pick<ResourceDef, 'group' | 'resource'>, name: string, reason: string): StatusError {
  const msg = `${qualifiedResource(def)} "${name}" is forbidden: ${reason}`;
  return StatusError.of(403, 'Forbidden', msg, details(def, name));
}

export function methodNotAllowed(message = 'the server does not allow this method on the requested resource'): StatusError {
  return StatusError.of(405, 'MethodNotAllowed', message);
}

/** errors.NewGenericServerResponse(422, ...) as patch application errors use it. */
export function unprocessable(serverMessage: string): StatusError {
  return StatusError.of(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }],
  });
}

export function unsupportedMediaType(contentType: string, accepted: string[]): StatusError {
  return StatusError.of(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}
