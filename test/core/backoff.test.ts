import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Backoff,
  decodeTask,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  Queue,
  type TaskFailedEvent,
  UnrecoverableError,
  Worker,
} from '../../lib/core/index.js';
import { backoffDelay, resolveBackoff } from '../../lib/core/worker/backoff.js';
import { retryNumber } from '../../lib/core/worker/task-runner.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

const db = useRedisServer();

/**
 * Runs a worker whose handler `Flaky:run` fails `failures` times, then succeeds; records the
 * time of every attempt and the worker's failed events.
 */
async function withFlakyWorker(
  queue: Queue,
  options: { retry?: number; backoff?: Backoff; failures: number; error?: () => Error },
  body: (attempts: number[], failed: TaskFailedEvent[]) => Promise<void>,
): Promise<void> {
  const attempts: number[] = [];
  const failed: TaskFailedEvent[] = [];
  const handlers = new HandlerRegistry();
  handlers.register(
    'Flaky:run',
    () => {
      attempts.push(Date.now());
      if (attempts.length <= options.failures) {
        throw options.error?.() ?? new Error(`attempt ${attempts.length} fails`);
      }
    },
    'Flaky.run',
    undefined,
    { retry: options.retry, backoff: options.backoff },
  );
  const worker = new Worker({
    queues: [queue],
    handlers,
    concurrency: 4,
    dequeueTimeout: 200,
    logger: quietLogger,
  });
  worker.on('failed', (event) => failed.push(event));
  await worker.start();
  try {
    await body(attempts, failed);
  } finally {
    await worker.close();
  }
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}

describe('backoff retries', () => {
  it('exponential: each wait doubles from the first, up to the cap', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const backoff: Backoff = { type: 'exponential', delay: 100, maxDelay: 350 };
    await withFlakyWorker(queue, { retry: 4, backoff, failures: 4 }, async (attempts, failed) => {
      await queue.enqueue(new NodeTask('Flaky:run', [], {}, 4));
      await eventually(() => attempts.length === 5, 10_000, 'five attempts');
      const waits = gaps(attempts);
      const expected = [100, 200, 350, 350];
      for (const [i, wait] of waits.entries()) {
        assert.ok(wait >= expected[i]! - 2, `wait ${i + 1} (${wait} ms) is not early`);
        assert.ok(wait < expected[i]! + 120, `wait ${i + 1} (${wait} ms) is not much late`);
      }
      assert.deepEqual(
        failed.map((event) => [event.outcome, event.retryIn]),
        expected.map((wait) => ['retried', wait]),
      );
    });
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    assert.equal(await db.redis.exists(`${queue.name}_scheduled`), 0, 'the schedule is empty');
  });

  it('fixed with jitter: every wait within [delay × (1 − jitter), delay]', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const backoff: Backoff = { type: 'fixed', delay: 200, jitter: 0.5 };
    await withFlakyWorker(queue, { retry: 6, backoff, failures: 6 }, async (attempts, failed) => {
      await queue.enqueue(new NodeTask('Flaky:run', [], {}, 6));
      await eventually(() => attempts.length === 7, 10_000, 'seven attempts');
      for (const event of failed) {
        assert.ok(event.retryIn! >= 100 && event.retryIn! <= 200, `retryIn ${event.retryIn}`);
      }
      for (const [i, wait] of gaps(attempts).entries()) {
        const planned = failed[i]!.retryIn!;
        assert.ok(wait >= planned - 2 && wait < planned + 120, `wait ${wait} vs ${planned}`);
      }
    });
  });

  it("applies to a Python caller's retry=3, counting against the handler's retry", async () => {
    const queue = new Queue(db.redis, uniqueName());
    const backoff: Backoff = { type: 'exponential', delay: 100 };
    await withFlakyWorker(queue, { retry: 3, backoff, failures: 9 }, async (attempts, failed) => {
      // What Python's PyTask('Flaky:run', retry=3) writes: plain peer bytes, no id.
      await queue.enqueue(new PyTask('Flaky:run', [], {}, 3));
      await eventually(() => failed.length === 4, 10_000, 'three retries, then the end');
      assert.equal(attempts.length, 4);
      assert.deepEqual(
        failed.map((event) => event.retryIn ?? event.outcome),
        [100, 200, 400, 'buried'],
      );
    });
    assert.equal(await queue.deadLetters.count(), 1);
  });

  it('for ever (-1): counts its retries in a negative budget that Python still reads as for ever', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const backoff: Backoff = { type: 'exponential', delay: 50 };
    await withFlakyWorker(queue, { retry: -1, backoff, failures: 4 }, async (attempts, failed) => {
      await queue.enqueue(new NodeTask('Flaky:run', [], {}, -1));
      await eventually(() => attempts.length === 5, 10_000, 'five attempts');
      assert.deepEqual(
        failed.map((event) => event.retryIn),
        [50, 100, 200, 400],
      );
    });
  });

  it('UnrecoverableError skips the remaining retries and the backoff', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withFlakyWorker(
      queue,
      {
        retry: 5,
        backoff: 100,
        failures: 1,
        error: () => new UnrecoverableError('card declined'),
      },
      async (attempts, failed) => {
        await queue.enqueue(new NodeTask('Flaky:run', [], {}, 5));
        await eventually(() => failed.length === 1, 5_000, 'the failure');
        assert.equal(failed[0]!.outcome, 'buried');
        assert.equal(await queue.scheduledCount(), 0);
        assert.equal(attempts.length, 1);
      },
    );
  });

  it('releases the failed attempt and schedules the next in one step: nothing held, one scheduled', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withFlakyWorker(queue, { retry: 2, backoff: 60_000, failures: 9 }, async (_, failed) => {
      await queue.enqueue(new NodeTask('Flaky:run', ['x'], {}, 2));
      await eventually(() => failed.length === 1, 5_000, 'the first failure');
      assert.equal(await db.redis.hlen(`${queue.name}_processing`), 0, 'released');
      assert.equal(await queue.len(), 0, 'not requeued at once');
      const [member] = await db.redis.zrangeBuffer(`${queue.name}_scheduled`, 0, -1);
      // A member is the task's id (16 bytes: its due time and a suffix), then its bytes.
      const id = member!.subarray(0, 16).toString('hex');
      const next = decodeTask(member!.subarray(16));
      assert.equal(next.kind, 'py');
      assert.deepEqual(next.kind === 'py' && [next.funcPath, next.args, next.retry], [
        'Flaky:run',
        ['x'],
        1,
      ]);
      const cancelled = await queue.cancel(id);
      assert.equal(cancelled, true, 'a backed-off retry can be cancelled by its id');
    });
  });
});

