import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import {
  Counter,
  Gauge,
  type Histogram,
  register as globalRegister,
  type Registry,
} from 'prom-client';
import {
  type HandlerRegistry,
  InvalidOptionsError,
  Queue,
  type QueueCounts,
  QueueInspector,
  type TaskCompletedEvent,
  type TaskFailedEvent,
  type TaskStartedEvent,
  type Worker,
  type WorkerStateEvent,
} from '../core/index.js';
import { appQueueNames } from '../app-queues.js';
import {
  DELAYED_CONNECTION,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from '../delayed.constants.js';
import { type DelayedConnection, DelayedHost } from '../delayed.host.js';
import type { ResolvedDelayedOptions } from '../delayed.options.js';
import { CachedCounts, type CountsSnapshot, readCounts } from './cached-counts.js';
import { DELAYED_METRICS_OPTIONS } from './metrics.constants.js';
import {
  type DelayedMetricsOptions,
  resolveMetricsOptions,
  type ResolvedMetricsOptions,
} from './metrics.options.js';
import { TaskDurationHistogram } from './task-duration-histogram.js';
import {
  COMPLETED,
  COUNTERS,
  type CounterName,
  DEAD_LETTERED,
  FAILED,
  INTERRUPTED,
  OUTCOME_COMPLETED,
  OUTCOME_DEAD_LETTERED,
  OUTCOME_DROPPED,
  OUTCOME_INTERRUPTED,
  OUTCOME_RETRIED,
  RETRIED,
  STARTED,
  TaskTallies,
} from './task-tallies.js';

/** What each task counter counts, for its HELP line. */
const COUNTER_HELP: Record<CounterName, string> = {
  started: 'Tasks whose handler was started (each attempt counts)',
  completed: 'Tasks whose handler returned and whose end was recorded',
  failed: 'Tasks that failed for good: dead-lettered, or dropped when dead letters are off',
  retried: 'Failed attempts put back for another try (at once or after a backoff)',
  dead_lettered: 'Tasks moved to the dead letters',
  interrupted:
    'Attempts whose outcome could not be recorded (shutdown deadline, lost connection); a sweeper runs them again',
};

/** What each queue gauge reads from QueueCounts, and its name and HELP line. */
const QUEUE_GAUGES: readonly {
  readonly name: string;
  readonly help: string;
  readonly read: (counts: QueueCounts) => number;
}[] = [
  { name: 'queue_waiting_tasks', help: 'Tasks waiting in the queue', read: (c) => c.waiting },
  {
    name: 'queue_running_tasks',
    help: 'Tasks held by workers of any process (the processing hash)',
    read: (c) => c.running,
  },
  {
    name: 'queue_scheduled_tasks',
    help: 'Tasks scheduled for later, not moved into the queue yet',
    read: (c) => c.scheduled,
  },
  { name: 'queue_dead_letters', help: 'Dead letters kept', read: (c) => c.dead },
  { name: 'queue_schedules', help: 'Periodic and cron schedules', read: (c) => c.schedules },
  {
    name: 'queue_paused',
    help: 'Whether the queue is paused (1) or not (0)',
    read: (c) => Number(c.paused),
  },
  {
    name: 'queue_scheduled_lateness_seconds',
    help: 'How late the most overdue scheduled task is (0 when none is due); growing means no worker or sweeper moves them',
    read: (c) => c.lateness / 1000,
  },
];

/** A metric as a prom-client registry holds it. */
type RegisteredMetric = Parameters<Registry['registerMetric']>[0];

/**
 * The queue's Prometheus metrics: task counters and durations fed by the worker's events,
 * queue gauges read from Redis when scraped, and whether Redis and the worker are up.
 *
 * Listeners add to plain numbers (see TaskTallies) and do nothing async: the worker's hot
 * path pays a map lookup and a few increments per event. prom-client reads the numbers when
 * scraped. The queue gauges are read by one MULTI per queue, shared by every gauge and every
 * scrape within `cacheTime`, and bounded by `timeout`: with Redis down a scrape answers in
 * time, without the queue gauges, and with `delayed_redis_up` 0.
 */
@Injectable()
export class DelayedMetrics implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  /** The registry the metrics are in (yours, or prom-client's global one). */
  readonly registry: Registry;
  private readonly logger = new Logger('DelayedMetrics');
  private readonly settings: ResolvedMetricsOptions;
  private readonly tallies: TaskTallies;
  private readonly cached: CachedCounts;
  /** Every metric of this module, by name (prom-client's types do not show a metric's name). */
  private readonly metrics = new Map<string, RegisteredMetric>();
  private readonly inspectors = new Map<string, QueueInspector>();
  /** The queues whose counts are reported (the worker's are among them). */
  private queueNames: string[] = [];
  /** The app's workers: one, or one per hash tag on a Redis Cluster. */
  private workers: Worker[] = [];
  /** The last read failure reported, so that an outage is logged once, not every scrape. */
  private lastFailure = '';

  constructor(
    @Inject(DELAYED_METRICS_OPTIONS) options: DelayedMetricsOptions,
    @Inject(DelayedHost) private readonly host: DelayedHost,
    @Inject(DELAYED_CONNECTION) private readonly connection: DelayedConnection,
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly delayedOptions: ResolvedDelayedOptions,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
  ) {
    this.settings = resolveMetricsOptions(options);
    this.registry = this.settings.registry ?? globalRegister;
    this.tallies = new TaskTallies(
      (name) => handlers.get(name) !== undefined,
      this.settings.buckets,
    );
    const timeout = this.settings.timeout ?? delayedOptions.redisTimeout;
    this.cached = new CachedCounts(
      () => readCounts(this.queueInspectors(timeout), timeout),
      this.settings.cacheTime,
    );
    this.register();
  }

  onModuleInit(): void {
    // Before the host's bootstrap makes the worker: its `online` event is heard.
    this.host.onWorker(this.attach);
  }

  onApplicationBootstrap(): void {
    // Every handler is registered by now (the explorer runs in onModuleInit).
    this.queueNames = appQueueNames(this.delayedOptions, this.handlers, this.settings.queues);
  }

  onModuleDestroy(): void {
    this.detach();
    // So that a new app in this process (tests, a reload) can register them again.
    for (const [name, metric] of this.metrics) {
      if (this.registry.getSingleMetric(name) === metric) this.registry.removeSingleMetric(name);
    }
  }

  private register(): void {
    const { prefix } = this.settings;
    COUNTERS.forEach((kind, index) => {
      const name = `${prefix}tasks_${kind}_total`;
      const counter: Counter<'queue' | 'task'> = new Counter({
        name,
        help: COUNTER_HELP[kind],
        labelNames: ['queue', 'task'],
        registers: [],
        // Hands prom-client what the tallies added since the last scrape.
        collect: () => {
          for (const tally of this.tallies.all) {
            const delta = tally.counts[index]! - tally.reported[index]!;
            tally.reported[index] = tally.counts[index]!;
            counter.inc(tally.labels, delta);
          }
        },
      });
      this.metrics.set(name, counter);
    });
    const durations = `${prefix}task_duration_seconds`;
    this.metrics.set(
      durations,
      // A metric of its own that registries take as a histogram: see TaskDurationHistogram.
      new TaskDurationHistogram(
        durations,
        'How long task handlers ran, by outcome: completed, retried, dead_lettered, dropped, interrupted',
        this.tallies,
      ) as unknown as Histogram,
    );
    for (const spec of QUEUE_GAUGES) {
      const name = `${prefix}${spec.name}`;
      const gauge: Gauge<'queue'> = new Gauge({
        name,
        help: spec.help,
        labelNames: ['queue'],
        registers: [],
        collect: async () => {
          const { counts } = await this.snapshot();
          // A queue that could not be read has no sample, rather than a stale one.
          gauge.reset();
          for (const queue of counts) gauge.set({ queue: queue.queue }, spec.read(queue));
        },
      });
      this.metrics.set(name, gauge);
    }
    const redisUp: Gauge = new Gauge({
      name: `${prefix}redis_up`,
      help: 'Whether the last read of the queue counts got every queue (1) or not (0)',
      registers: [],
      collect: async () => {
        const { failures } = await this.snapshot();
        redisUp.set(failures.length === 0 ? 1 : 0);
      },
    });
    this.metrics.set(`${prefix}redis_up`, redisUp);
    if (this.delayedOptions.worker !== false) {
      const workerUp: Gauge = new Gauge({
        name: `${prefix}worker_up`,
        help: "Whether this process' worker is running and connected to Redis (1) or not (0)",
        registers: [],
        collect: () => {
          const up =
            this.workers.length > 0 &&
            this.workers.every((worker) => worker.status === 'running' && worker.connected);
          workerUp.set(up ? 1 : 0);
        },
      });
      this.metrics.set(`${prefix}worker_up`, workerUp);
    }
    const added: string[] = [];
    for (const [name, metric] of this.metrics) {
      try {
        this.registry.registerMetric(metric);
      } catch (error) {
        for (const done of added) this.registry.removeSingleMetric(done);
        throw new InvalidOptionsError(
          `DelayedMetricsModule: the registry already has a metric named "${name}"; give the module another prefix, or a registry of its own (registry: new Registry())`,
          { cause: error },
        );
      }
      added.push(name);
    }
  }

  /** The counts of the app's queues: one shared read per `cacheTime`, failures logged once. */
  private async snapshot(): Promise<CountsSnapshot> {
    const snapshot = await this.cached.get();
    const failure = snapshot.failures.map((f) => `queue "${f.queue}": ${f.error}`).join('; ');
    if (failure !== this.lastFailure) {
      if (failure === '') this.logger.log('Queue counts are read again');
      else this.logger.warn(`Could not read queue counts for the metrics: ${failure}`);
      this.lastFailure = failure;
    }
    return snapshot;
  }

  private queueInspectors(timeout: number): QueueInspector[] {
    if (this.queueNames.length === 0) {
      // Scraped before the bootstrap (a test calling registry.metrics() early).
      this.queueNames = appQueueNames(this.delayedOptions, this.handlers, this.settings.queues);
    }
    return this.queueNames.map((name) => {
      let inspector = this.inspectors.get(name);
      if (inspector === undefined) {
        const queue = new Queue(this.connection.redis, name, { redisTimeout: timeout });
        this.inspectors.set(name, (inspector = new QueueInspector(queue)));
      }
      return inspector;
    });
  }

  private readonly attach = (worker: Worker): void => {
    this.workers.push(worker);
    worker.on('online', this.online);
    worker.on('active', this.started);
    worker.on('completed', this.completed);
    worker.on('failed', this.failed);
  };

  private detach(): void {
    for (const worker of this.workers) {
      worker.off('online', this.online);
      worker.off('active', this.started);
      worker.off('completed', this.completed);
      worker.off('failed', this.failed);
    }
  }

  /**
   * The counters of each handler the worker runs, on each of its queues, start at 0, so
   * that `rate()` and `increase()` see their first task.
   */
  private readonly online = (event: WorkerStateEvent): void => {
    for (const queue of event.queues) {
      for (const name of this.handlers.names()) {
        const entry = this.handlers.get(name)!;
        if (entry.queue === undefined || entry.queue === queue) this.tallies.get(queue, name);
      }
    }
  };

  // The three listeners below run for every task: a lookup and increments, nothing more.

  private readonly started = (event: TaskStartedEvent): void => {
    this.tallies.get(event.queue, event.name).counts[STARTED]!++;
  };

  private readonly completed = (event: TaskCompletedEvent): void => {
    const tally = this.tallies.get(event.queue, event.name);
    tally.counts[COMPLETED]!++;
    this.tallies.observe(tally, OUTCOME_COMPLETED, event.duration);
  };

  private readonly failed = (event: TaskFailedEvent): void => {
    const tally = this.tallies.get(event.queue, event.name);
    let outcome: number;
    switch (event.outcome) {
      case 'retried':
        tally.counts[RETRIED]!++;
        outcome = OUTCOME_RETRIED;
        break;
      case 'buried':
        tally.counts[FAILED]!++;
        tally.counts[DEAD_LETTERED]!++;
        outcome = OUTCOME_DEAD_LETTERED;
        break;
      case 'dropped':
        tally.counts[FAILED]!++;
        outcome = OUTCOME_DROPPED;
        break;
      default:
        tally.counts[INTERRUPTED]!++;
        outcome = OUTCOME_INTERRUPTED;
    }
    if (event.duration !== undefined) this.tallies.observe(tally, outcome, event.duration);
  };
}
