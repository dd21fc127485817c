import type { Type } from '@nestjs/common';
import {
  type CallOptions,
  type DeadLetters,
  InvalidOptionsError,
  NodeTask,
  type Queue,
  type ScheduleChange,
  type ScheduledTask,
  type ScheduleInfo,
  type Task,
  type TaskHandle,
} from '../core/index.js';
import {
  DelayedQueue,
  DelayedSchedules,
  type MethodArgs,
  type MethodName,
  type MethodResult,
  ScheduledCalls,
  type ScheduleSpec,
} from '../delayed-queue.js';
import { getTaskMetadata } from '../task-metadata.accessor.js';
import { detached } from './detached.js';
import { plainTime } from './inline-call-options.js';
import { InlineDeadLetters } from './inline-dead-letters.js';
import type { InlineRunner } from './inline-runner.js';
import { InlineTaskHandle } from './inline-task-handle.js';

/** The queue and task of a `@Task()` call, as an InlineDelayedQueue routes it. */
type InlineCallOf = (
  type: Type<unknown>,
  method: string,
  args: readonly unknown[],
) => [string, NodeTask];

/** A tracked call with options, as its InlineDelayedQueue makes it. */
type InlineTrackedCallOf = (
  options: CallOptions,
  type: Type<unknown>,
  method: string,
  args: readonly unknown[],
) => Promise<TaskHandle<unknown>>;

