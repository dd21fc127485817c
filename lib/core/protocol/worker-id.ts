import { randomBytes } from 'node:crypto';

/**
 * A new worker (slot) id: 32 hex characters, the shape go-delayed uses, after `prefix`. The
 * id is also the name of the slot's liveness key, bare, as the protocol wants. On a Redis
 * Cluster the prefix is the queues' hash tag (`{orders}`), so that the liveness keys live in
 * the queues' slot: the worker's pipelines and transactions over them and its processing
 * entries stay in one slot, and a sweeper may check them inside its script.
 */
export function newWorkerId(prefix = ''): string {
  return prefix + randomBytes(16).toString('hex');
}
