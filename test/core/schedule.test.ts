import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  encodeTask,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  Queue,
  type ScheduledTask,
  Sweeper,
  Worker,
} from '../../lib/core/index.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';
import { spawnProcess } from '../helpers/processes.js';

const db = useRedisServer();

/** Every key of a queue, the schedule's included: a finished queue has none. */
async function allKeys(queue: Queue): Promise<string[]> {
  const scheduled = [`${queue.name}_scheduled`];
  const exists = await Promise.all(scheduled.map((key) => db.redis.exists(key)));
  return [
    ...(await leftoverKeys(db.redis, queue.name)),
    ...scheduled.filter((_, i) => exists[i] === 1),
  ];
}

/** Runs `body` with a worker serving `queue`, recording when each task ran (by its arg). */
async function withRecordingWorker(
  queue: Queue,
  body: (runs: Map<number, number[]>) => Promise<void>,
  concurrency = 20,
): Promise<void> {
  const runs = new Map<number, number[]>();
  const handlers = new HandlerRegistry();
  handlers.register('Later:run', (n: number) => {
    const at = runs.get(n) ?? [];
    at.push(Date.now());
    runs.set(n, at);
  });
  const worker = new Worker({
    queues: [queue],
    handlers,
    concurrency,
    dequeueTimeout: 200,
    logger: quietLogger,
  });
  await worker.start();
  try {
    await body(runs);
  } finally {
    await worker.close();
  }
}

describe('scheduled tasks', () => {
  it('wait in the schedule until due, then run, not before', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withRecordingWorker(queue, async (runs) => {
      const scheduled = await queue.schedule(new NodeTask('Later:run', [1]), { delay: 400 });
      assert.equal(scheduled.queue, queue.name);
      assert.match(scheduled.id, /^[0-9a-f]{32}$/);
      await sleep(150);
      assert.equal(runs.size, 0, 'not run before its time');
      assert.equal(await queue.len(), 0, 'not in the queue before its time');
      assert.equal(await queue.scheduledCount(), 1);
      await eventually(() => runs.size === 1, 5_000, 'the task, once due');
      assert.ok(runs.get(1)![0]! >= scheduled.dueAt - 1, 'not early');
      assert.ok(runs.get(1)![0]! - scheduled.dueAt < 500, 'not much late');
    });
    assert.deepEqual(await allKeys(queue), []);
  });

  it('runs 10,000 tasks due at random instants over 10 s: every one once, none early', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const total = 10_000;
    await withRecordingWorker(
      queue,
      async (runs) => {
        const due = new Map<number, ScheduledTask>();
        await Promise.all(
          Array.from({ length: total }, async (_, n) => {
            due.set(
              n,
              await queue.schedule(new NodeTask('Later:run', [n]), {
                delay: Math.floor(Math.random() * 10_000),
              }),
            );
          }),
        );
        await eventually(
          () => runs.size === total,
          30_000,
          `all ${total} tasks (got ${runs.size})`,
        );
        await sleep(200);
        const twice = [...runs].filter(([, at]) => at.length > 1);
        assert.deepEqual(twice, [], 'none ran twice');
        // The host's clock and Redis' are the same clock here; 1 ms for rounding.
        const early = [...runs].filter(([n, [at]]) => at! < due.get(n)!.dueAt - 1);
        assert.deepEqual(early, [], 'none ran early');
        const late = [...runs].map(([n, [at]]) => at! - due.get(n)!.dueAt).sort((a, b) => a - b);
        const p99 = late[Math.floor(late.length * 0.99)]!;
        assert.ok(p99 < 1_000, `p99 lateness ${p99} ms stays under a promoter's longest wait`);
      },
      100,
    );
    assert.deepEqual(await allKeys(queue), []);
  });

  it('keeps identical tasks apart, and takes an instant as well as a delay', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withRecordingWorker(queue, async (runs) => {
      const same = new NodeTask('Later:run', [7]);
      const scheduled = await queue.scheduleMany([same, same, same], { delay: 100 });
      assert.equal(new Set(scheduled.map((s) => s.id)).size, 3);
      const past = await queue.schedule(new NodeTask('Later:run', [8]), {
        at: new Date(Date.now() - 60_000),
      });
      assert.ok(past.dueAt < Date.now());
      await queue.schedule(new NodeTask('Later:run', [9]), { at: Date.now() + 200 });
      await eventually(
        () => runs.get(7)?.length === 3 && runs.has(8) && runs.has(9),
        5_000,
        'every task',
      );
    });
    assert.deepEqual(await allKeys(queue), []);
  });

  it('cancels a task that is not due yet, and says so only once', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await withRecordingWorker(queue, async (runs) => {
      const cancelled = await queue.schedule(new NodeTask('Later:run', [1]), { delay: 300 });
      const kept = await queue.schedule(new NodeTask('Later:run', [2]), { delay: 300 });
      assert.equal(await queue.cancel(cancelled), true);
      assert.equal(await queue.cancel(cancelled.id), false, 'already cancelled');
      await eventually(() => runs.has(2), 5_000, 'the task kept');
      await sleep(100);
      assert.equal(runs.has(1), false, 'the cancelled task never runs');
      assert.equal(await queue.cancel(kept), false, 'a task already enqueued cannot be cancelled');
    });
    assert.deepEqual(await allKeys(queue), []);
  });

  it('is moved in by a sweeper too, for any family member to run', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
    sweeper.start();
    try {
      await queue.schedule(new NodeTask('Peer:run', [1]), { delay: 100 });
      await eventually(
        async () => (await queue.len()) === 1,
        5_000,
        'the task moved into the queue',
      );
      // Plain task bytes and their notification, exactly as an enqueue leaves them.
      const [bytes] = await db.redis.lrangeBuffer(queue.name, 0, -1);
      assert.deepEqual(bytes, encodeTask(new NodeTask('Peer:run', [1])));
      assert.equal(await db.redis.llen(`${queue.name}_noti`), 1);
    } finally {
      await sweeper.stop();
      await db.redis.del(queue.name, `${queue.name}_noti`);
    }
  });

  it('rejects times that are no times', async () => {
    const queue = new Queue(db.redis, uniqueName());
    for (const when of [
      { delay: -1 },
      { delay: 1.5 },
      { delay: '10' },
      { at: 'tomorrow' },
      {},
    ] as never[]) {
      await assert.rejects(queue.schedule(new NodeTask('Later:run'), when), InvalidOptionsError);
    }
    assert.deepEqual(await allKeys(queue), []);
  });
});

