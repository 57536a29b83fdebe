// The emulator classifies requests with the same port of the API server's RequestInfoFactory as
// the gateway (one implementation, tested against upstream's cases and recorded kubectl traffic).
export * from '../../src/protocols/kubernetes/request-info.ts';
