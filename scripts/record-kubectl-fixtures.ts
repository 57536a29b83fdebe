/**
 * Records the HTTP requests that real kubectl versions send for each scenario of the e2e suite
 * (test/e2e/kubectl-scenarios.ts) and writes them to test/fixtures/kubectl/<version>/<scenario>.json.
 * The fixtures feed the request-classification tests: they are what kubectl really sends, not
 * what we think it sends. Rerun after a kubectl upgrade:
 *
 *   node --import tsx scripts/record-kubectl-fixtures.ts [1.27 1.30 1.33]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestWorld } from '../testing/harness/index.ts';
import type { RecordedRequest } from '../testing/kube-emulator/types.ts';
import { SCENARIOS, scenarioContext } from '../test/e2e/kubectl-scenarios.ts';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const versions = process.argv.slice(2).length ? process.argv.slice(2) : ['1.27', '1.30', '1.33'];
const KEEP_HEADERS = ['accept', 'content-type', 'upgrade', 'connection', 'sec-websocket-protocol', 'x-stream-protocol-version', 'user-agent', 'kubectl-command'];

export interface FixtureRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  body?: unknown;
  bodyBase64?: string;
  status?: number;
}

function toFixture(r: RecordedRequest): FixtureRequest {
  const headers: Record<string, string | string[]> = {};
  for (const h of KEEP_HEADERS) if (r.headers[h] !== undefined) headers[h] = r.headers[h]!;
  const out: FixtureRequest = { method: r.method, url: r.url, headers, status: r.status };
  if (r.bodyBase64) {
    const buf = Buffer.from(r.bodyBase64, 'base64');
    const text = buf.toString('utf8');
    try {
      out.body = JSON.parse(text) as unknown;
    } catch {
      out.bodyBase64 = r.bodyBase64;
    }
  }
  return out;
}

for (const version of versions) {
  const world = await startTestWorld({ oidc: false, seed: 'demo' });
  try {
    const kubeconfig = await world.kubeconfigFor('admin');
    const ctx = await scenarioContext(version, kubeconfig);
    const dir = join(root, 'test/fixtures/kubectl', version);
    await mkdir(dir, { recursive: true });
    for (const s of SCENARIOS) {
      world.emulator.clearRequests();
      let error: string | undefined;
      await s.run(ctx).catch((e: unknown) => (error = (e as Error).message.split('\n')[0]));
      const requests = world.emulator.requests.map(toFixture);
      await writeFile(join(dir, `${s.name}.json`), JSON.stringify({ kubectl: version, scenario: s.name, requests }, null, 1) + '\n');
      console.log(`${version} ${s.name}: ${requests.length} requests${error ? ` (scenario failed: ${error})` : ''}`);
    }
  } finally {
    await world.stop();
  }
}
