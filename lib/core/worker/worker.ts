import { EventEmitter } from 'node:events';
import type { RedisClient } from '../redis/client.js';
import { DEFAULT_QUIT_TIMEOUT } from '../defaults.js';
import { DelayedError, InvalidOptionsError, ShutdownDeadlineError } from '../errors.js';
import { consoleLogger, type DelayedLogger, errorMessage } from '../logger.js';
import { resolveWorkerSettings, throwOnProblems, type WorkerSettings } from '../options.js';
import type { Queue } from '../queue/queue.js';
import {
  closeConnection,
  describeRedis,
  duplicateConnection,
  isCluster,
  whenReady,
  withinTimeout,
} from '../redis/connection.js';
import { Promoter } from '../maintenance/promoter.js';
import { ConnectionLoss } from '../redis/connection-loss.js';
import { assertWorkerCanRun } from '../redis/redis-version.js';
import { Fetcher } from './fetcher.js';
import type { HandlerRegistry } from './handler-registry.js';
import { ReleaseBatcher } from './release-batcher.js';
import { type Slot, SlotPool } from './slot-pool.js';
import type { TaskInstrument } from './task-instrument.js';
import { TaskRunner } from './task-runner.js';
import type { TaskEventSink, WorkerEvents, WorkerStateEvent } from './worker-events.js';
import { WorkerQueue } from './worker-queue.js';
import { hashTag } from '../protocol/hash-tag.js';

export interface WorkerOptions extends Partial<WorkerSettings> {
  /** Queues to serve, highest priority first. They must share one Redis server. */
  readonly queues: readonly Queue[];
  readonly handlers: HandlerRegistry;
  readonly logger?: DelayedLogger;
  /**
   * A hook around every handler call (tracing, say): it calls `run()` once and returns what
   * `run()` returned. See TaskInstrument.
   */
  readonly instrument?: TaskInstrument;
}

type State = 'new' | 'running' | 'stopping' | 'stopped' | 'closed';

