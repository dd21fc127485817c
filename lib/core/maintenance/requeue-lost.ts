import type { Queue } from '../queue/queue.js';
import { isCluster, whenReady, withinTimeout } from '../redis/connection.js';
import { scripts } from '../redis/lua-scripts.js';

/** What a sweep of one queue did. */
export interface SweepResult {
  /** Tasks whose worker died before releasing them, put back in the queue. */
  readonly requeued: number;
  /** Notifications restored (lost between BLPOP and dequeue, or for requeued tasks). */
  readonly notificationsAdded: number;
  /** Notifications that had no task, dropped. */
  readonly notificationsDropped: number;
}

/**
 * The sweeper's step on one queue: requeues the tasks of dead workers and repairs
 * notifications. On one server it is one atomic script, the peers' (which reads the
 * worker-id keys itself); on a cluster, see requeueLostChecked. Waits for an unreachable
 * Redis at most the queue's `redisTimeout`.
 */
export async function requeueLost(queue: Queue): Promise<SweepResult> {
  const { redis, redisTimeout } = queue;
  if (redis.status !== 'ready') await whenReady(redis, redisTimeout);
  if (isCluster(redis)) return requeueLostChecked(queue);
  return result(
    await withinTimeout(
      redis,
      scripts.requeueLost.run(redis, queue.keys, ['look']),
      redisTimeout,
      'a sweep',
    ),
  );
}

/**
 * The cluster-safe sweep: a script may only touch keys of its queue's slot, and a worker-id
 * key may live in another one (a peer's bare id). Reads the processing hash, then each
 * entry's liveness key, outside any script; then one compare-and-set script requeues the
 * entries found dead that still hold the bytes read. A worker that released its task (or
 * took another) in between keeps it. Works on one server too.
 */
export async function requeueLostChecked(queue: Queue): Promise<SweepResult> {
  const { redis, redisTimeout } = queue;
  const entries = await withinTimeout(
    redis,
    redis.hgetallBuffer(queue.keys.processing),
    redisTimeout,
    'a sweep (reading the processing hash)',
  );
  const ids = Object.keys(entries);
  // One command per id: ids in different slots cannot share a pipeline on a cluster.
  const alive = await withinTimeout(
    redis,
    Promise.all(ids.map((id) => redis.exists(id))),
    redisTimeout,
    "a sweep (reading workers' liveness keys)",
  );
  const dead: (string | Buffer)[] = [];
  ids.forEach((id, i) => {
    if (alive[i] === 0) dead.push(id, entries[id]!);
  });
  return result(
    await withinTimeout(
      redis,
      scripts.requeueLost.run(redis, queue.keys, ['given', ...dead]),
      redisTimeout,
      'a sweep',
    ),
  );
}

function result(reply: unknown): SweepResult {
  const [requeued, notificationsAdded, notificationsDropped] = reply as [number, number, number];
  return { requeued, notificationsAdded, notificationsDropped };
}
