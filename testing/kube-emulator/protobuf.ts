/**
 * Decoding of Kubernetes protobuf request bodies into the JSON the rest of the emulator speaks.
 *
 * Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf/protobuf.go): the 4-byte magic
 * "k8s\0" followed by a runtime.Unknown message (k8s.io/apimachinery/pkg/runtime/generated.proto)
 * whose `raw` field holds the object encoded with the generated.proto of its API group. Only the
 * kinds clients actually post as protobuf are described here: the self reviews (`kubectl auth
 * can-i`, `kubectl auth whoami`) and TokenRequest. Field numbers are those of
 * k8s.io/api/{authorization,authentication}/v1/generated.proto and
 * k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
 */
import protobuf from 'protobufjs';

export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const PROTO = `
syntax = "proto2";
package k8s;

message TypeMeta { optional string apiVersion = 1; optional string kind = 2; }
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}

message Time { optional int64 seconds = 1; optional int32 nanos = 2; }
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated string finalizers = 14;
}

message FieldSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message FieldSelectorAttributes { optional string rawSelector = 1; repeated FieldSelectorRequirement requirements = 2; }
message LabelSelectorRequirement { optional string key = 1; optional string operator = 2; repeated string values = 3; }
message LabelSelectorAttributes { optional string rawSelector = 1; repeated LabelSelectorRequirement requirements = 2; }
message ResourceAttributes {
  optional string namespace = 1;
  optional string verb = 2;
  optional string group = 3;
  optional string version = 4;
  optional string resource = 5;
  optional string subresource = 6;
  optional string name = 7;
  optional FieldSelectorAttributes fieldSelector = 8;
  optional LabelSelectorAttributes labelSelector = 9;
}
message NonResourceAttributes { optional string path = 1; optional string verb = 2; }
message SelfSubjectAccessReviewSpec {
  optional ResourceAttributes resourceAttributes = 1;
  optional NonResourceAttributes nonResourceAttributes = 2;
}
message SubjectAccessReviewStatus {
  optional bool allowed = 1;
  optional string reason = 2;
  optional string evaluationError = 3;
  optional bool denied = 4;
}
message SelfSubjectAccessReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectAccessReviewSpec spec = 2;
  optional SubjectAccessReviewStatus status = 3;
}
message SelfSubjectRulesReviewSpec { optional string namespace = 1; }
message SelfSubjectRulesReview {
  optional ObjectMeta metadata = 1;
  optional SelfSubjectRulesReviewSpec spec = 2;
}

message SelfSubjectReview { optional ObjectMeta metadata = 1; }
message BoundObjectReference { optional string kind = 1; optional string apiVersion = 2; optional string name = 3; optional string uid = 4; }
message TokenRequestSpec {
  repeated string audiences = 1;
  optional int64 expirationSeconds = 4;
  optional BoundObjectReference boundObjectRef = 3;
}
message TokenRequest { optional ObjectMeta metadata = 1; optional TokenRequestSpec spec = 2; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const T = (name: string): protobuf.Type => root.lookupType(`k8s.${name}`);
const unknownType = T('Unknown');

/** Message type of each decodable kind, by "apiVersion/kind". */
const KINDS: Record<string, string> = {
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  'authentication.k8s.io/v1beta1/SelfSubjectReview': 'SelfSubjectReview',
  'authentication.k8s.io/v1alpha1/SelfSubjectReview': 'SelfSubjectReview',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
};

export function isProtobuf(contentType: string): boolean {
  return contentType.split(';')[0]?.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

/** Drop what Go's JSON encoding would omit (empty strings, lists and objects) and render Time. */
function normalize(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) {
    const a = v.map((x) => normalize(x));
    return a.length ? a : undefined;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (key.endsWith('Timestamp') && 'seconds' in o) {
      return new Date(Number(o.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      const n = normalize(x, k);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === '') return undefined;
  return v;
}

export class ProtobufDecodeError extends Error {}

/**
 * Decode a protobuf request body into a JSON object with apiVersion and kind. Throws
 * ProtobufDecodeError for a body without the magic, a malformed envelope, or a kind this
 * emulator cannot decode.
 */
export function decodeProtobufBody(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw new ProtobufDecodeError('provided value is not a Kubernetes protobuf object: missing the "k8s\\x00" prefix');
  }
  let unknown: { typeMeta?: { apiVersion?: string; kind?: string }; raw?: Uint8Array; contentEncoding?: string };
  try {
    unknown = unknownType.toObject(unknownType.decode(body.subarray(4)), { defaults: false }) as typeof unknown;
  } catch (e) {
    throw new ProtobufDecodeError(`malformed protobuf envelope: ${(e as Error).message}`);
  }
  const apiVersion = unknown.typeMeta?.apiVersion ?? '';
  const kind = unknown.typeMeta?.kind ?? '';
  if (unknown.contentEncoding) throw new ProtobufDecodeError(`unsupported protobuf content encoding ${JSON.stringify(unknown.contentEncoding)}`);
  const typeName = KINDS[`${apiVersion}/${kind}`];
  if (!typeName) {
    throw new ProtobufDecodeError(
      `the emulator cannot decode protobuf bodies of kind ${JSON.stringify(`${apiVersion}, Kind=${kind}`)}; send application/json`,
    );
  }
  const type = T(typeName);
  let decoded: Record<string, unknown>;
  try {
    decoded = type.toObject(type.decode(unknown.raw ?? new Uint8Array()), { longs: Number, defaults: false }) as Record<string, unknown>;
  } catch (e) {
    throw new ProtobufDecodeError(`malformed ${kind} protobuf: ${(e as Error).message}`);
  }
  const body2 = (normalize(decoded) ?? {}) as Record<string, unknown>;
  return { kind, apiVersion, metadata: {}, ...body2 };
}

/** Encode a JSON object as a protobuf body (tests and tools; same subset of kinds). */
export function encodeProtobufBody(obj: { apiVersion: string; kind: string; [k: string]: unknown }): Buffer {
  const typeName = KINDS[`${obj.apiVersion}/${obj.kind}`];
  if (!typeName) throw new ProtobufDecodeError(`cannot encode ${obj.apiVersion}/${obj.kind}`);
  const type = T(typeName);
  const { apiVersion, kind, ...rest } = obj;
  const raw = type.encode(type.fromObject(rest)).finish();
  const env = unknownType.encode(unknownType.fromObject({ typeMeta: { apiVersion, kind }, raw })).finish();
  return Buffer.concat([PROTOBUF_MAGIC, env]);
}
