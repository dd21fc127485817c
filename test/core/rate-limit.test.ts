import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  Queue,
  RateLimitedError,
  type TaskFailedEvent,
  Worker,
} from '../../lib/core/index.js';
import { startWorkerApp } from '../helpers/processes.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

const db = useRedisServer();

/** The most starts in any window of `window` ms beginning at a start. */
function busiestWindow(starts: number[], window: number): number {
  const sorted = [...starts].sort((a, b) => a - b);
  let most = 0;
  let end = 0;
  for (let begin = 0; begin < sorted.length; begin++) {
    while (end < sorted.length && sorted[end]! < sorted[begin]! + window) end++;
    most = Math.max(most, end - begin);
  }
  return most;
}

async function withWorker(
  queue: Queue,
  handler: (...args: never[]) => unknown,
  body: (failed: TaskFailedEvent[]) => Promise<void>,
  concurrency = 10,
): Promise<void> {
  const handlers = new HandlerRegistry();
  handlers.register('Limited:run', handler as (...args: unknown[]) => unknown);
  const worker = new Worker({
    queues: [queue],
    handlers,
    concurrency,
    dequeueTimeout: 200,
    logger: quietLogger,
  });
  const failed: TaskFailedEvent[] = [];
  worker.on('failed', (event) => failed.push(event));
  await worker.start();
  try {
    await body(failed);
  } finally {
    await worker.close();
  }
}

describe('rate limits', () => {
  it('start at most max tasks in any window, the window edges included, and run them all', async () => {
    const queue = new Queue(db.redis, uniqueName(), { rateLimit: { max: 20, window: 500 } });
    const starts: number[] = [];
    await withWorker(
      queue,
      () => void starts.push(Date.now()),
      async () => {
        const t0 = Date.now();
        await queue.enqueueMany(Array.from({ length: 100 }, () => new NodeTask('Limited:run')));
        await eventually(() => starts.length === 100, 10_000, 'all 100 tasks');
        const took = Date.now() - t0;
        assert.ok(took >= 2_000, `100 tasks at 20 per 500 ms took ${took} ms`);
        assert.ok(took < 3_500, `and not much longer (${took} ms)`);
        // Starts are stamped by the handler, a little after Redis let them go: 5 ms of slack.
        assert.ok(busiestWindow(starts, 495) <= 20, `busiest window ${busiestWindow(starts, 495)}`);
      },
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    await eventually(
      async () => (await db.redis.exists(queue.keys.rate)) === 0,
      2_000,
      'the log to expire',
    );
  });

  it('keep moving scheduled tasks into a queue the limit holds back', async () => {
    const queue = new Queue(db.redis, uniqueName(), { rateLimit: { max: 1, window: 60_000 } });
    let ran = 0;
    await withWorker(
      queue,
      () => void ran++,
      async () => {
        await queue.enqueueMany([new NodeTask('Limited:run'), new NodeTask('Limited:run')]);
        await queue.schedule(new NodeTask('Limited:run'), { delay: 200 });
        await sleep(700);
        assert.equal(ran, 1, 'one start per minute');
        assert.equal(await queue.scheduledCount(), 0, 'the scheduled task was moved in');
        assert.equal(await queue.len(), 2, 'and waits with the other one');
      },
    );
    await db.redis.del(queue.name, `${queue.name}_noti`, queue.keys.rate);
  });

  it('let a handler say it is rate limited: the task runs again after the wait, no retry spent', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const starts: number[] = [];
    await withWorker(
      queue,
      () => {
        starts.push(Date.now());
        if (starts.length === 1) throw new RateLimitedError(300);
      },
      async (failed) => {
        await queue.enqueue(new NodeTask('Limited:run')); // retry 0: no retry to spend
        await eventually(() => starts.length === 2, 3_000, 'the second attempt');
        const gap = starts[1]! - starts[0]!;
        assert.ok(gap >= 298 && gap < 1_000, `${gap} ms between the attempts`);
        assert.deepEqual(
          failed.map((event) => [event.outcome, event.retryIn]),
          [['retried', 300]],
        );
        assert.equal(await queue.deadLetters.count(), 0);
      },
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it("refuse a limit that cannot work, and keep a handler's wait sensible", () => {
    assert.throws(
      () => new Queue(db.redis, 'x', { rateLimit: { max: 0, window: 1.5 } }),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /rateLimit.max must be a whole number from 1/.test(error.message) &&
        /rateLimit.window must be a whole number of ms from 1/.test(error.message),
    );
    // A wait that is no number (a missing Retry-After header) is 1 s; any wait at least 10 ms.
    assert.equal(new RateLimitedError(Number.NaN).retryIn, 1_000);
    assert.equal(new RateLimitedError(-1).retryIn, 10);
    assert.equal(new RateLimitedError(0).retryIn, 10);
    assert.equal(new RateLimitedError(1_500.2).retryIn, 1_501);
    assert.equal(new RateLimitedError(Infinity).retryIn, 1_000);
  });
});

describe('a rate limit across worker processes', () => {
  it('holds 100 tasks/s within 5 % over 10 s with 3 workers, never more than 100 in a second', async () => {
    const queue = uniqueName('rate');
    const resultsKey = uniqueName('results');
    const producer = new Queue(db.redis, queue);
    const env = {
      REDIS_URL: db.server.url,
      QUEUE: queue,
      RESULTS_KEY: resultsKey,
      CONCURRENCY: '10',
      RATE_MAX: '100',
      RATE_WINDOW: '1000',
    };
    const workers = await Promise.all([0, 1, 2].map(() => startWorkerApp(env)));
    try {
      await producer.enqueueMany(
        Array.from({ length: 1_500 }, () => new NodeTask('InteropHandlers:stamp')),
      );
      const t0 = Date.now();
      await sleep(10_000);
      const stamps = (await db.redis.lrange(resultsKey, 0, -1)).map(
        (line) => JSON.parse(line) as { at: number; pid: number },
      );
      const inWindow = stamps.filter((stamp) => stamp.at >= t0 && stamp.at < t0 + 10_000);
      assert.ok(
        inWindow.length >= 950 && inWindow.length <= 1_050,
        `${inWindow.length} starts in 10 s`,
      );
      // Stamped by handlers in three busy processes, up to a few tens of ms after Redis let
      // each task start; a window of 950 ms leaves room for that and no more.
      const busiest = busiestWindow(
        stamps.map((stamp) => stamp.at),
        950,
      );
      assert.ok(busiest <= 100, `busiest 950 ms: ${busiest}`);
      assert.equal(
        new Set(stamps.map((stamp) => stamp.pid)).size,
        3,
        'all three workers took tasks',
      );
    } finally {
      for (const worker of workers) worker.child.kill('SIGTERM');
      await Promise.all(workers.map((worker) => worker.exited));
      await db.redis.del(queue, `${queue}_noti`, `${queue}_rate`, resultsKey);
    }
  });
});
