import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/index.js';
import { percentileOfSorted, perSecond } from '../stats.js';
import { countdown, type PairScenario, type RunContext, within } from './scenario.js';

/**
 * Later work: adding tasks scheduled an hour ahead (one at a time and in bulk, to set beside
 * the plain adds), and how late tasks due at random instants start, idle worker or busy.
 */
const AN_HOUR = 3_600_000;

async function checkScheduled(contender: Contender, count: number): Promise<void> {
  const scheduled = await contender.scheduledBacklog();
  if (scheduled !== count) {
    throw new Error(
      `${contender.id}: scheduled ${count} tasks but ${scheduled} are waiting for their time`,
    );
  }
}

export const scheduledSequentialAdd: PairScenario = {
  id: 'scheduled.sequential',
  group: 'scheduled',
  title: 'Scheduled add, one hour ahead (await each)',
  metrics: [
    {
      id: 'scheduled.sequential',
      label: 'scheduled add, sequential',
      unit: 'tasks/s',
      better: 'higher',
      size: (s) => s.sequentialAdd,
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.sequentialAdd;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await contender.addScheduled(i, AN_HOUR);
    const ms = performance.now() - t0;
    await checkScheduled(contender, count);
    return { 'scheduled.sequential': perSecond(count, ms) };
  },
};

export const scheduledBulkAdd: PairScenario = {
  id: 'scheduled.bulk1000',
  group: 'scheduled',
  title: 'Scheduled add, one hour ahead, batches of 1,000',
  metrics: [
    {
      id: 'scheduled.bulk1000',
      label: 'scheduled add, batches of 1,000',
      unit: 'tasks/s',
      better: 'higher',
      size: (s) => s.bulkAdd,
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.bulkAdd;
    const t0 = performance.now();
    for (let from = 0; from < count; from += 1_000) {
      await contender.addScheduledBulk(from, Math.min(1_000, count - from), AN_HOUR);
    }
    const ms = performance.now() - t0;
    await checkScheduled(contender, count);
    return { 'scheduled.bulk1000': perSecond(count, ms) };
  },
};

/**
 * Tasks due at random instants over the window, added while a worker of `concurrency` runs.
 * The producer runs in the worker's process, which favours us: our promoter hears of each
 * schedule at once, where one in another process finds it at its next look (up to 1 s);
 * BullMQ finds delayed jobs through Redis either way. The README says so beside the row.
 * Lateness = when the handler started minus when the task was due (the moment its add was
 * sent plus its delay, on the bench's clock, the same for both libraries).
 */
export function lateness(concurrency: number): PairScenario {
  const p50 = `scheduled.late.c${concurrency}.p50`;
  const p99 = `scheduled.late.c${concurrency}.p99`;
  return {
    id: `scheduled.late.c${concurrency}`,
    group: 'scheduled',
    title: `Lateness of scheduled tasks, worker concurrency ${concurrency}`,
    metrics: [
      {
        id: p50,
        label: `scheduled task lateness p50, c${concurrency} (producer in the worker's process)`,
        unit: 'ms',
        better: 'lower',
        size: (s) => s.lateness,
        target: { of: 'ours', op: '<=', value: 2, text: '<= 2 ms' },
      },
      {
        id: p99,
        label: `scheduled task lateness p99, c${concurrency} (producer in the worker's process)`,
        unit: 'ms',
        better: 'lower',
        size: (s) => s.lateness,
        target: { of: 'ours', op: '<=', value: 10, text: '<= 10 ms' },
      },
    ],
    async run({ sizes }: RunContext, contender: Contender) {
      const count = sizes.lateness;
      const due = new Float64Array(count);
      const late = new Float64Array(count);
      const started = countdown(count);
      const worker = await contender.worker({
        concurrency,
        onStart: (index) => {
          late[index] = performance.now() - due[index]!;
          started.tick();
        },
      });
      try {
        await worker.start();
        await sleep(50);
        // Added 100 at a time in flight, each with its own random delay within the window.
        let next = 0;
        const lane = async () => {
          while (next < count) {
            const i = next++;
            const delay = Math.floor(Math.random() * sizes.latenessWindowMs);
            due[i] = performance.now() + delay;
            await contender.addScheduled(i, delay);
          }
        };
        await Promise.all(Array.from({ length: 100 }, lane));
        await within(
          started.done,
          sizes.latenessWindowMs + 30_000,
          `${contender.id}: every scheduled task to start`,
        );
      } finally {
        await worker.close();
      }
      const sorted = [...late].sort((a, b) => a - b);
      return { [p50]: percentileOfSorted(sorted, 50), [p99]: percentileOfSorted(sorted, 99) };
    },
  };
}

/** Redis memory per task scheduled an hour ahead (used_memory before and after). */
export const scheduledMemory: PairScenario = {
  id: 'scheduled.memory',
  group: 'scheduled',
  title: 'Redis memory per scheduled task',
  metrics: [
    {
      id: 'scheduled.memory',
      label: 'Redis bytes per scheduled task (used_memory)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.memory,
      target: { of: 'ratio', op: '<=', value: 0.25, text: '<= 1/4' },
    },
  ],
  async run({ redis, sizes }: RunContext, contender: Contender) {
    const n = sizes.memory;
    await sleep(250);
    const base = await redis.usedMemory();
    for (let from = 0; from < n; from += 1_000) {
      await contender.addScheduledBulk(from, Math.min(1_000, n - from), AN_HOUR);
    }
    await checkScheduled(contender, n);
    await sleep(250);
    return { 'scheduled.memory': ((await redis.usedMemory()) - base) / n };
  },
};
