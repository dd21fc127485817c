/**
 * The Redis keys of one queue, built in one place. The first three are the delayed wire
 * protocol (shared with the Python and Go peers); the others are ours and carry the queue's
 * name, hash tag included, so that in Redis Cluster every key of a queue lives in one slot.
 */
export interface QueueKeys {
  /** List of serialized tasks: RPUSH to enqueue, LPOP to dequeue. */
  readonly tasks: string;
  /** List holding one "1" per task in `tasks`; workers block on it. */
  readonly notifications: string;
  /** Hash: worker (slot) id -> the exact bytes of the task it holds. */
  readonly processing: string;
  /** List of dead letters (ours, not part of the peers' protocol). */
  readonly dead: string;
  /**
   * Sorted set of scheduled tasks (ours): each member is the task's id (its due time and a
   * suffix, 16 bytes) then its bytes; the score is the due time in ms on Redis' clock.
   */
  readonly scheduled: string;
  /** Hash: schedule name -> its definition (periodic and cron tasks, ours). */
  readonly schedules: string;
  /** Sorted set: schedule name -> the time of its next tick in ms (ours). */
  readonly scheduleTicks: string;
  /** Sorted set: the tasks started in the last window of the queue's rate limit (ours). */
  readonly rate: string;
  /**
   * String that exists while the queue is paused (ours): its value is when it was paused, in
   * ms on Redis' clock. No worker of ours takes a task from the queue while it exists.
   */
  readonly paused: string;
  /**
   * Not a key: the Pub/Sub channel on which a schedule wakes the promoters when it adds a
   * task due sooner than any other of the queue (ours), and a resume wakes the workers that
   * sit the pause out (the message `resume`).
   */
  readonly wake: string;
  /**
   * Not a key: the Pub/Sub channel on which workers that publish events tell other processes
   * what became of this queue's tasks (opt-in; nothing is stored, ours).
   */
  readonly events: string;
  /**
   * Not a key: the Pub/Sub channel on which a tracked task's end (done, failed, dead,
   * cancelled) is told to the processes waiting for results; the message is its id (ours).
   */
  readonly done: string;
}

export function queueKeys(name: string): QueueKeys {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`A queue name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  return {
    tasks: name,
    notifications: `${name}_noti`,
    processing: `${name}_processing`,
    dead: `${name}_dead`,
    scheduled: `${name}_scheduled`,
    schedules: `${name}_schedules`,
    scheduleTicks: `${name}_schedule_ticks`,
    rate: `${name}_rate`,
    paused: `${name}_paused`,
    wake: `${name}_wake`,
    done: `${name}_done`,
    events: `${name}_events`,
  };
}

/**
 * The record of one tracked task (ours): a hash with its state, progress, result or error,
 * named after its queue so that it shares the queue's cluster slot.
 */
export function taskRecordKey(queue: string, id: string): string {
  return `${queue}_task_${id}`;
}

/** The key a unique task holds while it lives (ours): its value is the owner task's id. */
export function uniqueTaskKey(queue: string, key: string): string {
  return `${queue}_unique_${key}`;
}
