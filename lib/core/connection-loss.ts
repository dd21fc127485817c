import type { Redis } from 'ioredis';

/**
 * Turns "the connection closed while this command was in flight" into a rejection.
 *
 * The worker's connections never resend a command after a reconnect (a dequeue run twice
 * could lose a task), and with resending off ioredis drops such commands without ever
 * settling their promises. Racing each command against the connection's next close makes
 * the worker see the failure, and treat the command's outcome as unknown.
 */
export class ConnectionLoss {
  private signal!: Promise<never>;
  private fire!: (error: Error) => void;

  constructor(redis: Redis) {
    this.arm();
    redis.on('close', () => {
      this.fire(new Error('Redis connection closed before the reply arrived; the outcome is unknown'));
      this.arm();
    });
  }

  /** The command's result, or a rejection if the connection closes first. */
  guard<T>(command: Promise<T>): Promise<T> {
    return Promise.race([command, this.signal]);
  }

  private arm(): void {
    this.signal = new Promise<never>((_, reject) => {
      this.fire = reject;
    });
    // Nobody may be waiting when the connection closes.
    this.signal.catch(() => undefined);
  }
}
