import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import { isCluster } from '../redis/connection.js';
import { nodeOfKey, sameNode } from '../redis/cluster-node.js';

/**
 * Ends the blocking connection's BLPOP now instead of at its timeout (a stop, a resumed
 * queue): CLIENT UNBLOCK of the blocked connection's id, sent over the command connection.
 * The BLPOP then returns nil, so nothing is lost.
 *
 * On one server the id is read once per (re)connect. On a cluster the BLPOP goes to the
 * node serving the queues' slot, which a failover changes: the id is that of the blocking
 * client's connection to that node, read before its first BLPOP there, and the UNBLOCK goes
 * to the same node over the command client's own connection to it.
 */
export class BlpopInterrupter {
  private standaloneId: number | undefined;
  private readonly nodeIds = new WeakMap<Redis, number>();
  /** The node the last BLPOP went to (cluster only). */
  private node: Redis | undefined;

  constructor(
    private readonly blocking: RedisClient,
    private readonly commands: RedisClient,
  ) {
    if (!isCluster(blocking)) {
      blocking.on('ready', () => {
        blocking.client('ID').then(
          (id) => (this.standaloneId = Number(id)),
          () => (this.standaloneId = undefined),
        );
      });
    }
  }

  /** Called before each BLPOP on `key`'s slot: learns the id of the connection it will use. */
  async beforeBlpop(key: string): Promise<void> {
    if (!isCluster(this.blocking)) return;
    const node = nodeOfKey(this.blocking, key);
    this.node = node;
    if (node === undefined || this.nodeIds.has(node)) return;
    const id = Number(await node.client('ID'));
    this.nodeIds.set(node, id);
    // A reconnect opens a new connection with a new id.
    node.once('close', () => this.nodeIds.delete(node));
  }

  /** Ends a BLPOP in progress, if any; never throws. */
  interrupt(): void {
    if (this.commands.status !== 'ready') return;
    if (!isCluster(this.commands)) {
      if (this.standaloneId === undefined) return;
      this.commands.client('UNBLOCK', this.standaloneId).catch(() => undefined);
      return;
    }
    const node = this.node;
    const id = node && this.nodeIds.get(node);
    const target = node && sameNode(this.commands, node);
    if (id === undefined || target === undefined) return;
    target.client('UNBLOCK', id).catch(() => undefined);
  }
}
