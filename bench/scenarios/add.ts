import type { Contender } from '../contenders/index.js';
import { perSecond } from '../stats.js';
import type { PairScenario, RunContext } from './scenario.js';

/** Producer throughput: one at a time, many in flight, and in bulk. */

async function checkAdded(contender: Contender, count: number): Promise<void> {
  const waiting = await contender.backlog();
  if (waiting !== count)
    throw new Error(`${contender.id}: added ${count} tasks but ${waiting} are waiting`);
}

export const sequentialAdd: PairScenario = {
  id: 'add.sequential',
  group: 'add',
  title: 'Sequential add (await each)',
  metrics: [
    {
      id: 'add.sequential',
      label: 'sequential add',
      unit: 'tasks/s',
      better: 'higher',
      chart: true,
      size: (s) => s.sequentialAdd,
      target: { of: 'ratio', op: '>=', value: 1.5, text: '>= 1.5x' },
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.sequentialAdd;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await contender.add(i);
    const ms = performance.now() - t0;
    await checkAdded(contender, count);
    return { 'add.sequential': perSecond(count, ms) };
  },
};

export const concurrentAdd: PairScenario = {
  id: 'add.concurrent',
  group: 'add',
  title: 'Concurrent add (1,000 in flight)',
  metrics: [
    {
      id: 'add.concurrent',
      label: 'concurrent add (1,000 in flight)',
      unit: 'tasks/s',
      better: 'higher',
      chart: true,
      size: (s) => s.concurrentAdd,
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.concurrentAdd;
    let next = 0;
    const lane = async () => {
      while (next < count) await contender.add(next++);
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: Math.min(sizes.inFlight, count) }, lane));
    const ms = performance.now() - t0;
    await checkAdded(contender, count);
    return { 'add.concurrent': perSecond(count, ms) };
  },
};

export function bulkAdd(batch: number): PairScenario {
  const id = `add.bulk${batch}`;
  return {
    id,
    group: 'add',
    title: `Bulk add, batches of ${batch.toLocaleString('en-US')} (addBulk / enqueueMany)`,
    metrics: [
      {
        id,
        label: `bulk add, batches of ${batch.toLocaleString('en-US')}`,
        unit: 'tasks/s',
        better: 'higher',
        chart: true,
        size: (s) => s.bulkAdd,
        target: { of: 'ratio', op: '>=', value: 5, text: '>= 5x' },
      },
    ],
    async run({ sizes }: RunContext, contender: Contender) {
      const count = sizes.bulkAdd;
      const t0 = performance.now();
      for (let from = 0; from < count; from += batch) {
        await contender.addBulk(from, Math.min(batch, count - from));
      }
      const ms = performance.now() - t0;
      await checkAdded(contender, count);
      return { [id]: perSecond(count, ms) };
    },
  };
}
