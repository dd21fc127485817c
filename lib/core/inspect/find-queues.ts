import type { Redis } from 'ioredis';

/**
 * Key suffixes that only a queue has, with the type each must have: enough to tell a queue
 * from other keys. A queue's bare list `N` is not among them (any list could be one), nor
 * `N_dead` (it would make the dead-letter list of "x" look like a queue "x_dead").
 */
const QUEUE_KEY_SUFFIXES: Readonly<Record<string, string>> = {
  _noti: 'list',
  _processing: 'hash',
  _scheduled: 'zset',
  _schedules: 'hash',
  _paused: 'string',
};

export interface FindQueuesOptions {
  /** Keys to scan at most (SCAN is O(keys of the database)); default 1,000,000. */
  readonly maxKeys?: number;
}

/**
 * The names of the queues that have keys in Redis right now, sorted, found with SCAN (in
 * steps of 1,000, never blocking Redis). A queue with nothing waiting, running, scheduled or
 * paused has no such key and is not found: name it explicitly where it matters.
 */
export async function findQueues(redis: Redis, options: FindQueuesOptions = {}): Promise<string[]> {
  const maxKeys = options.maxKeys ?? 1_000_000;
  const candidates = new Map<string, string>();
  let cursor = '0';
  let scanned = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', '*_*', 'COUNT', 1_000);
    cursor = next;
    scanned += keys.length;
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
    const pipeline = redis.pipeline();
    for (const key of chunk) pipeline.type(key);
    const types = (await pipeline.exec()) ?? [];
    chunk.forEach((key, j) => {
      const suffix = candidates.get(key)!;
      if (types[j]?.[1] === QUEUE_KEY_SUFFIXES[suffix]) names.add(key.slice(0, -suffix.length));
    });
  }
  return [...names].sort();
}
