import { DEFAULT_RESULT_TIMEOUT } from '../defaults.js';
import { InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import { decodeMsgpack } from '../protocol/msgpack.js';
import { taskRecordKey } from '../protocol/keys.js';
import { scripts } from '../redis/lua-scripts.js';
import type { Queue } from '../queue/queue.js';
import { ResultListener } from './result-listener.js';
import type { TaskState, TaskStatus } from './task-record.js';

/** How long `result()` waits. */
export interface ResultOptions {
  /** The longest wait, in ms (default 60,000); it then rejects with a ResultTimeoutError. */
  readonly timeout?: number;
}

/**
 * A tracked task, from the process that enqueued it or from any other (`queue.task(id)`):
 * its state, its result, and a cancel before it runs. `R` is the handler's result type.
 */
export class TaskHandle<R = unknown> {
  constructor(
    private readonly owner: Queue,
    /** The task's id: 32 hex characters, the same in every process. */
    readonly id: string,
    /**
     * False when a unique call found its key held: this handle is then the holder's (the
     * task that was enqueued first), and nothing new was enqueued.
     */
    readonly created = true,
    /** When it is (or was) due, in ms since the epoch, when the call scheduled it. */
    readonly dueAt?: number,
  ) {}

  /** The queue it was enqueued into. */
  get queue(): string {
    return this.owner.name;
  }

  /** Where the task is now, with the last progress its handler reported. */
  async status(): Promise<TaskStatus> {
    const [state, progress, attempts] = (await this.owner.command(
      () => scripts.trackStatus.run(this.owner.redis, this.owner.keys, [], [this.recordKey]),
      'a status read',
    )) as [Buffer, Buffer | null, Buffer | null];
    return {
      state: state.toString() as TaskState,
      ...(progress ? { progress: decodeMsgpack(progress) } : {}),
      attempts: attempts ? Number(attempts.toString()) : 0,
    };
  }

  /**
   * Resolves with the handler's return value once the task is done; rejects with a
   * TaskFailedError (the handler's error message and name) if it failed or died, a
   * TaskCancelledError, a TaskNotFoundError if it is unknown (its record expired), or a
   * ResultTimeoutError after `timeout` ms. Waits of one process share one subscriber.
   */
  result(options: ResultOptions = {}): Promise<R> {
    const timeout = options.timeout ?? DEFAULT_RESULT_TIMEOUT;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_DURATION) {
      return Promise.reject(
        new InvalidOptionsError(
          `result(): timeout must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(timeout)}`,
        ),
      );
    }
    return ResultListener.of(this.owner.redis).wait(this.owner, this.id, timeout) as Promise<R>;
  }

  /**
   * Cancels the task if it has not started: a scheduled task leaves the schedule, a waiting
   * one is skipped by the worker that takes it. Its unique key is freed and waiters reject
   * with a TaskCancelledError. False if it had started or ended (or is unknown).
   */
  async cancel(): Promise<boolean> {
    const redis = this.owner.redis;
    const unique = await this.owner.command(() => redis.hget(this.recordKey, 'unique'), 'a cancel');
    const cancelled = await this.owner.command(
      () =>
        scripts.trackCancel.run(
          redis,
          this.owner.keys,
          [this.id, this.owner.keys.done],
          unique === null ? [this.recordKey] : [this.recordKey, unique],
        ),
      'a cancel',
    );
    return cancelled === 1;
  }

  private get recordKey(): string {
    return taskRecordKey(this.owner.name, this.id);
  }
}
