/**
 * An item's record as `N_dq_items` holds it on Redis (see lib/core/data/data-record.ts), kept
 * as fields: the attempts it was given, its dead-letter flag, how many of its leases ran out,
 * and its MessagePack bytes (owned by the store: nothing outside holds them).
 */
interface InlineDataRecord {
  readonly attempts: number;
  readonly deadLetter: boolean;
  returns: number;
  readonly item: Buffer;
}

/** What a take hands back, as the get script's reply does. */
export interface InlineDataTake {
  /** The lease end of the items taken (0 without a lease, or when nothing was listed). */
  readonly leaseEnd: number;
  /** Ms until the next delayed item or lease end when nothing was taken (-1: none). */
  readonly nextDue: number;
  /** Item id and its MessagePack bytes, in queue order (the store's own bytes: copy them). */
  readonly items: readonly (readonly [string, Buffer])[];
  /** The most items of one kind settled (a sweep goes on while that reaches its bound). */
  readonly settled: number;
}

/**
 * The state of one data queue in memory, shaped as its Redis keys are (an available list of
 * ids, a hash of records, a sorted set of leases, one of delayed items, a list of dead
 * letters), and the steps of its scripts (lib/core/scripts/data_*.lua), each run on
 * `Date.now()` and whole, as a script runs atomically. The scripts are the reference: each
 * method says which one it follows, down to the orders Redis gives (a sorted set lists equal
 * scores by member bytes), so a test sees the order Redis would give.
 */
export class InlineDataStore {
  /** `N_dq`: ids of the items a get can take now, oldest first. */
  private available: string[] = [];
  /** `N_dq_items`. */
  private readonly records = new Map<string, InlineDataRecord>();
  /** `N_dq_leases`: held id -> when its lease ends (ms). */
  private readonly leases = new Map<string, number>();
  /** `N_dq_delayed`: delayed id -> when it becomes available (ms). */
  private readonly delayed = new Map<string, number>();
  /** `N_dq_dead`: dead letters' bytes, oldest first. */
  private dead: Buffer[] = [];
  /** Gets waiting for items (the `N_dq_wake` channel's subscribers). */
  private readonly waiters = new Set<() => void>();

  /** data_put.lua: records in, then ids at the tail (and a wake), or into the delayed set. */
  put(
    entries: readonly (readonly [string, Buffer])[],
    attempts: number,
    deadLetter: boolean,
    delay: number,
  ): void {
    for (const [id, item] of entries) {
      this.records.set(id, { attempts, deadLetter, returns: 0, item });
    }
    if (delay > 0) {
      const due = Date.now() + delay;
      for (const [id] of entries) this.delayed.set(id, due);
      return;
    }
    for (const [id] of entries) this.available.push(id);
    this.wake();
  }

  /**
   * data_get.lua: settles what is due, then takes up to `count` ids from the head: leased
   * until now + `timeout` (> 0), removed (0), or only read (-1, a peek). `keep` bounds the
   * dead letters.
   */
  take(count: number, timeout: number, keep: number): InlineDataTake {
    const now = Date.now();
    // As the script: a sweep (count 0) settles 1,000 of each kind per call.
    const settled = this.settle(now, count > 0 ? Math.max(count, 100) : 1_000, keep);
    let leaseEnd = 0;
    const items: [string, Buffer][] = [];
    if (count > 0) {
      const ids = this.available.slice(0, count);
      if (ids.length > 0) {
        // Read before anything is removed, as HMGET runs before HDEL in the script.
        const records = ids.map((id) => this.records.get(id));
        if (timeout >= 0) {
          this.available.splice(0, ids.length);
          if (timeout === 0) {
            for (const id of ids) this.records.delete(id);
          } else {
            leaseEnd = now + timeout;
            ids.forEach((id, i) => {
              if (records[i] !== undefined) this.leases.set(id, leaseEnd);
            });
          }
        }
        // An id whose record is gone is skipped, as in the script.
        ids.forEach((id, i) => {
          if (records[i] !== undefined) items.push([id, records[i].item]);
        });
      }
    }
    let nextDue = -1;
    if (items.length === 0) {
      for (const set of [this.leases, this.delayed]) {
        for (const at of set.values()) {
          const inMs = Math.max(at - now, 0);
          if (nextDue < 0 || inMs < nextDue) nextDue = inMs;
        }
      }
    }
    return { leaseEnd, nextDue, items, settled };
  }

  /**
   * data_refresh.lua: each id still held (lease not ended; with `lease`, that very lease)
   * gets a lease ending now + `timeout`. Returns the end and the ids refreshed. (The real
   * refresh splits ids into calls of 1,000 that share the first call's end; one call here
   * does the same at once.)
   */
  refresh(
    ids: readonly string[],
    timeout: number,
    lease: number | undefined,
  ): { leaseEnd: number; refreshed: string[] } {
    const now = Date.now();
    const end = now + timeout;
    const refreshed = ids.filter((id) => {
      const score = this.leases.get(id);
      return score !== undefined && score > now && (lease === undefined || score === lease);
    });
    // Written after every id was checked, as the script's ZADD runs after its loop.
    for (const id of refreshed) this.leases.set(id, end);
    return { leaseEnd: end, refreshed };
  }

  /** data_done.lua: removes each id held (with `lease`, under that lease); returns how many. */
  done(ids: readonly string[], lease: number | undefined): number {
    const done = ids.filter((id) => {
      const score = this.leases.get(id);
      return score !== undefined && (lease === undefined || score === lease);
    });
    for (const id of done) {
      this.leases.delete(id);
      this.records.delete(id);
    }
    return done.length;
  }

