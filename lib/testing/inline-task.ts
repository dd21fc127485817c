import type { Kwargs, Task } from '../core/index.js';

/**
 * Where an inline task is: `scheduled` (waiting for its time, or for the test to release
 * it), `waiting` (to be run), `running`, `done`, `failed` or `dead` (its last attempt threw:
 * `dead` when dead letters are on, as by default, `failed` when they are off), `cancelled`,
 * or `unhandled`: no `@Task()` handler of its name is in this app (a `PyTask` or `GoTask` for
 * a Python or Go worker, or a task another app runs), so it is recorded and never run.
 */
export type InlineTaskState =
  'scheduled' | 'waiting' | 'running' | 'done' | 'failed' | 'dead' | 'cancelled' | 'unhandled';

/** One task enqueued under DelayedTestingModule, and what became of it. */
export interface InlineTask {
  /** Its place in the order of enqueues, from 1. */
  readonly seq: number;
  readonly queue: string;
  /** Its name: the handler's `@Task()` name (`Class:method`), or the peer's function path. */
  readonly name: string;
  /** Its arguments as its handler gets them: encoded and decoded as a worker would. */
  readonly args: readonly unknown[];
  readonly kwargs: Kwargs;
  /** The task as it was enqueued (a NodeTask, PyTask or GoTask). */
  readonly task: Task;
  /** Its id when it was enqueued with `call()`. */
  readonly id: string | undefined;
  /** What `cancel()` takes, when it was scheduled. */
  readonly scheduledId: string | undefined;
  /** When it was due, in ms since the epoch, when it was scheduled. */
  readonly dueAt: number | undefined;
  readonly state: InlineTaskState;
  /** Attempts started. */
  readonly attempts: number;
  /** Retries it has left (-1: for ever). */
  readonly retriesLeft: number;
  /** Its handler's return value, once `done`. */
  readonly result: unknown;
  /** The error of its last failed attempt, if any. */
  readonly error: unknown;
  /** The error of every failed attempt, in order. */
  readonly errors: readonly unknown[];
  /** The last progress its handler reported (`currentTask().progress(…)`). */
  readonly progress: unknown;
}

/** The states in which a task is over. */
export const ENDED_STATES: ReadonlySet<InlineTaskState> = new Set([
  'done',
  'failed',
  'dead',
  'cancelled',
]);
