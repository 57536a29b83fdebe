// The emulator's server pipeline: authentication, impersonation, recording, discovery, OpenAPI,
// content negotiation (415/406), protobuf self reviews, TokenRequest, body limit, OIDC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { startEmulator, type Emulator } from '../../../testing/kube-emulator/index.ts';
import { encodeProtobufBody } from '../../../testing/kube-emulator/protobuf.ts';
import { createLoopbackTls } from '../../../src/tls/dev-ca.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): Record<string, unknown>;
}

function call(
  emu: Emulator,
  method: string,
  path: string,
  opts: { token?: string | null; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<Reply> {
  const headers: Record<string, string | string[]> = { ...opts.headers };
  const token = opts.token === undefined ? emu.adminToken : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${emu.url}${path}`, { method, headers, ca: emu.caCert }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('kube emulator server', () => {
  let emu: Emulator;
  const bobToken = 'bob-token-0123456789';
  const impToken = 'imp-token-0123456789';

  before(async () => {
    emu = await startEmulator({
      tokens: { [bobToken]: { username: 'bob', groups: ['dev'] }, [impToken]: { username: 'gateway', groups: [] } },
      impersonators: ['gateway'],
    });
  });
  after(() => emu.close());

  describe('authentication', () => {
    test('no token → 401 Status Unauthorized', async () => {
      const r = await call(emu, 'GET', '/api/v1/namespaces', { token: null });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    });
    test('unknown token → 401, recorded without identity', async () => {
      emu.clearRequests();
      const r = await call(emu, 'GET', '/version', { token: 'nope' });
      assert.equal(r.status, 401);
      assert.equal(emu.requests.length, 1);
      assert.equal(emu.requests[0]!.authenticated, undefined);
      assert.equal(emu.requests[0]!.status, 401);
    });
    test('static token → user with system:authenticated', async () => {
      emu.clearRequests();
      const r = await call(emu, 'GET', '/version', { token: bobToken });
      assert.equal(r.status, 200);
      assert.equal(r.json().gitVersion, 'v1.30.2');
      assert.deepEqual(emu.requests[0]!.user, { username: 'bob', groups: ['dev', 'system:authenticated'] });
    });
    test('addToken registers a token at runtime', async () => {
      emu.addToken('late-token-xyz', { username: 'late', groups: [] });
      const r = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: 'late-token-xyz', body: '{}', headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 201);
      assert.deepEqual((r.json().status as { userInfo: unknown }).userInfo, { username: 'late', groups: ['system:authenticated'] });
    });
  });

  describe('impersonation', () => {
    test('system:masters may impersonate; user, groups, uid and extra are applied', async () => {
      emu.clearRequests();
      const r = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
        headers: {
          'content-type': 'application/json',
          'impersonate-user': 'alice',
          'impersonate-group': ['dev', 'ops'],
          'impersonate-uid': 'u-1',
          'impersonate-extra-Reason%2Fkey': 'jit',
        },
      });
      assert.equal(r.status, 201);
      const ui = (r.json().status as { userInfo: Record<string, unknown> }).userInfo;
      assert.deepEqual(ui, { username: 'alice', uid: 'u-1', groups: ['dev', 'ops', 'system:authenticated'], extra: { 'reason/key': ['jit'] } });
      const rec = emu.requests.at(-1)!;
      assert.equal(rec.impersonated, true);
      assert.equal(rec.authenticated!.username, 'emulator-admin');
      assert.equal(rec.user!.username, 'alice');
    });
    test('a configured impersonator may impersonate', async () => {
      emu.clearRequests();
      const r = await call(emu, 'GET', '/api/v1/namespaces/dev/pods', { token: impToken, headers: { 'impersonate-user': 'carol' } });
      assert.equal(r.status, 200);
      assert.deepEqual(emu.requests[0]!.user, { username: 'carol', groups: ['system:authenticated'] });
      assert.equal(emu.requests[0]!.authenticated!.username, 'gateway');
    });
    test('a service account gets its fixed groups', async () => {
      emu.clearRequests();
      await call(emu, 'GET', '/version', { headers: { 'impersonate-user': 'system:serviceaccount:dev:builder' } });
      assert.deepEqual(emu.requests[0]!.user!.groups, ['system:serviceaccounts', 'system:serviceaccounts:dev', 'system:authenticated']);
    });
    test('others get the real 403 message', async () => {
      emu.clearRequests();
      const r = await call(emu, 'GET', '/api/v1/namespaces/dev/pods', { token: bobToken, headers: { 'impersonate-user': 'alice' } });
      assert.equal(r.status, 403);
      const s = r.json();
      assert.equal(s.message, 'users "alice" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
      assert.equal(s.reason, 'Forbidden');
      assert.deepEqual(s.details, { name: 'alice', kind: 'users' });
      assert.equal(emu.requests[0]!.impersonated, false);
      assert.equal(emu.requests[0]!.status, 403);
    });
    test('groups without a user is the real server 500', async () => {
      const r = await call(emu, 'GET', '/version', { headers: { 'impersonate-group': 'dev' } });
      assert.equal(r.status, 500);
      assert.match(String(r.json().message), /without impersonating a user/);
    });
  });

  describe('recording', () => {
    test('the token never appears; its SHA-256 does', async () => {
      emu.clearRequests();
      await call(emu, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        token: bobToken,
        headers: { 'content-type': 'application/json', 'x-custom': 'v' },
        body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } }),
      });
      const text = JSON.stringify(emu.requests);
      assert.ok(!text.includes(bobToken), 'token leaked into the record');
      const rec = emu.requests[0]!;
      assert.equal(rec.headers.authorization, `Bearer sha256:${sha(bobToken)}`);
      assert.equal(rec.headers['x-custom'], 'v');
      assert.equal(rec.method, 'POST');
      assert.equal(rec.status, 201);
      assert.ok(rec.bodyBytes > 0);
      assert.match(Buffer.from(rec.bodyBase64!, 'base64').toString(), /SelfSubjectAccessReview/);
    });
  });

  describe('discovery', () => {
    test('legacy /api, /apis, /api/v1, /apis/apps', async () => {
      const api = (await call(emu, 'GET', '/api')).json();
      assert.equal(api.kind, 'APIVersions');
      assert.deepEqual(api.versions, ['v1']);
      const apis = (await call(emu, 'GET', '/apis')).json();
      assert.equal(apis.kind, 'APIGroupList');
      const groups = apis.groups as { name: string; preferredVersion: { groupVersion: string } }[];
      assert.ok(groups.some((g) => g.name === 'apps' && g.preferredVersion.groupVersion === 'apps/v1'));
      const v1 = (await call(emu, 'GET', '/api/v1')).json();
      assert.equal(v1.kind, 'APIResourceList');
      const res = v1.resources as Record<string, unknown>[];
      const pods = res.find((r) => r.name === 'pods')!;
      assert.deepEqual(pods.shortNames, ['po']);
      assert.equal(pods.singularName, 'pod');
      assert.equal(typeof pods.storageVersionHash, 'string');
      assert.ok(res.some((r) => r.name === 'pods/log' && r.kind === 'Pod'));
      const evict = res.find((r) => r.name === 'pods/eviction')!;
      assert.equal(evict.group, 'policy');
      const apps = (await call(emu, 'GET', '/apis/apps')).json();
      assert.equal(apps.kind, 'APIGroup');
    });
    test('aggregated discovery v2 and v2beta1 by Accept', async () => {
      for (const v of ['v2', 'v2beta1']) {
        const accept = `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList,application/json`;
        const r = await call(emu, 'GET', '/apis', { headers: { accept } });
        assert.equal(r.headers['content-type'], `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`);
        const doc = r.json();
        assert.equal(doc.kind, 'APIGroupDiscoveryList');
        assert.equal(doc.apiVersion, `apidiscovery.k8s.io/${v}`);
        const items = doc.items as { metadata: { name: string }; versions: { version: string; resources: Record<string, unknown>[] }[] }[];
        const apps = items.find((i) => i.metadata.name === 'apps')!;
        const dep = apps.versions[0]!.resources.find((x) => x.resource === 'deployments')!;
        assert.equal(dep.scope, 'Namespaced');
        assert.deepEqual(dep.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
        assert.ok((dep.subresources as { subresource: string }[]).some((s) => s.subresource === 'scale'));
      }
      const core = (await call(emu, 'GET', '/api', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).json();
      const items = core.items as { versions: { resources: { resource: string }[] }[] }[];
      assert.equal(items.length, 1);
      assert.ok(items[0]!.versions[0]!.resources.some((r) => r.resource === 'pods'));
    });
    test('unknown paths: 404 page not found (non-resource) and Status (resource)', async () => {
      const a = await call(emu, 'GET', '/nope');
      assert.equal(a.status, 404);
      assert.equal(a.body.toString(), '404 page not found\n');
      const b = await call(emu, 'GET', '/api/v1/namespaces/dev/gizmos');
      assert.equal(b.status, 404);
      assert.equal(b.json().message, 'the server could not find the requested resource');
    });
    test('405 for a verb the resource does not support', async () => {
      const r = await call(emu, 'DELETE', '/api/v1/namespaces/dev/services');
      assert.equal(r.status, 405);
      assert.equal(r.json().reason, 'MethodNotAllowed');
    });
    test('non-canonical paths are 400', async () => {
      const r = await call(emu, 'GET', '/api/v1/namespaces/dev/pods/..%2fsecrets');
      assert.equal(r.status, 400);
    });
  });

  describe('OpenAPI', () => {
    test('v3 root and per-group-version documents with patch metadata and fieldValidation', async () => {
      const root = (await call(emu, 'GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
      const url = root.paths['api/v1']!.serverRelativeURL;
      assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
      assert.ok(root.paths['apis/apps/v1']);
      const doc = (await call(emu, 'GET', url)).json() as { paths: Record<string, Record<string, Record<string, unknown>>>; components: { schemas: Record<string, Record<string, unknown>> } };
      const pod = doc.components.schemas['io.k8s.api.core.v1.Pod']!;
      assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
      const spec = doc.components.schemas['io.k8s.api.core.v1.PodSpec']!.properties as Record<string, Record<string, unknown>>;
      assert.equal(spec.containers!['x-kubernetes-patch-merge-key'], 'name');
      assert.equal(spec.containers!['x-kubernetes-patch-strategy'], 'merge');
      const container = doc.components.schemas['io.k8s.api.core.v1.Container']!.properties as Record<string, Record<string, unknown>>;
      assert.equal(container.ports!['x-kubernetes-patch-merge-key'], 'containerPort');
      assert.equal(container.volumeMounts!['x-kubernetes-patch-merge-key'], 'mountPath');
      const patch = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.patch!;
      assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
      const names = (patch.parameters as { name: string }[]).map((p) => p.name);
      for (const n of ['dryRun', 'fieldManager', 'fieldValidation', 'force']) assert.ok(names.includes(n), n);
    });
    test('v2 as protobuf and as JSON', async () => {
      const pb = await call(emu, 'GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
      assert.equal(pb.status, 200);
      assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
      assert.equal(pb.body[0], 0x0a); // field 1 (swagger), length-delimited
      const js = (await call(emu, 'GET', '/openapi/v2', { headers: { accept: 'application/json' } })).json();
      assert.equal(js.swagger, '2.0');
      assert.ok((js.definitions as Record<string, unknown>)['io.k8s.api.apps.v1.Deployment']);
    });
  });

  describe('content negotiation', () => {
    test('protobuf body to a JSON-only custom resource → 415', async () => {
      const r = await call(emu, 'POST', '/apis/demo.sluice.dev/v1/namespaces/dev/widgets', {
        headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
        body: Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x00]),
      });
      assert.equal(r.status, 415);
      assert.equal(r.json().reason, 'UnsupportedMediaType');
    });
    test('Accept of only protobuf → 406', async () => {
      const r = await call(emu, 'GET', '/apis/demo.sluice.dev/v1/namespaces/dev/widgets', { headers: { accept: 'application/vnd.kubernetes.protobuf' } });
      assert.equal(r.status, 406);
      assert.equal(r.json().reason, 'NotAcceptable');
    });
    test('protobuf body of a kind the emulator cannot decode → 415 with a clear message', async () => {
      const r = await call(emu, 'POST', '/api/v1/namespaces/dev/configmaps', {
        headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
        body: Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x10, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x0a, ...Buffer.from('ConfigMap!')]),
      });
      assert.equal(r.status, 415);
      assert.match(String(r.json().message), /cannot decode protobuf/);
    });
    test('a protobuf SelfSubjectAccessReview (kubectl auth can-i) is decoded and answered as JSON', async () => {
      const body = encodeProtobufBody({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { namespace: 'dev', verb: 'delete', resource: 'pods' } },
      });
      const r = await call(emu, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        headers: { 'content-type': 'application/vnd.kubernetes.protobuf', accept: 'application/vnd.kubernetes.protobuf, */*' },
        body,
      });
      assert.equal(r.status, 201);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const ssar = r.json();
      assert.deepEqual(ssar.status, { allowed: true });
      assert.deepEqual((ssar.spec as { resourceAttributes: unknown }).resourceAttributes, { namespace: 'dev', verb: 'delete', resource: 'pods' });
    });
  });

  describe('limits and virtual resources', () => {
    test('a body over 3 MiB → 413', async () => {
      const r = await call(emu, 'POST', '/api/v1/namespaces/dev/configmaps', {
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(3 * 1024 * 1024 + 10, 0x20),
      });
      assert.equal(r.status, 413);
      assert.equal(r.json().message, 'Request entity too large: limit is 3145728');
    });
    test('TokenRequest: 404 for a missing service account', async () => {
      const r = await call(emu, 'POST', '/api/v1/namespaces/dev/serviceaccounts/ghost/token', { headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(r.status, 404);
      assert.equal(r.json().message, 'serviceaccounts "ghost" not found');
    });
    test('TokenRequest: a JWT-shaped token that authenticates as the service account', async () => {
      const saDef = { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true } as const;
      const sa = emu.store.list(saDef as never, 'dev').items[0];
      assert.ok(sa, 'the demo seed has a service account in dev');
      const name = sa.metadata.name!;
      const r = await call(emu, 'POST', `/api/v1/namespaces/dev/serviceaccounts/${name}/token`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['x'], expirationSeconds: 3600 } }),
      });
      assert.equal(r.status, 201);
      const status = r.json().status as { token: string; expirationTimestamp: string };
      assert.equal(status.token.split('.').length, 3);
      assert.ok(Date.parse(status.expirationTimestamp) > Date.now());
      const who = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: status.token, headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal((who.json().status as { userInfo: { username: string } }).userInfo.username, `system:serviceaccount:dev:${name}`);
    });
    test('pod streams: 404 for a missing pod', async () => {
      const r = await call(emu, 'GET', '/api/v1/namespaces/dev/pods/ghost/log');
      assert.equal(r.status, 404);
      assert.equal(r.json().message, 'pods "ghost" not found');
    });
    test('upgrade requests are authenticated too', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${emu.url}/api/v1/namespaces/dev/pods/x/exec?command=ls`, {
          ca: emu.caCert,
          headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('upgrade', () => resolve(101));
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 401);
    });
  });

  describe('authorization hook', () => {
    test('a denying authorizer → 403 with the real wording, and SSAR reports allowed=false', async () => {
      const e2 = await startEmulator({
        seed: 'empty',
        authorize: (user, info) => (info.verb === 'delete' || (info.resource === 'secrets' && user.username === 'emulator-admin') ? { allowed: false, reason: 'policy says no' } : { allowed: true }),
      });
      try {
        const r = await call(e2, 'GET', '/api/v1/namespaces/dev/secrets/s1');
        assert.equal(r.status, 403);
        assert.equal(r.json().message, 'secrets "s1" is forbidden: User "emulator-admin" cannot get resource "secrets" in API group "" in the namespace "dev": policy says no');
        const ssar = await call(e2, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'delete', resource: 'pods', namespace: 'dev' } } }),
        });
        assert.deepEqual(ssar.json().status, { allowed: false, reason: 'policy says no' });
      } finally {
        await e2.close();
      }
    });
  });
});

