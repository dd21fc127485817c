import type { DynamicModule, Provider } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import {
  HandlerRegistry,
  type NodeTaskOptions,
  openConnection,
  Queue,
  Sweeper,
} from './core/index.js';
import type { DeclaredSchedule } from './delayed.explorer.js';
import {
  DELAYED_CONNECTION,
  DELAYED_DECLARED_SCHEDULES,
  DELAYED_HANDLERS,
  DELAYED_NODE_TASK_OPTIONS,
  DELAYED_RESOLVED_OPTIONS,
  getQueueToken,
} from './delayed.constants.js';
import { DelayedQueue, createDelayedQueue } from './delayed-queue.js';
import { type DelayedConnection, DelayedHost } from './delayed.host.js';
import {
  type DelayedModuleOptions,
  resolveOptions,
  type ResolvedDelayedOptions,
} from './delayed.options.js';

/** Token of the `queues` extra given beside the options. */
export const DELAYED_EXTRA_QUEUES = Symbol('nestjs-delayed:extra-queues');

/** Given by a global module such as DelayedTracingModule, if the app imports one. */
const OPTIONAL_NODE_TASK_OPTIONS = { token: DELAYED_NODE_TASK_OPTIONS, optional: true };

/** The providers every DelayedModule has; `queues` adds one queue provider per name. */
export function delayedProviders(
  optionsToken: string | symbol,
  queues: readonly string[],
): Provider[] {
  return [
    { provide: DELAYED_EXTRA_QUEUES, useValue: [...queues] },
    {
      provide: DELAYED_RESOLVED_OPTIONS,
      useFactory: (options: DelayedModuleOptions, extra: string[]) =>
        resolveOptions(options, extra),
      inject: [optionsToken, DELAYED_EXTRA_QUEUES],
    },
    {
      provide: DELAYED_CONNECTION,
      useFactory: (options: ResolvedDelayedOptions): DelayedConnection => {
        const { redis, owned } = openConnection(options.connection);
        if (owned) {
          // ioredis reconnects by itself; log the cause once per change instead of every attempt.
          const logger = new Logger('DelayedModule');
          let last = '';
          redis.on('error', (error: Error) => {
            if (error.message !== last) logger.warn(`Redis: ${error.message}`);
            last = error.message;
          });
          redis.on('ready', () => (last = ''));
        }
        return { redis, owned };
      },
      inject: [DELAYED_RESOLVED_OPTIONS],
    },
    { provide: DELAYED_HANDLERS, useFactory: () => new HandlerRegistry() },
    // Filled by the explorer, read by the host.
    { provide: DELAYED_DECLARED_SCHEDULES, useFactory: (): DeclaredSchedule[] => [] },
    {
      provide: DelayedQueue,
      useFactory: (
        options: ResolvedDelayedOptions,
        connection: DelayedConnection,
        nodeTaskOptions?: NodeTaskOptions,
      ) =>
        createDelayedQueue(connection.redis, options.queue, {
          deadLetter: options.deadLetter,
          redisTimeout: options.redisTimeout,
          durable: options.durable,
          nodeTaskOptions,
        }),
      inject: [DELAYED_RESOLVED_OPTIONS, DELAYED_CONNECTION, OPTIONAL_NODE_TASK_OPTIONS],
    },
    ...queues.map((name): Provider => ({
      provide: getQueueToken(name),
      useFactory: (
        options: ResolvedDelayedOptions,
        connection: DelayedConnection,
        nodeTaskOptions?: NodeTaskOptions,
      ) =>
        createDelayedQueue(connection.redis, name, {
          deadLetter: options.deadLetter,
          redisTimeout: options.redisTimeout,
          durable: options.durable,
          nodeTaskOptions,
        }),
      inject: [DELAYED_RESOLVED_OPTIONS, DELAYED_CONNECTION, OPTIONAL_NODE_TASK_OPTIONS],
    })),
    {
      provide: Sweeper,
      // Always a Sweeper, started by the host only where options.sweeper is on: `sweep()` can
      // still be called by hand elsewhere (a maintenance script, a health probe).
      useFactory: (options: ResolvedDelayedOptions, connection: DelayedConnection): Sweeper => {
        // Queues served by @Task() handlers are added by the host once they are discovered.
        const names = new Set([
          options.queue,
          ...options.queues,
          ...(options.worker ? (options.worker.queues ?? []) : []),
        ]);
        return new Sweeper({
          ...(options.sweeper === false ? {} : options.sweeper),
          queues: [...names].map(
            (name) => new Queue(connection.redis, name, { redisTimeout: options.redisTimeout }),
          ),
          logger: new Logger('DelayedSweeper'),
        });
      },
      inject: [DELAYED_RESOLVED_OPTIONS, DELAYED_CONNECTION],
    },
  ];
}

/**
 * Tokens other modules may inject. The handler registry and the resolved options are for
 * this package's own add-on modules (metrics, health), which live outside this module.
 */
export function delayedExports(queues: readonly string[]): NonNullable<DynamicModule['exports']> {
  return [
    DelayedQueue,
    Sweeper,
    DELAYED_CONNECTION,
    DelayedHost,
    DELAYED_HANDLERS,
    DELAYED_RESOLVED_OPTIONS,
    ...queues.map(getQueueToken),
  ];
}
