import type { Redis } from 'ioredis';
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
 * The connection a write on `key` goes over (one server's client, or a cluster's connection
 * to the primary serving the key's slot), and how many times it had closed when the write
 * went. WAIT covers the writes of the connection it is sent on: it must be that one, not
 * reopened since (ioredis would send a WAIT again, after a reconnect, to the new primary,
 * where it covers nothing of ours), nor another node that took the slot over.
 */
export interface WriteTarget {
  readonly connection: Redis;
  readonly closes: number;
}

/** Times each connection closed, counted from its first durable write. */
const closes = new WeakMap<Redis, { count: number }>();

function closesOf(connection: Redis): { count: number } {
  let counter = closes.get(connection);
  if (counter === undefined) {
    const created = { count: 0 };
    connection.on('close', () => void created.count++);
    closes.set(connection, (counter = created));
  }
  return counter;
}

/** Where a write on `key` goes now; call it right before sending the write. */
export function writeTarget(redis: RedisClient, key: string): WriteTarget | undefined {
  const connection = isCluster(redis) ? nodeOfKey(redis, key) : redis;
  return connection && { connection, closes: closesOf(connection).count };
}

/**
 * Waits until the write sent to `target` is on `replicas` replicas; throws a
 * NotReplicatedError when fewer confirm it in time, or when it cannot be known (the
 * connection closed, or the slot moved, since the write).
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  target: WriteTarget | undefined,
  { replicas, timeout }: DurableSettings,
  what: string,
): Promise<void> {
  const unknown = () =>
    new NotReplicatedError(
      `${what} was written, but the connection to the primary that took it closed (or the slot moved) before its replicas could be counted: it is lost if that primary failed before a replica copied it; do not send it again (it would be written twice if it was not lost)`,
      0,
      replicas,
      true,
    );
  const now = writeTarget(redis, key);
  if (
    target === undefined ||
    now?.connection !== target.connection ||
    now.closes !== target.closes ||
    target.connection.status !== 'ready'
  ) {
    throw unknown();
  }
  const confirmed = Number(await target.connection.wait(replicas, timeout));
  if (closesOf(target.connection).count !== target.closes) throw unknown();
  if (confirmed < replicas) {
    throw new NotReplicatedError(
      `${what} was written on the primary, but ${confirmed} of the ${replicas} replica(s) asked for confirmed it within ${timeout} ms: it is lost if the primary fails before a replica copies it; do not send it again (it would be written twice)`,
      confirmed,
      replicas,
    );
  }
}
