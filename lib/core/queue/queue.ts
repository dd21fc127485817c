import type { RedisClient } from '../redis/client.js';
import { DEFAULT_QUEUE_NAME } from '../defaults.js';
import { InvalidOptionsError } from '../errors.js';
import { MAX_DURATION, TASKS_PER_ENQUEUE_CALL } from '../limits.js';
import {
  DEAD_LETTER_OPTIONS,
  type DeadLetterSettings,
  QUEUE_OPTIONS,
  resolveSettings,
  throwOnProblems,
} from '../options.js';
import { encodeNodeTaskWithOptions, encodeTask } from '../protocol/codec.js';
import { type QueueKeys, queueKeys } from '../protocol/keys.js';
import { NodeTask, type Task } from '../protocol/task.js';
import { isCluster, whenReady, withinTimeout } from '../redis/connection.js';
import { clusterNameProblem } from '../protocol/hash-tag.js';
import { scripts } from '../redis/lua-scripts.js';
import { Schedules } from '../schedules/schedules.js';
import { TaskHandle } from '../tracking/task-handle.js';
import { checkTaskId } from '../tracking/task-id.js';
import { type CallOptions, callTask } from '../tracking/tracked-call.js';
import { DeadLetters } from './dead-letters.js';
import {
  type DurableOptions,
  type DurableSettings,
  resolveDurable,
  waitForReplicas,
  type WriteTarget,
  writeTarget,
} from './durable-writes.js';
import { addedTaskOptions, type NodeTaskOptions } from './node-task-options.js';
import {
  parseScheduledTaskId,
  reserveScheduleSuffixes,
  scheduleArgs,
  type ScheduledTask,
  scheduledTaskId,
  suffixedTask,
  type ScheduleTime,
} from './schedule.js';
import { scheduleSignals } from './schedule-signals.js';

export interface QueueOptions {
  /**
   * Where tasks that cannot be run go. `false` drops them after logging (delayed's strict
   * "clean" behaviour). Default: on, bounded to 10,000 entries.
   */
  readonly deadLetter?: false | Partial<DeadLetterSettings>;
  /**
   * How long an enqueue or a sweep waits for an unreachable Redis before it fails with a
   * RedisUnavailableError (ms). Default 5,000.
   */
  readonly redisTimeout?: number;
  /**
   * At most `max` tasks of this queue started in any window of `window` ms, across every
   * worker that serves it with this option (Node workers only: Python and Go workers do not
   * read it). Tasks wait in the queue meanwhile; scheduled tasks keep moving. Default none.
   */
  readonly rateLimit?: RateLimit;
  /**
   * Entries to add to the options map (the fifth element) of every NodeTask this queue
   * enqueues, schedules or calls: called per task, in the caller's context, when it is
   * encoded; undefined adds nothing. For integrations such as tracing
   * (`nestjs-delayed/tracing`). PyTasks and GoTasks never get a fifth element (their
   * workers cannot read one), nor do bytes given as a Buffer. Default none: tasks are
   * written exactly as the peers write them.
   */
  readonly nodeTaskOptions?: NodeTaskOptions;
  /**
   * Makes each enqueue and schedule wait until `replicas` replicas hold it (Redis' WAIT,
   * for at most `timeout` ms), so a failover right after it resolves cannot lose it; fewer
   * in time fail the call with a NotReplicatedError (the task is written all the same).
   * `true` means `{ replicas: 1, timeout: 1_000 }`. Costs one more round trip, to a replica
   * and back. Default off: Redis replicates asynchronously.
   */
  readonly durable?: boolean | DurableOptions;
}

/** A queue's rate limit: at most `max` task starts in any window of `window` ms. */
export interface RateLimit {
  readonly max: number;
  readonly window: number;
}

