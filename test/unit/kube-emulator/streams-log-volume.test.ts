// pods/log of a pod annotated emulator.sluice.dev/log-volume-bytes: exactly that many bytes of
// generated lines (some printing fake credentials), streamed with backpressure, limitBytes and
// follow honoured, a client going away stops the stream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAKE_LOG_JWT, LOG_VOLUME_ANNOTATION, VOLUME_CREDENTIAL_EVERY, logVolumeBytes, volumeBlock } from '../../../testing/kube-emulator/streams/log-content.ts';
import type { KubeObject } from '../../../testing/kube-emulator/types.ts';
import { PODS, startFixture, type Fixture } from './streams-fixture.ts';

const VOLUME = 5 * 1024 * 1024 + 123; // not a multiple of the block: the last line is cut
const volumePod = (name: string, bytes: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'dev', uid: `uid-${name}`, annotations: { [LOG_VOLUME_ANNOTATION]: bytes } },
  spec: { containers: [{ name: 'app', image: 'app:1' }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 1 }] },
});
// The fixture routes pods by name from PODS (each test file runs in its own process).
PODS['big'] = volumePod('big', String(VOLUME));
PODS['bogus'] = volumePod('bogus', '12MB');

let fx: Fixture;
before(async () => {
  fx = await startFixture(20);
});
after(async () => {
  await fx.close();
});

/** GET, counting bytes; keeps the first and the last `keep` bytes. */
function fetchCounted(path: string, keep = 256 * 1024): Promise<{ status: number; bytes: number; head: string; tail: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${fx.base}${path}`, (res) => {
        let bytes = 0;
        let head = Buffer.alloc(0);
        let tail = Buffer.alloc(0);
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (head.length < keep) head = Buffer.concat([head, c]).subarray(0, keep);
          tail = Buffer.concat([tail, c]);
          if (tail.length > keep) tail = tail.subarray(tail.length - keep);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, head: head.toString(), tail: tail.toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('pods/log with emulator.sluice.dev/log-volume-bytes', () => {
  it('streams exactly that many bytes of generated lines, some printing fake credentials', async () => {
    const r = await fetchCounted('/api/v1/namespaces/dev/pods/big/log');
    assert.equal(r.status, 200);
    assert.equal(r.bytes, VOLUME);
    const lines = r.head.split('\n').slice(0, -1);
    assert.ok(lines.length > 1000);
    const creds = lines.filter((l) => l.includes('fake-password') || l.includes(FAKE_LOG_JWT));
    assert.ok(creds.length >= Math.floor(lines.length / VOLUME_CREDENTIAL_EVERY) - 1, `${creds.length} credential lines of ${lines.length}`);
    assert.ok(creds.some((l) => l.includes('postgres://app:fake-password@db:5432/app')));
    assert.ok(creds.some((l) => l.includes(`Authorization: Bearer ${FAKE_LOG_JWT}`)));
    for (const l of lines.filter((x) => !creds.includes(x))) assert.match(l, /^(GET|POST|PUT) \/\S* \d{3} \d+ms req=[0-9a-f]{8}$/);
    // The end is the repeated block, cut to the byte count.
    const block = volumeBlock(PODS['big']!, 'app').toString();
    assert.ok(block.startsWith(r.tail.slice(-(VOLUME % block.length))));
  });

  it('honours limitBytes, and a malformed annotation falls back to the ordinary log', async () => {
    const lim = await fetchCounted('/api/v1/namespaces/dev/pods/big/log?limitBytes=100000');
    assert.equal(lim.bytes, 100_000);
    const prev = await fetchCounted('/api/v1/namespaces/dev/pods/big/log?previous=true');
    assert.match(prev.head, /previous instance/);
    assert.equal(logVolumeBytes(PODS['bogus']!), undefined);
    const bogus = await fetchCounted('/api/v1/namespaces/dev/pods/bogus/log');
    assert.match(bogus.head, /^starting app \(image app:1\)\n/);
  });

  it('writes only as fast as the client reads (1 TB of log), and stops when the client goes away', async () => {
    // Without backpressure the emulator would queue the whole terabyte in one synchronous loop.
    PODS['huge'] = volumePod('huge', String(10 ** 12));
    const rssBefore = process.memoryUsage().rss;
    let received = 0;
    const req = http.get(`${fx.base}/api/v1/namespaces/dev/pods/huge/log`);
    const res = await new Promise<http.IncomingMessage>((resolve) => req.on('response', resolve));
    res.pause();
    await sleep(200);
    // Paused: only what the socket buffers and the high-water marks hold has arrived.
    const buffered = res.readableLength + (res.socket?.readableLength ?? 0);
    assert.ok(buffered < 4 * 1024 * 1024, `${buffered} bytes buffered while paused`);
    await new Promise<void>((resolve) => {
      res.on('data', (c: Buffer) => {
        received += c.length;
        if (received >= 16 * 1024 * 1024) {
          req.destroy();
          resolve();
        }
      });
      res.resume();
    });
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024);
    await sleep(100);
    // The emulator is still responsive (its event loop is not stuck in a write loop).
    const small = await fetchCounted('/api/v1/namespaces/dev/pods/web-x/log');
    assert.equal(small.status, 200);
    assert.match(small.head, /^starting web/);
  });

  it('follow continues with new lines after the volume', async () => {
    PODS['small'] = volumePod('small', '1000');
    const lines: string[] = [];
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${fx.base}/api/v1/namespaces/dev/pods/small/log?follow=true`, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          bytes += Buffer.byteLength(d);
          buf += d;
          const parts = buf.split('\n');
          buf = parts.pop() ?? '';
          lines.push(...parts);
          if (bytes > 1000 && lines.length >= 25) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (lines.length >= 25 ? resolve() : reject(e)));
    });
    assert.ok(bytes > 1000);
  });
});
