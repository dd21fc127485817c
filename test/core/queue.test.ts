import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeTask, PyTask, Queue, requeueLost } from '../../lib/core/index.js';
import { WorkerQueue } from '../../lib/core/worker/worker-queue.js';
import { queueKeys } from '../../lib/core/protocol/keys.js';
import { leftoverKeys, useRedisServer, uniqueName } from '../helpers/redis-server.js';

// CONFIG SET maxmemory reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

/** The worker's steps on a queue, over the test's own connection. */
const steps = (queue: Queue) => new WorkerQueue(queue, db.redis);

describe('queue keys', () => {
  it('follow the delayed layout and carry a hash tag along', () => {
    assert.deepEqual(queueKeys('default'), {
      tasks: 'default',
      notifications: 'default_noti',
      processing: 'default_processing',
      dead: 'default_dead',
      scheduled: 'default_scheduled',
      schedules: 'default_schedules',
      scheduleTicks: 'default_schedule_ticks',
      rate: 'default_rate',
      paused: 'default_paused',
      wake: 'default_wake',
      done: 'default_done',
      events: 'default_events',
    });
    assert.equal(queueKeys('{emails}').processing, '{emails}_processing');
    assert.throws(() => queueKeys(''), /non-empty string/);
  });
});

describe('Queue', () => {
  it('enqueues the task bytes, then one notification', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueue(new PyTask('m:f', [1]));
    assert.deepEqual(await db.redis.lrangeBuffer(queue.name, 0, -1), [
      encodeTask(new PyTask('m:f', [1])),
    ]);
    assert.deepEqual(await db.redis.lrange(`${queue.name}_noti`, 0, -1), ['1']);
    assert.equal(await queue.len(), 1);
  });

  it('enqueues many tasks in order in one transaction', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const tasks = Array.from({ length: 25_001 }, (_, i) => new PyTask('m:f', [i]));
    await queue.enqueueMany(tasks);
    assert.equal(await queue.len(), 25_001);
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 25_001);
    assert.deepEqual(await db.redis.lindexBuffer(queue.name, 25_000), encodeTask(tasks[25_000]!));
  });

  it('writes same-turn enqueues in order, and rejects only the callers whose script call failed', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const payload = 'x'.repeat(200);
    // Room for about one 10,000-task script call: the later calls of this turn meet an
    // out-of-memory error.
    const used = Number(/used_memory:(\d+)/.exec(await db.redis.info('memory'))![1]);
    await db.redis.config('SET', 'maxmemory', String(used + 4_000_000));
    try {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40_000 }, (_, i) => queue.enqueue(new PyTask('m:f', [i, payload]))),
      );
      const landed = await queue.len();
      const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.ok(landed >= 10_000 && landed < 40_000, `${landed} landed`);
      assert.equal(rejected.length, 40_000 - landed);
      assert.match(String((rejected[0] as PromiseRejectedResult).reason), /OOM/);
      // Those that landed are the first ones, in order, each with its notification.
      assert.ok(outcomes.slice(0, landed).every((outcome) => outcome.status === 'fulfilled'));
      assert.equal(await db.redis.llen(`${queue.name}_noti`), landed);
      assert.deepEqual(
        await db.redis.lindexBuffer(queue.name, landed - 1),
        encodeTask(new PyTask('m:f', [landed - 1, payload])),
      );
    } finally {
      await db.redis.config('SET', 'maxmemory', '0');
      await db.redis.del(queue.name, `${queue.name}_noti`);
    }
  });

  it('dequeues one task per slot and records it under the slot id', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueueMany([new PyTask('m:a'), new PyTask('m:b'), new PyTask('m:c')]);
    const taken = await steps(queue).dequeue(0, ['slot-1', 'slot-2']);
    assert.deepEqual(taken, [encodeTask(new PyTask('m:a')), encodeTask(new PyTask('m:b'))]);
    assert.deepEqual(await db.redis.hgetallBuffer(`${queue.name}_processing`), {
      'slot-1': encodeTask(new PyTask('m:a')),
      'slot-2': encodeTask(new PyTask('m:b')),
    });
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 1);
    assert.equal(await steps(queue).release(['slot-1', 'slot-2']), 2);
    assert.equal(await queue.processingCount(), 0);
  });

  it('uses a notification the caller already popped', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueueMany([new PyTask('m:a'), new PyTask('m:b')]);
    await db.redis.lpop(`${queue.name}_noti`);
    const taken = await steps(queue).dequeue(1, ['s1', 's2', 's3']);
    assert.equal(taken.length, 2);
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 0);
  });

  it('returns nothing for a stray notification instead of failing', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await db.redis.rpush(`${queue.name}_noti`, '1', '1');
    await db.redis.lpop(`${queue.name}_noti`); // as BLPOP would
    assert.deepEqual(await steps(queue).dequeue(1, ['s1']), []);
    assert.deepEqual(await steps(queue).dequeue(0, ['s1']), []);
    assert.equal(await queue.processingCount(), 0);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('retries and releases in one step', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueue(new PyTask('m:f', [], {}, 2));
    await steps(queue).dequeue(0, ['s1']);
    await steps(queue).retry('s1', encodeTask(new PyTask('m:f', [], {}, 1)));
    assert.equal(await queue.processingCount(), 0);
    assert.deepEqual(await db.redis.lrangeBuffer(queue.name, 0, -1), [
      encodeTask(new PyTask('m:f', [], {}, 1)),
    ]);
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 1);
  });

  it('bounds dead letters to maxLength, dropping the oldest', async () => {
    const queue = new Queue(db.redis, uniqueName(), { deadLetter: { maxLength: 3 } });
    for (let i = 0; i < 5; i++) {
      await db.redis.hset(`${queue.name}_processing`, 's', 'x');
      await steps(queue).bury('s', {
        task: Buffer.from([i]),
        reason: 'failed',
        error: `e${i}`,
        funcPath: 'm:f',
      });
    }
    const letters = await queue.deadLetters.list();
    assert.deepEqual(
      letters.map((l) => l.error),
      ['e2', 'e3', 'e4'],
    );
    assert.equal(await queue.processingCount(), 0);
  });

  it('rejects bad dead-letter options', () => {
    assert.throws(
      () => new Queue(db.redis, 'x', { deadLetter: { maxLength: 0 } }),
      /maxLength must be a positive integer/,
    );
  });
});

