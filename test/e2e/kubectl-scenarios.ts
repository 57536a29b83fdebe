/**
 * The kubectl commands every part of Sluice must carry, as scenarios: each runs a real kubectl
 * of a given version against a kubeconfig and checks what a person would see. The e2e suite
 * runs them against the emulator (and, with the gateway, through Sluice); the fixture recorder
 * (scripts/record-kubectl-fixtures.ts) runs them to capture the traffic kubectl really sends.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePort, kubectlPath as kubectlBinary, runKubectl, spawnKubectl, type KubectlResult } from '../../testing/harness/index.ts';

export interface ScenarioContext {
  version: string;
  kubeconfig: string;
  /** Namespace the scenario may change freely (created beforehand, seeded with pods). */
  namespace: string;
  /** A running pod in that namespace. */
  pod: string;
  /** Make a change to a pod in the namespace by other means (to trigger watch events). */
  touchPod(name: string): Promise<void>;
}

export interface Scenario {
  name: string;
  /** Runs the scenario; throws (assert) when kubectl does not behave. */
  run(ctx: ScenarioContext): Promise<void>;
}

/**
 * The context for running the scenarios as the identity of `kubeconfig` in namespace dev of the
 * demo seed: a running web pod, and `touchPod` labels a pod with kubectl to cause watch events.
 */
export async function scenarioContext(version: string, kubeconfig: string): Promise<ScenarioContext> {
  const names = await runKubectl({ version, kubeconfig, args: ['get', 'pods', '-n', 'dev', '-o', 'name'] });
  assert.equal(names.code, 0, names.stderr);
  const pod = names.stdout.split('\n').find((l) => l.startsWith('pod/web-'))?.slice('pod/'.length);
  assert.ok(pod, `a web pod in dev: ${names.stdout}`);
  let touches = 0;
  return {
    version,
    kubeconfig,
    namespace: 'dev',
    pod,
    async touchPod(name) {
      const r = await runKubectl({ version, kubeconfig, args: ['label', 'pod', name, '-n', 'dev', `touched=t${++touches}`, '--overwrite'] });
      assert.equal(r.code, 0, r.stderr);
    },
  };
}

const kubectl = (ctx: ScenarioContext, args: string[], stdin?: string, timeoutMs = 30_000): Promise<KubectlResult> =>
  runKubectl({ version: ctx.version, kubeconfig: ctx.kubeconfig, args, stdin, timeoutMs });

function ok(r: KubectlResult, what: string): string {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stderr}`);
  return r.stdout;
}

function httpGet(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const deployment = (name: string, replicas: number, image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
      - name: main
        image: ${image}
        ports:
        - containerPort: 8080
        env:
        - name: MODE
          value: demo
`;

