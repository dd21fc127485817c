import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { decodeTask, encodeRetry } from './codec.js';
import { closeConnection, describeRedis, duplicateConnection, whenReady, withinTimeout } from './connection.js';
import { ConnectionLoss } from './connection-loss.js';
import type { NewDeadLetter } from './dead-letters.js';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DEQUEUE_TIMEOUT,
  DEFAULT_ERROR_BACKOFF,
  DEFAULT_KEEP_ALIVE_INTERVAL,
  DEFAULT_KEEP_ALIVE_TIMEOUT,
  DEFAULT_QUIT_TIMEOUT,
  DEFAULT_REDIS_TIMEOUT,
  DEFAULT_SHUTDOWN_TIMEOUT,
} from './defaults.js';
import { InvalidOptionsError, ShutdownDeadlineError } from './errors.js';
import type { HandlerRegistry } from './handler-registry.js';
import { consoleLogger, type DelayedLogger, errorMessage } from './logger.js';
import type { Queue } from './queue.js';
import { assertWorkerCanRun } from './redis-version.js';
import { runInTaskContext, type TaskContext } from './task-context.js';
import type { DecodedPyTask } from './task.js';
import { newWorkerId } from './worker-id.js';

export interface WorkerOptions {
  /** Queues to serve, highest priority first. They must share one Redis server. */
  readonly queues: readonly Queue[];
  readonly handlers: HandlerRegistry;
  /** Tasks run at once, each in its own slot with its own worker id. Default 1. */
  readonly concurrency?: number;
  /** How often the slots' liveness keys are refreshed (ms). Default 15,000. */
  readonly keepAliveInterval?: number;
  /** Lifetime of a liveness key without refresh (ms). Default 60,000. */
  readonly keepAliveTimeout?: number;
  /** Longest single wait for a notification (ms). Default 1,000. */
  readonly dequeueTimeout?: number;
  /** How long a graceful stop waits for running tasks (ms). Default 10,000. */
  readonly shutdownTimeout?: number;
  /** How long start() waits for an unreachable Redis before it fails (ms). Default 5,000. */
  readonly redisTimeout?: number;
  readonly logger?: DelayedLogger;
}

/** What became of one task, as reported by the worker's events. */
export interface TaskEvent {
  readonly queue: string;
  /** The handler name or function path; null when the bytes could not be read. */
  readonly funcPath: string | null;
  readonly slotId: string;
}

export interface TaskFailedEvent extends TaskEvent {
  readonly error: unknown;
  /**
   * retried: back in the queue; buried: a dead letter; dropped: logged and released;
   * interrupted: it ended after the shutdown deadline aborted it, and stays recorded for a
   * sweeper to run again.
   */
  readonly outcome: 'retried' | 'buried' | 'dropped' | 'interrupted';
}

export interface WorkerEvents {
  completed: [TaskEvent];
  failed: [TaskFailedEvent];
}

/** One concurrent execution place. Its id is its worker id in the delayed protocol. */
interface Slot {
  id: string;
  /** `id` as bytes, cached: ioredis writes Buffers without converting them. */
  key: Buffer;
  /**
   * idle: free, holds nothing. fetching: its id is in a dequeue whose reply has not come, so
   * a task may be recorded under it at any moment. running: its task runs. releasing: its
   * task finished and the HDEL that ends it is not confirmed yet; the slot is reused only
   * once it is, so a lost HDEL can never leave a finished task behind under an id that later
   * gets retired.
   */
  state: 'idle' | 'fetching' | 'running' | 'releasing';
}

type State = 'new' | 'running' | 'stopping' | 'stopped' | 'closed';

