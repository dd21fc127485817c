import { randomBytes } from 'node:crypto';
import {
  type CallOptions,
  type DeadLetter,
  decodeTask,
  type DelayedLogger,
  DrainTimeoutError,
  encodeTask,
  errorMessage,
  type HandlerEntry,
  type HandlerRegistry,
  InvalidOptionsError,
  type Kwargs,
  type NodeTask,
  PyTask,
  type QueueWork,
  RateLimitedError,
  ResultTimeoutError,
  runInTaskContext,
  type ScheduleBehavior,
  type ScheduleChange,
  type ScheduledTask,
  type ScheduleInfo,
  type ScheduleTime,
  type ScheduleTiming,
  ShutdownDeadlineError,
  type Task,
  TaskCancelledError,
  type TaskContext,
  TaskFailedError,
  TaskNotFoundError,
  TaskResultError,
  type TaskStatus,
  TaskTimeoutError,
  UnrecoverableError,
} from '../core/index.js';
import { checkCallOptions, dueTime } from './inline-call-options.js';
import { InlineSchedules } from './inline-schedules.js';
import { ENDED_STATES, type InlineTask, type InlineTaskState } from './inline-task.js';

/** How tasks run under DelayedTestingModule. */
export type RunMode = 'immediate' | 'manual';

export interface InlineRunnerOptions {
  readonly runMode: RunMode;
  /** Whether a task that fails for good becomes a dead letter (state `dead`) or is dropped (`failed`). */
  readonly deadLetter: boolean;
  readonly handlers: HandlerRegistry;
  readonly logger: DelayedLogger;
}

/** One attempt of a task in progress. */
interface Attempt {
  readonly record: TaskRecord;
  /** Aborts the handler's signal (its timeout, the app's shutdown). */
  readonly abort: AbortController;
  /** Settles when the attempt has ended and its outcome is recorded; never rejects. */
  done: Promise<void>;
}

/** The outcome a tracked task's waiters get. */
type Outcome = { readonly value: unknown } | { readonly error: Error };

/** The mutable record behind an InlineTask (internal to the testing module). */
export class TaskRecord implements InlineTask {
  state: InlineTaskState = 'waiting';
  attempts = 0;
  result: unknown = undefined;
  error: unknown = undefined;
  readonly errors: unknown[] = [];
  progress: unknown = undefined;
  scheduledId: string | undefined = undefined;
  dueAt: number | undefined = undefined;
  /** The unique key it holds (queue and key), if any. */
  uniqueKey: string | undefined = undefined;
  /** Whether its failure keeps the error's stack (tracked calls that ask for it). */
  stack = false;
  /** Waiters of `result()`, told when it ends. */
  readonly waiters = new Set<() => void>();

  constructor(
    readonly seq: number,
    readonly queue: string,
    readonly task: Task,
    /** Its bytes, which each attempt decodes its arguments from, as a worker does. */
    readonly bytes: Buffer,
    readonly name: string,
    readonly args: readonly unknown[],
    readonly kwargs: Kwargs,
    /** Its retry budget: the retry count its next attempt carries. */
    public retry: number,
    readonly id: string | undefined,
  ) {}

  get retriesLeft(): number {
    return this.retry < 0 ? -1 : this.retry;
  }
}

/**
 * The engine of DelayedTestingModule: every task enqueued through its DelayedQueues, kept in
 * memory and run in this process by the `@Task()` handlers the explorer found, in the
 * handler's task context (`currentTask()`), with the retries, timeouts and outcomes a worker
 * gives them. No Redis: nothing leaves the process.
 *
 * Tasks start once the app has bootstrapped (as a worker does): in `immediate` mode each one
 * on the turn of the event loop after its enqueue, so the caller goes on first as with a real
 * queue; in `manual` mode only when the test drains or steps. Scheduled tasks wait until the
 * test releases them; a backoff's wait is skipped (the retry is queued at once).
 */
