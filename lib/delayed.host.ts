import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { RedisClient } from './core/index.js';
import {
  closeConnection,
  type DataQueue,
  DelayedError,
  describeRedis,
  errorMessage,
  clusterNameProblem,
  type HandlerRegistry,
  hashTag,
  isCluster,
  Queue,
  RedisUnavailableError,
  Scheduler,
  Sweeper,
  type TaskInstrument,
  Worker,
  WorkerStartError,
} from './core/index.js';
import {
  DELAYED_CONNECTION,
  DELAYED_DATA_QUEUES,
  DELAYED_DECLARED_SCHEDULES,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from './delayed.constants.js';
import type { DeclaredSchedule } from './delayed.explorer.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';

export interface DelayedConnection {
  readonly redis: RedisClient;
  /** Whether the module opened it (and so closes it). A client you passed in is never closed. */
  readonly owned: boolean;
}

/**
 * Runs the worker, the sweeper and the scheduler along the app's lifecycle: they start once
 * every module is initialised (the schedules declared in code are written then); on
 * shutdown the scheduler stops firing and the worker stops fetching and drains first
 * (enqueueing still works meanwhile), then everything goes offline and the module's own
 * connection closes.
 */
@Injectable()
export class DelayedHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('DelayedModule');
  /**
   * The app's workers: one, or on a Redis Cluster one per hash tag of the queues served (a
   * worker's blocking pop and transactions stay in one slot).
   */
  private workers: Worker[] = [];
  private scheduler: Scheduler | undefined;
  private readonly workerListeners: ((worker: Worker) => void)[] = [];
  private readonly instruments: TaskInstrument[] = [];

  constructor(
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
    @Inject(DELAYED_CONNECTION) private readonly connection: DelayedConnection,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
    @Inject(Sweeper) private readonly sweeper: Sweeper,
    @Inject(DELAYED_DECLARED_SCHEDULES) private readonly declared: readonly DeclaredSchedule[],
    @Inject(DELAYED_DATA_QUEUES) private readonly dataQueues: readonly DataQueue<unknown>[],
  ) {}

  /** The running worker, if this app consumes (the first one, on a cluster with several). */
  get activeWorker(): Worker | undefined {
    return this.workers[0];
  }

  /** Every worker of this app: one, or one per hash tag on a Redis Cluster. */
  get activeWorkers(): readonly Worker[] {
    return this.workers;
  }

  /**
   * Calls `listener` with each of this app's workers once it is made, before it starts (so
   * its `online` event is heard), or at once for those made already. For modules that listen
   * to the worker's events (metrics, event decorators); call it before or during bootstrap.
   */
  onWorker(listener: (worker: Worker) => void): void {
    this.workerListeners.push(listener);
    for (const worker of this.workers) listener(worker);
  }

  /**
   * Adds a hook around every handler call of this app's worker (tracing). Must be called
   * before the app bootstraps (in `onModuleInit`); hooks run in the order added, the first
   * outermost.
   */
  addInstrument(instrument: TaskInstrument): void {
    if (this.workers.length > 0) {
      throw new DelayedError(
        'addInstrument() must be called before the worker starts (in onModuleInit)',
      );
    }
    this.instruments.push(instrument);
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.checkClusterNames();
    } catch (error) {
      // Nest runs no shutdown hook after a failed bootstrap: close the module's connection.
      await this.onApplicationShutdown();
      throw error;
    }
    await this.startWorker();
    // After the worker: a worker that cannot start fails the bootstrap, and no sweep is begun.
    if (this.options.sweeper !== false) {
      for (const name of this.handlers.queueNames()) {
        this.sweeper.add(
          new Queue(this.connection.redis, name, { redisTimeout: this.options.redisTimeout }),
        );
      }
      for (const queue of this.dataQueues) this.sweeper.addDataQueue(queue);
      this.sweeper.start();
    }
    await this.startScheduler();
  }

  /**
   * On a Redis Cluster every queue this app touches needs a hash tag: checked before anything
   * starts, so that a bad name fails the bootstrap with nothing left running.
   */
  private checkClusterNames(): void {
    if (!isCluster(this.connection.redis)) return;
    const scheduler = this.options.scheduler;
    const names = new Set([
      this.options.queue,
      ...this.handlers.queueNames(),
      ...(this.options.worker === false ? [] : (this.options.worker.queues ?? [])),
      ...this.declared.map((schedule) => schedule.queue),
      ...(scheduler === false ? [] : scheduler.queues),
    ]);
    const problems = [...names].flatMap((name) => clusterNameProblem('queue', name) ?? []);
    if (problems.length > 0) {
      throw new WorkerStartError(`nestjs-delayed: ${problems.join('; ')}`);
    }
  }

  /**
   * Writes the schedules this app's code declares (an unchanged one is left as it is, its
   * next tick included), reports or removes declared ones it no longer has, and starts
   * firing the schedules of its queues.
   */
  private async startScheduler(): Promise<void> {
    const settings = this.options.scheduler;
    if (settings === false) {
      if (this.declared.length > 0) {
        this.logger.log(
          `${this.declared.length} schedule(s) declared here, but this app does not fire schedules (scheduler off); the apps that do write and fire them`,
        );
      }
      return;
    }
    const names = new Set([
      ...this.handlers.queueNames(),
      ...this.declared.map((schedule) => schedule.queue),
      ...settings.queues,
    ]);
    const queues = [...names].map(
      (name) => new Queue(this.connection.redis, name, { redisTimeout: this.options.redisTimeout }),
    );
    try {
      for (const schedule of this.declared) {
        const queue = queues.find((known) => known.name === schedule.queue)!;
        const change = await queue.schedules.set(schedule.name, schedule.timing, schedule.task, {
          neverSkip: schedule.neverSkip,
          tickArg: true,
          declared: true,
        });
        if (change !== 'unchanged') {
          this.logger.log(`Schedule "${schedule.name}" on queue "${queue.name}" ${change}`);
        }
      }
    } catch (error) {
      await this.onApplicationShutdown();
      throw new WorkerStartError(
        `nestjs-delayed: the schedules declared in code could not be written: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    // Only a report (or a clean-up asked for): a failure is logged, it does not stop the app.
    for (const queue of queues) {
      try {
        await this.reportUndeclared(queue, settings.removeUndeclared);
      } catch (error) {
        this.logger.warn(
          `Could not check queue "${queue.name}" for schedules no longer declared: ${errorMessage(error)}`,
        );
      }
    }
    if (queues.length === 0) return;
    this.scheduler = new Scheduler({
      queues,
      logger: this.logger,
      redisTimeout: this.options.redisTimeout,
    });
    this.scheduler.start();
  }

  /** Declared schedules of a queue that this app's code no longer declares. */
  private async reportUndeclared(queue: Queue, remove: boolean): Promise<void> {
    for (const info of await queue.schedules.list()) {
      if (!info.declared) continue;
      if (this.declared.some((known) => known.name === info.name && known.queue === queue.name))
        continue;
      if (remove) {
        await queue.schedules.remove(info.name);
        this.logger.log(
          `Schedule "${info.name}" on queue "${queue.name}" removed: no longer declared in code`,
        );
      } else {
        this.logger.warn(
          `Schedule "${info.name}" on queue "${queue.name}" was declared in code but is not declared by this app; it keeps firing until removed (DelayedQueue.schedules.remove, or scheduler: { removeUndeclared: true })`,
        );
      }
    }
  }

  private async startWorker(): Promise<void> {
    const { worker: settings, deadLetter, redisTimeout } = this.options;
    if (settings === false) {
      if (this.handlers.size > 0) {
        this.logger.log(
          `This app only enqueues: ${this.handlers.size} @Task() handler(s) found, but the worker is off (set worker: true where tasks should run)`,
        );
      }
      return;
    }
    const queues = this.workerQueues();
    if (queues.length === 0) return;
    const instrument = composeInstruments(this.instruments);
    // Every queue first: a worker opens its connections when it is made, and one made before
    // a later queue's error would be left open.
    const groups = workerGroups(this.connection.redis, queues).map((group) =>
      group.map(
        (name) =>
          new Queue(this.connection.redis, name, {
            deadLetter,
            redisTimeout,
            rateLimit: this.options.rateLimits[name],
          }),
      ),
    );
    this.workers = groups.map(
      (group) =>
        new Worker({
          ...settings,
          redisTimeout,
          queues: group,
          handlers: this.handlers,
          logger: this.logger,
          instrument,
        }),
    );
    for (const worker of this.workers) {
      for (const listener of this.workerListeners) listener(worker);
    }
    const served = queues.map((name) => `"${name}"`).join(', ');
    for (const name of Object.keys(this.options.rateLimits)) {
      if (!queues.includes(name)) {
        this.logger.warn(
          `rateLimits names queue "${name}", which this worker does not serve (it serves ${served}); that limit does nothing here`,
        );
      }
    }
    // Every start settles before a failure is handled: a worker still starting would
    // otherwise be closed half-way and go on starting.
    const starts = await Promise.allSettled(this.workers.map((worker) => worker.start()));
    const failed = starts.find((start) => start.status === 'rejected');
    if (failed !== undefined) {
      const error: unknown = failed.reason;
      // Nest runs no shutdown hook after a failed bootstrap: stop what this host started and
      // close the module's own connection, whose reconnect attempts would otherwise keep the
      // process alive for ever.
      await this.onApplicationShutdown();
      this.workers = [];
      // A RedisUnavailableError names the address itself.
      const where =
        error instanceof RedisUnavailableError
          ? ''
          : `Redis at ${describeRedis(this.connection.redis)}: `;
      throw new WorkerStartError(
        `nestjs-delayed: the worker for ${served} could not start, ${where}${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    this.logger.log(
      this.workers.length === 1
        ? `Worker serving ${served} with ${settings.concurrency} slot(s) and ${this.handlers.size} handler(s)`
        : `${this.workers.length} workers (one per hash tag) serving ${served}, each with ${settings.concurrency} slot(s), and ${this.handlers.size} handler(s)`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    // No tick is enqueued once the app stops (another instance fires it).
    await this.scheduler?.stop();
    await Promise.all(this.workers.map((worker) => worker.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler?.stop();
    try {
      await Promise.all(this.workers.map((worker) => worker.close()));
    } catch (error) {
      this.logger.warn(`Shutdown was not clean: ${errorMessage(error)}`);
    }
    // Not after the sweeper's stop: a sweep waiting for an unreachable Redis ends as soon as
    // the connection closes, and a sweep in flight is answered before the QUIT behind it.
    const sweeperStopped = this.sweeper.stop();
    if (this.connection.owned) await closeConnection(this.connection.redis);
    await sweeperStopped;
  }

  /** The queues this app's worker serves: given ones, else those its handlers serve. */
  private workerQueues(): string[] {
    if (this.options.worker === false || this.handlers.size === 0) return [];
    const served = this.handlers.queueNames();
    const queues =
      this.options.worker.queues ??
      [this.options.queue, ...served.filter((name) => name !== this.options.queue)].filter((name) =>
        served.includes(name),
      );
    if (!queues.some((name) => served.includes(name))) {
      this.logger.warn(
        `No @Task() handler serves the worker's queues (${queues.join(', ')}); the worker is not started`,
      );
      return [];
    }
    return queues;
  }
}

/**
 * The queues each worker serves: all of them on one server; on a Redis Cluster, one group
 * per hash tag, in the order the queues were listed (so priorities hold within a group).
 */
function workerGroups(redis: RedisClient, queues: readonly string[]): string[][] {
  if (!isCluster(redis)) return [[...queues]];
  const groups = new Map<string | undefined, string[]>();
  for (const name of queues) {
    const tag = hashTag(name);
    const group = groups.get(tag);
    if (group) group.push(name);
    else groups.set(tag, [name]);
  }
  return [...groups.values()];
}

/** One hook made of several, the first outermost; undefined when there are none. */
function composeInstruments(instruments: readonly TaskInstrument[]): TaskInstrument | undefined {
  if (instruments.length === 0) return undefined;
  return instruments.reduceRight<TaskInstrument>(
    (inner, outer) => (task, run) => outer(task, () => inner(task, run)),
    (_task, run) => run(),
  );
}
