import {
  type BeforeApplicationShutdown,
  ConflictException,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  type DeadLetter,
  decodeDeadLetter,
  type HandlerRegistry,
  Queue,
  QueueInspector,
  summarizeTask,
} from '../core/index.js';
import { appQueueNames } from '../app-queues.js';
import type { DelayedConnection } from '../delayed.host.js';
import type { ResolvedDelayedOptions } from '../delayed.options.js';
import { CountsSampler } from './counts-sampler.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import {
  type DeadLetterView,
  deadLetterRef,
  deadLetterView,
  MAX_PAGE_SIZE,
  type OverviewView,
  type PageView,
  type QueueView,
  type RunningView,
  runningView,
  type ScheduledView,
  scheduledView,
  type ScheduleView,
  scheduleView,
  type TaskView,
  taskView,
} from './dashboard.views.js';
import { errorMessage } from '../core/index.js';

/** One shown queue: the engine's views of it. */
interface ShownQueue {
  readonly queue: Queue;
  readonly inspector: QueueInspector;
}

/**
 * What one mounted dashboard reads and does, over the DelayedModule's connection. Every
 * read is one bounded page (LRANGE, ZRANGE by index, HSCAN with COUNT, at most
 * MAX_PAGE_SIZE entries) or the counts (one MULTI of O(1) commands), so it costs the same on
 * a queue of ten tasks or of millions; every call gives up after the module's redisTimeout.
 * It also owns the sampler behind the charts, started on bootstrap, stopped before shutdown
 * (before the DelayedModule closes the connection).
 */