/** Tasks enqueued in one turn of the event loop, written together. */
class EnqueueBatch {
  readonly tasks: Buffer[] = [];
  resolve!: () => void;
  reject!: (error: unknown) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/**
 * One delayed queue on one Redis connection, as producers see it: enqueue and counts, and
 * its dead letters. What workers and sweepers do to a queue lives with them
 * (worker/worker-queue.ts, maintenance/requeue-lost.ts).
 */
export class Queue {
  readonly keys: QueueKeys;
  readonly deadLetters: DeadLetters;
  /** Its periodic and cron schedules. */
  readonly schedules: Schedules;
  /** Dead letters kept, or 0 when dead letters are off. */
  readonly deadLetterMaxLength: number;
  readonly redisTimeout: number;
  /** Its rate limit, checked, or undefined. */
  readonly rateLimit: RateLimit | undefined;
  /** What it adds to the options map of the NodeTasks it writes (QueueOptions), or undefined. */
  readonly nodeTaskOptions: NodeTaskOptions | undefined;
  /** Its durable writes' settings, or undefined when they are off. */
  readonly durable: DurableSettings | undefined;

  constructor(
    readonly redis: RedisClient,
    readonly name: string = DEFAULT_QUEUE_NAME,
    readonly options: QueueOptions = {},
  ) {
    this.keys = queueKeys(name);
    if (isCluster(redis)) {
      const problem = clusterNameProblem('queue', name);
      if (problem !== undefined) throw new InvalidOptionsError(problem);
    }
    this.deadLetters = new DeadLetters(redis, this.keys);
    const problems: string[] = [];
    this.redisTimeout = resolveSettings(QUEUE_OPTIONS, options, '', problems).redisTimeout;
    this.schedules = new Schedules(redis, this.keys, name, this.redisTimeout);
    problems.push(...rateLimitProblems(options.rateLimit, 'rateLimit'));
    this.rateLimit = options.rateLimit;
    this.nodeTaskOptions = options.nodeTaskOptions;
    this.durable = resolveDurable(options.durable, problems);
    if (this.nodeTaskOptions !== undefined && typeof this.nodeTaskOptions !== 'function') {
      problems.push('nodeTaskOptions must be a function (task, queue) => map or undefined');
    }
    const dead = options.deadLetter;
    this.deadLetterMaxLength =
      dead === false
        ? 0
        : resolveSettings(DEAD_LETTER_OPTIONS, dead ?? {}, 'deadLetter.', problems).maxLength;
    if (dead !== false && problems.some((problem) => problem.startsWith('deadLetter.'))) {
      problems.push('use deadLetter: false to turn dead letters off');
    }
    throwOnProblems('queue options', problems);
  }

  /**
   * Adds a task at the tail, with its notification, atomically. Enqueues made in the same
   * turn of the event loop travel together, up to 10,000 per script call: each task still
   * lands with its own notification in one atomic step, and each promise settles with the
   * script call that carried its task, so a failure is reported only to those it concerns.
   */
  enqueue(task: Task | Buffer): Promise<void> {
    let bytes: Buffer;
    try {
      // Without nodeTaskOptions (the default) the plain path pays one undefined check.
      bytes = Buffer.isBuffer(task)
        ? task
        : this.nodeTaskOptions === undefined
          ? encodeTask(task)
          : this.encodeWithOptions(task);
    } catch (error) {
      return Promise.reject(error);
    }
    const batches = this.batches;
    let batch = batches[batches.length - 1];
    if (batch === undefined || batch.tasks.length === TASKS_PER_ENQUEUE_CALL) {
      if (batches.length === 0) process.nextTick(this.flush);
      batch = new EnqueueBatch();
      batches.push(batch);
    }
    batch.tasks.push(bytes);
    return batch.done;
  }

  /** Adds many tasks in one round trip (one script call per 10,000 tasks, each atomic). */
  async enqueueMany(tasks: readonly (Task | Buffer)[]): Promise<void> {
    if (tasks.length === 0) return;
    const encoded = tasks.map(this.encode);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < encoded.length; i += TASKS_PER_ENQUEUE_CALL) {
      writes.push(this.push(encoded.slice(i, i + TASKS_PER_ENQUEUE_CALL)));
    }
    await Promise.all(writes);
  }

  /** A task's bytes as this queue writes them. */
  private readonly encode = (task: Task | Buffer): Buffer =>
    Buffer.isBuffer(task)
      ? task
      : this.nodeTaskOptions === undefined
        ? encodeTask(task)
        : this.encodeWithOptions(task);

