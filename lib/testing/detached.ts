import { DelayedError } from '../core/index.js';

/**
 * A stand-in for an engine object (a Redis-backed Queue, say) that an inline class hands to
 * the constructor of the class it extends, so that app code keeps its types and its
 * `instanceof` checks. It carries the few fields given and throws a clear error if anything
 * else is read: the inline classes override every member that would read it, and a test
 * checks that they still do when the real classes grow.
 */
export function detached<T>(what: string, fields: Readonly<Record<string, unknown>>): T {
  return new Proxy(fields, {
    get(target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined; // inspect, await
      if (Object.hasOwn(target, key)) return target[key];
      throw new DelayedError(
        `${what} has no Redis behind it under DelayedTestingModule (it was asked for "${key}"); this call needs the real DelayedModule`,
      );
    },
  }) as T;
}
