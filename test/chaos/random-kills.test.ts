import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { NodeTask, Queue, Sweeper } from '../../lib/core/index.js';
import {
  eventually,
  leftoverKeys,
  quietLogger,
  useRedisServer,
  uniqueName,
} from '../helpers/redis-server.js';
import { type Spawned, startWorkerApp } from '../helpers/processes.js';

const db = useRedisServer();

describe('worker processes SIGKILLed at random instants under load', () => {
  it('lose nothing, and re-run only tasks a killed process had started', async () => {
    const queue = new Queue(db.redis, uniqueName('kills'));
    const resultsKey = uniqueName('results');
    const total = 400;
    const env = {
      REDIS_URL: db.server.url,
      QUEUE: queue.name,
      RESULTS_KEY: resultsKey,
      CONCURRENCY: '8',
      KEEP_ALIVE_TIMEOUT: '2000',
    };
    await queue.enqueueMany(
      Array.from({ length: total }, (_, i) => new NodeTask('InteropHandlers:slow', [40, `t${i}`])),
    );
    const sweeper = new Sweeper({ queues: [queue], interval: 100, logger: quietLogger });
    sweeper.start();
    const killedPids = new Set<number>();
    let worker: Spawned | undefined;
    try {
      // Two workers at a time; every 150-400 ms one of them is killed and replaced.
      const workers: Spawned[] = [await startWorkerApp(env), await startWorkerApp(env)];
      for (let round = 0; round < 6; round++) {
        await sleep(150 + Math.floor(Math.random() * 250));
        const victim = workers.shift()!;
        killedPids.add(victim.child.pid!);
        victim.child.kill('SIGKILL');
        await victim.exited;
        workers.push(await startWorkerApp(env));
      }
      const done = async () =>
        new Set(
          (await db.redis.lrange(resultsKey, 0, -1))
            .map((l) => JSON.parse(l))
            .filter((r) => r.phase === 'done')
            .map((r) => r.tag),
        ).size;
      await eventually(async () => (await done()) === total, 30_000, `all ${total} tasks done`);
      for (worker of workers) {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
    } finally {
      await sweeper.stop();
    }
    const records = (await db.redis.lrange(resultsKey, 0, -1)).map(
      (line) => JSON.parse(line) as { tag: string; phase: string; pid: number },
    );
    const starts = new Map<string, number[]>();
    for (const r of records.filter((r) => r.phase === 'start'))
      starts.set(r.tag, [...(starts.get(r.tag) ?? []), r.pid]);
    assert.equal(starts.size, total, 'every task started');
    for (const [tag, pids] of starts) {
      // Every start but the last must have happened in a process that was then killed.
      for (const pid of pids.slice(0, -1))
        assert.ok(killedPids.has(pid), `${tag} re-run although ${pid} was not killed`);
    }
    assert.equal(killedPids.size, 6);
    const rerun = [...starts.values()].filter((pids) => pids.length > 1).length;
    assert.ok(rerun > 0, 'the kills hit running tasks (else this test proves nothing)');
    assert.deepEqual(await leftoverKeys(db.redis, queue.name), []);
    await db.redis.del(resultsKey);
  });
});