export class QueueDashboard implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger: Logger;
  private shown: Map<string, ShownQueue> | undefined;
  private sampler: CountsSampler | undefined;

  constructor(
    readonly settings: ResolvedDashboardOptions,
    private readonly connection: DelayedConnection,
    private readonly delayed: ResolvedDelayedOptions,
    private readonly handlers: HandlerRegistry,
  ) {
    this.logger = new Logger(`DelayedDashboard /${settings.path}`);
  }

  onApplicationBootstrap(): void {
    this.sampler = new CountsSampler(
      [...this.queues().values()].map((shown) => shown.inspector),
      this.settings.sampleInterval,
      this.settings.history,
      this.logger,
    );
    this.sampler.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sampler?.stop();
  }

  /**
   * The shown queues, by name, in order: the ones given, else the DelayedModule's. Made on
   * first use, once the handlers (and so the queues they serve) are known.
   */
  private queues(): Map<string, ShownQueue> {
    if (this.shown !== undefined) return this.shown;
    const { delayed } = this;
    const names =
      this.settings.queues ??
      appQueueNames(
        delayed,
        this.handlers,
        delayed.scheduler === false ? [] : delayed.scheduler.queues,
      );
    this.shown = new Map(
      names.map((name) => {
        const queue = new Queue(this.connection.redis, name, {
          redisTimeout: delayed.redisTimeout,
        });
        return [name, { queue, inspector: new QueueInspector(queue) }];
      }),
    );
    return this.shown;
  }

  /** A shown queue, or a 404: the API never reads keys of a queue it was not told to show. */
  private queue(name: string): ShownQueue {
    const shown = this.queues().get(name);
    if (shown === undefined) {
      throw new NotFoundException(`No queue "${name}" on this dashboard`);
    }
    return shown;
  }

  /** Every shown queue's counts, read now, and its sampled history. */
  async overview(): Promise<OverviewView> {
    const shown = [...this.queues().values()];
    const counts = await Promise.allSettled(shown.map(({ inspector }) => inspector.counts()));
    const queues = shown.map(({ queue }, i): QueueView => {
      const result = counts[i]!;
      return {
        name: queue.name,
        counts: result.status === 'fulfilled' ? result.value : null,
        error: result.status === 'rejected' ? errorMessage(result.reason) : null,
        history: this.sampler?.history(queue.name) ?? {
          at: [],
          waiting: [],
          running: [],
          scheduled: [],
          dead: [],
        },
      };
    });
    return {
      actions: this.settings.actions,
      sampleInterval: this.settings.sampleInterval,
      maxPageSize: MAX_PAGE_SIZE,
      queues,
    };
  }

  /** Tasks held by workers: one HSCAN step, then each slot's liveness. */
  async running(
    name: string,
    cursor: string | null,
    limit: number,
  ): Promise<PageView<RunningView>> {
    const page = await this.queue(name).inspector.running(cursor, limit);
    return { items: page.items.map(runningView), next: page.next };
  }

  /** Waiting tasks from the head on. */
  async waiting(name: string, offset: number, limit: number): Promise<PageView<TaskView>> {
    const tasks = await this.queue(name).inspector.waiting(offset, limit);
    return {
      items: tasks.map(taskView),
      next: tasks.length === limit ? String(offset + limit) : null,
    };
  }

  /** Scheduled tasks, soonest first. */
  async scheduled(name: string, offset: number, limit: number): Promise<PageView<ScheduledView>> {
    const entries = await this.queue(name).inspector.scheduled(offset, limit);
    return {
      items: entries.map(scheduledView),
      next: entries.length === limit ? String(offset + limit) : null,
    };
  }

  /** Periodic and cron schedules: one HSCAN step. */
  async schedules(
    name: string,
    cursor: string | null,
    limit: number,
  ): Promise<PageView<ScheduleView>> {
    const page = await this.queue(name).queue.schedules.page(cursor, limit);
    return { items: page.items.map(scheduleView), next: page.next };
  }

  /** Dead letters, oldest first. */
  async deadLetters(
    name: string,
    offset: number,
    limit: number,
  ): Promise<PageView<DeadLetterView>> {
    const { queue } = this.queue(name);
    const raws = await this.readDead(queue, offset, offset + limit - 1);
    return {
      items: raws.map((raw, i) => {
        const letter = readDeadLetter(raw);
        return deadLetterView(
          offset + i,
          raw,
          letter,
          letter === undefined ? undefined : summarizeTask(letter.task),
        );
      }),
      next: raws.length === limit ? String(offset + limit) : null,
    };
  }

  /** Puts one dead letter back into its queue, as it was. */
  async requeueDeadLetter(
    name: string,
    offset: number,
    ref: string,
  ): Promise<{ requeued: number }> {
    const { queue } = this.queue(name);
    const raw = await this.findDeadLetter(queue, offset, ref);
    const letter = readDeadLetter(raw);
    if (letter === undefined) {
      throw new ConflictException(
        'This dead letter cannot be read, so there is no task to requeue: remove it instead',
      );
    }
    const requeued = await queue.command(
      () => queue.deadLetters.requeue([letter]),
      'a dead-letter requeue',
    );
    if (requeued === 0) throw gone();
    this.logger.log(`Requeued dead letter ${ref} (${describe(letter)}) into "${name}"`);
    return { requeued };
  }

  /** Deletes one dead letter. */
  async removeDeadLetter(name: string, offset: number, ref: string): Promise<{ removed: number }> {
    const { queue } = this.queue(name);
    const raw = await this.findDeadLetter(queue, offset, ref);
    const letter = readDeadLetter(raw) ?? unreadableLetter(name, raw);
    const removed = await queue.command(
      () => queue.deadLetters.remove([letter]),
      'a dead-letter removal',
    );
    if (removed === 0) throw gone();
    this.logger.log(`Removed dead letter ${ref} (${describe(letter)}) of "${name}"`);
    return { removed };
  }

  /**
   * Requeues every dead letter there is now, oldest first, a page at a time (each page one
   * script call, its entries taken from the head of the list, so each LREM is short). Stops
   * after as many as there were when it began: letters that die again meanwhile wait for the
   * next click. Unreadable entries stay (remove them one by one).
   */
  async requeueAllDeadLetters(name: string): Promise<{ requeued: number; skipped: number }> {
    const { queue } = this.queue(name);
    const total = await queue.command(() => queue.deadLetters.count(), 'a dead-letter count');
    let seen = 0;
    let requeued = 0;
    // Unreadable entries are left at the head of the list: later pages start after them.
    let skipped = 0;
    while (seen < total) {
      const size = Math.min(MAX_PAGE_SIZE, total - seen);
      const raws = await this.readDead(queue, skipped, skipped + size - 1);
      if (raws.length === 0) break;
      seen += raws.length;
      const letters: DeadLetter[] = [];
      for (const raw of raws) {
        const letter = readDeadLetter(raw);
        if (letter === undefined) skipped++;
        else letters.push(letter);
      }
      requeued += await queue.command(
        () => queue.deadLetters.requeue(letters),
        'a dead-letter requeue',
      );
    }
    if (requeued > 0 || skipped > 0) {
      this.logger.log(
        `Requeued ${requeued} dead letter(s) into "${name}"${skipped > 0 ? ` (${skipped} unreadable left)` : ''}`,
      );
    }
    return { requeued, skipped };
  }

  /** Cancels a scheduled task that is not due yet. */
  async cancelScheduled(name: string, id: string): Promise<{ cancelled: boolean }> {
    const { queue } = this.queue(name);
    const cancelled = await queue.cancel(id);
    if (!cancelled) {
      throw new ConflictException(
        'This task is not scheduled any more (it became due and moved into the queue, or was cancelled)',
      );
    }
    this.logger.log(`Cancelled scheduled task ${id} of "${name}"`);
    return { cancelled };
  }

  /**
   * Pauses the queue across every worker of this library (Python and Go workers do not know
   * of pauses); `changed` is false when it was paused already.
   */
  async pause(name: string): Promise<{ paused: true; changed: boolean }> {
    const changed = await this.queue(name).queue.pause();
    if (changed) this.logger.log(`Paused "${name}"`);
    return { paused: true, changed };
  }

  /** Ends a pause; `changed` is false when the queue was not paused. */
  async resume(name: string): Promise<{ paused: false; changed: boolean }> {
    const changed = await this.queue(name).queue.resume();
    if (changed) this.logger.log(`Resumed "${name}"`);
    return { paused: false, changed };
  }

  private readDead(queue: Queue, start: number, stop: number): Promise<Buffer[]> {
    return queue.command(
      () => queue.redis.lrangeBuffer(queue.keys.dead, start, stop),
      'reading dead letters',
    );
  }

  /**
   * The stored bytes of the dead letter a page showed at `offset` with digest `ref`. The list
   * only ever shifts towards its head (new letters go to the tail; requeues, removals and
   * trims take from anywhere before or at it), so it is at `offset` or at most a page before;
   * never a letter that merely took its place.
   */
  private async findDeadLetter(queue: Queue, offset: number, ref: string): Promise<Buffer> {
    const start = Math.max(0, offset - (MAX_PAGE_SIZE - 1));
    const raws = await this.readDead(queue, start, offset);
    for (let i = raws.length - 1; i >= 0; i--) {
      if (deadLetterRef(raws[i]!) === ref) return raws[i]!;
    }
    throw gone();
  }
}

function gone(): ConflictException {
  return new ConflictException(
    'This dead letter is not where the page saw it any more (requeued, removed or trimmed meanwhile): reload the page',
  );
}

/** A dead letter's fields, or undefined when its bytes are not one (written by something else). */
function readDeadLetter(raw: Buffer): DeadLetter | undefined {
  try {
    const letter = decodeDeadLetter(raw);
    return Buffer.isBuffer(letter.task) ? letter : undefined;
  } catch {
    return undefined;
  }
}

/** An unreadable entry as `DeadLetters.remove` takes it: only its bytes matter there. */
function unreadableLetter(queue: string, raw: Buffer): DeadLetter {
  return {
    task: Buffer.alloc(0),
    queue,
    reason: 'undecodable',
    error: '',
    funcPath: null,
    failedAt: 0,
    raw,
  };
}

function describe(letter: DeadLetter): string {
  return letter.funcPath ?? letter.reason;
}
