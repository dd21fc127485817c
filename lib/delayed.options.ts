import type { Redis, RedisOptions } from 'ioredis';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEAD_LETTER_MAX_LENGTH,
  DEFAULT_DEQUEUE_TIMEOUT,
  DEFAULT_KEEP_ALIVE_INTERVAL,
  DEFAULT_KEEP_ALIVE_TIMEOUT,
  DEFAULT_QUEUE_NAME,
  DEFAULT_SHUTDOWN_TIMEOUT,
  DEFAULT_SWEEP_INTERVAL,
} from './core/defaults.js';
import { InvalidOptionsError } from './core/errors.js';

/** Options of `DelayedModule.forRoot()`; every duration is in milliseconds. */
export interface DelayedModuleOptions {
  /** A Redis URL, ioredis options, or your own ioredis client (never closed by the module). Default: localhost:6379. */
  connection?: string | RedisOptions | Redis;
  /** Name of the queue `DelayedQueue` enqueues into and `@Task()` handlers serve by default. Default 'default'. */
  queue?: string;
  /** The worker, or `false` for an app that only enqueues. */
  worker?: false | DelayedWorkerOptions;
  /** The sweeper that recovers tasks of dead workers, or `false`. */
  sweeper?: false | DelayedSweeperOptions;
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
  readonly worker: false | Required<Omit<DelayedWorkerOptions, 'queues'>> & { queues: string[] | undefined };
  readonly sweeper: false | Required<DelayedSweeperOptions>;
  readonly deadLetter: false | Required<DelayedDeadLetterOptions>;
}

const TOP_LEVEL = ['connection', 'queue', 'worker', 'sweeper', 'deadLetter'];
const WORKER_KEYS = ['concurrency', 'queues', 'keepAliveInterval', 'keepAliveTimeout', 'dequeueTimeout', 'shutdownTimeout'];

/** Applies the defaults once and rejects what cannot work, naming each problem. */
export function resolveOptions(options: DelayedModuleOptions, queues: readonly string[] = []): ResolvedDelayedOptions {
  const problems: string[] = [];
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(`DelayedModule options must be an object, got ${String(options)}`);
  }
  unknownKeys(options, TOP_LEVEL, '', problems);
  const queue = options.queue ?? DEFAULT_QUEUE_NAME;
  if (typeof queue !== 'string' || queue.length === 0) problems.push(`queue must be a non-empty string, got ${JSON.stringify(queue)}`);
  for (const name of queues) {
    if (typeof name !== 'string' || name.length === 0) problems.push(`queues must hold non-empty strings, got ${JSON.stringify(name)}`);
  }

  let worker: ResolvedDelayedOptions['worker'] = false;
  if (options.worker !== false) {
    const given = options.worker ?? {};
    if (typeof given !== 'object' || given === null) {
      problems.push('worker must be an options object or false');
    } else {
      unknownKeys(given, WORKER_KEYS, 'worker.', problems);
      worker = {
        concurrency: given.concurrency ?? DEFAULT_CONCURRENCY,
        queues: given.queues,
        keepAliveInterval: given.keepAliveInterval ?? DEFAULT_KEEP_ALIVE_INTERVAL,
        keepAliveTimeout: given.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT,
        dequeueTimeout: given.dequeueTimeout ?? DEFAULT_DEQUEUE_TIMEOUT,
        shutdownTimeout: given.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT,
      };
      if (!Number.isInteger(worker.concurrency) || worker.concurrency < 1) {
        problems.push(`worker.concurrency must be a positive integer, got ${String(worker.concurrency)}`);
      }
      for (const key of ['keepAliveInterval', 'keepAliveTimeout', 'dequeueTimeout', 'shutdownTimeout'] as const) {
        positiveDuration(worker[key], `worker.${key}`, problems);
      }
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

  let sweeper: ResolvedDelayedOptions['sweeper'] = false;
  if (options.sweeper !== false) {
    const given = options.sweeper ?? {};
    unknownKeys(given, ['interval'], 'sweeper.', problems);
    sweeper = { interval: given.interval ?? DEFAULT_SWEEP_INTERVAL };
    positiveDuration(sweeper.interval, 'sweeper.interval', problems);
  }

  let deadLetter: ResolvedDelayedOptions['deadLetter'] = false;
  if (options.deadLetter !== false) {
    const given = options.deadLetter ?? {};
    unknownKeys(given, ['maxLength'], 'deadLetter.', problems);
    deadLetter = { maxLength: given.maxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH };
    if (!Number.isInteger(deadLetter.maxLength) || deadLetter.maxLength < 1) {
      problems.push(`deadLetter.maxLength must be a positive integer, got ${String(deadLetter.maxLength)}`);
    }
  }

  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid DelayedModule options:\n- ${problems.join('\n- ')}`);
  }
  return { connection: options.connection, queue, queues: [...queues], worker, sweeper, deadLetter };
}

function unknownKeys(given: object, known: string[], prefix: string, problems: string[]): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) problems.push(`unknown option ${prefix}${key} (known: ${known.join(', ')})`);
  }
}

function positiveDuration(value: unknown, name: string, problems: string[]): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    problems.push(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
}
