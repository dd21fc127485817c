import type { RedisClient } from '../redis/client.js';
import { type DelayedLogger, errorMessage } from '../logger.js';
import { closeConnection } from '../redis/connection.js';

/** What resume.lua publishes on a queue's wake channel (a due time is a number, never this). */
export const RESUME_MESSAGE = 'resume';

/**
 * Hears, on a subscriber connection of its own, when another process schedules a task due
 * sooner than any other of a queue: the schedule script PUBLISHes the ms until it is due on
 * the queue's wake channel (`N_wake`), and the listener passes them on, so a promoter
 * re-arms at once instead of finding the task at its next look (up to a second later).
 *
 * A resume of a paused queue sends `resume` on the same channel (resume.lua), which the
 * listener passes to `onResume`: a worker that sits the pause out looks again at once.
 *
 * Only an optimisation: without it (a user whose ACL refuses SUBSCRIBE, a lost message
 * during a reconnect) the promoter still finds every task at its next look, and a worker
 * finds a resumed queue at its next look.
 */
export class WakeListener {
  private subscriber: RedisClient | undefined;
  /** Channel -> queue name. */
  private readonly channels = new Map<string, string>();
  private reported = false;

  constructor(
    private readonly logger: DelayedLogger,
    /** Called with the queue's name and the ms until its new earliest task is due. */
    private readonly onWake: (queue: string, dueIn: number) => void,
    /** Called with the queue's name when it was resumed. */
    private readonly onResume?: (queue: string) => void,
  ) {}

  /** Listens for a queue's wake-ups (on its channel, `N_wake`). */
  listen(queue: string, channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.set(channel, queue);
    if (this.subscriber?.status === 'ready') this.subscribe([channel]);
  }

  /** Whether it has its connection (from `start` until `stop`). */
  get started(): boolean {
    return this.subscriber !== undefined;
  }

  /** Listens on `subscriber`, a connection of its own (closed by `stop`). */
  start(subscriber: RedisClient): void {
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    // On every (re)connect: ioredis resubscribes what it had, this also covers channels added
    // while it was down and a first SUBSCRIBE refused while connecting.
    subscriber.on('ready', () => this.subscribe([...this.channels.keys()]));
    subscriber.on('message', (channel: string, message: string) => {
      const queue = this.channels.get(channel);
      if (queue === undefined) return;
      if (message === RESUME_MESSAGE) {
        this.onResume?.(queue);
        return;
      }
      const dueIn = Number(message);
      if (Number.isFinite(dueIn)) this.onWake(queue, dueIn);
    });
    if (subscriber.status === 'ready') this.subscribe([...this.channels.keys()]);
  }

  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber !== undefined) await closeConnection(subscriber);
  }

  private subscribe(channels: string[]): void {
    if (channels.length === 0 || this.subscriber === undefined) return;
    this.subscriber.subscribe(...channels).catch((error: unknown) => {
      if (this.reported) return;
      this.reported = true;
      this.logger.warn(
        `Cannot subscribe to the wake-up channel(s) ${channels.join(', ')}: ${errorMessage(error)}; tasks scheduled by other processes are moved at most a second late`,
      );
    });
  }
}
