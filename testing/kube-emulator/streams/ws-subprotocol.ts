/**
 * WebSocket subprotocol names as the API server accepts them. The `ws` package allows only RFC
 * 7230 tokens (RFC 6455 §4.1), where `/` is a separator, but kubectl ≥ 1.31 offers
 * `SPDY/3.1+portforward.k8s.io` (KEP-4006 port-forward tunnelling), which Go's server accepts.
 * We negotiate on a token-safe alias and restore the real name in the 101 response.
 */
export const toToken = (p: string): string => p.replaceAll('/', '%2F');
export const fromToken = (p: string): string => p.replaceAll('%2F', '/');
