/**
 * Every kubectl command the foundation promises, with real kubectl 1.27 and 1.33, against the
 * Kubernetes API emulator: the emulator must be faithful enough that later suites can put the
 * gateway in between and trust what they see.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runKubectl, startTestWorld, type TestWorld } from '../../testing/harness/index.ts';
import { SCENARIOS, type ScenarioContext } from './kubectl-scenarios.ts';

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version} against the emulator`, () => {
    let world: TestWorld;
    let ctx: ScenarioContext;
    let touches = 0;

    before(async () => {
      world = await startTestWorld({ oidc: false, seed: 'demo' });
      const kubeconfig = await world.kubeconfigFor('admin');
      const names = await runKubectl({ version, kubeconfig, args: ['get', 'pods', '-n', 'dev', '-o', 'name'] });
      assert.equal(names.code, 0, names.stderr);
      const pod = names.stdout.split('\n').find((l) => l.startsWith('pod/web-'))?.slice('pod/'.length);
      assert.ok(pod, `a web pod in dev: ${names.stdout}`);
      ctx = {
        version,
        kubeconfig,
        namespace: 'dev',
        pod,
        async touchPod(name) {
          const r = await runKubectl({ version, kubeconfig, args: ['label', 'pod', name, '-n', 'dev', `touched=t${++touches}`, '--overwrite'] });
          assert.equal(r.code, 0, r.stderr);
        },
      };
    });
    after(() => world?.stop());

    for (const s of SCENARIOS) test(s.name, () => s.run(ctx));
  });
}
