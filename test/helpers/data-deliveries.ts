import type { DataDeadLetter } from '../../lib/core/index.js';
import type { ConsumerEvent } from './data-consumers.js';

/** What became of one item in one batch, as far as its consumer's log tells. */
export type DeliveryOutcome =
  /** Taken for good (no visibility timeout). */
  | 'taken'
  /** Its done removed it. */
  | 'done'
  /** Its done found it no longer held under this lease (returned 0 for it). */
  | 'not done'
  /** A refresh found it no longer held; it was not marked done. */
  | 'dropped'
  /** done(batch) removed some but not all of the batch, or was in flight at a SIGKILL. */
  | 'ambiguous'
  /** Its consumer was killed before sending its done. */
  | 'held';

/** One item delivered in one batch. Times are ms on Redis' clock. */
export interface Delivery {
  readonly id: string;
  readonly batch: string;
  /** When the get took it (its lease end minus the visibility timeout). */
  readonly start: number;
  /** When the lease the get gave it ends (0 when taken for good). */
  readonly firstEnd: number;
  /** When its lease ended, counting the refreshes that kept it (0 when taken for good). */
  end: number;
  outcome: DeliveryOutcome;
  /** Redis' clock just before its done was sent. */
  doneAsked?: number;
  /** A refresh kept it although its lease had ended (it must not: the lease is over). */
  revivedAt?: number;
}

interface BatchLog {
  readonly deliveries: Map<string, Delivery>;
  /** What done(batch) returned, when the batch was done whole. */
  doneCount?: number;
}

/** Every delivery of every item, per item, in the order the items were taken. */
export function deliveriesOf(
  logs: readonly ConsumerEvent[][],
  visibilityTimeout: number,
): { byItem: Map<string, Delivery[]>; batches: Map<string, BatchLog> } {
  const byItem = new Map<string, Delivery[]>();
  const batches = new Map<string, BatchLog>();
  for (const log of logs) {
    for (const event of log) {
      if (event.e === 'got') {
        const deliveries = new Map<string, Delivery>();
        for (const id of event.ids) {
          const delivery: Delivery = {
            id,
            batch: event.b,
            start: event.end === 0 ? 0 : event.end - visibilityTimeout,
            firstEnd: event.end,
            end: event.end,
            outcome: event.end === 0 ? 'taken' : 'held',
          };
          deliveries.set(id, delivery);
          byItem.set(id, [...(byItem.get(id) ?? []), delivery]);
        }
        batches.set(event.b, { deliveries });
        continue;
      }
      const batch = batches.get(event.b);
      if (batch === undefined) throw new Error(`An event of unknown batch ${event.b}`);
      const held = [...batch.deliveries.values()].filter((d) => d.outcome === 'held');
      if (event.e === 'refresh') {
        const kept = new Set(event.ids);
        // The refresh's new lease starts when it ran (the lease it gives is that long).
        const refreshedAt = event.end - visibilityTimeout;
        for (const delivery of held) {
          if (!kept.has(delivery.id)) {
            delivery.outcome = 'dropped';
            continue;
          }
          if (delivery.end <= refreshedAt) delivery.revivedAt ??= refreshedAt;
          delivery.end = event.end;
        }
      } else if (event.e === 'doing') {
        // Until its answer is printed, a done may or may not have run (a SIGKILL between).
        for (const delivery of held) {
          delivery.doneAsked = event.t;
          delivery.outcome = 'ambiguous';
        }
      } else if ('per' in event) {
        for (const delivery of batch.deliveries.values()) {
          const removed = event.per[delivery.id];
          if (removed !== undefined) delivery.outcome = removed === 1 ? 'done' : 'not done';
        }
      } else {
        batch.doneCount = event.n;
        const asked = [...batch.deliveries.values()].filter((d) => d.outcome === 'ambiguous');
        if (event.n === 0 || event.n === asked.length) {
          for (const delivery of asked) delivery.outcome = event.n === 0 ? 'not done' : 'done';
        }
      }
    }
  }
  for (const deliveries of byItem.values()) deliveries.sort((a, b) => a.start - b.start);
  return { byItem, batches };
}

export interface DeliveryCheck {
  /** Everything that breaks the data queue's promises; empty when it kept them. */
  readonly problems: string[];
  /** Items whose done removed them (counting ambiguous dones resolved by what came after). */
  readonly done: number;
  /** Deliveries of items delivered before (their lease ended without done). */
  readonly redeliveries: number;
  /** Stale dones: the item was re-taken before the done was sent, and the done left it. */
  readonly retakenBeforeDone: number;
  /** Items done after the lease they were taken with had ended, kept by a refresh. */
  readonly refreshedPastFirstLease: number;
  readonly dropped: number;
  readonly ambiguous: number;
  /** Deliveries held by a consumer killed before its done. */
  readonly heldAtKill: number;
}

