import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender } from '../contenders/index.js';
import type { Sizes } from '../sizes.js';
import { perSecond } from '../stats.js';
import {
  countdown,
  fill,
  p50p99,
  p50p99Metrics,
  type PairScenario,
  type RunContext,
  until,
  within,
} from './scenario.js';

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

/** How long before the window the adds begin: every add is done before the first task is due. */
const LEAD_MS = 3_000;
/** The plain-task load of the "while draining" variant: tasks per second, in batches every 10 ms. */
const DRAIN_LOAD_PER_S = 10_000;

/**
 * Tasks due at random instants over the window: how late each one starts (when its handler
 * starts minus when it was due: the moment its add was sent plus its delay, on the bench's
 * clock, the same for both libraries). Every add is sent, 100 in flight, before the window
 * opens (LEAD_MS after the first add), so the figure is the library's promotion and
 * dispatch, not a burst of adds in the same process.
 *
 * - idle: a worker of concurrency 1 with nothing else to do, the strictest case for a
 *   task due while the one before it still runs;
 * - draining: a worker of concurrency 100 draining a steady load of plain tasks
 *   (DRAIN_LOAD_PER_S, added in the same process) all through the window, so each due task
 *   joins a queue that is being worked.
 */
export function lateness(mode: 'idle' | 'draining'): PairScenario {
  const concurrency = mode === 'idle' ? 1 : 100;
  const label =
    mode === 'idle'
      ? 'idle worker c1'
      : `worker c100 draining ${DRAIN_LOAD_PER_S.toLocaleString('en-US')} plain tasks/s`;
  return {
    id: `scheduled.late.${mode}`,
    group: 'scheduled',
    title: `Lateness of scheduled tasks, ${label}`,
    metrics: p50p99Metrics(
      `scheduled.late.${mode}`,
      `scheduled task lateness {p}, ${label}`,
      (s) => s.lateness,
      { p50: 2, p99: 10 },
    ),
    async run({ sizes }: RunContext, contender: Contender) {
      const count = sizes.lateness;
      const window = sizes.latenessWindowMs;
      const due = new Float64Array(count);
      const late = new Float64Array(count);
      const started = countdown(count);
      const worker = await contender.worker({
        concurrency,
        onStart: (index) => {
          // Plain tasks of the drain load have indexes from `count` on.
          if (index >= count) return;
          late[index] = performance.now() - due[index]!;
          started.tick();
        },
      });
      let loading = false;
      let load: Promise<void> = Promise.resolve();
      try {
        await worker.start();
        await sleep(50);
        const opens = performance.now() + LEAD_MS;
        let next = 0;
        const lane = async () => {
          while (next < count) {
            const i = next++;
            due[i] = opens + Math.random() * window;
            await contender.addScheduled(i, Math.round(due[i]! - performance.now()));
          }
        };
        await Promise.all(Array.from({ length: 100 }, lane));
        if (performance.now() > opens) {
          throw new Error(`${contender.id}: the adds took longer than the ${LEAD_MS} ms lead`);
        }
        if (mode === 'draining') {
          loading = true;
          const batch = DRAIN_LOAD_PER_S / 100;
          load = (async () => {
            let index = count;
            await sleep(Math.max(0, opens - performance.now() - 500));
            while (loading) {
              const tick = performance.now();
              await contender.addBulk(index, batch);
              index += batch;
              await sleep(Math.max(0, 10 - (performance.now() - tick)));
            }
          })();
        }
        await within(
          started.done,
          LEAD_MS + window + 30_000,
          `${contender.id}: every scheduled task to start`,
        );
      } finally {
        loading = false;
        await load;
        await worker.close();
      }
      return p50p99(`scheduled.late.${mode}`, late);
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

/**
 * `sameInstant` tasks all due at one instant, a worker of concurrency 100 running: how fast
 * they leave the schedule (ours: moved into the queue by the worker's promoter; BullMQ:
 * moved from its delayed set by its worker), and how fast they all start, both counted from
 * the instant they were due. The adds are all done before that instant: the lead only has
 * to outlast them (BullMQ adds delayed jobs about 10x slower, so it gets a longer one).
 */
export const sameInstant: PairScenario = {
  id: 'scheduled.instant',
  group: 'scheduled',
  title: 'Tasks due at one instant',
  metrics: [
    {
      id: 'scheduled.instant.moved',
      label: 'tasks due at one instant: out of the schedule, worker c100',
      unit: 'tasks/s',
      better: 'higher',
      size: (s) => s.sameInstant,
      target: { of: 'ours', op: '>=', value: 100_000, text: '>= 100,000/s' },
    },
    {
      id: 'scheduled.instant.started',
      label: 'tasks due at one instant: all started, worker c100',
      unit: 'tasks/s',
      better: 'higher',
      size: (s) => s.sameInstant,
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.sameInstant;
    const started = countdown(count);
    const worker = await contender.worker({ concurrency: 100, onStart: () => started.tick() });
    try {
      await worker.start();
      const lead = (contender.id === 'ours' ? 1_000 : 4_000) + count / 20;
      const dueAt = performance.now() + lead;
      for (let from = 0; from < count; from += 1_000) {
        const batch = Math.min(1_000, count - from);
        await contender.addScheduledBulk(from, batch, Math.round(dueAt - performance.now()));
      }
      if (performance.now() > dueAt) {
        throw new Error(`${contender.id}: the adds took longer than the ${lead} ms lead`);
      }
      await sleep(dueAt - performance.now());
      await until(
        async () => (await contender.scheduledBacklog()) === 0,
        60_000,
        `${contender.id}: every task out of the schedule`,
      );
      const moved = performance.now() - dueAt;
      await within(started.done, 60_000, `${contender.id}: every task to start`);
      const all = performance.now() - dueAt;
      return {
        'scheduled.instant.moved': perSecond(count, moved),
        'scheduled.instant.started': perSecond(count, all),
      };
    } finally {
      await worker.close();
    }
  },
};

/**
 * What `farFuture` tasks scheduled an hour ahead cost while nothing is due: the CPU that
 * Redis and the process running an idle worker (with its promoter) use per second, over
 * `idleWindowMs`, first with no task scheduled, then with them all waiting. Ours only:
 * BullMQ takes about 40 s to add a million delayed jobs, longer than the rest of this group
 * together; its rows say "n/a".
 */
export const idleFarFuture: PairScenario = {
  id: 'scheduled.idle',
  group: 'scheduled',
  title: 'Idle CPU with far-future tasks waiting',
  metrics: [
    ['redis', 'none', 'Redis CPU, idle worker, no task scheduled (ours only)'],
    ['redis', 'many', 'Redis CPU, idle worker, 1,000,000 tasks an hour ahead (ours only)'],
    ['node', 'none', 'worker process CPU, idle, no task scheduled (ours only)'],
    ['node', 'many', 'worker process CPU, idle, 1,000,000 tasks an hour ahead (ours only)'],
  ].map(([who, load, label]) => ({
    id: `scheduled.idle.${who}.${load}`,
    label: label!,
    unit: 'ms CPU/s',
    better: 'lower' as const,
    size: load === 'many' ? (s: Sizes) => s.farFuture : undefined,
  })),
  async run({ redis, sizes }: RunContext, contender: Contender): Promise<Record<string, number>> {
    if (contender.id !== 'ours') return {};
    const worker = await contender.worker({ concurrency: 1 });
    const idleCpu = async (): Promise<{ redis: number; node: number }> => {
      await sleep(1_000);
      const redisBefore = await redis.cpuSeconds();
      const nodeBefore = process.cpuUsage();
      const t0 = performance.now();
      await sleep(sizes.idleWindowMs);
      const seconds = (performance.now() - t0) / 1_000;
      const node = process.cpuUsage(nodeBefore);
      const redisUsed = (await redis.cpuSeconds()) - redisBefore;
      return {
        redis: (redisUsed * 1_000) / seconds,
        node: (node.user + node.system) / 1_000 / seconds,
      };
    };
    try {
      await worker.start();
      const none = await idleCpu();
      const count = sizes.farFuture;
      for (let from = 0; from < count; from += 10_000) {
        await contender.addScheduledBulk(from, Math.min(10_000, count - from), AN_HOUR);
      }
      await checkScheduled(contender, count);
      const many = await idleCpu();
      return {
        'scheduled.idle.redis.none': none.redis,
        'scheduled.idle.redis.many': many.redis,
        'scheduled.idle.node.none': none.node,
        'scheduled.idle.node.many': many.node,
      };
    } finally {
      await worker.close();
    }
  },
};

/**
 * Retries after a fixed backoff: `backoffTasks` tasks whose first attempt fails, each retried
 * once 100 ms later by the library (ours: `@Task({ retry: 1, backoff: 100 })`; BullMQ:
 * `attempts: 2, backoff: { type: 'fixed', delay: 100 }`), a worker of concurrency 100. The
 * lateness of a retry is when it starts minus (when its first attempt threw + 100 ms).
 */
const BACKOFF_MS = 100;
export const backoffRetry: PairScenario = {
  id: 'scheduled.backoff',
  group: 'scheduled',
  title: 'Retries after a 100 ms backoff',
  metrics: p50p99Metrics(
    'scheduled.backoff',
    'retry after a 100 ms backoff: lateness {p}, c100',
    (s) => s.backoffTasks,
  ),
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.backoffTasks;
    const failedAt = new Float64Array(count);
    const late = new Float64Array(count);
    const retried = countdown(count);
    const worker = await contender.worker({
      concurrency: 100,
      backoffMs: BACKOFF_MS,
      onStart: (index) => {
        if (failedAt[index] === 0) {
          failedAt[index] = performance.now();
          throw new Error('the first attempt fails');
        }
        late[index] = performance.now() - failedAt[index]! - BACKOFF_MS;
        retried.tick();
      },
    });
    try {
      await worker.start();
      for (let from = 0; from < count; from += 1_000) {
        await contender.addBulkRetried(from, Math.min(1_000, count - from));
      }
      await within(retried.done, 60_000, `${contender.id}: every retry to start`);
    } finally {
      await worker.close();
    }
    return p50p99('scheduled.backoff', late);
  },
};

/**
 * A periodic schedule every 100 ms (ours: a schedule fired by a Scheduler; BullMQ: a job
 * scheduler, whose worker adds each next iteration): how late each of `ticks` ticks starts
 * on a worker of concurrency 1, from its planned time (ms since the epoch, both clocks the
 * same machine's). The first two ticks are left out (BullMQ runs its first at once).
 */
export const periodicTicks: PairScenario = {
  id: 'scheduled.every',
  group: 'scheduled',
  title: 'Periodic ticks every 100 ms',
  metrics: p50p99Metrics(
    'scheduled.every',
    'periodic task every 100 ms: tick lateness {p}',
    (s) => s.ticks,
  ),
  async run({ sizes }: RunContext, contender: Contender) {
    const wanted = sizes.ticks + 2;
    const late: number[] = [];
    const ticked = countdown(wanted);
    const worker = await contender.worker({
      concurrency: 1,
      onStart: (plannedAt) => {
        if (late.length >= wanted) return;
        late.push(Date.now() - plannedAt);
        ticked.tick();
      },
    });
    let stop: (() => Promise<void>) | undefined;
    try {
      await worker.start();
      stop = await contender.startEvery(100);
      await within(ticked.done, wanted * 100 + 10_000, `${contender.id}: ${wanted} ticks`);
    } finally {
      await stop?.();
      await worker.close();
    }
    const measured = late.slice(2);
    if (measured.some((value) => !Number.isFinite(value))) {
      throw new Error(`${contender.id}: a tick without its planned time`);
    }
    return p50p99('scheduled.every', measured);
  },
};

/**
 * A queue limited to 1,000 starts per second, `rateLimited` tasks waiting, a worker of
 * concurrency 100: the rate achieved from the first start to the last (a limit lets a full
 * window start at once, so over a few windows this is above the limit), and the most starts
 * in any 1 s window, stamped at the handler's start on the bench's clock: those stamps lag
 * the library's decisions a little (ours are exactly 1,000 per second on Redis' clock,
 * checked by reading the start log).
 */
export const rateLimited: PairScenario = {
  id: 'scheduled.rate',
  group: 'scheduled',
  title: 'A queue limited to 1,000 starts per second',
  metrics: [
    {
      id: 'scheduled.rate.achieved',
      label: 'rate limit 1,000/s: starts per second achieved, c100',
      unit: 'tasks/s',
      better: 'higher',
      size: (s) => s.rateLimited,
    },
    {
      id: 'scheduled.rate.busiest',
      label: 'rate limit 1,000/s: most handler starts in any 1 s window',
      unit: 'tasks',
      better: 'lower',
      size: (s) => s.rateLimited,
    },
  ],
  async run({ sizes }: RunContext, contender: Contender) {
    const count = sizes.rateLimited;
    const starts = new Float64Array(count);
    let started = 0;
    const done = countdown(count);
    const worker = await contender.worker({
      concurrency: 100,
      rateLimit: { max: 1_000, window: 1_000 },
      onStart: () => {
        starts[started++] = performance.now();
        done.tick();
      },
    });
    await fill(contender, count);
    try {
      await worker.start();
      await within(done.done, 60_000, `${contender.id}: every limited task to start`);
    } finally {
      await worker.close();
    }
    const sorted = [...starts].sort((a, b) => a - b);
    let busiest = 0;
    let end = 0;
    for (let begin = 0; begin < sorted.length; begin++) {
      while (end < sorted.length && sorted[end]! < sorted[begin]! + 1_000) end++;
      busiest = Math.max(busiest, end - begin);
    }
    return {
      'scheduled.rate.achieved': perSecond(count - 1, sorted.at(-1)! - sorted[0]!),
      'scheduled.rate.busiest': busiest,
    };
  },
};
