import type { Type } from '@nestjs/common';
import type { RedisClient } from './core/index.js';
import {
  type CallOptions,
  type DeadLetters,
  InvalidOptionsError,
  NodeTask,
  Queue,
  type QueueOptions,
  type ScheduleBehavior,
  type ScheduleChange,
  type ScheduledTask,
  type ScheduleInfo,
  type ScheduleTime,
  type ScheduleTiming,
  type Task,
  type TaskHandle,
} from './core/index.js';
import { getTaskMetadata } from './task-metadata.accessor.js';

/** The names of `T`'s methods. */
export type MethodName<T> = {
  // `any` so that every method matches, whatever its parameters (unknown[] would not).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [K in keyof T]-?: T[K] extends (...args: any[]) => unknown ? K : never;
}[keyof T] &
  string;

/** The parameters of `T[K]`, which `delay()` checks the arguments against. */
export type MethodArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown
  ? A
  : never;

/** What `T[K]` resolves to: the result a tracked call of it gives. */
export type MethodResult<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R
  ? Awaited<R>
  : never;

/**
 * Enqueues tasks. Inject it for the module's queue, or `@InjectQueue('name')` for another.
 *
 * ```ts
 * constructor(private readonly queue: DelayedQueue) {}
 * await this.queue.delay(Mailer, 'send', 'ada@example.com');   // checked against Mailer.send
 * await this.queue.enqueue(new PyTask('billing.tasks:charge', [42]));
 * ```
 */
export class DelayedQueue {
  private readonly routes = new Map<string, Queue>();

  /** The engine's queue; not public, so that nothing but enqueue and dead letters is reachable here. */
  private readonly queue: Queue;

  constructor(queue: Queue) {
    this.queue = queue;
    this.routes.set(queue.name, queue);
  }

  /** The queue's name. */
  get name(): string {
    return this.queue.name;
  }

  /** The queue's dead letters: `count()`, `list()`, `requeue()`, `remove()`, `purge()`. */
  get deadLetters(): DeadLetters {
    return this.queue.deadLetters;
  }

  /**
   * Enqueues a call of a `@Task()` method. The class need not be a provider here: its
   * `@Task()` metadata gives the task's name, queue and retry. A handler declared with
   * `@Task({ queue })` is sent to that queue, others to this one.
   */
  async delay<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<void> {
    const [queue, task] = this.callOf(type, method, args);
    await queue.enqueue(task);
  }

  /**
   * Enqueues a tracked call of a `@Task()` method and returns its handle: `id`, `status()`,
   * `result()` (typed as the method's result), `cancel()`. The task gets a record in Redis
   * that holds its state, progress and result for `@Task({ result: { ttl } })` (default
   * one hour) once it ends. Tracked tasks are for queues that only Node workers serve.
   *
   * ```ts
   * const report = await this.queue.call(Reports, 'build', 42);
   * const pdf = await report.result({ timeout: 30_000 });
   * ```
   */
  call<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<TaskHandle<MethodResult<T, K>>> {
    return this.callWith({}, type, method, args);
  }

  /**
   * The handle of a tracked task by its id, from any process: of this queue, or of `queue`
   * (a handler declared with `@Task({ queue })` runs there).
   */
  task<R = unknown>(id: string, queue?: string): TaskHandle<R> {
    return this.route(queue).task<R>(id);
  }

  /** A tracked call with per-call options over the handler's `@Task({ result })`. */
  private async callWith<R>(
    options: CallOptions,
    type: Type<unknown>,
    method: string,
    args: readonly unknown[],
  ): Promise<TaskHandle<R>> {
    const [queue, task] = this.callOf(type, method, args);
    const declared = getTaskMetadata(type, method)?.result;
    const merged =
      declared === undefined ? options : { ...options, result: { ...declared, ...options.result } };
    return (await queue.call(task, merged)) as TaskHandle<R>;
  }

  /** Enqueues a task: a `NodeTask` for a Node handler, a `PyTask` or `GoTask` for a Python or Go worker. */
  enqueue(task: Task): Promise<void> {
    return this.queue.enqueue(task);
  }

  /** Enqueues many tasks in one round trip. */
  enqueueMany(tasks: readonly Task[]): Promise<void> {
    return this.queue.enqueueMany(tasks);
  }

  /** Tasks waiting in the queue. */
  len(): Promise<number> {
    return this.queue.len();
  }

