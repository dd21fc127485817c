import {
  type ConnectionOption,
  connectionProblem,
  DEAD_LETTER_OPTIONS,
  type DeadLetterSettings,
  DEFAULT_QUEUE_NAME,
  type DurableOptions,
  type DurableSettings,
  describeValue,
  QUEUE_EVENT_NAMES,
  type QueueEventName,
  InvalidOptionsError,
  QUEUE_OPTIONS,
  type RateLimit,
  rateLimitProblems,
  resolveDurable,
  resolveSettings,
  resolveWorkerSettings,
  SWEEPER_OPTIONS,
  type SweeperSettings,
  WORKER_OPTIONS,
  type WorkerSettings,
} from './core/index.js';

/** Options of `DelayedModule.forRoot()`; every duration is in milliseconds. */
export interface DelayedModuleOptions {
  /**
   * A Redis URL; ioredis options (with `sentinels` and `name` for a primary behind
   * Sentinel); `{ clusterNodes, clusterOptions }` for a Redis Cluster; or your own ioredis
   * client, `Redis` or `Cluster` (never closed by the module). On a cluster every queue name
   * needs a hash tag, as in `{orders}`. Default: localhost:6379.
   */
  connection?: ConnectionOption;
  /**
   * Makes each enqueue, call and schedule of this app's queues wait until `replicas`
   * replicas hold it (WAIT, at most `timeout` ms), so a failover right after it resolves
   * cannot lose it; a NotReplicatedError says when fewer confirmed in time. `true` means
   * `{ replicas: 1, timeout: 1_000 }`. Default off.
   */
  durable?: boolean | DurableOptions;
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
  /**
   * Whether this process fires periodic and cron schedules (`@Every`, `@Cron`, and those
   * added at run time) of the queues its handlers serve, and writes the schedules its code
   * declares. Any number of processes may: each tick is enqueued once. Default: on where
   * the worker or the sweeper runs.
   */
  scheduler?: boolean | DelayedSchedulerOptions;
  /**
   * Rate limits by queue name: at most `max` tasks of the queue started in any window of
   * `window` ms, across every worker that has the same limit. Default none.
   */
  rateLimits?: Record<string, RateLimit>;
  /**
   * Task events for other processes: `publish: true` (or a list of event names) makes this
   * app's worker publish what becomes of its tasks on each queue's `N_events` Pub/Sub
   * channel, where `@OnQueueEvent` (or a QueueEvents) in any process hears them. Nothing is
   * stored in Redis. Default: not published.
   */
  events?: DelayedEventsOptions;
}

export interface DelayedEventsOptions {
  /** true: every event but `started`; a list: those events; false (default): none. */
  publish?: boolean | QueueEventName[];
}

export interface DelayedSchedulerOptions {
  /**
   * More queues whose schedules this app fires, besides the queues its handlers serve: a
   * queue only Python or Go workers serve, whose schedules `setTask` adds. Default none.
   */
  queues?: string[];
  /**
   * Remove, at boot, schedules declared in code (by a decorator) on this app's queues that
   * this app no longer declares. Default false: they are reported in the log and keep
   * firing until removed (another app sharing the queue, or an instance of the previous
   * version during a rolling deploy, may still declare them).
   */
  removeUndeclared?: boolean;
}

/** The worker's settings (declared once, in the engine: see WorkerSettings), and the queues it serves. */
export type DelayedWorkerOptions = Partial<Omit<WorkerSettings, 'redisTimeout'>> & {
  /** Queues served, highest priority first. Default: every queue a `@Task()` handler serves, the default queue first. */
  queues?: string[];
};

export type DelayedSweeperOptions = Partial<SweeperSettings>;

export type DelayedDeadLetterOptions = Partial<DeadLetterSettings>;

/** Options with every default applied, as the module uses them. */
export interface ResolvedDelayedOptions {
  readonly connection: ConnectionOption | undefined;
  readonly queue: string;
  readonly queues: readonly string[];
  readonly redisTimeout: number;
  readonly worker:
    false | (Omit<WorkerSettings, 'redisTimeout'> & { queues: string[] | undefined });
  readonly sweeper: false | SweeperSettings;
  readonly deadLetter: false | DeadLetterSettings;
  readonly durable: DurableSettings | undefined;
  readonly scheduler: false | { readonly queues: string[]; readonly removeUndeclared: boolean };
  readonly rateLimits: Readonly<Record<string, RateLimit>>;
  readonly events: { readonly publish: boolean | readonly QueueEventName[] };
}

const TOP_LEVEL = [
  'connection',
  'queue',
  'worker',
  'sweeper',
  'deadLetter',
  'durable',
  'scheduler',
  'rateLimits',
  'events',
  ...Object.keys(QUEUE_OPTIONS),
];
const WORKER_KEYS = [
  ...Object.keys(WORKER_OPTIONS).filter((key) => key !== 'redisTimeout'),
  'queues',
];
/** Settings of the module itself, given beside the options, never inside them. */
const EXTRAS = ['queues', 'dataQueues', 'isGlobal'];

