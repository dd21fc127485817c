import { InvalidOptionsError } from '../errors.js';
import { DEAD_LETTERS_PER_REQUEUE_CALL } from '../limits.js';
import { describeValue } from '../options.js';
import { decodeMsgpack, encodeMsgpack } from '../protocol/msgpack.js';
import { scripts } from '../redis/lua-scripts.js';
import type { DataQueue } from './data-queue.js';
import { MAX_ATTEMPTS, newRecord } from './data-record.js';

/**
 * One data dead letter as stored in `N_dq_dead`: a MessagePack map {id, item, attempts,
 * diedAt}, readable from any language.
 */
export interface DataDeadLetter<T = unknown> {
  /** The item's id while it lived (a requeue keeps it). */
  readonly id: string;
  readonly item: T;
  /** The leases it had, every one of which ended without `done`. */
  readonly attempts: number;
  /** When its last lease ended, in ms since the epoch on Redis' clock. */
  readonly diedAt: number;
  /** The stored bytes of this entry, which `requeue` and `remove` take to name it exactly. */
  readonly raw: Buffer;
}

export function decodeDataDeadLetter<T>(raw: Buffer): DataDeadLetter<T> {
  const fields = decodeMsgpack(raw) as Record<string, unknown> | null;
  if (
    fields === null ||
    typeof fields !== 'object' ||
    typeof fields['id'] !== 'string' ||
    !('item' in fields) ||
    typeof fields['attempts'] !== 'number' ||
    typeof fields['diedAt'] !== 'number'
  ) {
    throw new TypeError('Not a data dead letter (a map of id, item, attempts and diedAt)');
  }
  return {
    id: fields['id'],
    item: fields['item'] as T,
    attempts: fields['attempts'],
    diedAt: fields['diedAt'],
    raw,
  };
}

/**
 * The dead letters of one data queue: items whose last lease ended without `done`, when
 * they were put with dead letters on. Oldest first; bounded by the queue's
 * `deadLetter.maxLength` (the oldest are trimmed as new ones come).
 */
export class DataDeadLetters<T = unknown> {
  constructor(private readonly queue: DataQueue<T>) {}

  count(): Promise<number> {
    return this.queue.command(
      () => this.queue.connection.llen(this.queue.keys.dead),
      `a count of the dead letters of data queue "${this.queue.name}"`,
    );
  }

  /** Dead letters, oldest first, from `offset`, at most `limit` of them. */
  async list(offset = 0, limit = 100): Promise<DataDeadLetter<T>[]> {
    if (limit <= 0) return [];
    const raws = await this.queue.command(
      () => this.queue.connection.lrangeBuffer(this.queue.keys.dead, offset, offset + limit - 1),
      `a read of the dead letters of data queue "${this.queue.name}"`,
    );
    return raws.map((raw) => decodeDataDeadLetter<T>(raw));
  }

  /**
   * Makes dead letters' items available again, under their ids, each with as many attempts
   * as it had (its `attempts`; the queue's when that is 0, for a record that was not ours),
   * or `options.attempts`, counted anew; each letter leaves the list as its item goes back,
   * atomically. Without letters, requeues the oldest `limit` (default: all). Returns how many
   * were requeued (a letter removed or requeued meanwhile by someone else is skipped).
   */
  async requeue(
    letters?: readonly DataDeadLetter<T>[],
    limit = Number.POSITIVE_INFINITY,
    options: { readonly attempts?: number } = {},
  ): Promise<number> {
    const given = options.attempts;
    if (given !== undefined && (!Number.isInteger(given) || given < 1 || given > MAX_ATTEMPTS)) {
      throw new InvalidOptionsError(
        `requeue(): attempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${describeValue(given)}`,
      );
    }
    const { keys } = this.queue;
    const chosen =
      letters ??
      (limit <= 0
        ? []
        : (
            await this.queue.command(
              () =>
                this.queue.connection.lrangeBuffer(
                  keys.dead,
                  0,
                  Number.isFinite(limit) ? limit - 1 : -1,
                ),
              `a read of the dead letters of data queue "${this.queue.name}"`,
            )
          ).map((raw) => decodeDataDeadLetter<T>(raw)));
    let requeued = 0;
    for (let i = 0; i < chosen.length; i += DEAD_LETTERS_PER_REQUEUE_CALL) {
      const args: (string | Buffer)[] = [keys.wake];
      for (const letter of chosen.slice(i, i + DEAD_LETTERS_PER_REQUEUE_CALL)) {
        args.push(
          letter.raw,
          letter.id,
          newRecord(
            encodeMsgpack(letter.item),
            given ??
              (letter.attempts >= 1 && letter.attempts <= MAX_ATTEMPTS
                ? letter.attempts
                : this.queue.attempts),
            this.queue.deadLetterMaxLength > 0,
          ),
        );
      }
      requeued += (await this.queue.command(
        () => scripts.dataRequeueDead.run(this.queue.connection, keys, args),
        `a requeue of dead letters of data queue "${this.queue.name}"`,
      )) as number;
    }
    return requeued;
  }

  /** Deletes the given dead letters; returns how many were still there. */
  async remove(letters: readonly DataDeadLetter<T>[]): Promise<number> {
    if (letters.length === 0) return 0;
    const results =
      (await this.queue.command(() => {
        const pipeline = this.queue.connection.pipeline();
        for (const letter of letters) pipeline.lrem(this.queue.keys.dead, 1, letter.raw);
        return pipeline.exec();
      }, `a removal of dead letters of data queue "${this.queue.name}"`)) ?? [];
    let removed = 0;
    for (const [error, count] of results) {
      if (error) throw error;
      removed += count as number;
    }
    return removed;
  }

  /** Deletes every dead letter of the data queue; returns how many there were. */
  async purge(): Promise<number> {
    const results = await this.queue.command(
      () =>
        this.queue.connection.multi().llen(this.queue.keys.dead).del(this.queue.keys.dead).exec(),
      `a purge of the dead letters of data queue "${this.queue.name}"`,
    );
    const [error, count] = results?.[0] ?? [null, 0];
    if (error) throw error;
    return count as number;
  }
}
