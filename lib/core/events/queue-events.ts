import { EventEmitter } from 'node:events';
import type { RedisClient } from '../redis/client.js';
import { InvalidOptionsError } from '../errors.js';
import { consoleLogger, type DelayedLogger, errorMessage } from '../logger.js';
import { queueKeys } from '../protocol/keys.js';
import { closeConnection, duplicateClient, whenReady } from '../redis/connection.js';
import { decodeQueueEvents, type QueueEvent, type QueueEventName } from './queue-event.js';

export type QueueEventsMap = { [K in QueueEventName]: [QueueEvent] };

/**
 * Hears what workers in other processes say about the tasks of some queues: started,
 * completed, retried, failed, interrupted (workers publish them only when asked: the
 * module's `events: { publish }`, or an EventPublisher). Pub/Sub: at most once, and only
 * while connected; for a task you must not miss, use a tracked call and its result().
 *
 * ```ts
 * const events = new QueueEvents(redis, ['emails']);
 * events.on('failed', (event) => alert(event.name, event.error));
 * await events.start();
 * ```
 */
export class QueueEvents extends EventEmitter<QueueEventsMap> {
  private readonly subscriber: RedisClient;
  private readonly channels: Map<string, string>;

  private readonly logger: DelayedLogger;

  constructor(
    redis: RedisClient,
    queues: readonly string[],
    logger: DelayedLogger = consoleLogger,
  ) {
    super();
    this.logger = logger;
    // Many listeners are normal here (one per decorated method): no leak warning.
    this.setMaxListeners(0);
    if (!Array.isArray(queues) || queues.length === 0) {
      throw new InvalidOptionsError('QueueEvents needs at least one queue name');
    }
    this.channels = new Map(queues.map((queue) => [queueKeys(queue).events, queue]));
    // Its own connection: a subscribed connection can send nothing else. Connected even when
    // the producer's is lazy; ioredis subscribes again by itself after each reconnect.
    this.subscriber = duplicateClient(redis, { disconnectTimeout: 200, lazyConnect: false });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (!this.channels.has(channel.toString())) return;
      for (const event of decodeQueueEvents(message)) {
        // Inside ioredis' socket callback: a listener's error must not escape there (it
        // would be uncaught) nor cost the other events of the message.
        try {
          this.emit(event.event, event);
        } catch (error) {
          this.logger.error(
            `A listener of the "${event.event}" queue event threw: ${errorMessage(error)}`,
          );
        }
      }
    });
  }

  /**
   * Subscribes; resolves once subscribed, or rejects with a RedisUnavailableError if Redis
   * cannot be reached within `timeout` ms, in which case the subscription still happens as
   * soon as it can be reached (and again after every reconnect).
   */
  async start(timeout = 5_000): Promise<void> {
    const subscribed = this.subscriber.subscribe(...this.channels.keys());
    subscribed.catch(() => undefined);
    await whenReady(this.subscriber, timeout);
    await subscribed;
  }

  async close(): Promise<void> {
    await closeConnection(this.subscriber);
  }
}
