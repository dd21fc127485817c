/**
 * What the scenarios need from a queue library, so that every scenario is written once and
 * runs the same way against nestjs-delayed and BullMQ. Every task carries the same payload,
 * the handler name `Bench:noop` and one argument: its index.
 */
export type ContenderId = 'ours' | 'bullmq';

export const CONTENDER_LABELS: Record<ContenderId, string> = {
  ours: 'nestjs-delayed',
  bullmq: 'BullMQ',
};

export const TASK_NAME = 'Bench:noop';
/** The task whose handler returns its one argument, for the result round trips. */
export const ECHO_NAME = 'Bench:echo';
export const QUEUE_NAME = 'bench-q';

export interface WorkerHooks {
  readonly concurrency: number;
  /** Called when the handler starts, with the task's index. */
  readonly onStart?: (index: number) => void;
  /** Called when the library reports the task completed. */
  readonly onCompleted?: () => void;
  /**
   * The fixed backoff (ms) before a failed task's retry, for tasks added by `addBulkRetried`
   * (ours declares it on the handler, BullMQ on each job). A throwing `onStart` fails the
   * attempt.
   */
  readonly backoffMs?: number;
  /** A rate limit for the worker's queue (ours: a Queue option; BullMQ: the worker's limiter). */
  readonly rateLimit?: { readonly max: number; readonly window: number };
  /**
   * Also serve `Bench:echo`, whose handler returns its argument (ours: a second handler;
   * BullMQ: the processor returns the job's data).
   */
  readonly echo?: boolean;
  /**
   * Everything an operator turns on, as a production app would (see scenarios/operate.ts).
   * Ours: DelayedMetricsModule's metrics, events published for other processes, and a span
   * per run through DelayedTracingModule's instrument with an OpenTelemetry SDK that records
   * 1 % of runs ('sampled') or every run ('recorded'). BullMQ: listeners on its worker's
   * events feeding Prometheus counters and a duration histogram (it has no tracing of its
   * own without another package; its events stream is always on).
   */
  readonly instrumented?: 'untraced' | 'sampled' | 'recorded';
}

/** A worker whose connections are set up but which does not fetch yet. */
export interface BenchWorker {
  /** Starts fetching; resolves once it does. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface Contender {
  readonly id: ContenderId;
  /** Connects the producer side. Never timed. */
  open(): Promise<void>;
  /** Adds task `index`, one round trip awaited by the caller. */
  add(index: number): Promise<void>;
  /** Adds tasks `from .. from + count - 1` with the library's bulk call. */
  addBulk(from: number, count: number): Promise<void>;
  /** Tasks waiting to be taken. */
  backlog(): Promise<number>;
  /** Adds task `index` to run after `delayMs`, one round trip awaited by the caller. */
  addScheduled(index: number, delayMs: number): Promise<void>;
  /** Adds tasks `from .. from + count - 1`, all to run after `delayMs`, in one bulk call. */
  addScheduledBulk(from: number, count: number, delayMs: number): Promise<void>;
  /** Tasks scheduled and not due yet. */
  scheduledBacklog(): Promise<number>;
  /** Adds tasks `from .. from + count - 1` in bulk, each retried once if it fails. */
  addBulkRetried(from: number, count: number): Promise<void>;
  /**
   * Starts a periodic schedule of `Bench:noop` every `everyMs`: a worker then calls
   * `onStart` with each tick's planned time (ms since the epoch) instead of an index.
   * Resolves with a function that removes the schedule (and stops what fires it).
   */
  startEvery(everyMs: number): Promise<() => Promise<void>>;
  /**
   * Connects what waiting for results needs beyond the producer (BullMQ: one QueueEvents;
   * ours: nothing, its waiters share a subscriber the library opens at the first wait).
   * Never timed.
   */
  openResults(): Promise<void>;
  /**
   * Enqueues `Bench:echo` carrying `value` (ours: its one argument; BullMQ: the job's data)
   * and resolves with the result the library hands back once a worker built with `echo` has
   * run it (ours: `queue.call` then `handle.result`; BullMQ: `queue.add` then
   * `job.waitUntilFinished` on the QueueEvents of `openResults`).
   */
  callEcho(value: unknown, timeoutMs: number): Promise<unknown>;
  /**
   * Builds a worker with its own connections and waits until they are up. What stays
   * untimed is only the connecting; the library's own start-up work is timed.
   */
  worker(hooks: WorkerHooks): Promise<BenchWorker>;
  /**
   * One look at Redis: true once it shows all `count` tasks finished (nothing waiting or
   * held). Both sides pay this round trip at the end of a timed drain.
   */
  finished(count: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The silent logger our worker gets: no logging on the clock. */
export const silentLogger = {
  log(): void {},
  warn(): void {},
  error(): void {},
};
