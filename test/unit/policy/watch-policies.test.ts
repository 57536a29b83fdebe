import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceError } from '../../../src/core/errors.ts';
import type { PolicySet } from '../../../src/policy/policy-set.ts';
import { watchPolicies } from '../../../src/policy/watch-policies.ts';

/** Resolves with the next value pushed, or rejects after `ms`. */
function nextEvent<T>(ms = 5000): { push: (v: T) => void; next: () => Promise<T> } {
  const queue: T[] = [];
  let waiter: ((v: T) => void) | undefined;
  return {
    push(v) {
      if (waiter) {
        const w = waiter;
        waiter = undefined;
        w(v);
      } else queue.push(v);
    },
    next() {
      if (queue.length) return Promise.resolve(queue.shift()!);
      return new Promise<T>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no event within the timeout')), ms);
        waiter = (v) => {
          clearTimeout(t);
          resolve(v);
        };
      });
    },
  };
}

test('hot reload: a new file brings new rules; a broken file keeps the last good set and is reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-watch-'));
  const reloads = nextEvent<PolicySet>();
  const errors = nextEvent<Error>();
  try {
    await writeFile(join(dir, 'a.yaml'), '- { id: a, effect: deny, verbs: [delete] }\n');
    const w = await watchPolicies(dir, { debounceMs: 50, onReload: reloads.push, onError: errors.push });
    try {
      assert.deepEqual(w.current().rules.map((r) => r.id), ['a']);

      await writeFile(join(dir, 'b.yaml'), '- { id: b, effect: allow, subjects: { users: [bob] }, verbs: [get], resources: [pods] }\n');
      let set = await reloads.next();
      while (set.rules.length < 2) set = await reloads.next();
      assert.deepEqual(set.rules.map((r) => r.id), ['a', 'b']);
      assert.equal(w.current(), set);

      await writeFile(join(dir, 'c.yaml'), '- id: c\n  effect: maybe\n');
      const err = await errors.next();
      assert.ok(err instanceof SluiceError);
      assert.equal(err.code, 'POLICY_INVALID');
      assert.match(err.message, /c\.yaml:2:11 0\.effect/);
      assert.deepEqual(w.current().rules.map((r) => r.id), ['a', 'b'], 'the last good set stays in force');

      await writeFile(join(dir, 'c.yaml'), '- { id: c, effect: deny, verbs: [escalate] }\n');
      set = await reloads.next();
      while (set.rules.length < 3) set = await reloads.next();
      assert.deepEqual(w.current().rules.map((r) => r.id), ['a', 'b', 'c']);
    } finally {
      w.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the first load must succeed; reload() can be called directly and never rejects', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-watch-'));
  try {
    await writeFile(join(dir, 'a.yaml'), '- { id: a, effect: nope }\n');
    await assert.rejects(watchPolicies(dir), (e: unknown) => e instanceof SluiceError && e.code === 'POLICY_INVALID');
    await writeFile(join(dir, 'a.yaml'), '- { id: a, effect: deny }\n');
    const errors: Error[] = [];
    const w = await watchPolicies(dir, { debounceMs: 10_000, onError: (e) => errors.push(e) });
    try {
      await writeFile(join(dir, 'a.yaml'), 'rules: 5\n');
      await w.reload();
      assert.equal(errors.length, 1);
      assert.deepEqual(w.current().rules.map((r) => r.id), ['a']);
    } finally {
      w.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
