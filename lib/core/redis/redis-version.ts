import type { RedisClient } from './client.js';
import { UnsupportedRedisError } from '../errors.js';

/**
 * The oldest Redis the worker runs on: its dequeue script pops with `LPOP key count` (6.2).
 * Older servers would fail every dequeue; the worker refuses to start there instead.
 */
export const MINIMUM_REDIS_VERSION: readonly [number, number] = [6, 2];

/** `redis_version` of an `INFO server` reply, as [major, minor, patch]; undefined if absent. */
export function parseRedisVersion(info: string): [number, number, number] | undefined {
  const match = /^redis_version:(\d+)\.(\d+)(?:\.(\d+))?/m.exec(info);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function isSupportedRedisVersion([major, minor]: readonly number[]): boolean {
  const [needMajor, needMinor] = MINIMUM_REDIS_VERSION;
  return major! > needMajor || (major === needMajor && minor! >= needMinor);
}

/**
 * Fails with a readable error on a server too old for the worker. A server that does not
 * report a version (some Redis-compatible servers) is given the benefit of the doubt.
 */
export async function assertWorkerCanRun(redis: RedisClient): Promise<void> {
  const version = parseRedisVersion(await redis.info('server'));
  if (version === undefined || isSupportedRedisVersion(version)) return;
  throw new UnsupportedRedisError(
    `The worker needs Redis ${MINIMUM_REDIS_VERSION.join('.')} or later (its dequeue uses LPOP with a count); this server is ${version.join('.')}`,
  );
}
