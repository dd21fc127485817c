import {
  DEFAULT_RESULT_TIMEOUT,
  InvalidOptionsError,
  MAX_DURATION,
  type Queue,
  type ResultOptions,
  TaskHandle,
  TaskNotFoundError,
  type TaskStatus,
} from '../core/index.js';
import { detached } from './detached.js';
import type { InlineRunner } from './inline-runner.js';

/**
 * The handle of a tracked call under DelayedTestingModule: a TaskHandle (app code keeps its
 * type) whose `status()`, `result()` and `cancel()` read and change the in-process task.
 */
export class InlineTaskHandle<R = unknown> extends TaskHandle<R> {
  readonly #runner: InlineRunner;
  readonly #queue: string;

  constructor(runner: InlineRunner, queue: string, id: string, created = true, dueAt?: number) {
    super(detached<Queue>(`TaskHandle ${id}`, { name: queue }), id, created, dueAt);
    this.#runner = runner;
    this.#queue = queue;
  }

  override get queue(): string {
    return this.#queue;
  }

  override status(): Promise<TaskStatus> {
    const record = this.#runner.trackedTask(this.id);
    if (record === undefined || record.queue !== this.#queue) {
      return Promise.resolve({ state: 'unknown', attempts: 0 });
    }
    return Promise.resolve(this.#runner.status(record));
  }

  override result(options: ResultOptions = {}): Promise<R> {
    const timeout = options.timeout ?? DEFAULT_RESULT_TIMEOUT;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_DURATION) {
      return Promise.reject(
        new InvalidOptionsError(
          `result(): timeout must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(timeout)}`,
        ),
      );
    }
    const record = this.#runner.trackedTask(this.id);
    if (record === undefined || record.queue !== this.#queue) {
      return Promise.reject(
        new TaskNotFoundError(
          `Task ${this.id} is unknown: it was not tracked, or its record expired (results are kept for their ttl)`,
        ),
      );
    }
    return this.#runner.result(record, timeout) as Promise<R>;
  }

  override cancel(): Promise<boolean> {
    const record = this.#runner.trackedTask(this.id);
    if (record === undefined || record.queue !== this.#queue) return Promise.resolve(false);
    return Promise.resolve(this.#runner.cancelTracked(record));
  }
}
