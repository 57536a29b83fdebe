/**
 * The arguments of a tool call as the audit record keeps them — masked, bounded, and never
 * trusted to be what the tool expects (the record is written before, and whether or not, the
 * arguments validate). Audit records never hold secrets in clear (SECURITY.md, Audit):
 *
 * - `manifest` (YAML or JSON text, or an object a model sent instead) is parsed and masked as
 *   the Kubernetes object(s) it holds, the way approvers see a request body
 *   (src/approval/held-body.ts): every value of a Secret's `data`/`stringData`, the configured
 *   mask rules. Text that does not parse is not kept at all, only its length.
 * - `patch` (an object, an array, or JSON text) of `secrets` has every value under
 *   `data`/`stringData` masked, JSON-patch values included; text that does not parse is not kept.
 * - Everything else: Secrets anywhere (`kind: Secret`) masked, values under credential-like keys
 *   (`password`, `token`, `secret`, `credential`, `apiKey`…) replaced by the marker.
 * - Then the whole text goes through the value detectors (tokens, cloud keys, connection strings)
 *   and the credential redaction every record gets, and is cut to 16 KiB.
 *
 * argumentsProblem() bounds what is looked at in the first place: arguments nested deeper than
 * 32 levels or with more than 100,000 values are refused before anything else (and recorded
 * without their content).
 */
import { parseAllDocuments } from 'yaml';
import { MASKED, maskBodyValue } from '../../approval/held-body.ts';
import { redactString } from '../../audit/redact-secrets.ts';
import type { Masking } from '../../masking/create-masking.ts';

/** Largest argument text kept in a record (characters); the rest is cut with a note. */
const MAX_ARGUMENT_CHARS = 16_384;
export const MAX_ARGUMENT_DEPTH = 32;
const MAX_ARGUMENT_VALUES = 100_000;

const CREDENTIAL_KEY = /pass(word|wd|phrase)?$|secret|token|credential|api[-_]?key|private[-_]?key|^auth(orization)?$/i;

/** Why the arguments are refused unread (too deep, too many values), or undefined. Iterative: no recursion on hostile input. */
export function argumentsProblem(args: unknown): string | undefined {
  const stack: [unknown, number][] = [[args, 1]];
  let values = 0;
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (++values > MAX_ARGUMENT_VALUES) return `more than ${MAX_ARGUMENT_VALUES} values`;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_ARGUMENT_DEPTH) return `nested deeper than ${MAX_ARGUMENT_DEPTH} levels`;
    for (const x of Object.values(v as Record<string, unknown>)) stack.push([x, depth + 1]);
  }
  return undefined;
}

/** The size of the arguments as JSON (bytes), or 0 when they are refused unread. */
export function argumentBytes(args: unknown): number {
  return argumentsProblem(args) ? 0 : Buffer.byteLength(JSON.stringify(args ?? {}));
}

const notShown = (text: string, why: string): string => `(${text.length} characters, not shown: ${why})`;

const isSecretObject = (v: unknown): boolean => v !== null && typeof v === 'object' && /^secret$/i.test(String((v as { kind?: unknown }).kind ?? ''));

/** Values under credential-like keys become the marker (objects and arrays included). */
function maskCredentialKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskCredentialKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = CREDENTIAL_KEY.test(k) && x !== null && x !== '' ? MASKED : maskCredentialKeys(x);
  return out;
}

function maskManifest(v: unknown, masking: Masking | undefined): unknown {
  if (typeof v !== 'string') return maskBodyValue(v, isSecretObject(v), masking);
  const docs = parseAllDocuments(v);
  if (!Array.isArray(docs) || docs.some((d) => d.errors.length > 0)) return notShown(v, 'not a manifest Sluice could parse');
  try {
    const values = docs.map((d) => d.toJS({ maxAliasCount: 10 }) as unknown).filter((x) => x !== null && x !== undefined);
    const masked = values.map((x) => maskBodyValue(x, isSecretObject(x), masking));
    return masked.length === 1 ? masked[0] : masked;
  } catch {
    return notShown(v, 'not a manifest Sluice could parse');
  }
}

function maskPatch(v: unknown, secret: boolean, masking: Masking | undefined): unknown {
  let value = v;
  if (typeof v === 'string') {
    try {
      value = JSON.parse(v) as unknown;
    } catch {
      return notShown(v, 'not JSON');
    }
  }
  return maskBodyValue(value, secret || isSecretObject(value), masking);
}

export function maskArguments(args: Record<string, unknown>, masking: Masking | undefined): unknown {
  const problem = argumentsProblem(args);
  if (problem) return { omitted: `arguments ${problem}` };
  const secretResource = typeof args.resource === 'string' && /^secrets?$/i.test(args.resource);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    if (k === 'manifest') out[k] = maskManifest(v, masking);
    else if (k === 'patch') out[k] = maskPatch(v, secretResource, masking);
    else out[k] = maskBodyValue(v, false, masking);
  }
  let text = JSON.stringify(maskCredentialKeys(out));
  if (masking) text = masking.detectors.mask(text).text;
  text = redactString(text);
  if (text.length > MAX_ARGUMENT_CHARS) return { truncated: true, text: text.slice(0, MAX_ARGUMENT_CHARS) };
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Masking replaced part of the JSON syntax itself (a finding across a quote): keep the text.
    return { text };
  }
}
