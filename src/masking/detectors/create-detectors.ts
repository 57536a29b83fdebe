/**
 * Builds the detector set that masking runs over every string the structural pass visits and
 * over every line of a text stream (see index.ts for the design and the measurements).
 *
 * How `mask(s)` stays cheap on text with nothing to find:
 * 1. a string shorter than the shortest possible match is returned at once;
 * 2. one regex (`pivots`) alternates the triggers of all detectors; each trigger starts at a
 *    pivot character that is rare in logs and JSON (`J` of `eyJ`, `_` of `ghp_`, `@`…) and checks
 *    its surroundings with lookarounds, so the regex engine skips most of the text natively and
 *    stops only where a detector could match; card numbers get one more pass of their own;
 * 3. only a detector whose trigger fired runs its own regex, over a window around the trigger
 *    (a match holding the trigger starts at most `back` before it and spans at most the
 *    pattern's bounded length), and at most once over each part of the string: it keeps a
 *    cursor after its last match.
 * Findings of different detectors that overlap are merged (the union is masked, named after the
 * one that starts first, or the earlier in precedence); a finding inside a marker that is already
 * there is ignored, so masking twice changes nothing.
 */
import { SluiceError } from '../../core/errors.ts';
import { builtinSpecs } from './catalog.ts';
import { compileCustomRule } from './custom-rule.ts';
import type { DetectorSpec } from './detector-spec.ts';
import { regexBounds } from './regex-bounds.ts';
import type { Detector, DetectorConfig, DetectorMatch, DetectorSet, FindingRange } from './types.ts';

/** The marker that replaces a finding. */
export function maskMarker(detector: string): string {
  return `[MASKED:${detector}]`;
}

/** No findings (shared, so frozen). */
const NO_RANGES: FindingRange[] = Object.freeze([]) as unknown as FindingRange[];

/** The counts of a string with no findings (shared, so frozen). */
const NO_HITS: Record<string, number> = Object.freeze({}) as Record<string, number>;

const MARKER = /\[MASKED:[A-Za-z0-9_.:-]{1,80}\]/g;

interface Found {
  start: number;
  end: number;
  /** Index of the detector (its precedence). */
  d: number;
}

interface PivotTrigger {
  sticky: RegExp;
  d: number;
}

interface PassTrigger {
  re: RegExp;
  test: RegExp;
  d: number;
  /** Shortest string its detector can match in. */
  min: number;
}

/** The detector set, plus the detectors one by one (`scan()`, for tests and tools). */
export interface DetectorSetWithDetectors extends DetectorSet {
  readonly detectors: readonly Detector[];
}

/** The range to mask of a match of `spec`, or null when the spec rejects it. */
function rangeOf(spec: DetectorSpec, s: string, m: RegExpExecArray): readonly [number, number] | null {
  let start = m.index;
  let end = start + m[0].length;
  if (spec.groups !== undefined) {
    const idx = m.indices;
    let hit = false;
    for (const g of spec.groups) {
      const r = idx?.[g];
      if (r !== undefined) {
        start = r[0];
        end = r[1];
        hit = true;
        break;
      }
    }
    if (!hit) return null;
  }
  return spec.refine === undefined ? [start, end] : spec.refine(s, start, end);
}

/**
 * The next accepted match of `spec` at or after `from`: where it starts, the range to mask and
 * where the search goes on. A rejected match resumes the search one character after its start.
 */
function nextMatch(spec: DetectorSpec, s: string, from: number): { at: number; start: number; end: number; next: number } | null {
  const re = spec.re;
  re.lastIndex = from;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const at = m.index;
    if (m[0].length === 0) {
      re.lastIndex = at + 1; // never for the checked patterns; a guard against a zero-width loop
      continue;
    }
    const r = rangeOf(spec, s, m);
    if (r !== null && r[1] > r[0]) return { at, start: r[0], end: r[1], next: re.lastIndex };
    re.lastIndex = at + 1;
  }
  return null;
}

function scanAll(spec: DetectorSpec, s: string): DetectorMatch[] {
  const out: DetectorMatch[] = [];
  let from = 0;
  for (;;) {
    const f = nextMatch(spec, s, from);
    if (f === null) return out;
    out.push({ detector: spec.name, start: f.start, end: f.end });
    from = f.next;
  }
}

class Detectors implements DetectorSetWithDetectors {
  readonly names: readonly string[];
  readonly detectors: readonly Detector[];
  readonly maxMatchLength: number;
  private readonly specs: readonly DetectorSpec[];
  private readonly minLength: number;
  /** Shortest string a detector with a pivot trigger can match in. */
  private readonly pivotMin: number;
  private readonly pivots: RegExp | null;
  private readonly pivotTest: RegExp | null;
  private readonly byPivot = new Map<number, PivotTrigger[]>();
  private readonly passes: PassTrigger[] = [];
  /** Detectors without triggers (operator rules), with a non-global copy for `maybe()`. */
  private readonly always: { d: number; test: RegExp }[] = [];
  /** Per detector: the longest match and the longest lookaround context (regex-bounds.ts). */
  private readonly window: { matchMax: number; context: number }[] = [];
  // Per-call state, reused (masking is synchronous): a detector's cursor is valid while its stamp is the call's.
  private call = 0;
  private readonly stamp: number[];
  private readonly cursor: number[];
  private readonly done: boolean[];
  private readonly found: Found[] = [];

