import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Cluster } from 'ioredis';
import {
  DataQueue,
  HandlerRegistry,
  InvalidOptionsError,
  NodeTask,
  Queue,
  QueueInspector,
  requeueLost,
  Scheduler,
  Sweeper,
  Worker,
} from '../../lib/core/index.js';
import { encodeTask } from '../../lib/core/protocol/codec.js';
import { tagsOnEachPrimary, useRedisCluster } from '../helpers/redis-cluster.js';
import { withWorker } from '../helpers/worker.js';
import { eventually, quietLogger, uniqueName } from '../helpers/redis-server.js';

// One cluster for the file: 3 primaries, 3 replicas, on loopback ports.
const started = useRedisCluster();
let redis: Cluster;
/** Hash tags whose slots three different primaries serve. */
let tags: string[];

// In the first suite, not at the top: the file's top-level hooks start at once, together.
async function setUp(): Promise<void> {
  redis = started.cluster.client();
  tags = await tagsOnEachPrimary(started.cluster, 3);
}
after(() => redis?.disconnect());

/** A queue name of its own in the slot of `tags[i]`. */
function tagged(i = 0, prefix = 'q'): string {
  return `${tags[i]}:${uniqueName(prefix)}`;
}

describe('Redis Cluster: names', () => {
  before(setUp);
  it('refuses a queue or data queue name without a hash tag, naming the fix', () => {
    assert.throws(
      () => new Queue(redis, 'orders'),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /"orders" has no hash tag/.test(error.message) &&
        /"\{orders\}"/.test(error.message),
    );
    assert.throws(() => new Queue(redis, '{}orders'), /has no hash tag/);
    assert.throws(() => new DataQueue(redis, 'clicks'), /data queue name "clicks" has no hash tag/);
    // A tag anywhere in the name will do; peers must use the same name.
    assert.doesNotThrow(() => new Queue(redis, 'app:{orders}'));
  });

  it('refuses a worker over queues of two tags, and says to start one per tag', () => {
    const handlers = new HandlerRegistry();
    assert.throws(
      () =>
        new Worker({
          queues: [new Queue(redis, tagged(0)), new Queue(redis, tagged(1))],
          handlers,
          logger: quietLogger,
        }),
      /one hash tag .* start one worker per tag/,
    );
  });
});

