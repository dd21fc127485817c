import { DuplicateHandlerError, InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';
import { type Backoff, type BackoffPolicy, resolveBackoff } from './backoff.js';

/** A task handler: called with the task's args, then its kwargs as one last object if any. */
// Parameters are `any`: a handler declares the types its task carries, `(to: string) => …`,
// which a `(...args: unknown[])` type would refuse.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TaskHandler = (...args: any[]) => unknown;

/** How a handler's tasks are run and retried, beyond the retry count each task carries. */
export interface HandlerOptions {
  /**
   * The retries the handler's tasks are given when enqueued from Node (-1: for ever). A
   * backoff counts the retries a task has used against this number.
   */
  readonly retry?: number;
  /** Wait before each retry instead of requeueing at once. */
  readonly backoff?: Backoff;
  /**
   * The longest an attempt may run (ms). At the deadline the task's signal is aborted and
   * the attempt fails with a TaskTimeoutError (retries and backoff apply); a handler that
   * ignores its signal keeps running, outside the worker's concurrency, and its outcome
   * is ignored.
   */
  readonly timeout?: number;
}

/** A registered handler and what the worker needs to run and retry its tasks. */
export interface HandlerEntry {
  readonly handler: TaskHandler;
  /** Where it came from, for error messages, e.g. "EmailService.send". */
  readonly source: string;
  /** The queue it serves; undefined serves every queue of the worker. */
  readonly queue: string | undefined;
  /** The retries its tasks start with when enqueued from Node. */
  readonly retry: number;
  /** Its backoff, or undefined for the peers' immediate requeue. */
  readonly backoff: BackoffPolicy | undefined;
  /** The longest an attempt may run (ms), or undefined for no limit. */
  readonly timeout: number | undefined;
}

/** Task name -> handler. Names are unique: a duplicate is a startup error naming both. */
export class HandlerRegistry {
  private readonly entries = new Map<string, HandlerEntry>();

  register(
    name: string,
    handler: TaskHandler,
    source = name,
    queue?: string,
    options: HandlerOptions = {},
  ): void {
    const existing = this.entries.get(name);
    if (existing) {
      throw new DuplicateHandlerError(
        `Task name "${name}" is claimed by both ${existing.source} and ${source}; give one of them another name with @Task('...')`,
      );
    }
    const { retry = 0, backoff, timeout } = options;
    if (!Number.isInteger(retry) || retry < -1) {
      throw new InvalidOptionsError(
        `${source}: retry must be an integer >= -1, got ${String(retry)}`,
      );
    }
    if (
      timeout !== undefined &&
      (typeof timeout !== 'number' ||
        !Number.isInteger(timeout) ||
        timeout < 1 ||
        timeout > MAX_DURATION)
    ) {
      throw new InvalidOptionsError(
        `${source}: timeout must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(timeout)}`,
      );
    }
    if (backoff !== undefined && retry === 0) {
      throw new InvalidOptionsError(
        `${source}: a backoff needs retry (how many retries its tasks get, or -1 for ever); with retry 0 tasks enqueued from Node are never retried`,
      );
    }
    this.entries.set(name, {
      handler,
      source,
      queue,
      retry,
      backoff: backoff === undefined ? undefined : resolveBackoff(backoff, source),
      timeout,
    });
  }

  get(name: string): HandlerEntry | undefined {
    return this.entries.get(name);
  }

  /** Whether some handler may run tasks of this queue. */
  servesQueue(queue: string): boolean {
    for (const entry of this.entries.values()) {
      if (entry.queue === undefined || entry.queue === queue) return true;
    }
    return false;
  }

  /** The queues named by handlers with an explicit queue. */
  queueNames(): string[] {
    const names = new Set<string>();
    for (const entry of this.entries.values())
      if (entry.queue !== undefined) names.add(entry.queue);
    return [...names];
  }

  get size(): number {
    return this.entries.size;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }
}
