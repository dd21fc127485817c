import { NotReplicatedError } from '../errors.js';
import type { RedisClient } from '../redis/client.js';
import { isCluster } from '../redis/connection.js';
import { nodeOfKey } from '../redis/cluster-node.js';

/**
 * Redis replicates asynchronously: a write the primary acknowledged is lost if the primary
 * fails before a replica copied it, and a replica promoted then has never seen it. A durable
 * queue asks, after each write, for WAIT: the primary answers once `replicas` replicas hold
 * every write made so far on this connection, or when `timeout` ms pass.
 */
export interface DurableOptions {
  /** Replicas that must hold the write. Default 1. */
  readonly replicas?: number;
  /** How long to wait for them (ms). Default 1,000. */
  readonly timeout?: number;
}

export interface DurableSettings {
  readonly replicas: number;
  readonly timeout: number;
}

/** The checked settings of `durable`, or undefined when off; problems are pushed. */
export function resolveDurable(
  durable: DurableOptions | boolean | undefined,
  problems: string[],
): DurableSettings | undefined {
  if (durable === undefined || durable === false) return undefined;
  const given = durable === true ? {} : durable;
  if (given === null || typeof given !== 'object') {
    problems.push(`durable must be true, false or { replicas, timeout }, got ${String(durable)}`);
    return undefined;
  }
  const replicas = given.replicas ?? 1;
  const timeout = given.timeout ?? 1_000;
  if (!Number.isInteger(replicas) || replicas < 1) {
    problems.push(`durable.replicas must be a positive integer, got ${String(given.replicas)}`);
  }
  if (!Number.isInteger(timeout) || timeout < 1) {
    problems.push(
      `durable.timeout must be a positive whole number of milliseconds, got ${String(given.timeout)}`,
    );
  }
  return { replicas, timeout };
}

/**
 * Waits until the write just made on `key`'s connection is on `replicas` replicas; throws a
 * NotReplicatedError when fewer confirm it in time. On a cluster, WAIT names no key: it goes
 * to the connection the write went on, the one to the primary serving the key's slot.
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  { replicas, timeout }: DurableSettings,
  what: string,
): Promise<void> {
  const connection = isCluster(redis) ? nodeOfKey(redis, key) : redis;
  if (connection === undefined) {
    throw new NotReplicatedError(
      `${what} was written, but the cluster client no longer knows which node serves its slot to ask for its replicas`,
      0,
      replicas,
    );
  }
  const confirmed = Number(await connection.wait(replicas, timeout));
  if (confirmed < replicas) {
    throw new NotReplicatedError(
      `${what} was written on the primary, but ${confirmed} of the ${replicas} replica(s) asked for confirmed it within ${timeout} ms: it is lost if the primary fails before a replica copies it; do not send it again (it would be written twice)`,
      confirmed,
      replicas,
    );
  }
}
