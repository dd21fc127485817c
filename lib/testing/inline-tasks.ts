import type { OnApplicationBootstrap, OnApplicationShutdown, Type } from '@nestjs/common';
import { DEFAULT_DRAIN_TIMEOUT, InvalidOptionsError, MAX_DURATION } from '../core/index.js';
import type { MethodArgs, MethodName } from '../delayed-queue.js';
import type { DeclaredSchedule } from '../delayed.explorer.js';
import { getTaskMetadata } from '../task-metadata.accessor.js';
import type { InlineRunner, RunMode } from './inline-runner.js';
import type { InlineTask, InlineTaskState } from './inline-task.js';

/** Which tasks `InlineTasks.list()` returns; every field given must match. */
export interface InlineTaskFilter {
  readonly queue?: string;
  /** The task's name (`Class:method`, or a peer's function path). */
  readonly name?: string;
  readonly state?: InlineTaskState | readonly InlineTaskState[];
}

/** A task of one `@Task()` method, its arguments typed as the method's parameters. */
export type InlineTaskOf<T, K extends keyof T> = InlineTask & { readonly args: MethodArgs<T, K> };

/**
 * What a test sees and steers of the tasks enqueued under DelayedTestingModule: every task
 * with its arguments, state, attempts, result and errors; `drain()` to wait for the work in
 * progress; `runNext()` to step; `releaseScheduled()` and `fireSchedule()` for tasks that
 * wait for a time, which no clock releases here.
 *
 * ```ts
 * const tasks = moduleRef.get(InlineTasks);
 * await signup.register('ada@example.com');
 * await tasks.drain();
 * assert.deepEqual(tasks.of(Mailer, 'welcome').map((task) => task.args), [['ada@example.com']]);
 * assert.deepEqual(tasks.failed, []);
 * ```
 */
