import type { INestApplicationContext } from '@nestjs/common';
import {
  type DrainOptions,
  type HandlerRegistry,
  InvalidOptionsError,
  Queue,
  waitForDrained as waitForQueues,
} from '../core/index.js';
import {
  DELAYED_CONNECTION,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from '../delayed.constants.js';
import type { DelayedConnection } from '../delayed.host.js';
import type { ResolvedDelayedOptions } from '../delayed.options.js';
import { InlineTasks } from './inline-tasks.js';

/** How `waitForDrained` waits for an app's queues. */
export interface AppDrainOptions extends DrainOptions {
  /**
   * The queues to wait for. Default: every queue the app's DelayedModule knows: its queue,
   * its named queues, its worker's queues and the queues its handlers serve.
   */
  readonly queues?: readonly string[];
}

/**
 * Resolves once a Nest app's queues in Redis have no task waiting, none held by a worker and
 * none scheduled to be due before the wait ends, read atomically and steady for a short
 * settle window; rejects with a DrainTimeoutError naming what each queue still has after
 * `timeout` ms (default 10,000). Workers of every process count: the queues are read in
 * Redis. For engine queues without Nest, pass a `Queue` or an array of them.
 *
 * Under DelayedTestingModule there is no Redis: this is `InlineTasks.drain({ timeout })`.
 *
 * ```ts
 * await request(app.getHttpServer()).post('/orders').send(order);
 * await waitForDrained(app, { timeout: 15_000 });
 * ```
 */
export function waitForDrained(
  target: INestApplicationContext | Queue | readonly Queue[],
  options: AppDrainOptions = {},
): Promise<void> {
  if (target instanceof Queue || Array.isArray(target)) {
    return waitForQueues(target as Queue | readonly Queue[], options);
  }
  const app = target as INestApplicationContext;
  const inline = lookUp<InlineTasks>(app, InlineTasks);
  if (inline !== undefined) return inline.drain({ timeout: options?.timeout });
  const connection = lookUp<DelayedConnection>(app, DELAYED_CONNECTION);
  if (connection === undefined) {
    return Promise.reject(
      new InvalidOptionsError(
        'waitForDrained(): this app imports neither DelayedModule nor DelayedTestingModule',
      ),
    );
  }
  const settings = app.get<ResolvedDelayedOptions>(DELAYED_RESOLVED_OPTIONS, { strict: false });
  const handlers = app.get<HandlerRegistry>(DELAYED_HANDLERS, { strict: false });
  const { queues: given, ...drain } = options ?? {};
  const names = given ?? [
    settings.queue,
    ...settings.queues,
    ...(settings.worker === false ? [] : (settings.worker.queues ?? [])),
    ...handlers.queueNames(),
  ];
  const queues = [...new Set(names)].map(
    (name) => new Queue(connection.redis, name, { redisTimeout: settings.redisTimeout }),
  );
  return waitForQueues(queues, drain);
}

/** A provider of the app, found in any of its modules, or undefined if it has none. */
function lookUp<T>(app: INestApplicationContext, token: unknown): T | undefined {
  try {
    return app.get<T>(token as string, { strict: false });
  } catch {
    return undefined;
  }
}