  /** A task's bytes with what nodeTaskOptions adds, for a NodeTask that gets anything. */
  private encodeWithOptions(task: Task): Buffer {
    if (!(task instanceof NodeTask)) return encodeTask(task);
    const added = addedTaskOptions(this.nodeTaskOptions!, task, this.name);
    return added === undefined ? encodeTask(task) : encodeNodeTaskWithOptions(task, added);
  }

  /** This turn's enqueues, each at most TASKS_PER_ENQUEUE_CALL tasks; only the last one still fills. */
  private batches: EnqueueBatch[] = [];

  private readonly flush = (): void => {
    const batches = this.batches;
    this.batches = [];
    for (const batch of batches) this.push(batch.tasks).then(batch.resolve, batch.reject);
  };

  /**
   * One atomic script call; bounded in size so Redis stays responsive (it runs nothing else
   * during one), and in time: it waits for an unreachable Redis at most `redisTimeout`, and
   * fails with a RedisUnavailableError after that.
   */
  private async push(tasks: Buffer[]): Promise<void> {
    await this.write(
      () => scripts.enqueue.run(this.redis, this.keys, tasks),
      `an enqueue of ${tasks.length} task(s)`,
    );
  }

  /**
   * A write of the queue's, as `command` sends it; on a durable queue, resolved only once
   * replicas hold it (see durable-writes.ts).
   */
  async write<T>(send: () => Promise<T>, what: string): Promise<T> {
    if (this.durable === undefined) return this.command(send, what);
    let target: WriteTarget | undefined;
    const result = await this.command(() => {
      target = writeTarget(this.redis, this.keys.tasks);
      return send();
    }, what);
    await waitForReplicas(this.redis, this.keys.tasks, target, this.durable, what);
    return result;
  }

  /**
   * Schedules a task to be enqueued later: after `{ delay }` ms (Redis' clock) or `{ at }` an
   * instant. A worker or sweeper of this library moves it into the queue when it is due, as
   * plain task bytes, so any family member's worker can run it. Returns what `cancel` takes.
   */
  async schedule(task: Task | Buffer, when: ScheduleTime): Promise<ScheduledTask> {
    const [scheduled] = await this.scheduleMany([task], when);
    return scheduled!;
  }

  /** Schedules many tasks for one time, in one atomic script call per 10,000. */
  async scheduleMany(
    tasks: readonly (Task | Buffer)[],
    when: ScheduleTime,
  ): Promise<ScheduledTask[]> {
    const [mode, time] = scheduleArgs(when);
    // Every task is encoded before anything is written: a bad task fails the call whole.
    const encoded = tasks.map(this.encode);
    const scheduled: ScheduledTask[] = [];
    // One run of the sequence for the whole call, so its tasks keep their order.
    reserveScheduleSuffixes(encoded.length);
    // A durable call waits for its replicas once, after every chunk is written: an error
    // then concerns the whole call, and no chunk is left unwritten behind it.
    let target: WriteTarget | undefined;
    for (let i = 0; i < encoded.length; i += TASKS_PER_ENQUEUE_CALL) {
      const args: (string | Buffer)[] = [mode, time, this.keys.wake];
      for (let j = i; j < Math.min(i + TASKS_PER_ENQUEUE_CALL, encoded.length); j++) {
        args.push(suffixedTask(encoded[j]!));
      }
      const [dueAt, now] = (await this.command(
        () => {
          if (i === 0 && this.durable !== undefined) {
            target = writeTarget(this.redis, this.keys.tasks);
          }
          return scripts.schedule.run(this.redis, this.keys, args);
        },
        `a schedule of ${args.length - 3} task(s)`,
      )) as [number, number];
      for (let j = 3; j < args.length; j++) {
        scheduled.push({
          id: scheduledTaskId(dueAt, args[j] as Buffer),
          queue: this.name,
          dueAt,
        });
      }
      // Promoters in this process re-arm at once; others find it within their poll.
      this.scheduled(dueAt - now);
    }
    if (this.durable !== undefined) {
      const what = `a schedule of ${encoded.length} task(s)`;
      await waitForReplicas(this.redis, this.keys.tasks, target, this.durable, what);
    }
    return scheduled;
  }

