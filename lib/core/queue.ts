import type { Redis } from 'ioredis';
import { encodeTask } from './codec.js';
import { whenReady, withinTimeout } from './connection.js';
import { DEFAULT_DEAD_LETTER_MAX_LENGTH, DEFAULT_QUEUE_NAME, DEFAULT_REDIS_TIMEOUT } from './defaults.js';
import { DeadLetters, encodeDeadLetter, type NewDeadLetter } from './dead-letters.js';
import { InvalidOptionsError } from './errors.js';
import { type QueueKeys, queueKeys } from './keys.js';
import { scripts } from './scripts.js';
import type { Task } from './task.js';

export interface DeadLetterOptions {
  /** Dead letters kept; the oldest are trimmed beyond it. Default 10,000. */
  readonly maxLength?: number;
}

export interface QueueOptions {
  /**
   * Where tasks that cannot be run go. `false` drops them after logging (delayed's strict
   * "clean" behaviour). Default: on, bounded to 10,000 entries.
   */
  readonly deadLetter?: false | DeadLetterOptions;
  /**
   * How long an enqueue or a sweep waits for an unreachable Redis before it fails with a
   * RedisUnavailableError (ms). Default 5,000.
   */
  readonly redisTimeout?: number;
}

/** What a sweep of one queue did. */
export interface SweepResult {
  /** Tasks whose worker died before releasing them, put back in the queue. */
  readonly requeued: number;
  /** Notifications restored (lost between BLPOP and dequeue, or for requeued tasks). */
  readonly notificationsAdded: number;
  /** Notifications that had no task, dropped. */
  readonly notificationsDropped: number;
}

const BULK_CHUNK = 10_000;

/** Tasks enqueued in one turn of the event loop, written together. */
class EnqueueBatch {
  readonly tasks: Buffer[] = [];
  resolve!: () => void;
  reject!: (error: unknown) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/**
 * One delayed queue on one Redis connection: the producer side (enqueue, len), the
 * worker-side steps (dequeue, release, retry, bury) and the sweeper's step (requeueLost).
 */
export class Queue {
  readonly keys: QueueKeys;
  readonly deadLetters: DeadLetters;
  /** Dead letters kept, or 0 when dead letters are off. */
  readonly deadLetterMaxLength: number;
  readonly redisTimeout: number;

  constructor(
    readonly redis: Redis,
    readonly name: string = DEFAULT_QUEUE_NAME,
    readonly options: QueueOptions = {},
  ) {
    this.keys = queueKeys(name);
    this.deadLetters = new DeadLetters(redis, this.keys);
    this.redisTimeout = options.redisTimeout ?? DEFAULT_REDIS_TIMEOUT;
    if (typeof this.redisTimeout !== 'number' || !Number.isFinite(this.redisTimeout) || this.redisTimeout <= 0) {
      throw new InvalidOptionsError(
        `redisTimeout must be a positive number of milliseconds, got ${String(this.redisTimeout)}`,
      );
    }
    const dead = options.deadLetter;
    if (dead === false) {
      this.deadLetterMaxLength = 0;
    } else {
      const maxLength = dead?.maxLength ?? DEFAULT_DEAD_LETTER_MAX_LENGTH;
      if (!Number.isInteger(maxLength) || maxLength < 1) {
        throw new InvalidOptionsError(
          `deadLetter.maxLength must be a positive integer, got ${String(maxLength)} (use deadLetter: false to turn dead letters off)`,
        );
      }
      this.deadLetterMaxLength = maxLength;
    }
  }

  /** The same queue over another connection (a worker uses its own). */
  on(redis: Redis): Queue {
    return new Queue(redis, this.name, this.options);
  }