describe('backoff policies', () => {
  it('needs a retry count: without one, tasks from Node would never be retried', () => {
    assert.throws(
      () =>
        new HandlerRegistry().register('x', () => {}, 'Mailer.send', undefined, { backoff: 100 }),
      /Mailer.send: a backoff needs retry/,
    );
  });

  it('stays finite for any retry number, a zero delay included', () => {
    const zero = resolveBackoff({ type: 'exponential', delay: 0 }, 'test');
    assert.equal(backoffDelay(zero, 5_000), 0);
    const big = resolveBackoff({ type: 'exponential', delay: 1, maxDelay: 60_000 }, 'test');
    assert.equal(backoffDelay(big, 1_000_000), 60_000);
  });

  it('computes fixed and exponential waits, the cap and the jitter bounds', () => {
    const fixed = resolveBackoff(250, 'test');
    assert.deepEqual(
      [1, 2, 9].map((n) => backoffDelay(fixed, n)),
      [250, 250, 250],
    );
    const exp = resolveBackoff({ type: 'exponential', delay: 1_000, maxDelay: 5_000 }, 'test');
    assert.deepEqual(
      [1, 2, 3, 4, 2_000].map((n) => backoffDelay(exp, n)),
      [1_000, 2_000, 4_000, 5_000, 5_000],
    );
    const jittered = resolveBackoff({ type: 'fixed', delay: 1_000, jitter: 0.3 }, 'test');
    assert.equal(backoffDelay(jittered, 1, 0), 1_000);
    assert.equal(backoffDelay(jittered, 1, 0.999_999), 700);
  });

  it('reads the retry number from the budget left', () => {
    assert.deepEqual(
      [3, 2, 1].map((left) => retryNumber(left, 3)),
      [1, 2, 3],
    );
    assert.equal(retryNumber(10, 3), 1, 'a bigger budget than declared waits the first wait');
    assert.equal(retryNumber(-1, 0), 1);
    assert.equal(retryNumber(-7, -1), 7);
  });

  it('refuses wrong policies with a message naming the handler', () => {
    const wrong: [unknown, RegExp][] = [
      [-5, /delay must be a whole number/],
      [{ type: 'linear', delay: 5 }, /type must be 'fixed' or 'exponential'/],
      [{ type: 'fixed', delay: 5, jitter: 2 }, /jitter must be a fraction from 0 to 1/],
      [{ type: 'fixed', delay: 5, maxDelay: 9 }, /maxDelay only applies to type 'exponential'/],
      [{ type: 'exponential', delay: 5, maxDelay: 1.5 }, /maxDelay must be a whole number/],
      ['1s', /must be a number of ms or/],
    ];
    for (const [value, message] of wrong) {
      assert.throws(
        () =>
          new HandlerRegistry().register('x', () => {}, 'Mailer.send', undefined, {
            retry: 3,
            backoff: value as Backoff,
          }),
        (error: unknown) =>
          error instanceof InvalidOptionsError &&
          message.test(error.message) &&
          error.message.startsWith('Mailer.send: backoff'),
        String(value),
      );
    }
  });
});
