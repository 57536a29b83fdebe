/**
 * Decoding of Kubernetes protobuf request bodies into JSON: the gateway decides on it (policy
 * conditions over `object`), the emulator acts on it.
 *
 * Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go): the 4-byte magic
 * "k8s\0" followed by a runtime.Unknown message (k8s.io/apimachinery/pkg/runtime/generated.proto:
 * typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3, contentType = 4) whose
 * `raw` field holds the object encoded with the generated.proto of its API group. kubectl ≥ 1.33
 * sends protobuf for every typed-client write of a built-in kind (`create configmap|secret|ns|…`,
 * `run`), and every version does for the self reviews and TokenRequest; the messages are described
 * in ./protobuf-schema.ts.
 *
 * The result is the JSON the API server's own decode-then-encode would give: the Go encoding/json
 * rendering of the typed object (omitempty, pointers, inlined embedded structs, Time as RFC 3339
 * or null, IntOrString, Quantity, bytes as base64). Where the API server silently skips a protobuf
 * field it does not know, decoding fails naming the field path (ProtobufDecodeError): the emulator
 * answers 415, the gateway lets policy conditions over the object fail closed.
 */
import protobuf from 'protobufjs';
import { KINDS, MESSAGES } from './protobuf-schema.ts';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export class ProtobufDecodeError extends Error {}

export function isProtobuf(contentType: string): boolean {
  return contentType.split(';')[0]?.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

// ---------------------------------------------------------------------------------------------
// Schema

type Scalar = 'string' | 'bool' | 'int32' | 'int64' | 'bytes';
const SCALARS = new Set<string>(['string', 'bool', 'int32', 'int64', 'bytes']);
/** Messages with a JSON rendering of their own (their Go types implement json.Marshaler). */
const SPECIAL = new Set<string>(['Time', 'IntOrString', 'Quantity', 'FieldsV1', 'ExtraValue']);

interface FieldDef {
  json: string;
  no: number;
  /** Scalar or message name (element type for lists and maps). */
  type: string;
  repeated: boolean;
  map: boolean;
  pointer: boolean;
  keep: boolean;
  inline: boolean;
}
interface MessageDef {
  name: string;
  byNo: Map<number, FieldDef>;
  fields: FieldDef[];
}

function parseMessage(name: string, spec: string): MessageDef {
  const fields = spec
    .split(/\s+/)
    .filter(Boolean)
    .map((f): FieldDef => {
      const [json = '', no = '', rawType = '', flags = ''] = f.split(':');
      const repeated = rawType.startsWith('[]');
      const map = rawType.startsWith('{');
      const type = repeated ? rawType.slice(2) : map ? rawType.slice(1, -1) : rawType;
      return { json, no: Number(no), type, repeated, map, pointer: flags.includes('p'), keep: flags.includes('k'), inline: flags.includes('i') };
    });
  return { name, fields, byNo: new Map(fields.map((f) => [f.no, f])) };
}

const SCHEMA = new Map(Object.entries(MESSAGES).map(([name, spec]) => [name, parseMessage(name, spec)]));

function message(name: string): MessageDef | undefined {
  return SCHEMA.get(name);
}

// ---------------------------------------------------------------------------------------------
// Decoding

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
/** time.Time{}.Unix(): Go's zero time, which IsZero() and marshals to JSON null. */
const GO_ZERO_TIME_UNIX = -62135596800;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

function isScalar(t: string): t is Scalar {
  return SCALARS.has(t);
}

function wireTypeOf(t: string): number {
  return t === 'bool' || t === 'int32' || t === 'int64' ? WIRE_VARINT : WIRE_LEN;
}

function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const n = Number(String(v));
  if (!Number.isSafeInteger(n)) throw new ProtobufDecodeError(`integer ${String(v)} is out of the range the emulator can represent`);
  return n;
}

function readScalar(r: protobuf.Reader, t: Scalar): Json {
  switch (t) {
    case 'string':
      return r.string();
    case 'bool':
      return r.bool();
    case 'int32':
      return r.int32();
    case 'int64':
      return longToNumber(r.int64());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
  }
}

function zeroScalar(t: Scalar): Json {
  return t === 'string' || t === 'bytes' ? '' : t === 'bool' ? false : 0;
}

function readLen(r: protobuf.Reader): Uint8Array {
  return r.bytes();
}

/** One field's raw occurrences while a message is being read. */
interface Seen {
  values: Json[];
  /** Map entries in wire order. */
  entries: [string, Json][];
}

class Decoder {
  constructor(private readonly what: string) {}

  fail(path: string, msg: string): never {
    throw new ProtobufDecodeError(`${this.what}: ${path ? `${path}: ` : ''}${msg}`);
  }

