import type { RedisClient } from '../core/index.js';
import {
  closeConnection,
  DataQueue,
  describeRedis,
  openConnection,
  Queue,
  QueueInspector,
  RedisUnavailableError,
  whenReady,
} from '../core/index.js';

/**
 * One run of the tool against one Redis: the connection, opened on first use (so a command
 * line that is wrong never touches the network), and every step bounded by `timeout`.
 */
export class Session {
  private client: RedisClient | undefined;

  constructor(
    /** The Redis URL (or socket path) as given. */
    readonly url: string,
    /** How long one step waits for Redis, in ms: the connection, then each command. */
    readonly timeout: number,
    /** Whether `url` is one node of a Redis Cluster, which the client discovers from it. */
    readonly cluster = false,
  ) {}

  get redis(): RedisClient {
    this.client ??= openConnection(
      this.cluster
        ? { clusterNodes: [this.url], clusterOptions: { redisOptions: nodeOptions(this.url) } }
        : this.url,
    ).redis;
    return this.client;
  }

  /** A queue on this connection, whose own commands are bounded by `timeout`. */
  queue(name: string): Queue {
    return new Queue(this.redis, name, { redisTimeout: this.timeout });
  }

  /**
   * A data queue on this connection, its commands bounded by `timeout`. `attempts` is what
   * the items it requeues get; nothing else it does depends on the app's own options.
   */
  dataQueue(name: string, attempts?: number): DataQueue {
    return new DataQueue(this.redis, name, {
      redisTimeout: this.timeout,
      ...(attempts === undefined ? {} : { attempts }),
    });
  }

  inspector(name: string): QueueInspector {
    return new QueueInspector(this.queue(name));
  }

  /**
   * Sends commands once Redis is ready, and fails with a RedisUnavailableError when either
   * the connection or the answer takes longer than `timeout`; `what` names the step.
   */
  async bounded<T>(send: () => Promise<T>, what: string): Promise<T> {
    const redis = this.redis;
    if (redis.status !== 'ready') await whenReady(redis, this.timeout);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RedisUnavailableError(
              `Redis at ${describeRedis(redis)}: no answer to ${what} within ${this.timeout} ms`,
            ),
          ),
        this.timeout,
      );
    });
    try {
      return await Promise.race([send(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Redis' clock in ms since the epoch: scheduled times are on it, so "in 5s" is too. */
  async now(): Promise<number> {
    const [seconds, micros] = await this.bounded(() => this.redis.time(), 'reading the time');
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Closes the connection if one was opened: QUIT when connected, a hard close otherwise. */
  async close(): Promise<void> {
    if (this.client !== undefined) await closeConnection(this.client, this.timeout);
  }
}

/** A Redis URL fit to print: its password, if it has one, replaced by "***". */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.password === '') return url;
  parsed.password = '***';
  return parsed.toString();
}

/**
 * What every node of a cluster needs from the URL of the one named: its user, password and
 * TLS (ioredis applies a startup node's URL to that node alone).
 */
function nodeOptions(url: string): { username?: string; password?: string; tls?: object } {
  if (url.startsWith('/')) return {};
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
