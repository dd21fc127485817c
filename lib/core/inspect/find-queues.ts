import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import { DEFAULT_REDIS_TIMEOUT } from '../defaults.js';
import { isCluster, whenReady } from '../redis/connection.js';
import { decodeDeadLetter } from '../queue/dead-letters.js';

/**
 * Key suffixes that only a queue has, with the type each must have: enough to tell a queue
 * from other keys. A queue's bare list `N` is not among them (any list could be one). `N_dead`
 * is a list too (the task list of a queue named "x_dead" would make "x" look like a queue),
 * so it counts only when its first entry is a dead letter of that very queue: a queue whose
 * only keys are its dead letters is what an operator most needs to find.
 */
const QUEUE_KEY_SUFFIXES: Readonly<Record<string, string>> = {
  _noti: 'list',
  _processing: 'hash',
  _scheduled: 'zset',
  _schedules: 'hash',
  _paused: 'string',
  _dead: 'list',
};

const SCAN_STEP = 1_000;

export interface FindQueuesOptions {
  /**
   * About how many keys of the database to look at, at most (SCAN is O(keys), in steps of
   * 1,000); default 1,000,000. On a bigger database the list may miss queues: name them.
   */
  readonly maxKeys?: number;
  /** How long to wait for a cluster client to learn the cluster's primaries (ms); default 5,000. */
  readonly timeout?: number;
}

/**
 * The names of the queues that have keys in Redis right now, sorted, found with SCAN (in
 * steps of 1,000, never blocking Redis). A queue with nothing waiting, running, scheduled,
 * paused or dead has no such key and is not found: name it explicitly where it matters.
 */
export async function findQueues(
  redis: RedisClient,
  options: FindQueuesOptions = {},
): Promise<string[]> {
  const maxKeys = options.maxKeys ?? 1_000_000;
  // A cluster's keys are spread over its primaries: each is scanned on its own, once the
  // client knows them all (before, it knows its startup nodes at most).
  if (isCluster(redis) && redis.status !== 'ready') {
    await whenReady(redis, options.timeout ?? DEFAULT_REDIS_TIMEOUT);
  }
  const servers = isCluster(redis) ? redis.nodes('master') : [redis];
  const names = new Set<string>();
  for (const server of servers) {
    for (const name of await queuesOn(server, maxKeys)) names.add(name);
  }
  return [...names].sort();
}

/** The queues with keys on one server (a whole Redis, or one primary of a cluster). */
async function queuesOn(redis: Redis, maxKeys: number): Promise<Set<string>> {
  const candidates = new Map<string, string>();
  let cursor = '0';
  let scanned = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', '*_*', 'COUNT', SCAN_STEP);
    cursor = next;
    // COUNT is how many keys a step looks at (matching or not), give or take.
    scanned += SCAN_STEP;
    for (const key of keys) {
      for (const suffix of Object.keys(QUEUE_KEY_SUFFIXES)) {
        if (key.endsWith(suffix) && key.length > suffix.length) candidates.set(key, suffix);
      }
    }
  } while (cursor !== '0' && scanned < maxKeys);
  const keys = [...candidates.keys()];
  const names = new Set<string>();
  for (let i = 0; i < keys.length; i += 1_000) {
    const chunk = keys.slice(i, i + 1_000);
    // Sent to this server alone, so keys of several slots may share the pipeline.
    const pipeline = redis.pipeline();
    // Each key's TYPE, and for a list named like dead letters its first entry: reply indexes.
    const at = chunk.map((key) => {
      const index = pipeline.length;
      pipeline.type(key);
      if (candidates.get(key) === '_dead') pipeline.lindexBuffer(key, 0);
      return index;
    });
    const replies = (await pipeline.exec()) ?? [];
    chunk.forEach((key, j) => {
      const suffix = candidates.get(key)!;
      const name = key.slice(0, -suffix.length);
      if (replies[at[j]!]?.[1] !== QUEUE_KEY_SUFFIXES[suffix]) return;
      if (suffix === '_dead' && !isDeadLetterOf(replies[at[j]! + 1]?.[1], name)) return;
      names.add(name);
    });
  }
  return names;
}

function isDeadLetterOf(entry: unknown, queue: string): boolean {
  if (!Buffer.isBuffer(entry)) return false;
  try {
    return decodeDeadLetter(entry).queue === queue;
  } catch {
    return false;
  }
}