  /** Decode a message to its Go JSON rendering (special messages included). */
  message(typeName: string, buf: Uint8Array, path: string): Json {
    switch (typeName) {
      case 'Time':
        return this.time(buf, path);
      case 'IntOrString':
        return this.intOrString(buf, path);
      case 'Quantity':
        return this.quantity(buf, path);
      case 'FieldsV1':
        return this.fieldsV1(buf, path);
      case 'ExtraValue':
        return this.extraValue(buf, path);
    }
    const def = message(typeName);
    if (!def) this.fail(path, `the emulator cannot decode ${typeName} from protobuf; send application/json`);
    const seen = new Map<number, Seen>();
    const r = protobuf.Reader.create(buf);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const no = tag >>> 3;
      const wire = tag & 7;
      const f = def.byNo.get(no);
      if (!f) this.fail(path, `unknown field number ${no} in ${typeName}; refusing to drop it`);
      const fpath = join(path, f.json, f.inline);
      const s = seen.get(no) ?? { values: [], entries: [] };
      seen.set(no, s);
      if (f.map) {
        if (wire !== WIRE_LEN) this.fail(fpath, `wire type ${wire} for a map entry`);
        s.entries.push(this.mapEntry(f, readLen(r), fpath));
      } else if (isScalar(f.type)) {
        const want = wireTypeOf(f.type);
        if (f.repeated && want === WIRE_VARINT && wire === WIRE_LEN) {
          const packed = protobuf.Reader.create(readLen(r));
          while (packed.pos < packed.len) s.values.push(readScalar(packed, f.type));
        } else {
          if (wire !== want) this.fail(fpath, `wire type ${wire} where ${f.type} needs ${want}`);
          s.values.push(readScalar(r, f.type));
        }
      } else {
        if (wire !== WIRE_LEN) this.fail(fpath, `wire type ${wire} for a message`);
        const idx = f.repeated ? `${fpath}[${s.values.length}]` : fpath;
        s.values.push(this.message(f.type, readLen(r), idx));
      }
    }
    return this.render(def, seen, path);
  }

  private mapEntry(f: FieldDef, buf: Uint8Array, path: string): [string, Json] {
    const r = protobuf.Reader.create(buf);
    let key = '';
    let value: Json = isScalar(f.type) ? zeroScalar(f.type) : this.message(f.type, new Uint8Array(), path);
    while (r.pos < r.len) {
      const tag = r.uint32();
      const no = tag >>> 3;
      const wire = tag & 7;
      if (no === 1 && wire === WIRE_LEN) key = r.string();
      else if (no === 2 && isScalar(f.type) && wire === wireTypeOf(f.type)) value = readScalar(r, f.type);
      else if (no === 2 && !isScalar(f.type) && wire === WIRE_LEN) value = this.message(f.type, readLen(r), `${path}[${JSON.stringify(key)}]`);
      else this.fail(path, `unexpected field ${no} (wire type ${wire}) in a map entry`);
    }
    return [key, value];
  }

  /** Go encoding/json of the decoded struct. */
  private render(def: MessageDef, seen: Map<number, Seen>, path: string): Obj {
    const out: Obj = {};
    for (const f of def.fields) {
      const s = seen.get(f.no);
      if (f.map) {
        if (s && s.entries.length > 0) out[f.json] = Object.fromEntries(s.entries);
        else if (f.keep) out[f.json] = null;
        continue;
      }
      if (f.repeated) {
        if (s && s.values.length > 0) out[f.json] = s.values;
        else if (f.keep) out[f.json] = null;
        continue;
      }
      const present = s !== undefined && s.values.length > 0;
      if (isScalar(f.type)) {
        const v = present ? (s.values[s.values.length - 1] as Json) : zeroScalar(f.type);
        if (f.pointer) {
          if (present) out[f.json] = v;
          else if (f.keep) out[f.json] = null;
        } else if (f.keep || v !== zeroScalar(f.type)) out[f.json] = v;
        continue;
      }
      // A message: proto merges repeated occurrences; kubectl never sends them twice, refuse instead.
      if (present && s.values.length > 1) this.fail(join(path, f.json, f.inline), 'the message is given more than once');
      let v: Json | undefined = present ? (s.values[0] as Json) : undefined;
      if (v === undefined) {
        if (f.pointer) {
          if (f.keep) out[f.json] = null;
          continue;
        }
        // A non-pointer struct Go would still render (gogo writes them always; be robust).
        if (!SPECIAL.has(f.type) && !message(f.type)) continue;
        v = this.message(f.type, new Uint8Array(), join(path, f.json, f.inline));
      }
      if (f.inline && v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, v);
      else out[f.json] = v;
    }
    return out;
  }

  /**
   * metav1.Time: {seconds = 1, nanos = 2}, written empty for the zero time (Time.Marshal). Decoded
   * like Time.Unmarshal: empty is the zero time (JSON null), nanos are dropped; JSON is RFC 3339 in UTC.
   */
  private time(buf: Uint8Array, path: string): Json {
    if (buf.length === 0) return null;
    const r = protobuf.Reader.create(buf);
    let seconds = 0;
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x08) seconds = longToNumber(r.int64());
      else if (tag === 0x10) r.int32();
      else this.fail(path, `unknown field ${tag >>> 3} in Time`);
    }
    if (seconds === GO_ZERO_TIME_UNIX) return null;
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) this.fail(path, `time out of range: ${seconds}`);
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** intstr.IntOrString: {type = 1 (0 int, 1 string), intVal = 2, strVal = 3}. */
  private intOrString(buf: Uint8Array, path: string): Json {
    const r = protobuf.Reader.create(buf);
    let type = 0;
    let intVal = 0;
    let strVal = '';
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x08) type = longToNumber(r.int64());
      else if (tag === 0x10) intVal = r.int32();
      else if (tag === 0x1a) strVal = r.string();
      else this.fail(path, `unknown field ${tag >>> 3} in IntOrString`);
    }
    if (type === 0) return intVal;
    if (type === 1) return strVal;
    return this.fail(path, `impossible IntOrString.Type: ${type}`);
  }

  /** resource.Quantity: {string = 1}, already canonical on the wire; JSON is the string ("0" when empty). */
  private quantity(buf: Uint8Array, path: string): Json {
    const r = protobuf.Reader.create(buf);
    let s = '';
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x0a) s = r.string();
      else this.fail(path, `unknown field ${tag >>> 3} in Quantity`);
    }
    return s === '' ? '0' : s;
  }

  /** metav1.FieldsV1: {Raw = 1} holding JSON. */
  private fieldsV1(buf: Uint8Array, path: string): Json {
    const r = protobuf.Reader.create(buf);
    let raw: Uint8Array = new Uint8Array();
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x0a) raw = r.bytes();
      else this.fail(path, `unknown field ${tag >>> 3} in FieldsV1`);
    }
    if (raw.length === 0) return null;
    try {
      return JSON.parse(Buffer.from(raw).toString('utf8')) as Json;
    } catch {
      return this.fail(path, 'FieldsV1 does not hold JSON');
    }
  }

  /** authentication ExtraValue: {items = 1 repeated string}; Go type []string. */
  private extraValue(buf: Uint8Array, path: string): Json {
    const r = protobuf.Reader.create(buf);
    const items: Json[] = [];
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 0x0a) items.push(r.string());
      else this.fail(path, `unknown field ${tag >>> 3} in ExtraValue`);
    }
    return items.length ? items : null;
  }
}

