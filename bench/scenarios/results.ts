import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/index.js';
import type { Sizes } from '../sizes.js';
import { perSecond } from '../stats.js';
import { keyspace } from './memory.js';
import { p50p99, p50p99Metrics, type PairScenario, type RunContext, within } from './scenario.js';

/**
 * Results: enqueue a task and await what its handler returned, on a worker of concurrency
 * 100 whose `Bench:echo` handler returns its argument. Ours: `queue.call` then
 * `handle.result` (waiters share one subscriber per producer connection); BullMQ:
 * `queue.add` then `job.waitUntilFinished` on one QueueEvents. Then what the stored results
 * cost Redis.
 */
const WORKER_CONCURRENCY = 100;
/** The `timeout` of each wait (ours: `result({ timeout })`; BullMQ: `waitUntilFinished`). */
const RESULT_TIMEOUT_MS = 30_000;
const RUN_TIME_LIMIT_MS = 180_000;
/** Lets Redis settle (closed clients freed) before INFO memory is read. */
const SETTLE_MS = 250;

/** A round trip's value and what the echo must hand back. */
type Echoed = Record<string, unknown>;

/**
 * Builds and starts an echo worker, makes one round trip off the clock (it opens our shared
 * subscriber, as BullMQ's QueueEvents is opened by `openResults`, and checks the echo), then
 * runs `body` and closes the worker.
 */
async function withEchoWorker<T>(
  contender: Contender,
  body: () => Promise<T>,
  primer: Echoed,
): Promise<T> {
  await contender.openResults();
  const worker = await contender.worker({ concurrency: WORKER_CONCURRENCY, echo: true });
  try {
    await worker.start();
    check(contender, primer, await contender.callEcho(primer, RESULT_TIMEOUT_MS));
    return await body();
  } finally {
    await worker.close();
  }
}

function check(contender: Contender, sent: Echoed, got: unknown): void {
  if (JSON.stringify(got) !== JSON.stringify(sent)) {
    throw new Error(
      `${contender.id}: the echo of ${JSON.stringify(sent)} came back as ${JSON.stringify(got)}`,
    );
  }
}

/**
 * `count` round trips with `inFlight` of them outstanding at any time: each one's time from
 * the enqueue call to its result (ms), and the time of them all.
 */
async function roundTrips(
  contender: Contender,
  count: number,
  inFlight: number,
  value: (index: number) => Echoed,
): Promise<{ samples: Float64Array; ms: number }> {
  const samples = new Float64Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const sent = value(i);
      const t0 = performance.now();
      const got = await contender.callEcho(sent, RESULT_TIMEOUT_MS);
      samples[i] = performance.now() - t0;
      check(contender, sent, got);
    }
  };
  const t0 = performance.now();
  await within(
    Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane)),
    RUN_TIME_LIMIT_MS,
    `${contender.id}: ${count} round trips, ${inFlight} in flight`,
  );
  return { samples, ms: performance.now() - t0 };
}

/**
 * Enqueue-and-await-result round trips of `Bench:echo` (value `{ i }`), 1 or 100 in flight:
 * p50 and p99 of each round trip (from the enqueue call to the result in hand) and round
 * trips per second over the whole run.
 */
export function resultRoundTrip(inFlight: 1 | 100): PairScenario {
  const id = `results.inflight${inFlight}`;
  const count = (s: Sizes) => (inFlight === 1 ? s.resultSequential : s.resultConcurrent);
  const where = `${inFlight} in flight, worker c${WORKER_CONCURRENCY}`;
  return {
    id,
    group: 'results',
    title: `Enqueue and await the result, ${where}`,
    metrics: [
      ...p50p99Metrics(`${id}.rtt`, `enqueue + await result {p}, ${where}`, count),
      {
        id: `${id}.rate`,
        label: `enqueue + await result, ${where}: round trips per second`,
        unit: 'tasks/s',
        better: 'higher',
        chart: true,
        size: count,
        target: { of: 'ratio', op: '>=', value: 3, text: '>= 3x' },
      },
    ],
    async run({ sizes }: RunContext, contender: Contender) {
      const n = count(sizes);
      const { samples, ms } = await withEchoWorker(
        contender,
        () => roundTrips(contender, n, inFlight, (i) => ({ i })),
        { i: -1 },
      );
      return { ...p50p99(`${id}.rtt`, samples), [`${id}.rate`]: perSecond(n, ms) };
    },
  };
}

/**
 * Redis memory per stored result: `resultMemory` tasks run to completion through the round
 * trip above (100 in flight), each handing back `{ ok: true, n: i }`; then the `used_memory`
 * delta and the keyspace's MEMORY USAGE delta, per task, with every connection of the run
 * (producer, worker, our subscriber / BullMQ's QueueEvents) open at both readings. Ours
 * keeps one record key per task (`<queue>_task_<id>`, expiring an hour after the end, its
 * default); BullMQ keeps every completed job and its events (its defaults).
 */
export const resultMemory: PairScenario = {
  id: 'results.memory',
  group: 'results',
  title: 'Redis memory per stored result',
  metrics: [
    {
      id: 'results.memory',
      label:
        'Redis bytes per stored result (used_memory; ours: a record per task, TTL 1 h; BullMQ: completed jobs kept, its default)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.resultMemory,
    },
    {
      id: 'results.memory.keyspace',
      label: 'Redis bytes per stored result (MEMORY USAGE of the keys left)',
      unit: 'B',
      better: 'lower',
      size: (s) => s.resultMemory,
    },
    {
      id: 'results.memory.keys',
      label: 'keys left after the stored results',
      unit: 'keys',
      better: 'lower',
      size: (s) => s.resultMemory,
    },
  ],
  async run({ redis, sizes }: RunContext, contender: Contender) {
    const n = sizes.resultMemory;
    const value = (i: number): Echoed => ({ ok: true, n: i });
    return withEchoWorker(
      contender,
      async () => {
        // The primer's result is in both readings.
        await sleep(SETTLE_MS);
        const baseUsed = await redis.usedMemory();
        const baseKeys = await keyspace(redis);
        await roundTrips(contender, n, 100, value);
        await sleep(SETTLE_MS);
        const used = await redis.usedMemory();
        const keys = await keyspace(redis);
        return {
          'results.memory': (used - baseUsed) / n,
          'results.memory.keyspace': (keys.bytes - baseKeys.bytes) / n,
          'results.memory.keys': keys.count - baseKeys.count,
        };
      },
      value(-1),
    );
  },
};
