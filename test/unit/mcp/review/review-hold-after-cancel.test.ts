/**
 * A tool call cancelled while its Kubernetes request is still in the pipeline leaves no progress
 * timer behind. request-approval.ts reports a hold after the store write, whatever became of the
 * caller; callTool ignores a hold reported after it ended. Found by the issue #7 review (the late
 * hold used to start a progress interval that nothing cleared).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { callTool, type CallContext, type CallToolDeps } from '../../../../src/protocols/mcp/call-tool.ts';
import { getResource } from '../../../../src/protocols/mcp/tools/get-resource.ts';
import type { InternalKubeClient } from '../../../../src/protocols/kubernetes/internal-client.ts';
import type { OpenedHold } from '../../../../src/approval/types.ts';
import type { AuditRecorder } from '../../../../src/audit/types.ts';
import type { VerifiedPrincipal } from '../../../../src/authn/principal-from-claims.ts';

const principal = { issuer: 'https://idp', subject: 'bob', username: 'bob', groups: ['developers'], kind: 'person', expiresAt: new Date(Date.now() + 60_000), tokenType: 'access_token' } as VerifiedPrincipal;

test('a hold the pipeline opens after the client cancelled the call starts no progress timer that outlives the call', async () => {
  const created: NodeJS.Timeout[] = [];
  const realSetInterval = globalThis.setInterval;
  globalThis.setInterval = ((...a: Parameters<typeof setInterval>) => {
    const t = realSetInterval(...a);
    created.push(t);
    return t;
  }) as typeof setInterval;
  try {
    const hold = {
      approval: { id: 'approval-1', message: 'deleting in prod needs an approver', requirements: [{ approvers: ['approvers'] }], expiresAt: new Date(Date.now() + 600_000) },
      joined: false,
      wait: () => new Promise(() => undefined),
    } as unknown as OpenedHold;
    // The pipeline as seen from the client: the request is in flight; the client goes away; the
    // stage request-approval finishes its store write a moment later and reports the hold.
    let holdReported = false;
    const kube: InternalKubeClient = {
      request: (caller, _req, opts) =>
        new Promise((_resolve, reject) => {
          caller.onStart!('req-1');
          opts?.signal?.addEventListener('abort', () => {
            reject(new Error('the call was cancelled'));
            setTimeout(() => {
              caller.onHold!(hold, 'req-1');
              holdReported = true;
            }, 20);
          });
        }),
      exec: () => Promise.reject(new Error('not used')),
    };
    const recorder = { begin: () => ({ commit: async () => undefined, complete: async () => undefined, record: () => undefined, recordingFailure: () => undefined }), close: async () => undefined } as unknown as AuditRecorder;
    const deps: CallToolDeps = { kube, recorder, policyDigest: () => 'd', log: pino({ level: 'silent' }), maxAnswerBytes: 1 << 20, progressIntervalMs: 20, now: () => new Date() };
    const ac = new AbortController();
    let sentAfterReturn = 0;
    let returned = false;
    const ctx: CallContext = {
      principal,
      sourceIp: '192.0.2.1',
      connections: ['demo'],
      signal: ac.signal,
      progress: async () => {
        if (returned) sentAfterReturn++;
      },
    };
    const call = callTool(deps, getResource, { resource: 'pods', namespace: 'prod', name: 'web-1' }, ctx);
    setTimeout(() => ac.abort(), 10);
    const r = await call;
    returned = true;
    assert.equal(r.isError, true);
    await new Promise((res) => setTimeout(res, 300));
    assert.ok(holdReported, 'the late hold was reported (else this test shows nothing)');
    assert.equal(sentAfterReturn, 0, `progress notifications kept going after the call returned (${sentAfterReturn} in 300 ms; ${created.length} interval(s) never cleared)`);
  } finally {
    for (const t of created) clearInterval(t);
    globalThis.setInterval = realSetInterval;
  }
});
