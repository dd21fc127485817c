import type { Contender } from '../contenders/index.js';
import { perSecond } from '../stats.js';
import { timeDrain } from './drain.js';
import type { PairScenario, RunContext } from './scenario.js';

type Half = 'plain' | 'untraced' | 'sampled' | 'recorded';

/** Which order the next run takes: rotated so that no half always gets the warmer start. */
let rotation = 0;
const ORDERS: readonly (readonly Half[])[] = [
  ['plain', 'untraced', 'sampled', 'recorded'],
  ['untraced', 'sampled', 'recorded', 'plain'],
  ['sampled', 'recorded', 'plain', 'untraced'],
  ['recorded', 'plain', 'untraced', 'sampled'],
];

/**
 * The cost of operating a queue: the c100 drain of 20N no-op tasks plain, and with everything
 * an operator turns on (WorkerHooks.instrumented): events and metrics without tracing, then
 * also tracing with an SDK sampling 1 % of runs, and recording every run. All in the same run, for each library. The budget (issue
 * 11): ours with everything on within 10 % of ours plain. No-op tasks are the worst case:
 * the cost per task is all there is.
 */
export const instrumentedDrain: PairScenario = {
  id: 'operate.drain.c100',
  group: 'operate',
  title: 'Worker drain, concurrency 100: plain, and with events, metrics and tracing on',
  metrics: [
    {
      id: 'operate.drain.c100.plain',
      label: 'drain c100, plain (same run)',
      unit: 'tasks/s',
      better: 'higher',
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.untraced',
      label: 'drain c100, events + metrics (events published, no tracing)',
      unit: 'tasks/s',
      better: 'higher',
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.untraced.cost',
      label: 'time with events + metrics / time plain',
      unit: 'x',
      better: 'lower',
      target: { of: 'ours', op: '<=', value: 1.1, text: '<= 1.10 (within 10 %)' },
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.sampled',
      label: 'drain c100, events + metrics + tracing (1 % of runs sampled)',
      unit: 'tasks/s',
      better: 'higher',
      chart: true,
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.sampled.cost',
      label: 'time with events + metrics + tracing (1 % sampled) / time plain',
      unit: 'x',
      better: 'lower',
      target: { of: 'ours', op: '<=', value: 1.1, text: '<= 1.10 (within 10 %)' },
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.recorded',
      label: 'drain c100, events + metrics + tracing (every run recorded)',
      unit: 'tasks/s',
      better: 'higher',
      size: (sizes) => sizes.operateDrain,
    },
    {
      id: 'operate.drain.c100.recorded.cost',
      label: 'time with events + metrics + tracing (every run recorded) / time plain',
      unit: 'x',
      better: 'lower',
      size: (sizes) => sizes.operateDrain,
    },
  ],
  async run(context: RunContext, contender: Contender) {
    const n = context.sizes.operateDrain;
    const order = ORDERS[rotation++ % ORDERS.length]!;
    const ms = {} as Record<Half, number>;
    for (const half of order) {
      ms[half] = await timeDrain(contender, n, 100, half === 'plain' ? undefined : half);
      // The next half starts from an empty Redis, as the first did.
      await context.redis.flushAll();
    }
    return {
      'operate.drain.c100.plain': perSecond(n, ms.plain),
      'operate.drain.c100.untraced': perSecond(n, ms.untraced),
      'operate.drain.c100.untraced.cost': ms.untraced / ms.plain,
      'operate.drain.c100.sampled': perSecond(n, ms.sampled),
      'operate.drain.c100.sampled.cost': ms.sampled / ms.plain,
      'operate.drain.c100.recorded': perSecond(n, ms.recorded),
      'operate.drain.c100.recorded.cost': ms.recorded / ms.plain,
    };
  },
};
