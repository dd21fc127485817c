import { setTimeout as sleep } from 'node:timers/promises';
import { type ConnectionOptions, type Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Cluster } from 'ioredis';
import { CONNECT_SETTLE_MS } from './ours.js';
import { OperatorCounters } from './instrumentation.js';
import {
  type BenchWorker,
  type Contender,
  ECHO_NAME,
  QUEUE_NAME,
  TASK_NAME,
  type WorkerHooks,
} from './contender.js';

type Payload = [number];

/**
 * Where BullMQ connects: one Redis by address (each queue, worker and QueueEvents opens its
 * own connection from these options), or a Redis Cluster through a function making a new
 * ioredis Cluster for each of them, with the `prefix` (a hash tag such as `{q0}`) that keeps
 * a queue's keys in one slot.
 */
export type BullmqTarget =
  | { readonly host: string; readonly port: number }
  | { readonly cluster: () => Cluster; readonly prefix: string };

/**
 * BullMQ with its defaults (completed jobs are kept, events stream on), on the same Redis,
 * carrying the same payload: job name `Bench:noop`, data `[index]`.
 */
export class BullmqContender implements Contender {
  readonly id = 'bullmq' as const;
  private queue: Queue<Payload> | undefined;
  private events: QueueEvents | undefined;
  /** Cluster clients made for BullMQ, which leaves a client it was handed open: closed by close(). */
  private readonly clusters: Cluster[] = [];

  constructor(private readonly target: BullmqTarget) {}

  /** The connection and prefix options of a new queue, worker or QueueEvents. */
  private connection(): { connection: ConnectionOptions; prefix?: string } {
    if ('host' in this.target) {
      return {
        connection: { host: this.target.host, port: this.target.port, maxRetriesPerRequest: null },
      };
    }
    const cluster = this.target.cluster();
    this.clusters.push(cluster);
    return { connection: cluster, prefix: this.target.prefix };
  }

  async open(): Promise<void> {
    this.queue = new Queue<Payload>(QUEUE_NAME, this.connection());
    this.queue.on('error', () => undefined);
    await this.queue.waitUntilReady();
  }

  private get q(): Queue<Payload> {
    if (!this.queue) throw new Error('open() first');
    return this.queue;
  }

  async add(index: number): Promise<void> {
    await this.q.add(TASK_NAME, [index]);
  }

  async addBulk(from: number, count: number): Promise<void> {
    const jobs: { name: string; data: Payload }[] = new Array(count);
    for (let i = 0; i < count; i++) jobs[i] = { name: TASK_NAME, data: [from + i] };
    await this.q.addBulk(jobs);
  }

  backlog(): Promise<number> {
    return this.q.getWaitingCount();
  }

  async addScheduled(index: number, delayMs: number): Promise<void> {
    await this.q.add(TASK_NAME, [index], { delay: delayMs });
  }

  async addScheduledBulk(from: number, count: number, delayMs: number): Promise<void> {
    const jobs: { name: string; data: Payload; opts: { delay: number } }[] = new Array(count);
    for (let i = 0; i < count; i++)
      jobs[i] = { name: TASK_NAME, data: [from + i], opts: { delay: delayMs } };
    await this.q.addBulk(jobs);
  }

  scheduledBacklog(): Promise<number> {
    return this.q.getDelayedCount();
  }

  /** The backoff of addBulkRetried's jobs; set with the worker's hooks. */
  private backoffMs = 0;

  async addBulkRetried(from: number, count: number): Promise<void> {
    const opts = { attempts: 2, backoff: { type: 'fixed', delay: this.backoffMs } };
    const jobs = new Array(count);
    for (let i = 0; i < count; i++) jobs[i] = { name: TASK_NAME, data: [from + i], opts };
    await this.q.addBulk(jobs);
  }

  async startEvery(everyMs: number): Promise<() => Promise<void>> {
    // BullMQ's job scheduler: its worker adds each next iteration as a delayed job.
    await this.q.upsertJobScheduler(
      'bench-every',
      { every: everyMs },
      {
        name: TASK_NAME,
        data: [-1],
      },
    );
    return async () => {
      await this.q.removeJobScheduler('bench-every');
    };
  }

  async openResults(): Promise<void> {
    this.events = new QueueEvents(QUEUE_NAME, this.connection());
    this.events.on('error', () => undefined);
    await this.events.waitUntilReady();
    // Each waitUntilFinished listens for the queue's 'closing' while it waits: 100 waits in
    // flight are 100 listeners, not a leak.
    this.q.setMaxListeners(0);
  }

  async callEcho(value: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.events) throw new Error('openResults() first');
    // The same queue; an echo job's data is `value` itself, not the `[index]` payload.
    const job = await (this.q as unknown as Queue).add(ECHO_NAME, value);
    return job.waitUntilFinished(this.events, timeoutMs);
  }

  async worker(hooks: WorkerHooks): Promise<BenchWorker> {
    const onStart = hooks.onStart;
    if (hooks.backoffMs !== undefined) this.backoffMs = hooks.backoffMs;
    // An iteration of a job scheduler is named after its planned time,
    // `repeat:<scheduler id>:<ms>`: that is what a tick's lateness is measured from.
    const indexOf = (job: Job<Payload>): number =>
      job.repeatJobKey === undefined ? job.data[0] : Number(String(job.id).split(':').pop());
    const processor = hooks.echo
      ? async (job: Job<Payload>) => (job.name === ECHO_NAME ? job.data : undefined)
      : onStart
        ? async (job: Job<Payload>) => onStart(indexOf(job))
        : async () => undefined;
    const worker = new Worker<Payload>(QUEUE_NAME, processor, {
      ...this.connection(),
      concurrency: hooks.concurrency,
      autorun: false,
      ...(hooks.rateLimit === undefined
        ? {}
        : { limiter: { max: hooks.rateLimit.max, duration: hooks.rateLimit.window } }),
    });
    worker.on('error', () => undefined);
    if (hooks.onCompleted) worker.on('completed', hooks.onCompleted);
    if (hooks.instrumented) {
      // BullMQ writes its events to a Redis stream always (so the plain run has them too);
      // what an operator adds is listeners that feed metrics.
      const counters = new OperatorCounters();
      worker.on('active', (job) => counters.onStarted(QUEUE_NAME, job.name));
      worker.on('completed', (job) =>
        counters.onCompleted(QUEUE_NAME, job.name, (job.finishedOn ?? 0) - (job.processedOn ?? 0)),
      );
      worker.on('failed', (job) => counters.onFailed(QUEUE_NAME, job?.name ?? ''));
    }
    await worker.waitUntilReady();
    await sleep(CONNECT_SETTLE_MS);
    let running: Promise<void> | undefined;
    return {
      start: async () => {
        running = worker.run().catch(() => undefined);
      },
      close: async () => {
        await worker.close();
        await running;
      },
    };
  }

  async finished(count: number): Promise<boolean> {
    const counts = await this.q.getJobCounts('completed', 'wait', 'active', 'delayed');
    return (
      counts.completed === count && counts.wait === 0 && counts.active === 0 && counts.delayed === 0
    );
  }

  async close(): Promise<void> {
    if (this.events) await this.events.close();
    this.events = undefined;
    if (this.queue) await this.queue.close();
    this.queue = undefined;
    for (const cluster of this.clusters.splice(0)) cluster.disconnect();
  }
}
