import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_QUIT_TIMEOUT } from '../defaults.js';
import { InvalidOptionsError, RedisUnavailableError } from '../errors.js';
import type { RedisClient } from './client.js';

/**
 * How to reach a Redis Cluster without building the client yourself: its startup nodes and
 * ioredis' cluster options (`redisOptions` in them apply to every node's connection).
 */
export interface ClusterConnectionOptions {
  readonly clusterNodes: readonly ClusterNode[];
  readonly clusterOptions?: ClusterOptions;
}

/**
 * How to reach Redis: a URL, ioredis options (Sentinel included: `{ sentinels, name }`),
 * cluster nodes and options, or a client of your own, `Redis` or `Cluster` (never closed by
 * us).
 */
export type ConnectionOption = string | RedisOptions | ClusterConnectionOptions | RedisClient;

/** Whether a client talks to a Redis Cluster (whose scripts and pops must stay in one slot). */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Options of a worker's own connections. A command that was sent but not answered when a
 * connection dropped must not be sent again after the reconnect: a dequeue script run twice
 * would overwrite the first task's processing entry and lose it. The worker sees the error
 * instead (see ConnectionLoss) and deals with the unknown outcome.
 */
const WORKER_OPTIONS: RedisOptions = {
  autoResendUnfulfilledCommands: false,
  // A command sent while disconnected fails at once instead of waiting in ioredis' offline
  // queue: queued blocking pops would all run at the reconnect and take notifications nobody
  // reads, and a queued dequeue would record tasks under ids the worker gave up on. The
  // worker waits for 'ready' itself.
  enableOfflineQueue: false,
};

/**
 * Defaults of the clients we open. ioredis arms a timer of `disconnectTimeout` (2 s) on every
 * disconnect to destroy a socket that does not close, and a socket that failed to connect
 * never closes again: a process that gave up on an unreachable Redis lingered that long.
 */
const OWN_DEFAULTS: RedisOptions = { disconnectTimeout: 200 };

/** Errors that keep a connection from ever working as configured: failing fast beats retrying. */
const FATAL_ERROR =
  /^(WRONGPASS|NOAUTH|NOPERM|ERR invalid password|ERR AUTH|ERR (invalid )?DB index)/;

/** Why a client was shut for good by us (a database it cannot select), for later callers. */
const fatalErrors = new WeakMap<RedisClient, Error>();

/**
 * What is wrong with a connection option, or undefined. A URL must be `redis://` or
 * `rediss://` (ioredis would read `http://host` as a socket path) with a numeric database,
 * or a socket path starting with `/`.
 */
