import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';

/**
 * The connection a cluster client has to the primary serving `key`'s slot, as ioredis routes
 * it now, or undefined before the client knows the cluster's slots. For the few commands that
 * must reach one node and name no key (CLIENT ID, CLIENT UNBLOCK, WAIT).
 */
export function nodeOfKey(cluster: Cluster, key: string): Redis | undefined {
  const owner = cluster.slots[calculateSlot(key)]?.[0];
  if (owner === undefined) return undefined;
  return cluster.nodes('master').find(({ options }) => `${options.host}:${options.port}` === owner);
}

/** The connection `cluster` has to the same server as `node` (of another client), or undefined. */
export function sameNode(cluster: Cluster, node: Redis): Redis | undefined {
  const { host, port } = node.options;
  return cluster.nodes().find(({ options }) => options.host === host && options.port === port);
}
