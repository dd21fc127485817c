import type { Redis, RedisOptions } from 'ioredis';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEAD_LETTER_MAX_LENGTH,
  DEFAULT_DEQUEUE_TIMEOUT,
  DEFAULT_KEEP_ALIVE_INTERVAL,
  DEFAULT_KEEP_ALIVE_TIMEOUT,
  DEFAULT_QUEUE_NAME,
  DEFAULT_REDIS_TIMEOUT,
  DEFAULT_SHUTDOWN_TIMEOUT,
  DEFAULT_SWEEP_INTERVAL,
} from './core/defaults.js';
import { connectionProblem } from './core/connection.js';
import { InvalidOptionsError } from './core/errors.js';

/** Options of `DelayedModule.forRoot()`; every duration is in milliseconds. */
export interface DelayedModuleOptions {
  /** A Redis URL, ioredis options, or your own ioredis client (never closed by the module). Default: localhost:6379. */
  connection?: string | RedisOptions | Redis;
  /** Name of the queue `DelayedQueue` enqueues into and `@Task()` handlers serve by default. Default 'default'. */
  queue?: string;
  /**
   * Whether this process consumes: `true` or worker options make it a worker, which runs the
   * `@Task()` handlers it finds. Default `false`: the app only enqueues (an API node).
   */
  worker?: boolean | DelayedWorkerOptions;
  /**
   * The sweeper that recovers tasks of dead workers: `true` or options to run it, `false` not
   * to. Default: it runs where the worker runs.
   */
  sweeper?: boolean | DelayedSweeperOptions;
  /**
   * How long to wait for an unreachable Redis before failing with a RedisUnavailableError:
   * the worker's start (and so the bootstrap), each enqueue, each sweep. Default 5,000.
   */
  redisTimeout?: number;
  /** Dead letters for tasks that cannot be run, or `false` to log and drop them. */
  deadLetter?: false | DelayedDeadLetterOptions;
}

export interface DelayedWorkerOptions {
  /** Tasks run at once. Default 1. */
  concurrency?: number;
  /** Queues served, highest priority first. Default: every queue a `@Task()` handler serves, the default queue first. */
  queues?: string[];
  /** How often liveness keys are refreshed. Default 15,000. */
  keepAliveInterval?: number;
  /** How long a liveness key lives without refresh; a sweeper requeues the tasks of a worker silent this long. Default 60,000. */
  keepAliveTimeout?: number;
  /** Longest single wait for a notification. Default 1,000. */
  dequeueTimeout?: number;
  /** How long shutdown waits for running tasks before leaving them to the sweeper. Default 10,000. */
  shutdownTimeout?: number;
}

export interface DelayedSweeperOptions {
  /** Time between sweeps. Default 60,000. */
  interval?: number;
}

export interface DelayedDeadLetterOptions {
  /** Dead letters kept per queue, the oldest trimmed. Default 10,000. */
  maxLength?: number;
}

/** Options with every default applied, as the module uses them. */
export interface ResolvedDelayedOptions {
  readonly connection: string | RedisOptions | Redis | undefined;
  readonly queue: string;
  readonly queues: readonly string[];
  readonly redisTimeout: number;
  readonly worker: false | Required<Omit<DelayedWorkerOptions, 'queues'>> & { queues: string[] | undefined };
  readonly sweeper: false | Required<DelayedSweeperOptions>;
  readonly deadLetter: false | Required<DelayedDeadLetterOptions>;
}

const TOP_LEVEL = ['connection', 'queue', 'worker', 'sweeper', 'deadLetter', 'redisTimeout'];
/** Settings of the module itself, given beside the options, never inside them. */
const EXTRAS = ['queues', 'isGlobal'];
const WORKER_KEYS = ['concurrency', 'queues', 'keepAliveInterval', 'keepAliveTimeout', 'dequeueTimeout', 'shutdownTimeout'];

