import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { maskableRequestHeaders } from '../../../src/protocols/kubernetes/response-masking.ts';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable, type Transform } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createMasking } from '../../../src/masking/create-masking.ts';
import { MaskingSchema } from '../../../src/config/schema.ts';
import { responseMasker } from '../../../src/protocols/kubernetes/response-masking.ts';
import { Rejection } from '../../../src/protocols/kubernetes/pipeline/rejection.ts';
import type { KubeContext } from '../../../src/protocols/kubernetes/pipeline/context.ts';

const rewrite = (h: OutgoingHttpHeaders): OutgoingHttpHeaders => {
  const copy = { ...h };
  maskableRequestHeaders(copy);
  return copy;
};

test('protobuf is asked for as JSON, with its parameters (Tables, watch streams)', () => {
  assert.equal(rewrite({ accept: 'application/vnd.kubernetes.protobuf, */*' }).accept, 'application/json, */*');
  assert.equal(rewrite({ accept: 'application/vnd.kubernetes.protobuf' }).accept, 'application/json');
  assert.equal(rewrite({ accept: 'application/vnd.kubernetes.protobuf;stream=watch' }).accept, 'application/json;stream=watch');
  assert.equal(
    rewrite({ accept: 'application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io,application/json' }).accept,
    'application/json;as=Table;v=v1;g=meta.k8s.io, application/json',
  );
});

test("kubectl's own JSON Accept headers pass unchanged; YAML is asked for as JSON", () => {
  const table = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  assert.equal(rewrite({ accept: table }).accept, 'application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json');
  assert.equal(rewrite({ accept: 'application/yaml' }).accept, 'application/json');
  assert.equal(rewrite({ accept: 'text/plain' }).accept, 'text/plain');
  assert.equal(rewrite({}).accept, undefined);
  assert.equal(rewrite({ accept: ' , ' }).accept, 'application/json');
});

test('no compression is asked for', () => {
  const h = rewrite({ accept: 'application/json', 'accept-encoding': 'gzip, br' });
  assert.equal(h['accept-encoding'], undefined);
  assert.equal(h.accept, 'application/json');
});

// ---- responseMasker: which answers are masked, decompressed or refused ------------------------


const masking = createMasking(MaskingSchema.parse({}))!;
const ctxFor = (method = 'GET', resource = 'secrets'): KubeContext =>
  ({ req: { method }, attributes: { isResourceRequest: true, apiGroup: '', resource, subresource: '' } }) as unknown as KubeContext;
const answer = (status: number, headers: Record<string, string>): IncomingMessage => ({ statusCode: status, headers }) as unknown as IncomingMessage;

async function run(transforms: Transform[], input: Buffer): Promise<string> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out.push(c);
      cb();
    },
  });
  await pipeline([Readable.from([input]), ...transforms, sink]);
  return Buffer.concat(out).toString();
}

const SECRET = JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 's' }, data: { password: Buffer.from('hunter2hunter2').toString('base64') } });

test('JSON answers get the Kubernetes masker; text answers the line masker', async () => {
  const m = responseMasker(ctxFor(), masking, answer(200, { 'content-type': 'application/json' }))!;
  assert.equal(await run(m.transforms, Buffer.from(SECRET)), SECRET.replace(/"data":\{"password":"[^"]+"\}/, '"data":{"password":"REDACTED"}'));
  assert.deepEqual(m.counts().fields, { 'Secret data': 1 });
  const t = responseMasker(ctxFor('GET', 'pods'), masking, answer(200, { 'content-type': 'text/plain' }))!;
  const out = await run(t.transforms, Buffer.from('connecting to postgres://app:s3cret-pw@db:5432/app\nok\n'));
  assert.equal(out, 'connecting to postgres://app:[MASKED:connection-string-password]@db:5432/app\nok\n');
  assert.deepEqual(t.counts().detectors, { 'connection-string-password': 1 });
});

test('a compressed answer is decompressed before masking and sent uncompressed', async () => {
  const m = responseMasker(ctxFor(), masking, answer(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }))!;
  assert.equal(m.transforms.length, 2);
  const out = await run(m.transforms, gzipSync(SECRET));
  assert.ok(out.includes('"password":"REDACTED"'), out);
});

test('answers that cannot be masked are refused before any byte: protobuf, YAML, HTML, unknown encodings', () => {
  const refused = (headers: Record<string, string>): Rejection => {
    try {
      responseMasker(ctxFor(), masking, answer(200, headers));
    } catch (e) {
      assert.ok(e instanceof Rejection);
      return e;
    }
    throw new Error(`not refused: ${JSON.stringify(headers)}`);
  };
  for (const type of ['application/vnd.kubernetes.protobuf', 'application/yaml', 'text/html', 'application/octet-stream', '']) {
    const r = refused(type ? { 'content-type': type } : {});
    assert.equal(r.code, 'RESPONSE_UNMASKABLE');
    assert.equal(r.status.code, 502);
  }
  assert.match(refused({ 'content-type': 'application/json', 'content-encoding': 'zstd' }).message, /encoded as "zstd"/);
});

test('answers without a body are not masked: HEAD, 204, 304, empty', () => {
  assert.equal(responseMasker(ctxFor('HEAD'), masking, answer(200, { 'content-type': 'application/json' })), null);
  assert.equal(responseMasker(ctxFor(), masking, answer(204, {})), null);
  assert.equal(responseMasker(ctxFor(), masking, answer(304, {})), null);
  assert.equal(responseMasker(ctxFor(), masking, answer(200, { 'content-length': '0' })), null);
});

test('malformed JSON and a corrupt gzip stream fail the transforms (the gateway then refuses or cuts the answer)', async () => {
  const m = responseMasker(ctxFor(), masking, answer(200, { 'content-type': 'application/json' }))!;
  await assert.rejects(run(m.transforms, Buffer.from('{"kind":"Secret","data":{"password":"aGk=" ')), { name: 'KubeMaskError' });
  const g = responseMasker(ctxFor(), masking, answer(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }))!;
  await assert.rejects(run(g.transforms, Buffer.from('not gzip at all')), (e: NodeJS.ErrnoException) => /^Z_/.test(e.code ?? ''));
});
