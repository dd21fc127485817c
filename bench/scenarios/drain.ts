import type { Contender } from '../contenders/index.js';
import { perSecond } from '../stats.js';
import { countdown, fill, type PairScenario, type RunContext, until, within } from './scenario.js';

const DRAIN_TIME_LIMIT_MS = 180_000;

/**
 * Worker throughput: N no-op tasks are waiting, the worker is built and connected, then the
 * clock runs from start() until the library reported every task completed and Redis shows
 * nothing left waiting or held (one extra round trip for both sides).
 */
export function drain(concurrency: 1 | 100): PairScenario {
  const id = `drain.c${concurrency}`;
  const count = (s: RunContext['sizes']) => (concurrency === 1 ? s.drainC1 : s.drainC100);
  return {
    id,
    group: 'drain',
    title: `Worker drain, concurrency ${concurrency}`,
    metrics: [
      {
        id,
        label: `worker drain, concurrency ${concurrency}`,
        unit: 'tasks/s',
        better: 'higher',
        chart: true,
        size: count,
        target:
          concurrency === 1
            ? { of: 'ratio', op: '>=', value: 2, text: '>= 2x' }
            : { of: 'ratio', op: '>=', value: 4, text: '>= 4x' },
      },
    ],
    async run(context: RunContext, contender: Contender) {
      const n = count(context.sizes);
      const ms = await timeDrain(contender, n, concurrency);
      return { [id]: perSecond(n, ms) };
    },
  };
}

/** Fills `count` tasks, drains them with a fresh worker, returns the timed milliseconds. */
export async function timeDrain(
  contender: Contender,
  count: number,
  concurrency: number,
  instrumented?: 'untraced' | 'sampled' | 'recorded',
): Promise<number> {
  await fill(contender, count);
  const completed = countdown(count);
  const worker = await contender.worker({
    concurrency,
    onCompleted: completed.tick,
    ...(instrumented === undefined ? {} : { instrumented }),
  });
  try {
    const t0 = performance.now();
    await worker.start();
    await within(completed.done, DRAIN_TIME_LIMIT_MS, `${contender.id} draining ${count} tasks`);
    await until(
      () => contender.finished(count),
      10_000,
      `${contender.id}: Redis to show ${count} tasks finished`,
    );
    return performance.now() - t0;
  } finally {
    await worker.close();
  }
}
