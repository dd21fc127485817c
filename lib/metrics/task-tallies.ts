/**
 * What the worker's events add up to, per queue and task, in plain numbers: the work done for
 * every task is a map lookup and a few increments, nothing else (no label hashing, no string
 * built, no allocation once a pair is known). prom-client reads these numbers when it is
 * scraped (see DelayedMetrics), so a task costs the same whether it is scraped or not.
 *
 * Measured on the bench machine: prom-client's own labelled counter and histogram calls cost
 * about 0.85 µs per task (two counters and one histogram), more than a tenth of a task's
 * whole cost in a concurrency-100 drain; these tallies cost a few ns.
 */

/** The `task` label of a task whose bytes could not be read (it has no name). */
export const UNREADABLE_TASK = '(unreadable)';
/**
 * The `task` label of a task whose name no handler of this worker has: names come off the
 * wire, so they are not used as labels (a stream of junk would make a series per name).
 */
export const UNREGISTERED_TASK = '(unregistered)';

/** How a handler's run ended, as the duration histogram's `outcome` label says it. */
export const DURATION_OUTCOMES = [
  'completed',
  'retried',
  'dead_lettered',
  'dropped',
  'interrupted',
] as const;
export type DurationOutcome = (typeof DURATION_OUTCOMES)[number];

/** Indexes into DURATION_OUTCOMES. */
export const OUTCOME_COMPLETED = 0;
export const OUTCOME_RETRIED = 1;
export const OUTCOME_DEAD_LETTERED = 2;
export const OUTCOME_DROPPED = 3;
export const OUTCOME_INTERRUPTED = 4;

/** The task counters, by index into TaskTally.counts. */
export const COUNTERS = [
  'started',
  'completed',
  'failed',
  'retried',
  'dead_lettered',
  'interrupted',
] as const;
export type CounterName = (typeof COUNTERS)[number];

export const STARTED = 0;
export const COMPLETED = 1;
/** Final failures: dead-lettered or dropped. */
export const FAILED = 2;
export const RETRIED = 3;
export const DEAD_LETTERED = 4;
export const INTERRUPTED = 5;

/** Durations of one outcome of one pair: per-bucket counts (not cumulative), sum, count. */
export class DurationTally {
  /** One count per bound, then one for values above the last bound. */
  readonly buckets: Float64Array;
  /** In seconds. */
  sum = 0;
  count = 0;

  constructor(bucketCount: number) {
    this.buckets = new Float64Array(bucketCount + 1);
  }

  observe(seconds: number, bounds: readonly number[]): void {
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/** The numbers of one (queue, task) pair. */
export class TaskTally {
  /** By index: STARTED, COMPLETED, FAILED, RETRIED, DEAD_LETTERED, INTERRUPTED. */
  readonly counts = new Float64Array(COUNTERS.length);
  /** What the prom-client counters were last given, by the same index. */
  readonly reported = new Float64Array(COUNTERS.length);
  /** By index into DURATION_OUTCOMES; made on the first duration of that outcome. */
  readonly durations: (DurationTally | undefined)[] = new Array(DURATION_OUTCOMES.length);
  /** The pair as prom-client labels, built once. */
  readonly labels: { readonly queue: string; readonly task: string };

  constructor(
    readonly queue: string,
    readonly task: string,
  ) {
    this.labels = { queue, task };
  }
}

/**
 * Every pair's tally. A pair is made the first time it is seen; names that are no
 * registered handler all share the UNREGISTERED_TASK tally of their queue, and are not kept
 * as keys, so the number of pairs is bounded by queues x (handlers + 2).
 */
export class TaskTallies {
  private readonly byQueue = new Map<string, Map<string | null, TaskTally>>();
  /** Every tally, in the order made. */
  readonly all: TaskTally[] = [];

  constructor(
    /** Whether a task name is a handler registered on this worker. */
    private readonly isRegistered: (name: string) => boolean,
    /** The duration buckets' upper bounds, in seconds, ascending. */
    readonly bounds: readonly number[],
  ) {}

  /** The tally of a task of `queue` named `name` (null: unreadable bytes). */
  get(queue: string, name: string | null): TaskTally {
    const byName = this.byQueue.get(queue);
    return byName?.get(name) ?? this.add(queue, name);
  }

  /** Records a handler's run time (ms) under its outcome (an index into DURATION_OUTCOMES). */
  observe(tally: TaskTally, outcome: number, duration: number): void {
    let durations = tally.durations[outcome];
    if (durations === undefined) {
      durations = tally.durations[outcome] = new DurationTally(this.bounds.length);
    }
    durations.observe(duration / 1000, this.bounds);
  }

  /** Forgets every duration (prom-client's `registry.resetMetrics()`); counters are kept. */
  resetDurations(): void {
    for (const tally of this.all) tally.durations.fill(undefined);
  }

  private add(queue: string, name: string | null): TaskTally {
    let byName = this.byQueue.get(queue);
    if (byName === undefined) this.byQueue.set(queue, (byName = new Map()));
    const label =
      name === null ? UNREADABLE_TASK : this.isRegistered(name) ? name : UNREGISTERED_TASK;
    let tally = byName.get(label);
    if (tally === undefined) {
      tally = new TaskTally(queue, label);
      byName.set(label, tally);
      this.all.push(tally);
    }
    // A name that is its own label (a handler's, or null) is kept as a key; any other name
    // is looked up again next time, so junk names never pile up here.
    if (name === null || label === name) byName.set(name, tally);
    return tally;
  }
}