export class InlineRunner {
  readonly schedules = new InlineSchedules();
  private readonly records: TaskRecord[] = [];
  /** Tasks to start, oldest first. */
  private waiting: TaskRecord[] = [];
  /** Attempts in progress (a task's retry may start before its failed attempt is let go). */
  private readonly running = new Set<Attempt>();
  private readonly tracked = new Map<string, TaskRecord>();
  private readonly uniqueHolders = new Map<string, TaskRecord>();
  private readonly letters = new Map<string, DeadLetter[]>();
  /** Queues paused: their tasks wait (and drain() does not wait for them) until resumed. */
  private readonly paused = new Set<string>();
  private seq = 0;
  private letterSeq = 0;
  private started = false;
  private stopped = false;
  private pumpQueued = false;
  /** The id a handler sees as its worker id. */
  private readonly workerId = `inline:${randomBytes(6).toString('hex')}`;

  constructor(private readonly options: InlineRunnerOptions) {}

  get runMode(): RunMode {
    return this.options.runMode;
  }

  /** Every task recorded, in enqueue order. */
  get all(): readonly InlineTask[] {
    return this.records;
  }

  /** Starts running tasks: called once the app has bootstrapped and its handlers are known. */
  start(): void {
    this.started = true;
    // Tasks enqueued while the app was starting are judged now that every handler is known.
    const queued = this.waiting;
    this.waiting = [];
    for (const record of queued) this.admit(record);
  }

  /**
   * Stops starting tasks and aborts the running ones' signals with a ShutdownDeadlineError,
   * as a worker does at its shutdown deadline; such an attempt spends no retry.
   */
  stop(): void {
    this.stopped = true;
    for (const { abort } of this.running) {
      abort.abort(new ShutdownDeadlineError('DelayedTestingModule: the app is shutting down'));
    }
  }

  /** Records a task and queues it (or schedules it); throws what a real enqueue would. */
  enqueue(queue: string, task: Task, dueAt?: number, id?: string): TaskRecord {
    const record = this.record(queue, task, id);
    this.records.push(record);
    if (id !== undefined) this.tracked.set(id, record);
    if (dueAt === undefined) this.admit(record);
    else this.hold(record, dueAt);
    return record;
  }

  /** Records many tasks, all or none: every one is encoded before any is queued. */
  enqueueMany(queue: string, tasks: readonly Task[], dueAt?: number): TaskRecord[] {
    const records = tasks.map((task) => this.record(queue, task, undefined));
    for (const record of records) {
      this.records.push(record);
      if (dueAt === undefined) this.admit(record);
      else this.hold(record, dueAt);
    }
    return records;
  }

  /** Schedules a task: what `cancel()` takes. */
  schedule(queue: string, task: Task, when: ScheduleTime): ScheduledTask {
    const record = this.enqueue(queue, task, dueTime(when));
    return { id: record.scheduledId!, queue, dueAt: record.dueAt! };
  }

  scheduleMany(queue: string, tasks: readonly Task[], when: ScheduleTime): ScheduledTask[] {
    return this.enqueueMany(queue, tasks, dueTime(when)).map((record) => ({
      id: record.scheduledId!,
      queue,
      dueAt: record.dueAt!,
    }));
  }

  /**
   * A tracked call: its record, and whether it was created (false when a unique call found
   * its key held: the record is then the holder's).
   */
  call(queue: string, task: NodeTask, options: CallOptions): [TaskRecord, boolean] {
    const { dueAt, stack, unique } = checkCallOptions(options);
    const uniqueKey = unique === undefined ? undefined : `${queue}\u0000${unique.key}`;
    if (uniqueKey !== undefined) {
      const holder = this.uniqueHolders.get(uniqueKey);
      if (holder !== undefined) return [holder, false];
    }
    const record = this.enqueue(queue, task, dueAt, newTaskId());
    record.stack = stack;
    if (uniqueKey !== undefined) {
      record.uniqueKey = uniqueKey;
      this.uniqueHolders.set(uniqueKey, record);
    }
    return [record, true];
  }

  /** The record of a tracked task, by id. */
  trackedTask(id: string): TaskRecord | undefined {
    return this.tracked.get(id);
  }

