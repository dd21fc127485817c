import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  currentTask,
  HandlerRegistry,
  type HandlerOptions,
  InvalidOptionsError,
  NodeTask,
  Queue,
  ShutdownDeadlineError,
  type TaskFailedEvent,
  TaskTimeoutError,
  Worker,
} from '../../lib/core/index.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

const db = useRedisServer();

/** Runs a worker with one handler `Slow:run` of these options; records its failed events. */
async function withHandler(
  queue: Queue,
  handler: (...args: never[]) => unknown,
  options: HandlerOptions,
  body: (worker: Worker, failed: TaskFailedEvent[]) => Promise<void>,
  workerOptions: { concurrency?: number; shutdownTimeout?: number } = {},
): Promise<void> {
  const handlers = new HandlerRegistry();
  handlers.register(
    'Slow:run',
    handler as (...args: unknown[]) => unknown,
    'Slow.run',
    undefined,
    options,
  );
  const worker = new Worker({
    queues: [queue],
    handlers,
    dequeueTimeout: 200,
    logger: quietLogger,
    ...workerOptions,
  });
  const failed: TaskFailedEvent[] = [];
  worker.on('failed', (event) => failed.push(event));
  await worker.start();
  try {
    await body(worker, failed);
  } finally {
    await worker.close();
  }
}

describe('timeouts', () => {
  it('abort the signal at the deadline and fail the attempt; the retry that is quick completes', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const attempts: { started: number; reason?: unknown }[] = [];
    let completed = 0;
    await withHandler(
      queue,
      async () => {
        const attempt: { started: number; reason?: unknown } = { started: Date.now() };
        attempts.push(attempt);
        const { signal } = currentTask()!;
        if (attempts.length === 1) {
          // Honours its signal: a long wait that the deadline cuts short.
          await sleep(5_000, undefined, { signal }).catch((error: unknown) => {
            attempt.reason = signal.reason;
            throw error;
          });
        }
        completed++;
      },
      { retry: 1, timeout: 150 },
      async (_, failed) => {
        await queue.enqueue(new NodeTask('Slow:run', [], {}, 1));
        await eventually(() => completed === 1, 5_000, 'the retry to complete');
        assert.equal(failed.length, 1);
        assert.ok(failed[0]!.error instanceof TaskTimeoutError, String(failed[0]!.error));
        assert.match((failed[0]!.error as Error).message, /Task "Slow:run" timed out after 150 ms/);
        assert.equal(failed[0]!.outcome, 'retried');
        assert.ok(attempts[0]!.reason instanceof TaskTimeoutError, 'the signal says why');
        const took = attempts[1]!.started - attempts[0]!.started;
        assert.ok(took >= 148 && took < 1_000, `the retry started ${took} ms after the first`);
      },
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('free the slot at the deadline even if the handler ignores its signal; its late end is ignored', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const ended: string[] = [];
    let completedEvents = 0;
    await withHandler(
      queue,
      async (tag: string) => {
        if (tag === 'stubborn') await sleep(600); // ignores its signal
        ended.push(tag);
      },
      { timeout: 100 },
      async (worker, failed) => {
        worker.on('completed', () => completedEvents++);
        await queue.enqueue(new NodeTask('Slow:run', ['stubborn']));
        await queue.enqueue(new NodeTask('Slow:run', ['next']));
        // Concurrency 1: `next` runs once the stubborn attempt timed out, not after it ends.
        await eventually(() => ended.includes('next'), 2_000, 'the next task');
        assert.deepEqual(ended, ['next']);
        assert.equal(failed.length, 1);
        assert.equal(failed[0]!.outcome, 'buried');
        await eventually(() => ended.includes('stubborn'), 2_000, 'the stubborn handler to end');
        await sleep(50);
        assert.equal(completedEvents, 1, 'only `next` completed');
        assert.equal(await queue.deadLetters.count(), 1);
        const [letter] = await queue.deadLetters.list();
        assert.match(letter!.error, /timed out after 100 ms/);
      },
      { concurrency: 1 },
    );
    assert.equal(await queue.processingCount(), 0);
  });

  it('apply the backoff to a timed-out attempt', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const starts: number[] = [];
    await withHandler(
      queue,
      async () => {
        starts.push(Date.now());
        if (starts.length === 1) await sleep(5_000, undefined, { signal: currentTask()!.signal });
      },
      { retry: 1, timeout: 100, backoff: 300 },
      async (_, failed) => {
        await queue.enqueue(new NodeTask('Slow:run', [], {}, 1));
        await eventually(() => starts.length === 2, 5_000, 'the retry');
        assert.equal(failed[0]!.retryIn, 300);
        const gap = starts[1]! - starts[0]!;
        assert.ok(gap >= 398 && gap < 1_000, `retry ${gap} ms after the first start`);
      },
    );
  });

  it('leave a task the shutdown deadline interrupts interrupted, not timed out', async () => {
    const queue = new Queue(db.redis, uniqueName());
    let reason: unknown;
    await withHandler(
      queue,
      async () => {
        const { signal } = currentTask()!;
        await sleep(10_000, undefined, { signal }).catch((error: unknown) => {
          reason = signal.reason;
          throw error;
        });
      },
      { retry: 3, timeout: 5_000 },
      async (worker, failed) => {
        await queue.enqueue(new NodeTask('Slow:run', [], {}, 3));
        await eventually(() => worker.runningCount === 1, 2_000, 'the task to start');
        await worker.stop();
        await eventually(() => failed.length === 1, 2_000, 'the interruption');
        assert.equal(failed[0]!.outcome, 'interrupted');
        assert.ok(reason instanceof ShutdownDeadlineError, String(reason));
      },
      { shutdownTimeout: 200 },
    );
    // Still recorded for a sweeper, with its retries untouched.
    assert.equal(await queue.processingCount(), 1);
    await db.redis.del(`${queue.name}_processing`);
  });

  it('refuse a timeout that is no duration', () => {
    for (const timeout of [0, -5, 1.5, 2 ** 31, Number.NaN]) {
      assert.throws(
        () => new HandlerRegistry().register('x', () => {}, 'Slow.run', undefined, { timeout }),
        (error: unknown) =>
          error instanceof InvalidOptionsError &&
          /Slow.run: timeout must be a whole number of ms from 1/.test(error.message),
        String(timeout),
      );
    }
  });
});
