/**
 * The transport-independent half of exec and attach: PodExecOptions / PodAttachOptions
 * validation (as the API server and kubelet's remotecommand.NewOptions do it), running the command
 * or attaching to the container's main process, and the exit Status that remotecommand v4/v5
 * write on the error stream (kubelet pkg/kubelet/cri/streaming/remotecommand: NonZeroExitCode
 * with an ExitCode cause; client-go turns it into exec.CodeExitError and kubectl exits with it).
 */
import type { Readable } from 'node:stream';
import type { PodStreamContext } from '../types.ts';
import { StatusError } from '../status.ts';
import type { ContainerSpec } from './pod-info.ts';
import { boolParam, containerEnv, podStatus, selectContainer } from './pod-info.ts';
import type { FsRegistry } from './pod-fs.ts';
import type { ProcIO } from './shell.ts';
import { runExec } from './shell.ts';
import { containerLog } from './log-content.ts';
import { LineReader, INTERRUPT } from './line-reader.ts';

export interface RemoteOptions {
  kind: 'exec' | 'attach';
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  command: string[];
  container: ContainerSpec;
}

/** Parse and validate the query of an exec/attach request; throws a StatusError like the server. */
export function parseRemoteOptions(ctx: PodStreamContext): RemoteOptions {
  const q = ctx.query;
  const kind = ctx.subresource === 'attach' ? 'attach' : 'exec';
  const command = q.getAll('command');
  const container = selectContainer(ctx.pod, q.get('container'), ctx.name);
  const tty = boolParam(q, 'tty', false);
  const opts: RemoteOptions = {
    kind,
    stdin: boolParam(q, 'stdin', false),
    stdout: boolParam(q, 'stdout', true),
    stderr: boolParam(q, 'stderr', !tty),
    tty,
    command,
    container,
  };
  const phase = podStatus(ctx.pod).phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw StatusError.of(400, 'BadRequest', `cannot ${kind} into a container in a completed pod; current phase is ${phase}`);
  }
  if (kind === 'exec' && command.length === 0) {
    throw StatusError.of(400, 'BadRequest', 'you must specify at least 1 command');
  }
  if (!opts.stdin && !opts.stdout && !opts.stderr) {
    throw StatusError.of(400, 'BadRequest', 'you must specify at least 1 of stdin, stdout, stderr');
  }
  return opts;
}

/** What the error stream carries at the end (JSON-marshalled metav1.Status, no TypeMeta). */
export interface ExitStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason: string; message: string }[] };
}

export function exitStatus(code: number, argv: string[]): ExitStatus {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${argv.join(' ')}], exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export interface RemoteSinks {
  stdout?: (data: Buffer) => void;
  stderr?: (data: Buffer) => void;
}

/** Build the process's stdio: with a TTY, stderr shares stdout and "\n" goes out as "\r\n". */
export function makeProcIO(opts: RemoteOptions, sinks: RemoteSinks, stdin: Readable | null, signal: AbortSignal): ProcIO {
  const toBuf = (d: Buffer | string): Buffer => (typeof d === 'string' ? Buffer.from(d, 'utf8') : d);
  const crlf = (b: Buffer): Buffer => {
    if (!b.includes(0x0a)) return b;
    return Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
  };
  const out = (d: Buffer | string): void => {
    const b = toBuf(d);
    if (b.length) sinks.stdout?.(opts.tty ? crlf(b) : b);
  };
  const err = (d: Buffer | string): void => {
    const b = toBuf(d);
    if (!b.length) return;
    if (opts.tty) out(b);
    else sinks.stderr?.(b);
  };
  return { stdin: opts.stdin ? stdin : null, stdout: out, stderr: err, tty: opts.tty, signal };
}

export interface RunDeps {
  fs: FsRegistry;
}

/** Run the exec command, or be the attached main process. Resolves to the exit code. */
export async function runRemote(ctx: PodStreamContext, opts: RemoteOptions, io: ProcIO, deps: RunDeps): Promise<number> {
  const fs = deps.fs.for(ctx.pod, ctx.namespace, ctx.name, opts.container.name);
  if (opts.kind === 'exec') {
    const env = containerEnv(ctx.pod, opts.container, ctx.namespace, ctx.name);
    return runExec(opts.command, io, {
      fs,
      pod: ctx.pod,
      podName: ctx.name,
      namespace: ctx.namespace,
      container: opts.container.name,
      env,
      cwd: '/',
      last: 0,
    });
  }
  return attachMain(ctx, opts, io);
}

/**
 * The container's main process as `kubectl attach` sees it: its recent output, then every line
 * read on stdin echoed back. Without stdin it runs until the client detaches; with stdin it exits
 * when stdin closes (as a container with stdinOnce would).
 */
async function attachMain(ctx: PodStreamContext, opts: RemoteOptions, io: ProcIO): Promise<number> {
  for (const l of containerLog(ctx.pod, opts.container).slice(-5)) io.stdout(`${l.text}\n`);
  if (!io.stdin) {
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 0;
  }
  const reader = new LineReader(io.stdin, io.tty, (s) => io.stdout(s));
  for (;;) {
    const line = await reader.next(io.signal);
    if (line === null) return 0;
    if (line === INTERRUPT) continue;
    io.stdout(`${line}\n`);
  }
}
