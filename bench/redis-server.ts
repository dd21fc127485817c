import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * The bench's own throw-away redis-server: a free loopback port (never 6379), no
 * persistence, stopped at the end (also when the bench dies on an error or a signal).
 */
export interface BenchRedis {
  readonly port: number;
  readonly url: string;
  readonly host: string;
  /** The bench's own client for FLUSHALL, INFO and checks (not used by the contenders). */
  readonly admin: Redis;
  readonly version: string;
  flushAll(): Promise<void>;
  /** INFO memory used_memory, in bytes. */
  usedMemory(): Promise<number>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export async function freeLoopbackPort(): Promise<number> {
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

export async function startBenchRedis(prefix: readonly string[] = []): Promise<BenchRedis> {
  const port = await freeLoopbackPort();
  const [command, ...prefixArgs] = [...prefix, REDIS_SERVER];
  const child = spawn(
    command!,
    [
      ...prefixArgs,
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(
          `Cannot start ${REDIS_SERVER}: ${error.message} (install redis-server or set REDIS_SERVER)`,
        ),
      ),
    );
  });
  spawnError.catch(() => undefined);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = `redis://${HOST}:${port}`;
  const admin = await Promise.race([connectWhenUp(url, child), spawnError]);
  const info = await admin.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';

  return {
    port,
    url,
    host: HOST,
    admin,
    version,
    async flushAll() {
      await admin.flushall('SYNC');
    },
    async usedMemory() {
      const memory = await admin.info('memory');
      const match = /^used_memory:(\d+)/m.exec(memory);
      if (!match) throw new Error('INFO memory has no used_memory');
      return Number(match[1]);
    },
    async stop() {
      admin.disconnect();
      await stopChild(child);
      process.removeListener('exit', killOnExit);
    },
  };
}

async function connectWhenUp(url: string, child: ChildProcess): Promise<Redis> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
