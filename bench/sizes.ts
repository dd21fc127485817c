/**
 * How many tasks each scenario moves, derived from the base count `n` so that one flag
 * scales the whole bench. Fast scenarios move more tasks, so that no timed window is only a
 * few milliseconds long (where timer and GC noise would dominate).
 */
export interface Sizes {
  readonly sequentialAdd: number;
  readonly concurrentAdd: number;
  /** Tasks in flight in the concurrent-add scenario. */
  readonly inFlight: number;
  readonly bulkAdd: number;
  readonly bulkBatches: readonly number[];
  readonly drainC1: number;
  readonly drainC100: number;
  /**
   * Tasks of each c100 drain of the operate group: more than drainC100, because it compares
   * ours with itself, and a drain of ours that ends in a tenth of a second is mostly JIT
   * warm-up of the code being compared.
   */
  readonly operateDrain: number;
  /** Enqueue->start samples per run and worker concurrency. */
  readonly latencySamples: number;
  /** Pause after each latency sample, so the next one finds the worker idle again (ms). */
  readonly latencyGapMs: number;
  readonly memory: number;
  /** Tasks scheduled at random instants over `latenessWindowMs`, for their lateness. */
  readonly lateness: number;
  readonly latenessWindowMs: number;
  /** Tasks due at one instant, for the promotion rate. */
  readonly sameInstant: number;
  /** Far-future tasks waiting while the CPU of an idle worker and Redis is measured. */
  readonly farFuture: number;
  /** How long that idle CPU is measured (ms). */
  readonly idleWindowMs: number;
  /** Tasks retried once after a backoff. */
  readonly backoffTasks: number;
  /** Ticks of a periodic schedule measured. */
  readonly ticks: number;
  /** Tasks through a queue limited to 1,000 starts per second. */
  readonly rateLimited: number;
  /** Enqueue-and-await-result round trips made one at a time. */
  readonly resultSequential: number;
  /** Round trips made with 100 outstanding. */
  readonly resultConcurrent: number;
  /** Tasks whose results are left stored, for the bytes per result. */
  readonly resultMemory: number;
  readonly peerDrain: number;
  /** Batch sizes of the data-queue group (put, get+done). */
  readonly dataBatches: readonly number[];
  /** Items per data-queue run at batch 1 (one round trip or more per item on both sides). */
  readonly dataSingle: number;
  /** Items per data-queue run at the bigger batch sizes. */
  readonly dataBatched: number;
  /** redis-benchmark -n */
  readonly ceilingRequests: number;
}

export function sizesFor(n: number, smoke: boolean): Sizes {
  return {
    sequentialAdd: n,
    concurrentAdd: 4 * n,
    inFlight: 1_000,
    bulkAdd: 4 * n,
    bulkBatches: [50, 1_000],
    drainC1: n,
    drainC100: 4 * n,
    operateDrain: 20 * n,
    latencySamples: smoke ? 100 : 500,
    latencyGapMs: 1,
    memory: 4 * n,
    lateness: 2 * n,
    latenessWindowMs: smoke ? 1_000 : 10_000,
    sameInstant: 20 * n,
    farFuture: smoke ? 10_000 : 1_000_000,
    idleWindowMs: smoke ? 1_000 : 10_000,
    backoffTasks: smoke ? 200 : 2_000,
    ticks: smoke ? 10 : 50,
    rateLimited: smoke ? 1_500 : 5_000,
    resultSequential: smoke ? 100 : 500,
    resultConcurrent: n,
    resultMemory: smoke ? 300 : 1_000,
    peerDrain: n,
    dataBatches: [1, 100, 1_000],
    dataSingle: 4 * n,
    dataBatched: 20 * n,
    ceilingRequests: smoke ? 20_000 : 200_000,
  };
}

/** The discarded warm-up run: every code path once, JIT warm, scripts loaded. */
export function warmUpSizes(n: number): Sizes {
  return { ...sizesFor(Math.min(n, 1_000), true), latencySamples: 50, resultSequential: 50 };
}
