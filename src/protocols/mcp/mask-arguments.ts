/**
 * The arguments of a tool call as the audit record keeps them: masked the way approvers see a
 * request body (src/approval/held-body.ts). A manifest or patch is parsed and masked as the
 * Kubernetes object it is — every value of a Secret's `data`/`stringData`, the configured mask
 * rules — then the whole text goes through the value detectors (tokens, keys, connection strings)
 * and the credential redaction every record gets. Audit records never hold secrets in clear
 * (SECURITY.md, Audit).
 */
import { maskedBodyText } from '../../approval/held-body.ts';
import { redactString } from '../../audit/redact-secrets.ts';
import type { Masking } from '../../masking/create-masking.ts';

/** Largest argument text kept in a record (characters); the rest is cut with a note. */
const MAX_ARGUMENT_CHARS = 16_384;

const isSecretKind = (v: unknown): boolean => typeof v === 'string' && /^secrets?$/i.test(v);

/** A manifest names a Secret (YAML or JSON; read loosely, only to decide how strictly to mask). */
const manifestIsSecret = (text: string): boolean => /^\s*"?kind"?\s*:\s*"?Secret"?\s*,?\s*$/m.test(text);

export function maskArguments(args: unknown, masking: Masking | undefined): unknown {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return args;
  const out: Record<string, unknown> = { ...(args as Record<string, unknown>) };
  if (typeof out.manifest === 'string') {
    out.manifest = maskedBodyText(Buffer.from(out.manifest), 'application/yaml', manifestIsSecret(out.manifest), masking) ?? '';
  }
  if (out.patch !== undefined) {
    out.patch = maskedBodyText(Buffer.from(JSON.stringify(out.patch)), 'application/json', isSecretKind(out.resource), masking) ?? '';
  }
  let text = JSON.stringify(out);
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
