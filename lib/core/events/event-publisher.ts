import type { Redis } from 'ioredis';
import { type DelayedLogger, errorMessage } from '../logger.js';
import { queueKeys } from '../protocol/keys.js';
import type { Worker } from '../worker/worker.js';
import type { TaskFailedEvent } from '../worker/worker-events.js';
import {
  encodeQueueEvents,
  EVENT_ERROR_LENGTH,
  QUEUE_EVENT_NAMES,
  type QueueEvent,
  type QueueEventName,
} from './queue-event.js';

export interface EventPublisherOptions {
  /** The events to publish; default all of them. */
  readonly events?: readonly QueueEventName[];
  readonly logger: DelayedLogger;
}

/**
 * Publishes a worker's task events for other processes (QueueEvents) on each queue's
 * `N_events` channel. Pub/Sub stores nothing in Redis, so this costs no memory however many
 * tasks run; a process that is not subscribed (or is reconnecting) misses what is said
 * meanwhile. The events of one turn of the event loop travel together, one PUBLISH per
 * queue, so the cost per task is a push onto an array.
 */
export class EventPublisher {
  private pending = new Map<string, QueueEvent[]>();
  private scheduled = false;
  private readonly wanted: ReadonlySet<QueueEventName>;
  private lastError = '';

  constructor(
    private readonly redis: Redis,
    private readonly options: EventPublisherOptions,
  ) {
    this.wanted = new Set(options.events ?? QUEUE_EVENT_NAMES);
  }

  /** Starts publishing the worker's events (call before it starts). */
  attach(worker: Worker): void {
    const want = (name: QueueEventName) => this.wanted.has(name);
    if (want('started')) {
      worker.on('active', (event) =>
        this.add({
          ...base('started', event.queue, event.name, event.id, event.workerId),
        }),
      );
    }
    if (want('completed')) {
      worker.on('completed', (event) =>
        this.add({
          ...base('completed', event.queue, event.name, event.id, event.workerId),
          duration: event.duration,
        }),
      );
    }
    if (want('retried') || want('failed') || want('interrupted')) {
      worker.on('failed', (event) => {
        const name = failedEventName(event);
        if (!want(name)) return;
        this.add({
          ...base(name, event.queue, event.name, event.id, event.workerId),
          duration: event.duration ?? null,
          error: errorMessage(event.error).slice(0, EVENT_ERROR_LENGTH),
          outcome:
            event.outcome === 'buried'
              ? 'dead-lettered'
              : event.outcome === 'dropped'
                ? 'dropped'
                : null,
          retryIn: event.retryIn ?? null,
        });
      });
    }
  }

  private add(event: QueueEvent): void {
    let list = this.pending.get(event.queue);
    if (list === undefined) {
      list = [];
      this.pending.set(event.queue, list);
    }
    list.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    const pending = this.pending;
    this.pending = new Map();
    // Disconnected: the events are dropped (no offline queue); listeners are told "at most once".
    if (this.redis.status !== 'ready') return;
    const pipeline = this.redis.pipeline();
    for (const [queue, events] of pending) {
      pipeline.publish(queueKeys(queue).events, encodeQueueEvents(events));
    }
    pipeline.exec().then(
      () => (this.lastError = ''),
      (error: unknown) => {
        const message = errorMessage(error);
        if (message !== this.lastError) {
          this.options.logger.warn(`Could not publish task events: ${message}`);
        }
        this.lastError = message;
      },
    );
  };
}

function base(
  event: QueueEventName,
  queue: string,
  name: string | null,
  id: string | undefined,
  workerId: string,
): QueueEvent {
  return {
    event,
    queue,
    name,
    id: id ?? null,
    workerId,
    at: Date.now(),
    duration: null,
    error: null,
    outcome: null,
    retryIn: null,
  };
}

function failedEventName(event: TaskFailedEvent): QueueEventName {
  switch (event.outcome) {
    case 'retried':
      return 'retried';
    case 'interrupted':
      return 'interrupted';
    default:
      return 'failed';
  }
}
