import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DrainTimeoutError,
  encodeTask,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  Queue,
  waitForDrained as waitForQueues,
  Worker,
} from '../../lib/core/index.js';
import { currentTask, DelayedModule, DelayedQueue, Task } from '../../lib/index.js';
import { waitForDrained } from '../../lib/testing/index.js';
import { leftoverKeys, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

async function withWorker(
  queues: Queue[],
  handlers: HandlerRegistry,
  body: () => Promise<void>,
): Promise<void> {
  const worker = new Worker({
    queues,
    handlers,
    concurrency: 20,
    dequeueTimeout: 100,
    logger: quietLogger,
  });
  await worker.start();
  try {
    await body();
  } finally {
    await worker.close();
  }
}

describe('waitForDrained', () => {
  it('waits for a worker to drain 500 tasks, their immediate and backoff retries included', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const attempts = new Map<number, number>();
    const done = new Set<number>();
    const handlers = new HandlerRegistry();
    // Every 10th task fails twice; its retries wait out a backoff in the schedule, where the
    // queue and the processing hash both read empty: a wait that missed them would end early.
    handlers.register(
      'Flaky:run',
      (n: number) => {
        const attempt = (attempts.get(n) ?? 0) + 1;
        attempts.set(n, attempt);
        if (n % 10 === 0 && attempt <= 2) throw new Error(`attempt ${attempt} of ${n}`);
        done.add(n);
      },
      'Flaky.run',
      undefined,
      { retry: 3, backoff: 150 },
    );
    // Every 7th task fails once, retried at once (no backoff): back in the queue in the same
    // step that releases it.
    handlers.register('Quick:run', (n: number) => {
      const attempt = (attempts.get(-n) ?? 0) + 1;
      attempts.set(-n, attempt);
      if (n % 7 === 0 && attempt === 1) throw new Error('once');
      done.add(-n);
    });
    await withWorker([queue], handlers, async () => {
      await queue.enqueueMany([
        ...Array.from({ length: 250 }, (_, n) => new NodeTask('Flaky:run', [n], {}, 3)),
        ...Array.from({ length: 250 }, (_, n) => new NodeTask('Quick:run', [n + 1], {}, 1)),
      ]);
      await waitForQueues(queue, { timeout: 20_000 });
      // No polling after the wait: it resolved only once everything had run.
      assert.equal(done.size, 500);
      assert.equal(attempts.get(0), 3);
      assert.equal(attempts.get(-7), 2);
      assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
      assert.equal(await queue.scheduledCount(), 0);
    });
  });

  it('does not pass a task handed between queues, or enqueued without an await, for an empty queue', async () => {
    const first = new Queue(db.redis, uniqueName('first'));
    const second = new Queue(db.redis, uniqueName('second'));
    const ran: string[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Hand:over', (n: number) => {
      ran.push(`over ${n}`);
      // Fire and forget, after this task is released: both queues read empty meanwhile.
      setTimeout(() => void second.enqueue(new NodeTask('Hand:last', [n])), 10);
    });
    handlers.register('Hand:last', (n: number) => void ran.push(`last ${n}`));
    await withWorker([first, second], handlers, async () => {
      await first.enqueue(new NodeTask('Hand:over', [1]));
      await waitForQueues([first, second], { timeout: 5_000 });
      assert.deepEqual(ran, ['over 1', 'last 1']);
    });
  });

  it('names what is left, queue by queue, when its timeout passes', async () => {
    const busy = new Queue(db.redis, uniqueName('busy'));
    const idle = new Queue(db.redis, uniqueName('idle'));
    await busy.enqueueMany([1, 2, 3].map((n) => new NodeTask('Nobody:runs', [n])));
    // A worker that holds one task, and a task due within the wait that no worker promotes.
    await db.redis.hset(busy.keys.processing, 'a-worker', encodeTask(new NodeTask('Held:one')));
    await busy.schedule(new NodeTask('Later:one'), { delay: 50 });
    // Due long after the wait ends: never waited for.
    await idle.schedule(new NodeTask('Much:later'), { delay: 3_600_000 });
    try {
      await assert.rejects(waitForQueues([busy, idle], { timeout: 300 }), (error: unknown) => {
        assert.ok(error instanceof DrainTimeoutError);
        assert.equal(
          error.message,
          `Not drained after 300 ms: queue "${busy.name}": 3 waiting, 1 processing, 1 scheduled (due within the wait)`,
        );
        assert.deepEqual(error.left, [
          { queue: busy.name, waiting: 3, processing: 1, scheduled: 1 },
        ]);
        return true;
      });
      await waitForQueues(idle, { timeout: 300 });
      await assert.rejects(
        waitForQueues(busy, { timeout: 100, scheduled: false }),
        (error: unknown) =>
          error instanceof DrainTimeoutError &&
          error.message.endsWith('3 waiting, 1 processing') &&
          error.left[0]!.scheduled === 0,
      );
    } finally {
      await db.redis.del(busy.name, busy.keys.notifications, busy.keys.processing);
      await db.redis.del(busy.keys.scheduled, idle.keys.scheduled);
    }
  });

  it('checks its options', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await assert.rejects(waitForQueues(queue, { timeout: 0 }), InvalidOptionsError);
    await assert.rejects(waitForQueues(queue, { settle: -1, interval: 1.5 }), /settle must be/);
    await assert.rejects(waitForQueues([]), /at least one queue/);
  });
});

/** The queue shipping runs on: named per run, as every test's queues are. */
const shipping = uniqueName('shipping');

@Injectable()
class Orders {
  static shipped: number[] = [];
  constructor(private readonly queue: DelayedQueue) {}

  @Task({ retry: 1 })
  async place(id: number) {
    // The first attempt fails: the retry goes back into the queue.
    if (currentTask()!.retriesLeft === 1) throw new Error('payment service busy');
    await this.queue.delay(Orders, 'ship', id);
  }

  @Task({ queue: shipping, retry: 2, backoff: 100 })
  ship(id: number) {
    if (currentTask()!.retriesLeft > 0) throw new Error('carrier busy');
    Orders.shipped.push(id);
  }
}

describe('waitForDrained(app)', () => {
  it("waits for every queue of a Nest app's DelayedModule, handlers' queues included", async () => {
    Orders.shipped = [];
    const queue = uniqueName('orders');
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue,
          worker: { concurrency: 4, dequeueTimeout: 100 },
        }),
      ],
      providers: [Orders],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const delayed = app.get(DelayedQueue);
      for (let id = 1; id <= 20; id++) await delayed.delay(Orders, 'place', id);
      await waitForDrained(app, { timeout: 15_000 });
      assert.deepEqual(
        Orders.shipped.sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    } finally {
      await app.close();
    }
    assert.deepEqual(await leftoverKeys(db.redis, queue), []);
    assert.deepEqual(await leftoverKeys(db.redis, shipping), []);
  });

  it('refuses an app without the module', async () => {
    const moduleRef = await Test.createTestingModule({}).compile();
    await assert.rejects(
      waitForDrained(moduleRef),
      /imports neither DelayedModule nor DelayedTestingModule/,
    );
    await moduleRef.close();
  });
});
