import { SetMetadata } from '@nestjs/common';
import { type Backoff, resolveBackoff } from './core/index.js';
import { TASK_METADATA } from './delayed.constants.js';

export interface TaskOptions {
  /** The task's name on the wire. Default `'ClassName:methodName'`. */
  name?: string;
  /** The queue `DelayedQueue.delay()` sends it to and the worker serves. Default: the module's queue. */
  queue?: string;
  /** Times a failing run is retried (-1: for ever). Default 0. */
  retry?: number;
  /**
   * Wait before each retry (ms, or a fixed or exponential policy with a cap and jitter)
   * instead of requeueing at once. Applies to every task of this handler, whoever enqueued
   * it (a Python caller's `retry=3` included). Default: none, the peers' immediate requeue.
   */
  backoff?: Backoff;
  /**
   * The longest an attempt may run (ms). At the deadline `currentTask().signal` is aborted
   * and the attempt fails with a TaskTimeoutError (retries and backoff apply). A handler
   * that ignores its signal keeps running, outside the worker's concurrency. Default: none.
   */
  timeout?: number;
  /**
   * How tracked calls of this handler (`queue.call()`) keep their outcome once they end:
   * `ttl` ms (default 3,600,000) and, with `stack: true`, a failure's stack. A call's own
   * `with({ result })` wins. Untracked tasks (`delay()`, peers' tasks) keep nothing.
   */
  result?: { ttl?: number; stack?: boolean };
}

/**
 * Marks a provider method as a task handler.
 *
 * ```ts
 * @Task() send(to: string) {}                          // name 'Mailer:send'
 * @Task('mail.send') send(to: string) {}               // a name of your own
 * @Task({ queue: 'emails', retry: 3 }) send(to: string) {}
 * @Task({ retry: 5, backoff: { type: 'exponential', delay: 1_000, maxDelay: 60_000, jitter: 0.2 } })
 * @Task({ timeout: 30_000 }) sync(id: number) {}           // fails after 30 s; its signal aborts
 * ```
 */
export function Task(nameOrOptions: string | TaskOptions = {}): MethodDecorator {
  const options = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : nameOrOptions;
  if (
    options.name !== undefined &&
    (typeof options.name !== 'string' || options.name.length === 0)
  ) {
    throw new TypeError(
      `@Task(): name must be a non-empty string, got ${JSON.stringify(options.name)}`,
    );
  }
  if (options.retry !== undefined && (!Number.isInteger(options.retry) || options.retry < -1)) {
    throw new TypeError(`@Task(): retry must be an integer >= -1, got ${String(options.retry)}`);
  }
  if (
    options.queue !== undefined &&
    (typeof options.queue !== 'string' || options.queue.length === 0)
  ) {
    throw new TypeError(
      `@Task(): queue must be a non-empty string, got ${JSON.stringify(options.queue)}`,
    );
  }
  if (
    options.timeout !== undefined &&
    (!Number.isInteger(options.timeout) || options.timeout < 1 || options.timeout > 2 ** 31 - 1)
  ) {
    throw new TypeError(
      `@Task(): timeout must be a whole number of ms from 1 to 2147483647, got ${String(options.timeout)}`,
    );
  }
  if (options.result !== undefined) {
    const { ttl, stack } = options.result ?? {};
    if (
      options.result === null ||
      typeof options.result !== 'object' ||
      (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 2 ** 31 - 1)) ||
      (stack !== undefined && typeof stack !== 'boolean')
    ) {
      throw new TypeError(
        `@Task(): result must be { ttl?: whole ms from 1 to 2147483647, stack?: boolean }, got ${JSON.stringify(options.result)}`,
      );
    }
  }
  // Checked here, so a wrong policy fails where it is written, not when the worker starts.
  if (options.backoff !== undefined) {
    resolveBackoff(options.backoff, '@Task()');
    if (!options.retry) {
      throw new TypeError(
        '@Task(): a backoff needs retry (how many retries its tasks get, or -1 for ever)',
      );
    }
  }
  return SetMetadata(TASK_METADATA, { ...options });
}
