import {
  DEAD_LETTERS_PER_REQUEUE_CALL,
  type DataDeadLetter,
  DataDeadLetters,
  decodeDataDeadLetter,
  describeValue,
  encodeMsgpack,
  InvalidOptionsError,
  MAX_DATA_ATTEMPTS,
} from '../core/index.js';
import type { InlineDataQueue } from './inline-data-queue.js';
import type { InlineDataStore } from './inline-data-store.js';

/**
 * A data queue's dead letters under DelayedTestingModule, in memory: the same calls and
 * letters as on Redis (`raw` is the letter's bytes as Redis would store them, so `remove`
 * and `requeue` name a letter exactly).
 */
export class InlineDataDeadLetters<T = unknown> extends DataDeadLetters<T> {
  readonly #queue: InlineDataQueue<T>;
  readonly #store: InlineDataStore;

  constructor(queue: InlineDataQueue<T>, store: InlineDataStore) {
    super(queue);
    this.#queue = queue;
    this.#store = store;
  }

  override count(): Promise<number> {
    return Promise.resolve(this.#store.deadCount());
  }

  override list(offset = 0, limit = 100): Promise<DataDeadLetter<T>[]> {
    if (limit <= 0) return Promise.resolve([]);
    return Promise.resolve(this.letters(offset, offset + limit - 1));
  }

  override async requeue(
    letters?: readonly DataDeadLetter<T>[],
    limit = Number.POSITIVE_INFINITY,
    options: { readonly attempts?: number } = {},
  ): Promise<number> {
    const given = options.attempts;
    if (
      given !== undefined &&
      (!Number.isInteger(given) || given < 1 || given > MAX_DATA_ATTEMPTS)
    ) {
      throw new InvalidOptionsError(
        `requeue(): attempts must be an integer from 1 to ${MAX_DATA_ATTEMPTS}, got ${describeValue(given)}`,
      );
    }
    const chosen =
      letters ?? (limit <= 0 ? [] : this.letters(0, Number.isFinite(limit) ? limit - 1 : -1));
    const { attempts, deadLetterMaxLength } = this.#queue;
    // As the real requeue: each item gets the attempts it had (the queue's for a letter with
    // 0, a record that was not ours), or those asked for.
    const attemptsOf = (letter: DataDeadLetter<T>): number =>
      given ??
      (letter.attempts >= 1 && letter.attempts <= MAX_DATA_ATTEMPTS ? letter.attempts : attempts);
    let requeued = 0;
    // In the real calls' chunks: an item MessagePack refuses fails its chunk, not the earlier ones.
    for (let i = 0; i < chosen.length; i += DEAD_LETTERS_PER_REQUEUE_CALL) {
      const chunk = chosen.slice(i, i + DEAD_LETTERS_PER_REQUEUE_CALL).map((letter) => ({
        raw: letter.raw,
        id: letter.id,
        item: encodeMsgpack(letter.item),
        attempts: attemptsOf(letter),
      }));
      requeued += this.#store.requeueDead(chunk, deadLetterMaxLength > 0);
    }
    return requeued;
  }

  override remove(letters: readonly DataDeadLetter<T>[]): Promise<number> {
    let removed = 0;
    for (const letter of letters) if (this.#store.removeDead(letter.raw)) removed++;
    return Promise.resolve(removed);
  }

  override purge(): Promise<number> {
    return Promise.resolve(this.#store.purgeDead());
  }

  /** The letters from `start` to `stop` (LRANGE's), decoded from copies of their bytes. */
  private letters(start: number, stop: number): DataDeadLetter<T>[] {
    return this.#store
      .deadRange(start, stop)
      .map((raw) => decodeDataDeadLetter<T>(Buffer.from(raw)));
  }
}
