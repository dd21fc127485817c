import { Inject } from '@nestjs/common';
import { getQueueToken } from './delayed.constants.js';
import { DelayedQueue } from './delayed-queue.js';

/**
 * Injects the `DelayedQueue` of a named queue (listed in `queues` of forRoot/forRootAsync),
 * or of the module's queue when no name is given.
 */
export function InjectQueue(name?: string): ParameterDecorator & PropertyDecorator {
  return Inject(name === undefined ? DelayedQueue : getQueueToken(name));
}
