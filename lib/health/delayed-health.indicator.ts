import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import {
  describeRedis,
  errorMessage,
  type HandlerRegistry,
  Queue,
  type QueueCounts,
  QueueInspector,
  whenReady,
} from '../core/index.js';
import { appQueueNames } from '../app-queues.js';
import {
  DELAYED_CONNECTION,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from '../delayed.constants.js';
import { type DelayedConnection, DelayedHost } from '../delayed.host.js';
import type { ResolvedDelayedOptions } from '../delayed.options.js';
import { withinDeadline } from '../redis-deadline.js';
import {
  type DelayedHealthCheckOptions,
  resolveHealthCheckOptions,
} from './health-check.options.js';

/** A queue's numbers as the health details carry them; lateness in ms. */
export interface QueueHealthDetails {
  readonly waiting: number;
  readonly running: number;
  readonly scheduled: number;
  readonly dead: number;
  readonly schedules: number;
  readonly paused: boolean;
  readonly lateness: number;
}

/**
 * What the indicator reports under its key, beside terminus' `status`. (A type, not an
 * interface: terminus takes details as a record, which an interface is not assignable to.)
 */
export type DelayedHealthDetails = {
  /** Whether Redis answered a PING within the timeout. */
  readonly redis: 'up' | 'down';
  /** This app's worker, when it runs one. */
  readonly worker?: { readonly status: string; readonly connected: boolean };
  /** The counts of each queue checked that could be read. */
  readonly queues: Record<string, QueueHealthDetails>;
  /** Each reason it is down, in words with the numbers; only when down. */
  readonly problems?: string[];
};

/**
 * A @nestjs/terminus health indicator for the queue (install @nestjs/terminus: it is an
 * optional peer). Down when Redis does not answer a PING within the timeout, when this app
 * runs a worker that is not running and connected (it is draining, stopped, or reconnecting),
 * or when a queue is past a threshold you set (waiting backlog, dead letters, lateness of
 * scheduled tasks). It never throws for Redis trouble and never waits past its timeout.
 *
 * ```ts
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.delayed.isHealthy('delayed', { maxWaiting: 10_000 })]);
 * }
 * ```
 */
@Injectable()
export class DelayedHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(DelayedHost) private readonly host: DelayedHost,
    @Inject(DELAYED_CONNECTION) private readonly connection: DelayedConnection,
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
  ) {}

  /**
   * Checks Redis, the worker and the queues; `key` names the result (default 'delayed').
   * Throws only an InvalidOptionsError for options that cannot work.
   */
  async isHealthy<const Key extends string = 'delayed'>(
    key: Key = 'delayed' as Key,
    options: DelayedHealthCheckOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const { maxWaiting, maxDead, maxLateness, queues, timeout } =
      resolveHealthCheckOptions(options);
    const session = this.indicators.check(key);
    const { redis } = this.connection;
    const names = queues ?? appQueueNames(this.options, this.handlers);
    const problems: string[] = [];

    // PING and counts at once, under one deadline: the whole check takes at most `timeout`.
    const ping = withinDeadline(
      (async () => {
        if (redis.status !== 'ready') await whenReady(redis, timeout);
        return redis.ping();
      })(),
      timeout,
      'a PING',
    );
    const reads = names.map((name) =>
      withinDeadline(
        new QueueInspector(new Queue(redis, name, { redisTimeout: timeout })).counts(),
        timeout,
        `the counts of queue "${name}"`,
      ),
    );
    const [pinged, ...counted] = await Promise.allSettled([ping, ...reads]);
    const redisUp = pinged!.status === 'fulfilled';
    if (pinged!.status === 'rejected') {
      problems.push(
        `Redis at ${describeRedis(redis)} did not answer a PING: ${errorMessage(pinged!.reason)}`,
      );
    }

    const workers = this.host.activeWorkers;
    for (const worker of workers) {
      // On a cluster there is a worker per hash tag: say which.
      const which =
        workers.length > 1 ? `the worker of ${worker.queueNames.join(', ')}` : 'the worker';
      if (worker.status !== 'running') {
        problems.push(`${which} is ${worker.status}, not running: it takes no tasks`);
      } else if (!worker.connected) {
        problems.push(`${which} has lost its connection to Redis and is reconnecting`);
      }
    }

    const details: Record<string, QueueHealthDetails> = {};
    counted.forEach((result, i) => {
      const name = names[i]!;
      if (result.status === 'rejected') {
        // With Redis down, the PING already says why.
        if (redisUp) {
          problems.push(
            `queue "${name}": its counts could not be read: ${errorMessage(result.reason)}`,
          );
        }
        return;
      }
      const counts = result.value as QueueCounts;
      details[name] = {
        waiting: counts.waiting,
        running: counts.running,
        scheduled: counts.scheduled,
        dead: counts.dead,
        schedules: counts.schedules,
        paused: counts.paused,
        lateness: counts.lateness,
      };
      if (maxWaiting !== undefined && counts.waiting > maxWaiting) {
        problems.push(
          `queue "${name}": ${counts.waiting} tasks waiting, more than maxWaiting (${maxWaiting})`,
        );
      }
      if (maxDead !== undefined && counts.dead > maxDead) {
        problems.push(
          `queue "${name}": ${counts.dead} dead letters, more than maxDead (${maxDead})`,
        );
      }
      if (maxLateness !== undefined && counts.lateness > maxLateness) {
        problems.push(
          `queue "${name}": a scheduled task is ${counts.lateness} ms overdue, more than maxLateness (${maxLateness} ms)`,
        );
      }
    });

    const report: DelayedHealthDetails = {
      redis: redisUp ? 'up' : 'down',
      // On a cluster with several workers, the first one not running well (else the first).
      ...(workers.length === 0
        ? {}
        : {
            worker: ((worker) => ({ status: worker.status, connected: worker.connected }))(
              workers.find((worker) => worker.status !== 'running' || !worker.connected) ??
                workers[0]!,
            ),
          }),
      queues: details,
    };
    return problems.length === 0 ? session.up(report) : session.down({ ...report, problems });
  }
}
