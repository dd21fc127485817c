import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import {
  type DelayedLogger,
  decodeTask,
  GoTask,
  InvalidOptionsError,
  NodeTask,
  PyTask,
  Queue,
  RedisUnavailableError,
  Scheduler,
} from '../../lib/core/index.js';
import { MISSED_AFTER } from '../../lib/core/schedules/scheduler.js';
import {
  nextTick,
  scheduleDefinition,
  type ScheduleTiming,
} from '../../lib/core/schedules/schedule-definition.js';
import { encodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import { eventually, quietLogger, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

/** The tick times in the queue's list, read from each task's last argument. */
async function enqueuedTicks(queue: Queue): Promise<number[]> {
  const tasks = await db.redis.lrangeBuffer(queue.name, 0, -1);
  return tasks.map((bytes) => {
    const task = decodeTask(bytes);
    assert.equal(task.kind, 'py');
    return task.kind === 'py' ? (task.args.at(-1) as number) : NaN;
  });
}

function scheduler(
  queue: Queue,
  redis: Redis = db.redis,
  logger: DelayedLogger = quietLogger,
): Scheduler {
  return new Scheduler({
    queues: [{ name: queue.name, keys: queue.keys, redis }],
    logger,
  });
}

const tick = new NodeTask('Clock:tick');

describe('periodic schedules', () => {
  it('every: ticks on the grid, each enqueued once as a plain task with its time', async () => {
    const queue = new Queue(db.redis, uniqueName());
    assert.equal(
      await queue.schedules.set('beat', { every: 200 }, tick, { tickArg: true }),
      'created',
    );
    const firing = scheduler(queue);
    firing.start();
    await sleep(1_150);
    await firing.stop();
    const ticks = await enqueuedTicks(queue);
    assert.ok(ticks.length >= 4 && ticks.length <= 6, `${ticks.length} ticks in 1.15 s`);
    for (const [i, time] of ticks.entries()) {
      assert.equal(time % 200, 0, 'on the grid');
      if (i > 0) assert.equal(time - ticks[i - 1]!, 200, 'none missed, none twice');
    }
    const [info] = await queue.schedules.list();
    assert.equal(info!.name, 'beat');
    assert.deepEqual(info!.timing, { every: 200 });
    assert.equal(info!.task.name, 'Clock:tick');
    assert.equal(info!.nextTick, ticks.at(-1)! + 200);
  });

  it('the same definition again changes nothing, its next tick included; a new one takes over once', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.schedules.set('report', { every: 60_000 }, tick);
    const before = await queue.schedules.get('report');
    await sleep(5);
    for (let i = 0; i < 3; i++) {
      assert.equal(await queue.schedules.set('report', { every: 60_000 }, tick), 'unchanged');
    }
    assert.deepEqual(await queue.schedules.get('report'), before);
    assert.equal(await queue.schedules.set('report', { every: 30_000 }, tick), 'changed');
    assert.equal(await queue.schedules.set('report', { every: 30_000 }, tick), 'unchanged');
    assert.deepEqual((await queue.schedules.get('report'))!.timing, { every: 30_000 });
  });

  it('three schedulers on three connections enqueue each tick exactly once', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.schedules.set('beat', { every: 50 }, tick, { tickArg: true });
    const connections = [0, 1, 2].map(() => db.redis.duplicate());
    const firing = connections.map((redis) => scheduler(queue, redis));
    for (const one of firing) one.start();
    await sleep(1_500);
    await Promise.all(firing.map((one) => one.stop()));
    await Promise.all(connections.map((redis) => redis.quit()));
    const ticks = await enqueuedTicks(queue);
    assert.ok(ticks.length >= 25, `${ticks.length} ticks`);
    assert.equal(new Set(ticks).size, ticks.length, 'no tick twice');
    for (let i = 1; i < ticks.length; i++)
      assert.equal(ticks[i]! - ticks[i - 1]!, 50, 'none missed');
  });

  it('neverSkip catches up every tick missed while nothing fired; without it they are skipped', async () => {
    const catchUp = new Queue(db.redis, uniqueName());
    const skip = new Queue(db.redis, uniqueName());
    await catchUp.schedules.set('beat', { every: 100 }, tick, { tickArg: true, neverSkip: true });
    await skip.schedules.set('beat', { every: 100 }, tick, { tickArg: true });
    const first = (await catchUp.schedules.get('beat'))!.nextTick!;
    await sleep(2_500); // an outage: no scheduler runs
    const firing = [scheduler(catchUp), scheduler(skip)];
    const restart = Date.now();
    for (const one of firing) one.start();
    await sleep(350);
    await Promise.all(firing.map((one) => one.stop()));

    const caughtUp = await enqueuedTicks(catchUp);
    assert.equal(caughtUp[0], first, 'starts with the first missed tick');
    for (let i = 1; i < caughtUp.length; i++) assert.equal(caughtUp[i]! - caughtUp[i - 1]!, 100);
    assert.ok(caughtUp.at(-1)! >= restart, 'caught up to now');

    const skipped = await enqueuedTicks(skip);
    assert.equal(skipped[0], first, 'the oldest missed tick runs once, late');
    // Ticks more than a second late (MISSED_AFTER) are skipped; the later ones fire.
    const resumed = skipped[1]!;
    assert.ok(
      resumed >= restart - MISSED_AFTER - 100 && resumed <= restart - MISSED_AFTER + 200,
      `goes on with the ticks of the last second (${restart - resumed} ms before the restart)`,
    );
    assert.ok(skipped.length < caughtUp.length - 10, `${skipped.length} vs ${caughtUp.length}`);
    for (let i = 2; i < skipped.length; i++) assert.equal(skipped[i]! - skipped[i - 1]!, 100);
  });

  it('remove stops the ticks; list and get no longer show it', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.schedules.set('beat', { every: 100 }, tick, { tickArg: true });
    const firing = scheduler(queue);
    firing.start();
    await eventually(async () => (await queue.len()) >= 2, 3_000, 'two ticks');
    assert.equal(await queue.schedules.remove('beat'), true);
    const count = await queue.len();
    await sleep(400);
    await firing.stop();
    assert.equal(await queue.len(), count, 'no tick after the removal');
    assert.equal(await queue.schedules.remove('beat'), false);
    assert.deepEqual(await queue.schedules.list(), []);
    assert.equal(await queue.schedules.get('beat'), undefined);
    assert.equal(
      await db.redis.exists(`${queue.name}_schedules`, `${queue.name}_schedule_ticks`),
      0,
    );
  });

  it('cron with seconds: one tick per second, as a PyTask a Python worker runs (no tick argument)', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.schedules.set('py', { cron: '* * * * * *' }, new PyTask('jobs.report', ['daily']));
    const firing = scheduler(queue);
    firing.start();
    await sleep(2_300);
    await firing.stop();
    const tasks = await db.redis.lrangeBuffer(queue.name, 0, -1);
    assert.ok(tasks.length >= 2 && tasks.length <= 3, `${tasks.length} ticks in 2.3 s`);
    for (const bytes of tasks) {
      assert.deepEqual(bytes, Buffer.from(encodeMsgpack(['jobs.report', ['daily']])));
    }
  });

  it('a definition this version cannot read is reported once and not fired; the others are', async () => {
    const queue = new Queue(db.redis, uniqueName());
    await queue.schedules.set('good', { every: 100 }, tick, { tickArg: true });
    await db.redis.hset(queue.keys.schedules, 'future', encodeMsgpack([2, 'something new']));
    await db.redis.zadd(queue.keys.scheduleTicks, 0, 'future');
    const errors: string[] = [];
    const logger = { ...quietLogger, error: (message: string) => void errors.push(message) };
    const firing = scheduler(queue, db.redis, logger);
    firing.start();
    await sleep(500);
    await firing.stop();
    assert.ok((await queue.len()) >= 3, 'the good schedule fires');
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0]!, /Schedule "future" .* not fired here: .*version 2/);
    const future = (await queue.schedules.list()).find((info) => info.name === 'future');
    assert.match(future!.problem!, /newer nestjs-delayed/);
  });

  it('passes over more due entries than one look reads that it cannot fire, and fires the rest', async () => {
    const queue = new Queue(db.redis, uniqueName());
    // 150 ticks without a definition, all due long ago, rank before the good schedule.
    for (let i = 0; i < 150; i++) await db.redis.zadd(queue.keys.scheduleTicks, i, `orphan-${i}`);
    await queue.schedules.set('good', { every: 100 }, tick, { tickArg: true });
    const firing = scheduler(queue);
    firing.start();
    await eventually(async () => (await queue.len()) >= 3, 3_000, 'the good schedule to fire');
    await firing.stop();
  });

  it('rejects a schedule change with Redis down after redisTimeout, and leaves nothing pending', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const down = new Redis(`redis://127.0.0.1:1`, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    });
    down.on('error', () => undefined);
    try {
      const queue = new Queue(down, uniqueName(), { redisTimeout: 300 });
      await assert.rejects(queue.schedules.set('x', { every: 1_000 }, tick), RedisUnavailableError);
      await assert.rejects(queue.schedules.list(), RedisUnavailableError);
      await assert.rejects(queue.schedules.remove('x'), RedisUnavailableError);
      await sleep(500); // long enough for a queued command to be dropped by ioredis
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      down.disconnect();
    }
  });

  it('refuses wrong definitions with messages that say what is wrong', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const wrong: [string, ScheduleTiming, RegExp][] = [
      ['a', { every: 0 }, /every must be a whole number of ms, at least 1/],
      ['b', { every: 1.5 }, /every must be a whole number/],
      ['c', { cron: 'every tuesday' }, /invalid cron expression "every tuesday"/],
      ['d', { cron: '0 5 * * 2', timeZone: 'Mars/Olympus' }, /unknown time zone "Mars\/Olympus"/],
      ['e', {} as ScheduleTiming, /timing must be \{ every: ms \} or \{ cron, timeZone\? \}/],
    ];
    for (const [name, timing, message] of wrong) {
      await assert.rejects(queue.schedules.set(name, timing, tick), (error: unknown) => {
        return error instanceof InvalidOptionsError && message.test(error.message);
      });
    }
    await assert.rejects(queue.schedules.set('', { every: 5 }, tick), /name of 1 to 200/);
    await assert.rejects(
      queue.schedules.set('g', { every: 5 }, new GoTask('main.F'), { tickArg: true }),
      /tickArg needs a PyTask or NodeTask/,
    );
    assert.deepEqual(await queue.schedules.list(), [], 'nothing written');
  });
});

