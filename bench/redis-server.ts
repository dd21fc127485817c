import type { Redis } from 'ioredis';
import {
  connectWhenUp,
  freePort,
  REDIS_SERVER,
  spawnRedis,
  stopProcess,
} from '../test/helpers/redis-process.js';

/**
 * The bench's own throw-away redis-server, started by the same launcher as the tests' (a
 * free loopback port, never 6379; no persistence), stopped at the end, also when the bench
 * dies on an error or a signal.
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
  /** INFO cpu used_cpu_user + used_cpu_sys: the CPU seconds Redis has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startBenchRedis(prefix: readonly string[] = []): Promise<BenchRedis> {
  const port = await freePort();
  const child = spawnRedis(port, prefix);
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
    async cpuSeconds() {
      const cpu = await admin.info('cpu');
      const user = /^used_cpu_user:([\d.]+)/m.exec(cpu);
      const sys = /^used_cpu_sys:([\d.]+)/m.exec(cpu);
      if (!user || !sys) throw new Error('INFO cpu has no used_cpu_user/used_cpu_sys');
      return Number(user[1]) + Number(sys[1]);
    },
    async stop() {
      admin.disconnect();
      await stopProcess(child);
      process.removeListener('exit', killOnExit);
    },
  };
}
