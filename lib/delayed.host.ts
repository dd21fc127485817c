import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  closeConnection,
  describeRedis,
  errorMessage,
  type HandlerRegistry,
  Queue,
  RedisUnavailableError,
  Sweeper,
  Worker,
  WorkerStartError,
} from './core/index.js';
import {
  DELAYED_CONNECTION,
  DELAYED_HANDLERS,
  DELAYED_RESOLVED_OPTIONS,
} from './delayed.constants.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';

export interface DelayedConnection {
  readonly redis: Redis;
  /** Whether the module opened it (and so closes it). A client you passed in is never closed. */
  readonly owned: boolean;
}

/**
 * Runs the worker and the sweeper along the app's lifecycle: both start once every module
 * is initialised; on shutdown the worker stops fetching and drains first (enqueueing still
 * works meanwhile), then everything goes offline and the module's own connection closes.
 */
@Injectable()
export class DelayedHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('DelayedModule');
  private worker: Worker | undefined;

  constructor(
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
    @Inject(DELAYED_CONNECTION) private readonly connection: DelayedConnection,
    @Inject(DELAYED_HANDLERS) private readonly handlers: HandlerRegistry,
    @Inject(Sweeper) private readonly sweeper: Sweeper,
  ) {}

  /** The running worker, if this app consumes. */
  get activeWorker(): Worker | undefined {
    return this.worker;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.startWorker();
    // After the worker: a worker that cannot start fails the bootstrap, and no sweep is begun.
    if (this.options.sweeper !== false) {
      for (const name of this.handlers.queueNames()) {
        this.sweeper.add(
          new Queue(this.connection.redis, name, { redisTimeout: this.options.redisTimeout }),
        );
      }
      this.sweeper.start();
    }
  }

  private async startWorker(): Promise<void> {
    const { worker: settings, deadLetter, redisTimeout } = this.options;
    if (settings === false) {
      if (this.handlers.size > 0) {
        this.logger.log(
          `This app only enqueues: ${this.handlers.size} @Task() handler(s) found, but the worker is off (set worker: true where tasks should run)`,
        );
      }
      return;
    }
    const queues = this.workerQueues();
    if (queues.length === 0) return;
    this.worker = new Worker({
      ...settings,
      redisTimeout,
      queues: queues.map(
        (name) => new Queue(this.connection.redis, name, { deadLetter, redisTimeout }),
      ),
      handlers: this.handlers,
      logger: this.logger,
    });
    const served = queues.map((name) => `"${name}"`).join(', ');
    try {
      await this.worker.start();
    } catch (error) {
      // Nest runs no shutdown hook after a failed bootstrap: stop what this host started and
      // close the module's own connection, whose reconnect attempts would otherwise keep the
      // process alive for ever.
      this.worker = undefined;
      await this.onApplicationShutdown();
      // A RedisUnavailableError names the address itself.
      const where =
        error instanceof RedisUnavailableError
          ? ''
          : `Redis at ${describeRedis(this.connection.redis)}: `;
      throw new WorkerStartError(
        `nestjs-delayed: the worker for ${served} could not start, ${where}${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    this.logger.log(
      `Worker serving ${served} with ${settings.concurrency} slot(s) and ${this.handlers.size} handler(s)`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.worker?.close();
    } catch (error) {
      this.logger.warn(`Shutdown was not clean: ${errorMessage(error)}`);
    }
    // Not after the sweeper's stop: a sweep waiting for an unreachable Redis ends as soon as
    // the connection closes, and a sweep in flight is answered before the QUIT behind it.
    const sweeperStopped = this.sweeper.stop();
    if (this.connection.owned) await closeConnection(this.connection.redis);
    await sweeperStopped;
  }

  /** The queues this app's worker serves: given ones, else those its handlers serve. */
  private workerQueues(): string[] {
    if (this.options.worker === false || this.handlers.size === 0) return [];
    const served = this.handlers.queueNames();
    const queues =
      this.options.worker.queues ??
      [this.options.queue, ...served.filter((name) => name !== this.options.queue)].filter((name) =>
        served.includes(name),
      );
    if (!queues.some((name) => served.includes(name))) {
      this.logger.warn(
        `No @Task() handler serves the worker's queues (${queues.join(', ')}); the worker is not started`,
      );
      return [];
    }
    return queues;
  }
}
