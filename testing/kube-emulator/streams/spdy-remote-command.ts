/**
 * exec/attach over SPDY/3.1 — what kubectl 1.27–1.29 speak (and newer ones fall back to): the
 * server half of client-go tools/remotecommand (v4/v3/v2/v1 "channel.k8s.io" protocols) as the
 * kubelet's pkg/kubelet/cri/streaming/remotecommand/httpstream.go serves it.
 *
 * The client opens one SPDY stream per channel, marked by the `streamType` header: error, stdin,
 * stdout, stderr, resize (v3+, TTY only). The server replies to each, waits (streamCreationTimeout,
 * 30s) until all the options imply have arrived, runs the command, then writes the status on the
 * error stream (v4: JSON metav1.Status; older: the error text, nothing on success), half-closes
 * its streams and sends GOAWAY. kubectl knows the command ended when stdout/stderr reach EOF and
 * reads the exit code from the error stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodStreamContext } from '../types.ts';
import { rejectUpgrade, statusFailure } from '../status.ts';
import { exitStatus, makeProcIO, runRemote, type RemoteOptions, type RunDeps } from './remote-command.ts';
import type { SpdySession, SpdyStream } from './spdy-session.ts';
import { finishSpdy, negotiate, upgradeToSpdy } from './spdy-upgrade.ts';

export const REMOTE_COMMAND_SPDY_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

const STREAM_CREATION_TIMEOUT_MS = 30_000;

export function serveSpdyRemoteCommand(
  ctx: PodStreamContext,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: RemoteOptions,
  deps: RunDeps & { track(stop: () => void): () => void },
): void {
  const protocol = negotiate(req, REMOTE_COMMAND_SPDY_PROTOCOLS);
  if (protocol === null) {
    ctx.setStatus(403);
    rejectUpgrade(
      socket,
      statusFailure(
        403,
        'Forbidden',
        `unable to upgrade: unable to negotiate protocol: client supports [${negotiateList(req)}], server supports [${REMOTE_COMMAND_SPDY_PROTOCOLS.join(' ')}]`,
      ),
    );
    return;
  }
  const version = protocol === '' || protocol === 'channel.k8s.io' ? 1 : Number(protocol[1]);
  const expected = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) + Number(opts.tty && version >= 3);
  const streams = new Map<string, SpdyStream>();
  const abort = new AbortController();
  let started = false;
  let untrack: () => void = () => {};
  const timer = setTimeout(() => {
    if (!started) session.destroy();
  }, STREAM_CREATION_TIMEOUT_MS);
  timer.unref?.();

  const session: SpdySession = upgradeToSpdy(
    socket,
    head,
    protocol,
    (s) => {
      s.reply();
      const type = (s.header('streamtype') ?? '').toLowerCase();
      if (started || streams.has(type) || !['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type)) {
        s.reset();
        return;
      }
      streams.set(type, s);
      if (type === 'resize') s.incoming.resume(); // terminal size changes are accepted and ignored
      if (streams.size >= expected) start();
    },
    () => {
      abort.abort();
      untrack();
    },
  );
  ctx.setStatus(101);
  if (!session.closed) untrack = deps.track(() => session.destroy());

  function start(): void {
    started = true;
    clearTimeout(timer);
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr');
    const errorStream = streams.get('error');
    const stdin = streams.get('stdin');
    const io = makeProcIO(
      opts,
      { stdout: (b) => stdout?.write(b), stderr: (b) => stderr?.write(b) },
      stdin ? stdin.incoming : null,
      abort.signal,
    );
    void runRemote(ctx, opts, io, deps)
      .catch((err: unknown) => {
        io.stderr(`${err instanceof Error ? err.message : String(err)}\n`);
        return 1;
      })
      .then((code) => {
        const st = exitStatus(code, opts.command);
        stdout?.end();
        stderr?.end();
        if (version >= 4) errorStream?.end(JSON.stringify(st));
        else errorStream?.end(st.status === 'Success' ? undefined : st.message);
        stdin?.end();
        streams.get('resize')?.end();
        untrack();
        finishSpdy(session, socket);
      });
  }
}

function negotiateList(req: IncomingMessage): string {
  return (req.headersDistinct?.['x-stream-protocol-version'] ?? []).join(' ');
}
