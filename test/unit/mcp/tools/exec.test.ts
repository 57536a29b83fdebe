import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exec, exitOf } from '../../../../src/protocols/mcp/tools/exec.ts';
import { call, fakeKube, status, text } from './fake-kube.ts';

const nonZero = (code: number) => ({
  metadata: {},
  status: 'Failure',
  message: `command terminated with non-zero exit code: error executing command [sh -c exit ${code}], exit code ${code}`,
  reason: 'NonZeroExitCode',
  details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
});

test('exec: kube.exec gets the argv as given (no shell added), the container and the timeout in ms; no HTTP request is made', async () => {
  const kube = fakeKube([], { exec: () => ({ stdout: 'total 0\n', exitStatus: { metadata: {}, status: 'Success' } }) });
  await call(exec, { namespace: 'dev', pod: 'web-1', container: 'app', command: ['ls', '-la', '/tmp'], timeoutSeconds: 5 }, kube);
  await call(exec, { namespace: 'dev', pod: 'web-1', command: ['sh', '-c', 'ps aux | grep java'] }, kube);
  assert.deepEqual(kube.execs, [
    { namespace: 'dev', pod: 'web-1', container: 'app', command: ['ls', '-la', '/tmp'], timeoutMs: 5000 },
    { namespace: 'dev', pod: 'web-1', command: ['sh', '-c', 'ps aux | grep java'], timeoutMs: 30_000 },
  ]);
  assert.equal(kube.calls.length, 0);
});

test('exec: stdout, stderr and the exit code', async () => {
  const ok = await call(exec, { namespace: 'dev', pod: 'web-1', command: ['cat', '/etc/hostname'] }, fakeKube([], { exec: () => ({ stdout: 'web-1\n', exitStatus: { status: 'Success' }, requestId: 'r1' }) }));
  assert.equal(text(ok), 'exec ["cat","/etc/hostname"] in pod web-1 in namespace dev\nexit code: 0\nstdout:\nweb-1\nstderr: (empty)');
  assert.deepEqual(ok.structuredContent, { timedOut: false, truncated: false, exitCode: 0, requestId: 'r1' });
  assert.equal(ok.isError, undefined);
  const failed = await call(exec, { namespace: 'dev', pod: 'web-1', command: ['grep', 'x', '/nope'] }, fakeKube([], { exec: () => ({ stderr: 'grep: /nope: No such file\n', exitStatus: nonZero(2) }) }));
  assert.equal(text(failed), 'exec ["grep","x","/nope"] in pod web-1 in namespace dev\nexit code: 2\nstdout: (empty)\nstderr:\ngrep: /nope: No such file');
  assert.equal(failed.isError, undefined, 'a command that ran and exited non-zero is a result');
  assert.equal(failed.structuredContent?.exitCode, 2);
});

test('exec: a command that cannot start is an error; a timeout says so and returns the output so far', async () => {
  const missing = await call(
    exec,
    { namespace: 'dev', pod: 'web-1', command: ['bash'] },
    fakeKube([], { exec: () => ({ exitStatus: { status: 'Failure', reason: 'InternalError', message: 'exec: "bash": executable file not found in $PATH' } }) }),
  );
  assert.equal(missing.isError, true);
  assert.match(text(missing), /the command could not run: exec: "bash": executable file not found in \$PATH/);
  const slow = await call(exec, { namespace: 'dev', pod: 'web-1', command: ['sleep', '999'], timeoutSeconds: 2 }, fakeKube([], { exec: () => ({ stdout: 'tick\n', timedOut: true }) }));
  assert.match(text(slow), /TIMED OUT: the command was still running after 2 s; the session was closed\. Output until then:\nstdout:\ntick/);
  assert.equal(slow.structuredContent?.timedOut, true);
});

test('exec: long output is cut with a note; output the access cut is flagged', async () => {
  const r = await call(exec, { namespace: 'dev', pod: 'web-1', command: ['cat', 'big'] }, fakeKube([], { exec: () => ({ stdout: 'x'.repeat(90_000), truncated: true, exitStatus: { status: 'Success' } }) }));
  assert.match(text(r), /\[truncated: 10000 more characters at the end were not shown\. Narrow the command/);
  assert.match(text(r), /\[truncated: the output was longer than Sluice reads for a tool call/);
  assert.equal(r.structuredContent?.truncated, true);
});

test('exec: a refused upgrade — by policy (refusal text) or by the cluster (its Status message)', async () => {
  const denied = await call(
    exec,
    { namespace: 'prod', pod: 'db-0', command: ['psql'] },
    fakeKube([], { exec: () => ({ status: 403, sluiceError: 'POLICY_DENIED', requestId: 'r5', refusal: status(403, 'Forbidden', 'pods/exec is a guarded operation: no rule names it for alice') }) }),
  );
  assert.equal(denied.isError, true);
  const t = text(denied);
  assert.match(t, /^REFUSED by the organisation's access policy \(Sluice POLICY_DENIED\)/);
  assert.match(t, /Action: exec \["psql"\] in pod db-0 in namespace prod\./);
  assert.match(t, /Sluice's message: "pods\/exec is a guarded operation: no rule names it for alice" Request id: r5\./);
  assert.match(t, /Do not retry this action/);
  const approval = await call(
    exec,
    { namespace: 'prod', pod: 'db-0', command: ['psql'] },
    fakeKube([], { exec: () => ({ status: 403, sluiceError: 'APPROVAL_DENIED', refusal: status(403, 'Forbidden', 'denied by bob') }) }),
  );
  assert.match(text(approval), /^REFUSED by an approver/);
  const nf = await call(exec, { namespace: 'dev', pod: 'gone', command: ['ls'] }, fakeKube([], { exec: () => ({ status: 404, refusal: status(404, 'NotFound', 'pods "gone" not found') }) }));
  assert.equal(text(nf), 'FAILED: exec ["ls"] in pod gone in namespace dev: the Kubernetes API answered 404 NotFound: pods "gone" not found');
});

test('exitOf reads the remotecommand Status', () => {
  assert.deepEqual(exitOf({ status: 'Success' }), { code: 0 });
  assert.deepEqual(exitOf(nonZero(137)), { code: 137 });
  assert.deepEqual(exitOf(undefined), {});
  assert.deepEqual(exitOf({ status: 'Failure', message: 'boom' }), { failure: 'boom' });
});