export function connectionProblem(option: unknown): string | undefined {
  if (option === undefined || option instanceof Redis || option instanceof Cluster)
    return undefined;
  if (typeof option === 'string') {
    if (option.startsWith('/')) return undefined;
    let url: URL;
    try {
      url = new URL(option);
    } catch {
      return `connection must be a redis:// or rediss:// URL or a socket path, got ${JSON.stringify(option)}`;
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      return `connection must be a redis:// or rediss:// URL or a socket path, got the ${url.protocol} URL ${JSON.stringify(option)}`;
    }
    const db = url.pathname.replace(/^\//, '');
    if (db !== '' && !/^\d+$/.test(db)) {
      return `connection URL ${JSON.stringify(option)}: the path must be a database number, got ${JSON.stringify(db)}`;
    }
    return undefined;
  }
  if (option !== null && typeof option === 'object' && 'clusterNodes' in option) {
    const { clusterNodes } = option as ClusterConnectionOptions;
    if (!Array.isArray(clusterNodes) || clusterNodes.length === 0) {
      return `connection.clusterNodes must list at least one node of the cluster (a URL, a port or { host, port }), got ${JSON.stringify(clusterNodes)}`;
    }
    return undefined;
  }
  if (option !== null && typeof option === 'object' && !Array.isArray(option)) {
    const db = (option as RedisOptions).db;
    if (db !== undefined && (!Number.isInteger(db) || db < 0)) {
      return `connection.db must be a database number, got ${String(db)}`;
    }
    return undefined;
  }
  return `connection must be a Redis URL, ioredis options, { clusterNodes, clusterOptions } or an ioredis client (Redis or Cluster), got ${String(option)}`;
}

/**
 * A new client from a URL or options; a given client is returned as it is. Producer
 * connections keep ioredis' resend-after-reconnect: an enqueue interrupted by a dropped
 * connection is sent again (at worst a task is enqueued twice) rather than left hanging.
 */
export function openConnection(option: ConnectionOption | undefined): {
  redis: RedisClient;
  owned: boolean;
} {
  if (option instanceof Redis || option instanceof Cluster) return { redis: option, owned: false };
  const problem = connectionProblem(option);
  if (problem !== undefined) throw new InvalidOptionsError(problem);
  let redis: RedisClient;
  if (option === undefined) redis = new Redis(OWN_DEFAULTS);
  else if (typeof option === 'string') redis = new Redis(option, OWN_DEFAULTS);
  else if ('clusterNodes' in option) {
    const clusterOptions = option.clusterOptions ?? {};
    redis = new Cluster([...option.clusterNodes], {
      ...clusterOptions,
      redisOptions: { ...OWN_DEFAULTS, ...clusterOptions.redisOptions },
    });
  } else redis = new Redis({ ...OWN_DEFAULTS, ...option });
  shutOnFatalError(redis);
  return { redis, owned: true };
}

/**
 * A wrong password or a database the server does not have never heals by reconnecting, and
 * ioredis would carry on with the next database it can (a failed SELECT leaves DB 0): our own
 * clients stop instead, and every later call fails with the reason.
 */
function shutOnFatalError(redis: RedisClient): void {
  redis.on('error', (error: Error) => {
    if (!FATAL_ERROR.test(error.message) || fatalErrors.has(redis)) return;
    fatalErrors.set(redis, error);
    redis.disconnect();
  });
}

/**
 * Where a client connects, for messages: `host:port` or the socket path; a Sentinel client
 * names its primary group and sentinels, a cluster client the primaries it knows of.
 */
export function describeRedis(redis: RedisClient): string {
  if (isCluster(redis)) {
    const nodes = redis.nodes('master').map(({ options }) => `${options.host}:${options.port}`);
    return nodes.length > 0
      ? `the cluster of ${nodes.join(', ')}`
      : 'the cluster (no node reached yet)';
  }
  const { path, host, port, sentinels, name } = redis.options;
  if (sentinels && sentinels.length > 0) {
    const known = sentinels.map((node) => `${node.host ?? 'localhost'}:${node.port ?? 26379}`);
    return `the primary "${name ?? 'mymaster'}" of the sentinels ${known.join(', ')}`;
  }
  return path ? path : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/**
 * Resolves once the client is ready for commands; rejects with a RedisUnavailableError naming
 * the address and the last connection error once `timeout` ms have passed, at once for a
 * client closed for good, and as soon as the server refuses the client's settings.
 */
export function whenReady(redis: RedisClient, timeout: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  const where = `Redis at ${describeRedis(redis)}`;
  if (redis.status === 'end') {
    const fatal = fatalErrors.get(redis);
    return Promise.reject(
      new RedisUnavailableError(
        fatal
          ? `${where}: refused the connection: ${fatal.message}`
          : `${where}: the connection is closed`,
        { cause: fatal },
      ),
    );
  }
  // Callers waiting at once share one wait (per timeout): a burst of enqueues during an
  // outage adds three listeners, not three per enqueue.
  let waits = readyWaits.get(redis);
  if (waits === undefined) readyWaits.set(redis, (waits = new Map()));
  let wait = waits.get(timeout);
  if (wait === undefined) {
    wait = waitForReady(redis, timeout, where);
    waits.set(timeout, wait);
    const forget = (): void => void waits.delete(timeout);
    wait.then(forget, forget);
  }
  return wait;
}

/** Shared waits of whenReady, per client and timeout. */
const readyWaits = new WeakMap<RedisClient, Map<number, Promise<void>>>();

function waitForReady(redis: RedisClient, timeout: number, where: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastError: Error | undefined;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = (): void => finish();
    const onError = (error: Error): void => {
      lastError = error;
      if (FATAL_ERROR.test(error.message)) {
        finish(
          new RedisUnavailableError(`${where}: refused the connection: ${error.message}`, {
            cause: error,
          }),
        );
      }
    };
    const onEnd = (): void =>
      finish(
        new RedisUnavailableError(
          `${where}: the connection was closed${lastError ? ` (${lastError.message})` : ''}`,
          {
            cause: fatalErrors.get(redis) ?? lastError,
          },
        ),
      );
    const timer = setTimeout(() => {
      const cause = lastError ? lastError.message : 'no answer';
      finish(
        new RedisUnavailableError(`${where}: unreachable (${cause}); gave up after ${timeout} ms`, {
          cause: lastError,
        }),
      );
    }, timeout);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
    if (redis.status === 'wait') redis.connect().catch(() => undefined);
  });
}

/**
 * The command's result, or a RedisUnavailableError once `timeout` ms pass without one (a
 * connection that dropped while the command was in flight). Its outcome is then unknown.
 */
export function withinTimeout<T>(
  redis: RedisClient,
  command: Promise<T>,
  timeout: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisUnavailableError(
            `Redis at ${describeRedis(redis)}: no answer to ${what} within ${timeout} ms; it may still be carried out once Redis is back`,
          ),
        ),
      timeout,
    );
  });
  return Promise.race([command, expired]).finally(() => clearTimeout(timer));
}

/** A new client to the same server as `base`, for a worker's own use (always owned). */
export function duplicateConnection(base: RedisClient, overrides: RedisOptions = {}): RedisClient {
  return duplicateClient(base, { ...OWN_DEFAULTS, ...overrides, ...WORKER_OPTIONS });
}

/**
 * A new client to the same server or cluster as `base`, with `overrides` on its connection
 * options: for a cluster, on every node's connection (and its offline queue follows
 * `enableOfflineQueue`).
 */
export function duplicateClient(base: RedisClient, overrides: RedisOptions): RedisClient {
  if (!isCluster(base)) return base.duplicate(overrides);
  // Node connections of a cluster take no offline queue of their own: the cluster's decides.
  const { enableOfflineQueue, ...nodeOverrides } = overrides;
  return base.duplicate([], {
    ...base.options,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    // A cluster client sends a command again on another connection when the node it went to
    // closed before answering (a failover): the same resend a worker's connections refuse.
    // And a node connection that reconnects (clusterNodeRetryStrategy) would drop such a
    // command without settling it, leaving a worker waiting for ever: without one, the node
    // connection ends, and its commands fail.
    ...(nodeOverrides.autoResendUnfulfilledCommands === false
      ? { retryDelayOnFailover: 0, clusterNodeRetryStrategy: undefined }
      : {}),
    redisOptions: { ...base.options.redisOptions, ...nodeOverrides },
  });
}

/**
 * Closes a client without hanging: QUIT when it is connected, bounded by `timeout`, and a
 * hard disconnect otherwise (a QUIT to an unreachable server would wait for ever).
 */
export async function closeConnection(
  redis: RedisClient,
  timeout = DEFAULT_QUIT_TIMEOUT,
): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeout);
  });
  try {
    await Promise.race([
      redis.quit().then(
        () => undefined,
        () => undefined,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    if ((redis.status as string) !== 'end') redis.disconnect();
  }
}
