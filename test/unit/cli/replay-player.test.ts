/**
 * The replay player (src/cli/replay-player.ts) with an injected clock: `sleep` records the pause
 * asked for and moves the clock on, so nothing waits for real. The tests assert the sequence of
 * writes and requested pauses, never how long anything took.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cast, CastEvent } from '../../../src/audit/asciicast.ts';
import { playCast, type PlayerClock } from '../../../src/cli/replay-player.ts';

/** A fake clock and a log of what happened: `sleep N` and `write "…"`, in order. */
function harness(opts: { writeCostMs?: number } = {}): { clock: PlayerClock; log: string[]; write: (t: string) => void } {
  let now = 1_000;
  const log: string[] = [];
  return {
    log,
    clock: {
      now: () => now,
      sleep: (ms) => {
        log.push(`sleep ${ms}`);
        now += ms;
        return Promise.resolve();
      },
    },
    write: (t) => {
      log.push(`write ${JSON.stringify(t)}`);
      now += opts.writeCostMs ?? 0;
    },
  };
}

const cast = (events: CastEvent[]): Cast => ({ header: { version: 2, width: 80, height: 24, timestamp: 0, title: 't' }, events });

const session = cast([
  [0.5, 'o', '$ '],
  [1.5, 'i', 'l'],
  [1.75, 'o', 'ls\r\n'],
  [2, 'r', '100x30'],
  [12, 'o', 'a  b\r\n'],
  [12.0004, 'o', '$ '],
  [13, 'm', 'exit 0'],
]);

describe('replay player (replay-player.ts)', () => {
  test('real speed: output at its times, input/resize/marker not written', async () => {
    const h = harness();
    await playCast(session, h.write, {}, h.clock);
    assert.deepEqual(h.log, ['sleep 500', 'write "$ "', 'sleep 1250', 'write "ls\\r\\n"', 'sleep 10250', 'write "a  b\\r\\n"', 'write "$ "']);
  });

  test('--speed 2 halves every pause', async () => {
    const h = harness();
    await playCast(session, h.write, { speed: 2 }, h.clock);
    assert.deepEqual(h.log, ['sleep 250', 'write "$ "', 'sleep 625', 'write "ls\\r\\n"', 'sleep 5125', 'write "a  b\\r\\n"', 'write "$ "']);
  });

  test('--idle-limit caps each pause (in recorded seconds, before the speed)', async () => {
    const h = harness();
    await playCast(session, h.write, { idleTimeLimit: 2, speed: 2 }, h.clock);
    assert.deepEqual(h.log, ['sleep 250', 'write "$ "', 'sleep 625', 'write "ls\\r\\n"', 'sleep 1000', 'write "a  b\\r\\n"', 'write "$ "']);
  });

  test('--input writes stdin events too, at their times', async () => {
    const h = harness();
    await playCast(session, h.write, { input: true }, h.clock);
    assert.deepEqual(h.log.slice(0, 6), ['sleep 500', 'write "$ "', 'sleep 1000', 'write "l"', 'sleep 250', 'write "ls\\r\\n"']);
  });

  test('pauses are scheduled from the start: time spent writing is taken off the next pause', async () => {
    const h = harness({ writeCostMs: 100 });
    await playCast(
      cast([
        [1, 'o', 'a'],
        [2, 'o', 'b'],
        [2.05, 'o', 'c'],
      ]),
      h.write,
      {},
      h.clock,
    );
    assert.deepEqual(h.log, ['sleep 1000', 'write "a"', 'sleep 900', 'write "b"', 'write "c"']);
  });

  test('a write that returns a promise is awaited before the next event', async () => {
    const h = harness();
    const order: string[] = [];
    await playCast(
      cast([
        [0, 'o', 'a'],
        [0, 'o', 'b'],
      ]),
      async (t) => {
        order.push(`start ${t}`);
        await new Promise((r) => setImmediate(r));
        order.push(`end ${t}`);
      },
      {},
      h.clock,
    );
    assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b']);
  });

  test('bad options are refused', async () => {
    const h = harness();
    await assert.rejects(playCast(session, h.write, { speed: 0 }, h.clock), RangeError);
    await assert.rejects(playCast(session, h.write, { speed: Number.NaN }, h.clock), RangeError);
    await assert.rejects(playCast(session, h.write, { idleTimeLimit: -1 }, h.clock), RangeError);
    assert.deepEqual(h.log, []);
  });
});
