import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  HandlerRegistry,
  NodeTask,
  Queue,
  type RedisClient,
  Scheduler,
  Worker,
} from '../../lib/core/index.js';
import {
  type BenchWorker,
  type Contender,
  ECHO_NAME,
  QUEUE_NAME,
  silentLogger,
  TASK_NAME,
  type WorkerHooks,
} from './contender.js';
import { OurInstrumentation } from './our-instrumentation.js';

/**
 * How long a new Worker is given to open its two connections before it is started. The
 * Worker has no public "connections ready" hook; on loopback connecting takes about a
 * millisecond, so this only keeps connecting off the clock. BullMQ gets the same pause.
 */
export const CONNECT_SETTLE_MS = 100;

/** nestjs-delayed's engine (lib/core), as a user of the package would call it. */
export class OursContender implements Contender {
  readonly id = 'ours' as const;
  private redis: RedisClient | undefined;
  private queue: Queue | undefined;

  /**
   * `target`: one Redis's URL, or a function making the producer's client (a Redis Cluster
   * for the cluster group, whose queue name then carries a hash tag).
   */
  constructor(
    private readonly target: string | (() => RedisClient),
    private readonly queueName: string = QUEUE_NAME,
  ) {}

  async open(): Promise<void> {
    this.redis =
      typeof this.target === 'string'
        ? new Redis(this.target, { autoResendUnfulfilledCommands: false })
        : this.target();
    await this.redis.ping();
    this.queue = new Queue(this.redis, this.queueName);
  }

  private get q(): Queue {
    if (!this.queue) throw new Error('open() first');
    return this.queue;
  }

  async add(index: number): Promise<void> {
    await this.q.enqueue(new NodeTask(TASK_NAME, [index]));
  }

  async addBulk(from: number, count: number): Promise<void> {
    const tasks: NodeTask[] = new Array(count);
    for (let i = 0; i < count; i++) tasks[i] = new NodeTask(TASK_NAME, [from + i]);
    await this.q.enqueueMany(tasks);
  }

  backlog(): Promise<number> {
    return this.q.len();
  }

  async addScheduled(index: number, delayMs: number): Promise<void> {
    await this.q.schedule(new NodeTask(TASK_NAME, [index]), { delay: delayMs });
  }

  async addScheduledBulk(from: number, count: number, delayMs: number): Promise<void> {
    const tasks: NodeTask[] = new Array(count);
    for (let i = 0; i < count; i++) tasks[i] = new NodeTask(TASK_NAME, [from + i]);
    await this.q.scheduleMany(tasks, { delay: delayMs });
  }

  scheduledBacklog(): Promise<number> {
    return this.q.scheduledCount();
  }

  async addBulkRetried(from: number, count: number): Promise<void> {
    const tasks: NodeTask[] = new Array(count);
    for (let i = 0; i < count; i++) tasks[i] = new NodeTask(TASK_NAME, [from + i], {}, 1);
    await this.q.enqueueMany(tasks);
  }

  async startEvery(everyMs: number): Promise<() => Promise<void>> {
    await this.q.schedules.set('bench-every', { every: everyMs }, new NodeTask(TASK_NAME), {
      tickArg: true,
    });
    // What a Nest app with a worker runs beside it; here on the producer's connection.
    const scheduler = new Scheduler({ queues: [this.q], logger: silentLogger });
    scheduler.start();
    return async () => {
      await scheduler.stop();
      await this.q.schedules.remove('bench-every');
    };
  }

  async openResults(): Promise<void> {}

  async callEcho(value: unknown, timeoutMs: number): Promise<unknown> {
    const handle = await this.q.call(new NodeTask(ECHO_NAME, [value]));
    return handle.result({ timeout: timeoutMs });
  }

  async worker(hooks: WorkerHooks): Promise<BenchWorker> {
    const handlers = new HandlerRegistry();
    const onStart = hooks.onStart;
    handlers.register(
      TASK_NAME,
      onStart ? (index: number) => onStart(index) : () => undefined,
      TASK_NAME,
      undefined,
      hooks.backoffMs === undefined ? {} : { retry: 1, backoff: hooks.backoffMs },
    );
    if (hooks.echo) handlers.register(ECHO_NAME, (value: unknown) => value, ECHO_NAME);
    const queue =
      hooks.rateLimit === undefined
        ? this.q
        : new Queue(this.redis!, this.queueName, { rateLimit: hooks.rateLimit });
    const instrumentation =
      hooks.instrumented === undefined ? undefined : new OurInstrumentation(hooks.instrumented);
    const worker = new Worker({
      queues: [queue],
      handlers,
      concurrency: hooks.concurrency,
      logger: silentLogger,
      ...(instrumentation?.instrument === undefined
        ? {}
        : { instrument: instrumentation.instrument }),
    });
    if (hooks.onCompleted) worker.on('completed', hooks.onCompleted);
    instrumentation?.attach(worker, this.redis!, this.queueName, handlers);
    await sleep(CONNECT_SETTLE_MS);
    return {
      start: () => worker.start(),
      close: async () => {
        await worker.close();
        await instrumentation?.close();
      },
    };
  }

  async finished(): Promise<boolean> {
    const keys = this.q.keys;
    const left = [keys.tasks, keys.notifications, keys.processing, keys.scheduled];
    return (await this.redis!.exists(...left)) === 0;
  }

  async close(): Promise<void> {
    if (this.redis) await this.redis.quit().catch(() => this.redis?.disconnect());
    this.redis = undefined;
    this.queue = undefined;
  }
}
