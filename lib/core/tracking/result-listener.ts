import type { RedisClient } from '../redis/client.js';
import { RedisUnavailableError, ResultTimeoutError } from '../errors.js';
import { taskRecordKey } from '../protocol/keys.js';
import { closeConnection, duplicateClient } from '../redis/connection.js';
import { OUTCOME_FIELDS, type Outcome, parseEndMessage, readOutcome } from './task-record.js';

/** The queue a waiter waits on: its commands connection, name and done channel. */
export interface WaitedQueue {
  readonly redis: RedisClient;
  readonly name: string;
  readonly keys: { readonly done: string };
}

interface Waiter {
  readonly queue: WaitedQueue;
  readonly id: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  timer?: NodeJS.Timeout;
}

/** The pause before a failed record read is tried again. */
const READ_RETRY = 250;

/** How long an unused subscriber stays open, so that waits one after another share it. */
const IDLE_CLOSE = 1_000;

/**
 * Waits for tracked tasks to end, for every queue of one producer connection, on one
 * subscriber connection of its own, opened at the first wait and closed when nothing waited
 * for a second (or when the producer connection ends).
 *
 * A waiter never misses its task's end: it subscribes to the queue's done channel first and
 * reads the task's record after the subscription is confirmed (an end before that is in
 * the record, an end after it is published); after a reconnect, the subscriber subscribes
 * again and every waiter reads its record again (an end while disconnected is in the
 * record). A PUBLISH only saves the wait for the next read; every wait also has a timeout.
 */
export class ResultListener {
  private static readonly byConnection = new WeakMap<RedisClient, ResultListener>();

  /** The listener of a producer connection (one per connection, so per process). */
  static of(redis: RedisClient): ResultListener {
    let listener = ResultListener.byConnection.get(redis);
    if (listener === undefined) {
      listener = new ResultListener(redis);
      ResultListener.byConnection.set(redis, listener);
    }
    return listener;
  }