export const SCENARIOS: Scenario[] = [
  {
    name: 'discovery',
    async run(ctx) {
      // A cold cache, so kubectl really asks for (aggregated) discovery.
      const cache = await mkdtemp(join(tmpdir(), 'sluice-cache-'));
      try {
        const out = ok(await kubectl(ctx, ['api-resources', '--cache-dir', cache]), 'api-resources');
        assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
        assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
        assert.match(out, /^widgets\s+wg\s+demo\.sluice\.dev\/v1\s+true\s+Widget$/m);
        const v = ok(await kubectl(ctx, ['version', '-o', 'json', '--cache-dir', cache]), 'version');
        assert.match((JSON.parse(v) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion, /^v1\.\d+\.\d+/);
      } finally {
        await rm(cache, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'get',
    async run(ctx) {
      const out = ok(await kubectl(ctx, ['get', 'pods', '-n', ctx.namespace]), 'get pods');
      assert.match(out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/m);
      assert.match(out, new RegExp(`^${ctx.pod}\\s+1/1\\s+Running`, 'm'));
    },
  },
  {
    name: 'get-json',
    async run(ctx) {
      const list = JSON.parse(ok(await kubectl(ctx, ['get', 'pods', '-n', ctx.namespace, '-o', 'json']), 'get -o json')) as {
        kind: string;
        items: { metadata: { name: string; namespace: string } }[];
      };
      assert.equal(list.kind, 'List');
      assert.ok(list.items.some((p) => p.metadata.name === ctx.pod && p.metadata.namespace === ctx.namespace));
    },
  },
  {
    name: 'get-yaml',
    async run(ctx) {
      const pod = parseYaml(ok(await kubectl(ctx, ['get', 'pod', ctx.pod, '-n', ctx.namespace, '-o', 'yaml']), 'get -o yaml')) as {
        kind: string;
        metadata: { name: string; resourceVersion: string };
      };
      assert.equal(pod.kind, 'Pod');
      assert.equal(pod.metadata.name, ctx.pod);
      assert.match(pod.metadata.resourceVersion, /^\d+$/);
    },
  },
  {
    name: 'get-watch',
    async run(ctx) {
      const w = spawnKubectl({ version: ctx.version, kubeconfig: ctx.kubeconfig, args: ['get', 'pods', '-n', ctx.namespace, '-w', '-o', 'name'] });
      try {
        await w.waitForOutput(new RegExp(`pod/${ctx.pod}`), 20_000);
        const before = w.stdout().split(`pod/${ctx.pod}`).length;
        await ctx.touchPod(ctx.pod);
        await w.waitFor(() => w.stdout().split(`pod/${ctx.pod}`).length > before, 20_000, 'a watch event for the changed pod');
      } finally {
        await w.stop();
      }
    },
  },
  {
    name: 'describe',
    async run(ctx) {
      const out = ok(await kubectl(ctx, ['describe', 'pod', ctx.pod, '-n', ctx.namespace]), 'describe');
      assert.match(out, new RegExp(`^Name:\\s+${ctx.pod}$`, 'm'));
      assert.match(out, new RegExp(`^Namespace:\\s+${ctx.namespace}$`, 'm'));
      assert.match(out, /^Containers:$/m);
      assert.match(out, /^Events:/m);
    },
  },
  {
    name: 'delete',
    async run(ctx) {
      ok(await kubectl(ctx, ['create', 'configmap', 'to-delete', '-n', ctx.namespace, '--from-literal=a=b']), 'create configmap');
      const out = ok(await kubectl(ctx, ['delete', 'configmap', 'to-delete', '-n', ctx.namespace]), 'delete');
      assert.match(out, /configmap "to-delete" deleted/);
      const gone = await kubectl(ctx, ['get', 'configmap', 'to-delete', '-n', ctx.namespace]);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /NotFound|not found/);
    },
  },
  {
    name: 'delete-pod-waits',
    async run(ctx) {
      const pods = ok(await kubectl(ctx, ['get', 'pods', '-n', ctx.namespace, '-o', 'name']), 'get pods').trim().split('\n');
      const victim = pods.find((p) => p !== `pod/${ctx.pod}`);
      assert.ok(victim, 'a second pod to delete');
      const out = ok(await kubectl(ctx, ['delete', victim, '-n', ctx.namespace, '--wait=true', '--timeout=20s']), 'delete pod');
      assert.match(out, /deleted/);
      const after = ok(await kubectl(ctx, ['get', 'pods', '-n', ctx.namespace, '-o', 'name']), 'get pods');
      assert.ok(!after.split('\n').includes(victim), `${victim} still listed after delete --wait`);
    },
  },
  {
    name: 'apply',
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-apply-'));
      try {
        const f = join(dir, 'deploy.yaml');
        await writeFile(f, deployment('applied', 1, 'nginx:1.27'));
        assert.match(ok(await kubectl(ctx, ['apply', '-n', ctx.namespace, '-f', f]), 'apply (create)'), /deployment.apps\/applied created/);
        await writeFile(f, deployment('applied', 3, 'nginx:1.28'));
        assert.match(ok(await kubectl(ctx, ['apply', '-n', ctx.namespace, '-f', f]), 'apply (update)'), /deployment.apps\/applied configured/);
        assert.match(ok(await kubectl(ctx, ['apply', '-n', ctx.namespace, '-f', f]), 'apply (same)'), /deployment.apps\/applied unchanged/);
        const d = JSON.parse(ok(await kubectl(ctx, ['get', 'deploy', 'applied', '-n', ctx.namespace, '-o', 'json']), 'get')) as {
          spec: { replicas: number; template: { spec: { containers: { image: string; env: unknown[] }[] } } };
          metadata: { annotations: Record<string, string> };
        };
        assert.equal(d.spec.replicas, 3);
        assert.equal(d.spec.template.spec.containers[0]?.image, 'nginx:1.28');
        assert.equal(d.spec.template.spec.containers[0]?.env.length, 1);
        assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'apply-server-side',
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-ssa-'));
      try {
        const f = join(dir, 'deploy.yaml');
        await writeFile(f, deployment('ssa', 2, 'nginx:1.27'));
        assert.match(ok(await kubectl(ctx, ['apply', '--server-side', '-n', ctx.namespace, '-f', f]), 'apply --server-side'), /deployment.apps\/ssa serverside-applied/);
        await writeFile(f, deployment('ssa', 4, 'nginx:1.27'));
        ok(await kubectl(ctx, ['apply', '--server-side', '-n', ctx.namespace, '-f', f]), 'apply --server-side (update)');
        const d = JSON.parse(ok(await kubectl(ctx, ['get', 'deploy', 'ssa', '-n', ctx.namespace, '-o', 'json', '--show-managed-fields']), 'get')) as {
          spec: { replicas: number };
          metadata: { managedFields?: { manager: string; operation: string }[] };
        };
        assert.equal(d.spec.replicas, 4);
        assert.ok(d.metadata.managedFields?.some((m) => m.manager === 'kubectl' && m.operation === 'Apply'));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'logs-follow',
    async run(ctx) {
      const l = spawnKubectl({ version: ctx.version, kubeconfig: ctx.kubeconfig, args: ['logs', '-f', ctx.pod, '-n', ctx.namespace] });
      try {
        await l.waitForOutput(/\n/, 20_000);
        const lines = l.stdout().split('\n').length;
        // follow keeps the stream open: more lines arrive without a new request.
        await l.waitFor(() => l.stdout().split('\n').length > lines + 1, 20_000, 'more log lines while following');
        assert.equal(l.child.exitCode, null, 'logs -f exited on its own');
      } finally {
        await l.stop();
      }
    },
  },
  {
    name: 'exec-stdin',
    async run(ctx) {
      const r = await kubectl(ctx, ['exec', '-i', ctx.pod, '-n', ctx.namespace, '--', 'cat'], 'hello from stdin\nsecond line\n');
      assert.equal(ok(r, 'exec -i cat'), 'hello from stdin\nsecond line\n');
      const e = await kubectl(ctx, ['exec', ctx.pod, '-n', ctx.namespace, '--', 'sh', '-c', 'echo out; false']);
      assert.equal(e.code, 1, 'exit code of the remote command reaches kubectl');
      assert.equal(e.stdout, 'out\n');
    },
  },
  {
    name: 'exec-tty',
    async run(ctx) {
      // A real terminal for kubectl: util-linux `script` gives it a pty.
      const cmd = `${kubectlBinary(ctx.version)} --kubeconfig ${ctx.kubeconfig} exec -it ${ctx.pod} -n ${ctx.namespace} -- sh`;
      const r = await runCommand('script', ['-qec', cmd, '/dev/null'], 'echo tty-works\nexit\n', 30_000);
      assert.equal(r.code, 0, `exec -it failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /tty-works/);
    },
  },
  {
    name: 'cp',
    async run(ctx) {
      const dir = await mkdtemp(join(tmpdir(), 'sluice-cp-'));
      try {
        const src = join(dir, 'upload.txt');
        const back = join(dir, 'download.txt');
        await writeFile(src, 'copied through kubectl cp\n');
        ok(await kubectl(ctx, ['cp', src, `${ctx.namespace}/${ctx.pod}:/tmp/upload.txt`]), 'cp to pod');
        const cat = ok(await kubectl(ctx, ['exec', ctx.pod, '-n', ctx.namespace, '--', 'cat', '/tmp/upload.txt']), 'exec cat');
        assert.equal(cat, 'copied through kubectl cp\n');
        ok(await kubectl(ctx, ['cp', `${ctx.namespace}/${ctx.pod}:/tmp/upload.txt`, back]), 'cp from pod');
        assert.equal(await readFile(back, 'utf8'), 'copied through kubectl cp\n');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
  {
    name: 'port-forward',
    async run(ctx) {
      const port = await freePort();
      const pf = spawnKubectl({
        version: ctx.version,
        kubeconfig: ctx.kubeconfig,
        args: ['port-forward', `pod/${ctx.pod}`, '-n', ctx.namespace, `${port}:8080`, '--address', '127.0.0.1'],
      });
      try {
        await pf.waitForOutput(/Forwarding from 127\.0\.0\.1/, 20_000);
        const res = await httpGet(port);
        assert.equal(res.status, 200);
        assert.match(res.body, new RegExp(ctx.pod));
      } finally {
        await pf.stop();
      }
    },
  },
  {
    name: 'auth-can-i',
    async run(ctx) {
      const r = await kubectl(ctx, ['auth', 'can-i', 'delete', 'pods', '-n', ctx.namespace]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'yes');
    },
  },
];

// Low-level helper for the tty scenario.
function runCommand(cmd: string, args: string[], stdin: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    // Type into the terminal a moment after the shell is up, like a person would.
    setTimeout(() => child.stdin.end(stdin), 1000);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