describe('scheduled tasks, the edges', () => {
  it('keeps the order of one scheduleMany, as an enqueue keeps it', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const order: number[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Order:run', (n: number) => {
      order.push(n);
    });
    const worker = new Worker({
      queues: [queue],
      handlers,
      dequeueTimeout: 200,
      logger: quietLogger,
    });
    await worker.start();
    try {
      const tasks = Array.from({ length: 200 }, (_, n) => new NodeTask('Order:run', [n]));
      await queue.scheduleMany(tasks, { delay: 100 });
      await eventually(() => order.length === 200, 5_000, 'every task');
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      );
    } finally {
      await worker.close();
    }
  });

  it('takes a task due in 40 days without a Node timer warning, and cancels it', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
    sweeper.start();
    try {
      await sleep(50); // the promoter's first look is done: no timer is armed during the next
      const far = await queue.schedule(new NodeTask('Far:run'), { delay: 40 * 24 * 3_600_000 });
      await sleep(200);
      assert.deepEqual(warnings, []);
      assert.equal(await queue.cancel(far), true);
    } finally {
      process.off('warning', onWarning);
      await sweeper.stop();
    }
    assert.deepEqual(await allKeys(queue), []);
  });

  it('refuses to cancel a task of another queue, and times beyond a Date', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const other = new Queue(db.redis, uniqueName());
    const task = await other.schedule(new NodeTask('X:y'), { delay: 60_000 });
    await assert.rejects(queue.cancel(task), /was scheduled on queue "q-[0-9a-f]+", not "q-/);
    assert.equal(await other.cancel(task), true);
    await assert.rejects(queue.schedule(new NodeTask('X:y'), { delay: 1e16 }), InvalidOptionsError);
    await assert.rejects(queue.schedule(new NodeTask('X:y'), { at: -1 }), InvalidOptionsError);
    assert.deepEqual(await allKeys(other), []);
  });
});

describe('cancelling among many tasks due at one instant', () => {
  it('finds the task by its id alone, first, middle or last of 3,000', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const at = Date.now() + 3_600_000;
    const scheduled = await queue.scheduleMany(
      Array.from({ length: 3_000 }, (_, i) => new NodeTask('Later:run', [i])),
      { at },
    );
    for (const index of [2_999, 1_500, 0]) {
      assert.equal(await queue.cancel(scheduled[index]!.id), true, `task ${index}`);
      assert.equal(await queue.cancel(scheduled[index]!.id), false, `task ${index} again`);
    }
    assert.equal(await queue.scheduledCount(), 2_997);
    // An id of nothing scheduled (a due time with no task, or past every task).
    assert.equal(await queue.cancel('0'.repeat(32)), false);
    assert.equal(await queue.cancel('f'.repeat(32)), false);
    await assert.rejects(queue.cancel('not an id'), /Not a scheduled task id/);
    await db.redis.del(queue.keys.scheduled);
  });
});

describe('scheduled tasks from another process', () => {
  it('wake the promoter at once through the wake channel: on time, not at its next look', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const core = new URL('../../lib/core/index.js', import.meta.url).href;
    // A producer in another process: schedules one task due in 300 ms, prints its due time.
    const produce = async (n: number): Promise<number> => {
      const code = `
        import { Redis } from 'ioredis';
        import { NodeTask, Queue } from ${JSON.stringify(core)};
        const redis = new Redis(${JSON.stringify(db.server.url)});
        const task = await new Queue(redis, ${JSON.stringify(queue.name)}).schedule(
          new NodeTask('Later:run', [${n}]), { delay: 300 });
        console.log(task.dueAt);
        await redis.quit();`;
      const child = spawnProcess(process.execPath, ['--input-type=module', '-e', code], {});
      const line = await child.waitForLine(/^\d+$/, 10_000);
      await child.exited;
      return Number(line);
    };
    await withRecordingWorker(queue, async (runs) => {
      // The promoter's timer is armed a second ahead (its longest wait): only a wake-up can
      // make the next tasks run on time.
      await queue.schedule(new NodeTask('Later:run', [0]), { delay: 3_600_000 });
      await sleep(100);
      for (let n = 1; n <= 4; n++) {
        const dueAt = await produce(n);
        await eventually(() => runs.has(n), 3_000, `task ${n}`);
        const late = runs.get(n)![0]! - dueAt;
        assert.ok(late >= -1 && late < 100, `task ${n} ran ${late} ms after its due time`);
      }
    });
  });
});
