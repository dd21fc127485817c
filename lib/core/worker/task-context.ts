import { AsyncLocalStorage } from 'node:async_hooks';

/** What a handler can learn about the task it runs, without a parameter for it. */
export interface TaskContext {
  /** The queue the task came from. */
  readonly queue: string;
  /** The task's name: the handler name (`Class:method`) or delayed function path. */
  readonly name: string;
  /** The worker id the task is recorded under in `N_processing` while it runs. */
  readonly workerId: string;
  /** Retries left after this attempt if it fails: 0 for the last one, -1 for "for ever". */
  readonly retriesLeft: number;
  /**
   * Aborted when the worker's graceful stop reaches its `shutdownTimeout` with this task
   * still running (reason: ShutdownDeadlineError): a handler that stops then is
   * interrupted, not failed, and a sweeper runs the task again, from the start, with the
   * same retries left. Also aborted when the attempt runs past its handler's `timeout`
   * (reason: TaskTimeoutError): the attempt has failed then.
   */
  readonly signal: AbortSignal;
  /** The task's id when it is tracked (enqueued with `call()`), else undefined. */
  readonly id: string | undefined;
  /**
   * Reports the task's progress (any MessagePack value: a number, `{ done, total }`, …):
   * a tracked task stores it in its record, where `status()` reads it from any process.
   * For an untracked task it is a no-op. Resolves once stored.
   */
  progress(value: unknown): Promise<void>;
}

/** The progress of an untracked task goes nowhere. */
export function untrackedProgress(): Promise<void> {
  return Promise.resolve();
}

const storage = new AsyncLocalStorage<TaskContext>();

/**
 * The task the calling handler runs, or undefined outside a handler. It follows the
 * handler's own async calls (AsyncLocalStorage), so helpers it calls can read it too.
 */
export function currentTask(): TaskContext | undefined {
  return storage.getStore();
}

/** Runs `handler(...args)` with `context` as its current task. */
export function runInTaskContext<R>(
  context: TaskContext,
  handler: (...args: unknown[]) => R,
  args: unknown[],
): R {
  return storage.run(context, handler, ...args);
}
