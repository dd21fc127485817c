import type { RedisClient } from '../redis/client.js';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack.js';
import type { QueueKeys } from '../protocol/keys.js';
import { DEAD_LETTERS_PER_REQUEUE_CALL } from '../limits.js';
import { scripts } from '../redis/lua-scripts.js';

/** Why a task was given up on. */
export type DeadLetterReason = 'failed' | 'unknown-handler' | 'undecodable';

/** One dead letter as stored in `N_dead`: a MessagePack map, readable from any language. */
export interface DeadLetter {
  /** The task's bytes exactly as they were in the queue (for a failure: its last attempt). */
  readonly task: Buffer;
  readonly queue: string;
  readonly reason: DeadLetterReason;
  /** The error's message, or why the task could not be read or routed. */
  readonly error: string;
  /** The task's function path or handler name, when it could be read. */
  readonly funcPath: string | null;
  /** When it died, in milliseconds since the epoch. */
  readonly failedAt: number;
  /** The stored bytes of this entry, which `requeue` and `remove` take to name it exactly. */
  readonly raw: Buffer;
}

export type NewDeadLetter = Omit<DeadLetter, 'raw' | 'queue' | 'failedAt'>;

export function encodeDeadLetter(queue: string, letter: NewDeadLetter, now = Date.now()): Buffer {
  return encodeMsgpack({
    task: letter.task,
    queue,
    reason: letter.reason,
    error: letter.error,
    funcPath: letter.funcPath,
    failedAt: now,
  });
}

export function decodeDeadLetter(raw: Buffer): DeadLetter {
  const fields = decodeMsgpack(raw) as Record<string, unknown>;
  const task = fields['task'] as Uint8Array;
  return {
    task: Buffer.from(task.buffer, task.byteOffset, task.byteLength),
    queue: String(fields['queue']),
    reason: fields['reason'] as DeadLetterReason,
    error: String(fields['error']),
    funcPath: typeof fields['funcPath'] === 'string' ? fields['funcPath'] : null,
    failedAt: Number(fields['failedAt']),
    raw,
  };
}

/**
 * The dead letters of one queue: tasks that failed their last attempt, named no registered
 * handler, or could not be decoded. Oldest first; bounded by the worker that writes them.
 */
export class DeadLetters {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: QueueKeys,
  ) {}

  count(): Promise<number> {
    return this.redis.llen(this.keys.dead);
  }

  /** Dead letters, oldest first, from `offset`, at most `limit` of them. */
  async list(offset = 0, limit = 100): Promise<DeadLetter[]> {
    if (limit <= 0) return [];
    const raws = await this.redis.lrangeBuffer(this.keys.dead, offset, offset + limit - 1);
    return raws.map(decodeDeadLetter);
  }

  /**
   * Puts dead letters back into the queue, as they were, and removes them from the dead
   * letters. Without arguments, requeues the oldest `limit` ones (default: all).
   * Returns how many were requeued.
   */
  async requeue(
    letters?: readonly DeadLetter[],
    limit = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    let chosen: readonly DeadLetter[];
    if (letters) {
      chosen = letters;
    } else {
      const stop = Number.isFinite(limit) ? limit - 1 : -1;
      chosen =
        limit <= 0
          ? []
          : (await this.redis.lrangeBuffer(this.keys.dead, 0, stop)).map(decodeDeadLetter);
    }
    let requeued = 0;
    // Bounded batches keep each script call short: Redis runs nothing else meanwhile.
    for (let i = 0; i < chosen.length; i += DEAD_LETTERS_PER_REQUEUE_CALL) {
      const pairs = chosen
        .slice(i, i + DEAD_LETTERS_PER_REQUEUE_CALL)
        .flatMap((letter) => [letter.raw, letter.task]);
      requeued += (await scripts.requeueDead.run(this.redis, this.keys, pairs)) as number;
    }
    return requeued;
  }

  /** Deletes the given dead letters; returns how many were still there. */
  async remove(letters: readonly DeadLetter[]): Promise<number> {
    if (letters.length === 0) return 0;
    const pipeline = this.redis.pipeline();
    for (const letter of letters) pipeline.lrem(this.keys.dead, 1, letter.raw);
    const results = (await pipeline.exec()) ?? [];
    let removed = 0;
    for (const [error, count] of results) {
      if (error) throw error;
      removed += count as number;
    }
    return removed;
  }

  /** Deletes every dead letter of the queue; returns how many there were. */
  async purge(): Promise<number> {
    const results = await this.redis.multi().llen(this.keys.dead).del(this.keys.dead).exec();
    const [error, count] = results?.[0] ?? [null, 0];
    if (error) throw error;
    return count as number;
  }
}
