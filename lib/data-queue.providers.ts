import type { DynamicModule, Provider } from '@nestjs/common';
import { DataQueue } from './core/index.js';
import { type DataQueueDefinition, dataQueueDefinitions } from './data-queue-definition.js';
import {
  DELAYED_CONNECTION,
  DELAYED_DATA_QUEUE_DEFINITIONS,
  DELAYED_DATA_QUEUES,
  DELAYED_RESOLVED_OPTIONS,
  getDataQueueToken,
} from './delayed.constants.js';
import type { DelayedConnection } from './delayed.host.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';

/**
 * One `DataQueue` provider per definition, on the module's connection; a queue without its
 * own `redisTimeout` takes the module's (its other options have their own defaults: the
 * module's `deadLetter` is about tasks). Then the list of them all, which the host hands its
 * sweeper, and the definitions themselves (read by overrideDelayedModule).
 */
export function dataQueueProviders(given: readonly (string | DataQueueDefinition)[]): Provider[] {
  const definitions = dataQueueDefinitions(given);
  return [
    ...definitions.map(({ name, ...options }): Provider => ({
      provide: getDataQueueToken(name),
      useFactory: (resolved: ResolvedDelayedOptions, connection: DelayedConnection) =>
        new DataQueue(connection.redis, name, { redisTimeout: resolved.redisTimeout, ...options }),
      inject: [DELAYED_RESOLVED_OPTIONS, DELAYED_CONNECTION],
    })),
    {
      provide: DELAYED_DATA_QUEUES,
      useFactory: (...queues: DataQueue[]) => queues,
      inject: definitions.map(({ name }) => getDataQueueToken(name)),
    },
    { provide: DELAYED_DATA_QUEUE_DEFINITIONS, useValue: definitions },
  ];
}

export function dataQueueExports(
  given: readonly (string | DataQueueDefinition)[],
): NonNullable<DynamicModule['exports']> {
  return dataQueueDefinitions(given).map(({ name }) => getDataQueueToken(name));
}