  /** data_counts.lua: available (with due delays and ended leases), held, delayed, dead. */
  counts(): { available: number; invisible: number; delayed: number; dead: number } {
    const now = Date.now();
    const ended = countUpTo(this.leases, now);
    const due = countUpTo(this.delayed, now);
    return {
      available: this.available.length + ended + due,
      invisible: this.leases.size - ended,
      delayed: this.delayed.size - due,
      dead: this.dead.length,
    };
  }

  /** What `deleteAll` deletes on Redis: every key but the dead letters. */
  deleteItems(): void {
    this.available = [];
    this.records.clear();
    this.leases.clear();
    this.delayed.clear();
  }

  deadCount(): number {
    return this.dead.length;
  }

  /** LRANGE on the dead letters: `start` to `stop` inclusive, negative from the end. */
  deadRange(start: number, stop: number): Buffer[] {
    const length = this.dead.length;
    const from = Math.max(start < 0 ? length + start : start, 0);
    const to = Math.min(stop < 0 ? length + stop : stop, length - 1);
    return from > to ? [] : this.dead.slice(from, to + 1);
  }

  /** LREM 1: removes the first dead letter with these exact bytes; false if none. */
  removeDead(raw: Buffer): boolean {
    const index = this.dead.findIndex((letter) => letter.equals(raw));
    if (index < 0) return false;
    this.dead.splice(index, 1);
    return true;
  }

  /**
   * data_requeue_dead.lua: each letter still there leaves the list and its item comes back
   * at the tail under its id, with a fresh record; one wake if any came back.
   */
  requeueDead(
    letters: readonly { raw: Buffer; id: string; item: Buffer; attempts: number }[],
    deadLetter: boolean,
  ): number {
    let requeued = 0;
    for (const { raw, id, item, attempts } of letters) {
      if (!this.removeDead(raw)) continue;
      this.records.set(id, { attempts, deadLetter, returns: 0, item });
      this.available.push(id);
      requeued++;
    }
    if (requeued > 0) this.wake();
    return requeued;
  }

  /** Deletes every dead letter; returns how many there were. */
  purgeDead(): number {
    return this.dead.splice(0).length;
  }

  /** Calls `wake` on the next put or requeue that makes items available; returns the unsubscribe. */
  onWake(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * The script's steps 1 and 2, at most `bound` of each: due delayed items to the tail (in
   * due order); ended leases' items back to the head if they have attempts left, else to
   * the dead letters (bounded by `keep`) if they were put so, else dropped.
   */
  private settle(now: number, bound: number, keep: number): number {
    const due = dueIds(this.delayed, now, bound);
    for (const id of due) this.delayed.delete(id);
    this.available.push(...due);

    const ended = dueIds(this.leases, now, bound);
    if (ended.length === 0) return due.length;
    for (const id of ended) this.leases.delete(id);
    const back: string[] = [];
    let died = false;
    // Last ended first, as the script walks them: the dead letters land in that order.
    for (let i = ended.length - 1; i >= 0; i--) {
      const id = ended[i]!;
      const record = this.records.get(id);
      if (record === undefined) continue;
      const returns = record.returns + 1;
      if (returns < record.attempts) {
        record.returns = returns;
        back.push(id);
        continue;
      }
      this.records.delete(id);
      if (record.deadLetter && keep > 0) {
        this.dead.push(deadLetterBytes(id, record.item, returns, now));
        died = true;
      }
    }
    // LPUSH of the newest first puts the first ended at the head.
    if (back.length > 0) this.available.unshift(...back.reverse());
    if (died && this.dead.length > keep) this.dead.splice(0, this.dead.length - keep);
    return Math.max(due.length, ended.length);
  }
}

/** How many members of a sorted set score `now` or less. */
function countUpTo(set: ReadonlyMap<string, number>, now: number): number {
  let count = 0;
  for (const at of set.values()) if (at <= now) count++;
  return count;
}

/**
 * ZRANGEBYSCORE -inf now LIMIT 0 bound: the members scoring `now` or less, by score, equal
 * scores by member bytes (so items due at the same ms come in id order, as on Redis).
 */
function dueIds(set: ReadonlyMap<string, number>, now: number, bound: number): string[] {
  const due: [string, number][] = [];
  for (const entry of set) if (entry[1] <= now) due.push(entry);
  due.sort(([a, at], [b, bt]) => at - bt || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return due.slice(0, bound).map(([id]) => id);
}

/**
 * A dead letter's bytes exactly as data_get.lua writes them: the MessagePack map {id, item,
 * attempts, diedAt}, the item as its stored bytes, attempts as uint16, diedAt as float64.
 */
export function deadLetterBytes(
  id: string,
  item: Buffer,
  attempts: number,
  diedAt: number,
): Buffer {
  const idBytes = Buffer.from(id);
  const idHeader =
    idBytes.length < 32
      ? Buffer.from([0xa0 + idBytes.length])
      : Buffer.from([0xd9, idBytes.length]);
  const attemptsBytes = Buffer.alloc(3);
  attemptsBytes[0] = 0xcd;
  attemptsBytes.writeUInt16BE(attempts, 1);
  const diedAtBytes = Buffer.alloc(9);
  diedAtBytes[0] = 0xcb;
  diedAtBytes.writeDoubleBE(diedAt, 1);
  return Buffer.concat([
    Buffer.from('\x84\xa2id', 'latin1'),
    idHeader,
    idBytes,
    Buffer.from('\xa4item', 'latin1'),
    item,
    Buffer.from('\xa8attempts', 'latin1'),
    attemptsBytes,
    Buffer.from('\xa6diedAt', 'latin1'),
    diedAtBytes,
  ]);
}
