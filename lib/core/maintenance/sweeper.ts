import { DEFAULT_QUIT_TIMEOUT } from '../defaults.js';
import { consoleLogger, type DelayedLogger, errorMessage } from '../logger.js';
import {
  resolveSettings,
  SWEEPER_OPTIONS,
  type SweeperSettings,
  throwOnProblems,
} from '../options.js';
import type { DataQueue } from '../data/data-queue.js';
import type { Queue } from '../queue/queue.js';
import { Promoter } from './promoter.js';
import { requeueLost, type SweepResult } from './requeue-lost.js';

export interface SweeperOptions {
  readonly queues: readonly Queue[];
  /**
   * Data queues to settle on each sweep too: leases that ended and delayed items that are
   * due, which otherwise wait for the next get. Default none.
   */
  readonly dataQueues?: readonly DataQueue<unknown>[];
  /** Time between sweeps (ms). Default 60,000. */
  readonly interval?: SweeperSettings['interval'];
  readonly logger?: DelayedLogger;
}

/**
 * Recovers lost tasks: on every tick, for every queue, tasks held by workers whose liveness
 * key expired go back to the queue and notifications are made to match the tasks. Each sweep
 * of a queue is one atomic script, so any number of sweepers (of any language) may run.
 */
export class Sweeper {
  private readonly queues: Queue[];
  private readonly dataQueues: DataQueue<unknown>[];
  private readonly interval: number;
  private readonly logger: DelayedLogger;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(options: SweeperOptions) {
    this.queues = [...options.queues];
    this.dataQueues = [...(options.dataQueues ?? [])];
    const problems: string[] = [];
    this.interval = resolveSettings(SWEEPER_OPTIONS, options, '', problems).interval;
    throwOnProblems('sweeper options', problems);
    this.logger = options.logger ?? consoleLogger;
    this.promoter = new Promoter(
      this.queues,
      this.logger,
      Math.min(...this.queues.map((q) => q.redisTimeout), 5_000),
    );
  }

  /** Moves scheduled tasks in when due, between sweeps. */
  private readonly promoter: Promoter;

  /** Adds a queue to sweep (a queue already swept, by name, is ignored). */
  add(queue: Queue): void {
    if (!this.queues.some((known) => known.name === queue.name)) this.queues.push(queue);
    this.promoter.add(queue);
  }

  /** Adds a data queue to settle on each sweep (one already swept, by name, is ignored). */
  addDataQueue(queue: DataQueue<unknown>): void {
    if (!this.dataQueues.some((known) => known.name === queue.name)) this.dataQueues.push(queue);
  }

  /** The names of the queues swept. */
  get queueNames(): string[] {
    return this.queues.map((queue) => queue.name);
  }

  get isRunning(): boolean {
    return this.timer !== undefined;
  }

  /** Sweeps now, then every `interval`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.interval);
    this.timer.unref();
    void this.tick();
    this.promoter.start();
  }

  /**
   * Stops the schedule and waits for a sweep in progress, at most 2 s: a sweep is one atomic
   * script per queue, so one left running does no harm, and a stop must not hang on a Redis
   * that is not answering.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const promoterStopped = this.promoter.stop();
    if (this.sweeping === undefined) return promoterStopped;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.sweeping,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, DEFAULT_QUIT_TIMEOUT))),
    ]);
    clearTimeout(timer);
    await promoterStopped;
  }

  /**
   * One sweep of every queue (then every data queue); returns what it did per task queue name. A queue whose sweep fails
   * does not keep the others from theirs (they may live on other servers); the first failure
   * is thrown once every queue had its turn.
   */
  async sweep(): Promise<Map<string, SweepResult>> {
    const results = new Map<string, SweepResult>();
    let failure: { error: unknown } | undefined;
    for (const queue of this.queues) {
      let result: SweepResult;
      try {
        result = await requeueLost(queue);
      } catch (error) {
        failure ??= { error };
        continue;
      }
      results.set(queue.name, result);
      if (result.requeued > 0 || result.notificationsAdded > 0 || result.notificationsDropped > 0) {
        this.logger.log(
          `Swept queue "${queue.name}": ${result.requeued} lost task(s) requeued, ${result.notificationsAdded} notification(s) restored, ${result.notificationsDropped} stray notification(s) dropped`,
        );
      }
    }
    for (const queue of this.dataQueues) {
      try {
        await queue.sweep();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
    return results;
  }

  private async tick(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = this.sweep().catch((error) => {
      this.logger.warn(
        `Sweep failed: ${errorMessage(error)}; will try again in ${this.interval} ms`,
      );
    });
    try {
      await this.sweeping;
    } finally {
      this.sweeping = undefined;
    }
  }
}
