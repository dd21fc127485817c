import type { Contender } from '../contenders/index.js';
import type { BenchRedis } from '../redis-server.js';
import type { Sizes } from '../sizes.js';
import { percentileOfSorted } from '../stats.js';

/** A goal from issue 4, checked against the medians (a report line, never a test). */
export interface Target {
  /** `ratio`: ours/BullMQ; `ours`: our median on its own. */
  readonly of: 'ratio' | 'ours';
  readonly op: '>=' | '<=' | '<' | '==';
  readonly value: number;
  readonly text: string;
}

/** One number a scenario reports per run. */
export interface MetricSpec {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  /** Which direction is better for this number (and so for the ratio ours/BullMQ). */
  readonly better: 'higher' | 'lower';
  readonly target?: Target;
  /** Drawn in the throughput chart. */
  readonly chart?: boolean;
  /** The task count behind the number, for the table. */
  readonly size?: (sizes: Sizes) => number;
}

/** Run-time context shared by all scenarios. */
export interface RunContext {
  readonly redis: BenchRedis;
  readonly sizes: Sizes;
}

/** A scenario that runs the same way for nestjs-delayed and BullMQ. */
export interface PairScenario {
  readonly id: string;
  readonly group: 'add' | 'drain' | 'latency' | 'memory' | 'scheduled' | 'results' | 'operate';
  readonly title: string;
  readonly metrics: readonly MetricSpec[];
  /** One run against a freshly flushed Redis and a freshly opened contender. */
  run(context: RunContext, contender: Contender): Promise<Record<string, number>>;
}

/** Resolves with the promise, or rejects after `ms` with a message naming `what`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it is true, for at most `ms`; every poll is one Redis round trip. */
export async function until(
  check: () => Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${ms} ms: ${what}`);
  }
}

/** Adds `count` tasks in bulk chunks of 1,000, off the clock. */
export async function fill(contender: Contender, count: number): Promise<void> {
  for (let from = 0; from < count; from += 1_000) {
    await contender.addBulk(from, Math.min(1_000, count - from));
  }
  const waiting = await contender.backlog();
  if (waiting !== count)
    throw new Error(`${contender.id}: filled ${count} tasks but ${waiting} are waiting`);
}

/** A counter that resolves `done` when it reaches `count`. */
export function countdown(count: number): { tick: () => void; done: Promise<void> } {
  let left = count;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (count === 0) resolve();
  return {
    tick: () => {
      if (--left === 0) resolve();
    },
    done,
  };
}

/**
 * The two metrics `<id>.p50` and `<id>.p99` of a latency in ms: `label` holds `{p}` where
 * the percentile goes; `targets` are ours, in ms, when the issue sets them.
 */
export function p50p99Metrics(
  id: string,
  label: string,
  size: (sizes: Sizes) => number,
  targets?: { p50: number; p99: number },
): MetricSpec[] {
  return (['p50', 'p99'] as const).map((p) => ({
    id: `${id}.${p}`,
    label: label.replace('{p}', p),
    unit: 'ms',
    better: 'lower' as const,
    size,
    ...(targets === undefined
      ? {}
      : {
          target: {
            of: 'ours' as const,
            op: '<=' as const,
            value: targets[p],
            text: `<= ${targets[p]} ms`,
          },
        }),
  }));
}

/** The p50 and p99 of `values` (ms), as the metrics `<id>.p50` and `<id>.p99`. */
export function p50p99(id: string, values: ArrayLike<number>): Record<string, number> {
  const sorted = Array.from(values).sort((a, b) => a - b);
  return {
    [`${id}.p50`]: percentileOfSorted(sorted, 50),
    [`${id}.p99`]: percentileOfSorted(sorted, 99),
  };
}
