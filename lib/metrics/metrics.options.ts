import type { Registry } from 'prom-client';
import { describeValue, InvalidOptionsError } from '../core/index.js';

/** Options of `DelayedMetricsModule.forRoot()`; durations in ms, histogram buckets in seconds. */
export interface DelayedMetricsOptions {
  /** The prom-client registry the metrics are registered in. Default: prom-client's global `register`. */
  registry?: Registry;
  /** Put before every metric name. Default 'delayed_'. */
  prefix?: string;
  /**
   * More queues to report counts for, besides the app's own (the module's queue, the queues
   * given beside its options, the worker's and the handlers' queues): a queue that only
   * Python or Go workers serve, say. Default none.
   */
  queues?: string[];
  /**
   * Upper bounds of the task duration histogram's buckets, in seconds (Prometheus' unit),
   * ascending. Default DEFAULT_DURATION_BUCKETS: 5 ms to 5 min.
   */
  buckets?: number[];
  /**
   * How long one read of the queue counts serves scrapes, in ms: scrapes within it (several
   * Prometheus servers, a dashboard) cost Redis one read. 0 reads on every scrape (scrapes
   * at one instant still share a read). Default 1,000.
   */
  cacheTime?: number;
  /**
   * The longest a scrape waits for Redis, in ms: past it the queue gauges are left out and
   * `delayed_redis_up` is 0. Default: the DelayedModule's redisTimeout (5,000 unless set).
   */
  timeout?: number;
}

/** Settings given beside the options, as they shape the module itself. */
export interface DelayedMetricsExtras {
  /**
   * Serve the registry's metrics at `GET <path>` (e.g. '/metrics'), with the registry's
   * content type. Default: not served; expose the registry with a controller of your own.
   */
  path?: string;
}

/** Task duration buckets by default, in seconds: from 5 ms to 5 minutes. */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
]);
export const DEFAULT_METRICS_PREFIX = 'delayed_';
export const DEFAULT_METRICS_CACHE_TIME = 1_000;

export interface ResolvedMetricsOptions {
  readonly registry: Registry | undefined;
  readonly prefix: string;
  readonly queues: readonly string[];
  readonly buckets: readonly number[];
  readonly cacheTime: number;
  readonly timeout: number | undefined;
}

const KNOWN = ['registry', 'prefix', 'queues', 'buckets', 'cacheTime', 'timeout'];

/** Applies the defaults and rejects what cannot work, naming every problem at once. */
export function resolveMetricsOptions(options: DelayedMetricsOptions): ResolvedMetricsOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `DelayedMetricsModule options must be an object, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (key === 'path') {
      problems.push(
        'path goes beside the options, not inside them: forRootAsync({ useFactory, path })',
      );
    } else if (!KNOWN.includes(key)) {
      problems.push(`unknown option ${key} (known: ${KNOWN.join(', ')})`);
    }
  }
  const {
    registry,
    prefix = DEFAULT_METRICS_PREFIX,
    queues = [],
    buckets = DEFAULT_DURATION_BUCKETS,
    cacheTime = DEFAULT_METRICS_CACHE_TIME,
    timeout,
  } = options;
  if (
    registry !== undefined &&
    (registry === null ||
      typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function')
  ) {
    problems.push(
      "registry must be a prom-client Registry (new Registry(), or prom-client's register)",
    );
  }
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    problems.push(
      `prefix must be a valid start of a Prometheus metric name (letters, digits, _ and :, not starting with a digit), got ${describeValue(prefix)}`,
    );
  }
  if (!Array.isArray(queues) || queues.some((name) => typeof name !== 'string' || name === '')) {
    problems.push('queues must be an array of non-empty queue names');
  }
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    buckets.some(
      (bound, i) =>
        typeof bound !== 'number' ||
        !Number.isFinite(bound) ||
        bound <= 0 ||
        (i > 0 && bound <= buckets[i - 1]!),
    )
  ) {
    problems.push(
      'buckets must be a non-empty array of positive, finite numbers of seconds in ascending order (+Inf is added by itself)',
    );
  }
  if (typeof cacheTime !== 'number' || !Number.isInteger(cacheTime) || cacheTime < 0) {
    problems.push(`cacheTime must be a whole number of ms >= 0, got ${describeValue(cacheTime)}`);
  }
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' ||
      !Number.isInteger(timeout) ||
      timeout < 1 ||
      timeout > 2 ** 31 - 1)
  ) {
    problems.push(`timeout must be a whole number of ms >= 1, got ${describeValue(timeout)}`);
  }
  if (problems.length > 0) {
    throw new InvalidOptionsError(
      `Invalid DelayedMetricsModule options:\n- ${problems.join('\n- ')}`,
    );
  }
  return {
    registry,
    prefix,
    queues: [...queues],
    buckets: [...buckets],
    cacheTime,
    timeout,
  };
}