export class InlineTasks implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly runner: InlineRunner,
    /** The module's queue: the one `DelayedQueue` enqueues into. */
    readonly queue: string,
    private readonly declared: readonly DeclaredSchedule[],
  ) {}

  /** Whether tasks start by themselves (`immediate`) or when the test drains or steps (`manual`). */
  get runMode(): RunMode {
    return this.runner.runMode;
  }

  /** Every task enqueued or scheduled, in order, whatever became of it. */
  get all(): readonly InlineTask[] {
    return this.runner.all;
  }

  /** The tasks that match every field of `filter`, in enqueue order. */
  list(filter: InlineTaskFilter = {}): InlineTask[] {
    const states =
      filter.state === undefined
        ? undefined
        : typeof filter.state === 'string'
          ? [filter.state]
          : filter.state;
    return this.runner.all.filter(
      (task) =>
        (filter.queue === undefined || task.queue === filter.queue) &&
        (filter.name === undefined || task.name === filter.name) &&
        (states === undefined || states.includes(task.state)),
    );
  }

  /** The tasks of a `@Task()` method (by its task name), whatever their queue. */
  of<T, K extends MethodName<T>>(type: Type<T>, method: K): InlineTaskOf<T, K>[] {
    const metadata = getTaskMetadata(type, method);
    if (metadata === undefined) {
      throw new TypeError(`${type.name}.${method} is not a task: decorate it with @Task()`);
    }
    return this.list({ name: metadata.name }) as InlineTaskOf<T, K>[];
  }

  /** Tasks waiting to run. */
  get waiting(): InlineTask[] {
    return this.list({ state: 'waiting' });
  }

  /** Tasks running now. */
  get running(): InlineTask[] {
    return this.list({ state: 'running' });
  }

  /** Tasks waiting for their time (released by `releaseScheduled()`). */
  get scheduled(): InlineTask[] {
    return this.list({ state: 'scheduled' });
  }

  /** Tasks whose handler returned. */
  get completed(): InlineTask[] {
    return this.list({ state: 'done' });
  }

  /** Tasks whose last attempt threw: `dead` (a dead letter) or `failed` (dead letters off). */
  get failed(): InlineTask[] {
    return this.list({ state: ['dead', 'failed'] });
  }

  /** Tasks no handler of this app runs (a PyTask or GoTask for a peer, say): recorded only. */
  get unhandled(): InlineTask[] {
    return this.list({ state: 'unhandled' });
  }

  /**
   * Starts every waiting task (in `manual` mode too) and resolves once none is waiting or
   * running: the tasks they enqueue and their retries included, scheduled tasks not. Rejects
   * with a DrainTimeoutError naming what is left after `timeout` ms (default 10,000), and
   * with an InvalidOptionsError before the app is initialised (its handlers are not known).
   * Handler errors do not reject it: read them in `failed`.
   */
  drain(options: { readonly timeout?: number } = {}): Promise<void> {
    const timeout = options?.timeout ?? DEFAULT_DRAIN_TIMEOUT;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_DURATION) {
      return Promise.reject(
        new InvalidOptionsError(
          `drain(): timeout must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(timeout)}`,
        ),
      );
    }
    return this.runner.drain(timeout);
  }

  /**
   * Runs one attempt of the oldest waiting task, and returns the task once the attempt
   * ended (a failed attempt with retries left is queued again, at the end); undefined when
   * no task waits. For `manual` mode, to step through tasks one at a time.
   */
  async runNext(): Promise<InlineTask | undefined> {
    return this.runner.runNext();
  }

  /**
   * Moves scheduled tasks into their queues, earliest first, as if their time had come:
   * those due at or before `until`, or every one when `until` is not given (whatever their
   * time). In `immediate` mode they then run; `drain()` waits for them. Returns them.
   */
  releaseScheduled(until?: Date | number): InlineTask[] {
    const limit = until instanceof Date ? until.getTime() : until;
    if (limit !== undefined && (typeof limit !== 'number' || Number.isNaN(limit))) {
      throw new InvalidOptionsError(
        `releaseScheduled(): until must be a Date or ms since the epoch, got ${String(until)}`,
      );
    }
    return this.runner.releaseScheduled(limit);
  }

  /**
   * Enqueues one tick of a periodic schedule (declared with `@Every`/`@Cron`, or set with
   * `DelayedQueue.schedules`): its task, with the tick's time as last argument when the
   * schedule passes it (the decorators do). The tick is `at`, or the schedule's next tick.
   * `queue` is needed only when schedules of that name exist on several queues.
   */
  fireSchedule(
    name: string,
    options: { readonly queue?: string; readonly at?: Date | number } = {},
  ): InlineTask {
    let queue = options.queue;
    if (queue === undefined) {
      const queues = this.runner.schedules.queuesOf(name);
      if (queues.length !== 1) {
        throw new InvalidOptionsError(
          queues.length === 0
            ? `fireSchedule(): no queue has a schedule named "${name}"`
            : `fireSchedule(): queues ${queues.map((known) => `"${known}"`).join(', ')} each have a schedule named "${name}"; say which with { queue }`,
        );
      }
      queue = queues[0]!;
    }
    const at = options.at instanceof Date ? options.at.getTime() : options.at;
    return this.runner.fireSchedule(queue, name, at);
  }

  /**
   * Forgets every task and dead letter (scheduled and waiting tasks never run), for a module
   * shared by several tests. Refused while a task runs: `await drain()` first.
   */
  clear(): void {
    this.runner.clear();
  }

  /** Writes the schedules the code declares, then starts running tasks, as a worker app does. */
  onApplicationBootstrap(): void {
    for (const schedule of this.declared) {
      this.runner.setSchedule(schedule.queue, schedule.name, schedule.timing, schedule.task, {
        neverSkip: schedule.neverSkip,
        tickArg: true,
        declared: true,
      });
    }
    this.runner.start();
  }

  onApplicationShutdown(): void {
    this.runner.stop();
  }
}
