/** Builders for policy unit tests: principals, Kubernetes request attributes, inline policies. */
import assert from 'node:assert/strict';
import { SluiceError } from '../../../src/core/errors.ts';
import type { Principal } from '../../../src/core/principal.ts';
import type { KubernetesRequestAttributes } from '../../../src/core/request.ts';
import { parsePolicies } from '../../../src/policy/load-policies.ts';
import type { PolicySet } from '../../../src/policy/policy-set.ts';

export function principal(username: string, groups: string[] = [], kind?: 'person' | 'machine'): Principal {
  return { issuer: 'https://issuer.test', subject: `sub-${username}`, username, groups, ...(kind ? { kind } : {}) };
}

/** A resource request; `resource: 'pods/log'` is split into resource and subresource. */
export function req(over: Partial<KubernetesRequestAttributes> & { resource?: string } = {}): KubernetesRequestAttributes {
  const [resource, sub] = (over.resource ?? 'pods').split('/');
  return {
    connection: 'demo',
    verb: 'get',
    apiGroup: '',
    apiVersion: 'v1',
    namespace: 'dev',
    name: '',
    isResourceRequest: true,
    path: '/api/v1/namespaces/dev/pods',
    ...over,
    resource: resource!,
    subresource: over.subresource ?? sub ?? '',
  };
}

export function nonResource(path: string, verb = 'get'): KubernetesRequestAttributes {
  return { connection: 'demo', verb, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', isResourceRequest: false, path };
}

/** Compile YAML policy text (one file). */
export function policy(yaml: string, source = 'test.yaml'): PolicySet {
  return parsePolicies([{ source, text: yaml }]);
}

/** The message of the SluiceError (POLICY_INVALID unless told) that `fn` throws; fails when it throws none. */
export function problemsOf(fn: () => unknown, code = 'POLICY_INVALID'): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SluiceError);
    assert.equal(e.code, code);
    return e.message;
  }
  assert.fail(`expected ${code}`);
}
