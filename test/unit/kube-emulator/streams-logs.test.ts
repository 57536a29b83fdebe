// pods/log through createPodStreams(): container selection, tailLines, timestamps, limitBytes,
// previous, and a followed log that keeps growing until the client goes away.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startFixture, type Fixture } from './streams-fixture.ts';

let fx: Fixture;
before(async () => {
  fx = await startFixture(30);
});
after(async () => {
  await fx.close();
});

async function get(path: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`${fx.base}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

describe('pods/log', () => {
  it('returns the whole log with fake credentials in it', async () => {
    const r = await get('/api/v1/namespaces/dev/pods/web-x/log');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'text/plain');
    assert.match(r.body, /^starting web \(image nginx:1\.27\)\n/);
    assert.match(r.body, /postgres:\/\/app:fake-password@db:5432\/app/);
    assert.match(r.body, /Authorization: Bearer eyJhbGciOiJIUzI1NiJ9\.ZmFrZQ\.ZmFrZQ/);
    assert.equal(r.body, (await get('/api/v1/namespaces/dev/pods/web-x/log')).body, 'deterministic');
  });

  it('honours tailLines, timestamps and limitBytes', async () => {
    const tail = await get('/api/v1/namespaces/dev/pods/multi/log?container=b&tailLines=2');
    assert.equal(tail.body, 'beta\ngamma\n');
    const ts = await get('/api/v1/namespaces/dev/pods/multi/log?container=a&tailLines=1&timestamps=true');
    assert.match(ts.body, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z gamma\n$/);
    const lim = await get('/api/v1/namespaces/dev/pods/multi/log?container=a&limitBytes=8');
    assert.equal(lim.body, 'alpha\nbe');
  });

  it('selects containers like the API server', async () => {
    const none = await get('/api/v1/namespaces/dev/pods/multi/log');
    assert.equal(none.status, 400);
    assert.equal(JSON.parse(none.body).message, 'a container name must be specified for pod multi, choose one of: [a b]');
    const bad = await get('/api/v1/namespaces/dev/pods/multi/log?container=zz');
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).message, 'container zz is not valid for pod multi');
  });

  it('previous needs a restarted container', async () => {
    const no = await get('/api/v1/namespaces/dev/pods/web-x/log?previous=true');
    assert.equal(no.status, 400);
    assert.equal(JSON.parse(no.body).message, 'previous terminated container "web" in pod "web-x" not found');
    const yes = await get('/api/v1/namespaces/dev/pods/multi/log?container=a&previous=true');
    assert.equal(yes.status, 200);
    assert.match(yes.body, /previous instance/);
  });

  it('follow streams new lines until the client goes away', async () => {
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${fx.base}/api/v1/namespaces/dev/pods/web-x/log?follow=true&tailLines=1`, (res) => {
        assert.equal(res.statusCode, 200);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          const parts = buf.split('\n');
          buf = parts.pop() ?? '';
          lines.push(...parts);
          if (lines.length >= 4) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (lines.length >= 4 ? resolve() : reject(e)));
    });
    assert.ok(lines.length >= 4);
    assert.match(lines[1]!, /^(GET|POST|PUT) \/\S* \d{3} \d+ms req=[0-9a-f]{8}$/);
  });

  it('exec without an upgrade is a 400', async () => {
    const r = await get('/api/v1/namespaces/dev/pods/web-x/exec?command=ls');
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).message, 'Upgrade request required');
  });
});
