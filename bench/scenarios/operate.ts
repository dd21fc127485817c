import type { Contender } from '../contenders/index.js';
import { perSecond } from '../stats.js';
import { timeDrain } from './drain.js';
import type { PairScenario, RunContext } from './scenario.js';

/** Which half goes first in the next run: alternated so that neither gets the warmer start. */
let plainFirst = true;

/**
 * The cost of operating a queue: the c100 drain of 4N no-op tasks, plain and with everything
 * an operator turns on (WorkerHooks.instrumented), in the same run, for each library. The
 * budget (issue 11): ours with all of it on within 10 % of ours plain.
 */
export const instrumentedDrain: PairScenario = {
  id: 'operate.drain.c100',
  group: 'operate',
  title: 'Worker drain, concurrency 100, plain and with events, metrics and tracing on',
  metrics: [
    {
      id: 'operate.drain.c100.plain',
      label: 'drain c100, plain (same run)',
      unit: 'tasks/s',
      better: 'higher',
      size: (sizes) => sizes.drainC100,
    },
    {
      id: 'operate.drain.c100.instrumented',
      label: 'drain c100, events + metrics + tracing on',
      unit: 'tasks/s',
      better: 'higher',
      chart: true,
      size: (sizes) => sizes.drainC100,
    },
    {
      id: 'operate.drain.c100.cost',
      label: 'drain c100: time with all on / time plain',
      unit: 'x',
      better: 'lower',
      target: { of: 'ours', op: '<=', value: 1.1, text: '<= 1.10 (within 10 %)' },
      size: (sizes) => sizes.drainC100,
    },
  ],
  async run(context: RunContext, contender: Contender) {
    const n = context.sizes.drainC100;
    const order = plainFirst ? [false, true] : [true, false];
    plainFirst = !plainFirst;
    const ms: Record<string, number> = {};
    for (const instrumented of order) {
      ms[String(instrumented)] = await timeDrain(contender, n, 100, instrumented);
      // The next half starts from an empty queue, as the first did.
      await context.redis.flushAll();
    }
    return {
      'operate.drain.c100.plain': perSecond(n, ms['false']!),
      'operate.drain.c100.instrumented': perSecond(n, ms['true']!),
      'operate.drain.c100.cost': ms['true']! / ms['false']!,
    };
  },
};
