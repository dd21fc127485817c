import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_DRAIN_INTERVAL,
  DEFAULT_DRAIN_SETTLE,
  DEFAULT_DRAIN_TIMEOUT,
} from '../defaults.js';
import { DrainTimeoutError, InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import { describeValue } from '../options.js';
import { scripts } from '../redis/lua-scripts.js';
import type { Queue } from './queue.js';

/** What a queue still had to do when it was read. */
export interface QueueWork {
  readonly queue: string;
  /** Tasks waiting in the queue (`N`). */
  readonly waiting: number;
  /** Tasks a worker holds: running, or ended and not yet released (`N_processing`). */
  readonly processing: number;
  /**
   * Scheduled tasks (retries after a backoff included) due before the wait would end; 0
   * when the wait was told to leave scheduled tasks alone.
   */
  readonly scheduled: number;
}

/** How `waitForDrained` waits. Durations in ms. */
export interface DrainOptions {
  /** The longest wait; a DrainTimeoutError naming what is left follows. Default 10,000. */
  readonly timeout?: number;
  /**
   * How long every queue must keep reading empty before the wait resolves (0: the first
   * empty read). Default 50.
   */
  readonly settle?: number;
  /** Time between two reads. Default 10. */
  readonly interval?: number;
  /**
   * Whether scheduled tasks due before the wait ends count as work to wait for (a retry
   * after a backoff is one). Tasks due later are never waited for. Default true.
   */
  readonly scheduled?: boolean;
}

/**
 * Resolves once every queue given has no task waiting, none held by a worker and (unless
 * `scheduled: false`) none scheduled to be due before the wait ends; for end-to-end tests
 * against a real Redis and for scripts that must wait for a backlog to clear. Rejects with a
 * DrainTimeoutError naming what each queue still has after `timeout` ms.
 *
 * Each queue is read in one atomic script, and the queues must stay empty for `settle` ms,
 * over two reads at least: a task a handler of one queue hands to another, or one enqueued
 * without being awaited, does not pass for an empty queue.
 *
 * ```ts
 * await queue.enqueueMany(tasks);
 * await waitForDrained(queue, { timeout: 30_000 });
 * ```
 */
export async function waitForDrained(
  queues: Queue | readonly Queue[],
  options: DrainOptions = {},
): Promise<void> {
  const list: readonly Queue[] = Array.isArray(queues) ? queues : [queues as Queue];
  if (list.length === 0) throw new InvalidOptionsError('waitForDrained(): give at least one queue');
  const { timeout, settle, interval, scheduled } = checkDrainOptions(options);
  const deadline = Date.now() + timeout;
  let emptySince: number | undefined;
  let emptyReads = 0;
  for (;;) {
    // Scheduled tasks due after the deadline cannot be waited for; those due before can.
    const horizon = Math.max(0, deadline - Date.now());
    const work = await Promise.all(list.map((queue) => readWork(queue, horizon, scheduled)));
    const busy = work.filter(hasWork);
    const now = Date.now();
    if (busy.length === 0) {
      emptySince ??= now;
      emptyReads += 1;
      if (settle === 0 || (emptyReads >= 2 && now - emptySince >= settle)) return;
    } else {
      emptySince = undefined;
      emptyReads = 0;
      if (now >= deadline) throw new DrainTimeoutError(describeWork(busy, timeout), busy);
    }
    await sleep(interval);
  }
}

/** A queue's work, read atomically. */
async function readWork(queue: Queue, horizon: number, scheduled: boolean): Promise<QueueWork> {
  const [waiting, processing, due] = (await queue.command(
    () => scripts.drainState.run(queue.redis, queue.keys, [String(horizon)]),
    'a drain check',
  )) as number[];
  return {
    queue: queue.name,
    waiting: waiting!,
    processing: processing!,
    scheduled: scheduled ? due! : 0,
  };
}

/** Whether a read shows work left. */
export function hasWork(work: QueueWork): boolean {
  return work.waiting + work.processing + work.scheduled > 0;
}

/** What was left, for a DrainTimeoutError: `queue "a": 3 waiting, 1 processing`. */
export function describeWork(busy: readonly QueueWork[], timeout: number): string {
  const queues = busy.map((work) => {
    const parts = [`${work.waiting} waiting`, `${work.processing} processing`];
    if (work.scheduled > 0) parts.push(`${work.scheduled} scheduled (due within the wait)`);
    return `queue "${work.queue}": ${parts.join(', ')}`;
  });
  return `Not drained after ${timeout} ms: ${queues.join('; ')}`;
}

function checkDrainOptions(options: DrainOptions): Required<DrainOptions> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `waitForDrained(): options must be an object, got ${describeValue(options)}`,
    );
  }
  const {
    timeout = DEFAULT_DRAIN_TIMEOUT,
    settle = DEFAULT_DRAIN_SETTLE,
    interval = DEFAULT_DRAIN_INTERVAL,
    scheduled = true,
  } = options;
  const problems: string[] = [];
  const check = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min || value > MAX_DURATION) {
      problems.push(
        `${name} must be a whole number of ms from ${min} to ${MAX_DURATION}, got ${describeValue(value)}`,
      );
    }
  };
  check('timeout', timeout, 1);
  check('settle', settle, 0);
  check('interval', interval, 1);
  if (typeof scheduled !== 'boolean') {
    problems.push(`scheduled must be true or false, got ${describeValue(scheduled)}`);
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(`waitForDrained(): ${problems.join('; ')}`);
  }
  return { timeout, settle, interval, scheduled };
}
