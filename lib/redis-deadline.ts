import { RedisUnavailableError } from './core/index.js';

/**
 * Settles as `read` does, or rejects with a RedisUnavailableError once `timeout` ms pass:
 * one bound on a whole read (a wait for the connection and the commands after it), for the
 * operator's views (metrics, health) that must answer in time whatever Redis does. The read
 * itself is not cancelled; its late outcome is ignored.
 */
export function withinDeadline<T>(read: Promise<T>, timeout: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RedisUnavailableError(`no answer to ${what} within ${timeout} ms`)),
      timeout,
    );
  });
  return Promise.race([read, expired]).finally(() => clearTimeout(timer));
}
