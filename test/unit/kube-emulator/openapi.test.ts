// OpenAPI v3 patch media types (testing/kube-emulator/openapi.ts): custom resources list no
// strategic merge patch, as the apiextensions-apiserver's builder does, so client-side
// `kubectl apply` (gvkSupportsPatchOpenAPIV3) falls back to a JSON merge patch; the server refuses
// a strategic merge patch to a custom resource with the real 415 message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { startEmulator, type Emulator } from '../../../testing/kube-emulator/index.ts';
import { openApiV3Document } from '../../../testing/kube-emulator/openapi.ts';

type Doc = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses?: Record<string, { content?: Record<string, unknown> }> }>> };

function doc(group: string, version: string): Doc {
  const d = openApiV3Document(group, version);
  assert.ok(d, `${group}/${version} is served`);
  return d as unknown as Doc;
}
const patchTypes = (d: Doc, path: string) => Object.keys(d.paths[path]?.patch?.requestBody?.content ?? {});

describe('OpenAPI v3 patch media types', () => {
  const widget = '/apis/demo.sluice.dev/v1/namespaces/{namespace}/widgets/{name}';

  test('custom resources: JSON patch, merge patch and apply patch only', () => {
    const d = doc('demo.sluice.dev', 'v1');
    const expected = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];
    assert.deepEqual(patchTypes(d, widget), expected);
    assert.deepEqual(patchTypes(d, `${widget}/status`), expected);
  });

  test('custom resources answer JSON and YAML, not protobuf', () => {
    const d = doc('demo.sluice.dev', 'v1');
    assert.deepEqual(Object.keys(d.paths[widget]?.get?.responses?.['200']?.content ?? {}), ['application/json', 'application/yaml']);
  });

  test('built-in kinds keep strategic merge patch and protobuf', () => {
    const d = doc('', 'v1');
    const cm = '/api/v1/namespaces/{namespace}/configmaps/{name}';
    assert.ok(patchTypes(d, cm).includes('application/strategic-merge-patch+json'));
    assert.ok(Object.keys(d.paths[cm]?.get?.responses?.['200']?.content ?? {}).includes('application/vnd.kubernetes.protobuf'));
    const apps = doc('apps', 'v1');
    assert.ok(patchTypes(apps, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale').includes('application/strategic-merge-patch+json'));
  });
});

describe('patching a custom resource', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ seed: 'demo' });
  });
  after(() => emu.close());

  function patch(contentType: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${emu.url}/apis/demo.sluice.dev/v1/namespaces/dev/widgets/small`,
        { method: 'PATCH', ca: emu.caCert, headers: { authorization: `Bearer ${emu.adminToken}`, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  test('strategic merge patch → 415 with the API server message', async () => {
    const r = await patch('application/strategic-merge-patch+json', '{"spec":{"size":5}}');
    assert.equal(r.status, 415);
    assert.equal(r.json.reason, 'UnsupportedMediaType');
    assert.equal(r.json.message, 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  });

  test('merge patch (what kubectl apply falls back to) → 200', async () => {
    const r = await patch('application/merge-patch+json', '{"spec":{"size":5}}');
    assert.equal(r.status, 200);
    assert.equal((r.json.spec as { size: number }).size, 5);
  });
});