describe('OIDC authentication', () => {
  test('a valid ID token from the issuer authenticates with prefixes; a wrong audience does not', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const tls = await createLoopbackTls();
    let issuer = '';
    const idp = createHttpsServer({ cert: tls.server.cert, key: tls.server.key }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/openid-configuration') res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
      else if (req.url === '/jwks') res.end(JSON.stringify({ keys: [jwk] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
    issuer = `https://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const emu = await startEmulator({
      seed: 'empty',
      oidc: { issuer, audience: 'kube', usernameClaim: 'email', groupsClaim: 'groups', groupsPrefix: 'oidc:', caCert: tls.ca.cert },
    });
    try {
      const sign = (aud: string) =>
        new SignJWT({ email: 'ann@example.com', email_verified: true, groups: ['devs'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(issuer)
          .setAudience(aud)
          .setSubject('ann')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);
      const ok = await call(emu, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { token: await sign('kube'), headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(ok.status, 201);
      assert.deepEqual((ok.json().status as { userInfo: unknown }).userInfo, { username: 'ann@example.com', groups: ['oidc:devs', 'system:authenticated'] });
      const bad = await call(emu, 'GET', '/version', { token: await sign('other') });
      assert.equal(bad.status, 401);
    } finally {
      await emu.close();
      idp.close();
    }
  });
});
