import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { DataQueue } from '../../lib/core/index.js';
import {
  consumerEvents,
  type ConsumerEvent,
  startDataConsumer,
} from '../helpers/data-consumers.js';
import { checkDeliveries, deliveriesOf } from '../helpers/data-deliveries.js';
import type { Spawned } from '../helpers/processes.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

/** The keys of a data queue that still exist (a drained queue without dead letters has none). */
async function keysLeft(queue: DataQueue<unknown>): Promise<string[]> {
  const { available, items, leases, delayed, dead } = queue.keys;
  const names = [available, items, leases, delayed, dead];
  const exists = await Promise.all(names.map((name) => db.redis.exists(name)));
  return names.filter((_, i) => exists[i] === 1);
}

/**
 * Starts `count` consumer processes on one queue (each its own connection), puts the items
 * once all of them wait for some, and returns each one's events once all stopped by
 * themselves (IDLE_EXIT).
 */
async function race(
  queue: DataQueue<number>,
  items: number,
  env: Record<string, string>,
  count = 2,
): Promise<{ putIds: string[]; logs: ConsumerEvent[][] }> {
  const consumers: Spawned[] = [];
  try {
    for (let i = 0; i < count; i++) {
      consumers.push(
        await startDataConsumer({ REDIS_URL: db.server.url, QUEUE: queue.name, ...env }),
      );
    }
    const putIds = await queue.put(Array.from({ length: items }, (_, i) => i));
    const ended = await Promise.race([
      Promise.all(consumers.map((consumer) => consumer.exited)),
      sleep(40_000, 'timed out', { ref: false }),
    ]);
    assert.deepEqual(ended, Array(count).fill(0), 'every consumer stopped by itself');
    return { putIds, logs: consumers.map((consumer) => consumerEvents(consumer.output())) };
  } finally {
    for (const consumer of consumers) consumer.child.kill('SIGKILL');
  }
}

describe('two consumer processes racing for 10,000 items', () => {
  it('within one lease each: every item is delivered exactly once and done once', async () => {
    const queue = new DataQueue<number>(db.redis, uniqueName('race'));
    const visibilityTimeout = 30_000; // no lease ends during the test
    const { putIds, logs } = await race(queue, 10_000, {
      VISIBILITY_TIMEOUT: String(visibilityTimeout),
      BATCH_MIN: '50',
      BATCH_MAX: '150',
      IDLE_EXIT: '1000',
    });
    const log = deliveriesOf(logs, visibilityTimeout);
    const check = checkDeliveries(putIds, log, [], 1);
    assert.deepEqual(check.problems.slice(0, 10), []);
    assert.equal(check.redeliveries, 0, 'no item was delivered twice');
    assert.equal(check.done, 10_000);
    for (const [name, batch] of log.batches) {
      assert.equal(batch.doneCount, batch.deliveries.size, `done(${name}) removed its whole batch`);
    }
    const shares = logs.map((events) => events.filter((event) => event.e === 'got').length);
    for (const share of shares) assert.ok(share > 0, `both consumers took batches: ${shares}`);
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    assert.deepEqual(await keysLeft(queue), []);
  });

  it('taken for good (no visibility timeout): every item is taken exactly once', async () => {
    const queue = new DataQueue<number>(db.redis, uniqueName('race01'));
    const { putIds, logs } = await race(queue, 10_000, {
      VISIBILITY_TIMEOUT: '0',
      BATCH_MIN: '50',
      BATCH_MAX: '150',
      IDLE_EXIT: '1000',
    });
    const check = checkDeliveries(putIds, deliveriesOf(logs, 0), [], 1);
    assert.deepEqual(check.problems.slice(0, 10), []);
    assert.equal(check.redeliveries, 0);
    assert.equal(check.done, 10_000);
    const shares = logs.map((events) => events.filter((event) => event.e === 'got').length);
    for (const share of shares) assert.ok(share > 0, `both consumers took batches: ${shares}`);
    assert.deepEqual(await keysLeft(queue), []);
  });
});

describe('consumers whose leases end while they still work', () => {
  it('never share a live lease, cannot mark done what was re-taken, and lose nothing', async () => {
    const visibilityTimeout = 200;
    // Two attempts: enough items run out of them in every run, however the timing falls.
    const attempts = 2;
    const queue = new DataQueue<number>(db.redis, uniqueName('leases'), { attempts });
    // Two processes of two consumers each: after its work, a consumer refreshes its lease
    // and works on past the lease it had (30 %), or keeps the batch past its lease (30 %),
    // so that another takes its items meanwhile (and half of those times refreshes too
    // late), or is done in time (40 %).
    const { putIds, logs } = await race(queue, 2_000, {
      VISIBILITY_TIMEOUT: String(visibilityTimeout),
      BATCH_MIN: '1',
      BATCH_MAX: '40',
      WORK_MIN: '20',
      WORK_MAX: '120',
      REFRESH: '0.3',
      OVERRUN: '0.3',
      PER_ITEM_DONE: '0.5',
      LOOPS: '2',
      IDLE_EXIT: '1500',
    });
    const deadLetters = await queue.deadLetters.list(0, 10_000);
    const log = deliveriesOf(logs, visibilityTimeout);
    const check = checkDeliveries(putIds, log, deadLetters, attempts);
    assert.deepEqual(check.problems.slice(0, 10), [], `${check.problems.length} problem(s)`);
    assert.equal(check.done + deadLetters.length, putIds.length, 'every item done or dead');
    // What the consumers' dones returned adds up to the same.
    let returned = 0;
    for (const events of logs) {
      for (const event of events) {
        if (event.e !== 'done') continue;
        returned += 'per' in event ? Object.values(event.per).reduce((a, b) => a + b, 0) : event.n;
      }
    }
    assert.equal(returned + deadLetters.length, putIds.length, 'dones returned + dead == put');
    // Else this test proves nothing: leases did end under working consumers, items were
    // re-taken before the overrunning consumer's done (which then left them), refreshes
    // kept items past their first lease, and some items ran out of attempts.
    assert.ok(check.redeliveries > 50, `redeliveries: ${check.redeliveries}`);
    assert.ok(check.retakenBeforeDone > 10, `re-taken before done: ${check.retakenBeforeDone}`);
    assert.ok(check.refreshedPastFirstLease > 50, `refreshed: ${check.refreshedPastFirstLease}`);
    assert.ok(check.dropped > 10, `lost at a late refresh: ${check.dropped}`);
    assert.ok(deadLetters.length > 0, 'some items ran out of attempts');
    assert.equal(check.heldAtKill, 0);
    assert.deepEqual(await queue.counts(), {
      available: 0,
      invisible: 0,
      delayed: 0,
      dead: deadLetters.length,
    });
    assert.equal(await queue.deadLetters.purge(), deadLetters.length);
    assert.deepEqual(await keysLeft(queue), []);
    console.log(
      `leases: ${putIds.length} items, ${check.redeliveries} redeliveries, ` +
        `${check.retakenBeforeDone} re-taken before a done that then left them, ` +
        `${check.refreshedPastFirstLease} done after a refresh kept them past their first lease, ` +
        `${check.dropped} lost at a refresh, ${check.ambiguous} in partial done(batch)es, ` +
        `${deadLetters.length} dead letters`,
    );
  });
});
