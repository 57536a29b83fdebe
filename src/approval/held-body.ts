/**
 * The body of a held request as approvers see it: text, secret values masked, at most 64 KiB.
 * Approvers must see what they approve (SECURITY.md: "The approver sees the full (masked)
 * request") but never a Secret's values: `data` and `stringData` values of a Secret (JSON or
 * YAML) are replaced by the masking marker (keys kept) — also in patches, which carry no `kind`
 * —, and JWTs / bearer tokens anywhere are redacted. With the gateway's masking (issue #5) the
 * body then goes through the same rules and value detectors as responses do: the
 * last-applied annotation, env values with credentials, cloud keys, connection strings.
 */
import { parse as parseYaml } from 'yaml';
import { redactString } from '../audit/redact-secrets.ts';
import type { Masking } from '../masking/create-masking.ts';
import { MASK_MARKER, maskObject } from '../masking/kube/index.ts';

export const HELD_BODY_MAX = 64 * 1024;
export const MASKED = MASK_MARKER;

function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (o.kind === 'Secret' && (k === 'data' || k === 'stringData') && x && typeof x === 'object') {
      out[k] = Object.fromEntries(Object.keys(x).map((key) => [key, MASKED]));
    } else out[k] = maskSecrets(x);
  }
  return out;
}

const maskKeys = (x: unknown): unknown =>
  x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).map((key) => [key, MASKED])) : MASKED;

/** A JSON-patch path into a Secret's values: `/data`, `/data/password`, `/stringData/…`. */
const SECRET_VALUE_PATH = /^\/(data|stringData)(\/|$)/;

/**
 * A body written to the `secrets` resource. Patches (merge, strategic, apply, JSON patch) carry
 * no `kind`, so the resource says it is a Secret: its top-level `data`/`stringData` values, and
 * the values of JSON-patch operations on them (or on the whole object), are masked.
 */
function maskSecretBody(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.map((op: unknown) => {
      if (op === null || typeof op !== 'object' || !('value' in op)) return maskSecrets(op);
      const o = op as { path?: unknown; value: unknown };
      const path = typeof o.path === 'string' ? o.path : '';
      if (path === '') return { ...o, value: maskSecretBody(o.value) };
      if (!SECRET_VALUE_PATH.test(path)) return maskSecrets(o);
      return { ...o, value: path.split('/').length > 2 ? MASKED : maskKeys(o.value) };
    });
  }
  if (v === null || typeof v !== 'object') return v;
  const out = maskSecrets(v) as Record<string, unknown>;
  for (const k of ['data', 'stringData']) if (out[k] !== undefined && out[k] !== null) out[k] = maskKeys(out[k]);
  return out;
}

/**
 * Undefined for no body; binary (protobuf) bodies are described, not shown. `secret`: the body is
 * written to the core `secrets` resource (a patch of a Secret has no `kind` to tell). At most
 * HELD_BODY_MAX characters.
 */
export function heldBodyText(body: Buffer | undefined, contentType: string | undefined, secret = false, masking?: Masking): string | undefined {
  const text = maskedBodyText(body, contentType, secret, masking);
  return text !== undefined && text.length > HELD_BODY_MAX ? `${text.slice(0, HELD_BODY_MAX)}\n… (cut at ${HELD_BODY_MAX} characters of ${text.length})` : text;
}

/**
 * A parsed body (or any value holding Kubernetes objects) masked as approvers see it: Secret
 * values wherever an object says `kind: Secret`, every top-level `data`/`stringData` value (and
 * JSON-patch value) when `secret` (a body written to `secrets`), then the configured mask rules.
 * Value detectors are not applied here (they run over the text).
 */
export function maskBodyValue(parsed: unknown, secret = false, masking?: Masking): unknown {
  const masked = secret ? maskSecretBody(parsed) : maskSecrets(parsed);
  return masking ? maskObject(masked, masking.kube, secret ? { kind: 'Secret', apiGroup: '' } : undefined).obj : masked;
}

/** The whole body as heldBodyText shows it (masked, JSON pretty-printed): what the trail records of a request body. */
export function maskedBodyText(body: Buffer | undefined, contentType: string | undefined, secret = false, masking?: Masking): string | undefined {
  if (!body || body.length === 0) return undefined;
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type.includes('protobuf')) return `(${body.length} bytes of ${type})`;
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = type.includes('yaml') ? parseYaml(text) : JSON.parse(text);
  } catch {
    // Not JSON/YAML (the pipeline would have refused a malformed one): show it redacted, unless
    // it is written to a Secret — then nothing of it is shown.
    if (secret) return `(${body.length} bytes of ${type}, not shown: written to a Secret)`;
    return detectedText(text, masking);
  }
  return maskedValueText(parsed, secret, masking);
}

/** A body already decoded (the pipeline's `object`) as maskedBodyText shows it: no second parse. */
export function maskedValueText(parsed: unknown, secret = false, masking?: Masking): string {
  return detectedText(JSON.stringify(maskBodyValue(parsed, secret, masking), null, 2), masking);
}

/** The value detectors and the credential redaction over a text. */
function detectedText(text: string, masking: Masking | undefined): string {
  return redactString(masking ? masking.detectors.mask(text).text : text);
}