  constructor(specs: readonly DetectorSpec[]) {
    this.specs = specs;
    this.names = specs.map((s) => s.name);
    this.detectors = specs.map((spec) => ({ name: spec.name, kind: spec.kind, scan: (s: string) => scanAll(spec, s) }));
    this.stamp = specs.map(() => 0);
    this.cursor = specs.map(() => 0);
    this.done = specs.map(() => false);
    let minLength = Infinity;
    let pivotMin = Infinity;
    let maxLength = 0;
    const pivotSources: string[] = [];
    specs.forEach((spec, d) => {
      const b = regexBounds(spec.re.source, spec.re.flags);
      this.window.push({ matchMax: b.matchMax, context: b.lookaroundMax });
      minLength = Math.min(minLength, b.min);
      maxLength = Math.max(maxLength, b.max);
      if (spec.triggers === null) {
        this.always.push({ d, test: new RegExp(spec.re.source, spec.re.flags.replace(/[gyd]/g, '')) });
        return;
      }
      for (const t of spec.triggers) {
        if (t.pivot === undefined) {
          this.passes.push({ re: new RegExp(t.source, 'g'), test: new RegExp(t.source), d, min: b.min });
          continue;
        }
        pivotMin = Math.min(pivotMin, b.min);
        pivotSources.push(t.source);
        const sticky = new RegExp(t.source, 'y');
        for (const c of t.pivot) {
          const list = this.byPivot.get(c.charCodeAt(0)) ?? [];
          list.push({ sticky, d });
          this.byPivot.set(c.charCodeAt(0), list);
        }
      }
    });
    this.minLength = minLength;
    this.pivotMin = pivotMin;
    this.maxMatchLength = maxLength;
    const unique = [...new Set(pivotSources)];
    this.pivots = unique.length ? new RegExp(unique.join('|'), 'g') : null;
    this.pivotTest = unique.length ? new RegExp(unique.join('|')) : null;
  }

  maybe(s: string): boolean {
    const n = s.length;
    if (n < this.minLength) return false;
    if (this.pivotTest !== null && n >= this.pivotMin && this.pivotTest.test(s)) return true;
    const passes = this.passes;
    for (let k = 0; k < passes.length; k++) {
      const p = passes[k]!;
      if (n >= p.min && p.test.test(s)) return true;
    }
    const always = this.always;
    for (let k = 0; k < always.length; k++) if (always[k]!.test.test(s)) return true;
    return false;
  }

  mask(s: string): { text: string; hits: Record<string, number> } {
    // The common case, nothing to find, costs what maybe() costs.
    const ranges = this.findings(s);
    if (ranges.length === 0) return { text: s, hits: NO_HITS };
    const hits: Record<string, number> = {};
    let out = '';
    let last = 0; // end of the text copied so far
    for (const r of ranges) {
      out += s.slice(last, r.start) + maskMarker(r.detector);
      last = r.end;
      hits[r.detector] = (hits[r.detector] ?? 0) + 1;
    }
    return { text: out + s.slice(last), hits };
  }

