/**
 * Hot reload: loads the policies, then watches their directories (fs.watch) and reloads after a
 * quiet period (debounce), so that an editor's save-and-rename or a `kubectl cp` of several
 * files becomes one reload. A reload that fails keeps the last good PolicySet in force and is
 * reported through `onError`; the gateway never runs without a policy, and never with half of one.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { loadPolicies } from './load-policies.ts';
import type { PolicySet } from './policy-set.ts';

export interface WatchPoliciesOptions {
  /** Quiet period after the last change before reloading; default 200 ms. */
  debounceMs?: number;
  /** A reload succeeded; the new set is in force. */
  onReload?: (policies: PolicySet) => void;
  /** A reload failed; `current()` still returns the last good set. */
  onError?: (error: Error) => void;
  /** Injected loader (tests); default loadPolicies. */
  load?: (paths: readonly string[]) => Promise<PolicySet>;
}

export interface PolicyWatcher {
  /** The policy in force: the last set that loaded without problems. */
  current(): PolicySet;
  /** Reload now (also what a change triggers); resolves when done, never rejects. */
  reload(): Promise<void>;
  close(): void;
}

/** Load the policies (throws if the first load fails) and keep them current. */
export async function watchPolicies(paths: string | readonly string[], options: WatchPoliciesOptions = {}): Promise<PolicyWatcher> {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  const load = options.load ?? loadPolicies;
  const debounceMs = options.debounceMs ?? 200;
  let current = await load(list);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const reloadOnce = async () => {
    try {
      const next = await load(list);
      if (closed) return;
      current = next;
      options.onReload?.(next);
    } catch (e) {
      if (!closed) options.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  };
  // One reload at a time; a change during a reload triggers exactly one more.
  const reload = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await reloadOnce();
      } while (again && !closed);
      running = undefined;
    })();
    return running;
  };
  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  };

  // Watch directories, not files: editors replace files by rename, which ends a file watch.
  const watchers: FSWatcher[] = [];
  for (const p of list) {
    const abs = resolve(p);
    const isDir = (await stat(abs)).isDirectory();
    const dir = isDir ? abs : dirname(abs);
    const only = isDir ? undefined : basename(abs);
    const w = watch(dir, { persistent: false }, (_event, name) => {
      if (only === undefined || name === null || name === only) schedule();
    });
    w.on('error', (e) => options.onError?.(e));
    watchers.push(w);
  }

  return {
    current: () => current,
    reload,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
