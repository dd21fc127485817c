import type { RedisClient } from './client.js';
import { ConnectionLostError } from '../errors.js';

/**
 * Turns "the connection closed while this command was in flight" into a rejection.
 *
 * The worker's connections never resend a command after a reconnect (a dequeue run twice
 * could lose a task), and with resending off ioredis drops such commands without ever
 * settling their promises. Racing each command against the connection's next close makes
 * the worker see the failure, and treat the command's outcome as unknown.
 */
export class ConnectionLoss {
  // Not Promise.race against one long-lived promise: every race would leave a reaction on
  // it that is never released, a leak of one closure per command.
  private readonly pending = new Set<(error: Error) => void>();

  constructor(redis: RedisClient) {
    redis.on('close', () => {
      const error = new ConnectionLostError(
        'Redis connection closed before the reply arrived; the outcome is unknown',
      );
      for (const reject of this.pending) reject(error);
      this.pending.clear();
    });
  }

  /** Commands being watched right now. */
  get watching(): number {
    return this.pending.size;
  }

  /** The command's result, or a rejection if the connection closes first. */
  guard<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      command.then(
        (value) => {
          this.pending.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(reject);
          reject(error);
        },
      );
    });
  }
}
