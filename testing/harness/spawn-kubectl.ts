/**
 * Start a long-running kubectl (logs -f, get -w, port-forward, exec) and interact with it while
 * it runs: wait for output matching a pattern or for any condition, read what it printed so
 * far, and stop it. Waits are bounded and fail with what kubectl printed.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { kubectlCommand, stopChild, type KubectlOptions, type KubectlResult } from './run-kubectl.ts';

export interface SpawnedKubectl {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Resolve with the match once `pattern` appears (stdout by default); reject on timeout or exit. */
  waitForOutput(pattern: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr' | 'both'): Promise<RegExpMatchArray>;
  /** Resolve once `condition()` is true (checked on each output and every 50 ms); reject on timeout. */
  waitFor(condition: () => boolean, timeoutMs?: number, description?: string): Promise<void>;
  /** Stop kubectl (SIGTERM, then SIGKILL) and return what it printed. */
  stop(): Promise<KubectlResult>;
}

export function spawnKubectl(opts: KubectlOptions): SpawnedKubectl {
  const { file, argv, env } = kubectlCommand(opts);
  const child = spawn(file, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  child.stdout.setEncoding('utf8').on('data', (d: string) => ((out += d), notify()));
  child.stderr.setEncoding('utf8').on('data', (d: string) => ((err += d), notify()));
  child.stdin.on('error', () => undefined);
  child.on('error', (e) => ((err += `\n[harness] ${e.message}\n`), notify()));
  const exited = new Promise<void>((resolve) => child.once('close', () => (notify(), resolve())));
  const done = () => child.exitCode !== null || child.signalCode !== null;
  const what = `kubectl ${opts.args.join(' ')}`;

  const waitFor = (condition: () => boolean, timeoutMs = 20_000, description = 'condition'): Promise<void> =>
    new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        listeners.delete(check);
        clearInterval(poll);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (condition()) return finish();
        if (done()) finish(new Error(`${what} exited (code ${child.exitCode}) before ${description}\nstdout:\n${out}\nstderr:\n${err}`));
      };
      const poll = setInterval(check, 50);
      const timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${description} from ${what}\nstdout:\n${out}\nstderr:\n${err}`)),
        timeoutMs,
      );
      listeners.add(check);
      check();
    });

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    async waitForOutput(pattern, timeoutMs = 20_000, stream = 'stdout') {
      const text = () => (stream === 'stdout' ? out : stream === 'stderr' ? err : `${out}\n${err}`);
      let match: RegExpMatchArray | null = null;
      await waitFor(() => (match = text().match(pattern)) !== null, timeoutMs, `output matching ${pattern}`);
      return match as unknown as RegExpMatchArray;
    },
    async stop() {
      await stopChild(child);
      await exited;
      return { code: child.exitCode, signal: child.signalCode, stdout: out, stderr: err };
    },
  };
}
