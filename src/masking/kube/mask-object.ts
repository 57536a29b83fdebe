/**
 * Masks one decoded Kubernetes object of any shape: a plain object, a `*List` (each of `items`
 * masked as an object of the list's kind — items of typed lists carry no `kind`), a `Table`
 * (`rows[].object`, a full object or a PartialObjectMetadata; cells go through the detectors), a
 * watch event (`{type, object}`), a `Status`. Rules are matched by the kind and API group of the
 * nearest object that has them (or the hint) and the path below it; every string the walk
 * visits that no rule replaces goes through the value detectors. Object keys are kept as they
 * are (they are structure, not values).
 *
 * The object is masked in place (it is the caller's decoded copy) and returned, with counts:
 * field labels and detector names, never a value. The `value` of a container env entry whose
 * `name` looks like a credential's (`POSTGRES_PASSWORD`) is replaced by the marker, whatever the
 * order of the two members (sensitive-env-names.ts). The streaming masker drives the same walk
 * per list element (`maskUnit`), which also counts the strings it saw (keys and string values)
 * so the stream can tell that the parse dropped nothing (duplicate keys) before it sends the
 * original bytes of an element that needed no change.
 */
import type { KubeMasking } from './create-kube-masking.ts';
import { childNodes, elementNodes, isNameEntry, NO_NODES, strongest, type RuleNode } from './compile-rules.ts';
import { MASK_MARKER } from './default-rules.ts';
import { MaskCounter } from './mask-counter.ts';
import { keepsEnvValue } from './sensitive-env-names.ts';
import type { KindHint, MaskCounts } from './types.ts';

const EMPTY = NO_NODES;
/** An array element in a path (keys are strings). */
const ELEMENT = 0;

/** The state of one masking pass. */
export class MaskWalk {
  changed = false;
  /** Keys and string values seen (embedded JSON excluded): the string tokens of the source. */
  strings = 0;
  kind = '?';
  path: (string | typeof ELEMENT)[] = [];
  constructor(
    readonly masking: KubeMasking,
    readonly counter: MaskCounter,
  ) {}
}

export type UnitShape = 'object' | 'row';

/** `apps/v1` → `apps`, `v1` → `` (the core group). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/** Masks `obj` in place and returns it with the counts of what was masked. */
export function maskObject(obj: unknown, masking: KubeMasking, hint?: KindHint): { obj: unknown; counts: MaskCounts } {
  const walk = new MaskWalk(masking, new MaskCounter());
  const out = maskRoot(obj, hint, walk);
  return { obj: out, counts: walk.counter.toCounts() };
}

/** One unit of the streaming masker: an object (document, list item) or a Table row. */
export function maskUnit(v: unknown, shape: UnitShape, hint: KindHint | undefined, walk: MaskWalk): unknown {
  return shape === 'row' ? maskRow(v, hint, walk) : maskRoot(v, hint, walk);
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `{"type": "ADDED", "object": {...}}` and nothing else (a Secret with a `type` is not one). */
function isWatchEvent(o: Record<string, unknown>): boolean {
  if (typeof o.type !== 'string' || !isObject(o.object)) return false;
  let n = 0;
  for (const _ in o) n++;
  return n === 2;
}

function maskRoot(v: unknown, hint: KindHint | undefined, w: MaskWalk): unknown {
  const savedKind = w.kind;
  const savedPath = w.path;
  w.path = [];
  try {
    if (!isObject(v)) {
      w.kind = hint?.kind ?? '?';
      return visit(v, EMPTY, null, w);
    }
    const ownKind = typeof v.kind === 'string' ? v.kind : undefined;
    const kind = ownKind ?? hint?.kind;
    const group = typeof v.apiVersion === 'string' ? groupOf(v.apiVersion) : hint?.apiGroup;
    const isList = Array.isArray(v.items) && (ownKind === undefined || ownKind.endsWith('List'));
    const isTable = Array.isArray(v.rows) && (ownKind === undefined || ownKind === 'Table');
    const isEvent = ownKind === undefined && isWatchEvent(v);
    const itemHint: KindHint | undefined = ownKind !== undefined && ownKind.length > 4 && ownKind.endsWith('List') ? { kind: ownKind.slice(0, -4), apiGroup: group } : hint;
    const root = [w.masking.rules.forKind(kind, group)];
    w.kind = isEvent ? 'WatchEvent' : (kind ?? '?');
    for (const key in v) {
      w.strings++;
      const x = v[key];
      let y: unknown;
      if (isList && key === 'items') y = eachElement(x as unknown[], (e) => maskRoot(e, itemHint, w));
      else if (isTable && key === 'rows') y = eachElement(x as unknown[], (e) => maskRow(e, hint, w));
      else if (isEvent && key === 'object') y = maskRoot(x, hint, w);
      else {
        w.path.push(key);
        y = visit(x, childNodes(root, key), null, w);
        w.path.pop();
      }
      if (y !== x) v[key] = y;
    }
    return v;
  } finally {
    w.kind = savedKind;
    w.path = savedPath;
  }
}

/** A Table row: `object` is an object of its own; cells and the rest go through the detectors. */
function maskRow(v: unknown, hint: KindHint | undefined, w: MaskWalk): unknown {
  const savedKind = w.kind;
  const savedPath = w.path;
  w.kind = 'Table';
  w.path = ['rows', ELEMENT];
  try {
    if (!isObject(v)) return visit(v, EMPTY, null, w);
    for (const key in v) {
      w.strings++;
      const x = v[key];
      let y: unknown;
      if (key === 'object') y = maskRoot(x, hint, w);
      else {
        w.path.push(key);
        y = visit(x, EMPTY, null, w);
        w.path.pop();
      }
      if (y !== x) v[key] = y;
    }
    return v;
  } finally {
    w.kind = savedKind;
    w.path = savedPath;
  }
}

function eachElement(a: unknown[], f: (e: unknown) => unknown): unknown[] {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = f(x);
    if (y !== x) a[i] = y;
  }
  return a;
}

