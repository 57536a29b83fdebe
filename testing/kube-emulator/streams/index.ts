/**
 * Pod streaming subresources of the emulator: pods/log (plain HTTP, maybe followed), and
 * pods/exec, pods/attach, pods/portforward over WebSocket (KEP-4006: remotecommand
 * v5.channel.k8s.io, SPDY-over-WebSocket port-forward tunnel) and SPDY/3.1 (what kubectl 1.27–1.29
 * speak, and newer ones fall back to). The REST core authenticates, records and fetches the pod,
 * then calls handleHttp / handleUpgrade.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PodStreamContext, PodStreams } from '../types.ts';
import { StatusError, rejectUpgrade, sendStatus } from '../status.ts';
import { handleLogs } from './logs.ts';
import { FsRegistry } from './pod-fs.ts';
import { parseRemoteOptions } from './remote-command.ts';
import { REMOTE_COMMAND_WS_PROTOCOLS, serveWsRemoteCommand } from './ws-remote-command.ts';
import { serveSpdyRemoteCommand } from './spdy-remote-command.ts';
import { isSpdyUpgrade } from './spdy-upgrade.ts';
import { fromToken, toToken } from './ws-subprotocol.ts';
import { PORTFORWARD_WS_PROTOCOLS, serveSpdyPortForward, serveWsPortForward } from './portforward.ts';

export interface PodStreamsOptions {
  /** Interval between appended lines of a followed log (default 1000 ms). */
  logIntervalMs?: number;
}

export { FsRegistry } from './pod-fs.ts';

function errorStatus(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return StatusError.of(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
}

export function createPodStreams(opts: PodStreamsOptions = {}): PodStreams {
  const intervalMs = opts.logIntervalMs ?? 1000;
  const fs = new FsRegistry();
  const active = new Set<() => void>();
  const track = (stop: () => void): (() => void) => {
    active.add(stop);
    return () => active.delete(stop);
  };
  const offered = new WeakMap<IncomingMessage, string[]>();
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols, req) => {
      const supported = offered.get(req) ?? [];
      for (const p of protocols) if (supported.includes(p)) return p;
      return false;
    },
  });

  function handleHttp(ctx: PodStreamContext, req: IncomingMessage, res: ServerResponse): void {
    try {
      if (ctx.subresource === 'log') {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          throw StatusError.of(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
        }
        handleLogs(ctx, req, res, { intervalMs, track });
        return;
      }
      // exec/attach/portforward need a connection upgrade (kubelet: "Upgrade request required").
      throw StatusError.of(400, 'BadRequest', 'Upgrade request required');
    } catch (err) {
      const st = errorStatus(err).status;
      ctx.setStatus(st.code);
      sendStatus(res, st);
    }
  }

  function handleUpgrade(ctx: PodStreamContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      if (ctx.subresource === 'log') throw StatusError.of(400, 'BadRequest', 'pods/log does not support connection upgrades');
      const upgrade = (req.headers.upgrade ?? '').toLowerCase();
      const isWs = upgrade === 'websocket';
      if (!isWs && !isSpdyUpgrade(req)) throw StatusError.of(400, 'BadRequest', 'Upgrade request required');

      if (ctx.subresource === 'portforward') {
        if (!isWs) {
          serveSpdyPortForward(ctx, req, socket, head, track);
          return;
        }
        upgradeWs(req, socket, head, PORTFORWARD_WS_PROTOCOLS, (ws) => serveWsPortForward(ctx, ws, track));
        return;
      }

      const ro = parseRemoteOptions(ctx);
      if (!isWs) {
        serveSpdyRemoteCommand(ctx, req, socket, head, ro, { fs, track });
        return;
      }
      upgradeWs(req, socket, head, REMOTE_COMMAND_WS_PROTOCOLS, (ws) => serveWsRemoteCommand(ctx, req, ws, ro, { fs, track }));
    } catch (err) {
      const st = errorStatus(err).status;
      ctx.setStatus(st.code);
      rejectUpgrade(socket, st);
    }

    function upgradeWs(
      r: IncomingMessage,
      s: Duplex,
      h: Buffer,
      supported: string[],
      onOpen: (ws: WebSocket) => void,
    ): void {
      const asked = (r.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      if (asked.length && !asked.some((p) => supported.includes(p))) {
        throw StatusError.of(
          400,
          'BadRequest',
          `unable to upgrade: unable to negotiate protocol: client supports [${asked.join(' ')}], server supports [${supported.join(' ')}]`,
        );
      }
      offered.set(r, supported.map(toToken));
      // Negotiate on token-safe aliases; the 'headers' hook below restores the real name.
      r.headers['sec-websocket-protocol'] = asked.map(toToken).join(', ');
      wss.handleUpgrade(r, s, h, (ws) => onOpen(ws));
    }
  }

  function close(): void {
    for (const stop of [...active]) {
      try {
        stop();
      } catch {
        // shutting down anyway
      }
    }
    active.clear();
    for (const c of wss.clients) c.terminate();
    wss.close();
  }

  wss.on('headers', (headers: string[]) => {
    for (let i = 0; i < headers.length; i++) {
      const m = /^Sec-WebSocket-Protocol: (.*)$/i.exec(headers[i] ?? '');
      if (m) headers[i] = `Sec-WebSocket-Protocol: ${fromToken(m[1] ?? '')}`;
    }
  });

  return { handleHttp, handleUpgrade, close };
}

