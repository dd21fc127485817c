import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { HandlerRegistry, NodeTask, Queue, Sweeper, Worker } from '../../lib/core/index.js';
import {
  eventually,
  freePort,
  leftoverKeys,
  quietLogger,
  useRedisServer,
  uniqueName,
} from '../helpers/redis-server.js';

// CLIENT KILL reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

describe('Redis connections dropped under load', () => {
  it('loses no task and runs none twice: the worker reconnects, uncertain slots are recovered', async () => {
    const queue = new Queue(db.redis, uniqueName('drop'));
    const runs = new Map<number, number>();
    const handlers = new HandlerRegistry();
    handlers.register('Drop:run', async (n: number) => {
      await sleep(1);
      runs.set(n, (runs.get(n) ?? 0) + 1);
    });
    const total = 3_000;
    await queue.enqueueMany(Array.from({ length: total }, (_, i) => new NodeTask('Drop:run', [i])));
    const worker = new Worker({
      queues: [queue],
      handlers,
      concurrency: 20,
      keepAliveInterval: 200,
      keepAliveTimeout: 3_000,
      dequeueTimeout: 200,
      logger: quietLogger,
    });
    const sweeper = new Sweeper({ queues: [queue], interval: 250, logger: quietLogger });
    await worker.start();
    sweeper.start();
    try {
      await eventually(() => runs.size > total / 4, 20_000, 'a quarter done');
      // Cut every client connection, ours included, twice, while tasks are in flight.
      const killer = db.server.client();
      await killer.client('KILL', 'TYPE', 'normal');
      await sleep(50);
      await killer.client('KILL', 'TYPE', 'normal');
      await eventually(
        () => runs.size === total,
        30_000,
        `all ${total} tasks run (got ${runs.size})`,
      );
      await eventually(
        async () => (await leftoverKeys(db.redis, queue.name)).length === 0,
        10_000,
        'nothing left in Redis',
      );
    } finally {
      await worker.close();
      await sweeper.stop();
    }
    // The worker did not die: no task may run twice. Tasks whose dequeue reply was lost were
    // never run here; the sweeper put them back once their retired slot ids expired.
    const twice = [...runs.entries()].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], 'no task ran twice');
  });
});

describe('Redis unreachable', () => {
  it('rejects an enqueue with a clear error in bounded time, and a worker cannot start', async () => {
    const port = await freePort();
    const client = new Redis({
      port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    const queue = new Queue(client, uniqueName(), { redisTimeout: 1_000 });
    try {
      const started = Date.now();
      await assert.rejects(
        queue.enqueue(new NodeTask('X:y')),
        /max retries|ECONNREFUSED|Connection is closed/,
      );
      assert.ok(Date.now() - started < 5_000);
      const worker = new Worker({
        queues: [queue],
        handlers: new HandlerRegistry(),
        redisTimeout: 1_000,
        logger: quietLogger,
      });
      await assert.rejects(worker.start());
    } finally {
      client.disconnect();
    }
  });
});
