/** The audit record the store benchmarks write: bob's GET of one pod, as the gateway records it (about 700 bytes as an event). */
import { randomUUID } from 'node:crypto';
import type { AuditBegin } from '../src/audit/types.ts';

export function benchAuditEntry(namespace = 'dev'): AuditBegin {
  const path = `/api/v1/namespaces/${namespace}/pods/pod-1`;
  return {
    id: randomUUID(),
    time: new Date(),
    code: 'kubernetes.request',
    principal: { issuer: 'https://idp.example', subject: 'u-1', username: 'bob', groups: ['developers'], kind: 'person' },
    connection: 'demo',
    method: 'GET',
    path,
    query: '',
    userAgent: 'kubectl/v1.33.1',
    sourceIp: '127.0.0.1',
    attributes: { connection: 'demo', verb: 'get', apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: '', namespace, name: 'pod-1', isResourceRequest: true, path },
    decision: { effect: 'allow', rules: ['developers/read'], message: '', policyDigest: 'sha256:0123456789abcdef' },
  };
}
