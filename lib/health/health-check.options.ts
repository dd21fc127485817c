import { describeValue, InvalidOptionsError } from '../core/index.js';

/**
 * What `DelayedHealthIndicator.isHealthy()` checks beyond Redis and the worker. Each
 * threshold is checked only when given; durations in ms.
 */
export interface DelayedHealthCheckOptions {
  /** Down when a queue has more tasks waiting than this. Default: not checked. */
  maxWaiting?: number;
  /** Down when a queue keeps more dead letters than this (0: any dead letter). Default: not checked. */
  maxDead?: number;
  /**
   * Down when a queue's most overdue scheduled task is later than this, in ms: nothing moves
   * due tasks in (no worker or sweeper of this library serves the queue). Default: not checked.
   */
  maxLateness?: number;
  /**
   * The queues to check. Default: the app's queues (the module's queue, the queues given
   * beside its options, the worker's and the handlers' queues).
   */
  queues?: string[];
  /** The longest the check waits for Redis, in ms; past it, Redis counts as down. Default 1,000. */
  timeout?: number;
}

export const DEFAULT_HEALTH_TIMEOUT = 1_000;

export interface ResolvedHealthCheckOptions {
  readonly maxWaiting: number | undefined;
  readonly maxDead: number | undefined;
  readonly maxLateness: number | undefined;
  readonly queues: readonly string[] | undefined;
  readonly timeout: number;
}

const KNOWN = ['maxWaiting', 'maxDead', 'maxLateness', 'queues', 'timeout'];

export function resolveHealthCheckOptions(
  options: DelayedHealthCheckOptions,
): ResolvedHealthCheckOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `DelayedHealthIndicator.isHealthy options must be an object, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) problems.push(`unknown option ${key} (known: ${KNOWN.join(', ')})`);
  }
  const { maxWaiting, maxDead, maxLateness, queues, timeout = DEFAULT_HEALTH_TIMEOUT } = options;
  for (const [name, value] of [
    ['maxWaiting', maxWaiting],
    ['maxDead', maxDead],
    ['maxLateness', maxLateness],
  ] as const) {
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    ) {
      problems.push(`${name} must be a whole number >= 0, got ${describeValue(value)}`);
    }
  }
  if (
    queues !== undefined &&
    (!Array.isArray(queues) ||
      queues.length === 0 ||
      queues.some((name) => typeof name !== 'string' || name === ''))
  ) {
    problems.push('queues must be a non-empty array of queue names');
  }
  if (
    typeof timeout !== 'number' ||
    !Number.isInteger(timeout) ||
    timeout < 1 ||
    timeout > 2 ** 31 - 1
  ) {
    problems.push(`timeout must be a whole number of ms >= 1, got ${describeValue(timeout)}`);
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(
      `Invalid DelayedHealthIndicator.isHealthy options:\n- ${problems.join('\n- ')}`,
    );
  }
  return {
    maxWaiting,
    maxDead,
    maxLateness,
    queues: queues === undefined ? undefined : [...queues],
    timeout,
  };
}