  /**
   * Adds a task at the tail, with its notification, atomically. Enqueues made in the same
   * turn of the event loop travel together, up to 10,000 per script call: each task still
   * lands with its own notification in one atomic step, and each promise settles with the
   * script call that carried its task, so a failure is reported only to those it concerns.
   */
  enqueue(task: Task | Buffer): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = Buffer.isBuffer(task) ? task : encodeTask(task);
    } catch (error) {
      return Promise.reject(error);
    }
    const batches = this.batches;
    let batch = batches[batches.length - 1];
    if (batch === undefined || batch.tasks.length === BULK_CHUNK) {
      if (batches.length === 0) process.nextTick(this.flush);
      batch = new EnqueueBatch();
      batches.push(batch);
    }
    batch.tasks.push(bytes);
    return batch.done;
  }

  /** Adds many tasks in one round trip (one script call per 10,000 tasks, each atomic). */
  async enqueueMany(tasks: readonly (Task | Buffer)[]): Promise<void> {
    if (tasks.length === 0) return;
    const encoded = tasks.map((task) => (Buffer.isBuffer(task) ? task : encodeTask(task)));
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < encoded.length; i += BULK_CHUNK) {
      writes.push(this.push(encoded.slice(i, i + BULK_CHUNK)));
    }
    await Promise.all(writes);
  }

  /** This turn's enqueues, each at most BULK_CHUNK tasks; only the last one still fills. */
  private batches: EnqueueBatch[] = [];

  private readonly flush = (): void => {
    const batches = this.batches;
    this.batches = [];
    for (const batch of batches) this.push(batch.tasks).then(batch.resolve, batch.reject);
  };

  /**
   * One atomic script call; bounded (BULK_CHUNK) so Redis stays responsive: it runs nothing
   * else during one. Bounded in time too: it waits for an unreachable Redis at most
   * `redisTimeout`, and fails with a RedisUnavailableError after that.
   */
  private async push(tasks: Buffer[]): Promise<unknown> {
    if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
    return withinTimeout(
      this.redis,
      scripts.enqueue.run(this.redis, [this.keys.tasks, this.keys.notifications], tasks),
      this.redisTimeout,
      `an enqueue of ${tasks.length} task(s)`,
    );
  }

  /** Tasks waiting in the queue (not counting those being processed). */
  len(): Promise<number> {
    return this.redis.llen(this.keys.tasks);
  }

  /** Tasks held by workers right now. */
  processingCount(): Promise<number> {
    return this.redis.hlen(this.keys.processing);
  }

  /**
   * Takes up to `slotIds.length` tasks, recording task i under `slotIds[i]`.
   * @param heldNotifications notifications the caller already popped (0 or 1).
   */
  async dequeue(heldNotifications: 0 | 1, slotIds: readonly (string | Buffer)[]): Promise<Buffer[]> {
    const taken = await scripts.dequeue.run(
      this.redis,
      [this.keys.tasks, this.keys.notifications, this.keys.processing],
      [String(heldNotifications), ...slotIds],
    );
    return taken as Buffer[];
  }

  /** Ends the processing of the tasks held by these slots. */
  release(slotIds: readonly (string | Buffer)[]): Promise<number> {
    return this.redis.hdel(this.keys.processing, ...slotIds);
  }

  /** Puts the next attempt of a failed task at the tail and releases its slot, atomically. */
  async retry(slotId: string, nextAttempt: Buffer): Promise<void> {
    await this.redis
      .multi()
      .rpush(this.keys.tasks, nextAttempt)
      .rpush(this.keys.notifications, '1')
      .hdel(this.keys.processing, slotId)
      .exec()
      .then(throwOnTransactionError);
  }

  /**
   * Gives up on a task: stores it as a dead letter (when they are on) and releases its slot,
   * atomically. Returns whether a dead letter was written.
   */
  async bury(slotId: string, letter: NewDeadLetter): Promise<boolean> {
    if (this.deadLetterMaxLength === 0) {
      await this.release([slotId]);
      return false;
    }
    await this.redis
      .multi()
      .rpush(this.keys.dead, encodeDeadLetter(this.name, letter))
      .ltrim(this.keys.dead, -this.deadLetterMaxLength, -1)
      .hdel(this.keys.processing, slotId)
      .exec()
      .then(throwOnTransactionError);
    return true;
  }

  /** The sweeper's step: requeues tasks of dead workers and repairs notifications. */
  async requeueLost(): Promise<SweepResult> {
    if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
    const [requeued, notificationsAdded, notificationsDropped] = (await withinTimeout(
      this.redis,
      scripts.requeueLost.run(this.redis, [this.keys.tasks, this.keys.notifications, this.keys.processing], []),
      this.redisTimeout,
      'a sweep',
    )) as [number, number, number];
    return { requeued, notificationsAdded, notificationsDropped };
  }
}

function throwOnTransactionError(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('Redis transaction was aborted');
  for (const [error] of results) if (error) throw error;
}
