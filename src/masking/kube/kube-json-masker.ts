/**
 * Streaming masker for Kubernetes JSON responses (issue #5): a node:stream Transform that takes
 * a response body in chunks — one JSON object (GET, LIST, Table, create/update/patch/dry-run
 * answers, Status) or a watch stream (objects one after another, newline-separated) — and emits
 * the same JSON with masked values, as the bytes arrive, in memory bounded per stream. Anything
 * else (a bare string or number at the top, text) is refused like malformed JSON.
 *
 * How: a validating JSON scanner (the full grammar: strings, escapes, numbers, depth) finds
 * the boundaries of *units* and masks each as it completes:
 * - a document that is a list (`items`) or a Table (`rows`) is never held whole: the envelope
 *   before the array is masked and sent when the array opens, then each element is masked and
 *   sent as it completes, then the envelope after it;
 * - any other document (one Secret, a watch event, a Status) is one unit.
 * A unit larger than `maxElementBytes` fails the stream (MASK_ELEMENT_TOO_LARGE): nothing of it
 * is sent, and the gateway refuses the rest. Malformed JSON fails it too (MASK_UNPARSEABLE),
 * before any byte of the broken unit goes out. Error messages never quote the body.
 *
 * Each unit is masked in one of two ways, with the same rules (compile-rules.ts) and the same
 * result (a test checks both against maskObject on random objects):
 * - **in the scan** — when the unit's kind is settled before its first member (its own `kind` /
 *   `apiVersion` come first, as the API server writes typed objects, or the list's kind says it):
 *   the scanner follows the rule trie while it validates, notes a replacement for each value a
 *   marker / hash rule names (Secret data, a token), masks embedded JSON (last-applied) with the
 *   object masker, and runs every other string value, decoded, through the detectors (`maybe()`,
 *   then `mask()`). The unit goes out as its original bytes with the replacements spliced in:
 *   no objects are built for it, and a Pod with nothing to mask goes out byte for byte;
 * - **by a full parse** — otherwise (kind unknown or late, a detector hit outside a labelled
 *   rule — its count needs the path —, Table rows, watch events, hashing a non-string, envelope
 *   segments): `JSON.parse`, the object masker, and `JSON.stringify` if anything changed or if
 *   the parse dropped a duplicate key (its string count differs from the scan's).
 *
 * **env entries** (`{"name": "POSTGRES_PASSWORD", "value": "…"}`, masked by name:
 * sensitive-env-names.ts): the scan watches the members of an object the rules mark as an env
 * entry, decodes its `name` and, when the name is sensitive, replaces the `value` that follows.
 * The API server writes `name` first (Go field order); when the scan cannot be sure — a value
 * before a sensitive name, a second `name` or `value`, an entry inside an entry — the unit takes
 * the full parse, where the object masker sees the entry whole. Both give the same result.
 *
 * Why a hand-written scanner (measured with bench/masking-kube.ts on the project's shared 2-core
 * machine, 5.1 MB PodList + SecretList in 64 KiB chunks, the real detectors of
 * src/masking/detectors; medians):
 * - `@streamparser/json` 0.0.26 (maintained, the obvious library) only tokenizes, at 10–24 MB/s:
 *   a JS callback per token, before any masking;
 * - a boundary scanner handing each element to `JSON.parse` + the object masker +
 *   `JSON.stringify` (this file with `fastPath: false`): 77–85 MB/s; `JSON.parse` of the same
 *   elements alone runs at 240–246 MB/s here, which leaves a design that parses every element
 *   too little room for scanning, walking and serializing;
 * - this scanner with rules applied in the scan: 139–141 MB/s (PodList 150–157, SecretList
 *   114–124; 120 before the shortcuts below, interleaved runs); a small Secret GET costs
 *   0.009–0.010 ms p50. About 28% of that time is the detectors' `maybe()` on each string
 *   value (mostly its one regex of pivot triggers; with it stubbed out the scan runs at ~200
 *   MB/s), so the issue's 150 MB/s is met with the tests' stand-in detectors, not the real ones.
 * What keeps the scan cheap per token:
 * - control characters (invalid in strings) are found 4 bytes at a time in an ASCII chunk
 *   (nextControlByte, 4× the regex it replaces there);
 * - escapes are checked as the scan meets them; a token is decoded only when something reads
 *   it (the keys of managedFields, `k:{\"name\":…}`, are not) or holds a `\u` to check;
 * - a key is decoded and looked up only when a rule at its position has a key of its length
 *   (RuleNode.keyLengths); the rules of a list's kind are looked up once, not per item;
 * - `:` after a key and `,"` after a member are taken without a turn of the main loop, and a
 *   number of plain digits without the number regex;
 * - replacement text is encoded into the one output buffer of a chunk, not into one of its own.
 * Not done, measured: one `maybe()` over an item's raw text instead of one per string value
 * (every pod carries escaped keys in managedFields and an `@` in its imageIDs, and over the
 * SecretList it costs more than the strings do; it would also need every detector to match in
 * any text around a match, which an operator rule anchored with `^…$` does not); skipping the
 * values the API server writes itself (uid, timestamps…): a detector may match them (the card
 * detector an all-digit uid or resourceVersion), so the output would change.
 * The scanner and the unit hooks share their state in one class because they run per token:
 * split across objects, each token would pay a call and a property hop more.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import type { KubeMasking } from './create-kube-masking.ts';
import { childNodes, elementNodes, isNameEntry, lengthBit, NO_NODES, strongest, type RuleNode } from './compile-rules.ts';
import { MASK_MARKER } from './default-rules.ts';
import { MaskCounter } from './mask-counter.ts';
import { keepsEnvValue } from './sensitive-env-names.ts';
import { StreamText } from './stream-text.ts';
import { groupOf, maskEmbeddedJson, maskUnit, MaskWalk, type UnitShape } from './mask-object.ts';
import { KubeMaskError, type KindHint, type MaskCounts } from './types.ts';

export const DEFAULT_MAX_ELEMENT_BYTES = 8 * 1024 * 1024;

export interface KubeJsonMaskerOptions {
  masking: KubeMasking;
  /**
   * The kind the response's objects are when they do not say (from the request: `secrets` →
   * Secret). Typed lists say it in their own kind, so this matters only for odd answers.
   */
  hint?: KindHint;
  /** Largest unit (list element, watch event, single object, envelope), in characters (bytes for ASCII). */
  maxElementBytes?: number;
  /** false: every unit takes the full parse (for tests and benchmarks). */
  fastPath?: boolean;
}

