import type { RedisClient } from '../redis/client.js';
import { duplicateClient } from '../redis/connection.js';

/** How long an unused subscriber stays open, so that waits one after another share it. */
const IDLE_CLOSE = 1_000;

/** One consumer's interest in a wake channel while it waits for items. */
export interface WakeHold {
  /** Settles once the subscription is confirmed, or refused (waiting then only polls). */
  readonly ready: Promise<void>;
  /** Messages seen on the channel so far: read before a get, handed to `next` after it. */
  readonly seen: number;
  /** Resolves when a message comes after `seen` messages (at once if one came), or after `ms`. */
  next(seen: number, ms: number): Promise<void>;
  release(): void;
}

interface Channel {
  messages: number;
  holds: number;
  readonly sleepers: Set<() => void>;
  subscription: Promise<void> | undefined;
}

/**
 * Wakes the consumers of one connection that wait for data items (`get` with `wait`), on one
 * subscriber connection of its own, opened at the first wait and closed when nothing waited
 * for a second. A put publishes on its queue's wake channel; a waiting consumer subscribes
 * before it looks, so a put after its look always wakes it. Items that become available by
 * the clock (a delay or a lease ends) publish nothing: the get script tells the consumer when
 * the next one is due, and it looks again then.
 */
export class DataWakeListener {
  private static readonly byConnection = new WeakMap<RedisClient, DataWakeListener>();

  static of(redis: RedisClient): DataWakeListener {
    let listener = DataWakeListener.byConnection.get(redis);
    if (listener === undefined) {
      listener = new DataWakeListener(redis);
      DataWakeListener.byConnection.set(redis, listener);
    }
    return listener;
  }

  private subscriber: RedisClient | undefined;
  private readonly channels = new Map<string, Channel>();
  private holds = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly redis: RedisClient) {
    redis.on('end', () => this.close());
  }

  hold(name: string): WakeHold {
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = { messages: 0, holds: 0, sleepers: new Set(), subscription: undefined };
      this.channels.set(name, channel);
    }
    channel.holds += 1;
    this.holds += 1;
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    const subscriber = this.open();
    const ready = this.subscribe(subscriber, name, channel);
    const owner = channel;
    let released = false;
    return {
      ready,
      get seen() {
        return owner.messages;
      },
      next: (seen, ms) =>
        new Promise<void>((resolve) => {
          if (owner.messages !== seen) return resolve();
          const wake = (): void => {
            clearTimeout(timer);
            owner.sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, ms);
          owner.sleepers.add(wake);
        }),
      release: () => {
        if (released) return;
        released = true;
        owner.holds -= 1;
        this.holds -= 1;
        if (this.holds === 0) {
          this.idleTimer = setTimeout(() => this.close(), IDLE_CLOSE);
          this.idleTimer.unref();
        }
      },
    };
  }

  private subscribe(subscriber: RedisClient, name: string, channel: Channel): Promise<void> {
    if (channel.subscription === undefined) {
      const subscription = subscriber.subscribe(name).then(
        () => undefined,
        () => {
          // Refused (an ACL) or cut: the next hold tries again; this one polls meanwhile.
          if (channel.subscription === subscription) channel.subscription = undefined;
        },
      );
      channel.subscription = subscription;
    }
    return channel.subscription;
  }

  private open(): RedisClient {
    if (this.subscriber !== undefined) return this.subscriber;
    const subscriber = duplicateClient(this.redis, { disconnectTimeout: 200, lazyConnect: false });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined); // reconnects by itself; waits poll meanwhile
    // ioredis subscribes again after a reconnect; a put while it was away wakes nobody, so
    // every sleeper looks again once it is back.
    subscriber.on('ready', () => this.wakeAll());
    subscriber.on('end', () => {
      if (this.subscriber !== subscriber) return;
      this.subscriber = undefined;
      for (const channel of this.channels.values()) channel.subscription = undefined;
      this.wakeAll();
    });
    subscriber.on('message', (name: string) => {
      const channel = this.channels.get(name);
      if (channel === undefined) return;
      channel.messages += 1;
      for (const wake of [...channel.sleepers]) wake();
    });
    return subscriber;
  }

  private wakeAll(): void {
    for (const channel of this.channels.values()) {
      channel.messages += 1;
      for (const wake of [...channel.sleepers]) wake();
    }
  }

  private close(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    for (const [name, channel] of this.channels) {
      if (channel.holds === 0) this.channels.delete(name);
      else channel.subscription = undefined;
    }
    this.wakeAll();
    subscriber?.disconnect();
  }
}
