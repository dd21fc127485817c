import { errorMessage, type QueueCounts, type QueueInspector } from '../core/index.js';
import { withinDeadline } from '../redis-deadline.js';

/** The queue counts of one read: those read, and the queues that could not be read. */
export interface CountsSnapshot {
  readonly counts: readonly QueueCounts[];
  readonly failures: readonly { readonly queue: string; readonly error: string }[];
}

/**
 * Reads every queue's counts (one MULTI each, all at once), bounded as a whole by `timeout`
 * ms: a queue that did not answer in time is a failure, never a wait past it.
 */
export async function readCounts(
  inspectors: readonly QueueInspector[],
  timeout: number,
): Promise<CountsSnapshot> {
  const settled = await Promise.allSettled(
    inspectors.map((inspector) =>
      withinDeadline(inspector.counts(), timeout, `the counts of queue "${inspector.name}"`),
    ),
  );
  const counts: QueueCounts[] = [];
  const failures: { queue: string; error: string }[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') counts.push(result.value);
    else failures.push({ queue: inspectors[i]!.name, error: errorMessage(result.reason) });
  });
  return { counts, failures };
}

/**
 * One read serves every scrape for `maxAge` ms from its start, and scrapes during a read
 * wait for that read instead of starting their own: Redis sees at most one read in flight,
 * and one per `maxAge`, however many scrapes come.
 */
export class CachedCounts {
  private last: { readonly startedAt: number; readonly read: Promise<CountsSnapshot> } | undefined;
  private reading = false;

  constructor(
    private readonly read: () => Promise<CountsSnapshot>,
    private readonly maxAge: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<CountsSnapshot> {
    const last = this.last;
    if (last !== undefined && (this.reading || this.now() - last.startedAt < this.maxAge)) {
      return last.read;
    }
    this.reading = true;
    const read = this.read().finally(() => {
      this.reading = false;
    });
    this.last = { startedAt: this.now(), read };
    return read;
  }
}
