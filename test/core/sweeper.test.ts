import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  type DelayedLogger,
  encodeTask,
  InvalidOptionsError,
  PyTask,
  Queue,
  RedisUnavailableError,
  Sweeper,
} from '../../lib/core/index.js';
import {
  eventually,
  freePort,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

const db = useRedisServer();

const TASK = encodeTask(new PyTask('m:f'));

/** A logger that keeps every line, prefixed with its level. */
function recordingLogger(lines: string[]): DelayedLogger {
  return {
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** A task held by a worker id whose liveness key does not exist: a dead worker's task. */
async function loseTask(queue: Queue, workerId = 'dead-id'): Promise<void> {
  await db.redis.hset(`${queue.name}_processing`, workerId, TASK);
}

/** Whether the task came back: in the queue, with its notification, out of processing. */
async function requeued(queue: Queue, count = 1): Promise<boolean> {
  const [tasks, notifications, processing] = await Promise.all([
    queue.len(),
    db.redis.llen(`${queue.name}_noti`),
    queue.processingCount(),
  ]);
  return tasks === count && notifications === count && processing === 0;
}

/** A client to a port nothing listens on; it keeps trying to connect until disconnected. */
async function unreachableClient(): Promise<Redis> {
  const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
    // Not ioredis' 2 s: a socket that never connected would keep the process up that long.
    disconnectTimeout: 200,
  });
  redis.on('error', () => undefined);
  return redis;
}

describe('Sweeper', () => {
  it('sweeps at once on start()', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await loseTask(queue);
    // An interval far longer than the test: only the sweep made at start can requeue it.
    const sweeper = new Sweeper({ queues: [queue], interval: 60_000, logger: quietLogger });
    try {
      sweeper.start();
      assert.equal(sweeper.isRunning, true);
      await eventually(() => requeued(queue), 5_000, 'the sweep at start');
      const [bytes] = await db.redis.lrangeBuffer(queue.name, 0, -1);
      assert.deepEqual(bytes, TASK, 'the task goes back as it was');
    } finally {
      await sweeper.stop();
    }
    assert.equal(sweeper.isRunning, false);
  });

  it('sweeps again every interval', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const sweeper = new Sweeper({ queues: [queue], interval: 100, logger: quietLogger });
    try {
      sweeper.start();
      // Each task is lost after the sweeps before it: only a later sweep finds it.
      for (let n = 1; n <= 3; n++) {
        await sleep(50);
        await loseTask(queue, `dead-${n}`);
        await eventually(() => requeued(queue, n), 5_000, `sweep number ${n}`);
      }
    } finally {
      await sweeper.stop();
    }
  });

  it('leaves alone the tasks of workers that are alive', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const alive = uniqueName('worker');
    await db.redis.set(alive, '1', 'PX', 60_000);
    await loseTask(queue, alive);
    await loseTask(queue, 'dead-id');
    const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
    try {
      const results = await sweeper.sweep();
      assert.deepEqual(results.get(queue.name), {
        requeued: 1,
        notificationsAdded: 1,
        notificationsDropped: 0,
      });
      assert.deepEqual(await db.redis.hkeys(`${queue.name}_processing`), [alive]);
    } finally {
      await db.redis.del(alive);
    }
  });

  it('reports isRunning, and stop() is idempotent', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const sweeper = new Sweeper({ queues: [queue], interval: 60_000, logger: quietLogger });
    assert.equal(sweeper.isRunning, false);
    await sweeper.stop();
    assert.equal(sweeper.isRunning, false, 'a stop before any start is harmless');
    sweeper.start();
    sweeper.start();
    assert.equal(sweeper.isRunning, true);
    await sweeper.stop();
    assert.equal(sweeper.isRunning, false);
    await sweeper.stop();
    await sweeper.stop();
    assert.equal(sweeper.isRunning, false);
    // And it can start again.
    await loseTask(queue);
    sweeper.start();
    try {
      await eventually(() => requeued(queue), 5_000, 'a sweep after the restart');
    } finally {
      await sweeper.stop();
    }
  });

  it('stop() waits for the sweep in progress', async () => {
    const queues = Array.from({ length: 20 }, () => new Queue(db.redis, uniqueName()));
    for (const queue of queues) await loseTask(queue);
    const lines: string[] = [];
    const sweeper = new Sweeper({ queues, interval: 60_000, logger: recordingLogger(lines) });
    sweeper.start();
    // The sweep has started and goes queue by queue, one round trip each: stop() returns
    // only once all of them are done.
    assert.equal(lines.length, 0, 'nothing swept yet');
    await sweeper.stop();
    assert.equal(lines.length, queues.length, lines.join('\n'));
    for (const queue of queues) assert.equal(await requeued(queue), true, queue.name);
  });

  it('add() ignores a queue already swept, by name; queueNames lists them', async () => {
    const a = new Queue(db.redis, uniqueName('a'));
    const b = new Queue(db.redis, uniqueName('b'));
    const sweeper = new Sweeper({ queues: [a], logger: quietLogger });
    assert.deepEqual(sweeper.queueNames, [a.name]);
    sweeper.add(new Queue(db.redis, a.name));
    sweeper.add(a);
    assert.deepEqual(sweeper.queueNames, [a.name]);
    sweeper.add(b);
    sweeper.add(b);
    assert.deepEqual(sweeper.queueNames, [a.name, b.name]);
    await loseTask(b);
    const results = await sweeper.sweep();
    assert.deepEqual([...results.keys()], [a.name, b.name], 'each queue swept once');
    assert.equal(results.get(b.name)!.requeued, 1);
    assert.equal(await requeued(b), true);
  });

  it('does not share its queue list with the array it was given', () => {
    const a = new Queue(db.redis, uniqueName('a'));
    const given = [a];
    const sweeper = new Sweeper({ queues: given, logger: quietLogger });
    sweeper.add(new Queue(db.redis, uniqueName('b')));
    assert.equal(given.length, 1);
    given.push(new Queue(db.redis, uniqueName('c')));
    assert.equal(sweeper.queueNames.length, 2);
  });

  it('logs what a sweep did, and nothing when it did nothing', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const lines: string[] = [];
    const sweeper = new Sweeper({ queues: [queue], logger: recordingLogger(lines) });
    await sweeper.sweep();
    assert.deepEqual(lines, [], 'an empty queue is swept silently');

    await loseTask(queue, 'dead-1');
    await loseTask(queue, 'dead-2');
    await sweeper.sweep();
    assert.deepEqual(lines, [
      `log Swept queue "${queue.name}": 2 lost task(s) requeued, 2 notification(s) restored, 0 stray notification(s) dropped`,
    ]);

    // Stray notifications: more notifications than tasks.
    await db.redis.lpush(`${queue.name}_noti`, '1', '1', '1');
    lines.length = 0;
    const results = await sweeper.sweep();
    assert.deepEqual(results.get(queue.name), {
      requeued: 0,
      notificationsAdded: 0,
      notificationsDropped: 3,
    });
    assert.deepEqual(lines, [
      `log Swept queue "${queue.name}": 0 lost task(s) requeued, 0 notification(s) restored, 3 stray notification(s) dropped`,
    ]);
    assert.equal(await requeued(queue, 2), true);

    lines.length = 0;
    await sweeper.sweep();
    assert.deepEqual(lines, [], 'a consistent queue is swept silently');
  });

  it('rejects an invalid interval with an InvalidOptionsError', () => {
    const queue = new Queue(db.redis, uniqueName());
    for (const interval of [0, -1, 'ten', Infinity]) {
      assert.throws(
        () => new Sweeper({ queues: [queue], interval: interval as number }),
        (error: unknown) =>
          error instanceof InvalidOptionsError &&
          /^Invalid sweeper options: interval must be a positive number of milliseconds, got /.test(
            error.message,
          ),
        String(interval),
      );
    }
    assert.equal(
      new Sweeper({ queues: [queue], interval: '250' as unknown as number }).isRunning,
      false,
      'a numeric string is accepted',
    );
  });

  it('fails a sweep against an unreachable Redis with a RedisUnavailableError', async () => {
    const redis = await unreachableClient();
    try {
      const queue = new Queue(redis, uniqueName(), { redisTimeout: 300 });
      const sweeper = new Sweeper({ queues: [queue], logger: quietLogger });
      const started = Date.now();
      await assert.rejects(sweeper.sweep(), (error: unknown) => {
        assert.ok(error instanceof RedisUnavailableError, String(error));
        assert.match(error.message, /Redis at 127\.0\.0\.1:\d+: unreachable/);
        assert.match(error.message, /gave up after 300 ms/);
        return true;
      });
      assert.ok(Date.now() - started < 5_000, 'within a bound of redisTimeout');
    } finally {
      redis.disconnect();
    }
  });

  it('stops within 3 s after start() against an unreachable Redis, and logs the failure', async () => {
    const redis = await unreachableClient();
    try {
      const queue = new Queue(redis, uniqueName(), { redisTimeout: 300 });
      const lines: string[] = [];
      const sweeper = new Sweeper({
        queues: [queue],
        interval: 60_000,
        logger: recordingLogger(lines),
      });
      sweeper.start();
      await sleep(50);
      const started = Date.now();
      await sweeper.stop();
      assert.ok(Date.now() - started < 3_000, `stop() took ${Date.now() - started} ms`);
      assert.equal(sweeper.isRunning, false);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0]!,
        /^warn Sweep failed: Redis at 127\.0\.0\.1:\d+: unreachable .*; will try again in 60000 ms$/,
      );
    } finally {
      redis.disconnect();
    }
  });
});

describe('Sweeper over queues on several servers', () => {
  it('sweeps every reachable queue though another fails, then reports the failure', async () => {
    const good = new Queue(db.redis, uniqueName());
    await loseTask(good);
    const client = await unreachableClient();
    const bad = new Queue(client, uniqueName(), { redisTimeout: 300 });
    const sweeper = new Sweeper({ queues: [bad, good], logger: quietLogger });
    try {
      await assert.rejects(sweeper.sweep(), RedisUnavailableError);
      assert.ok(await requeued(good), 'the queue after the failing one was swept');
    } finally {
      client.disconnect();
    }
  });
});
