import { TaskTimeoutError } from '../errors.js';

/**
 * The deadline of one attempt of a task whose handler has a `timeout`: from its start, the
 * attempt has `timeout` ms. Then its signal is aborted with a TaskTimeoutError, and a race
 * of the handler's promise against the deadline rejects with that error at once. Whatever
 * the handler does later is ignored (its rejection included: it is never unhandled).
 *
 * The signal is also aborted by the worker's shutdown. It is linked by hand, with a
 * listener removed when the attempt ends, not with AbortSignal.any: signals made by it
 * from a long-lived one have leaked in Node releases this package supports.
 */
export class AttemptDeadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onShutdown: () => void;
  /** The task's signal: aborted at the deadline, or with the worker's shutdown signal. */
  readonly signal: AbortSignal;

  constructor(
    readonly timeout: number,
    name: string,
    private readonly shutdown: AbortSignal,
  ) {
    this.signal = this.controller.signal;
    this.onShutdown = () => this.controller.abort(shutdown.reason);
    if (shutdown.aborted) this.onShutdown();
    else shutdown.addEventListener('abort', this.onShutdown, { once: true });
    this.timer = setTimeout(() => {
      this.controller.abort(new TaskTimeoutError(`Task "${name}" timed out after ${timeout} ms`));
    }, timeout);
  }

  /** Whether the deadline passed (the attempt timed out). */
  get expired(): boolean {
    return this.signal.aborted && this.signal.reason instanceof TaskTimeoutError;
  }

  /** The handler's outcome, or a TaskTimeoutError once the deadline passes first. */
  race<T>(work: PromiseLike<T>): Promise<T> {
    const own = this.controller.signal;
    if (own.aborted) {
      // The handler's synchronous part outlasted the deadline (or the shutdown came first).
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

  /** Ends the deadline (the attempt is over, or abandoned with its signal already aborted). */
  clear(): void {
    clearTimeout(this.timer);
    this.shutdown.removeEventListener('abort', this.onShutdown);
  }
}
