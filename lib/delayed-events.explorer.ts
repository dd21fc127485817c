import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  errorMessage,
  EventPublisher,
  type QueueEvent,
  QueueEvents,
  type TaskFailedEvent,
  type Worker,
  type WorkerEvents,
} from './core/index.js';
import { DELAYED_CONNECTION, DELAYED_RESOLVED_OPTIONS } from './delayed.constants.js';
import { type DelayedConnection, DelayedHost } from './delayed.host.js';
import type { ResolvedDelayedOptions } from './delayed.options.js';
import {
  type EventListenerMetadata,
  getEventListenerMetadata,
  type TaskEventName,
  type WorkerEventName,
} from './event.decorators.js';

type Call = (event: unknown) => void;

/** The worker's own event behind each `@OnTaskEvent` name, and which of its events count. */
const TASK_EVENTS: Record<
  TaskEventName,
  { source: keyof WorkerEvents; when?: (event: TaskFailedEvent) => boolean }
> = {
  started: { source: 'active' },
  completed: { source: 'completed' },
  progress: { source: 'progress' },
  retried: { source: 'failed', when: (event) => event.outcome === 'retried' },
  failed: {
    source: 'failed',
    when: (event) => event.outcome === 'buried' || event.outcome === 'dropped',
  },
  'dead-lettered': { source: 'failed', when: (event) => event.outcome === 'buried' },
  interrupted: { source: 'failed', when: (event) => event.outcome === 'interrupted' },
};

const WORKER_EVENTS: Record<WorkerEventName, keyof WorkerEvents> = {
  started: 'online',
  stopped: 'offline',
  disconnected: 'disconnected',
  reconnected: 'reconnected',
};

/**
 * Finds `@OnTaskEvent`, `@OnWorkerEvent` and `@OnQueueEvent` methods on every provider and
 * wires them: the first two to this app's worker when it is made, the last to a
 * subscription over Redis opened at bootstrap. Also publishes this worker's task events
 * when the module's `events.publish` asks for it.
 */
@Injectable()
export class DelayedEventsExplorer
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('DelayedEvents');
  private readonly queueListeners: {
    metadata: EventListenerMetadata & { kind: 'queue' };
    call: Call;
  }[] = [];
  private queueEvents: QueueEvents | undefined;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    @Inject(DelayedHost) private readonly host: DelayedHost,
    @Inject(DELAYED_CONNECTION) private readonly connection: DelayedConnection,
    @Inject(DELAYED_RESOLVED_OPTIONS) private readonly options: ResolvedDelayedOptions,
  ) {}

  onModuleInit(): void {
    const workerListeners: { metadata: EventListenerMetadata; call: Call }[] = [];
    const seen = new Set<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype || instance.constructor === Object) continue;
      seen.add(instance);
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const target = (instance as Record<string, unknown>)[method];
        if (typeof target !== 'function') continue;
        const listeners = getEventListenerMetadata(target);
        if (listeners.length === 0) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          throw new TypeError(
            `${instance.constructor.name}.${method} listens to task events but its provider is request- or transient-scoped; event listeners must live on singleton providers`,
          );
        }
        const call = this.caller(instance, method, target as (event: unknown) => unknown);
        for (const metadata of listeners) {
          if (metadata.kind === 'queue') this.queueListeners.push({ metadata, call });
          else workerListeners.push({ metadata, call });
        }
      }
    }
    const publish = this.options.events.publish;
    if (workerListeners.length === 0 && publish === false) return;
    this.host.onWorker((worker) => {
      for (const { metadata, call } of workerListeners) this.attach(worker, metadata, call);
      if (publish !== false) {
        new EventPublisher(this.connection.redis, {
          events: publish === true ? undefined : publish,
          logger: this.logger,
        }).attach(worker);
      }
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.queueListeners.length === 0) return;
    const queues = [...new Set(this.queueListeners.flatMap(({ metadata }) => metadata.queues))];
    const events = new QueueEvents(this.connection.redis, queues, this.logger);
    this.queueEvents = events;
    for (const { metadata, call } of this.queueListeners) {
      const wanted = new Set(metadata.queues);
      events.on(metadata.event, (event: QueueEvent) => {
        if (wanted.has(event.queue)) call(event);
      });
    }
    try {
      await events.start(this.options.redisTimeout);
    } catch (error) {
      // Not fatal: the subscription is made as soon as Redis can be reached.
      this.logger.warn(
        `Queue events of ${queues.join(', ')} are not heard yet: ${errorMessage(error)}; subscribing once Redis is reachable`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queueEvents?.close();
  }

  private attach(worker: Worker, metadata: EventListenerMetadata, call: Call): void {
    if (metadata.kind === 'worker') {
      worker.on(WORKER_EVENTS[metadata.event], call);
      return;
    }
    if (metadata.kind !== 'task') return;
    const { source, when } = TASK_EVENTS[metadata.event];
    const queues = metadata.queues === undefined ? undefined : new Set(metadata.queues);
    worker.on(source, (event: { queue: string }) => {
      if (queues !== undefined && !queues.has(event.queue)) return;
      if (when !== undefined && !when(event as TaskFailedEvent)) return;
      call(event);
    });
  }

  /** Calls a listener method; what it throws or rejects with is logged, never passed on. */
  private caller(instance: object, method: string, target: (event: unknown) => unknown): Call {
    const source = `${instance.constructor.name}.${method}`;
    const report = (error: unknown) =>
      this.logger.error(`Event listener ${source} failed: ${errorMessage(error)}`);
    return (event) => {
      try {
        const result = target.call(instance, event);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    };
  }
}