  /** Cancels a scheduled task of `queue` that is not due (released) yet. */
  cancelScheduled(queue: string, id: string): boolean {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id)) {
      throw new InvalidOptionsError(
        `Not a scheduled task id (32 hex characters): ${JSON.stringify(id)}`,
      );
    }
    const record = this.records.find(
      (known) => known.scheduledId === id && known.queue === queue && known.state === 'scheduled',
    );
    if (record === undefined) return false;
    this.end(record, 'cancelled');
    return true;
  }

  /** Cancels a tracked task that has not started; false if it had started or ended. */
  cancelTracked(record: TaskRecord): boolean {
    if (record.state === 'waiting') this.waiting = this.waiting.filter((known) => known !== record);
    else if (record.state !== 'scheduled' && record.state !== 'unhandled') return false;
    this.end(record, 'cancelled');
    return true;
  }

  /** What `status()` tells of a tracked task. */
  status(record: TaskRecord): TaskStatus {
    // A task no handler here runs waits in its queue, for a worker that has one.
    const state = record.state === 'unhandled' ? 'waiting' : record.state;
    return {
      state,
      ...(record.progress === undefined ? {} : { progress: record.progress }),
      attempts: record.attempts,
    };
  }

  /** Waits for a tracked task's outcome, as `TaskHandle.result()` does. */
  result(record: TaskRecord, timeout: number): Promise<unknown> {
    const outcome = this.outcome(record);
    if (outcome !== undefined) {
      return 'value' in outcome ? Promise.resolve(outcome.value) : Promise.reject(outcome.error);
    }
    return new Promise((resolve, reject) => {
      const told = (): void => {
        clearTimeout(timer);
        const ended = this.outcome(record)!;
        if ('value' in ended) resolve(ended.value);
        else reject(ended.error);
      };
      const timer = setTimeout(() => {
        record.waiters.delete(told);
        reject(
          new ResultTimeoutError(
            `Task ${record.id} on queue "${record.queue}" did not end within ${timeout} ms`,
          ),
        );
      }, timeout);
      record.waiters.add(told);
    });
  }

  /** Tasks of a queue waiting to run (those no handler here runs included, as in Redis). */
  len(queue: string): number {
    let count = 0;
    for (const record of this.records) {
      if (record.queue === queue && (record.state === 'waiting' || record.state === 'unhandled'))
        count++;
    }
    return count;
  }

  scheduledCount(queue: string): number {
    let count = 0;
    for (const record of this.records) {
      if (record.queue === queue && record.state === 'scheduled') count++;
    }
    return count;
  }

  /** The dead letters of a queue, oldest first (the live list). */
  deadLetters(queue: string): DeadLetter[] {
    let letters = this.letters.get(queue);
    if (letters === undefined) {
      letters = [];
      this.letters.set(queue, letters);
    }
    return letters;
  }

  /** Puts a dead letter's task back into its queue, as a new task. */
  requeueLetter(letter: DeadLetter): void {
    const decoded = decodeTask(letter.task);
    if (decoded.kind !== 'py') return;
    this.enqueue(
      letter.queue,
      new PyTask(decoded.funcPath, decoded.args, decoded.kwargs, decoded.retry),
    );
  }

  setSchedule(
    queue: string,
    name: string,
    timing: ScheduleTiming,
    task: Task,
    behavior: ScheduleBehavior,
  ): ScheduleChange {
    return this.schedules.set(queue, name, timing, task, behavior);
  }

  scheduleInfo(queue: string, name: string): ScheduleInfo | undefined {
    return this.schedules.get(queue, name);
  }

  /**
   * Moves scheduled tasks due at or before `until` (default: every one, whatever its time)
   * into their queues, earliest first, as if their time had come. Returns them.
   */
  releaseScheduled(until = Number.POSITIVE_INFINITY): TaskRecord[] {
    const due = this.records
      .filter((record) => record.state === 'scheduled' && record.dueAt! <= until)
      .sort((a, b) => a.dueAt! - b.dueAt! || a.seq - b.seq);
    for (const record of due) {
      record.scheduledId = undefined;
      this.admit(record);
    }
    return due;
  }

  /** Enqueues one tick of a periodic schedule (see InlineSchedules.tick). */
  fireSchedule(queue: string, name: string, at?: number): TaskRecord {
    return this.enqueue(queue, this.schedules.tick(queue, name, at));
  }

  /**
   * Starts every waiting task and waits until none is waiting or running, the ones those
   * tasks enqueue and their retries included; scheduled tasks are not waited for. Rejects
   * with a DrainTimeoutError naming what is left after `timeout` ms.
   */
  async drain(timeout: number): Promise<void> {
    this.requireStarted('drain()');
    const deadline = Date.now() + timeout;
    for (;;) {
      this.startWaiting();
      if (this.running.size === 0) return;
      const left = deadline - Date.now();
      if (left <= 0) throw this.drainTimeout(timeout);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, left)));
      await Promise.race([Promise.all([...this.running].map((attempt) => attempt.done)), expired]);
      clearTimeout(timer);
    }
  }

  /**
   * Runs one attempt of the oldest waiting task of a queue that is not paused and returns
   * it, or undefined if none waits.
   */
  async runNext(): Promise<InlineTask | undefined> {
    this.requireStarted('runNext()');
    const index = this.waiting.findIndex((record) => !this.paused.has(record.queue));
    if (index < 0) return undefined;
    const [record] = this.waiting.splice(index, 1);
    await this.begin(record!);
    return record;
  }

  /** Pauses a queue as `Queue.pause()` does: its tasks wait until resumed. */
  pause(queue: string): boolean {
    if (this.paused.has(queue)) return false;
    this.paused.add(queue);
    return true;
  }

  /** Resumes a paused queue; its waiting tasks start as a worker's would. */
  resume(queue: string): boolean {
    if (!this.paused.delete(queue)) return false;
    if (this.options.runMode === 'immediate' && this.started) this.pumpSoon();
    return true;
  }

  isPaused(queue: string): boolean {
    return this.paused.has(queue);
  }

  /**
   * Forgets every task and dead letter: those scheduled or waiting never run. Refused while
   * a task runs (drain first). Schedules and handlers stay.
   */
  clear(): void {
    if (this.running.size > 0) {
      throw new InvalidOptionsError(
        `clear(): ${this.running.size} task(s) still running; await drain() first`,
      );
    }
    const forgotten = this.records.splice(0);
    this.waiting = [];
    this.tracked.clear();
    this.uniqueHolders.clear();
    this.letters.clear();
    // Their waiters learn that the task is unknown now, as after a record expired.
    for (const record of forgotten) {
      for (const told of record.waiters) told();
      record.waiters.clear();
    }
  }

  /** A new record of a task, or the error a real enqueue would throw. */
  private record(queue: string, task: Task, id: string | undefined): TaskRecord {
    // The arguments travel as they would through Redis: what MessagePack cannot carry fails
    // here as it would in production, and the handler gets decoded copies, never the caller's
    // objects.
    const bytes = encodeTask(task);
    const decoded = decodeTask(bytes);
    const [args, kwargs, retry] =
      decoded.kind === 'py' ? [decoded.args, decoded.kwargs, decoded.retry] : [task.args, {}, 0];
    return new TaskRecord(
      ++this.seq,
      queue,
      task,
      bytes,
      decoded.funcPath,
      args,
      kwargs,
      retry,
      id,
    );
  }

  /** A record waiting for its time (or for the test to release it). */
  private hold(record: TaskRecord, dueAt: number): void {
    record.state = 'scheduled';
    record.dueAt = dueAt;
    record.scheduledId =
      Math.max(0, dueAt).toString(16).padStart(16, '0') + randomBytes(8).toString('hex');
  }

  /** Queues a record to run, or marks it unhandled when no handler here runs it. */
  private admit(record: TaskRecord): void {
    if (this.started && this.entryOf(record) === undefined) {
      record.state = 'unhandled';
      return;
    }
    record.state = 'waiting';
    this.waiting.push(record);
    if (this.options.runMode === 'immediate' && this.started) this.pumpSoon();
  }

  /** Starts the waiting tasks on the next turn, not now: the caller goes on first, as with a real queue. */
  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.startWaiting();
    });
  }

  private entryOf(record: TaskRecord): HandlerEntry | undefined {
    return record.task instanceof PyTask ? this.options.handlers.get(record.name) : undefined;
  }

  private startWaiting(): void {
    if (this.stopped) return;
    const queued = this.waiting;
    this.waiting = [];
    for (const record of queued) {
      if (this.paused.has(record.queue)) this.waiting.push(record);
      else void this.begin(record);
    }
  }

  /** Starts an attempt; its promise never rejects. */
  private begin(record: TaskRecord): Promise<void> {
    const abort = new AbortController();
    const attempt: Attempt = { record, abort, done: Promise.resolve() };
    this.running.add(attempt);
    attempt.done = this.run(record, abort)
      .catch((error: unknown) => {
        // A defect of the recording itself (a logger that throws, say), not the handler's.
        record.state = 'failed';
        record.error = error;
      })
      .finally(() => this.running.delete(attempt));
    return attempt.done;
  }

  private async run(record: TaskRecord, abort: AbortController): Promise<void> {
    const entry = this.entryOf(record)!;
    record.state = 'running';
    record.attempts += 1;
    const decoded = decodeTask(record.bytes);
    const [args, kwargs] = decoded.kind === 'py' ? [decoded.args, decoded.kwargs] : [[], {}];
    const context: TaskContext = {
      queue: record.queue,
      name: record.name,
      workerId: this.workerId,
      retriesLeft: record.retriesLeft,
      signal: abort.signal,
      id: record.id,
      progress: (value: unknown) => this.progress(record, value),
    };
    // Only handlers with a timeout get a deadline; it runs from the attempt's start.
    const { timeout } = entry;
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            abort.abort(
              new TaskTimeoutError(`Task "${record.name}" timed out after ${timeout} ms`),
            );
          }, timeout);
    let outcome: { value: unknown } | { error: unknown };
    try {
      const value = runInTaskContext(
        context,
        entry.handler,
        Object.keys(kwargs).length > 0 ? [...args, kwargs] : args,
      );
      outcome = { value: isPromiseLike(value) ? await raceSignal(value, abort.signal) : value };
    } catch (error) {
      outcome = { error };
    } finally {
      clearTimeout(timer);
    }
    if ('value' in outcome) this.succeed(record, outcome.value);
    else this.fail(record, entry, outcome.error, abort.signal);
  }

  private succeed(record: TaskRecord, value: unknown): void {
    if (record.id !== undefined) {
      try {
        // A tracked result is stored as MessagePack: the waiter gets what a worker would send.
        value = roundTrip(value ?? null);
      } catch (error) {
        const message = `Task "${record.name}" returned a result that cannot be stored: ${errorMessage(error)}`;
        this.options.logger.error(message);
        record.error = new TaskResultError(message);
        record.errors.push(record.error);
        this.end(record, 'failed');
        return;
      }
    }
    record.result = value;
    this.end(record, 'done');
  }

  private fail(record: TaskRecord, entry: HandlerEntry, error: unknown, signal: AbortSignal): void {
    const { logger } = this.options;
    if (this.stopped && signal.reason instanceof ShutdownDeadlineError) {
      // Interrupted, not failed: a worker leaves such a task to a sweeper, retry unspent.
      record.state = 'waiting';
      return;
    }
    record.error = error;
    record.errors.push(error);
    if (signal.reason instanceof TaskTimeoutError && error === signal.reason) {
      logger.warn(
        `Task "${record.name}" on queue "${record.queue}" timed out after ${entry.timeout} ms; if its handler ignores its signal it keeps running`,
      );
    }
    if (error instanceof RateLimitedError) {
      // Back after the wait it asked for, no retry spent: scheduled, for the test to release.
      record.state = 'scheduled';
      record.dueAt = Date.now() + error.retryIn;
      return;
    }
    if (record.retry === 0 || error instanceof UnrecoverableError) {
      this.bury(record, error);
      return;
    }
    if (record.retry > 0) record.retry -= 1;
    const left = record.retry < 0 ? 'for ever' : `${record.retry} more time(s)`;
    logger.warn(
      `Task "${record.name}" failed, retrying ${left}${entry.backoff === undefined ? '' : ' (its backoff wait skipped under DelayedTestingModule)'}: ${errorMessage(error)}`,
    );
    this.admit(record);
  }

  private bury(record: TaskRecord, error: unknown): void {
    const kept = this.options.deadLetter;
    const message =
      errorMessage(error) +
      (error instanceof UnrecoverableError ? ' (unrecoverable: no retry)' : '');
    this.options.logger.error(
      `Task "${record.name}" on queue "${record.queue}" ${kept ? 'moved to dead letters' : 'dropped'} (failed): ${message}`,
      error instanceof Error ? error.stack : undefined,
    );
    if (kept) {
      // The bytes of its last attempt, its retry budget spent, as a worker writes them.
      const task = decodeTask(record.bytes);
      const bytes =
        task.kind === 'py'
          ? encodeTask(new PyTask(task.funcPath, task.args, task.kwargs, record.retry))
          : record.bytes;
      const raw = Buffer.alloc(8);
      raw.writeBigUInt64BE(BigInt(++this.letterSeq));
      this.deadLetters(record.queue).push({
        task: bytes,
        queue: record.queue,
        reason: 'failed',
        error: message,
        funcPath: record.name,
        failedAt: Date.now(),
        raw: Buffer.concat([raw, bytes]),
      });
    }
    this.end(record, kept ? 'dead' : 'failed');
  }

  /** Ends a task: its unique key freed, its waiters told. */
  private end(record: TaskRecord, state: InlineTaskState): void {
    record.state = state;
    if (record.uniqueKey !== undefined && this.uniqueHolders.get(record.uniqueKey) === record) {
      this.uniqueHolders.delete(record.uniqueKey);
    }
    for (const told of record.waiters) told();
    record.waiters.clear();
  }

  private outcome(record: TaskRecord): Outcome | undefined {
    if (!ENDED_STATES.has(record.state)) {
      // Forgotten by clear(): unknown, as an expired record is.
      if (!this.records.includes(record)) {
        return {
          error: new TaskNotFoundError(
            `Task ${record.id} is unknown: it was not tracked, or its record expired (results are kept for their ttl)`,
          ),
        };
      }
      return undefined;
    }
    if (record.state === 'done') return { value: record.result };
    if (record.state === 'cancelled') {
      return { error: new TaskCancelledError(`Task ${record.id} was cancelled before it ran`) };
    }
    const error = record.error;
    const known = error instanceof Error;
    return {
      error: new TaskFailedError(
        known ? error.message : String(error),
        known ? error.name : 'Error',
        record.state as 'failed' | 'dead',
        record.stack && known ? error.stack : undefined,
      ),
    };
  }

  private progress(record: TaskRecord, value: unknown): Promise<void> {
    if (record.id === undefined) {
      record.progress = value;
      return Promise.resolve();
    }
    try {
      record.progress = roundTrip(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  private requireStarted(what: string): void {
    if (!this.started) {
      throw new InvalidOptionsError(
        `${what}: the app has not been initialised, so its @Task() handlers are not known yet; call await moduleRef.init() (or app.init()) first`,
      );
    }
  }

  private drainTimeout(timeout: number): DrainTimeoutError {
    const byQueue = new Map<string, { waiting: number; processing: number; names: Set<string> }>();
    const count = (record: TaskRecord, field: 'waiting' | 'processing') => {
      let work = byQueue.get(record.queue);
      if (work === undefined) {
        work = { waiting: 0, processing: 0, names: new Set() };
        byQueue.set(record.queue, work);
      }
      work[field] += 1;
      work.names.add(record.name);
    };
    for (const { record } of this.running) count(record, 'processing');
    for (const record of this.waiting) count(record, 'waiting');
    const left: QueueWork[] = [...byQueue].map(([queue, work]) => ({
      queue,
      waiting: work.waiting,
      processing: work.processing,
      scheduled: 0,
    }));
    const described = [...byQueue]
      .map(
        ([queue, work]) =>
          `queue "${queue}": ${work.processing} running, ${work.waiting} waiting (${[...work.names].join(', ')})`,
      )
      .join('; ');
    return new DrainTimeoutError(`Not drained after ${timeout} ms: ${described}`, left);
  }
}

/** A value as it comes back from MessagePack, the way a worker would store and send it. */
function roundTrip(value: unknown): unknown {
  // The task codec is the public way to MessagePack here; a one-element args array carries it.
  const decoded = decodeTask(encodeTask(new PyTask('result', [value])));
  return decoded.kind === 'py' ? decoded.args[0] : undefined;
}

/** The handler's outcome, or the signal's reason once it aborts first (timeout, shutdown). */
function raceSignal<T>(work: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.then(undefined, () => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A new tracked task id: 16 random bytes as 32 hex characters, as the real ones. */
function newTaskId(): string {
  return randomBytes(16).toString('hex');
}
