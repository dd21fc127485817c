import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DataBatch,
  type DataQueue,
  type DataQueueOptions,
  InvalidOptionsError,
} from '../../lib/core/index.js';
import { decodeMsgpack } from '../../lib/core/protocol/msgpack.js';

/** Makes a data queue of a name no other scenario uses. */
export type MakeDataQueue = <T = unknown>(options?: DataQueueOptions) => DataQueue<T>;

export interface DataQueueScenario {
  readonly name: string;
  readonly run: (make: MakeDataQueue) => Promise<void>;
}

/** The entries of a batch or map, for deepEqual. */
const entries = <T>(map: Map<string, T>): [string, T][] => [...map];

/** Sorts ids as Redis orders the members of a sorted set with equal scores: by their bytes. */
const byBytes = (ids: readonly string[]): string[] =>
  [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/**
 * What a data queue does, as one list run against both the real DataQueue on Redis and the
 * InlineDataQueue of the testing module (test/testing/data-queue-semantics.test.ts), so that
 * the two cannot drift apart. Timings are wide enough for a busy 2-core machine: a lease of
 * 150 ms is waited out with 250 ms.
 */
export const dataQueueScenarios: readonly DataQueueScenario[] = [
  {
    name: 'put then get without a visibility timeout takes items for good (0/1), in put order',
    async run(make) {
      const queue = make<number>();
      const ids = await queue.put([1, 2, 3]);
      assert.equal(ids.length, 3);
      assert.equal(new Set(ids).size, 3);
      for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{16}$/);
      const batch = await queue.get(2);
      assert.ok(batch instanceof DataBatch);
      assert.deepEqual(entries(batch), [
        [ids[0], 1],
        [ids[1], 2],
      ]);
      assert.equal(batch.leased, false);
      assert.equal(batch.leaseEnd, 0);
      assert.equal(await queue.done(batch), 0, 'nothing to mark done after a 0/1 get');
      assert.deepEqual(entries(await queue.get(5)), [[ids[2], 3]]);
      const empty = await queue.get(5);
      assert.equal(empty.size, 0);
      assert.equal(empty.leaseEnd, 0);
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
      assert.deepEqual(await queue.put([]), []);
    },
  },
  {
    name: 'items travel as MessagePack: bigints, bytes, nested values, and no shared objects',
    async run(make) {
      const queue = make();
      const object = { user: 'ünïcode ✓', tags: ['a'], at: 1.5, nested: { deep: [null, true] } };
      const bytes = Buffer.from([0, 1, 2, 255]);
      const items = [object, bytes, 2n ** 63n - 1n, -(2n ** 63n), 5n, 5_000_000_000, 'x', []];
      await queue.put(items);
      object.tags.push('changed after the put');
      bytes[0] = 9;
      const peeked = [...(await queue.peek(10)).values()];
      (peeked[0] as typeof object).tags.push('changed after a peek');
      (peeked[1] as Uint8Array)[1] = 9;
      const got = [...(await queue.get(10)).values()];
      assert.deepEqual(got[0], {
        user: 'ünïcode ✓',
        tags: ['a'],
        at: 1.5,
        nested: { deep: [null, true] },
      });
      assert.ok(Buffer.isBuffer(got[1]), 'bytes come back as a Buffer');
      assert.deepEqual(got[1], Buffer.from([0, 1, 2, 255]), 'the bytes as they were put');
      assert.equal(got[2], 2n ** 63n - 1n);
      assert.equal(got[3], -(2n ** 63n));
      assert.equal(got[4], 5, 'a small bigint comes back as a number');
      assert.equal(got[5], 5_000_000_000, 'a safe integer comes back as a number');
      assert.deepEqual(got.slice(6), ['x', []]);
      assert.notEqual(got[0], object);
    },
  },
  {
    name: 'a leased get holds items until done; held items are invisible',
    async run(make) {
      const queue = make<string>({ visibilityTimeout: 30_000 });
      const ids = await queue.put(['a', 'b', 'c']);
      const before = Date.now();
      const batch = await queue.get(3);
      assert.deepEqual([...batch.keys()], ids);
      assert.ok(batch.leased);
      assert.ok(
        Math.abs(batch.leaseEnd - (before + 30_000)) < 2_000,
        'the lease ends a visibility timeout from now',
      );
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 3, delayed: 0, dead: 0 });
      assert.equal((await queue.get(3)).size, 0, 'held items are invisible');
      assert.equal((await queue.get(3, { visibilityTimeout: 0 })).size, 0);
      assert.equal(await queue.done(batch), 3);
      assert.equal(await queue.done(batch), 0, 'done once');
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    },
  },
  {
    name: 'an item whose lease ends comes back first in line, with its attempts counted',
    async run(make) {
      const queue = make<string>({ visibilityTimeout: 150, attempts: 2 });
      const [first, second] = await queue.put(['first', 'second']);
      const batch = await queue.get(1);
      assert.deepEqual([...batch.keys()], [first]);
      await sleep(250);
      assert.deepEqual(await queue.counts(), { available: 2, invisible: 0, delayed: 0, dead: 0 });
      const again = await queue.get(1, { visibilityTimeout: 10_000 });
      assert.deepEqual(entries(again), [[first, 'first']], 'the returned item is taken first');
      assert.equal(await queue.done(batch), 0, 'the ended lease cannot mark the retaken item done');
      assert.equal(await queue.done(again), 1);
      assert.deepEqual(entries(await queue.get(5)), [[second, 'second']]);
    },
  },
  {
    name: 'items whose leases end together come back ahead of the rest, ordered as Redis orders equal lease ends',
    async run(make) {
      const queue = make<number>({ visibilityTimeout: 150, attempts: 2 });
      const ids = await queue.put([1, 2, 3, 4, 5, 6, 7, 8]);
      await queue.get(6);
      await sleep(250);
      const back = await queue.get(10, { visibilityTimeout: 0 });
      // A sorted set lists equal scores by member bytes: the six come back in id order.
      assert.deepEqual([...back.keys()], [...byBytes(ids.slice(0, 6)), ids[6], ids[7]]);
    },
  },
  {
    name: 'after its last attempt an item becomes a dead letter {id, item, attempts, diedAt}, which requeue puts back',
    async run(make) {
      const queue = make<{ n: number }>({ visibilityTimeout: 80, attempts: 3 });
      const [id] = await queue.put([{ n: 7 }]);
      for (let attempt = 1; attempt <= 3; attempt++) {
        const batch = await queue.get(1, { wait: 1_000 });
        assert.deepEqual(entries(batch), [[id, { n: 7 }]], `attempt ${attempt}`);
        await sleep(150);
      }
      const before = Date.now();
      await queue.sweep();
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
      assert.equal(await queue.deadLetters.count(), 1);
      const [letter] = await queue.deadLetters.list();
      assert.ok(letter !== undefined);
      assert.equal(letter.id, id);
      assert.deepEqual(letter.item, { n: 7 });
      assert.equal(letter.attempts, 3);
      assert.ok(Math.abs(letter.diedAt - before) < 2_000);
      assert.ok(Buffer.isBuffer(letter.raw));
      assert.deepEqual(decodeMsgpack(letter.raw), {
        id,
        item: { n: 7 },
        attempts: 3,
        diedAt: letter.diedAt,
      });
      assert.deepEqual(await queue.deadLetters.list(1), []);
      assert.deepEqual(await queue.deadLetters.list(0, 0), []);

      assert.equal(await queue.deadLetters.requeue(), 1);
      assert.equal(await queue.deadLetters.requeue([letter]), 0, 'a letter requeues once');
      assert.equal(await queue.deadLetters.count(), 0);
      const back = await queue.get(1, { visibilityTimeout: 5_000 });
      assert.deepEqual(entries(back), [[id, { n: 7 }]], 'requeued under its id');
      assert.equal(await queue.done(back), 1);
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    },
  },
  {
    name: 'dead letters are bounded (the latest kept), removed by name, purged; off, items are dropped',
    async run(make) {
      const bounded = make<number>({ visibilityTimeout: 50, deadLetter: { maxLength: 3 } });
      const ids = await bounded.put([1, 2, 3, 4, 5]);
      await bounded.get(5);
      await sleep(120);
      await bounded.sweep();
      const [six] = await bounded.put([6]);
      await bounded.get(1);
      await sleep(120);
      await bounded.sweep();
      const letters = await bounded.deadLetters.list();
      // Leases that ended together die last id first (the script walks them backwards), so
      // the two kept of the first five are the two smallest ids, largest first.
      const [smallest, next] = byBytes(ids);
      assert.deepEqual(
        letters.map((letter) => letter.id),
        [next, smallest, six],
      );
      assert.deepEqual(letters.at(-1)?.item, 6);
      assert.deepEqual(
        await bounded.deadLetters.list(-1),
        [letters[2]],
        'offsets count from the end as LRANGE does',
      );
      assert.equal(await bounded.deadLetters.remove(letters.slice(0, 1)), 1);
      assert.equal(await bounded.deadLetters.remove(letters.slice(0, 1)), 0);
      assert.equal(await bounded.deadLetters.remove([]), 0);
      assert.equal(await bounded.deadLetters.requeue(undefined, 1), 1, 'the oldest only');
      assert.deepEqual(entries(await bounded.get(5, { visibilityTimeout: 0 })), [
        [smallest, ids.indexOf(smallest!) + 1],
      ]);
      assert.equal(await bounded.deadLetters.purge(), 1);
      assert.equal(await bounded.deadLetters.count(), 0);

      const off = make({ visibilityTimeout: 50, deadLetter: false });
      assert.equal(off.deadLetterMaxLength, 0);
      await off.put(['x']);
      await off.get(1);
      await sleep(120);
      await off.sweep();
      assert.deepEqual(await off.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });

      const mixed = make({ visibilityTimeout: 50 });
      await mixed.put(['kept']);
      await mixed.put(['dropped'], { deadLetter: false });
      await mixed.put(['twice'], { attempts: 2 });
      await mixed.get(3);
      await sleep(120);
      await mixed.sweep();
      assert.deepEqual(
        (await mixed.deadLetters.list()).map((letter) => letter.item),
        ['kept'],
      );
      assert.deepEqual([...(await mixed.get(3)).values()], ['twice']);
    },
  },
  {
    name: 'refresh keeps items held past the original lease end; bare ids refresh any lease not ended',
    async run(make) {
      const queue = make<string>({ visibilityTimeout: 200 });
      await queue.put(['a', 'b']);
      const batch = await queue.get(2);
      const firstEnd = batch.leaseEnd;
      await sleep(100);
      const refreshed = await queue.refresh(batch, { visibilityTimeout: 600 });
      assert.deepEqual(refreshed, [...batch.keys()]);
      assert.ok(batch.leaseEnd >= firstEnd + 400, 'the batch knows its new lease end');
      await sleep(250); // past the original end
      assert.equal((await queue.get(2)).size, 0, 'still held after the original lease end');
      assert.equal((await queue.counts()).invisible, 2);
      const ids = [...batch.keys()];
      assert.deepEqual(
        await queue.refresh(ids.slice(0, 1), { visibilityTimeout: 5_000 }),
        ids.slice(0, 1),
      );
      assert.deepEqual(
        await queue.refresh(batch),
        [ids[1]],
        'the batch lost the item refreshed by id',
      );
      assert.deepEqual([...batch.keys()], [ids[1]]);
      assert.equal(await queue.done(ids), 2, 'bare ids mark any held item done');
      assert.deepEqual(
        await queue.refresh(new DataBatch()),
        [],
        'an unleased batch refreshes nothing',
      );
    },
  },
  {
    name: 'a stale batch can neither refresh nor mark done an item another get took since',
    async run(make) {
      const queue = make<string>({ visibilityTimeout: 150, attempts: 3 });
      await queue.put(['contested']);
      const slow = await queue.get(1);
      await sleep(250);
      assert.deepEqual(
        await queue.refresh(new Map(slow)),
        [],
        'an ended lease cannot be refreshed',
      );
      const fast = await queue.get(1, { visibilityTimeout: 5_000 });
      assert.equal(fast.size, 1);
      assert.deepEqual(await queue.refresh(slow, { visibilityTimeout: 5_000 }), []);
      assert.equal(slow.size, 0, 'the batch drops the items it no longer holds');
      assert.equal(await queue.done(slow), 0);
      assert.equal(await queue.done(fast), 1);

      // Nobody took it since: a done after the lease ended still counts.
      await queue.put(['late']);
      const late = await queue.get(1);
      await sleep(250);
      assert.equal(await queue.done(late), 1);
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    },
  },
  {
    name: 'a delay keeps items out until it is over; items due together come in id order',
    async run(make) {
      const queue = make<string>();
      await queue.put(['now']);
      const later = await queue.put(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { delay: 300 });
      assert.deepEqual(await queue.counts(), { available: 1, invisible: 0, delayed: 8, dead: 0 });
      assert.deepEqual([...(await queue.get(5)).values()], ['now']);
      assert.equal((await queue.peek(5)).size, 0);
      await sleep(400);
      assert.deepEqual(await queue.counts(), { available: 8, invisible: 0, delayed: 0, dead: 0 });
      // Due at the same ms, they leave the sorted set by member bytes, not in put order.
      assert.deepEqual([...(await queue.get(10)).keys()], byBytes(later));
    },
  },
  {
    name: 'a waiting get is woken by a put, by a delayed item coming due, and returns empty after its wait',
    async run(make) {
      const queue = make<string>();
      let started = Date.now();
      const waiting = queue.get(10, { wait: 5_000 });
      await sleep(100);
      await queue.put(['x', 'y']);
      assert.deepEqual([...(await waiting).values()], ['x', 'y']);
      // Well before the 1 s poll of a waiting get: the put itself woke it.
      assert.ok(Date.now() - started < 700, 'woken by the put, not the wait');

      await queue.put(['soon'], { delay: 250 });
      started = Date.now();
      assert.deepEqual([...(await queue.get(1, { wait: 3_000 })).values()], ['soon']);
      const waited = Date.now() - started;
      assert.ok(waited >= 200 && waited < 900, `waited ${waited} ms for the delayed item`);

      started = Date.now();
      const empty = await queue.get(1, { wait: 200 });
      assert.equal(empty.size, 0);
      assert.ok(Date.now() - started >= 190);
    },
  },
  {
    name: 'peek reads from the head without taking, after settling what is due',
    async run(make) {
      const queue = make<number>({ visibilityTimeout: 150, attempts: 2 });
      const ids = await queue.put([1, 2]);
      await queue.get(1);
      const peeked = await queue.peek(5);
      assert.ok(!(peeked instanceof DataBatch));
      assert.ok(peeked instanceof Map);
      assert.deepEqual(entries(peeked), [[ids[1], 2]]);
      await sleep(250);
      assert.deepEqual(
        entries(await queue.peek(1)),
        [[ids[0], 1]],
        'the ended lease came back first',
      );
      assert.deepEqual(await queue.counts(), { available: 2, invisible: 0, delayed: 0, dead: 0 });
      assert.equal((await queue.get(5)).size, 2);
    },
  },
  {
    name: 'counts tell available, invisible, delayed and dead apart',
    async run(make) {
      const queue = make({ visibilityTimeout: 60 });
      await queue.put(['held', 'dies']);
      await queue.get(1, { visibilityTimeout: 10_000 });
      await queue.get(1);
      await queue.put(['a', 'b', 'c']);
      await queue.put(['d'], { delay: 10_000 });
      await sleep(150);
      // The ended lease counts as available until a get or a sweep settles it.
      assert.deepEqual(await queue.counts(), { available: 4, invisible: 1, delayed: 1, dead: 0 });
      await queue.sweep();
      assert.deepEqual(await queue.counts(), { available: 3, invisible: 1, delayed: 1, dead: 1 });
    },
  },
  {
    name: 'deleteAll removes every item, held or not, and keeps the dead letters',
    async run(make) {
      const queue = make({ visibilityTimeout: 50 });
      await queue.put(['dies']);
      await queue.get(1);
      await sleep(120);
      await queue.sweep();
      await queue.put(['a', 'b']);
      await queue.put(['c'], { delay: 10_000 });
      const held = await queue.get(1, { visibilityTimeout: 10_000 });
      await queue.deleteAll();
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
      assert.equal(await queue.done(held), 0);
      assert.equal((await queue.deadLetters.list())[0]?.item, 'dies');
    },
  },
  {
    name: 'bad calls are refused with InvalidOptionsError, naming each problem, and change nothing',
    async run(make) {
      const queue = make();
      const refused = async (call: Promise<unknown>, message: RegExp): Promise<void> => {
        await assert.rejects(call, (error: Error) => {
          assert.ok(error instanceof InvalidOptionsError, error.message);
          assert.match(error.message, message);
          return true;
        });
      };
      await refused(
        queue.put('abc' as never),
        /put\(\) takes an array of items, got the string "abc"/,
      );
      await refused(queue.put([1], { delay: 1.5 }), /delay must be a whole number/);
      await refused(
        queue.put([1], { attempts: 70_000, deadLetter: 'yes' as never }),
        /attempts must be an integer from 1 to 65535[^]*deadLetter must be a boolean/,
      );
      await refused(queue.put([1, () => 2] as never), /Item 1 of a put on data queue/);
      await refused(queue.put([1, Symbol('s')] as never), /Item 1 of a put/);
      await refused(queue.get(0), /count must be an integer from 1 to 1000, got 0/);
      await refused(queue.get(1001), /count must be an integer from 1 to 1000/);
      await refused(
        queue.get(1, { wait: -5, visibilityTimeout: 'x' as never }),
        /visibilityTimeout must be[^]*wait must be/,
      );
      await refused(queue.peek(0), /count must be/);
      await refused(
        queue.refresh(['x'], { visibilityTimeout: 0 }),
        /visibilityTimeout must be positive/,
      );
      await refused(
        queue.refresh(['x'], { visibilityTimeout: -1 }),
        /visibilityTimeout must be a whole number/,
      );
      await refused(
        queue.done(5 as never),
        /takes a batch from get\(\) or an iterable of item ids/,
      );
      await refused(queue.done([''] as never), /done\(\) takes item ids \(non-empty strings\)/);
      await refused(
        queue.refresh([7] as never, { visibilityTimeout: 1_000 }),
        /refresh\(\) takes item ids/,
      );
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
      assert.throws(
        () => make({ visibilityTimeout: -1, attempts: 0, deadLetter: { maxLength: 0 } }),
        (error: Error) =>
          error instanceof InvalidOptionsError &&
          /visibilityTimeout must be/.test(error.message) &&
          /attempts must be an integer from 1 to 65535, got 0/.test(error.message) &&
          /deadLetter.maxLength/.test(error.message),
      );
      assert.throws(
        () => make({ visibiltyTimeout: 5 } as never),
        /unknown option "visibiltyTimeout"/,
      );
    },
  },
  {
    name: 'exposes its settings, defaults applied',
    async run(make) {
      const plain = make();
      assert.equal(plain.visibilityTimeout, 0);
      assert.equal(plain.attempts, 1);
      assert.equal(plain.deadLetterMaxLength, 10_000);
      assert.equal(plain.redisTimeout, 5_000);
      const set = make({
        visibilityTimeout: 30_000,
        attempts: 3,
        deadLetter: { maxLength: 7 },
        redisTimeout: 900,
      });
      assert.deepEqual(
        [set.visibilityTimeout, set.attempts, set.deadLetterMaxLength, set.redisTimeout],
        [30_000, 3, 7, 900],
      );
      assert.equal(set.keys.available, `${set.name}_dq`);
    },
  },
  {
    name: 'get({ done }) marks the previous batch done first, under its lease, in the same call',
    async run(make) {
      const queue = make<number>({ visibilityTimeout: 30_000 });
      const items = Array.from({ length: 25 }, (_, i) => i);
      await queue.put(items);
      const seen: number[] = [];
      let batch = await queue.get(10);
      while (batch.size > 0) {
        seen.push(...batch.values());
        batch = await queue.get(10, { done: batch });
      }
      assert.deepEqual(seen, items);
      assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });

      // A batch whose item another get took since marks nothing done.
      const short = make<string>({ visibilityTimeout: 100, attempts: 2 });
      await short.put(['a']);
      const stale = await short.get(1);
      await sleep(250);
      const other = await short.get(1, { visibilityTimeout: 10_000 });
      assert.equal(other.size, 1);
      assert.equal((await short.get(1, { done: stale })).size, 0);
      assert.equal(await short.done(other), 1, 'the other get still held it');
    },
  },
  {
    name: "a requeued dead letter gets back the attempts it had, or those asked for, whatever the requeuer's",
    async run(make) {
      const queue = make<string>({ visibilityTimeout: 100, attempts: 2 });
      await queue.put(['twice']);
      const dieOut = async (): Promise<void> => {
        for (let i = 0; i < 2; i++) {
          assert.equal((await queue.get(1, { wait: 1_000 })).size, 1);
          await sleep(250);
        }
        await queue.sweep();
        assert.equal(await queue.deadLetters.count(), 1);
      };
      await dieOut();
      const [letter] = await queue.deadLetters.list();
      assert.equal(letter!.attempts, 2);
      assert.equal(await queue.deadLetters.requeue(), 1);
      await dieOut(); // two leases again: its own attempts, not the default of 1
      assert.equal(await queue.deadLetters.requeue(undefined, undefined, { attempts: 1 }), 1);
      assert.equal((await queue.get(1)).size, 1);
      await sleep(250);
      await queue.sweep();
      assert.equal(await queue.deadLetters.count(), 1, 'one lease, as asked');
      await assert.rejects(
        queue.deadLetters.requeue([], undefined, { attempts: 0 }),
        /attempts must be an integer from 1 to 65535/,
      );
    },
  },
  {
    name: 'a sweep settles a backlog bigger than one call of 1,000',
    async run(make) {
      const queue = make<number>({ visibilityTimeout: 100 });
      await queue.put(Array.from({ length: 2_500 }, (_, i) => i));
      for (let i = 0; i < 3; i++) assert.equal((await queue.get(1_000)).size, i < 2 ? 1_000 : 500);
      await sleep(250);
      await queue.sweep();
      // Out of attempts, every one is a dead letter now (counting them settles nothing).
      assert.equal(await queue.deadLetters.count(), 2_500);
    },
  },
];
