// Kubernetes `Status` errors: shared with the gateway, which answers in the same protocol.
export * from '../../src/protocols/kubernetes/status.ts';