/** A value at a position that `nodes` (the rule trie positions reached) describe; `label` names the field of an enclosing `detectors` rule. */
function visit(v: unknown, nodes: RuleNode[], label: string | null, w: MaskWalk): unknown {
  if (nodes.length > 0) {
    const rule = strongest(nodes);
    if (rule !== null) {
      const action = rule.action;
      if (action === 'marker' || action === 'hash') return replace(v, action, rule.label!, w);
      if (action === 'json' && typeof v === 'string') return maskEmbeddedJson(v, rule.label!, w);
      label = rule.label;
    }
  }
  if (typeof v === 'string') {
    w.strings++;
    return maskString(v, label, w);
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const next = nodes.length > 0 ? elementNodes(nodes) : EMPTY;
    w.path.push(ELEMENT);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const y = visit(x, next, label, w);
      if (y !== x) v[i] = y;
    }
    w.path.pop();
    return v;
  }
  const o = v as Record<string, unknown>;
  // An env entry whose name is a credential's: its value is masked by name (sensitive-env-names.ts).
  const byName = nodes.length > 0 && isNameEntry(nodes) && typeof o.name === 'string' && w.masking.sensitiveEnvName(o.name);
  for (const key in o) {
    w.strings++;
    const x = o[key];
    const next = nodes.length > 0 ? childNodes(nodes, key) : EMPTY;
    let y: unknown;
    const nameLabel = byName && key === 'value' && !keepsEnvValue(x) ? strongest(next)?.nameLabel : null;
    if (nameLabel) y = replace(x, 'marker', nameLabel, w);
    else {
      w.path.push(key);
      y = visit(x, next, label, w);
      w.path.pop();
    }
    if (y !== x) o[key] = y;
  }
  return o;
}

function pathLabel(w: MaskWalk): string {
  let s = '';
  for (const p of w.path) s += p === ELEMENT ? '[*]' : s === '' ? p : `.${p}`;
  return `${w.kind} ${s}`;
}

function maskString(s: string, label: string | null, w: MaskWalk): string {
  const d = w.masking.detectors;
  if (!d.maybe(s)) return s;
  const r = d.mask(s);
  if (r.text === s) return s;
  w.changed = true;
  w.counter.hits(r.hits);
  w.counter.field(label ?? pathLabel(w));
  return r.text;
}

function replace(v: unknown, action: 'marker' | 'hash', label: string, w: MaskWalk): unknown {
  if (v === null) return v;
  w.changed = true;
  w.counter.field(label);
  if (action === 'marker') return MASK_MARKER;
  return w.masking.hash(typeof v === 'string' ? v : JSON.stringify(v));
}

/**
 * A string holding a JSON document (last-applied-configuration): masked as the object it
 * contains and written back canonically (compact, with kubectl's trailing newline kept), so no
 * duplicate key of the original can carry a value past the mask. Not JSON → the marker.
 */
export function maskEmbeddedJson(s: string, label: string, w: MaskWalk): string {
  w.strings++;
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    w.changed = true;
    w.counter.field(label);
    return MASK_MARKER;
  }
  const { changed, strings } = w;
  w.changed = false;
  const masked = maskRoot(parsed, undefined, w);
  const inner = w.changed;
  w.changed = changed;
  w.strings = strings;
  if (inner) w.counter.field(label);
  const text = JSON.stringify(masked) + (s.endsWith('\n') ? '\n' : '');
  if (text === s) return s;
  w.changed = true;
  return text;
}
