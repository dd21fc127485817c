import { InvalidOptionsError } from '../errors.js';
import { MAX_DURATION } from '../limits.js';

/**
 * How long a failed task waits before its next attempt.
 *
 * - a number: that many ms before every retry (fixed);
 * - `{ type: 'fixed', delay, jitter? }`: the same;
 * - `{ type: 'exponential', delay, maxDelay?, jitter? }`: `delay` before the first retry,
 *   twice as long before each next one, never more than `maxDelay`.
 *
 * `jitter` (0 to 1) shortens each wait by a random part of at most that fraction, so tasks
 * that failed together do not all come back at the same instant: with `jitter: 0.25` a 4 s
 * wait becomes 3 to 4 s.
 */
export type Backoff =
  | number
  | { readonly type: 'fixed'; readonly delay: number; readonly jitter?: number }
  | {
      readonly type: 'exponential';
      readonly delay: number;
      readonly maxDelay?: number;
      readonly jitter?: number;
    };

/** A backoff, checked and with its defaults filled in. */
export interface BackoffPolicy {
  readonly type: 'fixed' | 'exponential';
  readonly delay: number;
  readonly maxDelay: number;
  readonly jitter: number;
}

/** Checks a backoff; `where` names its place in error messages (e.g. `@Task() on Mailer.send`). */
export function resolveBackoff(value: Backoff, where: string): BackoffPolicy {
  const fail = (problem: string): never => {
    throw new InvalidOptionsError(`${where}: backoff ${problem}`);
  };
  if (typeof value === 'number') value = { type: 'fixed', delay: value };
  if (value === null || typeof value !== 'object') {
    return fail(
      `must be a number of ms or { type: 'fixed' | 'exponential', delay, maxDelay?, jitter? }, got ${String(value)}`,
    );
  }
  const { type, delay } = value;
  if (type !== 'fixed' && type !== 'exponential') {
    fail(`type must be 'fixed' or 'exponential', got ${JSON.stringify(type)}`);
  }
  const duration = (name: string, ms: unknown): number => {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > MAX_DURATION) {
      fail(`${name} must be a whole number of ms from 0 to ${MAX_DURATION}, got ${String(ms)}`);
    }
    return ms as number;
  };
  const maxDelay =
    'maxDelay' in value && value.maxDelay !== undefined
      ? duration('maxDelay', value.maxDelay)
      : MAX_DURATION;
  if (type === 'fixed' && 'maxDelay' in value && value.maxDelay !== undefined) {
    fail(`maxDelay only applies to type 'exponential'`);
  }
  const jitter = value.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    fail(`jitter must be a fraction from 0 to 1, got ${String(jitter)}`);
  }
  return { type, delay: duration('delay', delay), maxDelay, jitter };
}

/**
 * The wait before retry number `retry` (1 for the first retry), in whole ms.
 * @param random a number in [0, 1), for the jitter.
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random = Math.random()): number {
  let wait = policy.delay;
  if (policy.type === 'exponential') {
    // 2^(retry-1) overflows to Infinity past retry ~1024 (and 0 × Infinity is NaN): past 2^40
    // every delay of 1 ms or more is over any cap anyway.
    wait = Math.min(policy.maxDelay, policy.delay * 2 ** Math.min(40, Math.max(0, retry - 1)));
  }
  return Math.round(wait * (1 - policy.jitter * random));
}
