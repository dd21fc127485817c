import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/index.js';
import { percentileOfSorted } from '../stats.js';
import { type PairScenario, type RunContext, within } from './scenario.js';

/** How long the started worker is left alone before the first sample, so it is idle. */
const IDLE_BEFORE_MS = 200;
const SAMPLE_TIME_LIMIT_MS = 10_000;

/**
 * Enqueue->start latency on an idle worker: one task at a time, the clock from just before
 * the add call to the first line of the handler (same process, same clock), then a small
 * gap so the worker is waiting again when the next task arrives.
 */
export function latency(concurrency: 1 | 100): PairScenario {
  const p50 = `latency.c${concurrency}.p50`;
  const p99 = `latency.c${concurrency}.p99`;
  return {
    id: `latency.c${concurrency}`,
    group: 'latency',
    title: `Enqueue->start latency, idle worker, concurrency ${concurrency}`,
    metrics: [
      {
        id: p50,
        label: `enqueue->start p50, idle worker c${concurrency}`,
        unit: 'ms',
        better: 'lower',
        size: (s) => s.latencySamples,
      },
      {
        id: p99,
        label: `enqueue->start p99, idle worker c${concurrency}`,
        unit: 'ms',
        better: 'lower',
        size: (s) => s.latencySamples,
        target: { of: 'ours', op: '<=', value: 2, text: '<= 2 ms' },
      },
    ],
    async run({ sizes }: RunContext, contender: Contender) {
      const samples = await sampleLatency(
        contender,
        concurrency,
        sizes.latencySamples,
        sizes.latencyGapMs,
      );
      samples.sort((a, b) => a - b);
      return { [p50]: percentileOfSorted(samples, 50), [p99]: percentileOfSorted(samples, 99) };
    },
  };
}

async function sampleLatency(
  contender: Contender,
  concurrency: number,
  count: number,
  gapMs: number,
): Promise<number[]> {
  let expected = -1;
  let started: ((at: number) => void) | undefined;
  const worker = await contender.worker({
    concurrency,
    onStart: (index) => {
      const at = performance.now();
      if (index === expected) started?.(at);
    },
  });
  const samples: number[] = [];
  try {
    await worker.start();
    await sleep(IDLE_BEFORE_MS);
    for (let i = 0; i < count; i++) {
      expected = i;
      const startedAt = new Promise<number>((resolve) => (started = resolve));
      const t0 = performance.now();
      await contender.add(i);
      const t1 = await within(
        startedAt,
        SAMPLE_TIME_LIMIT_MS,
        `${contender.id}: task ${i} to start`,
      );
      samples.push(t1 - t0);
      await sleep(gapMs);
    }
  } finally {
    await worker.close();
  }
  return samples;
}
