import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NodeTask, Queue, Sweeper } from '../../lib/core/index.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  useRedisServer,
  uniqueName,
} from '../helpers/redis-server.js';
import { startWorkerApp } from '../helpers/processes.js';

const db = useRedisServer();

async function records(
  key: string,
): Promise<{ func: string; phase?: string; tag?: string; pid: number }[]> {
  return (await db.redis.lrange(key, 0, -1)).map((line) => JSON.parse(line));
}

describe('a worker process killed with SIGKILL mid-task', () => {
  it('loses nothing: the sweeper requeues the task and another worker completes it', async () => {
    const queue = new Queue(db.redis, uniqueName('chaos'));
    const resultsKey = uniqueName('results');
    const env = {
      REDIS_URL: db.server.url,
      QUEUE: queue.name,
      RESULTS_KEY: resultsKey,
      KEEP_ALIVE_TIMEOUT: '2000',
    };
    const first = await startWorkerApp(env);
    await queue.enqueue(new NodeTask('InteropHandlers:slow', [1_500, 'k1']));
    await queue.enqueue(new NodeTask('InteropHandlers:slow', [10, 'k2']));
    await eventually(async () =>
      (await records(resultsKey)).some((r) => r.tag === 'k1' && r.phase === 'start'),
    );
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    assert.equal(await queue.processingCount(), 1, 'the killed worker still holds k1');

    const sweeper = new Sweeper({ queues: [queue], interval: 100, logger: quietLogger });
    sweeper.start();
    const second = await startWorkerApp(env);
    try {
      await eventually(
        async () => (await records(resultsKey)).filter((r) => r.phase === 'done').length === 2,
        15_000,
        'k1 and k2 done',
      );
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
      await sweeper.stop();
    }
    const all = await records(resultsKey);
    const k1 = all.filter((r) => r.tag === 'k1');
    assert.deepEqual(
      k1.map((r) => r.phase),
      ['start', 'start', 'done'],
      'k1 ran once more, to completion',
    );
    assert.notEqual(k1[0]!.pid, k1[2]!.pid);
    assert.equal(all.filter((r) => r.tag === 'k2').length, 2, 'k2 ran exactly once');
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    await db.redis.del(resultsKey);
  });
});

describe('SIGTERM', () => {
  it('drains: the running task finishes, is released, and the worker goes offline', async () => {
    const queue = new Queue(db.redis, uniqueName('drain'));
    const resultsKey = uniqueName('results');
    const worker = await startWorkerApp({
      REDIS_URL: db.server.url,
      QUEUE: queue.name,
      RESULTS_KEY: resultsKey,
      CONCURRENCY: '2',
    });
    const slotIds = worker.output().trim().split(' ')[1]!.split(',');
    assert.equal(slotIds.length, 2);
    await queue.enqueue(new NodeTask('InteropHandlers:slow', [600, 'd1']));
    await eventually(async () => (await records(resultsKey)).some((r) => r.tag === 'd1'));
    worker.child.kill('SIGTERM');
    // Nest closes the app, then re-raises the signal on itself (enableShutdownHooks).
    assert.equal(await worker.exited, 'SIGTERM');
    assert.deepEqual(
      (await records(resultsKey)).map((r) => r.phase),
      ['start', 'done'],
    );
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    for (const id of slotIds) assert.equal(await db.redis.exists(id), 0, 'liveness keys deleted');
    await db.redis.del(resultsKey);
  });
});
