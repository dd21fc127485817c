import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  encodeTask,
  HandlerRegistry,
  NodeTask,
  Queue,
  RedisUnavailableError,
  requeueLost,
  Worker,
  type WorkerOptions,
} from '../../lib/core/index.js';
import { WorkerQueue } from '../../lib/core/worker/worker-queue.js';
import {
  eventually,
  freePort,
  leftoverKeys,
  quietLogger,
  uniqueName,
  useRedisServer,
} from '../helpers/redis-server.js';

// One test counts the server's script calls (INFO commandstats): a private server, even
// under REDIS_URL, so that no other file's traffic is counted.
const db = useRedisServer({ private: true });

/** Runs `body` with started workers (one per entry of `each`), closing them after. */
async function withWorkers(
  each: readonly (Partial<WorkerOptions> & { queues: Queue[]; handlers: HandlerRegistry })[],
  body: (workers: Worker[]) => Promise<void>,
): Promise<void> {
  const workers = each.map(
    (options) => new Worker({ logger: quietLogger, dequeueTimeout: 200, ...options }),
  );
  try {
    await Promise.all(workers.map((worker) => worker.start()));
    await body(workers);
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/** Handlers that count the runs of each task by its first argument. */
function countingHandlers(ms = 0): { handlers: HandlerRegistry; runs: Map<number, number> } {
  const runs = new Map<number, number>();
  const handlers = new HandlerRegistry();
  handlers.register('Count:run', async (id: number) => {
    runs.set(id, (runs.get(id) ?? 0) + 1);
    if (ms > 0) await sleep(ms);
  });
  return { handlers, runs };
}

const tasks = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => new NodeTask('Count:run', [from + i]));

/** Calls of the dequeue scripts (and every other EVALSHA) the server has run so far. */
async function scriptCalls(): Promise<number> {
  const stats = await db.redis.info('commandstats');
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

function assertEachRanOnce(runs: Map<number, number>, count: number): void {
  assert.equal(runs.size, count, `${runs.size} of ${count} tasks ran`);
  const twice = [...runs].filter(([, times]) => times !== 1);
  assert.deepEqual(twice, [], 'tasks that ran other than once');
}

describe('Queue.pause(), resume(), isPaused()', () => {
  it('say whether they changed anything, and keep the pause time in N_paused with no expiry', async () => {
    const queue = new Queue(db.redis, uniqueName());
    assert.equal(await queue.isPaused(), false);
    assert.equal(await queue.resume(), false, 'a queue not paused is not resumed');
    const [seconds] = await db.redis.time();
    assert.equal(await queue.pause(), true);
    assert.equal(await queue.pause(), false, 'paused already');
    assert.equal(await queue.isPaused(), true);
    const since = Number(await db.redis.get(`${queue.name}_paused`));
    assert.ok(
      since >= Number(seconds) * 1000 && since < Number(seconds) * 1000 + 5_000,
      `paused at ${since} ms, Redis' clock said ${seconds} s`,
    );
    assert.equal(await db.redis.pttl(`${queue.name}_paused`), -1, 'no expiry');
    assert.equal(await queue.pause(), false);
    assert.equal(
      Number(await db.redis.get(`${queue.name}_paused`)),
      since,
      'a second pause keeps the first time',
    );
    assert.equal(await queue.resume(), true);
    assert.equal(await queue.isPaused(), false);
    assert.equal(await db.redis.exists(`${queue.name}_paused`), 0);
    assert.equal(await queue.resume(), false);
  });

  it('keep the hash tag of the queue in the key', async () => {
    const queue = new Queue(db.redis, `{${uniqueName()}}`);
    assert.equal(queue.keys.paused, `${queue.name}_paused`);
    await queue.pause();
    assert.equal(await db.redis.exists(`${queue.name}_paused`), 1);
    await queue.resume();
  });

  it('fail with a RedisUnavailableError within redisTimeout when Redis is unreachable', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
      disconnectTimeout: 200,
    });
    redis.on('error', () => undefined);
    try {
      const queue = new Queue(redis, uniqueName(), { redisTimeout: 300 });
      for (const [what, call] of [
        ['pause', () => queue.pause()],
        ['resume', () => queue.resume()],
        ['isPaused', () => queue.isPaused()],
      ] as const) {
        const started = Date.now();
        await assert.rejects(call(), (error: unknown) => {
          assert.ok(error instanceof RedisUnavailableError, `${what}: ${String(error)}`);
          assert.match(error.message, /gave up after 300 ms/);
          return true;
        });
        const took = Date.now() - started;
        assert.ok(took < 3_000, `${what} failed after ${took} ms, not bounded by redisTimeout`);
      }
    } finally {
      redis.disconnect();
    }
  });
});