  /**
   * Cancels a scheduled task that is not due yet. Returns false if it was not scheduled any
   * more (already moved into the queue, or cancelled before).
   */
  async cancel(task: ScheduledTask | string): Promise<boolean> {
    if (typeof task !== 'string' && task.queue !== this.name) {
      throw new InvalidOptionsError(
        `Task ${task.id} was scheduled on queue "${task.queue}", not "${this.name}"`,
      );
    }
    const { prefix } = parseScheduledTaskId(typeof task === 'string' ? task : task.id);
    const cancelled = await this.command(
      () => scripts.cancel.run(this.redis, this.keys, [prefix]),
      'a cancel',
    );
    return cancelled === 1;
  }

  /**
   * Enqueues a task for a Node handler with a record of its own, and returns its handle:
   * its id, `status()`, `result()`, `cancel()`. Opt-in, for calls whose outcome matters; a
   * tracked task is for queues only Node workers serve (see CallOptions and TaskHandle).
   */
  call(task: NodeTask, options?: CallOptions): Promise<TaskHandle> {
    return callTask(this, task, options);
  }

  /** The handle of a tracked task of this queue, by id, from any process. */
  task<R = unknown>(id: string): TaskHandle<R> {
    return new TaskHandle<R>(this, checkTaskId(id));
  }

  /**
   * Pauses the queue across every worker of ours: once this resolves, none takes a task from
   * it (tasks taken before run to their end). Enqueues, scheduled tasks coming due, retries
   * and sweeps go on: their tasks wait in the queue. Python and Go workers do not know of
   * pauses and keep taking tasks. The pause lasts until `resume()`, across restarts.
   * Resolves true if the queue was not paused, false if it was already.
   */
  async pause(): Promise<boolean> {
    const paused = await this.command(
      () => scripts.pause.run(this.redis, this.keys, []),
      'a pause of the queue',
    );
    return paused === 1;
  }

  /**
   * Ends a pause: workers take tasks from the queue again, at once (they hear it on the
   * queue's wake channel), or at their next look if that message is lost (at most a
   * `dequeueTimeout` later). Resolves true if the queue was paused, false if it was not.
   */
  async resume(): Promise<boolean> {
    const resumed = await this.command(
      () => scripts.resume.run(this.redis, this.keys, [this.keys.wake]),
      'a resume of the queue',
    );
    return resumed === 1;
  }

  /** Whether the queue is paused now. */
  async isPaused(): Promise<boolean> {
    const exists = await this.command(() => this.redis.exists(this.keys.paused), 'a pause check');
    return exists === 1;
  }

  /**
   * Sends a command once Redis is ready, failing with a RedisUnavailableError after
   * `redisTimeout` ms; `what` names it in that error.
   */
  async command<T>(send: () => Promise<T>, what: string): Promise<T> {
    if (this.redis.status !== 'ready') await whenReady(this.redis, this.redisTimeout);
    return withinTimeout(this.redis, send(), this.redisTimeout, what);
  }

  /** Tells this process' promoters that a task of this queue is due in `inMs` ms. */
  scheduled(inMs: number): void {
    scheduleSignals.emit('scheduled', this.name, inMs);
  }

  /** Tasks scheduled and not due (or not moved) yet. */
  scheduledCount(): Promise<number> {
    return this.redis.zcard(this.keys.scheduled);
  }

  /** Tasks waiting in the queue (not counting those being processed). */
  len(): Promise<number> {
    return this.redis.llen(this.keys.tasks);
  }

  /** Tasks held by workers right now. */
  processingCount(): Promise<number> {
    return this.redis.hlen(this.keys.processing);
  }
}

/** What is wrong with a rate limit (none if it is undefined or right); `where` names it. */
export function rateLimitProblems(limit: RateLimit | undefined, where: string): string[] {
  if (limit === undefined) return [];
  if (limit === null || typeof limit !== 'object') return [`${where} must be { max, window }`];
  const problems: string[] = [];
  const { max, window } = limit;
  const bad = (value: unknown, top: number) =>
    typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > top;
  if (bad(max, 1_000_000)) {
    problems.push(`${where}.max must be a whole number from 1 to 1000000, got ${String(max)}`);
  }
  if (bad(window, MAX_DURATION)) {
    problems.push(
      `${where}.window must be a whole number of ms from 1 to ${MAX_DURATION}, got ${String(window)}`,
    );
  }
  return problems;
}
