import type { Queue } from '../queue/queue.js';
import { whenReady, withinTimeout } from '../redis/connection.js';
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
 * The sweeper's step on one queue, one atomic script: requeues the tasks of dead workers and
 * repairs notifications. Waits for an unreachable Redis at most the queue's `redisTimeout`.
 */
export async function requeueLost(queue: Queue): Promise<SweepResult> {
  const { redis, redisTimeout } = queue;
  if (redis.status !== 'ready') await whenReady(redis, redisTimeout);
  const [requeued, notificationsAdded, notificationsDropped] = (await withinTimeout(
    redis,
    scripts.requeueLost.run(redis, queue.keys, []),
    redisTimeout,
    'a sweep',
  )) as [number, number, number];
  return { requeued, notificationsAdded, notificationsDropped };
}