/** Applies the defaults once and rejects what cannot work, naming each problem. */
export function resolveOptions(options: DelayedModuleOptions, queues: readonly string[] = []): ResolvedDelayedOptions {
  const problems: string[] = [];
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(`DelayedModule options must be an object, got ${String(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (EXTRAS.includes(key)) {
      problems.push(
        `${key} goes beside the options, not inside them: forRoot({ ..., ${key} }) or forRootAsync({ useFactory, ${key} }), not in what useFactory or createDelayedOptions() returns`,
      );
    }
  }
  unknownKeys(options, TOP_LEVEL, '', problems, EXTRAS);
  const connection = connectionProblem(options.connection);
  if (connection !== undefined) problems.push(connection);
  const queue = options.queue ?? DEFAULT_QUEUE_NAME;
  const redisTimeout = duration(options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT, 'redisTimeout', problems);
  if (typeof queue !== 'string' || queue.length === 0) problems.push(`queue must be a non-empty string, got ${JSON.stringify(queue)}`);
  for (const name of queues) {
    if (typeof name !== 'string' || name.length === 0) problems.push(`queues must hold non-empty strings, got ${JSON.stringify(name)}`);
  }

  let worker: ResolvedDelayedOptions['worker'] = false;
  if (options.worker !== undefined && options.worker !== false) {
    const given = options.worker === true ? {} : options.worker;
    if (typeof given !== 'object' || given === null) {
      problems.push(`worker must be true, false or an options object, got ${describe(given)}`);
    } else {
      unknownKeys(given, WORKER_KEYS, 'worker.', problems);
      worker = {
        concurrency: positiveInteger(given.concurrency ?? DEFAULT_CONCURRENCY, 'worker.concurrency', problems),
        queues: given.queues,
        keepAliveInterval: duration(given.keepAliveInterval ?? DEFAULT_KEEP_ALIVE_INTERVAL, 'worker.keepAliveInterval', problems),
        keepAliveTimeout: duration(given.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT, 'worker.keepAliveTimeout', problems),
        dequeueTimeout: duration(given.dequeueTimeout ?? DEFAULT_DEQUEUE_TIMEOUT, 'worker.dequeueTimeout', problems),
        shutdownTimeout: duration(given.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT, 'worker.shutdownTimeout', problems),
      };
      if (worker.keepAliveInterval >= worker.keepAliveTimeout) {
        problems.push(
          `worker.keepAliveInterval (${worker.keepAliveInterval}) must be shorter than worker.keepAliveTimeout (${worker.keepAliveTimeout})`,
        );
      }
      if (worker.queues !== undefined && (!Array.isArray(worker.queues) || worker.queues.length === 0)) {
        problems.push('worker.queues must be a non-empty array of queue names');
      }
    }
  }

  // The sweeper goes with the worker unless asked for: an API node has nothing to recover
  // tasks for, and every worker sweeps the queues it serves.
  let sweeper: ResolvedDelayedOptions['sweeper'] = false;
  const sweeps = options.sweeper === undefined ? worker !== false : options.sweeper !== false;
  if (sweeps) {
    const given = options.sweeper === undefined || options.sweeper === true ? {} : options.sweeper;
    if (typeof given !== 'object' || given === null) {
      problems.push(`sweeper must be true, false or an options object, got ${describe(given)}`);
    } else {
      unknownKeys(given, ['interval'], 'sweeper.', problems);
      sweeper = { interval: duration(given.interval ?? DEFAULT_SWEEP_INTERVAL, 'sweeper.interval', problems) };
    }
  }

  let deadLetter: ResolvedDelayedOptions['deadLetter'] = false;
  if (options.deadLetter !== false) {
    const given = options.deadLetter ?? {};
    unknownKeys(given, ['maxLength'], 'deadLetter.', problems);
    deadLetter = {
      maxLength: positiveInteger(given.maxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH, 'deadLetter.maxLength', problems),
    };
  }

  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid DelayedModule options:\n- ${problems.join('\n- ')}`);
  }
  return { connection: options.connection, queue, queues: [...queues], redisTimeout, worker, sweeper, deadLetter };
}

function unknownKeys(given: object, known: string[], prefix: string, problems: string[], reported: string[] = []): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key) && !reported.includes(key)) problems.push(`unknown option ${prefix}${key} (known: ${known.join(', ')})`);
  }
}

/**
 * Config libraries hand environment variables over as strings: a string that is a plain
 * decimal number counts as that number.
 */
function numeric(value: unknown): unknown {
  return typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
}

function duration(given: unknown, name: string, problems: string[]): number {
  const value = numeric(given);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    problems.push(`${name} must be a positive number of milliseconds, got ${describe(given)}`);
  }
  return value as number;
}

function positiveInteger(given: unknown, name: string, problems: string[]): number {
  const value = numeric(given);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    problems.push(`${name} must be a positive integer, got ${describe(given)}`);
  }
  return value as number;
}

/** A value and its type, so that "10" and 10 do not read alike in a message. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${String(value)} (${typeof value})`;
}
