/**
 * `exec` — run one command in a container and return its output, like
 * `kubectl exec <pod> -c <container> -- <command…>` without `-i` or `-t`.
 *
 * Request: `kube.exec` — the endpoint's pipeline opens
 * `/api/v1/namespaces/{ns}/pods/{pod}/exec?command=…&command=…[&container=c]` with stdout and
 * stderr, upgraded to the WebSocket streaming protocol (v5/v4.channel.k8s.io, KEP-4006); no
 * stdin, no TTY, and no shell is added: the argv runs as given. The session is closed after `timeoutSeconds`. The exit code comes from the Status on
 * the error channel (k8s.io/apimachinery remotecommand: `NonZeroExitCode`, cause `ExitCode`).
 * Policy sees `pods/exec` (verb `get` for a WebSocket upgrade, `create` for SPDY); it is a
 * guarded operation that only a rule naming it grants.
 */
import { z } from 'zod';
import type { ExecAnswer, SluiceTool } from '../tool-types.ts';
import { bound, errorResult, isRecord, kubeStatus, oneLine, refusalText, textResult, truncationNote } from './results.ts';
import { argvElement, containerName, namespace, objectName } from './validation.ts';

const STDOUT_LIMIT = 80_000;
const STDERR_LIMIT = 20_000;
const ARGV_MAX_CHARS = 16_384;

const input = z.strictObject({
  namespace,
  pod: objectName.describe('Name of the pod to run the command in (list_resources with resource "pods" lists them).'),
  container: containerName.optional(),
  command: z
    .array(argvElement)
    .min(1, 'the command has at least the program to run')
    .max(64, 'the command has at most 64 arguments')
    .refine((c) => !(c[0] ?? '').startsWith('-'), 'the program (command[0]) does not start with "-"')
    .refine((c) => c.reduce((n, a) => n + a.length, 0) <= ARGV_MAX_CHARS, `the command is at most ${ARGV_MAX_CHARS} characters in all`)
    .describe('The program and its arguments, one element each, run directly without a shell: ["ls", "-l", "/data"]. For pipes or globbing run a shell explicitly: ["sh", "-c", "ps aux | grep java"]. No newlines.'),
  timeoutSeconds: z.int().min(1).max(300).default(30).describe('Close the session after this many seconds (1–300, default 30); output until then is returned.'),
});

export const exec: SluiceTool<typeof input> = {
  name: 'exec',
  title: 'Run a command in a container',
  description:
    'Run one non-interactive command in a running container and return its stdout, stderr and exit code, like `kubectl exec <pod> -- <command>`. No stdin and no terminal; long-running commands are stopped at the timeout.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  reach: { verbs: ['create', 'get'], resource: 'pods/exec' },
  async run(args, kube) {
    const answer = await kube.exec({
      namespace: args.namespace,
      pod: args.pod,
      ...(args.container ? { container: args.container } : {}),
      command: args.command,
      timeoutMs: args.timeoutSeconds * 1000,
    });
    const where = `${args.container ? `container ${args.container} of ` : ''}pod ${args.pod} in namespace ${args.namespace}`;
    const what = `exec ${JSON.stringify(args.command)} in ${where}`;
    if (answer.status !== 101) return refused(answer, what);
    return sessionResult(answer, what, args.timeoutSeconds);
  },
};

function refused(answer: ExecAnswer, what: string) {
  const status = kubeStatus(answer.refusal);
  const message = status?.message ?? (typeof answer.refusal === 'string' && answer.refusal ? oneLine(answer.refusal, 500) : undefined);
  const structured: Record<string, unknown> = { status: answer.status };
  if (answer.requestId) structured.requestId = answer.requestId;
  if (answer.sluiceError) {
    structured.sluiceError = answer.sluiceError;
    return errorResult(refusalText(answer.sluiceError, message, answer.requestId, what), structured);
  }
  const reason = status?.reason ? ` ${status.reason}` : '';
  const id = answer.requestId ? `\n(Sluice request id: ${answer.requestId})` : '';
  return errorResult(`FAILED: ${what}: the Kubernetes API answered ${answer.status}${reason}${message ? `: ${oneLine(message, 2000)}` : ''}${id}`, structured);
}

/** The exit code of the error channel's Status: 0 for Success, N for NonZeroExitCode; otherwise why it did not run. */
export function exitOf(exitStatus: unknown): { code?: number; failure?: string } {
  if (exitStatus === undefined) return {};
  if (!isRecord(exitStatus)) return { failure: oneLine(String(exitStatus), 500) };
  if (exitStatus.status === 'Success') return { code: 0 };
  const causes = isRecord(exitStatus.details) && Array.isArray(exitStatus.details.causes) ? exitStatus.details.causes : [];
  for (const c of causes) {
    if (isRecord(c) && c.reason === 'ExitCode' && typeof c.message === 'string' && /^\d{1,3}$/.test(c.message)) return { code: Number(c.message) };
  }
  return { failure: oneLine(typeof exitStatus.message === 'string' ? exitStatus.message : JSON.stringify(exitStatus), 500) };
}

function sessionResult(answer: ExecAnswer, what: string, timeoutSeconds: number) {
  const { code, failure } = exitOf(answer.exitStatus);
  const lines = [what];
  if (answer.timedOut) lines.push(`TIMED OUT: the command was still running after ${timeoutSeconds} s; the session was closed. Output until then:`);
  else if (code !== undefined) lines.push(`exit code: ${code}`);
  else if (failure) lines.push(`the command could not run: ${failure}`);
  else lines.push('exit code: unknown (the session ended without an exit status)');
  const out = bound(answer.stdout, STDOUT_LIMIT);
  const err = bound(answer.stderr, STDERR_LIMIT, 'tail');
  lines.push(answer.stdout ? `stdout:\n${out.text.replace(/\n$/, '')}` : 'stdout: (empty)');
  if (out.omitted) lines.push(truncationNote(out.omitted, 'Narrow the command (head, grep, tail).'));
  lines.push(answer.stderr ? `stderr:\n${err.text.replace(/\n$/, '')}` : 'stderr: (empty)');
  if (err.omitted) lines.push(truncationNote(err.omitted, 'Narrow the command.', 'start'));
  if (answer.truncated) lines.push('[truncated: the output was longer than Sluice reads for a tool call; the session was closed there.]');
  const structured: Record<string, unknown> = { timedOut: answer.timedOut, truncated: answer.truncated || out.omitted > 0 || err.omitted > 0 };
  if (code !== undefined) structured.exitCode = code;
  if (answer.requestId) structured.requestId = answer.requestId;
  const text = lines.join('\n');
  // A command that ran and exited (with any code) is a result; one that could not start is an error.
  return failure !== undefined && !answer.timedOut ? errorResult(text, structured) : textResult(text, structured);
}
