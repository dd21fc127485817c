import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/index.js';
import type { BenchRedis } from '../redis-server.js';
import { countdown, fill, type PairScenario, type RunContext, until, within } from './scenario.js';

/** Lets Redis settle (closed clients freed) before INFO memory is read. */
const SETTLE_MS = 250;

/**
 * Redis memory per task, two ways:
 * - `used_memory` (INFO memory) delta over the empty, connected baseline, divided by N;
 * - the keyspace: the sum of MEMORY USAGE over every key (SAMPLES 0, exact), divided by N,
 *   which leaves client buffers and allocator noise out.
 * First with N tasks waiting, then after a worker (concurrency 100) drained them and closed:
 * whatever a finished task leaves behind (BullMQ keeps completed jobs by default).
 */
export const memory: PairScenario = {
  id: 'memory',
  group: 'memory',
  title: 'Redis memory per task',
  metrics: [
    {
      id: 'memory.waiting',
      label: 'Redis bytes per waiting task (used_memory)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.memory,
      target: { of: 'ratio', op: '<=', value: 0.25, text: '<= 1/4' },
    },
    {
      id: 'memory.waiting.keyspace',
      label: 'Redis bytes per waiting task (MEMORY USAGE)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.memory,
    },
    {
      id: 'memory.finished',
      label: 'Redis bytes per finished task (used_memory)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.memory,
    },
    {
      id: 'memory.finished.keyspace',
      label: 'Redis bytes per finished task (MEMORY USAGE)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.memory,
      target: { of: 'ours', op: '==', value: 0, text: '0 B' },
    },
    {
      id: 'memory.finished.keys',
      label: 'keys left after the drain',
      unit: 'keys',
      better: 'lower',
      size: (s) => s.memory,
    },
  ],
  async run({ redis, sizes }: RunContext, contender: Contender) {
    const n = sizes.memory;
    await sleep(SETTLE_MS);
    const baseUsed = await redis.usedMemory();
    const baseKeys = await keyspace(redis);

    await fill(contender, n);
    await sleep(SETTLE_MS);
    const waitingUsed = await redis.usedMemory();
    const waitingKeys = await keyspace(redis);

    const completed = countdown(n);
    const worker = await contender.worker({ concurrency: 100, onCompleted: completed.tick });
    try {
      await worker.start();
      await within(completed.done, 180_000, `${contender.id} draining ${n} tasks`);
      await until(
        () => contender.finished(n),
        10_000,
        `${contender.id}: Redis to show ${n} tasks finished`,
      );
    } finally {
      await worker.close();
    }
    await sleep(SETTLE_MS);
    const finishedUsed = await redis.usedMemory();
    const finishedKeys = await keyspace(redis);

    return {
      'memory.waiting': (waitingUsed - baseUsed) / n,
      'memory.waiting.keyspace': (waitingKeys.bytes - baseKeys.bytes) / n,
      'memory.finished': (finishedUsed - baseUsed) / n,
      'memory.finished.keyspace': (finishedKeys.bytes - baseKeys.bytes) / n,
      'memory.finished.keys': finishedKeys.count - baseKeys.count,
    };
  },
};

/** Every key's MEMORY USAGE (exact, SAMPLES 0), summed. */
export async function keyspace(redis: BenchRedis): Promise<{ count: number; bytes: number }> {
  let cursor = '0';
  let count = 0;
  let bytes = 0;
  do {
    const [next, keys] = await redis.admin.scan(cursor, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.admin.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
    for (const [error, usage] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      if (typeof usage === 'number') {
        bytes += usage;
        count++;
      }
    }
  } while (cursor !== '0');
  return { count, bytes };
}