function join(path: string, name: string, inline: boolean): string {
  if (inline) return path;
  return path ? `${path}.${name}` : name;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
  contentType: string;
}

/** runtime.Unknown, read by hand so that a truncated body is an error rather than a partial object. */
function readEnvelope(buf: Uint8Array): Envelope {
  const env: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(), contentEncoding: '', contentType: '' };
  const r = protobuf.Reader.create(buf);
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: {
        const tm = protobuf.Reader.create(r.bytes());
        while (tm.pos < tm.len) {
          const t = tm.uint32();
          if (t === 0x0a) env.apiVersion = tm.string();
          else if (t === 0x12) env.kind = tm.string();
          else tm.skipType(t & 7);
        }
        break;
      }
      case 0x12:
        env.raw = r.bytes();
        break;
      case 0x1a:
        env.contentEncoding = r.string();
        break;
      case 0x22:
        env.contentType = r.string();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return env;
}

/**
 * Decode a protobuf request body into a JSON object with apiVersion and kind. Throws
 * ProtobufDecodeError for a body without the magic, a malformed envelope or object, a kind this
 * emulator cannot decode, or a field it cannot render (the message names the field path).
 */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ProtobufDecodeError('provided value is not a Kubernetes protobuf object: missing the "k8s\\x00" prefix');
  }
  let env: Envelope;
  try {
    env = readEnvelope(body.subarray(4));
  } catch (e) {
    throw new ProtobufDecodeError(`malformed protobuf envelope: ${(e as Error).message}`);
  }
  const { apiVersion, kind } = env;
  if (env.contentEncoding) throw new ProtobufDecodeError(`unsupported protobuf content encoding ${JSON.stringify(env.contentEncoding)}`);
  const typeName = KINDS[`${apiVersion}/${kind}`];
  if (!typeName) {
    throw new ProtobufDecodeError(`the emulator cannot decode protobuf bodies of kind ${JSON.stringify(`${apiVersion}, Kind=${kind}`)}; send application/json`);
  }
  const what = `${apiVersion}, Kind=${kind}`;
  let obj: Json;
  try {
    obj = new Decoder(what).message(typeName, env.raw, '');
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw e;
    throw new ProtobufDecodeError(`malformed ${kind} protobuf: ${(e as Error).message}`);
  }
  return { kind, apiVersion, ...(obj as Obj) };
}