/**
 * Checks the deliveries against the data queue's promises:
 *   - no two leases of one item are live at one instant (each get after the last lease ended);
 *   - a refresh never brings back a lease that ended;
 *   - an item taken for good or removed by a done is never delivered again;
 *   - every item put is either removed exactly once (by its last delivery's done, or taken
 *     for good once) or, out of attempts, a dead letter after exactly `attempts` leases;
 *     nothing is lost and nothing unknown is delivered;
 *   - a done(batch) that removed part of its batch removed exactly the items it still held.
 * A done whose answer a SIGKILL cut is resolved by what happened next: it removed its items
 * that were never delivered again.
 */
export function checkDeliveries(
  putIds: readonly string[],
  log: ReturnType<typeof deliveriesOf>,
  deadLetters: readonly DataDeadLetter[],
  attempts: number,
): DeliveryCheck {
  const problems: string[] = [];
  const dead = new Map(deadLetters.map((letter) => [letter.id, letter]));
  const removedBy = new Set<Delivery>();
  let redeliveries = 0;
  let retakenBeforeDone = 0;
  let refreshedPastFirstLease = 0;
  let dropped = 0;
  let ambiguous = 0;
  let heldAtKill = 0;
  const put = new Set(putIds);
  for (const id of log.byItem.keys()) {
    if (!put.has(id)) problems.push(`${id} was delivered but never put`);
  }
  for (const letter of deadLetters) {
    if (!put.has(letter.id)) problems.push(`dead letter ${letter.id} was never put`);
  }
  for (const id of putIds) {
    const deliveries = log.byItem.get(id) ?? [];
    const letter = dead.get(id);
    if (deliveries.length === 0) {
      problems.push(`${id} was never delivered${letter ? ' (yet is a dead letter)' : ''}`);
      continue;
    }
    redeliveries += deliveries.length - 1;
    for (let i = 0; i < deliveries.length; i++) {
      const delivery = deliveries[i]!;
      const next = deliveries[i + 1];
      const last = next === undefined;
      if (
        delivery.outcome === 'done' &&
        delivery.end > delivery.firstEnd &&
        delivery.doneAsked !== undefined &&
        delivery.doneAsked > delivery.firstEnd
      ) {
        refreshedPastFirstLease++;
      }
      if (delivery.revivedAt !== undefined) {
        problems.push(
          `${id}: a refresh at ${delivery.revivedAt} kept ${delivery.batch} after its lease ended`,
        );
      }
      if (delivery.outcome === 'dropped') dropped++;
      if (delivery.outcome === 'ambiguous') ambiguous++;
      if (delivery.outcome === 'held') heldAtKill++;
      if (next !== undefined) {
        if (delivery.outcome === 'taken' || next.outcome === 'taken') {
          problems.push(`${id} was taken for good in ${delivery.batch} yet delivered again`);
        } else if (next.start < delivery.end) {
          problems.push(
            `${id}: the lease of ${next.batch} began at ${next.start}, before that of ` +
              `${delivery.batch} ended at ${delivery.end}`,
          );
        }
        if (delivery.outcome === 'done') {
          problems.push(`${id} was removed by the done of ${delivery.batch} yet delivered again`);
        }
        if (
          delivery.outcome === 'not done' &&
          delivery.doneAsked !== undefined &&
          next.start <= delivery.doneAsked
        ) {
          retakenBeforeDone++;
        }
      }
      if (last) {
        if (letter !== undefined) {
          if (delivery.outcome === 'done' || delivery.outcome === 'taken') {
            problems.push(`${id} was removed by ${delivery.batch} yet is a dead letter`);
          }
          if (deliveries.length !== attempts || letter.attempts !== attempts) {
            problems.push(
              `${id} died after ${deliveries.length} deliveries (letter says ${letter.attempts}), ` +
                `not ${attempts}`,
            );
          }
          if (letter.diedAt < delivery.end) {
            problems.push(
              `${id} died at ${letter.diedAt}, before its lease ended at ${delivery.end}`,
            );
          }
        } else if (delivery.outcome === 'done' || delivery.outcome === 'taken') {
          removedBy.add(delivery);
        } else if (delivery.outcome === 'ambiguous') {
          // Its done removed it: nobody had it after, and it is not a dead letter.
          removedBy.add(delivery);
        } else {
          problems.push(
            `${id} is lost: its last delivery (${delivery.batch}) ended "${delivery.outcome}", ` +
              `it was never delivered again and is no dead letter`,
          );
        }
      }
    }
  }
  for (const [name, batch] of log.batches) {
    if (batch.doneCount === undefined) continue;
    const removed = [...batch.deliveries.values()].filter((d) => removedBy.has(d)).length;
    if (removed !== batch.doneCount) {
      problems.push(`done(${name}) returned ${batch.doneCount}, yet ${removed} of its items left`);
    }
  }
  return {
    problems,
    done: removedBy.size,
    redeliveries,
    retakenBeforeDone,
    refreshedPastFirstLease,
    dropped,
    ambiguous,
    heldAtKill,
  };
}