describe('the dequeue scripts on a paused queue', () => {
  for (const rateLimit of [undefined, { max: 100, window: 10_000 }]) {
    const which = rateLimit === undefined ? 'dequeue' : 'dequeue_limited';
    it(`${which}: takes nothing and puts a held notification back`, async () => {
      const queue = new Queue(db.redis, uniqueName(), { rateLimit });
      const steps = new WorkerQueue(queue, db.redis, 60_000);
      await queue.enqueueMany(tasks(0, 3));
      await queue.pause();
      // As a BLPOP would have: one notification popped before the dequeue.
      assert.equal(await db.redis.lpop(`${queue.name}_noti`), '1');
      assert.deepEqual(await steps.dequeue(1, ['s1', 's2']), []);
      assert.ok(steps.pausedUntil > performance.now(), 'the queue sits the pause out');
      assert.deepEqual(await steps.dequeue(0, ['s1', 's2']), []);
      assert.equal(await db.redis.llen(queue.name), 3);
      assert.equal(await db.redis.llen(`${queue.name}_noti`), 3, 'the held one is back');
      assert.equal(await db.redis.exists(`${queue.name}_processing`), 0);
      assert.equal(await db.redis.exists(queue.keys.rate), 0, 'no start logged');
      // A resume heard while a dequeue was on its way: its "paused" is not believed.
      steps.pausedUntil = 0;
      const answer = steps.dequeue(0, ['s1']);
      assert.equal(steps.resumed(), false, 'it did not sit out when the message came');
      await answer;
      assert.equal(steps.pausedUntil, 0, 'so it looks again at once');

      await queue.resume();
      assert.equal((await steps.dequeue(0, ['s1', 's2', 's3', 's4'])).length, 3);
      assert.equal(steps.pausedUntil, 0);
      await db.redis.del(`${queue.name}_processing`, `${queue.name}_noti`, queue.keys.rate);
      assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    });
  }
});

