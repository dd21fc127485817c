import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * The one launcher of throw-away redis-servers, for the tests and the bench alike: a free
 * loopback port (never 6379), no persistence, warnings only on stderr. `REDIS_SERVER` names
 * another binary.
 */
export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const HOST = '127.0.0.1';

/** A free TCP port on the loopback interface, never Redis' default 6379. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, HOST, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== 0 && port !== 6379) return port;
  }
  throw new Error('Could not find a free loopback port');
}

/**
 * Starts redis-server on `port`. `prefix` runs it under another command (the bench pins it
 * to a CPU with `taskset -c 1`).
 */
export function spawnRedis(
  port: number,
  prefix: readonly string[] = [],
  /** More server arguments; later ones win, so `['--appendonly', 'yes']` turns AOF on. */
  extra: readonly string[] = [],
): ChildProcess {
  const [command, ...prefixArgs] = [...prefix, REDIS_SERVER];
  const child = spawn(
    command!,
    [
      ...prefixArgs,
      ...['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'],
      ...['--loglevel', 'warning', '--protected-mode', 'yes'],
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  child.on('error', (error) => {
    console.error(
      `Cannot start ${REDIS_SERVER}: ${error.message}. Install Redis (apt-get install redis-server) or set REDIS_SERVER or REDIS_URL.`,
    );
  });
  return child;
}

/** A connected client once the server at `url` answers PING; fails if it exits or stays silent 10 s. */
export async function connectWhenUp(url: string, child?: ChildProcess): Promise<Redis> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null)
      throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch {
      client.disconnect();
      await sleep(25);
    }
  }
  throw new Error(`redis-server at ${url} did not answer within 10 s`);
}

/** Stops a child process with `signal`, SIGKILL after 5 s, and waits for its exit. */
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

/**
 * Whether the server just spawned on `port` is the one answering there: another process may
 * take the port between freePort() and the spawn (ours then exits). Stops ours when not.
 */
export async function answersOn(child: ChildProcess, port: number): Promise<boolean> {
  const answering = await connectWhenUp(`redis://${HOST}:${port}`, child).then(
    async (redis) => {
      const info = await redis.info('server').finally(() => redis.disconnect());
      return Number(/process_id:(\d+)/.exec(info)?.[1]);
    },
    (error: Error) => {
      // It exited: its port was taken. Any other failure is not about the port.
      if (child.exitCode === null) throw error;
      return undefined;
    },
  );
  if (answering === child.pid) return true;
  await stopProcess(child, 'SIGKILL');
  return false;
}

/**
 * Short-lived admin connections to the servers of a test setup, one per port, made again
 * after their server was killed; they never retry, so a dead server answers at once.
 */
export class AdminConnections {
  private readonly clients = new Map<number, Redis>();

  get(port: number): Redis {
    let client = this.clients.get(port);
    if (client === undefined || client.status === 'end') {
      client = new Redis({
        host: HOST,
        port,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        connectTimeout: 1_000,
        commandTimeout: 2_000,
      });
      client.on('error', () => undefined);
      this.clients.set(port, client);
    }
    return client;
  }

  /** Drops the connection to `port` (its server is being killed). */
  drop(port: number): void {
    this.clients.get(port)?.disconnect();
  }

  closeAll(): void {
    for (const client of this.clients.values()) client.disconnect();
    this.clients.clear();
  }
}

/** A plain connection to the server on `port` for `use`, for asking it what it holds and is. */
export async function onServer<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ host: HOST, port, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}