/** Runs `make` and hands its value or its error over as a promise, as an async call would. */
function settled<T>(make: () => T): Promise<T> {
  try {
    return Promise.resolve(make());
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * The DelayedQueue that DelayedTestingModule provides: the same class and calls for app code,
 * with every call served in this process by the module's InlineRunner instead of Redis.
 * Calls are checked as the real ones are (an undecorated method, arguments MessagePack cannot
 * carry, bad options: the same errors).
 */
export class InlineDelayedQueue extends DelayedQueue {
  readonly #runner: InlineRunner;
  readonly #name: string;
  #deadLetters: InlineDeadLetters | undefined;
  #inlineSchedules: InlineDelayedSchedules | undefined;

  constructor(runner: InlineRunner, name: string) {
    super(detached<Queue>(`DelayedQueue "${name}"`, { name }));
    this.#runner = runner;
    this.#name = name;
  }

  override get name(): string {
    return this.#name;
  }

  override get deadLetters(): DeadLetters {
    return (this.#deadLetters ??= new InlineDeadLetters(this.#runner, this.#name));
  }

  override delay<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<void> {
    return settled(() => {
      const [queue, task] = this.#callOf(type, method, args);
      this.#runner.enqueue(queue, task);
    });
  }

  override call<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<TaskHandle<MethodResult<T, K>>> {
    return this.#trackedCall({}, type, method, args) as Promise<TaskHandle<MethodResult<T, K>>>;
  }

  override task<R = unknown>(id: string, queue?: string): TaskHandle<R> {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) {
      // The same refusal as a real queue's, synchronously too.
      throw new InvalidOptionsError(
        `Not a task id (32 lowercase hex characters): ${JSON.stringify(id)}`,
      );
    }
    return new InlineTaskHandle<R>(this.#runner, queue ?? this.#name, id);
  }

  override enqueue(task: Task): Promise<void> {
    return settled(() => void this.#runner.enqueue(this.#name, task));
  }

  override enqueueMany(tasks: readonly Task[]): Promise<void> {
    return settled(() => void this.#runner.enqueueMany(this.#name, tasks));
  }

  override len(): Promise<number> {
    return Promise.resolve(this.#runner.len(this.#name));
  }

  override with(options: CallOptions): ScheduledCalls {
    return new InlineScheduledCalls(
      this.#runner,
      this.#name,
      (type, method, args) => this.#callOf(type, method, args),
      options,
      (given, type, method, args) => this.#trackedCall(given, type, method, args),
    );
  }

  override cancel(task: ScheduledTask | string): Promise<boolean> {
    return settled(() =>
      typeof task === 'string'
        ? this.#runner.cancelScheduled(this.#name, task)
        : this.#runner.cancelScheduled(task.queue, task.id),
    );
  }

  override scheduledCount(): Promise<number> {
    return Promise.resolve(this.#runner.scheduledCount(this.#name));
  }

  override pause(): Promise<boolean> {
    return Promise.resolve(this.#runner.pause(this.#name));
  }

  override resume(): Promise<boolean> {
    return Promise.resolve(this.#runner.resume(this.#name));
  }

  override isPaused(): Promise<boolean> {
    return Promise.resolve(this.#runner.isPaused(this.#name));
  }

  override get schedules(): DelayedSchedules {
    return (this.#inlineSchedules ??= new InlineDelayedSchedules(
      this.#runner,
      this.#name,
      (type, method, args) => this.#callOf(type, method, args),
    ));
  }

  /** The queue of a `@Task()` handler's call, and the task it enqueues, as the real queue routes it. */
  #callOf(type: Type<unknown>, method: string, args: readonly unknown[]): [string, NodeTask] {
    const metadata = getTaskMetadata(type, method);
    if (metadata === undefined) {
      throw new TypeError(`${type.name}.${method} is not a task: decorate it with @Task()`);
    }
    return [metadata.queue ?? this.#name, new NodeTask(metadata.name, args, {}, metadata.retry)];
  }

  /** A tracked call with per-call options over the handler's `@Task({ result })`. */
  #trackedCall(
    options: CallOptions,
    type: Type<unknown>,
    method: string,
    args: readonly unknown[],
  ): Promise<TaskHandle<unknown>> {
    return settled(() => {
      const [queue, task] = this.#callOf(type, method, args);
      const declared = getTaskMetadata(type, method)?.result;
      const merged =
        declared === undefined
          ? options
          : { ...options, result: { ...declared, ...options?.result } };
      const [record, created] = this.#runner.call(queue, task, merged);
      return new InlineTaskHandle(this.#runner, queue, record.id!, created, record.dueAt);
    });
  }
}

/** `with(options)` of an InlineDelayedQueue: scheduled and tracked calls, in memory. */
export class InlineScheduledCalls extends ScheduledCalls {
  readonly #runner: InlineRunner;
  readonly #queue: string;
  readonly #callOf: InlineCallOf;
  readonly #options: CallOptions;
  readonly #trackedCallOf: InlineTrackedCallOf;

  constructor(
    runner: InlineRunner,
    queue: string,
    callOf: InlineCallOf,
    options: CallOptions,
    trackedCallOf: InlineTrackedCallOf,
  ) {
    const unused = (): never => {
      throw new TypeError('InlineScheduledCalls overrides every call');
    };
    super(detached<Queue>(`DelayedQueue "${queue}"`, { name: queue }), unused, options, unused);
    this.#runner = runner;
    this.#queue = queue;
    this.#callOf = callOf;
    this.#options = options;
    this.#trackedCallOf = trackedCallOf;
  }

  override delay<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<ScheduledTask> {
    return settled(() => {
      const when = plainTime(this.#options);
      const [queue, task] = this.#callOf(type, method, args);
      return this.#runner.schedule(queue, task, when);
    });
  }

  override call<T, K extends MethodName<T>>(
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<TaskHandle<MethodResult<T, K>>> {
    return this.#trackedCallOf(this.#options, type, method, args) as Promise<
      TaskHandle<MethodResult<T, K>>
    >;
  }

  override enqueue(task: Task): Promise<ScheduledTask> {
    return settled(() => this.#runner.schedule(this.#queue, task, plainTime(this.#options)));
  }

  override enqueueMany(tasks: readonly Task[]): Promise<ScheduledTask[]> {
    return settled(() => this.#runner.scheduleMany(this.#queue, tasks, plainTime(this.#options)));
  }
}

/** `schedules` of an InlineDelayedQueue: periodic schedules kept in memory, fired by the test. */
export class InlineDelayedSchedules extends DelayedSchedules {
  readonly #runner: InlineRunner;
  readonly #queue: string;
  readonly #callOf: InlineCallOf;

  constructor(runner: InlineRunner, queue: string, callOf: InlineCallOf) {
    super(detached<Queue>(`DelayedQueue "${queue}"`, { name: queue }), () => {
      throw new TypeError('InlineDelayedSchedules overrides every call');
    });
    this.#runner = runner;
    this.#queue = queue;
    this.#callOf = callOf;
  }

  override set<T, K extends MethodName<T>>(
    name: string,
    spec: ScheduleSpec,
    type: Type<T>,
    method: K,
    ...args: MethodArgs<T, K>
  ): Promise<ScheduleChange> {
    return settled(() => {
      const [queue, task] = this.#callOf(type, method, args);
      return this.#runner.setSchedule(queue, name, spec, task, behaviorOf(spec));
    });
  }

  override setTask(name: string, spec: ScheduleSpec, task: Task): Promise<ScheduleChange> {
    return settled(() => this.#runner.setSchedule(this.#queue, name, spec, task, behaviorOf(spec)));
  }

  override remove(name: string): Promise<boolean> {
    return settled(() => this.#runner.schedules.remove(this.#queue, name));
  }

  override get(name: string): Promise<ScheduleInfo | undefined> {
    return settled(() => this.#runner.schedules.get(this.#queue, name));
  }

  override list(): Promise<ScheduleInfo[]> {
    return settled(() => this.#runner.schedules.list(this.#queue));
  }
}

function behaviorOf(spec: ScheduleSpec): { neverSkip?: boolean; tickArg?: boolean } {
  return { neverSkip: spec?.neverSkip, tickArg: spec?.tickArg };
}
