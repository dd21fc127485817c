import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { connectWhenUp, freePort, spawnRedis, stopProcess } from './redis-process.js';

export { freePort, spawnRedis, stopProcess } from './redis-process.js';

/**
 * A throw-away redis-server on a free loopback port, or the server at REDIS_URL when set.
 * Every test file starts its own; every test takes its own queue names (uniqueName).
 */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** A new client (closed by `stop`). */
  client(): Redis;
  /** Stops the server (when we started it) and closes the clients. */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /**
   * Always start a redis-server of our own, even when REDIS_URL is set: for tests that
   * change what every client of the server sees (CLIENT KILL or PAUSE, CONFIG SET, stopping
   * it), which must not disturb other test files sharing REDIS_URL.
   */
  readonly private?: boolean;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const clients: Redis[] = [];
  const client = (url: string) => () => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  const closeClients = () => {
    for (const redis of clients) redis.disconnect();
  };

  if (process.env.REDIS_URL && !options.private) {
    const url = process.env.REDIS_URL;
    return {
      url,
      port: Number(new URL(url).port || 6379),
      client: client(url),
      stop: async () => closeClients(),
    };
  }

  const port = await freePort();
  const server = spawnRedis(port);
  const url = `redis://127.0.0.1:${port}`;
  (await connectWhenUp(url, server)).disconnect();
  return {
    url,
    port,
    client: client(url),
    stop: async () => {
      closeClients();
      await stopProcess(server);
    },
  };
}

/** A test file's Redis: started before its first test, stopped after its last. */
export interface FileRedis {
  readonly server: TestRedis;
  /** One client for the whole file. */
  readonly redis: Redis;
}

/** Registers the before/after hooks of a test file's Redis and hands it out once started. */
export function useRedisServer(options: StartRedisOptions = {}): FileRedis {
  let started: FileRedis | undefined;
  before(async () => {
    const server = await startRedis(options);
    started = { server, redis: server.client() };
  });
  after(() => started?.server.stop());
  const get = (): FileRedis => {
    if (started === undefined)
      throw new Error('The test Redis is used before its before() hook ran');
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get redis() {
      return get().redis;
    },
  };
}

/** A logger that says nothing, for engine parts under test. */
export const quietLogger = { log() {}, warn() {}, error() {} };

/** A queue name no other test uses. */
export function uniqueName(prefix = 'q'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Polls until `check` returns a truthy value, or fails after `timeout` ms. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeout = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeout} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await sleep(20);
  }
}

/** The keys of a queue that still exist (a finished queue should have none). */
export async function leftoverKeys(redis: Redis, queue: string): Promise<string[]> {
  const names = [queue, `${queue}_noti`, `${queue}_processing`];
  const exists = await Promise.all(names.map((name) => redis.exists(name)));
  return names.filter((_, i) => exists[i] === 1);
}