  private subscriber: RedisClient | undefined;
  /** Record key -> the waiters of that task. */
  private readonly waiters = new Map<string, Set<Waiter>>();
  private count = 0;
  /** Done channels whose subscription is confirmed (or under way) on the current connection. */
  private readonly channels = new Map<string, Promise<unknown>>();
  /** Channel -> the queue it belongs to. */
  private readonly queues = new Map<string, WaitedQueue>();
  private idleTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly redis: RedisClient) {
    // The producer connection closed for good: nothing can be read any more.
    redis.on('end', () => {
      this.close();
      for (const set of [...this.waiters.values()]) {
        for (const waiter of [...set]) {
          if (this.remove(waiter)) {
            waiter.reject(
              new RedisUnavailableError(
                `The connection closed while waiting for task ${waiter.id} on queue "${waiter.queue.name}"`,
              ),
            );
          }
        }
      }
    });
  }

  /** Waiters right now, over all queues. */
  get size(): number {
    return this.count;
  }

  /** Resolves with the task's result, or rejects with its error, a timeout, or "unknown". */
  wait(queue: WaitedQueue, id: string, timeout: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { queue, id, resolve, reject };
      waiter.timer = setTimeout(() => {
        if (this.remove(waiter)) {
          reject(
            new ResultTimeoutError(
              `Task ${id} on queue "${queue.name}" did not end within ${timeout} ms`,
            ),
          );
        }
      }, timeout);
      const key = taskRecordKey(queue.name, id);
      let set = this.waiters.get(key);
      if (set === undefined) this.waiters.set(key, (set = new Set()));
      set.add(waiter);
      this.count += 1;
      if (this.idleTimer !== undefined) {
        clearTimeout(this.idleTimer);
        this.idleTimer = undefined;
      }
      this.queues.set(queue.keys.done, queue);
      const subscriber = this.open();
      // Not ready: the 'ready' handler subscribes and reads for every waiter.
      if (subscriber.status === 'ready') {
        this.subscribed(subscriber, queue.keys.done).then(
          () => this.check(queue, id),
          () => undefined, // a reconnect's 'ready' tries again
        );
      }
    });
  }

  private open(): RedisClient {
    if (this.subscriber !== undefined) return this.subscriber;
    // Connects now even if the producer connection is lazy (a lazy subscriber never would).
    const subscriber = duplicateClient(this.redis, { disconnectTimeout: 200, lazyConnect: false });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined); // reconnects by itself; waits time out meanwhile
    subscriber.on('close', () => {
      if (this.subscriber === subscriber) this.channels.clear();
    });
    // Its reconnects gave up: the next one opens a new subscriber, now if some wait.
    subscriber.on('end', () => {
      if (this.subscriber !== subscriber) return;
      this.subscriber = undefined;
      this.channels.clear();
      if (this.count > 0 && this.redis.status !== 'end') this.open();
    });
    subscriber.on('ready', () => {
      const channels = [...this.queues.keys()];
      if (channels.length === 0) return;
      // Once subscribed again, every waiter reads its record: an end published while the
      // subscriber was away is there. (A channel refused does not hold the others back.)
      void Promise.allSettled(channels.map((channel) => this.subscribed(subscriber, channel))).then(
        () => this.checkAll(),
      );
    });
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const queue = this.queues.get(channel.toString());
      if (queue === undefined) return;
      const [id, fields] = parseEndMessage(message);
      const key = taskRecordKey(queue.name, id);
      if (!this.waiters.has(key)) return;
      // The message carries the outcome the record holds; else the record is read.
      const outcome = fields === undefined ? undefined : readOutcome(id, fields);
      if (outcome !== undefined) this.settle(key, outcome);
      else this.check(queue, id);
    });
    return subscriber;
  }

  /** Subscribes to a channel once per connection; settles when the subscription is confirmed. */
  private subscribed(subscriber: RedisClient, channel: string): Promise<unknown> {
    let subscription = this.channels.get(channel);
    if (subscription === undefined) {
      subscription = subscriber.subscribe(channel);
      this.channels.set(channel, subscription);
      subscription.catch(() => {
        if (this.channels.get(channel) === subscription) this.channels.delete(channel);
      });
    }
    return subscription;
  }

  private checkAll(): void {
    const seen = new Set<string>();
    for (const set of this.waiters.values()) {
      for (const waiter of set) {
        const key = taskRecordKey(waiter.queue.name, waiter.id);
        if (!seen.has(key)) {
          seen.add(key);
          this.check(waiter.queue, waiter.id);
        }
      }
    }
  }

  /** Reads a task's record and settles its waiters if it has ended. */
  private check(queue: WaitedQueue, id: string): void {
    const key = taskRecordKey(queue.name, id);
    queue.redis.hmgetBuffer(key, ...OUTCOME_FIELDS).then(
      (fields) => {
        const outcome = readOutcome(id, fields);
        if (outcome !== undefined) this.settle(key, outcome);
      },
      () => {
        // Redis away: read again shortly while someone still waits (or the timeout ends it).
        const retry = setTimeout(() => {
          if (this.waiters.has(key)) this.check(queue, id);
        }, READ_RETRY);
        retry.unref();
      },
    );
  }

  private settle(key: string, outcome: Outcome): void {
    const set = this.waiters.get(key);
    if (set === undefined) return;
    for (const waiter of [...set]) {
      this.remove(waiter);
      if ('error' in outcome) waiter.reject(outcome.error);
      else waiter.resolve(outcome.value);
    }
  }

  /** Forgets a waiter; false if it was settled already. */
  private remove(waiter: Waiter): boolean {
    const key = taskRecordKey(waiter.queue.name, waiter.id);
    const set = this.waiters.get(key);
    if (set === undefined || !set.delete(waiter)) return false;
    if (set.size === 0) this.waiters.delete(key);
    clearTimeout(waiter.timer);
    this.count -= 1;
    if (this.count === 0 && this.subscriber !== undefined) {
      this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE);
      this.idleTimer.unref();
    }
    return true;
  }

  /** Closes the subscriber (waits still pending then end by their timeout). */
  private close(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.channels.clear();
    if (subscriber !== undefined) void closeConnection(subscriber);
  }
}
