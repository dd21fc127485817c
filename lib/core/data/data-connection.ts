import type { RedisClient } from '../redis/client.js';
import { duplicateClient, isCluster } from '../redis/connection.js';

/** The connection each base connection's data queues send their commands on. */
const byBase = new WeakMap<RedisClient, RedisClient>();

/**
 * The connection a data queue sends its commands on: the given one when it never sends a
 * command twice, else one duplicate of it per base connection that does not either.
 *
 * ioredis, by default, sends the commands that were in flight when a connection dropped once
 * more after it reconnects. A script that had run would then run twice: a get would take a
 * second batch (the first one leased to nobody, or lost when taken for good). Without the
 * resend, such a call fails, and its outcome is unknown: a lease then comes back when it
 * ends, and an item taken for good may be lost, which 0/1 delivery allows. The duplicate
 * closes when the base connection ends.
 */
export function dataConnection(base: RedisClient): RedisClient {
  // A cluster client also resends on its own after a failover unless retryDelayOnFailover is 0.
  const resends = isCluster(base)
    ? base.options.redisOptions?.autoResendUnfulfilledCommands !== false ||
      base.options.retryDelayOnFailover !== 0
    : base.options.autoResendUnfulfilledCommands !== false;
  if (!resends) return base;
  let own = byBase.get(base);
  if (own !== undefined && own.status !== 'end') return own;
  own = duplicateClient(base, {
    autoResendUnfulfilledCommands: false,
    disconnectTimeout: 200,
    lazyConnect: false,
  });
  // The base connection's listeners report the server's trouble; this one only stays quiet.
  own.on('error', () => undefined);
  const duplicate = own;
  base.once('end', () => duplicate.disconnect());
  byBase.set(base, own);
  return own;
}
