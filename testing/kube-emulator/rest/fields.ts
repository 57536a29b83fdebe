/**
 * Field selectors, after k8s.io/apimachinery/pkg/fields/selector.go (terms split on unescaped
 * commas, operators `!=`, `==`, `=`, backslash escapes) and the per-type field label
 * conversion functions of k8s.io/kubernetes/pkg/apis/core/v1/conversion.go, which reject
 * unsupported labels with `field label not supported: <label>` (400 BadRequest).
 */
import type { ResourceDef } from '../resources.ts';
import { badRequest } from '../store/errors.ts';
import type { KubeObject } from '../types.ts';

export interface FieldRequirement { field: string; op: '=' | '!='; value: string }
export type FieldSelector = FieldRequirement[];

function splitTerms(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] ?? '');
      i++;
    } else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function unescape(v: string, whole: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i] ?? '';
    if (c === '\\') {
      const n = v[i + 1];
      if (n === '\\' || n === ',' || n === '=' || n === '!' || n === undefined) {
        if (n === undefined) throw badRequest(`invalid field selector: unterminated escape sequence in '${whole}'`);
        out += n;
        i++;
      } else throw badRequest(`invalid field selector: invalid escape sequence: \\${n} in '${whole}'`);
    } else if (c === ',' || c === '=' || (c === '!' && v[i + 1] === '=')) {
      throw badRequest(`invalid field selector: unescaped '${c}' in '${whole}'`);
    } else out += c;
  }
  return out;
}

export function parseFieldSelector(s: string): FieldSelector {
  const out: FieldSelector = [];
  if (!s.trim()) return out;
  for (const term of splitTerms(s)) {
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^(.*?)(!=|==|=)(.*)$/s.exec(term))) {
      const [, field = '', op = '=', value = ''] = m;
      out.push({ field, op: op === '!=' ? '!=' : '=', value: unescape(value, term) });
    } else throw badRequest(`invalid selector: '${s}'; can't understand '${term}'`);
  }
  return out;
}

type Getter = (o: KubeObject) => string;
const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : String(v));
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((c, k) => (c && typeof c === 'object' ? (c as Record<string, unknown>)[k] : undefined), o);

const META: Record<string, Getter> = {
  'metadata.name': (o) => str(o.metadata.name),
  'metadata.namespace': (o) => str(o.metadata.namespace),
};

const BY_RESOURCE: Record<string, Record<string, Getter>> = {
  '/pods': {
    'spec.nodeName': (o) => str(at(o, 'spec', 'nodeName')),
    'spec.restartPolicy': (o) => str(at(o, 'spec', 'restartPolicy')),
    'spec.schedulerName': (o) => str(at(o, 'spec', 'schedulerName')),
    'spec.serviceAccountName': (o) => str(at(o, 'spec', 'serviceAccountName')),
    'spec.hostNetwork': (o) => String(Boolean(at(o, 'spec', 'hostNetwork'))),
    'status.phase': (o) => str(at(o, 'status', 'phase')),
    'status.podIP': (o) => str(at(o, 'status', 'podIP')),
    'status.podIPs': (o) => str(at(o, 'status', 'podIP')),
    'status.nominatedNodeName': (o) => str(at(o, 'status', 'nominatedNodeName')),
  },
  '/events': Object.fromEntries([
    ...['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((k): [string, Getter] => [
      `involvedObject.${k}`,
      (o) => str(at(o, 'involvedObject', k)),
    ]),
    ['reason', (o: KubeObject) => str(o.reason)],
    ['reportingComponent', (o: KubeObject) => str(o.reportingComponent)],
    ['source', (o: KubeObject) => str(at(o, 'source', 'component'))],
    ['type', (o: KubeObject) => str(o.type)],
  ]),
  '/secrets': { type: (o) => str(o.type) },
  '/namespaces': { 'status.phase': (o) => str(at(o, 'status', 'phase')) },
  '/services': { 'spec.clusterIP': (o) => str(at(o, 'spec', 'clusterIP')), 'spec.type': (o) => str(at(o, 'spec', 'type')) },
};

/** Check every field label is supported for the resource (400 `field label not supported: x`). */
export function checkFieldLabels(def: ResourceDef, sel: FieldSelector): void {
  const extra = BY_RESOURCE[`${def.group}/${def.resource}`] ?? {};
  for (const r of sel) {
    if (!(r.field in META) && !(r.field in extra)) throw badRequest(`field label not supported: ${r.field}`);
  }
}

export function matchFields(def: ResourceDef, sel: FieldSelector, o: KubeObject): boolean {
  const extra = BY_RESOURCE[`${def.group}/${def.resource}`] ?? {};
  for (const r of sel) {
    const g = META[r.field] ?? extra[r.field];
    const v = g ? g(o) : '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** The single metadata.name=<x> a selector pins, if any (kubectl get x -w, delete --wait). */
export function pinnedName(sel: FieldSelector): string | undefined {
  return sel.find((r) => r.field === 'metadata.name' && r.op === '=')?.value;
}
