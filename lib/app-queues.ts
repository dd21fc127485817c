import type { HandlerRegistry } from './core/index.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';

/**
 * The queues an app knows of, for the operator's views (metrics, health): the module's
 * queue, the queues given beside its options, the worker's queues, the queues its handlers
 * serve, then `more`; each once, in that order.
 */
export function appQueueNames(
  options: ResolvedDelayedOptions,
  handlers: HandlerRegistry,
  more: readonly string[] = [],
): string[] {
  return [
    ...new Set([
      options.queue,
      ...options.queues,
      ...(options.worker === false ? [] : (options.worker.queues ?? [])),
      ...handlers.queueNames(),
      ...more,
    ]),
  ];
}
