import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  DataBatch,
  DataDecodeError,
  DataPutError,
  DataQueue,
  InvalidOptionsError,
  RedisUnavailableError,
} from '../../lib/core/index.js';
import { decodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import { scripts } from '../../lib/core/redis/lua-scripts.js';
import { freePort, startRedis, uniqueName, useRedisServer } from '../helpers/redis-server.js';
import { Redis } from 'ioredis';

const db = useRedisServer();

function dataQueue<T = unknown>(options: ConstructorParameters<typeof DataQueue>[2] = {}) {
  return new DataQueue<T>(db.redis, uniqueName('dq'), options);
}

/** The queue's keys that exist (a drained queue without dead letters has none). */
async function keysOf(queue: DataQueue<unknown>): Promise<string[]> {
  const { available, items, leases, delayed, dead } = queue.keys;
  const names = [available, items, leases, delayed, dead];
  const exists = await Promise.all(names.map((name) => db.redis.exists(name)));
  return names.filter((_, i) => exists[i] === 1);
}

describe('DataQueue: put and get', () => {
  it('takes items for good without a visibility timeout (0/1), in put order, and leaves no key', async () => {
    const queue = dataQueue<number>();
    const ids = await queue.put([1, 2, 3]);
    assert.equal(ids.length, 3);
    assert.equal(new Set(ids).size, 3);
    const batch = await queue.get(2);
    assert.ok(batch instanceof DataBatch);
    assert.deepEqual(
      [...batch],
      [
        [ids[0], 1],
        [ids[1], 2],
      ],
    );
    assert.equal(batch.leased, false);
    assert.equal(await queue.done(batch), 0, 'nothing to mark done after a 0/1 get');
    assert.deepEqual([...(await queue.get(5))], [[ids[2], 3]]);
    assert.equal((await queue.get(5)).size, 0);
    assert.deepEqual(await keysOf(queue), []);
  });

  it('round-trips any MessagePack value: JSON-like values, bytes, 64-bit integers', async () => {
    const queue = dataQueue();
    const items = [
      { user: 'ünïcode ✓', tags: ['a', 'b'], nested: { deep: [1, 2.5, null, true] } },
      'plain string',
      Buffer.from([0, 1, 2, 255]),
      2n ** 63n - 1n,
      -(2n ** 63n),
      5_000_000_000,
      0,
      null,
      [],
    ];
    await queue.put(items);
    const got = [...(await queue.get(100)).values()];
    assert.deepEqual(got.slice(0, 2), items.slice(0, 2));
    assert.deepEqual(Buffer.from(got[2] as Uint8Array), items[2]);
    assert.equal(got[3], 2n ** 63n - 1n);
    assert.equal(got[4], -(2n ** 63n));
    assert.equal(got[5], 5_000_000_000, 'a safe integer comes back as a number');
    assert.deepEqual(got.slice(6), [0, null, []]);
  });

  it('leases items with a visibility timeout; done removes them and leaves no key', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 30_000 });
    await queue.put(['a', 'b', 'c']);
    const batch = await queue.get(3);
    assert.equal(batch.size, 3);
    assert.ok(batch.leased);
    const now = Number((await db.redis.time())[0]) * 1000;
    assert.ok(
      Math.abs(batch.leaseEnd - (now + 30_000)) < 2_000,
      'the lease ends on Redis clock + timeout',
    );
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 3, delayed: 0, dead: 0 });
    assert.equal((await queue.get(3)).size, 0, 'held items are invisible');
    assert.equal(await queue.done(batch), 3);
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    assert.deepEqual(await keysOf(queue), []);
  });

  it('get({ done }) marks the previous batch done and takes the next in one call', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 30_000 });
    const items = Array.from({ length: 25 }, (_, i) => i);
    await queue.put(items);
    const seen: number[] = [];
    let batch = await queue.get(10);
    while (batch.size > 0) {
      seen.push(...batch.values());
      batch = await queue.get(10, { done: batch });
    }
    assert.deepEqual(seen, items);
    assert.deepEqual(await keysOf(queue), [], 'every batch was marked done');

    // The lease rules of done() hold: a batch whose item was taken since marks nothing done.
    const short = dataQueue<string>({ visibilityTimeout: 80, attempts: 2 });
    await short.put(['a']);
    const stale = await short.get(1);
    await sleep(120);
    const other = await short.get(1, { visibilityTimeout: 10_000 });
    assert.equal(other.size, 1);
    const next = await short.get(1, { done: stale });
    assert.equal(next.size, 0);
    assert.equal(await short.done(other), 1, 'the other consumer still held it');
  });

  it('peeks without taking', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 1_000 });
    const ids = await queue.put([1, 2]);
    const peeked = await queue.peek(5);
    assert.ok(!(peeked instanceof DataBatch));
    assert.deepEqual(
      [...peeked],
      [
        [ids[0], 1],
        [ids[1], 2],
      ],
    );
    assert.equal((await queue.counts()).available, 2);
    assert.equal((await queue.get(5)).size, 2);
  });

  it('delays items on Redis clock', async () => {
    const queue = dataQueue<string>();
    await queue.put(['later'], { delay: 300 });
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 1, dead: 0 });
    assert.equal((await queue.get()).size, 0);
    await sleep(350);
    assert.equal((await queue.counts()).available, 1);
    assert.deepEqual([...(await queue.get()).values()], ['later']);
    assert.deepEqual(await keysOf(queue), []);
  });

  it('waits for an item put while it waits, and returns empty after its wait', async () => {
    const queue = dataQueue<string>();
    const started = Date.now();
    const waiting = queue.get(10, { wait: 5_000 });
    await sleep(100);
    await queue.put(['x', 'y']);
    const batch = await waiting;
    assert.deepEqual([...batch.values()], ['x', 'y']);
    assert.ok(Date.now() - started < 2_000, 'woken by the put, not the wait');

    const before = Date.now();
    assert.equal((await queue.get(1, { wait: 200 })).size, 0);
    assert.ok(Date.now() - before >= 190);
  });

  it('a waiting get wakes when a delayed item becomes due', async () => {
    const queue = dataQueue<string>();
    await queue.put(['soon'], { delay: 250 });
    const started = Date.now();
    const batch = await queue.get(1, { wait: 3_000 });
    assert.deepEqual([...batch.values()], ['soon']);
    const waited = Date.now() - started;
    assert.ok(waited >= 200 && waited < 900, `waited ${waited} ms`);
  });

  it('splits a big put into atomic calls and keeps the order', async () => {
    const queue = dataQueue<number>();
    const items = Array.from({ length: 2_500 }, (_, i) => i);
    const ids = await queue.put(items);
    assert.equal(ids.length, 2_500);
    assert.equal(await db.redis.llen(queue.keys.available), 2_500);
    const seen: number[] = [];
    for (;;) {
      const batch = await queue.get(1_000);
      if (batch.size === 0) break;
      seen.push(...batch.values());
    }
    assert.deepEqual(seen, items);
  });

  it('stores each record as one MessagePack value other languages can read', async () => {
    const queue = dataQueue();
    const [id] = await queue.put([{ a: 1 }], { attempts: 3 });
    const raw = await db.redis.hgetBuffer(queue.keys.items, id!);
    assert.deepEqual(decodeMsgpack(raw!), [3, true, 0, { a: 1 }]);
  });
});

