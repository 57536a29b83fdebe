/**
 * The recorded traffic of real kubectl versions (test/fixtures/kubectl) is well-formed and
 * classifies as the API server would: each scenario's characteristic request is there, with the
 * verb and subresource RequestInfo derives. These fixtures feed the gateway's classification.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parseRequestInfo } from '../../../src/protocols/kubernetes/request-info.ts';

interface Fixture {
  kubectl: string;
  scenario: string;
  requests: { method: string; url: string; headers: Record<string, string | string[]>; status?: number }[];
}

const dir = new URL('../../fixtures/kubectl/', import.meta.url);
const versions = readdirSync(dir).sort();

/** scenario → a request that must be in it: verb, resource[/subresource], and optionally a content type. */
const EXPECTED: Record<string, { verb: string; resource: string; contentType?: RegExp }[]> = {
  get: [{ verb: 'list', resource: 'pods' }],
  'get-json': [{ verb: 'list', resource: 'pods' }],
  'get-yaml': [{ verb: 'get', resource: 'pods' }],
  'get-watch': [{ verb: 'watch', resource: 'pods' }, { verb: 'patch', resource: 'pods' }],
  describe: [{ verb: 'get', resource: 'pods' }, { verb: 'list', resource: 'events' }],
  delete: [{ verb: 'create', resource: 'configmaps' }, { verb: 'delete', resource: 'configmaps' }],
  'delete-pod-waits': [{ verb: 'delete', resource: 'pods' }],
  apply: [{ verb: 'create', resource: 'deployments' }, { verb: 'patch', resource: 'deployments', contentType: /strategic-merge-patch/ }],
  'apply-server-side': [{ verb: 'patch', resource: 'deployments', contentType: /apply-patch\+yaml/ }],
  'logs-follow': [{ verb: 'get', resource: 'pods/log' }],
  'exec-stdin': [{ verb: 'create|get', resource: 'pods/exec' }],
  'exec-tty': [{ verb: 'create|get', resource: 'pods/exec' }],
  cp: [{ verb: 'create|get', resource: 'pods/exec' }],
  'port-forward': [{ verb: 'create|get', resource: 'pods/portforward' }],
  'auth-can-i': [{ verb: 'create', resource: 'selfsubjectaccessreviews' }],
};

test('fixtures exist for kubectl 1.27, 1.30 and 1.33', () => {
  for (const v of ['1.27', '1.30', '1.33']) assert.ok(versions.includes(v), `no fixtures for kubectl ${v}`);
});

for (const version of versions) {
  test(`kubectl ${version}: every recorded request classifies, and each scenario has its characteristic request`, () => {
    const files = readdirSync(new URL(`${version}/`, dir)).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= Object.keys(EXPECTED).length);
    for (const file of files) {
      const fx = JSON.parse(readFileSync(new URL(`${version}/${file}`, dir), 'utf8')) as Fixture;
      assert.equal(fx.kubectl, version);
      assert.ok(fx.requests.length > 0, `${file}: no requests recorded`);
      const infos = fx.requests.map((r) => {
        assert.ok(r.status && r.status < 500, `${file}: ${r.method} ${r.url} answered ${r.status}`);
        const agent = String(r.headers['user-agent'] ?? '');
        assert.match(agent, new RegExp(`^kubectl[^/]*/v${version.replace('.', '\\.')}\\.`), `${file}: user agent ${agent}`);
        return { info: parseRequestInfo(r.method, r.url), contentType: String(r.headers['content-type'] ?? '') };
      });
      for (const want of EXPECTED[fx.scenario] ?? []) {
        const hit = infos.some(
          ({ info, contentType }) =>
            new RegExp(`^(${want.verb})$`).test(info.verb) &&
            (info.subresource ? `${info.resource}/${info.subresource}` : info.resource) === want.resource &&
            (!want.contentType || want.contentType.test(contentType)),
        );
        assert.ok(hit, `${version}/${file}: no ${want.verb} ${want.resource} request`);
      }
    }
  });
}
