import type { QueueCounts } from '../core/index.js';

/** The counts a chart draws, one column per series, oldest first. */
export interface CountSeries {
  /** When each sample was read (Redis' clock, ms since the epoch). */
  readonly at: number[];
  readonly waiting: number[];
  readonly running: number[];
  readonly scheduled: number[];
  readonly dead: number[];
}

const SERIES = ['waiting', 'running', 'scheduled', 'dead'] as const;

/**
 * The last `capacity` samples of one queue's counts, in a ring of fixed-size arrays: adding
 * one never allocates, and memory stays at `capacity` numbers per series.
 */
export class CountHistory {
  private readonly at: Float64Array;
  private readonly values: Record<(typeof SERIES)[number], Float64Array>;
  /** Where the next sample goes. */
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.values = {
      waiting: new Float64Array(capacity),
      running: new Float64Array(capacity),
      scheduled: new Float64Array(capacity),
      dead: new Float64Array(capacity),
    };
  }

  get length(): number {
    return this.size;
  }

  add(counts: QueueCounts): void {
    this.at[this.head] = counts.at;
    for (const series of SERIES) this.values[series][this.head] = counts[series];
    this.head = (this.head + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Every sample kept, oldest first. */
  series(): CountSeries {
    const start = (this.head - this.size + this.capacity) % this.capacity;
    const read = (column: Float64Array): number[] => {
      const out = new Array<number>(this.size);
      for (let i = 0; i < this.size; i++) out[i] = column[(start + i) % this.capacity]!;
      return out;
    };
    return {
      at: read(this.at),
      waiting: read(this.values.waiting),
      running: read(this.values.running),
      scheduled: read(this.values.scheduled),
      dead: read(this.values.dead),
    };
  }
}