// ---------------------------------------------------------------------------------------------
// Encoding (tests and tools): the JSON form back to protobuf, field by field.

class Encoder {
  /** Write the fields of `v` as message `typeName`; `strict` refuses keys the message lacks. */
  message(typeName: string, v: unknown, w: protobuf.Writer, path: string, strict = true): void {
    switch (typeName) {
      case 'Time': {
        if (typeof v !== 'string') return;
        w.uint32(0x08).int64(Math.floor(Date.parse(v) / 1000));
        return;
      }
      case 'IntOrString':
        if (typeof v === 'number') w.uint32(0x08).int64(0).uint32(0x10).int32(v);
        else w.uint32(0x08).int64(1).uint32(0x1a).string(String(v));
        return;
      case 'Quantity':
        w.uint32(0x0a).string(String(v));
        return;
      case 'FieldsV1':
        w.uint32(0x0a).bytes(Buffer.from(JSON.stringify(v)));
        return;
      case 'ExtraValue':
        for (const s of (v as unknown[]) ?? []) w.uint32(0x0a).string(String(s));
        return;
    }
    const def = message(typeName);
    if (!def) throw new ProtobufDecodeError(`cannot encode ${typeName} at ${path || '<root>'}`);
    const o = (v ?? {}) as Record<string, unknown>;
    const known = new Set<string>();
    for (const f of def.fields) {
      if (f.inline) {
        const sub = message(f.type);
        for (const sf of sub?.fields ?? []) known.add(sf.json);
        const w2 = protobuf.Writer.create();
        this.message(f.type, o, w2, path, false);
        w.uint32((f.no << 3) | WIRE_LEN).bytes(w2.finish());
        continue;
      }
      known.add(f.json);
      const x = o[f.json];
      if (x === undefined || x === null) continue;
      const fpath = path ? `${path}.${f.json}` : f.json;
      if (f.map) {
        for (const [k, val] of Object.entries(x as Record<string, unknown>)) {
          const e = protobuf.Writer.create();
          e.uint32(0x0a).string(k);
          this.value(f, 2, val, e, `${fpath}.${k}`);
          w.uint32((f.no << 3) | WIRE_LEN).bytes(e.finish());
        }
      } else if (f.repeated) {
        (x as unknown[]).forEach((val, i) => this.value(f, f.no, val, w, `${fpath}[${i}]`));
      } else this.value(f, f.no, x, w, fpath);
    }
    if (!strict) return;
    for (const k of Object.keys(o)) {
      if (known.has(k) || (path === '' && (k === 'apiVersion' || k === 'kind'))) continue;
      throw new ProtobufDecodeError(`cannot encode field ${path ? `${path}.${k}` : k} of ${typeName}`);
    }
  }

  private value(f: FieldDef, no: number, v: unknown, w: protobuf.Writer, path: string): void {
    switch (f.type) {
      case 'string':
        w.uint32((no << 3) | WIRE_LEN).string(String(v));
        return;
      case 'bytes':
        w.uint32((no << 3) | WIRE_LEN).bytes(Buffer.from(String(v), 'base64'));
        return;
      case 'bool':
        w.uint32((no << 3) | WIRE_VARINT).bool(Boolean(v));
        return;
      case 'int32':
        w.uint32((no << 3) | WIRE_VARINT).int32(Number(v));
        return;
      case 'int64':
        w.uint32((no << 3) | WIRE_VARINT).int64(Number(v));
        return;
    }
    const sub = protobuf.Writer.create();
    this.message(f.type, v, sub, path);
    w.uint32((no << 3) | WIRE_LEN).bytes(sub.finish());
  }
}

/** Encode a JSON object as a protobuf body (tests and tools; the same kinds the decoder knows). */
export function encodeProtobufBody(obj: { apiVersion: string; kind: string; [k: string]: unknown }): Buffer {
  const typeName = KINDS[`${obj.apiVersion}/${obj.kind}`];
  if (!typeName) throw new ProtobufDecodeError(`cannot encode ${obj.apiVersion}/${obj.kind}`);
  const w = protobuf.Writer.create();
  new Encoder().message(typeName, obj, w, '');
  const raw = w.finish();
  const tm = protobuf.Writer.create().uint32(0x0a).string(obj.apiVersion).uint32(0x12).string(obj.kind).finish();
  const env = protobuf.Writer.create().uint32(0x0a).bytes(tm).uint32(0x12).bytes(raw).finish();
  return Buffer.concat([PROTOBUF_MAGIC, env]);
}