describe('requeueLost (the sweeper step)', () => {
  it('requeues tasks of workers whose liveness key is gone, keeps the live ones', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueueMany([new PyTask('m:dead'), new PyTask('m:alive')]);
    await db.redis.set('live-worker-x', '1', 'PX', 60_000);
    await steps(queue).dequeue(0, ['dead-worker-x']);
    await steps(queue).dequeue(0, ['live-worker-x']);
    const result = await requeueLost(queue);
    assert.deepEqual(result, { requeued: 1, notificationsAdded: 1, notificationsDropped: 0 });
    assert.deepEqual(await db.redis.lrangeBuffer(queue.name, 0, -1), [
      encodeTask(new PyTask('m:dead')),
    ]);
    assert.deepEqual(Object.keys(await db.redis.hgetall(`${queue.name}_processing`)), [
      'live-worker-x',
    ]);
    await db.redis.del('live-worker-x');
  });

  it('restores notifications lost between BLPOP and dequeue', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueueMany([new PyTask('m:a'), new PyTask('m:b')]);
    await db.redis.lpop(`${queue.name}_noti`);
    assert.deepEqual(await requeueLost(queue), {
      requeued: 0,
      notificationsAdded: 1,
      notificationsDropped: 0,
    });
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 2);
  });

  it('drops stray notifications', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.enqueue(new PyTask('m:a'));
    await db.redis.rpush(`${queue.name}_noti`, '1', '1');
    assert.deepEqual(await requeueLost(queue), {
      requeued: 0,
      notificationsAdded: 0,
      notificationsDropped: 2,
    });
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 1);
    const empty = new Queue(db.redis, uniqueName());
    await db.redis.rpush(`${empty.name}_noti`, '1');
    await requeueLost(empty);
    assert.deepEqual(await leftoverKeys(db.redis, empty.name), []);
  });
});

describe('dead letters', () => {
  it('lists, requeues exactly once, and purges', async () => {
    const queue = new Queue(db.redis, uniqueName());
    for (const name of ['m:a', 'm:b', 'm:c']) {
      await db.redis.hset(`${queue.name}_processing`, 's', 'x');
      await steps(queue).bury('s', {
        task: encodeTask(new PyTask(name)),
        reason: 'unknown-handler',
        error: 'no',
        funcPath: name,
      });
    }
    assert.equal(await queue.deadLetters.count(), 3);
    const [first] = await queue.deadLetters.list(0, 1);
    assert.equal(first!.funcPath, 'm:a');
    assert.equal(first!.reason, 'unknown-handler');
    assert.equal(first!.queue, queue.name);
    assert.ok(Math.abs(first!.failedAt - Date.now()) < 60_000);
    assert.equal(await queue.deadLetters.requeue([first!]), 1);
    assert.equal(await queue.deadLetters.requeue([first!]), 0, 'a dead letter is requeued once');
    assert.deepEqual(await db.redis.lrangeBuffer(queue.name, 0, -1), [
      encodeTask(new PyTask('m:a')),
    ]);
    assert.equal(await db.redis.llen(`${queue.name}_noti`), 1);
    assert.equal(await queue.deadLetters.requeue(undefined, 1), 1);
    assert.equal(await queue.deadLetters.purge(), 1);
    assert.equal(await queue.deadLetters.count(), 0);
    assert.equal(await queue.len(), 2);
  });
});