  findings(s: string): FindingRange[] {
    if (!this.maybe(s)) return NO_RANGES;
    const call = ++this.call;
    const found = this.found;
    if (found.length !== 0) found.length = 0;
    const pivots = this.pivots;
    if (pivots !== null) {
      pivots.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = pivots.exec(s)) !== null) {
        const i = m.index;
        const list = this.byPivot.get(s.charCodeAt(i));
        if (list !== undefined) {
          for (const t of list) {
            t.sticky.lastIndex = i;
            if (t.sticky.test(s)) this.run(t.d, s, i, call);
          }
        }
        pivots.lastIndex = i + 1;
      }
    }
    for (const p of this.passes) {
      const re = p.re;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(s)) !== null) {
        const i = m.index;
        this.run(p.d, s, i, call);
        if (this.done[p.d]) break;
        re.lastIndex = Math.max(i + 1, this.cursor[p.d]!);
      }
    }
    for (const a of this.always) {
      let from = 0;
      for (;;) {
        const f = nextMatch(this.specs[a.d]!, s, from);
        if (f === null) break;
        found.push({ start: f.start, end: f.end, d: a.d });
        from = f.next;
      }
    }
    if (found.length === 0) return NO_RANGES;
    return this.merge(s, found);
  }

  /**
   * Runs detector `d` for a trigger at `i`, unless an earlier run already searched past it. A
   * match containing the trigger starts in [i - back, i] and spans at most `matchMax` (plus
   * `context` inspected by lookarounds on either side), so on a long string the regex runs over
   * that window only (a slice shares the string's memory), never to the end of the string.
   */
  private run(d: number, s: string, i: number, call: number): void {
    if (this.stamp[d] !== call) {
      this.stamp[d] = call;
      this.cursor[d] = 0;
      this.done[d] = false;
    }
    const cursor = this.cursor[d]!;
    if (this.done[d] || cursor > i) return;
    const spec = this.specs[d]!;
    const from = Math.max(cursor, i - spec.back);
    const w = this.window[d]!;
    const ws = Math.max(0, from - w.context);
    // Reaches one match length past what the trigger needs, so that a window with nothing in
    // it clears the way for every trigger up to `safe` (below).
    const reach = w.matchMax + w.context;
    const we = Math.min(s.length, i + 2 * reach);
    if (ws === 0 && we === s.length) {
      const f = nextMatch(spec, s, from);
      if (f === null) {
        this.done[d] = true; // searched to the end
        return;
      }
      this.found.push({ start: f.start, end: f.end, d });
      this.cursor[d] = f.next;
      return;
    }
    // A match that starts at or before `safe` lies, with all the context its lookarounds read,
    // inside the window: it is found and judged exactly as in the whole string. Starts after
    // `safe` are searched again by a later trigger's window (or never, if no trigger comes).
    // Moving the cursor past `safe` when the window holds nothing keeps dense triggers linear:
    // without it, every trigger in a run of `@` or `a://` re-scanned a window of its own.
    const safe = we === s.length ? s.length : we - reach;
    const f = nextMatch(spec, s.slice(ws, we), from - ws);
    if (f === null || f.at + ws > safe) {
      this.cursor[d] = f === null ? Math.max(i + 1, safe + 1) : Math.max(i + 1, f.at + ws);
      return;
    }
    this.found.push({ start: f.start + ws, end: f.end + ws, d });
    this.cursor[d] = f.next + ws;
  }

  /**
   * Findings of different detectors that overlap become one range (the union, named after the one
   * that starts first, or the earlier in precedence); a finding inside a marker that is already in
   * the text is dropped, so masking twice changes nothing.
   */
  private merge(s: string, found: Found[]): FindingRange[] {
    found.sort((a, b) => a.start - b.start || a.d - b.d || b.end - a.end);
    let markers: [number, number][] | null = null;
    if (s.includes('[MASKED:')) {
      markers = [];
      MARKER.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = MARKER.exec(s)) !== null) markers.push([m.index, m.index + m[0].length]);
    }
    const out: FindingRange[] = [];
    let cur: FindingRange | null = null;
    for (const f of found) {
      if (markers !== null && markers.some(([a, b]) => f.start >= a && f.end <= b)) continue;
      if (cur !== null && f.start < cur.end) {
        if (f.end > cur.end) cur.end = f.end;
        continue;
      }
      cur = { start: f.start, end: f.end, detector: this.names[f.d]! };
      out.push(cur);
    }
    return out.length ? out : NO_RANGES;
  }
}

/**
 * The detectors that `cfg` turns on: the built-in credential detectors, credit-card numbers
 * unless `pii.creditCard` is false, e-mail and phone numbers only if `pii` turns them on, the
 * operator rules, minus `disable`. Throws a CONFIG_INVALID SluiceError naming the rule for a bad
 * operator rule, a duplicate rule name or an unknown name in `disable`.
 */
export function createDetectors(cfg: DetectorConfig = {}): DetectorSetWithDetectors {
  const builtins = builtinSpecs();
  const customs = (cfg.custom ?? []).map(compileCustomRule);
  const seen = new Set<string>();
  for (const c of customs) {
    if (seen.has(c.name)) throw new SluiceError('CONFIG_INVALID', `custom detector "${c.name.slice(7)}" is defined twice`, { detector: c.name });
    seen.add(c.name);
  }
  const known = new Set([...builtins.map((b) => b.name), ...customs.map((c) => c.name)]);
  const disabled = new Set(cfg.disable ?? []);
  for (const name of disabled) {
    if (!known.has(name)) {
      throw new SluiceError('CONFIG_INVALID', `unknown detector "${name}" in disable (known: ${[...known].join(', ')})`, { detector: name });
    }
  }
  const pii = cfg.pii ?? {};
  const on = (name: string, dflt: boolean): boolean => {
    if (disabled.has(name)) return false;
    if (name === 'email') return pii.email ?? dflt;
    if (name === 'phone') return pii.phone ?? dflt;
    if (name === 'credit-card') return pii.creditCard ?? dflt;
    return dflt;
  };
  const credentials = builtins.filter((b) => b.kind === 'credential' && on(b.name, b.defaultOn));
  const piis = builtins.filter((b) => b.kind === 'pii' && on(b.name, b.defaultOn));
  const card = piis.filter((b) => b.name === 'credit-card');
  const otherPii = piis.filter((b) => b.name !== 'credit-card');
  const specs: DetectorSpec[] = [...credentials, ...card, ...customs.filter((c) => !disabled.has(c.name)), ...otherPii];
  return new Detectors(specs);
}