  /**
   * Pauses this queue across every Node worker: once it resolves, none takes a new task from
   * it (tasks running finish). Enqueues, scheduled tasks and retries keep landing in the
   * queue and wait. Python and Go workers ignore pauses. Resolves false if it was paused
   * already.
   */
  pause(): Promise<boolean> {
    return this.queue.pause();
  }

  /** Ends a pause: workers take tasks again at once. Resolves false if it was not paused. */
  resume(): Promise<boolean> {
    return this.queue.resume();
  }

  /** Whether this queue is paused now. */
  isPaused(): Promise<boolean> {
    return this.queue.isPaused();
  }

  /**
   * The same calls with options. With a time, `{ delay: ms }` from now (on Redis' clock) or
   * `{ at: Date }`, `delay()` and `enqueue()` schedule plain tasks and return what
   * `cancel()` takes. `call()` takes every option (a time, `result`, `unique`) and returns a
   * task handle.
   *
   * ```ts
   * const reminder = await this.queue.with({ delay: 24 * 3_600_000 }).delay(Mailer, 'remind', userId);
   * await this.queue.cancel(reminder);   // true if it was not due yet
   * const digest = await this.queue
   *   .with({ unique: { key: `digest:${userId}`, ttl: 3_600_000 } })
   *   .call(Mailer, 'digest', userId);   // digest.created: false if one is on its way
   * ```
   */
  with(options: CallOptions): ScheduledCalls {
    return new ScheduledCalls(
      this.queue,
      (type, method, args) => this.callOf(type, method, args),
      options,
      (type, method, args) => this.callWith(options, type, method, args),
    );
  }

  /**
   * Cancels a scheduled task that is not due yet; false if it was due (or cancelled) already.
   * Takes what scheduling returned (routed to its queue), or an id of this queue's.
   */
  cancel(task: ScheduledTask | string): Promise<boolean> {
    return typeof task === 'string' ? this.queue.cancel(task) : this.route(task.queue).cancel(task);
  }

  /** Tasks scheduled on this queue and not due yet. */
  scheduledCount(): Promise<number> {
    return this.queue.scheduledCount();
  }

  /**
   * Periodic and cron schedules, added, changed, listed and removed at run time (those
   * declared with `@Every`/`@Cron` are written at boot by the apps that fire schedules).
   *
   * ```ts
   * await this.queue.schedules.set('purge', { every: 3_600_000 }, Sessions, 'purge', 30);
   * await this.queue.schedules.setTask('report', { cron: '0 5 * * 2', timeZone: 'Europe/Berlin' },
   *   new PyTask('reports.weekly'));
   * await this.queue.schedules.remove('purge');
   * ```
   */
  get schedules(): DelayedSchedules {
    return (this.#schedules ??= new DelayedSchedules(this.queue, (type, method, args) =>
      this.callOf(type, method, args),
    ));
  }

  #schedules: DelayedSchedules | undefined;

  /** The engine's queue of a `@Task()` handler's call, and the task it enqueues. */
  private callOf(type: Type<unknown>, method: string, args: readonly unknown[]): [Queue, NodeTask] {
    const metadata = getTaskMetadata(type, method);
    if (metadata === undefined) {
      throw new TypeError(`${type.name}.${method} is not a task: decorate it with @Task()`);
    }
    return [this.route(metadata.queue), new NodeTask(metadata.name, args, {}, metadata.retry)];
  }

  private route(name: string | undefined): Queue {
    if (name === undefined) return this.queue;
    let queue = this.routes.get(name);
    if (!queue) {
      queue = new Queue(this.queue.redis, name, this.queue.options);
      this.routes.set(name, queue);
    }
    return queue;
  }
}

/** The engine's queue of a `@Task()` call, and the task it enqueues, as a DelayedQueue routes it. */
type CallOf = (type: Type<unknown>, method: string, args: readonly unknown[]) => [Queue, NodeTask];

/** A tracked call with options, as its DelayedQueue makes it. */
type TrackedCallOf = (
  type: Type<unknown>,
  method: string,
  args: readonly unknown[],
) => Promise<TaskHandle<unknown>>;

/** Calls of a DelayedQueue with options; made by `queue.with({ delay | at, result, unique })`. */
export class ScheduledCalls {
  /**
   * @param callOf the queue and task of a `@Task()` call, as its DelayedQueue routes it
   * @param trackedCallOf a tracked call with these options
   */
  constructor(
    private readonly queue: Queue,
    private readonly callOf: CallOf,
    private readonly options: CallOptions,
    private readonly trackedCallOf: TrackedCallOf,
  ) {}

