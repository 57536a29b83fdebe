// Shared fixture for the pod stream tests: a plain HTTP server routing pods/{log,exec,attach,
// portforward} of hand-made pods to createPodStreams(), as the emulator's REST core does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPodStreams } from '../../../testing/kube-emulator/streams/index.ts';
import type { KubeObject, PodStreamContext, PodStreams } from '../../../testing/kube-emulator/types.ts';

export const PODS: Record<string, KubeObject> = {
  'web-x': {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-x', namespace: 'dev', uid: 'uid-web-x', creationTimestamp: '2024-05-01T10:00:00Z' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', env: [{ name: 'APP_MODE', value: 'demo' }], ports: [{ containerPort: 80 }] }] },
    status: { phase: 'Running', startTime: '2024-05-01T10:00:00Z', containerStatuses: [{ name: 'web', restartCount: 0 }] },
  },
  multi: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'multi',
      namespace: 'dev',
      uid: 'uid-multi',
      annotations: { 'emulator.sluice.dev/log-lines': JSON.stringify(['alpha', 'beta', 'gamma']) },
    },
    spec: { containers: [{ name: 'a' }, { name: 'b' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'a', restartCount: 2 }] },
  },
};

export interface Fixture {
  base: string;
  port: number;
  streams: PodStreams;
  statuses: number[];
  close(): Promise<void>;
}

export async function startFixture(logIntervalMs = 50): Promise<Fixture> {
  const streams = createPodStreams({ logIntervalMs });
  const statuses: number[] = [];
  const ctxFor = (rawUrl: string): PodStreamContext | null => {
    const url = new URL(rawUrl, 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)$/.exec(url.pathname);
    const pod = m ? PODS[m[2]!] : undefined;
    if (!m || !pod) return null;
    return {
      pod,
      namespace: m[1]!,
      name: m[2]!,
      subresource: m[3] as PodStreamContext['subresource'],
      query: url.searchParams,
      user: { username: 'tester', groups: [] },
      setStatus: (c) => statuses.push(c),
    };
  };
  const server = http.createServer((req, res) => {
    const ctx = ctxFor(req.url ?? '/');
    if (!ctx) {
      res.writeHead(404).end();
      return;
    }
    streams.handleHttp(ctx, req, res);
  });
  server.on('upgrade', (req, socket, head) => {
    const ctx = ctxFor(req.url ?? '/');
    if (!ctx) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    streams.handleUpgrade(ctx, req, socket, head);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    streams,
    statuses,
    close: async () => {
      streams.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
