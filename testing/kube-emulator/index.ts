/**
 * The Kubernetes API emulator (see /work/shared/DESIGN.md, "The Kubernetes API emulator"): an
 * HTTPS server that behaves like a v1.30 kube-apiserver towards real clients and records the
 * identity every request was executed as.
 */
export { startEmulator, forbiddenStatus, ADMIN_USER, EMULATED_VERSION, MAX_REQUEST_BODY_BYTES } from './server.ts';
export type { Emulator, EmulatorOptions, Authorize, AuthorizeResult, OidcOptions } from './server.ts';
export { parseRequestInfo, canonicalPathError } from './request-info.ts';
export type { RequestInfo } from './request-info.ts';
export { encodeProtobufBody, decodeProtobufBody } from './protobuf.ts';
export type { UserInfo, KubeObject, RecordedRequest } from './types.ts';