  /**
   * Schedules a call of a `@Task()` method, type-checked like `DelayedQueue.delay`. Needs a
   * time (`delay` or `at`); `result` and `unique` are for `call()`.
   */
  delay<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<ScheduledTask> {
    let when: ScheduleTime;
    try {
      when = this.plainTime();
    } catch (error) {
      return Promise.reject(error);
    }
    const [queue, task] = this.callOf(type, method, args);
    return queue.schedule(task, when);
  }

  /**
   * A tracked call of a `@Task()` method with these options (a time, `result`, `unique`):
   * its handle, typed as the method's result. See `DelayedQueue.call`.
   */
  call<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<TaskHandle<MethodResult<T, K>>> {
    return this.trackedCallOf(type, method, args) as Promise<TaskHandle<MethodResult<T, K>>>;
  }

  /** Schedules a task: a `NodeTask`, or a `PyTask`/`GoTask` for a Python or Go worker. */
  enqueue(task: Task): Promise<ScheduledTask> {
    try {
      return this.queue.schedule(task, this.plainTime());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Schedules many tasks for the same time. */
  enqueueMany(tasks: readonly Task[]): Promise<ScheduledTask[]> {
    try {
      return this.queue.scheduleMany(tasks, this.plainTime());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The time of an untracked schedule; options only a tracked call has are refused. */
  private plainTime(): ScheduleTime {
    return plainScheduleTime(this.options);
  }
}

/**
 * The time of an untracked schedule made by `with(options)`: `delay` or `at`; options only
 * a tracked call has (`result`, `unique`) are refused, naming `call()`.
 */
export function plainScheduleTime(options: CallOptions): ScheduleTime {
  const { delay, at, result, unique } = options ?? {};
  if (result !== undefined || unique !== undefined) {
    throw new InvalidOptionsError(
      'result and unique apply to tracked calls: use with({ … }).call(…), which returns a task handle',
    );
  }
  if (delay !== undefined && at !== undefined) {
    throw new InvalidOptionsError('with(): give delay or at, not both');
  }
  if (delay !== undefined) return { delay };
  if (at !== undefined) return { at };
  throw new InvalidOptionsError(
    'A schedule needs { delay: ms } or { at: Date | ms since the epoch } (or use call(), which also runs a call now)',
  );
}

/** A periodic schedule's timing and behavior: `{ every }` or `{ cron, timeZone? }`, plus `neverSkip`, `tickArg`. */
export type ScheduleSpec = ScheduleTiming & Omit<ScheduleBehavior, 'declared'>;

/** The periodic schedules reachable from a DelayedQueue (`queue.schedules`). */
export class DelayedSchedules {
  constructor(
    private readonly queue: Queue,
    private readonly callOf: CallOf,
  ) {}

  /**
   * Creates or changes a schedule that calls a `@Task()` method, with arguments type-checked
   * like `delay()`, on the queue its handler serves. The same definition again changes
   * nothing. With `tickArg: true` each call also gets the tick's time as a last argument.
   */
  set<T, K extends MethodName<T>>(
    name: string,
    spec: ScheduleSpec,
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<ScheduleChange> {
    const [queue, task] = this.callOf(type, method, args);
    return queue.schedules.set(name, spec, task, behaviorOf(spec));
  }

  /** Creates or changes a schedule of any task (a `PyTask` for a Python worker, say) on this queue. */
  setTask(name: string, spec: ScheduleSpec, task: Task): Promise<ScheduleChange> {
    return this.queue.schedules.set(name, spec, task, behaviorOf(spec));
  }

  /** Removes a schedule of this queue; false if there was none. Ticks already enqueued still run. */
  remove(name: string): Promise<boolean> {
    return this.queue.schedules.remove(name);
  }

  /** A schedule of this queue, or undefined. */
  get(name: string): Promise<ScheduleInfo | undefined> {
    return this.queue.schedules.get(name);
  }

  /** Every schedule of this queue. */
  list(): Promise<ScheduleInfo[]> {
    return this.queue.schedules.list();
  }
}

/** A spec's behavior; its timing is read by the engine, which ignores the other keys. */
function behaviorOf(spec: ScheduleSpec): ScheduleBehavior {
  return { neverSkip: spec?.neverSkip, tickArg: spec?.tickArg };
}

export function createDelayedQueue(
  redis: RedisClient,
  name: string,
  options: QueueOptions,
): DelayedQueue {
  return new DelayedQueue(new Queue(redis, name, options));
}