describe('DataQueue: leases end on Redis clock', () => {
  it('an item whose lease ends comes back, first in line', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 150, attempts: 2 });
    const [first] = await queue.put(['first', 'second']);
    const batch = await queue.get(1);
    assert.deepEqual([...batch.keys()], [first]);
    await sleep(200);
    assert.deepEqual(await queue.counts(), { available: 2, invisible: 0, delayed: 0, dead: 0 });
    const again = await queue.get(1, { visibilityTimeout: 10_000 });
    assert.deepEqual([...again], [[first, 'first']], 'the returned item is taken first');
    assert.equal(await queue.done(batch), 0, 'the ended lease cannot mark the retaken item done');
    assert.equal(await queue.done(again), 1);
  });

  it('refresh keeps items invisible past the original lease end', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 200 });
    await queue.put(['a', 'b']);
    const batch = await queue.get(2);
    const firstEnd = batch.leaseEnd;
    await sleep(100);
    const refreshed = await queue.refresh(batch, { visibilityTimeout: 600 });
    assert.deepEqual(refreshed.sort(), [...batch.keys()].sort());
    assert.ok(batch.leaseEnd >= firstEnd + 400, 'the batch knows its new lease end');
    await sleep(250); // past the original end
    assert.equal((await queue.get(2)).size, 0, 'still held after the original lease end');
    assert.equal((await queue.counts()).invisible, 2);
    assert.equal(await queue.done(batch), 2);
  });

  it('refresh given bare ids extends any lease not ended (rpqueue-style)', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 200 });
    await queue.put(['a']);
    const batch = await queue.get(1);
    const ids = [...batch.keys()];
    assert.deepEqual(await queue.refresh(ids, { visibilityTimeout: 1_000 }), ids);
    await sleep(300);
    assert.equal((await queue.counts()).invisible, 1);
    assert.equal(await queue.done(ids), 1);
  });

  it('a lease that ended cannot be refreshed, and the batch drops its items', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 100, attempts: 2 });
    await queue.put(['a']);
    const batch = await queue.get(1);
    await sleep(150);
    assert.deepEqual(await queue.refresh(batch), []);
    assert.equal(batch.size, 0);
    assert.equal((await queue.get(1, { visibilityTimeout: 1_000 })).size, 1, 'it came back');
  });

  it('a consumer whose lease ended cannot refresh the lease another consumer took since', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 100, attempts: 3 });
    await queue.put(['contested']);
    const slow = await queue.get(1);
    await sleep(150);
    const fast = await queue.get(1, { visibilityTimeout: 5_000 });
    assert.equal(fast.size, 1);
    assert.deepEqual(await queue.refresh(slow, { visibilityTimeout: 5_000 }), []);
    assert.equal(await queue.done(slow), 0);
    assert.equal(await queue.done(fast), 1);
  });

  it('done after a lease ended still counts when nobody took the item since', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 100, attempts: 2 });
    await queue.put(['late']);
    const batch = await queue.get(1);
    await sleep(150);
    assert.equal(await queue.done(batch), 1);
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
  });

  it('counts attempts, then keeps a dead letter with the item, its attempts and when it died', async () => {
    const queue = dataQueue<{ n: number }>({ visibilityTimeout: 80, attempts: 3 });
    const [id] = await queue.put([{ n: 7 }]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const batch = await queue.get(1, { wait: 1_000 });
      assert.deepEqual([...batch], [[id, { n: 7 }]], `attempt ${attempt}`);
      await sleep(120);
    }
    const before = Date.now();
    await queue.sweep();
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
    const [letter] = await queue.deadLetters.list();
    assert.equal(letter!.id, id);
    assert.deepEqual(letter!.item, { n: 7 });
    assert.equal(letter!.attempts, 3);
    assert.ok(Math.abs(letter!.diedAt - before) < 2_000);
    assert.deepEqual(await keysOf(queue), [queue.keys.dead]);

    assert.equal(await queue.deadLetters.requeue(), 1);
    assert.equal(await queue.deadLetters.count(), 0);
    const back = await queue.get(1, { visibilityTimeout: 5_000 });
    assert.deepEqual([...back], [[id, { n: 7 }]], 'requeued under its id');
    assert.equal(await queue.done(back), 1);
    assert.deepEqual(await keysOf(queue), []);
  });

  it('a requeued dead letter gets back the attempts it had, or those asked for', async () => {
    const queue = dataQueue<string>({ visibilityTimeout: 50, attempts: 2 });
    const [id] = await queue.put(['twice']);
    for (let i = 0; i < 2; i++) {
      await queue.get(1, { wait: 500 });
      await sleep(80);
    }
    await queue.sweep();
    // Another process with other defaults requeues it: the letter's own attempts count.
    const tool = new DataQueue<string>(db.redis, queue.name);
    assert.equal(await tool.deadLetters.requeue(), 1);
    const header = (raw: Buffer | null) => decodeMsgpack(raw!) as unknown[];
    assert.equal(header(await db.redis.hgetBuffer(queue.keys.items, id!))[0], 2);
    await tool.get(1, { visibilityTimeout: 50 });
    await sleep(80);
    await tool.get(1, { visibilityTimeout: 50 });
    await sleep(80);
    await tool.sweep();
    assert.equal(await tool.deadLetters.requeue(undefined, undefined, { attempts: 5 }), 1);
    assert.equal(header(await db.redis.hgetBuffer(queue.keys.items, id!))[0], 5);
    await assert.rejects(
      tool.deadLetters.requeue([], undefined, { attempts: 0 }),
      /attempts must be/,
    );
  });

  it('drops items out of attempts when dead letters are off, and bounds them when on', async () => {
    const off = dataQueue({ visibilityTimeout: 50, deadLetter: false });
    await off.put(['x']);
    await off.get(1);
    await sleep(80);
    await off.sweep();
    assert.deepEqual(await off.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    assert.deepEqual(await keysOf(off), []);

    const bounded = dataQueue<number>({ visibilityTimeout: 50, deadLetter: { maxLength: 3 } });
    await bounded.put([1, 2, 3, 4, 5]);
    await bounded.get(5);
    await sleep(80);
    await bounded.sweep();
    await bounded.put([6]);
    await bounded.get(1);
    await sleep(80);
    await bounded.sweep();
    const letters = await bounded.deadLetters.list();
    // Items whose leases end at the same instant die in id order; 6 died last.
    assert.equal(letters.length, 3, 'only the latest 3 are kept');
    assert.equal(letters[2]!.item, 6);
    assert.equal(await bounded.deadLetters.remove(letters.slice(0, 1)), 1);
    assert.equal(await bounded.deadLetters.purge(), 2);
  });

  it('a sweep settles a backlog bigger than one script call', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 50, attempts: 2 });
    await queue.put(Array.from({ length: 2_500 }, (_, i) => i));
    for (let i = 0; i < 3; i++) await queue.get(1_000);
    await sleep(80);
    await queue.sweep();
    assert.equal(await db.redis.zcard(queue.keys.leases), 0, 'every ended lease was settled');
    assert.equal(await db.redis.llen(queue.keys.available), 2_500);
  });

  it('a waiting get returns after its wait even when its subscriber cannot connect', async () => {
    // A private server that takes one client: the queue's own, not the subscriber a wait opens.
    const server = await startRedis({ private: true });
    // Commands wait for a connection forever (ioredis' maxRetriesPerRequest: null), as a
    // subscriber's SUBSCRIBE then does; no resend, so the queue uses this very connection.
    const redis = new Redis(server.url, {
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: false,
    });
    redis.on('error', () => undefined);
    try {
      await redis.ping();
      await redis.config('SET', 'maxclients', '1');
      const queue = new DataQueue(redis, uniqueName('dq'));
      const started = Date.now();
      const batch = await queue.get(1, { wait: 300 });
      assert.equal(batch.size, 0);
      const waited = Date.now() - started;
      assert.ok(waited >= 290 && waited < 2_000, `waited ${waited} ms`);
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('a put can turn dead letters off for its items', async () => {
    const queue = dataQueue({ visibilityTimeout: 50 });
    await queue.put(['kept']);
    await queue.put(['dropped'], { deadLetter: false });
    await queue.get(2);
    await sleep(80);
    await queue.sweep();
    assert.deepEqual(
      (await queue.deadLetters.list()).map((letter) => letter.item),
      ['kept'],
    );
  });

  it('deleteAll removes every item, held or not, and keeps the dead letters', async () => {
    const queue = dataQueue({ visibilityTimeout: 50 });
    await queue.put(['dies']);
    await queue.get(1);
    await sleep(80);
    await queue.sweep();
    await queue.put(['a', 'b']);
    await queue.put(['c'], { delay: 10_000 });
    await queue.get(1, { visibilityTimeout: 10_000 });
    await queue.deleteAll();
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 1 });
  });
});

