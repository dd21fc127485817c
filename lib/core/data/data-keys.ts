/**
 * The Redis keys of one data queue (ours; no peer reads them). Every key carries the queue's
 * name, hash tag included, so in Redis Cluster a data queue lives in one slot; the `_dq`
 * infix keeps them apart from the keys of a task queue of the same name.
 */
export interface DataQueueKeys {
  /** List of the ids of the items a get can take now, oldest first. */
  readonly available: string;
  /**
   * Hash: item id -> its record: an 8-byte header (attempts allowed, dead-letter flag, times
   * its lease ran out) then the item's MessagePack bytes (see data-record.ts).
   */
  readonly items: string;
  /** Sorted set: id of a held item -> when its lease ends, in ms on Redis' clock. */
  readonly leases: string;
  /** Sorted set: id of an item put with a delay -> when it becomes available, in ms on Redis' clock. */
  readonly delayed: string;
  /** List of dead letters: items whose last attempt's lease ran out (MessagePack maps). */
  readonly dead: string;
  /** Not a key: the Pub/Sub channel on which a put wakes the consumers waiting for items. */
  readonly wake: string;
}

export function dataQueueKeys(name: string): DataQueueKeys {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(
      `A data queue name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  return {
    available: `${name}_dq`,
    items: `${name}_dq_items`,
    leases: `${name}_dq_leases`,
    delayed: `${name}_dq_delayed`,
    dead: `${name}_dq_dead`,
    wake: `${name}_dq_wake`,
  };
}