describe('Redis Cluster: every feature', () => {
  it('runs tasks from two queues of one tag, highest priority first, with tagged slot ids', async () => {
    const high = new Queue(redis, tagged(1, 'high'));
    const low = new Queue(redis, `${tags[1]}:${uniqueName('low')}`);
    const order: string[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('P:run', (name: string) => void order.push(name));
    await low.enqueueMany([new NodeTask('P:run', ['low1'])]);
    await high.enqueueMany([new NodeTask('P:run', ['high1'])]);
    await withWorker({ queues: [high, low], handlers }, async (worker) => {
      for (const id of worker.slotIds) assert.ok(id.startsWith(tags[1]!), id);
      await eventually(() => order.length === 2);
      // Idle: one BLPOP over both queues (one slot) wakes for either.
      await low.enqueue(new NodeTask('P:run', ['late']));
      await eventually(() => order.length === 3);
    });
    assert.deepEqual(order, ['high1', 'low1', 'late']);
    const counts = await new QueueInspector(low).counts();
    assert.equal(counts.waiting + counts.running, 0);
  });

  it('buries a failing task as a dead letter, and requeues it from there', async () => {
    const queue = new Queue(redis, tagged(2));
    let runs = 0;
    const handlers = new HandlerRegistry();
    handlers.register('F:run', () => {
      runs++;
      if (runs <= 2) throw new Error(`run ${runs} failed`);
    });
    await withWorker({ queues: [queue], handlers }, async () => {
      await queue.enqueue(new NodeTask('F:run', [], {}, 1));
      await eventually(async () => (await queue.deadLetters.count()) === 1);
      const [letter] = await queue.deadLetters.list();
      assert.equal(letter!.error, 'run 2 failed');
      assert.equal(await queue.deadLetters.requeue([letter!]), 1);
      await eventually(() => runs === 3);
    });
    assert.equal(await queue.deadLetters.count(), 0);
  });

  it('runs a scheduled task when due, and a cancelled one never', async () => {
    const queue = new Queue(redis, tagged(0));
    const seen: string[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('S:run', (name: string) => void seen.push(name));
    await withWorker({ queues: [queue], handlers }, async () => {
      const kept = await queue.schedule(new NodeTask('S:run', ['kept']), { delay: 300 });
      const dropped = await queue.schedule(new NodeTask('S:run', ['dropped']), { delay: 300 });
      assert.equal(await queue.cancel(dropped), true);
      assert.ok(kept.dueAt > 0);
      await eventually(() => seen.length === 1, 5_000);
      await sleep(300);
    });
    assert.deepEqual(seen, ['kept']);
  });

  it('fires a periodic schedule once per tick across two schedulers', async () => {
    const queue = new Queue(redis, tagged(1));
    await queue.schedules.set('beat', { every: 200 }, new NodeTask('Clock:tick'), {
      tickArg: true,
    });
    const schedulers = [0, 1].map(
      () =>
        new Scheduler({
          queues: [{ name: queue.name, keys: queue.keys, redis }],
          logger: quietLogger,
        }),
    );
    for (const scheduler of schedulers) scheduler.start();
    await sleep(1_100);
    await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    const ticks = (await redis.lrangeBuffer(queue.keys.tasks, 0, -1)).length;
    assert.ok(ticks >= 4 && ticks <= 6, `${ticks} ticks in 1.1 s`);
    assert.equal(await redis.llen(queue.keys.notifications), ticks);
  });

  it('returns results through a handle, and keeps a unique task unique', async () => {
    const queue = new Queue(redis, tagged(2));
    const handlers = new HandlerRegistry();
    let runs = 0;
    handlers.register('M:add', (a: number, b: number) => {
      runs++;
      return a + b;
    });
    await withWorker({ queues: [queue], handlers }, async () => {
      const handle = await queue.call(new NodeTask('M:add', [2, 3]));
      assert.equal(await handle.result({ timeout: 5_000 }), 5);
      const first = await queue.call(new NodeTask('M:add', [1, 1]), {
        unique: { key: 'once', ttl: 5_000 },
        delay: 300,
      });
      const second = await queue.call(new NodeTask('M:add', [1, 1]), {
        unique: { key: 'once', ttl: 5_000 },
      });
      assert.equal(second.id, first.id, 'the second call gets the first task');
      assert.equal(await first.result({ timeout: 5_000 }), 2);
    });
    assert.equal(runs, 2);
  });

  it('holds a rate limit across two workers', async () => {
    const queue = new Queue(redis, tagged(0), { rateLimit: { max: 5, window: 1_000 } });
    const started: number[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('R:run', () => void started.push(Date.now()));
    await queue.enqueueMany(Array.from({ length: 12 }, () => new NodeTask('R:run')));
    const other = new Worker({
      queues: [queue],
      handlers,
      logger: quietLogger,
      dequeueTimeout: 200,
    });
    await other.start();
    try {
      await withWorker({ queues: [queue], handlers }, async () => {
        await sleep(800);
        assert.equal(started.length, 5, 'five in the first window');
        await eventually(() => started.length === 12, 5_000);
      });
    } finally {
      await other.close();
    }
  });

  it('moves data through a data queue: put, leased get, expiry, done, dead letter', async () => {
    const queue = new DataQueue<string>(redis, tagged(1, 'dq'), {
      visibilityTimeout: 200,
      attempts: 1,
    });
    const ids = await queue.put(['a', 'b', 'c']);
    const batch = await queue.get(2);
    assert.deepEqual([...batch.values()], ['a', 'b']);
    assert.equal(await queue.done([ids[0]!]), 1);
    // 'b' is never done: its lease ends, and with one attempt it becomes a dead letter.
    const waited = await queue.get(5, { wait: 2_000, visibilityTimeout: 0 });
    assert.deepEqual([...waited.values()], ['c']);
    await sleep(300);
    await queue.sweep();
    const letters = await queue.deadLetters.list();
    assert.deepEqual(
      letters.map((letter) => letter.item),
      ['b'],
    );
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
  });
});

describe("Redis Cluster: a worker's life", () => {
  it('stops at once while blocked, and goes offline leaving no liveness key behind', async () => {
    const queue = new Queue(redis, tagged(2));
    const worker = new Worker({
      queues: [queue],
      handlers: new HandlerRegistry(),
      logger: quietLogger,
      dequeueTimeout: 10_000,
    });
    await worker.start();
    const ids = worker.slotIds;
    assert.equal(await redis.exists(...ids), ids.length, 'liveness keys claimed');
    await sleep(300); // blocked in its BLPOP by now
    const stopping = Date.now();
    await worker.close();
    const took = Date.now() - stopping;
    assert.ok(took < 2_000, `close() took ${took} ms with a 10 s BLPOP in progress`);
    assert.equal(await redis.exists(...ids), 0, 'liveness keys deleted');
  });

  it('wakes a waiting data queue get over Pub/Sub', async () => {
    const queue = new DataQueue<number>(redis, tagged(0, 'wake'));
    const waiting = queue.get(1, { wait: 5_000 });
    await sleep(200);
    const putAt = Date.now();
    await queue.put([42]);
    const batch = await waiting;
    assert.deepEqual([...batch.values()], [42]);
    assert.ok(Date.now() - putAt < 1_000, 'woken by the put, not by a poll');
  });
});

describe('Redis Cluster: the sweeper', () => {
  it('requeues only entries whose worker is gone and that still hold what it read', async () => {
    const queue = new Queue(redis, tagged(2));
    const lost = encodeTask(new NodeTask('L:run', ['lost']));
    const held = encodeTask(new NodeTask('L:run', ['held']));
    // A dead worker of ours (tagged id), a dead peer worker (bare id, another slot), and a
    // live one.
    const deadOurs = `${tags[2]}deadbeef`;
    const deadPeer = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const live = `${tags[2]}alive`;
    await redis.set(live, '1', 'PX', 10_000);
    await redis.hset(queue.keys.processing, deadOurs, lost, deadPeer, lost, live, held);
    const result = await requeueLost(queue);
    assert.deepEqual(result, { requeued: 2, notificationsAdded: 2, notificationsDropped: 0 });
    assert.deepEqual(await redis.hkeys(queue.keys.processing), [live]);
    assert.equal(await redis.llen(queue.keys.tasks), 2);
    assert.equal(await redis.llen(queue.keys.notifications), 2);
  });

  it('recovers the task of a worker that went away without releasing it', async () => {
    const queue = new Queue(redis, tagged(0));
    const handlers = new HandlerRegistry();
    let release: () => void = () => undefined;
    let runs = 0;
    handlers.register('K:run', () => {
      runs++;
      if (runs === 1) return new Promise<void>((resolve) => (release = resolve));
    });
    const first = new Worker({
      queues: [queue],
      handlers,
      logger: quietLogger,
      keepAliveInterval: 100,
      keepAliveTimeout: 300,
      shutdownTimeout: 100,
    });
    await first.start();
    await queue.enqueue(new NodeTask('K:run'));
    await eventually(() => runs === 1);
    // Its stop's deadline passes with the task running: the entry stays for a sweeper.
    await first.close();
    release();
    const sweeper = new Sweeper({ queues: [queue], logger: quietLogger, interval: 200 });
    await withWorker({ queues: [queue], handlers }, async () => {
      sweeper.start();
      await eventually(() => runs === 2, 5_000, 'the task run again');
      await sweeper.stop();
    });
    assert.equal(await redis.hlen(queue.keys.processing), 0);
  });
});
