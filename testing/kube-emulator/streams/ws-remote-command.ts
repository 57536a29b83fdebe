/**
 * exec/attach over WebSocket (KEP-4006 "Transition from SPDY to WebSockets"; remotecommand
 * v5.channel.k8s.io as served by k8s.io/apiserver/pkg/util/proxy/websocket.go, and the older
 * v4/v3/v2/channel.k8s.io and base64.channel.k8s.io of k8s.io/apiserver wsstream).
 *
 * Each binary message starts with a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (v4+: a
 * JSON Status), 4 resize ({"Width":…,"Height":…}); v5 adds 255 = "close channel <next byte>"
 * (client half-closes stdin). base64 protocols send text messages: "<digit><base64 payload>".
 * The server writes an empty message on the lowest writable channel once open, and at the end the
 * Status on channel 3 and a normal close frame, then waits for the client's close.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import type { PodStreamContext } from '../types.ts';
import { exitStatus, makeProcIO, runRemote, type RemoteOptions, type RunDeps } from './remote-command.ts';

export const REMOTE_COMMAND_WS_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v4.base64.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
  'base64.channel.k8s.io',
];

/** How long the emulated container runtime takes to start the command. */
const PROCESS_START_MS = 50;

const CH = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

function versionOf(protocol: string): number {
  const m = /^v(\d)\./.exec(protocol);
  return m ? Number(m[1]) : 1;
}

export function serveWsRemoteCommand(
  ctx: PodStreamContext,
  _req: IncomingMessage,
  ws: WebSocket,
  opts: RemoteOptions,
  deps: RunDeps & { track(stop: () => void): () => void },
): void {
  const protocol = ws.protocol || 'channel.k8s.io';
  const version = versionOf(protocol);
  const base64 = protocol.includes('base64');
  const abort = new AbortController();
  const stdin = new PassThrough();
  let open = true;

  const send = (channel: number, data: Buffer): void => {
    if (!open || ws.readyState !== ws.OPEN) return;
    if (base64) ws.send(`${channel}${data.toString('base64')}`);
    else ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true });
  };

  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
    if (buf.length === 0) return;
    let channel: number;
    let payload: Buffer;
    if (base64 && !isBinary) {
      channel = (buf[0] ?? 0x30) - 0x30;
      payload = Buffer.from(buf.subarray(1).toString('latin1'), 'base64');
    } else {
      channel = buf[0] ?? 0;
      payload = buf.subarray(1);
    }
    if (channel === CH.close && version >= 5) {
      if (payload[0] === CH.stdin) stdin.end();
      return;
    }
    if (channel === CH.stdin && opts.stdin && !stdin.writableEnded) stdin.write(payload);
    // channel 4 (resize): the emulated terminal has no size to change.
  });

  const finish = (): void => {
    if (!open) return;
    open = false;
    abort.abort();
    if (!stdin.writableEnded) stdin.end();
  };
  ws.on('close', finish);
  ws.on('error', finish);
  const untrack = deps.track(() => {
    finish();
    ws.terminate();
  });

  // Tell the client the connection is established.
  send(opts.stdout ? CH.stdout : opts.stderr ? CH.stderr : CH.error, Buffer.alloc(0));
  ctx.setStatus(101);

  const io = makeProcIO(
    opts,
    { stdout: (b) => send(CH.stdout, b), stderr: (b) => send(CH.stderr, b) },
    stdin,
    abort.signal,
  );
  // A real kubelet takes milliseconds to start a process through the CRI; kubectl ≥ 1.30's v5
  // client starts reading before it has registered its streams and drops frames that arrive in
  // between ("Unknown stream id 1, discarding message"). Starting at once would make the
  // emulator lose output that a real cluster never loses.
  void new Promise((r) => setTimeout(r, PROCESS_START_MS))
    .then(() => runRemote(ctx, opts, io, deps))
    .catch((err: unknown) => {
      io.stderr(`${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    })
    .then((code) => {
      const st = exitStatus(code, opts.command);
      if (version >= 4) send(CH.error, Buffer.from(JSON.stringify(st)));
      else if (st.status !== 'Success' && st.message) send(CH.error, Buffer.from(st.message));
      untrack();
      if (ws.readyState === ws.OPEN) ws.close(1000);
      open = false;
      abort.abort();
    });
}
