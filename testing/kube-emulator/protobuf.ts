// Kubernetes protobuf bodies: one decoder for the gateway (which must see what the API server
// will act on) and the emulator (which plays the API server).
export * from '../../src/protocols/kubernetes/protobuf.ts';