export interface KubeJsonMasker extends Transform {
  /** What was masked so far (complete after 'end'). */
  counts(): MaskCounts;
}

export function createKubeJsonMasker(opts: KubeJsonMaskerOptions): KubeJsonMasker {
  return new Masker(opts);
}

// Scanner states.
const DOC = 0; // between documents
const VALUE = 1; // a value (after ':' or ',' in an array)
const VALUE_OR_CLOSE = 2; // after '['
const KEY_OR_CLOSE = 3; // after '{'
const KEY = 4; // after ',' in an object
const COLON = 5;
const AFTER = 6; // after a value: ',' or the close of the container
const STRING = 7;
const NUMBER = 8;
const LITERAL = 9;

const OBJ = 0;
const ARR = 1;

// What a string token holds (Masker.strEscaped).
const NO_ESCAPE = 0;
const SIMPLE_ESCAPES = 1; // only escapes of one character, checked by the scan
const OTHER_ESCAPES = 2; // others too (`\u`, or no valid escape): checked by decoding it

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- finding raw control characters (invalid inside JSON strings) is the point
const CONTROL = /[\u0000-\u001f]/g;

/**
 * The 4-byte words of `buf` that start at a multiple of 4 in its memory (a typed-array view
 * must be aligned), and how many bytes come before the first of them.
 */
interface Words {
  i32: Int32Array;
  lead: number;
}

const NO_WORDS = new Int32Array(0);

function wordsOf(buf: Buffer): Words {
  const lead = (4 - (buf.byteOffset & 3)) & 3;
  const count = buf.length >= 64 ? (buf.length - lead) >> 2 : 0; // a short chunk goes byte by byte
  return { i32: count > 0 ? new Int32Array(buf.buffer, buf.byteOffset + lead, count) : NO_WORDS, lead };
}

/**
 * The first byte below 0x20 (a control character) in ASCII `buf` at or after `from`, or
 * buf.length: the CONTROL regex's answer, 4 bytes per step (4× the regex's speed, measured).
 * In a word of ASCII bytes (each < 0x80), `w - 0x20202020` borrows out of the lowest byte below
 * 0x20 and sets that byte's top bit, and sets no top bit when every byte is 0x20 or above: the
 * word test is exact, and the byte loop finds which byte it was.
 */
function nextControlByte(buf: Buffer, words: Words, from: number): number {
  const n = buf.length;
  const { i32, lead } = words;
  let i = from;
  // Up to the next word boundary (or the end) byte by byte, then word by word, then the rest.
  for (; i < n && (i < lead || ((i - lead) & 3) !== 0); i++) if (buf[i]! < 0x20) return i;
  if (i < n) i = lead + (firstLowWord(i32, (i - lead) >> 2) << 2);
  for (; i < n; i++) if (buf[i]! < 0x20) return i;
  return n;
}

/**
 * The first of the words from `k` on with a byte below 0x20, or their count. A function of its
 * own, with nothing after the loop but the return: V8 compiles a long-running loop while it
 * runs (on-stack replacement), before the code after it ever ran, and arithmetic there, without
 * type feedback, sent the compiled code back to the interpreter at every call (measured: a
 * deoptimization per chunk).
 */
function firstLowWord(i32: Int32Array, k: number): number {
  const m = i32.length;
  while (k < m && ((i32[k]! - 0x20202020) & 0x80808080) === 0) k++;
  return k;
}

/** A value that a marker or hash rule replaces, from its first character, at `depth`. */
interface Span {
  start: number;
  depth: number;
  action: 'marker' | 'hash';
  label: string;
}

/** Replacement text for the input between two offsets. */
interface Edit {
  a: number;
  b: number;
  text: string;
}

const MARKER_JSON = JSON.stringify(MASK_MARKER);

