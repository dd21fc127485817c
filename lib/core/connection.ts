import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_QUIT_TIMEOUT } from './defaults.js';

/** How to reach Redis: a URL, ioredis options, or a client of your own (never closed by us). */
export type ConnectionOption = string | RedisOptions | Redis;

/**
 * Options of a worker's own connections. A command that was sent but not answered when a
 * connection dropped must not be sent again after the reconnect: a dequeue script run twice
 * would overwrite the first task's processing entry and lose it. The worker sees the error
 * instead (see ConnectionLoss) and deals with the unknown outcome.
 */
const WORKER_OPTIONS: RedisOptions = { autoResendUnfulfilledCommands: false };

/**
 * A new client from a URL or options; a given client is returned as it is. Producer
 * connections keep ioredis' resend-after-reconnect: an enqueue interrupted by a dropped
 * connection is sent again (at worst a task is enqueued twice) rather than left hanging.
 */
export function openConnection(option: ConnectionOption | undefined): { redis: Redis; owned: boolean } {
  if (option instanceof Redis) return { redis: option, owned: false };
  if (option === undefined) return { redis: new Redis(), owned: true };
  if (typeof option === 'string') return { redis: new Redis(option), owned: true };
  if (option !== null && typeof option === 'object') return { redis: new Redis({ ...option }), owned: true };
  throw new TypeError(
    `connection must be a Redis URL, ioredis options or an ioredis client, got ${String(option)}`,
  );
}

/** A new client to the same server as `base`, for a worker's own use (always owned). */
export function duplicateConnection(base: Redis, overrides: RedisOptions = {}): Redis {
  return base.duplicate({ ...overrides, ...WORKER_OPTIONS });
}

/**
 * Closes a client without hanging: QUIT when it is connected, bounded by `timeout`, and a
 * hard disconnect otherwise (a QUIT to an unreachable server would wait for ever).
 */
export async function closeConnection(redis: Redis, timeout = DEFAULT_QUIT_TIMEOUT): Promise<void> {
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
    await Promise.race([redis.quit().then(() => undefined, () => undefined), deadline]);
  } finally {
    clearTimeout(timer);
    if ((redis.status as string) !== 'end') redis.disconnect();
  }
}
