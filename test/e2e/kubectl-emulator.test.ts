/**
 * Every kubectl command the foundation promises, with real kubectl 1.27 and 1.33, against the
 * Kubernetes API emulator: the emulator must be faithful enough that later suites can put the
 * gateway in between and trust what they see.
 */
import { after, before, describe, test } from 'node:test';
import { startTestWorld, type TestWorld } from '../../testing/harness/index.ts';
import { SCENARIOS, scenarioContext, type ScenarioContext } from './kubectl-scenarios.ts';

for (const version of ['1.27', '1.33']) {
  describe(`kubectl ${version} against the emulator`, () => {
    let world: TestWorld;
    let ctx: ScenarioContext;

    before(async () => {
      world = await startTestWorld({ oidc: false, seed: 'demo' });
      ctx = await scenarioContext(version, await world.kubeconfigFor('admin'));
    });
    after(() => world?.stop());

    for (const s of SCENARIOS) test(s.name, () => s.run(ctx));
  });
}