const malformed = (at: number, why: string): KubeMaskError =>
  new KubeMaskError('MASK_UNPARSEABLE', `the response is not valid JSON (${why} at character ${at}); it was not passed on`);

class Masker extends Transform implements KubeJsonMasker {
  private readonly masking: KubeMasking;
  private readonly hint: KindHint | undefined;
  private readonly max: number;
  private readonly fast: boolean;
  private readonly walk: MaskWalk;
  private readonly decoder = new StringDecoder('utf8');

  private readonly text = new StreamText();

  // Scanner.
  private state = DOC;
  private stack: number[] = [];
  private strStart = 0;
  private strIsKey = false;
  private strEscaped = 0; // NO_ESCAPE, SIMPLE_ESCAPES or OTHER_ESCAPES
  private pendingEscape = false;
  private tokStart = 0;
  private numPlain = false; // the number token is digits only so far
  private numZero = false; // it starts with 0

  // The document.
  private docStart = 0;
  private segStart = 0; // start of the envelope segment being collected (lists)
  private streaming = false; // inside a streamed items/rows array
  private streamedAny = false;
  private streamKey = '';
  private streamShape: UnitShape = 'object';
  private streamHint: KindHint | undefined;
  private docKind: string | undefined;
  private docGroup: string | undefined;
  private topKey: string | null = null; // the last key of the document object
  private topKeyStart = 0;

  // The unit being scanned.
  private unitActive = false;
  private unitStart = 0;
  private unitRootDepth = 0;
  private unitRootIsObject = false;
  private unitShape: UnitShape = 'object';
  private unitHint: KindHint | undefined;
  private unitCheck = false; // run the detectors on its strings while scanning (fast path candidate)
  private unitSlow = false; // must take the full parse
  private unitKind: string | undefined;
  private unitApiVersion: string | undefined;
  private unitKindKeys = 0;
  private unitApiVersionKeys = 0;
  private capture = 0; // 1: the next value is the unit's kind, 2: its apiVersion
  private unitStrings = 0;
  // Rules applied while scanning (see "in the scan" in the header).
  private tracking = false; // the unit's kind is settled and its trie is being followed
  private trackingDone = false; // it was settled (or found unsettleable) at the first member
  private pos: RuleNode[][] = []; // per depth: an object's trie positions, or an array's element positions
  private pending: RuleNode[] = NO_NODES; // positions of the value after the last key
  private rootNode: RuleNode | null = null; // the rules of the last unit's kind and group (startTracking)
  private rootKind: string | undefined;
  private rootGroup: string | undefined;
  private rootTrackable = false;
  private labs: (string | null)[] = []; // per depth: the field label of a `detectors` rule over the container
  private strLabel: string | null = null; // that label for the string value being scanned
  private span: Span | null = null; // a value being replaced (marker / hash)
  private jsonStart = -1; // the string token holding embedded JSON, by its opening quote
  private jsonLabel = '';
  private lastString = ''; // decoded text of the last string value, while a span wants it
  private lastNull = false;
  private edits: Edit[] = [];
  private labels: string[] = [];
  private embedded: MaskCounter[] = [];
  private hits: Record<string, number>[] = [];
  // Env entries masked by name (see "env entries" in the header).
  private entryDepth = -1; // depth of the members of the env entry being scanned; -1: none
  private entryNames = 0; // its `name` members so far
  private entryValues = 0; // its `value` members so far
  private entrySensitive = false; // its name is a credential's
  private entryNameNext = false; // the next value is its name
  private entryValueNext = false; // the next value is its value, under a sensitive name
  private strNameLabel: string | null = null; // the string value being scanned is masked by name, under this label

  constructor(opts: KubeJsonMaskerOptions) {
    super();
    this.masking = opts.masking;
    this.hint = opts.hint;
    this.max = opts.maxElementBytes ?? DEFAULT_MAX_ELEMENT_BYTES;
    this.fast = opts.fastPath ?? true;
    this.walk = new MaskWalk(opts.masking, new MaskCounter());
  }

  counts(): MaskCounts {
    return this.walk.counter.toCounts();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as unknown as string);
      this.receive(buf, this.decoder.write(buf));
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      const rest = this.decoder.end();
      if (rest.length > 0) this.receive(Buffer.from(rest), rest);
      const text = this.text;
      if (this.state === NUMBER || this.state === LITERAL) this.endToken(text.received);
      if (this.state !== DOC) throw malformed(text.received, 'the document ends early');
      text.pass(text.received);
      for (const b of text.take()) this.push(b);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private receive(buf: Buffer, s: string): void {
    if (s.length === 0) return;
    const text = this.text;
    const off = text.add(buf, s);
    this.scan(s, off, text.lastAscii ? buf : null);
    // Send what is settled; keep only the unit (or envelope segment) still open.
    const keep = this.unitActive ? this.unitStart : this.stack.length > 0 && !this.streaming ? this.segStart : text.received;
    if (text.received - keep > this.max) throw this.tooLarge();
    text.pass(keep);
    for (const b of text.take()) this.push(b);
  }