describe('a paused queue and its workers', () => {
  it('two workers draining 2,000 tasks stop at once on pause, and after resume every task ran exactly once', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const { handlers, runs } = countingHandlers(5);
    const concurrency = 4;
    const started = () => [...runs.values()].reduce((sum, times) => sum + times, 0);
    await withWorkers(
      [
        { queues: [queue], handlers, concurrency },
        { queues: [new Queue(db.redis, queue.name)], handlers, concurrency },
      ],
      async () => {
        await queue.enqueueMany(tasks(0, 2_000));
        await eventually(() => started() >= 200, 10_000, '200 tasks started');
        assert.equal(await queue.pause(), true);
        const startedAtPause = started();
        const waitingAtPause = await queue.len();
        assert.ok(waitingAtPause > 0, 'paused mid-drain');
        // Tasks taken before the pause run on: at most one per slot of each worker.
        await sleep(300);
        const startedSoon = started();
        assert.ok(
          startedSoon - startedAtPause <= 2 * concurrency,
          `${startedSoon - startedAtPause} tasks started after the pause resolved`,
        );
        await sleep(1_000);
        assert.equal(await queue.len(), waitingAtPause, 'no task left the queue while paused');
        assert.equal(
          await db.redis.llen(`${queue.name}_noti`),
          waitingAtPause,
          'one notification per waiting task',
        );
        assert.equal(started(), startedSoon, 'no task started while paused');
        assert.equal(
          await queue.processingCount(),
          0,
          'the tasks taken before ended and were released',
        );

        assert.equal(await queue.resume(), true);
        await eventually(() => started() >= 2_000, 15_000, 'every task to run');
        await eventually(async () => (await queue.processingCount()) === 0, 5_000, 'releases');
      },
    );
    assertEachRanOnce(runs, 2_000);
    assert.deepEqual(await db.redis.keys(`${queue.name}*`), [], 'nothing is left in Redis');
  });

  it('lose no notification a blocked worker popped after the pause, and do not spin while paused', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const { handlers, runs } = countingHandlers();
    await withWorkers(
      [
        { queues: [queue], handlers, concurrency: 3 },
        { queues: [new Queue(db.redis, queue.name)], handlers, concurrency: 3 },
      ],
      async () => {
        await sleep(100); // both idle, blocked in BLPOP on the queue
        await queue.pause();
        await queue.enqueueMany(tasks(0, 50));
        // Each worker's BLPOP hands it a notification; its dequeue finds the pause.
        await sleep(300);
        const before = await scriptCalls();
        await sleep(1_000);
        const calls = (await scriptCalls()) - before;
        // A look every dequeueTimeout (200 ms) per worker, plus the promoters' looks: a busy
        // loop would make thousands.
        assert.ok(calls < 60, `${calls} script calls in a second while paused`);
        assert.equal(runs.size, 0);
        assert.equal(await queue.len(), 50);
        assert.equal(await db.redis.llen(`${queue.name}_noti`), 50, 'every notification is back');
        await queue.resume();
        await eventually(() => runs.size === 50, 5_000, 'all 50 tasks');
      },
    );
    assertEachRanOnce(runs, 50);
    assert.deepEqual(await db.redis.keys(`${queue.name}*`), [], 'nothing is left in Redis');
  });

  it('a resume wakes a worker at once, well before its next look', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const ranAt: number[] = [];
    const handlers = new HandlerRegistry();
    handlers.register('Count:run', () => void ranAt.push(Date.now()));
    // Its look at a paused queue comes only every 5 s: only the message can wake it sooner.
    await withWorkers([{ queues: [queue], handlers, dequeueTimeout: 5_000 }], async () => {
      await sleep(100);
      await queue.pause();
      await queue.enqueue(new NodeTask('Count:run', [1]));
      await sleep(300); // popped, found paused, sitting out
      assert.deepEqual(ranAt, []);
      const resumedAt = Date.now();
      await queue.resume();
      await eventually(() => ranAt.length === 1, 3_000, 'the task');
      const after = ranAt[0]! - resumedAt;
      assert.ok(after < 1_000, `ran ${after} ms after the resume; its next look was 5 s away`);
    });
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('a worker finds a resume whose message it missed at its next look', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const { handlers, runs } = countingHandlers();
    await withWorkers([{ queues: [queue], handlers, dequeueTimeout: 300 }], async () => {
      await queue.pause();
      await queue.enqueueMany(tasks(0, 5));
      await sleep(700); // more than two looks
      assert.equal(runs.size, 0);
      // Resumed by hand: no message is sent.
      await db.redis.del(`${queue.name}_paused`);
      await eventually(() => runs.size === 5, 3_000, 'the tasks after the next look');
    });
    assertEachRanOnce(runs, 5);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('a worker serving two queues keeps running the other while one is paused', async () => {
    // The paused queue comes first: it would win every BLPOP if the worker still waited on it.
    const paused = new Queue(db.redis, uniqueName());
    const other = new Queue(db.redis, uniqueName());
    const { handlers, runs } = countingHandlers();
    await withWorkers(
      [{ queues: [paused, other], handlers, concurrency: 2, dequeueTimeout: 5_000 }],
      async () => {
        await paused.pause();
        await paused.enqueueMany(tasks(0, 20));
        await other.enqueueMany(tasks(1_000, 20));
        await eventually(() => runs.size === 20, 5_000, "the other queue's tasks");
        // The worker now blocks on the other queue alone, and is served there at once.
        await sleep(200);
        const sentAt = Date.now();
        await other.enqueue(new NodeTask('Count:run', [2_000]));
        await eventually(() => runs.has(2_000), 3_000, 'a task enqueued on the other queue');
        assert.ok(Date.now() - sentAt < 1_000, 'served without waiting for a look');
        assert.ok(
          [...runs.keys()].every((id) => id >= 1_000),
          'no task of the paused queue ran',
        );
        assert.equal(await paused.len(), 20);
        assert.equal(await db.redis.llen(`${paused.name}_noti`), 20);
        // The resume ends the BLPOP on the other queue (its next look was 5 s away).
        await paused.resume();
        await eventually(() => runs.size === 41, 2_000, "the paused queue's tasks");
      },
    );
    assertEachRanOnce(runs, 41);
    assert.deepEqual(await leftoverKeys(db.redis, paused.name), []);
    assert.deepEqual(await leftoverKeys(db.redis, other.name), []);
  });

  it('a rate-limited queue pauses and resumes, and and runs every task once', async () => {
    const queue = new Queue(db.redis, uniqueName(), { rateLimit: { max: 10, window: 200 } });
    const { handlers, runs } = countingHandlers();
    await withWorkers([{ queues: [queue], handlers, concurrency: 5 }], async () => {
      await queue.enqueueMany(tasks(0, 100));
      await eventually(() => runs.size >= 20, 5_000, '20 tasks');
      await queue.pause();
      const atPause = runs.size;
      await sleep(500);
      assert.ok(runs.size - atPause <= 5, `${runs.size - atPause} started after the pause`);
      const held = runs.size;
      const waiting = await queue.len();
      await sleep(500);
      assert.equal(runs.size, held, 'none started while paused');
      assert.equal(await queue.len(), waiting);
      await queue.resume();
      await eventually(() => runs.size === 100, 10_000, 'every task');
    });
    assertEachRanOnce(runs, 100);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });

  it('running tasks end and are released; retries, due scheduled tasks and swept tasks wait in the queue', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handlers = new HandlerRegistry();
    handlers.register('Pause:slow', async () => {
      log.push('slow started');
      await gate;
      log.push('slow ended');
    });
    handlers.register('Pause:flaky', async () => {
      log.push('flaky started');
      await gate;
      if (log.filter((line) => line === 'flaky started').length === 1) throw new Error('again');
    });
    handlers.register('Pause:later', () => void log.push('later ran'));
    handlers.register('Pause:lost', () => void log.push('lost ran'));
    await withWorkers([{ queues: [queue], handlers, concurrency: 2 }], async () => {
      await queue.enqueueMany([new NodeTask('Pause:slow'), new NodeTask('Pause:flaky', [], {}, 1)]);
      await eventually(() => log.length === 2, 3_000, 'both tasks to start');
      await queue.pause();
      await queue.schedule(new NodeTask('Pause:later'), { delay: 100 });
      // A task of a worker that died: its id has no liveness key.
      await db.redis.hset(
        `${queue.name}_processing`,
        'dead-slot',
        encodeTask(new NodeTask('Pause:lost')),
      );
      release();
      await eventually(async () => (await queue.processingCount()) === 1, 3_000, 'releases');
      assert.equal((await requeueLost(queue)).requeued, 1);
      await eventually(async () => (await queue.scheduledCount()) === 0, 3_000, 'the move');
      await sleep(300);
      assert.deepEqual(log, ['slow started', 'flaky started', 'slow ended']);
      assert.equal(await queue.len(), 3, 'the retry, the scheduled task and the swept one wait');
      assert.equal(await db.redis.llen(`${queue.name}_noti`), 3);
      assert.equal(await queue.processingCount(), 0);
      await queue.resume();
      await eventually(() => log.length === 6, 3_000, 'the three waiting tasks');
    });
    assert.deepEqual(log.slice(3).sort(), ['flaky started', 'later ran', 'lost ran']);
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
  });
});
