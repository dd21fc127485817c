import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  DataDeadLetters,
  DataQueue,
  type DataQueueOptions,
  DelayedError,
} from '../../lib/core/index.js';
import { encodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import { InlineDataQueue } from '../../lib/testing/index.js';
import { deadLetterBytes } from '../../lib/testing/inline-data-store.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';
import { dataQueueScenarios, type MakeDataQueue } from './data-queue-scenarios.js';

const db = useRedisServer();

const onRedis: MakeDataQueue = <T>(options?: DataQueueOptions) =>
  new DataQueue<T>(db.redis, uniqueName('dq'), options);
const inMemory: MakeDataQueue = <T>(options?: DataQueueOptions) =>
  new InlineDataQueue<T>(uniqueName('dq'), options);

// One list of scenarios, run against both: the in-memory queue answers as Redis does.
for (const [label, make] of [
  ['DataQueue on Redis', onRedis],
  ['InlineDataQueue in memory', inMemory],
] as const) {
  describe(`data queue semantics: ${label}`, () => {
    for (const scenario of dataQueueScenarios) it(scenario.name, () => scenario.run(make));
  });
}

/** The class and message a call fails with. */
async function failure(call: () => Promise<unknown>): Promise<[string, string]> {
  try {
    await call();
  } catch (error) {
    return [
      (error as Error).constructor.name,
      (error as Error).message.replace(/"dq-[0-9a-f]+"/g, '"…"'),
    ];
  }
  return ['none', ''];
}

describe('InlineDataQueue beside DataQueue', () => {
  it('refuses the same bad calls with the same error and message', async () => {
    const calls: [string, (queue: DataQueue<unknown>) => Promise<unknown>][] = [
      ['put of a string', (q) => q.put('abc' as never)],
      ['put options', (q) => q.put([1], { delay: -1, attempts: 0, deadLetter: 1 as never })],
      ['put of a function', (q) => q.put([1, () => 2])],
      ['put of a symbol', (q) => q.put([Symbol('s')])],
      ['get count', (q) => q.get(1.5, { visibilityTimeout: 2 ** 31, wait: Number.NaN })],
      ['peek count', (q) => q.peek(1_001)],
      ['refresh 0', (q) => q.refresh(['x'], { visibilityTimeout: 0 })],
      ['refresh "5"', (q) => q.refresh(['x'], { visibilityTimeout: '5' as never })],
      ['refresh of null', (q) => q.refresh(null as never)],
      ['done of a number', (q) => q.done(5 as never)],
      ['done of an empty id', (q) => q.done(['ok', ''])],
    ];
    for (const [what, call] of calls) {
      const real = await failure(() => call(onRedis()));
      assert.notEqual(real[0], 'none', `${what} fails on Redis`);
      assert.deepEqual(await failure(() => call(inMemory())), real, what);
    }
    const options = [
      { visibilityTimeout: -1, attempts: 0, deadLetter: { maxLength: 0 } },
      { redisTimeout: 'soon', extra: 1 },
      null,
    ] as never[];
    for (const given of options) {
      const real = await failure(async () => onRedis(given));
      assert.deepEqual(await failure(async () => inMemory(given)), real);
    }
  });

  it("writes a dead letter's bytes exactly as the script does on Redis", async () => {
    const queue = onRedis<unknown>({ visibilityTimeout: 50 });
    const item = { n: 1, big: 2n ** 60n, bytes: Buffer.from('x'), text: 'ü' };
    await queue.put([item]);
    await queue.get(1);
    await sleep(120);
    await queue.sweep();
    const [letter] = await queue.deadLetters.list();
    assert.ok(letter !== undefined);
    assert.deepEqual(
      deadLetterBytes(letter.id, encodeMsgpack(item), letter.attempts, letter.diedAt),
      letter.raw,
    );
    // A long id (a letter's id is kept on requeue, whatever it is) takes the str8 header.
    const long = 'i'.repeat(40);
    const raw = deadLetterBytes(long, encodeMsgpack(1), 2, 5);
    assert.deepEqual(raw.subarray(4, 6), Buffer.from([0xd9, 40]));
  });

  it('is a DataQueue whose Redis parts say they have no Redis behind them', async () => {
    const queue = new InlineDataQueue('clicks', { visibilityTimeout: 1_000 });
    assert.ok(queue instanceof DataQueue);
    assert.ok(queue.deadLetters instanceof DataDeadLetters);
    assert.equal(queue.name, 'clicks');
    assert.equal(queue.keys.items, 'clicks_dq_items');
    assert.throws(() => queue.redis.status, DelayedError);
    assert.throws(() => queue.redis.status, /no Redis behind it under DelayedTestingModule/);
    await assert.rejects(
      queue.command(() => Promise.resolve(1), 'a test'),
      /DataQueue "clicks" has no Redis behind it/,
    );
  });

  // App code calls these classes; the inline ones must answer every public member in memory.
  // A member added to a real class and not to its inline twin would reach for Redis.
  for (const [real, inline, privates] of [
    [
      DataQueue,
      'InlineDataQueue',
      // Private, or checks both classes share (protected): not app-facing.
      [
        'take',
        'waitFor',
        'doneIds',
        'fate',
        'putSettings',
        'itemError',
        'getSettings',
        'peekCount',
        'refreshTimeout',
      ],
    ],
    [DataDeadLetters, 'InlineDataDeadLetters', []],
  ] as const) {
    it(`${inline} overrides every public member of ${real.name}`, async () => {
      const module = (await import('../../lib/testing/index.js')) as unknown as Record<
        string,
        { prototype: object }
      >;
      const own = new Set(Object.getOwnPropertyNames(module[inline]!.prototype));
      const missing = Object.getOwnPropertyNames(real.prototype).filter(
        (name) =>
          name !== 'constructor' &&
          !(privates as readonly string[]).includes(name) &&
          !own.has(name),
      );
      assert.deepEqual(missing, []);
    });
  }
});