  private tooLarge(): KubeMaskError {
    return new KubeMaskError('MASK_ELEMENT_TOO_LARGE', `an object in the response is larger than the masking bound of ${this.max} bytes; it was not passed on`);
  }

  // ---- the scanner -------------------------------------------------------------------------

  /** Scans `s`, the text of the chunk `ascii` (given when it is ASCII: then its bytes are its characters). */
  private scan(s: string, off: number, ascii: Buffer | null): void {
    const n = s.length;
    let i = 0;
    let bs = -1; // next backslash in s at or after the last search (n: none)
    let ctl = -1; // next control character
    const words = ascii !== null ? wordsOf(ascii) : null;
    const stack = this.stack;
    while (i < n) {
      const state = this.state;
      if (state === STRING) {
        if (this.pendingEscape) {
          this.pendingEscape = false;
          this.noteEscape(s.charCodeAt(i));
          i++;
          continue;
        }
        let q = s.indexOf('"', i);
        if (q < 0) q = n;
        if (bs < i) {
          bs = s.indexOf('\\', i);
          if (bs < 0) bs = n;
        }
        const stop = bs < q ? bs : q;
        if (ctl < i) {
          if (words !== null) ctl = nextControlByte(ascii!, words, i);
          else {
            CONTROL.lastIndex = i;
            const m = CONTROL.exec(s);
            ctl = m ? m.index : n;
          }
        }
        if (ctl < stop) throw malformed(off + ctl, 'a control character in a string');
        if (bs < q) {
          if (bs + 1 >= n) {
            this.pendingEscape = true;
            i = n;
          } else {
            this.noteEscape(s.charCodeAt(bs + 1));
            i = bs + 2;
          }
          continue;
        }
        if (q === n) {
          i = n;
          continue;
        }
        i = q + 1;
        this.endString(off + q, s, off);
        // What nearly always follows: `:` after a key, `,"` (the next key) after a member's
        // value. Taken here, as the switch below takes them, without a turn of the loop each.
        if (i + 1 < n) {
          const next = this.state;
          if (next === COLON) {
            if (s.charCodeAt(i) === 58) {
              this.state = VALUE;
              i++;
            }
          } else if (next === AFTER && s.charCodeAt(i) === 44 && s.charCodeAt(i + 1) === 34 && stack[stack.length - 1] === OBJ) {
            this.state = STRING;
            this.strStart = off + i + 1;
            this.strIsKey = true;
            this.strEscaped = NO_ESCAPE;
            i += 2;
          }
        }
        continue;
      }
      const c = s.charCodeAt(i);
      if (state === NUMBER) {
        if (c >= 48 && c <= 57) {
          i++;
          continue;
        }
        if (c === 45 || c === 43 || c === 46 || c === 101 || c === 69) {
          this.numPlain = false;
          i++;
          continue;
        }
        this.endToken(off + i);
        continue;
      }
      if (state === LITERAL) {
        if (c >= 97 && c <= 122) {
          i++;
          continue;
        }
        this.endToken(off + i);
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) {
        i++;
        continue;
      }
      const at = off + i;
      switch (state) {
        case DOC:
        case VALUE:
        case VALUE_OR_CLOSE:
          if (c === 93 && state === VALUE_OR_CLOSE) {
            this.close(ARR, at);
            break;
          }
          this.startValue(c, at);
          break;
        case KEY_OR_CLOSE:
        case KEY:
          if (c === 125 && state === KEY_OR_CLOSE) this.close(OBJ, at);
          else if (c === 34) {
            this.state = STRING;
            this.strStart = at;
            this.strIsKey = true;
            this.strEscaped = NO_ESCAPE;
          } else throw malformed(at, 'expected a key');
          break;
        case COLON:
          if (c !== 58) throw malformed(at, "expected ':'");
          this.state = VALUE;
          break;
        case AFTER: {
          const top = stack[stack.length - 1];
          if (c === 44 && top === OBJ && i + 1 < n && s.charCodeAt(i + 1) === 34) {
            // `,"`: the next key starts (as in KEY above), one turn of the loop early
            this.state = STRING;
            this.strStart = at + 1;
            this.strIsKey = true;
            this.strEscaped = NO_ESCAPE;
            i++;
          } else if (c === 44) this.state = top === OBJ ? KEY : VALUE;
          else if (c === 125 && top === OBJ) this.close(OBJ, at);
          else if (c === 93 && top === ARR) this.close(ARR, at);
          else throw malformed(at, "expected ',' or the end of an object or array");
          break;
        }
      }
      i++;
    }
  }