describe('DataQueue: bad input and Redis down', () => {
  it('refuses bad options with a message naming each problem', () => {
    assert.throws(
      () => dataQueue({ visibilityTimeout: -1, attempts: 0, deadLetter: { maxLength: 0 } }),
      (error: Error) =>
        error instanceof InvalidOptionsError &&
        /visibilityTimeout must be/.test(error.message) &&
        /attempts must be an integer from 1 to 65535, got 0/.test(error.message) &&
        /deadLetter.maxLength/.test(error.message),
    );
    assert.throws(
      () => dataQueue({ visibiltyTimeout: 5 } as never),
      /unknown option "visibiltyTimeout"/,
    );
    assert.throws(() => new DataQueue(db.redis, ''), /non-empty string/);
  });

  it('refuses bad call arguments and writes nothing', async () => {
    const queue = dataQueue();
    await assert.rejects(
      queue.put('abc' as never),
      /put\(\) takes an array of items, got the string "abc"/,
    );
    await assert.rejects(queue.put([1], { delay: 1.5 }), /delay must be a whole number/);
    await assert.rejects(
      queue.put([1], { attempts: 70_000 }),
      /attempts must be an integer from 1 to 65535/,
    );
    await assert.rejects(
      queue.put([1, () => 2] as never),
      (error: Error) =>
        error instanceof InvalidOptionsError && /Item 1 of a put/.test(error.message),
    );
    // A refused put leaves nothing behind for the next put to carry.
    await queue.put(['next']);
    assert.deepEqual([...(await queue.get(5)).values()], ['next']);
    await assert.rejects(queue.get(0), /count must be an integer from 1 to 1000, got 0/);
    await assert.rejects(queue.get(1001), /count must be an integer from 1 to 1000/);
    await assert.rejects(queue.get(1, { wait: -5 }), /wait must be/);
    await assert.rejects(queue.peek(0), /count must be/);
    await assert.rejects(
      queue.refresh(['x'], { visibilityTimeout: 0 }),
      /visibilityTimeout must be positive/,
    );
    await assert.rejects(
      queue.done(5 as never),
      /takes a batch from get\(\) or an iterable of item ids/,
    );
    await assert.rejects(queue.done([''] as never), /non-empty strings/);
    assert.deepEqual(await keysOf(queue), []);
  });

  it('hands back records that are not ours, keeps them as dead letters, and loses no other item', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 100, attempts: 2 });
    const ids = await queue.put(Array.from({ length: 50 }, (_, i) => i));
    await db.redis.hset(queue.keys.items, 'foreign', 'x'); // shorter than a header
    await db.redis.rpush(queue.keys.available, 'foreign');
    await assert.rejects(queue.get(100), (error: Error) => {
      assert.ok(error instanceof DataDecodeError);
      assert.equal(error.batch.size, 50, 'the readable items are in the error, leased');
      assert.equal(error.records.get('foreign')?.toString(), 'x');
      assert.match(error.message, /kept as dead letters/);
      return true;
    });
    const [letter] = await queue.deadLetters.list();
    assert.equal(letter!.id, 'foreign');
    assert.deepEqual(Buffer.from(letter!.item as unknown as Uint8Array), Buffer.from('x'));
    assert.equal(letter!.attempts, 0);
    // The leases end; every readable item comes back, none is lost.
    await sleep(150);
    const back = await queue.get(100, { visibilityTimeout: 10_000 });
    assert.deepEqual([...back.keys()].sort(), [...ids].sort());
    assert.equal(await queue.done(back), 50);
  });

  it('settles a lease whose record was overwritten by something else without losing the others', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 80, attempts: 2 });
    await queue.put([1, 2, 3]);
    const batch = await queue.get(3);
    const [first] = [...batch.keys()];
    await db.redis.hset(queue.keys.items, first!, 'garbage!!'); // 9 bytes, no header
    await sleep(120);
    const back = await queue.get(10, { visibilityTimeout: 10_000 });
    assert.equal(back.size, 2, 'the two intact items came back');
    assert.equal(await queue.deadLetters.count(), 1, 'the overwritten one is a dead letter');
  });

  it('get({ done }) reads a one-shot iterable of more than 1,000 ids once', async () => {
    const queue = dataQueue<number>({ visibilityTimeout: 30_000 });
    await queue.put(Array.from({ length: 1_500 }, (_, i) => i));
    const held: string[] = [];
    for (let i = 0; i < 2; i++) held.push(...(await queue.get(1_000)).keys());
    function* once(): Generator<string> {
      yield* held;
    }
    assert.equal((await queue.get(1, { done: once() })).size, 0);
    assert.deepEqual(await queue.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
  });

  it('a put that runs twice (resent after a reconnect) puts its items once', async () => {
    const queue = dataQueue<string>();
    await queue.put(['a']);
    const id = (await db.redis.lrange(queue.keys.available, 0, -1))[0]!;
    const record = (await db.redis.hgetBuffer(queue.keys.items, id))!;
    const lengthPrefixed = Buffer.concat([Buffer.alloc(4), record]);
    lengthPrefixed.writeUInt32BE(record.length, 0);
    const args = ['0', queue.keys.wake, id, lengthPrefixed];
    assert.equal(await scripts.dataPut.run(db.redis, queue.keys, args), 1);
    assert.equal(await db.redis.llen(queue.keys.available), 1, 'not listed twice');
  });

  it('sends its commands on a connection that never resends them', async () => {
    const resending = db.server.client(); // ioredis' default: resend after a reconnect
    await resending.ping();
    const queue = new DataQueue(resending, uniqueName('dq'));
    await queue.put(['x']);
    assert.notEqual(queue.connection, resending);
    assert.equal((queue.connection as Redis).options.autoResendUnfulfilledCommands, false);
    const other = new DataQueue(resending, uniqueName('dq'));
    await other.counts();
    assert.equal(other.connection, queue.connection, 'shared');
    const careful = new Redis(db.server.url, { autoResendUnfulfilledCommands: false });
    try {
      const own = new DataQueue(careful, uniqueName('dq'));
      await own.counts();
      assert.equal(own.connection, careful);
    } finally {
      careful.disconnect();
    }
    resending.disconnect();
    await sleep(50);
    assert.equal(queue.connection.status, 'end', 'closed with its base connection');
  });

  it('takes digit strings for numbers, and names an unknown deadLetter key', () => {
    const queue = dataQueue({ visibilityTimeout: '5000', attempts: '3' } as never);
    assert.equal(queue.visibilityTimeout, 5_000);
    assert.equal(queue.attempts, 3);
    assert.throws(
      () => dataQueue({ deadLetter: { maxLenght: 5 } } as never),
      /unknown option "deadLetter.maxLenght"/,
    );
  });

  it('fails with RedisUnavailableError when Redis is unreachable, after redisTimeout', async () => {
    const port = await freePort();
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    redis.on('error', () => undefined);
    try {
      const queue = new DataQueue(redis, uniqueName('dq'), { redisTimeout: 300 });
      redis.connect().catch(() => undefined);
      const started = Date.now();
      await assert.rejects(queue.put(['x']), (error: Error) => {
        assert.ok(
          error instanceof DataPutError || error instanceof RedisUnavailableError,
          error.message,
        );
        return true;
      });
      assert.ok(Date.now() - started < 3_000);
      await assert.rejects(queue.get(1), RedisUnavailableError);
    } finally {
      redis.disconnect();
    }
  });
});