describe('cron times', () => {
  const at = (iso: string): number => new Date(iso).getTime();
  const next = (timing: ScheduleTiming, after: string): string =>
    new Date(nextTick(scheduleDefinition('t', timing, tick), at(after))).toISOString();

  it('every Tuesday at 5 in a time zone', () => {
    const timing = { cron: '0 5 * * 2', timeZone: 'Europe/Berlin' };
    // Tuesday 2026-11-24, 05:00 in Berlin (CET, UTC+1).
    assert.equal(next(timing, '2026-11-23T12:00:00Z'), '2026-11-24T04:00:00.000Z');
    assert.equal(next(timing, '2026-11-24T04:00:00Z'), '2026-12-01T04:00:00.000Z');
  });

  it('DST forward: a time that does not exist that day runs once, an hour on', () => {
    // Berlin skips 02:00-03:00 on 2026-03-29: 02:30 runs at 03:30 CEST (01:30 UTC), once.
    const timing = { cron: '30 2 * * *', timeZone: 'Europe/Berlin' };
    assert.equal(next(timing, '2026-03-28T12:00:00Z'), '2026-03-29T01:30:00.000Z');
    assert.equal(next(timing, '2026-03-29T01:30:00Z'), '2026-03-30T00:30:00.000Z');
  });

  it('DST back: a time that happens twice that day runs once', () => {
    // Berlin goes from 03:00 CEST back to 02:00 CET on 2026-10-25: 02:30 happens twice.
    const timing = { cron: '30 2 * * *', timeZone: 'Europe/Berlin' };
    assert.equal(next(timing, '2026-10-24T12:00:00Z'), '2026-10-25T00:30:00.000Z');
    assert.equal(next(timing, '2026-10-25T00:30:00Z'), '2026-10-26T01:30:00.000Z');
  });

  it('hourly across New York DST: each wall-clock hour once, the repeated one too', () => {
    const timing = { cron: '0 * * * *', timeZone: 'America/New_York' };
    // 2026-11-01: 01:00 EDT (05:00Z), then clocks go back and 01:00 EST (06:00Z) comes again;
    // it is the same wall-clock time and does not fire twice. 02:00 EST is 07:00Z.
    let time = '2026-11-01T04:30:00Z';
    const ticks: string[] = [];
    for (let i = 0; i < 3; i++) ticks.push((time = next(timing, time)));
    assert.deepEqual(ticks, [
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
      '2026-11-01T08:00:00.000Z',
    ]);
    // Spring forward (2026-03-08, 02:00 EST -> 03:00 EDT): no 02:00 that day, none invented.
    time = '2026-03-08T06:30:00Z'; // 01:30 EST
    const spring: string[] = [];
    for (let i = 0; i < 2; i++) spring.push((time = next(timing, time)));
    assert.deepEqual(spring, ['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
  });

  it('every: a grid from the epoch, strictly after the given time', () => {
    assert.equal(next({ every: 60_000 }, '2026-11-23T10:00:00Z'), '2026-11-23T10:01:00.000Z');
    assert.equal(next({ every: 60_000 }, '2026-11-23T10:00:59.999Z'), '2026-11-23T10:01:00.000Z');
  });
});
