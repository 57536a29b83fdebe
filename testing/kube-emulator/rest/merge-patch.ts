/**
 * JSON merge patch (RFC 7386), as k8s.io/apiserver applies application/merge-patch+json
 * (github.com/evanphx/json-patch MergePatch): objects merge recursively, null deletes, anything
 * else (arrays included) replaces.
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