/** Applies the defaults once and rejects what cannot work, naming each problem. */
export function resolveOptions(
  options: DelayedModuleOptions,
  queues: readonly string[] = [],
): ResolvedDelayedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(
      `DelayedModule options must be an object, got ${describeValue(options)}`,
    );
  }
  const problems: string[] = [];
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
  if (typeof queue !== 'string' || queue.length === 0) {
    problems.push(`queue must be a non-empty string, got ${describeValue(queue)}`);
  }
  for (const name of queues) {
    if (typeof name !== 'string' || name.length === 0) {
      problems.push(`queues must hold non-empty strings, got ${describeValue(name)}`);
    }
  }
  const { redisTimeout } = resolveSettings(QUEUE_OPTIONS, options, '', problems);
  const durable = resolveDurable(options.durable, problems);

  let worker: ResolvedDelayedOptions['worker'] = false;
  if (options.worker !== undefined && options.worker !== false) {
    const given = options.worker === true ? {} : options.worker;
    if (typeof given !== 'object' || given === null) {
      problems.push(`worker must be true, false or an options object, got ${describeValue(given)}`);
    } else {
      unknownKeys(given, WORKER_KEYS, 'worker.', problems);
      // redisTimeout is the module's, checked above: the worker's check gets a valid stand-in,
      // so that a bad value is reported once, as redisTimeout, and never as worker.redisTimeout.
      const { redisTimeout: _, ...settings } = resolveWorkerSettings(
        { ...given, redisTimeout: WORKER_OPTIONS.redisTimeout.default },
        'worker.',
        problems,
      );
      worker = { ...settings, queues: given.queues };
      for (const name of Array.isArray(given.queues) ? given.queues : []) {
        if (typeof name !== 'string' || name.length === 0) {
          problems.push(`worker.queues must hold non-empty strings, got ${describeValue(name)}`);
        }
      }
      if (
        given.queues !== undefined &&
        (!Array.isArray(given.queues) || given.queues.length === 0)
      ) {
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
      problems.push(
        `sweeper must be true, false or an options object, got ${describeValue(given)}`,
      );
    } else {
      unknownKeys(given, Object.keys(SWEEPER_OPTIONS), 'sweeper.', problems);
      sweeper = resolveSettings(SWEEPER_OPTIONS, given, 'sweeper.', problems);
    }
  }

  let deadLetter: ResolvedDelayedOptions['deadLetter'] = false;
  if (options.deadLetter !== false) {
    const given = options.deadLetter ?? {};
    unknownKeys(given, Object.keys(DEAD_LETTER_OPTIONS), 'deadLetter.', problems);
    deadLetter = resolveSettings(DEAD_LETTER_OPTIONS, given, 'deadLetter.', problems);
  }

  // Schedules are fired where tasks are run or recovered, unless asked otherwise.
  let scheduler: ResolvedDelayedOptions['scheduler'] = false;
  const fires =
    options.scheduler === undefined
      ? worker !== false || sweeper !== false
      : options.scheduler !== false;
  if (fires) {
    const given =
      options.scheduler === undefined || options.scheduler === true ? {} : options.scheduler;
    if (typeof given !== 'object' || given === null) {
      problems.push(
        `scheduler must be true, false or an options object, got ${describeValue(given)}`,
      );
    } else {
      unknownKeys(given, ['queues', 'removeUndeclared'], 'scheduler.', problems);
      const { removeUndeclared = false, queues: more = [] } = given;
      if (typeof removeUndeclared !== 'boolean') {
        problems.push(
          `scheduler.removeUndeclared must be true or false, got ${describeValue(removeUndeclared)}`,
        );
      }
      if (!Array.isArray(more) || more.some((name) => typeof name !== 'string' || name === '')) {
        problems.push('scheduler.queues must be an array of non-empty queue names');
      }
      scheduler = { removeUndeclared, queues: Array.isArray(more) ? [...more] : [] };
    }
  }

  const rateLimits = options.rateLimits ?? {};
  if (rateLimits === null || typeof rateLimits !== 'object' || Array.isArray(rateLimits)) {
    problems.push('rateLimits must be an object of queue name -> { max, window }');
  } else {
    for (const [name, limit] of Object.entries(rateLimits)) {
      problems.push(...rateLimitProblems(limit, `rateLimits.${name}`));
    }
  }

  const events = options.events ?? {};
  let publish: ResolvedDelayedOptions['events']['publish'] = false;
  if (events === null || typeof events !== 'object' || Array.isArray(events)) {
    problems.push(`events must be an object like { publish: true }, got ${describeValue(events)}`);
  } else {
    unknownKeys(events, ['publish'], 'events.', problems);
    const given = events.publish ?? false;
    if (typeof given === 'boolean') publish = given;
    else if (
      Array.isArray(given) &&
      given.every((name) => (QUEUE_EVENT_NAMES as readonly unknown[]).includes(name))
    ) {
      publish = [...given];
    } else {
      problems.push(
        `events.publish must be true, false or a list of ${QUEUE_EVENT_NAMES.join(', ')}, got ${describeValue(given)}`,
      );
    }
  }

  if (problems.length > 0) {
    throw new InvalidOptionsError(`Invalid DelayedModule options:\n- ${problems.join('\n- ')}`);
  }
  return {
    connection: options.connection,
    queue,
    queues: [...queues],
    redisTimeout,
    worker,
    sweeper,
    deadLetter,
    durable,
    scheduler,
    rateLimits: { ...rateLimits },
    events: { publish },
  };
}

function unknownKeys(
  given: object,
  known: string[],
  prefix: string,
  problems: string[],
  reported: string[] = [],
): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key) && !reported.includes(key)) {
      problems.push(`unknown option ${prefix}${key} (known: ${known.join(', ')})`);
    }
  }
}