/**
 * Runs tasks from one or more queues.
 *
 * One blocking connection waits for notifications, one command connection takes tasks,
 * several per round trip, and sends releases in batches (see Fetcher and ReleaseBatcher).
 * Each slot has its own worker id and liveness key, refreshed together in one pipeline, so
 * the processing hash keeps the protocol's one-task-per-id shape and any family member's
 * sweeper can judge each slot's liveness (see SlotPool). This class holds the lifecycle:
 * start, a graceful stop bounded by `shutdownTimeout`, going offline, and reconnects.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  private readonly settings: WorkerSettings;
  private readonly logger: DelayedLogger;
  private readonly commands: RedisClient;
  private readonly blocking: RedisClient;
  /** Hears wake-ups from other processes' schedules (see WakeListener). */
  private readonly subscriber: RedisClient;
  private readonly queues: readonly WorkerQueue[];
  private readonly pool: SlotPool;
  private readonly releases: ReleaseBatcher;
  private readonly runner: TaskRunner;
  private readonly fetcher: Fetcher;
  /** Moves the queues' scheduled tasks in when due, over the command connection. */
  private readonly promoter: Promoter;

  /** Tasks running now, and who waits for that number to reach zero. */
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private state: State = 'new';
  /** Whether the command connection was up when last seen; reconnects are logged once. */
  private online = false;
  private loop: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** Aborted when a graceful stop reaches its deadline with tasks still running. */
  private readonly shutdownDeadline = new AbortController();

  constructor(options: WorkerOptions) {
    super();
    // Several parts listen at once (metrics, event decorators, publishers): no leak warning.
    this.setMaxListeners(0);
    const problems: string[] = [];
    if (options.queues.length === 0) problems.push('a worker needs at least one queue');
    this.settings = resolveWorkerSettings(options, '', problems);
    throwOnProblems('worker options', problems);
    this.logger = options.logger ?? consoleLogger;

    const base = options.queues[0]!.redis;
    const idPrefix = isCluster(base) ? clusterIdPrefix(options.queues) : '';
    this.commands = duplicateConnection(base);
    this.blocking = duplicateConnection(base, { maxRetriesPerRequest: null });
    // Opened with the others, before start(): connecting is no part of a start's work.
    this.subscriber = duplicateConnection(base);
    for (const connection of [this.commands, this.blocking, this.subscriber]) {
      // ioredis retries on its own; without a listener it would print every attempt.
      connection.on('error', () => undefined);
    }
    this.commands.on('close', this.connectionLost);
    this.commands.on('ready', this.reconnected);
    const commandsLoss = new ConnectionLoss(this.commands);
    const closed = () => this.state === 'closed';

    this.queues = options.queues.map(
      (queue) => new WorkerQueue(queue, this.commands, this.settings.dequeueTimeout),
    );
    this.pool = new SlotPool(
      this.commands,
      this.settings.concurrency,
      this.settings.keepAliveTimeout,
      () => this.fetcher.nudge(),
      idPrefix,
    );
    this.releases = new ReleaseBatcher(this.commands, commandsLoss, this.pool, this.logger, closed);
    this.runner = new TaskRunner({
      handlers: options.handlers,
      logger: this.logger,
      events: this.sink,
      redis: this.commands,
      loss: commandsLoss,
      pool: this.pool,
      releases: this.releases,
      shutdownSignal: this.shutdownDeadline.signal,
      closed,
      instrument: options.instrument,
    });
    this.promoter = new Promoter(
      this.queues,
      this.logger,
      this.settings.redisTimeout,
      this.subscriber,
      (name) => {
        for (const queue of this.queues) if (queue.name === name) this.fetcher.resumed(queue);
      },
    );
    this.fetcher = new Fetcher({
      queues: this.queues,
      pool: this.pool,
      logger: this.logger,
      commands: this.commands,
      commandsLoss,
      blocking: this.blocking,
      blockingLoss: new ConnectionLoss(this.blocking),
      dequeueTimeout: this.settings.dequeueTimeout,
      fetching: () => this.state === 'running',
      mayStart: () => this.state === 'running' || this.state === 'stopping',
      freeCount: () => this.settings.concurrency - this.running,
      start: (queue, slot, bytes) => this.startTask(queue, slot, bytes),
    });
  }

  /** The worker ids of the slots right now (each is also a liveness key); up to 2 x concurrency. */
  get slotIds(): string[] {
    return this.pool.ids;
  }

  /** The names of the queues it serves, highest priority first. */
  get queueNames(): string[] {
    return this.queues.map((queue) => queue.name);
  }

  /** Tasks running right now. */
  get runningCount(): number {
    return this.running;
  }

  /**
   * Where the worker is in its life: new (not started), running (fetching), stopping
   * (draining), stopped (drained, still online), closed (offline).
   */
  get status(): 'new' | 'running' | 'stopping' | 'stopped' | 'closed' {
    return this.state;
  }

  /** Whether the worker is connected to Redis right now (false while it reconnects). */
  get connected(): boolean {
    return this.commands.status === 'ready' && this.blocking.status === 'ready';
  }

  /**
   * Claims the slots' liveness keys and starts fetching. Resolves once the worker is online;
   * rejects if Redis cannot be reached within `redisTimeout` (the worker is then closed).
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new DelayedError(`Worker cannot start: it is ${this.state}`);
    this.state = 'running';
    const { redisTimeout } = this.settings;
    try {
      await Promise.all([
        whenReady(this.commands, redisTimeout),
        whenReady(this.blocking, redisTimeout),
      ]);
      await withinTimeout(
        this.commands,
        (async () => {
          await assertWorkerCanRun(this.commands);
          await this.pool.claim();
        })(),
        redisTimeout,
        "the worker's start",
      );
    } catch (error) {
      // Nothing was fetched: no entry to clear, and liveness keys claimed so far expire on
      // their own. Closing the connections is all there is to do.
      this.state = 'closed';
      await this.closeConnections();
      throw error;
    }
    this.online = true;
    this.keepAliveTimer = setInterval(this.refreshLiveness, this.settings.keepAliveInterval);
    this.keepAliveTimer.unref();
    this.loop = this.fetcher.loop();
    this.promoter.start();
    this.tell('online', this.stateEvent());
  }

  /** The task runner's way to tell the worker's events (see tell). */
  private readonly sink: TaskEventSink = {
    emit: (event, ...args) => this.tell(event, ...args),
    listenerCount: (event) => this.listenerCount(event),
  };

  /**
   * Tells an event's listeners, each in turn: one that throws is logged and disturbs
   * neither the worker (a task, its start or its stop) nor the listeners after it.
   */
  private tell<K extends keyof WorkerEvents>(event: K, ...args: WorkerEvents[K]): void {
    const listeners = this.rawListeners(event) as ((...given: unknown[]) => unknown)[];
    for (const listener of listeners) {
      try {
        listener.apply(this, args);
      } catch (error) {
        this.logger.error(
          `A listener of the worker's "${event}" event threw: ${errorMessage(error)}`,
        );
      }
    }
  }

  /** What the worker's own events carry. */
  private stateEvent(): WorkerStateEvent {
    return {
      queues: this.queues.map((queue) => queue.name),
      redis: describeRedis(this.commands),
    };
  }

  /**
   * Stops fetching and lets running tasks finish, for at most `shutdownTimeout`. Tasks still
   * running then stay in the processing hash: once the worker is offline (close), any
   * family member's sweeper puts them back. Enqueueing elsewhere keeps working meanwhile.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.fetcher.interrupt();
    const promoterStopped = this.promoter.stop();
    const { shutdownTimeout } = this.settings;
    const deadline = Date.now() + shutdownTimeout;
    const draining = this.running;
    if (draining > 0) {
      this.logger.log(
        `Draining: waiting up to ${shutdownTimeout} ms for ${draining} running task(s)`,
      );
    }
    // The loop's last round may still start tasks: wait for it before looking at what runs.
    const finished = await waitUntil(
      (async () => {
        await this.loop;
        await this.allTasksEnded();
        return true;
      })(),
      deadline,
    );
    if (!finished) {
      this.shutdownDeadline.abort(
        new ShutdownDeadlineError(
          `The worker stopped: its shutdownTimeout (${shutdownTimeout} ms) is over`,
        ),
      );
    }
    this.releases.flush();
    await waitUntil(Promise.all([this.releases.settled(), promoterStopped]), deadline);
    if (finished && draining > 0) this.logger.log('Drained: every running task ended');
    if (!finished) {
      this.logger.warn(
        `Worker stopped with ${this.running} task(s) still running after ${shutdownTimeout} ms; they stay in processing and a sweeper will requeue them`,
      );
    }
    this.state = 'stopped';
  }

  /**
   * Goes offline and closes the worker's own connections: stops (if not stopped yet),
   * releases any stale entry of idle slots, deletes every slot's liveness key, quits.
   * Bounded in time even when Redis is unreachable.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await this.stop();
    this.state = 'closed';
    clearInterval(this.keepAliveTimer);
    // Idle and releasing slots hold nothing worth keeping: clear their entries (a release
    // that never got through included) before the ids go, or a sweeper would re-run finished
    // tasks. Running slots, and slots in a dequeue still unanswered at the deadline, may hold
    // a task: their entries stay for the sweeper.
    const settledIds = this.pool.settledIds();
    const offline = this.commands.multi();
    if (settledIds.length > 0) {
      for (const queue of this.queues) offline.hdel(queue.keys.processing, ...settledIds);
    }
    offline.del(...this.pool.ids);
    await waitUntil(
      offline.exec().catch((error) => {
        this.logger.warn(`Worker could not go offline cleanly: ${errorMessage(error)}`);
      }),
      Date.now() + DEFAULT_QUIT_TIMEOUT,
    );
    await this.closeConnections();
    this.tell('offline', this.stateEvent());
  }

  private async closeConnections(): Promise<void> {
    await Promise.all(
      [this.commands, this.blocking, this.subscriber].map((redis) => closeConnection(redis)),
    );
  }

  private readonly refreshLiveness = (): void => {
    // Disconnected: the commands would fail at once; the reconnect refreshes every id.
    if (this.state === 'closed' || this.commands.status !== 'ready') return;
    this.pool.refresh().catch((error) => {
      // A refused write (READONLY after a failover, OOM) lets the keys expire: a sweeper
      // elsewhere would then re-run tasks running here. Say so loudly.
      this.logger.warn(`Keep-alive failed: ${errorMessage(error)}`);
    });
  };

  private readonly connectionLost = (): void => {
    // Before start() is done (this.loop unset) a connection coming up is no reconnect.
    if (this.loop === undefined || !this.online || this.state === 'closed') return;
    this.online = false;
    this.logger.warn(
      `Lost the connection to Redis at ${describeRedis(this.commands)}; reconnecting`,
    );
    this.tell('disconnected', this.stateEvent());
  };

  private readonly reconnected = (): void => {
    if (this.loop === undefined || this.online || this.state === 'closed') return;
    this.online = true;
    this.logger.log(`Reconnected to Redis at ${describeRedis(this.commands)}`);
    this.tell('reconnected', this.stateEvent());
    // A restarted server may have lost the liveness keys: claim them again before the next
    // dequeue (sent on this connection, so it goes first), or a sweeper would take tasks
    // that are running here for the tasks of a dead worker.
    this.refreshLiveness();
    // Scheduled tasks that came due while Redis was away move in now, not at the next look.
    this.promoter.nudge();
  };

  private startTask(queue: WorkerQueue, slot: Slot, bytes: Buffer): void {
    slot.state = 'running';
    this.running++;
    this.runner.run(queue, slot, bytes).then(this.taskEnded, (error: unknown) => {
      this.runner.endedUnsettled(queue, slot, error);
      this.taskEnded();
    });
  }

  /** Bound once: no closure per task. */
  private readonly taskEnded = (): void => {
    this.running--;
    this.fetcher.nudge();
    if (this.running === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  };

  private allTasksEnded(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Resolves with the promise's value, or undefined once `deadline` (epoch ms) passes. */
async function waitUntil<T>(promise: Promise<T>, deadline: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The prefix of a cluster worker's slot ids: its queues' common hash tag in braces. One
 * BLPOP over several queues, and the transaction that takes a worker offline, must stay in
 * one slot: a worker serves queues of one tag, and its liveness keys carry that tag too.
 */
function clusterIdPrefix(queues: readonly Queue[]): string {
  const tags = new Set(queues.map((queue) => hashTag(queue.name)));
  if (tags.size > 1) {
    const names = queues.map((queue) => JSON.stringify(queue.name)).join(', ');
    throw new InvalidOptionsError(
      `worker options: on a Redis Cluster a worker serves queues of one hash tag (one slot), got ${names}; start one worker per tag (DelayedModule does this for you) or give the queues one tag, as in "{app}:emails" and "{app}:reports"`,
    );
  }
  return `{${[...tags][0]!}}`;
}