/**
 * Runs tasks from one or more queues.
 *
 * One blocking connection waits for notifications (a single BLPOP over every queue's
 * notification list, so the first queue listed wins when several have work); one command
 * connection takes tasks, several per round trip, and sends releases in batches. Each slot
 * has its own worker id and liveness key, refreshed together in one pipeline, so the
 * processing hash keeps the protocol's one-task-per-id shape and any family member's
 * sweeper can judge each slot's liveness.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  private readonly queues: readonly Queue[];
  private readonly handlers: HandlerRegistry;
  private readonly logger: DelayedLogger;
  private readonly concurrency: number;
  private readonly keepAliveInterval: number;
  private readonly keepAliveTimeout: number;
  private readonly dequeueTimeout: number;
  private readonly shutdownTimeout: number;
  private readonly redisTimeout: number;

  private readonly commands: Redis;
  private readonly blocking: Redis;
  private readonly commandsLoss: ConnectionLoss;
  private readonly blockingLoss: ConnectionLoss;
  private readonly queueByNotificationKey = new Map<string, Queue>();
  private readonly notificationKeys: string[];

  /**
   * Every slot id this worker holds, up to twice `concurrency`: a slot whose release is not
   * confirmed yet cannot take a task, so a spare id lets the next dequeue go out at once
   * instead of one round trip later.
   */
  private readonly slots: Slot[] = [];
  private readonly idleSlots: Slot[] = [];
  private readonly maxSlots: number;
  /** Tasks running now, and who waits for that number to reach zero. */
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly pendingReleases = new Map<Queue, Slot[]>();
  private releaseFlushScheduled = false;
  private readonly releasing = new Set<Promise<void>>();

  private state: State = 'new';
  /** Whether the command connection was up when last seen; reconnects are logged once. */
  private online = false;
  private loop: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private blockingClientId: number | undefined;
  private wake: (() => void) | undefined;
  /** Aborted when a graceful stop reaches its deadline with tasks still running. */
  private readonly shutdownDeadline = new AbortController();

  constructor(options: WorkerOptions) {
    super();
    this.queues = options.queues;
    this.handlers = options.handlers;
    this.logger = options.logger ?? consoleLogger;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.keepAliveInterval = options.keepAliveInterval ?? DEFAULT_KEEP_ALIVE_INTERVAL;
    this.keepAliveTimeout = options.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT;
    this.dequeueTimeout = options.dequeueTimeout ?? DEFAULT_DEQUEUE_TIMEOUT;
    this.shutdownTimeout = options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    this.redisTimeout = options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT;
    validateWorkerOptions({
      queues: this.queues,
      concurrency: this.concurrency,
      keepAliveInterval: this.keepAliveInterval,
      keepAliveTimeout: this.keepAliveTimeout,
      dequeueTimeout: this.dequeueTimeout,
      shutdownTimeout: this.shutdownTimeout,
      redisTimeout: this.redisTimeout,
    });

    const base = this.queues[0]!.redis;
    this.commands = duplicateConnection(base);
    this.blocking = duplicateConnection(base, { maxRetriesPerRequest: null });
    this.commandsLoss = new ConnectionLoss(this.commands);
    this.blockingLoss = new ConnectionLoss(this.blocking);
    this.blocking.on('ready', () => {
      this.blocking.client('ID').then(
        (id) => (this.blockingClientId = Number(id)),
        () => (this.blockingClientId = undefined),
      );
    });
    for (const connection of [this.commands, this.blocking]) {
      // ioredis retries on its own; without a listener it would print every attempt.
      connection.on('error', () => undefined);
    }
    this.commands.on('close', () => {
      if (!this.online || this.state === 'closed') return;
      this.online = false;
      this.logger.warn(`Lost the connection to Redis at ${describeRedis(this.commands)}; reconnecting`);
    });
    this.commands.on('ready', () => {
      if (this.online || this.state === 'new' || this.state === 'closed') return;
      this.online = true;
      this.logger.log(`Reconnected to Redis at ${describeRedis(this.commands)}`);
      // A restarted server may have lost the liveness keys: claim them again before the
      // next dequeue (sent on this connection, so it goes first), or a sweeper would take
      // tasks that are running here for the tasks of a dead worker.
      this.refreshLiveness();
    });
    this.queues = this.queues.map((queue) => queue.on(this.commands));
    for (const queue of this.queues) {
      this.queueByNotificationKey.set(queue.keys.notifications, queue);
    }
    this.notificationKeys = this.queues.map((queue) => queue.keys.notifications);
    this.maxSlots = 2 * this.concurrency;
    for (let i = 0; i < this.concurrency; i++) {
      const slot = newSlot();
      this.slots.push(slot);
      this.idleSlots.push(slot);
    }
  }

  /** The worker ids of the slots right now (each is also a liveness key); up to 2 x concurrency. */
  get slotIds(): string[] {
    return this.slots.map((slot) => slot.id);
  }

  /** Tasks running right now. */
  get runningCount(): number {
    return this.running;
  }

  /**
   * Claims the slots' liveness keys and starts fetching. Resolves once the worker is online;
   * rejects if Redis cannot be reached (the worker is then closed and can be started anew).
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`Worker cannot start: it is ${this.state}`);
    this.state = 'running';
    try {
      await Promise.all([whenReady(this.commands, this.redisTimeout), whenReady(this.blocking, this.redisTimeout)]);
      await withinTimeout(
        this.commands,
        (async () => {
          await assertWorkerCanRun(this.commands);
          await this.claimSlotIds();
        })(),
        this.redisTimeout,
        "the worker's start",
      );
    } catch (error) {
      // Nothing was fetched: no entry to clear, and liveness keys claimed so far expire on
      // their own. Closing the connections is all there is to do.
      this.state = 'closed';
      await Promise.all([closeConnection(this.commands), closeConnection(this.blocking)]);
      throw error;
    }
    this.online = true;
    this.keepAliveTimer = setInterval(() => this.refreshLiveness(), this.keepAliveInterval);
    this.keepAliveTimer.unref();
    this.loop = this.fetchLoop();
  }

  /**
   * Stops fetching and lets running tasks finish, for at most `shutdownTimeout`. Tasks still
   * running then stay in the processing hash: once the worker is offline (close), any
   * family member's sweeper puts them back. Enqueueing elsewhere keeps working meanwhile.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.interruptFetching();
    const deadline = Date.now() + this.shutdownTimeout;
    const draining = this.running;
    if (draining > 0) {
      this.logger.log(`Draining: waiting up to ${this.shutdownTimeout} ms for ${draining} running task(s)`);
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
        new ShutdownDeadlineError(`The worker stopped: its shutdownTimeout (${this.shutdownTimeout} ms) is over`),
      );
    }
    this.flushReleases();
    await waitUntil(Promise.all(this.releasing), deadline);
    if (finished && draining > 0) this.logger.log('Drained: every running task ended');
    if (!finished) {
      this.logger.warn(
        `Worker stopped with ${this.running} task(s) still running after ${this.shutdownTimeout} ms; they stay in processing and a sweeper will requeue them`,
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
    const idleIds = this.slots
      .filter((slot) => slot.state === 'idle' || slot.state === 'releasing')
      .map((slot) => slot.id);
    const offline = this.commands.multi();
    if (idleIds.length > 0) {
      for (const queue of this.queues) offline.hdel(queue.keys.processing, ...idleIds);
    }
    offline.del(...this.slotIds);
    await waitUntil(
      offline.exec().catch((error) => {
        this.logger.warn(`Worker could not go offline cleanly: ${errorMessage(error)}`);
      }),
      Date.now() + DEFAULT_QUIT_TIMEOUT,
    );
    await Promise.all([closeConnection(this.commands), closeConnection(this.blocking)]);
  }

  private async claimSlotIds(): Promise<void> {
    let unclaimed = [...this.slots];
    while (unclaimed.length > 0) {
      const pipeline = this.commands.pipeline();
      for (const slot of unclaimed) pipeline.set(slot.id, '1', 'PX', this.keepAliveTimeout, 'NX');
      const results = (await pipeline.exec()) ?? [];
      const taken: Slot[] = [];
      results.forEach(([error, reply], i) => {
        if (error) throw error;
        if (reply !== 'OK') taken.push(unclaimed[i]!);
      });
      for (const slot of taken) renameSlot(slot);
      unclaimed = taken;
    }
  }

  private refreshLiveness(): void {
    // Disconnected: the commands would fail at once; the reconnect refreshes every id.
    if (this.state === 'closed' || this.commands.status !== 'ready') return;
    const pipeline = this.commands.pipeline();
    for (const slot of this.slots) pipeline.set(slot.id, '1', 'PX', this.keepAliveTimeout);
    pipeline.exec().catch((error) => {
      this.logger.warn(`Keep-alive failed: ${errorMessage(error)}`);
    });
  }

  private async fetchLoop(): Promise<void> {
    // While the queues had work last time, take tasks without blocking; once they ran dry,
    // block on the notifications until one arrives.
    let drained = false;
    while (this.state === 'running') {
      if (!this.connected()) {
        // Commands would fail at once (no offline queue): wait for the reconnect.
        await this.pause(DEFAULT_ERROR_BACKOFF / 10);
        continue;
      }
      const free = this.takeIdleSlots(this.concurrency - this.running);
      if (free.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        let taken = 0;
        if (!drained) {
          for (const queue of this.queues) {
            taken += await this.dequeueInto(queue, 0, free, taken);
            if (taken === free.length) break;
          }
          drained = taken < free.length;
        } else {
          const popped = await this.blockingLoss.guard(
            this.blocking.blpopBuffer(...this.notificationKeys, this.dequeueTimeout / 1000),
          );
          if (popped) {
            const queue = this.queueByNotificationKey.get(popped[0].toString())!;
            taken = await this.dequeueInto(queue, 1, free, 0);
            drained = taken < free.length;
          }
        }
        this.returnIdle(free.slice(taken));
      } catch (error) {
        // Slots an earlier queue filled before the error are running: give back the others.
        this.returnIdle(free.filter((slot) => slot.state === 'fetching'));
        if (this.state !== 'running') break;
        // A lost connection is logged once, by its 'close' handler; the loop waits above.
        if (!this.connected()) continue;
        this.logger.error(`Fetching tasks failed: ${errorMessage(error)}; retrying`);
        await this.pause(DEFAULT_ERROR_BACKOFF);
      }
    }
  }

  private connected(): boolean {
    return this.commands.status === 'ready' && this.blocking.status === 'ready';
  }

  /**
   * Up to `count` idle slots, marked fetching, adding new ids to the pool while it is below
   * its bound.
   */
  private takeIdleSlots(count: number): Slot[] {
    if (count <= 0) return [];
    const slots = this.idleSlots.splice(0, count);
    while (slots.length < count && this.slots.length < this.maxSlots) {
      const slot = newSlot();
      this.slots.push(slot);
      slots.push(slot);
      // Sent before the dequeue that uses the id, on the same connection: the liveness key
      // always exists before a processing entry names it.
      this.commands.set(slot.id, '1', 'PX', this.keepAliveTimeout).catch(() => undefined);
    }
    for (const slot of slots) slot.state = 'fetching';
    return slots;
  }

  /** Slots a dequeue did not fill, back to idle. */
  private returnIdle(slots: readonly Slot[]): void {
    for (const slot of slots) slot.state = 'idle';
    this.idleSlots.push(...slots);
  }

  /** Dequeues into `free[from..]`, starts the tasks, and returns how many it took. */
  private async dequeueInto(queue: Queue, held: 0 | 1, free: Slot[], from: number): Promise<number> {
    const slots = free.slice(from);
    let tasks: Buffer[];
    try {
      tasks = await this.commandsLoss.guard(
        queue.dequeue(
          held,
          slots.map((slot) => slot.key),
        ),
      );
    } catch (error) {
      // The script may have run and recorded tasks under these ids without us hearing of
      // it. Never reuse the ids: left unrefreshed, their liveness keys expire and a sweeper
      // puts whatever they hold back into the queue.
      this.retireSlotIds(slots);
      throw error;
    }
    if (this.state !== 'running' && this.state !== 'stopping') {
      // The reply came after the drain's deadline: the worker is going offline and will not
      // see these tasks through. They stay in processing, their slots stay "fetching" (never
      // cleared), and once the ids are gone a sweeper puts them back.
      return tasks.length;
    }
    for (let i = 0; i < tasks.length; i++) this.startTask(queue, slots[i]!, tasks[i]!);
    return tasks.length;
  }

  private retireSlotIds(slots: readonly Slot[]): void {
    for (const slot of slots) renameSlot(slot);
    const pipeline = this.commands.pipeline();
    for (const slot of slots) pipeline.set(slot.id, '1', 'PX', this.keepAliveTimeout);
    pipeline.exec().catch(() => undefined);
  }

  private startTask(queue: Queue, slot: Slot, bytes: Buffer): void {
    slot.state = 'running';
    this.running++;
    void this.runTask(queue, slot, bytes).then(this.taskEnded, (error: unknown) => {
      this.endedUnsettled(queue, slot, error);
      this.taskEnded();
    });
  }

  /**
   * The last resort when ending a task threw before its outcome was written (a defect, not a
   * Redis error: those are handled in settle). The task stays recorded under the slot's id;
   * the slot takes a new id, so the old one expires and a sweeper runs the task again, and
   * the slot serves the next task instead of being held for ever.
   */
  private endedUnsettled(queue: Queue, slot: Slot, error: unknown): void {
    const unsettled = slot.state === 'running';
    if (unsettled) {
      this.retireSlotIds([slot]);
      this.freeSlot(slot);
    }
    try {
      this.logger.error(
        `Ending a task on queue "${queue.name}" failed: ${errorMessage(error)}${unsettled ? '; a sweeper will requeue it' : ''}`,
        error instanceof Error ? error.stack : undefined,
      );
    } catch {
      // The logger itself may be what threw; there is nobody left to tell.
    }
  }

  /** Bound once: no closure per task. */
  private readonly taskEnded = (): void => {
    this.running--;
    this.wake?.();
    if (this.running === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  };

  private allTasksEnded(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async runTask(queue: Queue, slot: Slot, bytes: Buffer): Promise<void> {
    let task: DecodedPyTask;
    try {
      const decoded = decodeTask(bytes);
      if (decoded.kind === 'go') {
        return this.bury(queue, slot, {
          task: bytes,
          reason: 'unknown-handler',
          funcPath: decoded.funcPath,
          error: `"${decoded.funcPath}" is a Go task; Node workers run PyTask-shaped tasks named after a registered handler`,
        });
      }
      task = decoded;
    } catch (error) {
      return this.bury(queue, slot, {
        task: bytes,
        reason: 'undecodable',
        funcPath: null,
        error: errorMessage(error),
      });
    }
    const handler = this.handlers.get(task.funcPath);
    if (handler === undefined) {
      return this.bury(queue, slot, {
        task: bytes,
        reason: 'unknown-handler',
        funcPath: task.funcPath,
        error: `No handler named "${task.funcPath}" is registered on this worker`,
      });
    }
    const context: TaskContext = {
      queue: queue.name,
      name: task.funcPath,
      workerId: slot.id,
      retriesLeft: task.retry,
      signal: this.shutdownDeadline.signal,
    };
    try {
      const result = runInTaskContext(context, handler, hasKeys(task.kwargs) ? [...task.args, task.kwargs] : task.args);
      // A sync handler's result is not awaited: that saves a turn of the microtask queue.
      if (isPromiseLike(result)) await result;
    } catch (error) {
      if (context.signal.aborted) return this.interrupted(queue, slot, task, error);
      return this.fail(queue, slot, task, bytes, error);
    }
    this.scheduleRelease(queue, slot);
    if (this.listenerCount('completed') > 0) {
      this.emit('completed', { queue: queue.name, funcPath: task.funcPath, slotId: slot.id });
    }
  }

  /**
   * A task that ended with an error after the shutdown deadline aborted it was stopped, not
   * failed: no retry is spent and no dead letter written. Its slot keeps it recorded (the
   * slot is never reused, the worker is stopping), so once the worker is offline a sweeper
   * runs it again from the start.
   */
  private interrupted(queue: Queue, slot: Slot, task: DecodedPyTask, error: unknown): void {
    this.logger.warn(
      `Task "${task.funcPath}" on queue "${queue.name}" was interrupted by the shutdown deadline (${errorMessage(error)}); a sweeper will run it again`,
    );
    this.emit('failed', { queue: queue.name, funcPath: task.funcPath, slotId: slot.id, error, outcome: 'interrupted' });
  }

  private async fail(
    queue: Queue,
    slot: Slot,
    task: DecodedPyTask,
    bytes: Buffer,
    error: unknown,
  ): Promise<void> {
    if (task.retry === 0) {
      return this.bury(queue, slot, {
        task: bytes,
        reason: 'failed',
        funcPath: task.funcPath,
        error: errorMessage(error),
      }, error);
    }
    let nextAttempt: Buffer;
    try {
      nextAttempt = encodeRetry(task, bytes);
    } catch (encodeError) {
      // Bytes read fine but cannot be written back (nested deeper than the peers allow, say):
      // the task cannot be retried, so it ends here, as a dead letter.
      return this.bury(
        queue,
        slot,
        {
          task: bytes,
          reason: 'failed',
          funcPath: task.funcPath,
          error: `${errorMessage(error)} (not retried: its next attempt cannot be encoded: ${errorMessage(encodeError)})`,
        },
        error,
      );
    }
    const left = task.retry < 0 ? 'for ever' : `${task.retry} more time(s)`;
    this.logger.warn(`Task "${task.funcPath}" failed, retrying ${left}: ${errorMessage(error)}`);
    await this.settle(slot, () => queue.retry(slot.id, nextAttempt));
    this.emit('failed', { queue: queue.name, funcPath: task.funcPath, slotId: slot.id, error, outcome: 'retried' });
  }

  /** Gives up on a task: a dead letter (or a logged drop) and a released slot. */
  private async bury(queue: Queue, slot: Slot, letter: NewDeadLetter, error?: unknown): Promise<void> {
    const kept = queue.deadLetterMaxLength > 0;
    this.logger.error(
      `Task ${letter.funcPath === null ? '(unreadable)' : `"${letter.funcPath}"`} on queue "${queue.name}" ${kept ? 'moved to dead letters' : 'dropped'} (${letter.reason}): ${letter.error}`,
      error instanceof Error ? error.stack : undefined,
    );
    await this.settle(slot, () => queue.bury(slot.id, letter));
    this.emit('failed', {
      queue: queue.name,
      funcPath: letter.funcPath,
      slotId: slot.id,
      error: error ?? new Error(letter.error),
      outcome: kept ? 'buried' : 'dropped',
    });
  }

  /**
   * Frees a slot once the write that ends its task is done. If that write failed, its
   * outcome is unknown and the processing entry may still hold the task: the slot takes a
   * new id, so the old entry is left to the sweeper instead of being overwritten.
   */
  private async settle(slot: Slot, write: () => Promise<unknown>): Promise<void> {
    // Disconnected: wait for the reconnect rather than fail at once, so a blip does not turn
    // an outcome into a re-run. A worker that closes meanwhile leaves the task recorded.
    while (this.commands.status !== 'ready') {
      if (this.state === 'closed') return;
      await sleep(DEFAULT_ERROR_BACKOFF / 10);
    }
    try {
      await this.commandsLoss.guard(write());
    } catch (error) {
      this.logger.error(`Could not record a task's outcome: ${errorMessage(error)}; a sweeper will requeue it`);
      this.retireSlotIds([slot]);
    }
    this.freeSlot(slot);
  }

  /**
   * Releases are batched: every slot finished in one turn of the event loop is released by
   * one HDEL per queue. A slot is reused only after its HDEL is confirmed; a failed HDEL is
   * sent again (it is idempotent) until it gets through or the worker closes.
   */
  private scheduleRelease(queue: Queue, slot: Slot): void {
    slot.state = 'releasing';
    const batch = this.pendingReleases.get(queue);
    if (batch) batch.push(slot);
    else this.pendingReleases.set(queue, [slot]);
    if (!this.releaseFlushScheduled) {
      this.releaseFlushScheduled = true;
      setImmediate(() => this.flushReleases());
    }
  }

  private flushReleases(): void {
    this.releaseFlushScheduled = false;
    for (const [queue, slots] of this.pendingReleases) this.release(queue, slots);
    this.pendingReleases.clear();
  }

  private release(queue: Queue, slots: Slot[]): void {
    const ids = slots.map((slot) => slot.key);
    const done = (async () => {
      for (;;) {
        try {
          await this.commandsLoss.guard(queue.release(ids));
          break;
        } catch (error) {
          if (this.state === 'closed') return;
          // Disconnected: the loss is logged once elsewhere; wait for the reconnect quietly.
          if (this.commands.status === 'ready') this.logger.warn(`Release failed: ${errorMessage(error)}; trying again`);
          await sleep(DEFAULT_ERROR_BACKOFF / 10);
        }
      }
      for (const slot of slots) this.freeSlot(slot);
    })();
    this.releasing.add(done);
    done.finally(() => this.releasing.delete(done));
  }

  private freeSlot(slot: Slot): void {
    slot.state = 'idle';
    this.idleSlots.push(slot);
    this.wake?.();
  }

  private interruptFetching(): void {
    this.wake?.();
    this.wakePause?.();
    if (this.blockingClientId !== undefined && this.commands.status === 'ready') {
      // Ends the BLPOP now instead of at its timeout; it returns nil, so nothing is lost.
      this.commands.client('UNBLOCK', this.blockingClientId).catch(() => undefined);
    }
  }

  private wakePause: (() => void) | undefined;

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakePause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function renameSlot(slot: Slot): void {
  slot.id = newWorkerId();
  slot.key = Buffer.from(slot.id);
}

function newSlot(): Slot {
  const id = newWorkerId();
  return { id, key: Buffer.from(id), state: 'idle' };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const _ in record) return true;
  return false;
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

function validateWorkerOptions(worker: {
  queues: readonly Queue[];
  concurrency: number;
  keepAliveInterval: number;
  keepAliveTimeout: number;
  dequeueTimeout: number;
  shutdownTimeout: number;
  redisTimeout: number;
}): void {
  const problems: string[] = [];
  if (worker.queues.length === 0) problems.push('a worker needs at least one queue');
  if (!Number.isInteger(worker.concurrency) || worker.concurrency < 1) {
    problems.push(`concurrency must be a positive integer, got ${worker.concurrency}`);
  }
  for (const name of ['keepAliveInterval', 'keepAliveTimeout', 'dequeueTimeout', 'shutdownTimeout', 'redisTimeout'] as const) {
    const value = worker[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`${name} must be a positive number of milliseconds, got ${String(value)}`);
    }
  }
  if (worker.keepAliveInterval >= worker.keepAliveTimeout) {
    problems.push(
      `keepAliveInterval (${worker.keepAliveInterval} ms) must be shorter than keepAliveTimeout (${worker.keepAliveTimeout} ms), or liveness keys expire between refreshes`,
    );
  }
  if (problems.length > 0) throw new InvalidOptionsError(`Invalid worker options: ${problems.join('; ')}`);
}
