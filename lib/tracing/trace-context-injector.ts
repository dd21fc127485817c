import { context, diag, propagation } from '@opentelemetry/api';
import type { NodeTaskOptions } from '../core/index.js';
import { TRACE_CONTEXT_KEY, type TraceCarrier } from './trace-carrier.js';
import type { TracePropagationFilter } from './tracing.options.js';

/**
 * The producer side of tracing, for a queue's `nodeTaskOptions`: each NodeTask the queue
 * writes carries the trace context active where it was enqueued (`{ trace: carrier }` in
 * its options map), written by the propagator your SDK registered. A task enqueued with no
 * active trace, or with no SDK, carries nothing and keeps the peers' layout.
 *
 * ```ts
 * const queue = new Queue(redis, 'orders', { nodeTaskOptions: traceContextInjector() });
 * ```
 *
 * @param filter only tasks it returns true for carry the context (default: every NodeTask)
 */
export function traceContextInjector(filter?: TracePropagationFilter): NodeTaskOptions {
  if (filter !== undefined && typeof filter !== 'function') {
    throw new TypeError(
      'traceContextInjector(filter): filter must be a function (task, queue) => boolean',
    );
  }
  return (task, queue) => {
    if (filter !== undefined && !filter(task, queue)) return undefined;
    const carrier: TraceCarrier = {};
    try {
      propagation.inject(context.active(), carrier);
    } catch (error) {
      // A faulty propagator costs the task its trace context, never its enqueue.
      diag.warn(`nestjs-delayed: the propagator failed to inject a trace context`, error);
      return undefined;
    }
    for (const _ in carrier) return { [TRACE_CONTEXT_KEY]: carrier };
    return undefined;
  };
}
