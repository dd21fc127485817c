import { type DeadLetter, DeadLetters } from '../core/index.js';
import { detached } from './detached.js';
import type { InlineRunner } from './inline-runner.js';

/**
 * A queue's dead letters under DelayedTestingModule, in memory: the tasks whose last attempt
 * failed (when dead letters are on, as by default). `requeue` runs them again.
 */
export class InlineDeadLetters extends DeadLetters {
  readonly #runner: InlineRunner;
  readonly #queue: string;

  constructor(runner: InlineRunner, queue: string) {
    super(detached('DeadLetters', {}), detached('DeadLetters', {}));
    this.#runner = runner;
    this.#queue = queue;
  }

  private get letters(): DeadLetter[] {
    return this.#runner.deadLetters(this.#queue);
  }

  override count(): Promise<number> {
    return Promise.resolve(this.letters.length);
  }

  override list(offset = 0, limit = 100): Promise<DeadLetter[]> {
    if (limit <= 0) return Promise.resolve([]);
    return Promise.resolve(this.letters.slice(offset, offset + limit));
  }

  override requeue(
    letters?: readonly DeadLetter[],
    limit = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    const chosen = letters ?? (limit <= 0 ? [] : this.letters.slice(0, limit));
    let requeued = 0;
    for (const letter of chosen) {
      if (this.take(letter)) {
        this.#runner.requeueLetter(letter);
        requeued++;
      }
    }
    return Promise.resolve(requeued);
  }

  override remove(letters: readonly DeadLetter[]): Promise<number> {
    let removed = 0;
    for (const letter of letters) if (this.take(letter)) removed++;
    return Promise.resolve(removed);
  }

  override purge(): Promise<number> {
    return Promise.resolve(this.letters.splice(0).length);
  }

  /** Removes a letter (named by its raw bytes, as in Redis); false if it was gone. */
  private take(letter: DeadLetter): boolean {
    const letters = this.letters;
    const index = letters.findIndex((known) => known.raw.equals(letter.raw));
    if (index < 0) return false;
    letters.splice(index, 1);
    return true;
  }
}