  private startValue(c: number, at: number): void {
    const depth = this.stack.length;
    if (depth === 0) {
      if (c !== 123) throw malformed(at, 'a response is a JSON object');
      this.docStart = at;
      this.segStart = at;
      this.streamedAny = false;
      this.docKind = undefined;
      this.docGroup = undefined;
      this.topKey = null;
      this.beginUnit(at, 1, 'object', this.hint, true);
    } else if (this.streaming && depth === 2) {
      this.beginUnit(at, c === 123 ? 3 : 0, this.streamShape, this.streamHint, c === 123);
    } else if (depth === 1 && c === 91 && this.topKey !== null && (this.topKey === 'items' || this.topKey === 'rows') && this.stack[0] === OBJ) {
      this.startStream(at);
    }
    if (this.capture !== 0 && c !== 34) {
      this.unitSlow = true; // a kind or apiVersion that is not a string
      this.capture = 0;
    }
    // Where the rules are: the positions of this value, and of its members if it is a container.
    let nodes = NO_NODES;
    let label: string | null = null;
    if (this.tracking && this.span === null && depth >= this.unitRootDepth) {
      nodes = this.stack[depth - 1] === OBJ ? this.pending : this.pos[depth]!;
      this.pending = NO_NODES;
      label = this.labs[depth]!;
      if (nodes.length > 0) {
        const rule = strongest(nodes);
        if (rule !== null && (rule.action === 'marker' || rule.action === 'hash')) {
          this.span = { start: at, depth, action: rule.action, label: rule.label! };
          nodes = NO_NODES;
        } else if (rule !== null && rule.action === 'json' && c === 34) {
          this.jsonStart = at;
          this.jsonLabel = rule.label!;
        } else if (rule !== null) label = rule.label;
      }
      if (depth === this.entryDepth && this.entryMember(c, at, depth, nodes)) nodes = NO_NODES;
    }
    if (c === 123) {
      this.stack.push(OBJ);
      if (this.tracking) {
        this.pos[depth + 1] = nodes;
        this.labs[depth + 1] = label;
        if (nodes.length > 0 && isNameEntry(nodes)) this.openEntry(depth + 1);
      }
      this.state = KEY_OR_CLOSE;
    } else if (c === 91) {
      this.stack.push(ARR);
      if (this.tracking) {
        this.pos[depth + 1] = nodes.length > 0 ? elementNodes(nodes) : NO_NODES;
        this.labs[depth + 1] = label;
      }
      this.state = VALUE_OR_CLOSE;
    } else if (c === 34) {
      this.strLabel = label;
      this.state = STRING;
      this.strStart = at;
      this.strIsKey = false;
      this.strEscaped = NO_ESCAPE;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      this.state = NUMBER;
      this.tokStart = at;
      this.numPlain = c !== 45;
      this.numZero = c === 48;
    } else if (c === 116 || c === 102 || c === 110) {
      this.state = LITERAL;
      this.tokStart = at;
    } else throw malformed(at, 'expected a value');
  }

  private beginUnit(at: number, rootDepth: number, shape: UnitShape, hint: KindHint | undefined, rootIsObject: boolean): void {
    this.unitActive = true;
    this.unitStart = at;
    this.unitRootDepth = rootDepth;
    this.unitRootIsObject = rootIsObject;
    this.unitShape = shape;
    this.unitHint = hint;
    this.unitCheck = this.fast && shape === 'object';
    this.unitSlow = false;
    this.unitKind = undefined;
    this.unitApiVersion = undefined;
    this.unitKindKeys = 0;
    this.unitApiVersionKeys = 0;
    this.capture = 0;
    this.unitStrings = 0;
    this.tracking = false;
    this.trackingDone = !this.unitCheck || !rootIsObject;
    this.pending = NO_NODES;
    this.span = null;
    this.jsonStart = -1;
    this.entryDepth = -1;
    this.entryNameNext = false;
    this.entryValueNext = false;
    this.strNameLabel = null;
    if (this.edits.length > 0) this.edits = [];
    if (this.labels.length > 0) this.labels = [];
    if (this.embedded.length > 0) this.embedded = [];
    if (this.hits.length > 0) this.hits = [];
  }

  /**
   * The first member of the unit's root that is not kind/apiVersion: the kind is settled now
   * (its own, else the hint) and the rules of that kind are followed from here. A kind that is
   * unknown, or rules on kind/apiVersion themselves, leave it to the full parse.
   */
  private startTracking(): void {
    this.trackingDone = true;
    const kind = this.unitKind ?? this.unitHint?.kind;
    if (kind === undefined || kind === 'Table' || kind.endsWith('List')) return;
    const group = this.unitApiVersion !== undefined ? groupOf(this.unitApiVersion) : this.unitHint?.apiGroup;
    // The units of a list are of one kind: its rules are looked up once.
    if (this.rootNode === null || kind !== this.rootKind || group !== this.rootGroup) {
      const root = this.masking.rules.forKind(kind, group);
      this.rootNode = root;
      this.rootKind = kind;
      this.rootGroup = group;
      this.rootTrackable = root.anyKey === null && !root.keys?.has('kind') && !root.keys?.has('apiVersion');
    }
    if (!this.rootTrackable) return;
    this.tracking = true;
    this.pos[this.unitRootDepth] = this.rootNode.only;
    this.labs[this.unitRootDepth] = null;
  }

