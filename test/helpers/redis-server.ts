import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

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

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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
  await waitForPing(url, server);
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

export function spawnRedis(port: number): ChildProcess {
  const bin = process.env.REDIS_SERVER ?? 'redis-server';
  const server = spawn(
    bin,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  server.on('error', (error) => {
    console.error(
      `Cannot start ${bin}: ${error.message}. Install Redis (apt-get install redis-server) or set REDIS_URL.`,
    );
  });
  return server;
}

async function waitForPing(url: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`redis-server exited with code ${server.exitCode}`);
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return;
    } catch {
      probe.disconnect();
      await sleep(25);
    }
  }
  throw new Error(`redis-server at ${url} did not answer within 10 s`);
}

export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

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
