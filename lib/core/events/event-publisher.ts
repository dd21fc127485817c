import type { RedisClient } from '../redis/client.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import { queueKeys } from '../protocol/keys.js';
import type { Worker } from '../worker/worker.js';
import type {
  TaskCompletedEvent,
  TaskFailedEvent,
  TaskStartedEvent,
} from '../worker/worker-events.js';
import { EventMessage } from './event-message.js';
import {
  DEFAULT_PUBLISHED_EVENTS,
  EVENT_ERROR_LENGTH,
  type QueueEventName,
} from './queue-event.js';

/** The longest an event waits to be published, in ms. */
export const PUBLISH_INTERVAL = 20;
/** The most events in one message. */
export const EVENTS_PER_MESSAGE = 1_000;

export interface EventPublisherOptions {
  /** The events to publish; default every one but `started` (DEFAULT_PUBLISHED_EVENTS). */
  readonly events?: readonly QueueEventName[];
  /** The longest an event waits to be published, in ms; default PUBLISH_INTERVAL (20). */
  readonly interval?: number;
  readonly logger: DelayedLogger;
}

/**
 * Publishes a worker's task events for other processes (QueueEvents) on each queue's
 * `N_events` channel. Pub/Sub stores nothing in Redis, so this costs no memory however many
 * tasks run; a process that is not subscribed (or is reconnecting) misses what is said
 * meanwhile. Events travel together, one PUBLISH per queue every PUBLISH_INTERVAL ms (or
 * every EVENTS_PER_MESSAGE events), each a compact tuple: a PUBLISH costs Redis the same
 * work whatever it carries, and Redis is what a busy worker waits on, so few and full
 * messages keep the drain fast. Each event is written straight into its message's bytes.
 */
export class EventPublisher {
  /** The message being written for each queue (kept: its buffer is reused). */
  private readonly messages = new Map<string, EventMessage>();
  /** Encoded strings the messages share (see EventMessage). */
  private readonly strings = new Map<string, Buffer>();
  private timer: NodeJS.Timeout | undefined;
  private readonly wanted: ReadonlySet<QueueEventName>;
  private lastError = '';

  constructor(
    private readonly redis: RedisClient,
    private readonly options: EventPublisherOptions,
  ) {
    this.wanted = new Set(options.events ?? DEFAULT_PUBLISHED_EVENTS);
  }

  /** Starts publishing the worker's events (call before it starts). */
  attach(worker: Worker): void {
    const { wanted } = this;
    if (wanted.has('started')) worker.on('active', this.started);
    if (wanted.has('completed')) worker.on('completed', this.completed);
    if (wanted.has('retried') || wanted.has('failed') || wanted.has('interrupted')) {
      worker.on('failed', this.failed);
    }
    // The worker's last events go out now, before whoever owns the connection closes it.
    worker.on('offline', this.flush);
  }

  private readonly started = (event: TaskStartedEvent): void => {
    this.message(event.queue).add(
      'started',
      event.name,
      event.id,
      event.workerId,
      Date.now(),
      null,
      null,
      null,
      null,
    );
  };

  private readonly completed = (event: TaskCompletedEvent): void => {
    this.message(event.queue).add(
      'completed',
      event.name,
      event.id,
      event.workerId,
      Date.now(),
      event.duration,
      null,
      null,
      null,
    );
  };

  private readonly failed = (event: TaskFailedEvent): void => {
    const name: QueueEventName =
      event.outcome === 'retried'
        ? 'retried'
        : event.outcome === 'interrupted'
          ? 'interrupted'
          : 'failed';
    if (!this.wanted.has(name)) return;
    this.message(event.queue).add(
      name,
      event.name,
      event.id,
      event.workerId,
      Date.now(),
      event.duration,
      truncate(errorMessage(event.error), EVENT_ERROR_LENGTH),
      event.outcome === 'buried' ? 'dead-lettered' : event.outcome === 'dropped' ? 'dropped' : null,
      event.retryIn,
    );
  };

  /** The message of `queue` being written, sent at once when it is full, else soon. */
  private message(queue: string): EventMessage {
    let message = this.messages.get(queue);
    if (message === undefined) {
      message = new EventMessage(queue, this.strings);
      this.messages.set(queue, message);
    }
    if (message.count >= EVENTS_PER_MESSAGE) this.flush();
    this.timer ??= setTimeout(this.flush, this.options.interval ?? PUBLISH_INTERVAL);
    return message;
  }

  private readonly flush = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    const taken: [string, Buffer][] = [];
    for (const [queue, message] of this.messages) {
      if (message.count > 0) taken.push([queue, message.take()]);
    }
    if (taken.length === 0) return;
    // Disconnected: the events are dropped (no offline queue); listeners are told "at most once".
    if (this.redis.status !== 'ready') {
      this.report(`Task events not published: Redis is not connected (${this.redis.status})`);
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const [queue, bytes] of taken) pipeline.publish(queueKeys(queue).events, bytes);
    pipeline.exec().then(
      () => (this.lastError = ''),
      (error: unknown) => this.report(`Could not publish task events: ${errorMessage(error)}`),
    );
  };

  /** Warns once per kind of trouble, not once per message. */
  private report(message: string): void {
    if (message !== this.lastError) this.options.logger.warn(message);
    this.lastError = message;
  }
}

/** At most `length` UTF-16 units, never ending in half of a surrogate pair. */
function truncate(text: string, length: number): string {
  if (text.length <= length) return text;
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}
