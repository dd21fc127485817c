import { TaskTimeoutError } from '../errors.js';

/**
 * The deadline of one attempt of a task whose handler has a `timeout`: from its start, the
 * attempt has `timeout` ms. Then its signal is aborted with a TaskTimeoutError, and a race
 * of the handler's promise against the deadline rejects with that error at once. Whatever
 * the handler does later is ignored (its rejection included: it is never unhandled).
 */
export class AttemptDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  /** The task's signal: aborted at the deadline, or with the worker's shutdown signal. */
  readonly signal: AbortSignal;

  constructor(timeout: number, name: string, shutdown: AbortSignal) {
    this.signal = AbortSignal.any([shutdown, this.controller.signal]);
    this.timer = setTimeout(() => {
      this.controller.abort(new TaskTimeoutError(`Task "${name}" timed out after ${timeout} ms`));
    }, timeout);
  }

  /** The handler's outcome, or a TaskTimeoutError once the deadline passes first. */
  race<T>(work: PromiseLike<T>): Promise<T> {
    const own = this.controller.signal;
    if (own.aborted) {
      // The handler's synchronous part outlasted the deadline.
      work.then(undefined, () => undefined);
      return Promise.reject(own.reason as Error);
    }
    return new Promise<T>((resolve, reject) => {
      const expire = (): void => reject(own.reason as Error);
      own.addEventListener('abort', expire, { once: true });
      work.then(
        (value) => {
          own.removeEventListener('abort', expire);
          resolve(value);
        },
        (error: unknown) => {
          own.removeEventListener('abort', expire);
          reject(error);
        },
      );
    });
  }

  /** Ends the deadline (the attempt is over). */
  clear(): void {
    clearTimeout(this.timer);
  }
}
