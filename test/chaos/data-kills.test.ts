import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { DataQueue } from '../../lib/core/index.js';
import { batchesTaken, consumerEvents, startDataConsumer } from '../helpers/data-consumers.js';
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

/** How the consumer processes of these tests work: ~100 ms per batch, some refreshing. */
const CONSUMER = {
  BATCH_MIN: '5',
  BATCH_MAX: '25',
  WORK_MIN: '40',
  WORK_MAX: '100',
  REFRESH: '0.2',
  PER_ITEM_DONE: '0.5',
  LOOPS: '2',
};

async function exitedWithin(consumer: Spawned, timeout: number): Promise<number | string> {
  return Promise.race([consumer.exited, sleep(timeout, 'timed out', { ref: false })]);
}

describe('a data consumer process SIGKILLed while holding items', () => {
  it('loses none: they come back once its lease ends and the survivor does them', async () => {
    const visibilityTimeout = 800;
    const queue = new DataQueue<number>(db.redis, uniqueName('dkill'), { attempts: 2 });
    const env = {
      REDIS_URL: db.server.url,
      QUEUE: queue.name,
      VISIBILITY_TIMEOUT: String(visibilityTimeout),
      ...CONSUMER,
    };
    const survivor = await startDataConsumer({ ...env, IDLE_EXIT: '2000' });
    const victim = await startDataConsumer(env);
    const processes = [survivor, victim];
    try {
      // Killed the moment it reports its 4th batch: that batch is then just taken (its work
      // not begun), the other consumer of the process anywhere in its own.
      victim.child.stdout!.on('data', () => {
        if (batchesTaken(victim.output()) >= 4) victim.child.kill('SIGKILL');
      });
      const putIds = await queue.put(Array.from({ length: 500 }, (_, i) => i));
      assert.equal(await exitedWithin(victim, 20_000), 'SIGKILL');
      assert.equal(await exitedWithin(survivor, 30_000), 0, 'the survivor drained the queue');

      const victimEvents = consumerEvents(victim.output());
      const log = deliveriesOf(
        [victimEvents, consumerEvents(survivor.output())],
        visibilityTimeout,
      );
      const check = checkDeliveries(putIds, log, [], 2);
      assert.deepEqual(check.problems.slice(0, 10), [], `${check.problems.length} problem(s)`);
      assert.equal(check.done, putIds.length, 'every item done exactly once');

      // What the victim held at its death came back to the survivor, only after its lease.
      const lastTaken = victimEvents.filter((event) => event.e === 'got').at(-1)!;
      const held = [...log.batches.get(lastTaken.b)!.deliveries.values()];
      assert.ok(held.length > 0);
      const survivorPid = `${survivor.child.pid}.`;
      for (const delivery of held) {
        assert.equal(delivery.outcome, 'held', 'killed before its work on the batch ended');
        const deliveries = log.byItem.get(delivery.id)!;
        const again = deliveries[deliveries.indexOf(delivery) + 1]!;
        assert.ok(again.batch.startsWith(survivorPid), 'the survivor took it again');
        assert.ok(again.start >= delivery.end, 'not before the lease the victim had ended');
        assert.ok(deliveries.at(-1)!.batch.startsWith(survivorPid));
        assert.equal(deliveries.at(-1)!.outcome, 'done', 'and did it');
      }
      const doneByVictim = [...log.byItem.values()].filter(
        (deliveries) =>
          deliveries.at(-1)!.outcome === 'done' &&
          !deliveries.at(-1)!.batch.startsWith(survivorPid),
      ).length;
      assert.ok(doneByVictim > 0, 'the victim did some items before its death');

      assert.equal(await queue.deadLetters.count(), 0, 'no dead letters: attempts sufficed');
      assert.deepEqual(await keysLeft(queue), []);
      console.log(
        `one kill: ${putIds.length} items, ${doneByVictim} done by the victim, ` +
          `${check.heldAtKill} held by it at its death, ${check.ambiguous} in a done it had ` +
          `sent, ${check.redeliveries} redeliveries`,
      );
    } finally {
      for (const consumer of processes) consumer.child.kill('SIGKILL');
    }
  });

  it('lose none when killed and restarted at random instants while another consumes', async () => {
    const visibilityTimeout = 500;
    const attempts = 10; // more than the kills: no item can run out of them
    const queue = new DataQueue<number>(db.redis, uniqueName('dkills'), { attempts });
    const env = {
      REDIS_URL: db.server.url,
      QUEUE: queue.name,
      VISIBILITY_TIMEOUT: String(visibilityTimeout),
      ...CONSUMER,
    };
    const survivor = await startDataConsumer({ ...env, IDLE_EXIT: '1500' });
    const victims: Spawned[] = [];
    try {
      const putIds = await queue.put(Array.from({ length: 2_000 }, (_, i) => i));
      for (let round = 0; round < 5; round++) {
        const victim = await startDataConsumer(env);
        victims.push(victim);
        await sleep(200 + randomInt(400));
        victim.child.kill('SIGKILL');
        assert.equal(await victim.exited, 'SIGKILL');
      }
      assert.equal(await exitedWithin(survivor, 30_000), 0, 'the survivor drained the queue');

      const logs = [...victims, survivor].map((consumer) => consumerEvents(consumer.output()));
      const log = deliveriesOf(logs, visibilityTimeout);
      const check = checkDeliveries(putIds, log, [], attempts);
      assert.deepEqual(check.problems.slice(0, 10), [], `${check.problems.length} problem(s)`);
      assert.equal(check.done, putIds.length, 'every item done exactly once');
      assert.ok(check.heldAtKill > 0, 'the kills hit held items (else this proves nothing)');
      assert.equal(await queue.deadLetters.count(), 0, 'no dead letters: attempts sufficed');
      assert.deepEqual(await keysLeft(queue), []);
      const victimBatches = logs
        .slice(0, -1)
        .map((events) => events.filter((event) => event.e === 'got').length);
      console.log(
        `random kills: ${putIds.length} items, victims took ${victimBatches} batches, ` +
          `${check.heldAtKill} deliveries held at a kill, ${check.ambiguous} in a done sent ` +
          `just before a kill, ${check.redeliveries} redeliveries`,
      );
    } finally {
      for (const consumer of [survivor, ...victims]) consumer.child.kill('SIGKILL');
    }
  });
});
