/**
 * What one `get` took from a data queue: item id -> item, in queue order. With a visibility
 * timeout the items are held under one lease until `leaseEnd`; `refresh(batch)` extends it
 * and drops from the batch the items no longer held, and `done(batch)` removes exactly the
 * items held under this lease, so a consumer that overran its lease cannot touch an item
 * another consumer has taken since.
 */
export class DataBatch<T = unknown> extends Map<string, T> {
  /**
   * When the lease of these items ends, in ms since the epoch on Redis' clock; 0 when they
   * were taken for good (no visibility timeout) or peeked.
   */
  leaseEnd: number;

  constructor(leaseEnd = 0) {
    super();
    this.leaseEnd = leaseEnd;
  }

  /** Whether the items are held under a lease (taken with a visibility timeout). */
  get leased(): boolean {
    return this.leaseEnd > 0;
  }
}