  /** The decoded text of the string token that ends at `q` (escapes validated). */
  private tokenText(q: number, s: string, off: number): string {
    const a = this.strStart + 1;
    const raw = a >= off ? s.slice(a - off, q - off) : this.text.slice(a, q);
    if (this.strEscaped === NO_ESCAPE) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      throw malformed(a, 'a bad escape in a string');
    }
  }

  /**
   * The character after a backslash in a string. `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` are
   * valid as they are (the keys of managedFields hold `\"`); anything else (`\u`, which needs its
   * digits, and what is no escape) is checked by decoding the token when it ends, as JSON.parse
   * does, so a bad one fails there, as before.
   */
  private noteEscape(c: number): void {
    const simple = c === 34 || c === 92 || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116;
    if (!simple) this.strEscaped = OTHER_ESCAPES;
    else if (this.strEscaped === NO_ESCAPE) this.strEscaped = SIMPLE_ESCAPES;
  }

  /** A string token ended at `q` (its closing quote). */
  private endString(q: number, s: string, off: number): void {
    const escaped = this.strEscaped !== NO_ESCAPE;
    // An escaped token is decoded when something looks at it, or to check escapes the scan did not.
    let text = this.strEscaped === OTHER_ESCAPES ? this.tokenText(q, s, off) : null;
    if (!this.unitActive) {
      if (this.strIsKey) {
        this.state = COLON;
        if (this.stack.length === 1 && this.stack[0] === OBJ) this.noteTopKey(q, text, s, off);
      } else this.valueDone(q + 1);
      return;
    }
    this.unitStrings++;
    const depth = this.stack.length;
    if (this.strIsKey) {
      this.state = COLON;
      const len = q - this.strStart - 1;
      if (depth === 1 && this.stack[0] === OBJ) this.noteTopKey(q, text, s, off);
      if (depth === this.unitRootDepth) {
        let k: string | null = null;
        if (len === 4 || len === 10 || len === 5 || len === 6 || escaped) {
          k = text ??= this.tokenText(q, s, off);
          if (k === 'kind' || k === 'apiVersion') {
            if (k === 'kind') {
              this.capture = 1;
              this.unitKindKeys++;
            } else {
              this.capture = 2;
              this.unitApiVersionKeys++;
            }
            if (this.trackingDone) this.unitSlow = true; // the kind is settled: a late or second one is for the full parse
            if (this.tracking) this.pending = NO_NODES;
            return;
          }
          if (k === 'items' || k === 'rows' || k === 'object') this.unitSlow = true;
        }
        if (!this.trackingDone) this.startTracking();
      }
      if (this.tracking && this.span === null) {
        const at = this.pos[depth]!;
        if (at.length === 0) this.pending = NO_NODES;
        else if (at.length === 1 && at[0]!.anyKey === null && (at[0]!.keyLengths & lengthBit(len)) === 0 && !escaped && depth !== this.entryDepth) {
          this.pending = NO_NODES; // no key of its length: not decoded (childNodes would say the same)
        } else {
          const k = (text ??= this.tokenText(q, s, off));
          this.pending = childNodes(at, k);
          if (depth === this.entryDepth) this.entryKey(k);
        }
      }
      return;
    }
    if (this.capture !== 0) {
      if (depth === this.unitRootDepth) {
        if (this.capture === 1) this.unitKind = text ??= this.tokenText(q, s, off);
        else this.unitApiVersion = text ??= this.tokenText(q, s, off);
      }
      this.capture = 0;
    }
    if (this.entryNameNext) this.entryName((text ??= this.tokenText(q, s, off)));
    if (this.span !== null) {
      if (this.span.action === 'hash' && this.span.start === this.strStart) this.lastString = text ?? this.tokenText(q, s, off);
    } else if (this.jsonStart === this.strStart) {
      this.jsonStart = -1;
      if (!this.unitSlow) this.maskJsonToken(this.strStart, q + 1, text ?? this.tokenText(q, s, off));
    } else if (this.strNameLabel !== null && this.maskByName(q, s, off, text)) {
      // replaced: the value of an env entry named like a credential
    } else if (this.unitCheck && !this.unitSlow) {
      const v = (text ??= this.tokenText(q, s, off));
      const d = this.masking.detectors;
      if (d.maybe(v)) {
        const r = d.mask(v);
        if (r.text !== v) {
          // Under a rule's label the scan edits it; a hit elsewhere is labelled by its path: the full walk has it.
          if (this.tracking && this.strLabel !== null) {
            this.edits.push({ a: this.strStart, b: q + 1, text: JSON.stringify(r.text) });
            this.labels.push(this.strLabel);
            this.hits.push(r.hits);
          } else this.unitSlow = true;
        }
      }
    }
    this.valueDone(q + 1);
  }

  /**
   * An object whose members are an env entry's (`env[*]` of a rule that masks by name) opens:
   * its `name` and `value` are watched. One at a time: a nested one is left to the full parse.
   */
  private openEntry(depth: number): void {
    if (this.entryDepth !== -1) {
      this.unitSlow = true;
      return;
    }
    this.entryDepth = depth;
    this.entryNames = 0;
    this.entryValues = 0;
    this.entrySensitive = false;
  }

  /**
   * A key of the env entry being scanned. The API server writes `name` before `value`; a value
   * before a sensitive name, or a second name or value (JSON.parse keeps the last), is left to
   * the full parse, which sees the entry whole.
   */
  private entryKey(k: string): void {
    if (k === 'name') {
      if (this.entryNames++ > 0) this.unitSlow = true;
      this.entryNameNext = true;
    } else if (k === 'value') {
      if (this.entryValues++ > 0) this.unitSlow = true;
      this.entryValueNext = this.entrySensitive;
    }
  }

  /**
   * A member value of the env entry starts. Its name: one that is no string is no credential's.
   * Its value, after a sensitive name, where the strongest rule is the env rule: a string is
   * decided at its end (empty and $(VAR) stay), null stays, anything else is replaced whole
   * (true: a span was opened, the value's members follow no rule).
   */
  private entryMember(c: number, at: number, depth: number, nodes: RuleNode[]): boolean {
    const valueNext = this.entryValueNext;
    this.entryValueNext = false;
    if (this.entryNameNext && c !== 34) this.entryNameNext = false;
    if (!valueNext || nodes.length === 0) return false;
    const nameLabel = strongest(nodes)?.nameLabel ?? null;
    if (nameLabel === null || c === 110) return false;
    if (c === 34) {
      this.strNameLabel = nameLabel;
      return false;
    }
    this.span = { start: at, depth, action: 'marker', label: nameLabel };
    return true;
  }

  /** The env entry's name (a string value) ended. */
  private entryName(name: string): void {
    this.entryNameNext = false;
    this.entrySensitive = this.masking.sensitiveEnvName(name);
    if (this.entrySensitive && this.entryValues > 0) this.unitSlow = true; // its value came first and was not masked by name
  }

  /** The string value under a sensitive name ended: replaced by the marker unless it hides nothing. */
  private maskByName(q: number, s: string, off: number, text: string | null): boolean {
    const label = this.strNameLabel!;
    this.strNameLabel = null;
    if (keepsEnvValue(text ?? this.tokenText(q, s, off))) return false;
    this.edits.push({ a: this.strStart, b: q + 1, text: MARKER_JSON });
    this.labels.push(label);
    return true;
  }

  private noteTopKey(q: number, text: string | null, s: string, off: number): void {
    const len = q - this.strStart - 1;
    this.topKey = len === 5 || len === 4 || this.strEscaped !== NO_ESCAPE ? (text ?? this.tokenText(q, s, off)) : '';
    this.topKeyStart = this.strStart;
  }

  /** Embedded JSON (last-applied-configuration) found by the scan: masked as the full walk does. */
  private maskJsonToken(a: number, b: number, value: string): void {
    const w = new MaskWalk(this.masking, new MaskCounter());
    const out = maskEmbeddedJson(value, this.jsonLabel, w);
    if (!w.counter.empty) this.embedded.push(w.counter);
    if (out !== value) this.edits.push({ a, b, text: JSON.stringify(out) });
  }

  /** A number or literal ended before `at`. */
  private endToken(at: number): void {
    const start = this.tokStart;
    // Digits alone (most numbers: ports, counts, modes) are valid unless a 0 leads more digits.
    if (this.state === NUMBER && this.numPlain && (!this.numZero || at - start === 1)) {
      this.valueDone(at);
      return;
    }
    // The token is in the last part unless a chunk ended inside it.
    const last = this.text.last();
    const inLast = start >= last.start;
    const t = inLast ? last.s : this.text.slice(start, at);
    const from = inLast ? start - last.start : 0;
    const len = at - start;
    let ok: boolean;
    if (this.state === NUMBER) {
      NUMBER_TOKEN.lastIndex = from;
      ok = NUMBER_TOKEN.exec(t)?.[0].length === len;
    } else {
      this.lastNull = len === 4 && t.startsWith('null', from);
      ok = this.lastNull || (len === 4 && t.startsWith('true', from)) || (len === 5 && t.startsWith('false', from));
    }
    if (!ok) throw malformed(start, 'a bad number or literal');
    this.valueDone(at);
  }

  private close(kind: number, at: number): void {
    const stack = this.stack;
    if (stack.pop() !== kind) throw malformed(at, 'a mismatched bracket');
    const depth = stack.length;
    if (depth + 1 === this.entryDepth) this.entryDepth = -1;
    if (depth === 1 && this.streaming && kind === ARR) {
      this.streaming = false;
      this.segStart = at + 1;
    } else if (depth === 0 && this.streamedAny) {
      this.endSegment(at);
      this.state = DOC;
      return;
    }
    this.valueDone(at + 1);
  }

  /** A value ended at `end`: a document, a streamed element, or anything inside them. */
  private valueDone(end: number): void {
    const depth = this.stack.length;
    if (this.span !== null && depth === this.span.depth) this.endSpan(end);
    if (depth === 0) {
      this.state = DOC;
      if (this.unitActive) this.endUnit(end);
      return;
    }
    this.state = AFTER;
    if (this.streaming && depth === 2 && this.unitActive) this.endUnit(end);
  }

  // ---- units and envelopes -------------------------------------------------------------------

  /** The value of a marker / hash rule ended: note its replacement (null stays null). */
  private endSpan(end: number): void {
    const span = this.span!;
    this.span = null;
    const c = this.text.charCodeAt(span.start);
    if (c === 110 && this.lastNull && end - span.start === 4) return;
    if (span.action === 'hash') {
      if (c !== 34) {
        this.unitSlow = true; // hashing a non-string takes its canonical JSON: the full parse has it
        return;
      }
      this.edits.push({ a: span.start, b: end, text: JSON.stringify(this.masking.hash(this.lastString)) });
    } else this.edits.push({ a: span.start, b: end, text: MARKER_JSON });
    this.labels.push(span.label);
  }

  private endUnit(end: number): void {
    this.unitActive = false;
    if (end - this.unitStart > this.max) throw this.tooLarge();
    if (this.finishInScan()) return;
    const text = this.text.slice(this.unitStart, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw malformed(this.unitStart, 'an element does not parse');
    }
    const w = this.walk;
    w.changed = false;
    w.strings = 0;
    const out = maskUnit(value, this.unitShape, this.unitHint, w);
    if (w.changed || w.strings !== this.unitStrings) this.text.replace(this.unitStart, end, JSON.stringify(out));
  }

  /**
   * Whether the scan did the whole job: the rules of the unit's settled kind were applied to the
   * values they name (edits), and every other string value went through the detectors, which
   * changed none. Then the unit goes out as its own bytes with the edits spliced in.
   */
  private finishInScan(): boolean {
    if (!this.unitCheck || this.unitSlow) return false;
    if (this.unitRootIsObject) {
      if (this.unitKindKeys > 1 || this.unitApiVersionKeys > 1) return false;
      if (!this.trackingDone) this.startTracking(); // a root with nothing but kind/apiVersion
      if (!this.tracking) return false;
    }
    for (const e of this.edits) this.text.replace(e.a, e.b, e.text);
    const counter = this.walk.counter;
    const labels = this.labels;
    for (let k = 0; k < labels.length; ) {
      // runs of one label (a Secret's data values) counted at once
      const label = labels[k]!;
      let m = k + 1;
      while (m < labels.length && labels[m] === label) m++;
      counter.field(label, m - k);
      k = m;
    }
    for (const c of this.embedded) counter.merge(c);
    for (const h of this.hits) counter.hits(h);
    return true;
  }

  /** Parses an envelope segment (`{…,` / `,…,` / `,…}`) as the object of its members. */
  private segment(a: number, b: number): Record<string, unknown> {
    let t = this.text.slice(a, b).trim();
    if (t.startsWith('{') || t.startsWith(',')) t = t.slice(1).trim();
    if (t.endsWith(',')) t = t.slice(0, -1);
    try {
      return JSON.parse(`{${t}}`) as Record<string, unknown>;
    } catch {
      throw malformed(a, 'the envelope does not parse');
    }
  }

  /** Masks an envelope segment and returns its members as JSON text (no braces). */
  private maskSegment(obj: Record<string, unknown>): string {
    const hint: KindHint | undefined = this.docKind !== undefined ? { kind: this.docKind, apiGroup: this.docGroup } : this.hint;
    const out = maskUnit(obj, 'object', hint, this.walk);
    return JSON.stringify(out).slice(1, -1);
  }

  private noteDocKind(obj: Record<string, unknown>): void {
    if (typeof obj.kind === 'string') this.docKind = obj.kind;
    if (typeof obj.apiVersion === 'string') this.docGroup = groupOf(obj.apiVersion);
  }

  /** `[` of `items` or `rows` in the document object: stream its elements if the document is a list / Table. */
  private startStream(at: number): void {
    const key = this.topKey!;
    const keyStart = this.topKeyStart;
    if (keyStart - this.segStart > this.max) throw this.tooLarge();
    const obj = this.segment(this.segStart, keyStart);
    this.noteDocKind(obj);
    const kind = this.docKind;
    if (key === 'items' ? kind !== undefined && !kind.endsWith('List') : kind !== undefined && kind !== 'Table') return; // an ordinary member
    const inner = this.maskSegment(obj);
    const head = this.segStart === this.docStart ? `{${inner}${inner ? ',' : ''}` : `${inner ? `,${inner}` : ''},`;
    this.text.replace(this.segStart, at + 1, `${head}${JSON.stringify(key)}:[`);
    this.unitActive = false; // the document is not one unit
    this.streaming = true;
    this.streamedAny = true;
    this.streamKey = key;
    this.streamShape = key === 'rows' ? 'row' : 'object';
    this.streamHint = key === 'items' && kind !== undefined && kind.length > 4 ? { kind: kind.slice(0, -4), apiGroup: this.docGroup } : this.hint;
  }

  /** The closing `}` of a document whose arrays were streamed: the envelope after the last one. */
  private endSegment(at: number): void {
    if (at + 1 - this.segStart > this.max) throw this.tooLarge();
    const obj = this.segment(this.segStart, at);
    const before = this.docKind;
    this.noteDocKind(obj);
    const kind = this.docKind;
    // The kind came after the array and says it was no list: its elements were masked under the wrong rules.
    if (before === undefined && kind !== undefined && (this.streamKey === 'items' ? !kind.endsWith('List') : kind !== 'Table')) {
      throw malformed(at, `a kind that follows its ${this.streamKey} and is not a list`);
    }
    const inner = this.maskSegment(obj);
    this.text.replace(this.segStart, at + 1, `${inner ? `,${inner}` : ''}}`);
  }
}
