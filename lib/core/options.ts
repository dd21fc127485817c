import { MAX_DURATION } from './limits.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEAD_LETTER_MAX_LENGTH,
  DEFAULT_DEQUEUE_TIMEOUT,
  DEFAULT_KEEP_ALIVE_INTERVAL,
  DEFAULT_KEEP_ALIVE_TIMEOUT,
  DEFAULT_REDIS_TIMEOUT,
  DEFAULT_SHUTDOWN_TIMEOUT,
  DEFAULT_SWEEP_INTERVAL,
} from './defaults.js';
import { InvalidOptionsError } from './errors.js';

/**
 * Every tunable of the engine, declared once: its type and doc here, its default and check
 * in the tables below. The Worker, Queue and Sweeper resolve their options through these
 * tables, and the Nest module derives its option types and checks from them, so an option
 * is added in one place and reads the same everywhere. Durations are in milliseconds.
 */
export interface WorkerSettings {
  /** Tasks run at once, each in its own slot with its own worker id. Default 1. */
  readonly concurrency: number;
  /** How often the slots' liveness keys are refreshed. Default 15,000. */
  readonly keepAliveInterval: number;
  /**
   * How long a liveness key lives without a refresh: a sweeper requeues the tasks of a
   * worker silent this long. Default 60,000.
   */
  readonly keepAliveTimeout: number;
  /** The longest single wait for a notification. Default 1,000. */
  readonly dequeueTimeout: number;
  /** How long a graceful stop waits for running tasks before leaving them to a sweeper. Default 10,000. */
  readonly shutdownTimeout: number;
  /** How long start() waits for an unreachable Redis before it fails. Default 5,000. */
  readonly redisTimeout: number;
}

export interface QueueSettings {
  /** How long an enqueue or a sweep waits for an unreachable Redis before failing. Default 5,000. */
  readonly redisTimeout: number;
}

export interface SweeperSettings {
  /** Time between sweeps. Default 60,000. */
  readonly interval: number;
}

export interface DeadLetterSettings {
  /** Dead letters kept per queue; the oldest are trimmed beyond it. Default 10,000. */
  readonly maxLength: number;
}

/** How one option is defaulted and checked. */
interface OptionSpec {
  readonly default: number;
  readonly kind: 'duration' | 'count';
}

type Specs<S> = { readonly [K in keyof S]: OptionSpec };

const duration = (value: number): OptionSpec => ({ default: value, kind: 'duration' });
const count = (value: number): OptionSpec => ({ default: value, kind: 'count' });

export const WORKER_OPTIONS: Specs<WorkerSettings> = {
  concurrency: count(DEFAULT_CONCURRENCY),
  keepAliveInterval: duration(DEFAULT_KEEP_ALIVE_INTERVAL),
  keepAliveTimeout: duration(DEFAULT_KEEP_ALIVE_TIMEOUT),
  dequeueTimeout: duration(DEFAULT_DEQUEUE_TIMEOUT),
  shutdownTimeout: duration(DEFAULT_SHUTDOWN_TIMEOUT),
  redisTimeout: duration(DEFAULT_REDIS_TIMEOUT),
};

export const QUEUE_OPTIONS: Specs<QueueSettings> = {
  redisTimeout: WORKER_OPTIONS.redisTimeout,
};

export const SWEEPER_OPTIONS: Specs<SweeperSettings> = {
  interval: duration(DEFAULT_SWEEP_INTERVAL),
};

export const DEAD_LETTER_OPTIONS: Specs<DeadLetterSettings> = {
  maxLength: count(DEFAULT_DEAD_LETTER_MAX_LENGTH),
};

/**
 * The options of `specs` read from `given`, defaults applied; each problem is pushed to
 * `problems` as `<prefix><name> must be …`. A string of digits counts as its number: config
 * libraries hand environment variables over as strings.
 */
export function resolveSettings<S>(
  specs: Specs<S>,
  given: object,
  prefix: string,
  problems: string[],
): S {
  const settings: Record<string, unknown> = {};
  for (const name of Object.keys(specs) as (keyof S & string)[]) {
    const spec = specs[name];
    // null counts as "not given", as undefined does: config files write it for "unset".
    const raw = (given as Record<string, unknown>)[name] ?? spec.default;
    const value = typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    if (
      spec.kind === 'count' &&
      (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    ) {
      problems.push(`${prefix}${name} must be a positive integer, got ${describeValue(raw)}`);
    }
    if (spec.kind === 'duration') {
      const problem = durationProblem(value);
      if (problem !== undefined)
        problems.push(`${prefix}${name} must be ${problem}, got ${describeValue(raw)}`);
    }
    settings[name] = value;
  }
  return settings as S;
}

function durationProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    return 'a positive number of milliseconds';
  }
  // Redis' PX takes no fraction, and a Node timer longer than this fires after 1 ms.
  if (!Number.isInteger(value)) return 'a whole number of milliseconds';
  if (value > MAX_DURATION)
    return `at most ${MAX_DURATION} ms (about 24.8 days, the longest a Node timer holds)`;
  return undefined;
}

/** Worker settings, with the rule that ties two of them. */
export function resolveWorkerSettings(
  given: object,
  prefix: string,
  problems: string[],
): WorkerSettings {
  const settings = resolveSettings(WORKER_OPTIONS, given, prefix, problems);
  if (settings.keepAliveInterval >= settings.keepAliveTimeout) {
    problems.push(
      `${prefix}keepAliveInterval (${settings.keepAliveInterval} ms) must be shorter than ${prefix}keepAliveTimeout (${settings.keepAliveTimeout} ms), or liveness keys expire between refreshes`,
    );
  }
  return settings;
}

/** Throws one InvalidOptionsError listing every problem, if there is any. */
export function throwOnProblems(what: string, problems: readonly string[]): void {
  if (problems.length === 1) throw new InvalidOptionsError(`Invalid ${what}: ${problems[0]}`);
  if (problems.length > 1)
    throw new InvalidOptionsError(`Invalid ${what}:\n- ${problems.join('\n- ')}`);
}

/** A value and its type, so that "10" and 10 do not read alike in a message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${String(value)} (${typeof value})`;
}
