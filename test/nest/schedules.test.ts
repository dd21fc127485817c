import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  Cron,
  DelayedModule,
  type DelayedModuleOptions,
  DelayedQueue,
  Every,
  PyTask,
  Task,
  type TaskFailedEvent,
  DelayedHost,
  currentTask,
  getQueueToken,
  TaskTimeoutError,
} from '../../lib/index.js';
import { Queue } from '../../lib/core/index.js';
import { encodeMsgpack } from '../../lib/core/protocol/msgpack.js';
import { eventually, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

const ticks: { name: string; tickAt: number; queue: string }[] = [];

@Injectable()
class Clock {
  @Every(200)
  beat(tickAt: number) {
    ticks.push({ name: 'beat', tickAt, queue: currentTask()!.queue });
  }

  @Cron('* * * * * *', { name: 'every-second' })
  second(tickAt: number) {
    ticks.push({ name: 'second', tickAt, queue: currentTask()!.queue });
  }
}

/** The next version of Clock: the same schedule name, another interval. */
@Injectable()
class ClockV2 {
  @Every(60_000, { name: 'Clock:beat' })
  beat() {}
}

@Injectable()
class Patient {
  @Task({ timeout: 100 })
  async wait() {
    await sleep(5_000, undefined, { signal: currentTask()!.signal });
  }
}

@Injectable()
class Janitor {
  static readonly runs: unknown[][] = [];

  @Task({ retry: 2, backoff: { type: 'exponential', delay: 100 } })
  purge(days: number) {
    Janitor.runs.push([days, Date.now()]);
    if (Janitor.runs.length === 1) throw new Error('first attempt fails');
  }
}

function fastWorker(): DelayedModuleOptions['worker'] {
  return { dequeueTimeout: 100, shutdownTimeout: 2_000 };
}

async function app(options: DelayedModuleOptions, providers: unknown[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DelayedModule.forRoot(options)],
    providers: providers as never[],
  }).compile();
  const application = moduleRef.createNestApplication({ logger: false });
  await application.init();
  return application;
}

describe('@Every and @Cron', () => {
  it('fire once per tick across three app instances, on the queue, with the tick time', async () => {
    ticks.length = 0;
    const queue = uniqueName();
    const options = { connection: db.server.url, queue, worker: fastWorker() };
    const apps = [];
    for (let i = 0; i < 3; i++) apps.push(await app(options, [Clock]));
    try {
      await sleep(2_300);
    } finally {
      for (const one of apps) await one.close();
    }
    const beats = ticks.filter((t) => t.name === 'beat').map((t) => t.tickAt);
    const seconds = ticks.filter((t) => t.name === 'second').map((t) => t.tickAt);
    assert.ok(beats.length >= 9, `${beats.length} beats`);
    assert.equal(new Set(beats).size, beats.length, 'no beat twice');
    const sorted = [...beats].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) assert.equal(sorted[i]! - sorted[i - 1]!, 200);
    assert.ok(seconds.length >= 2 && seconds.length <= 3, `${seconds.length} seconds`);
    assert.equal(new Set(seconds).size, seconds.length, 'no second twice');
    for (const tick of seconds) assert.equal(tick % 1_000, 0);
    assert.ok(ticks.every((t) => t.queue === queue));
  });

  it('a restarted instance neither resets nor duplicates a schedule; a changed one takes over', async () => {
    const queue = uniqueName();
    const options = { connection: db.server.url, queue, worker: fastWorker() };
    const first = await app(options, [Clock]);
    const before = await first.get(DelayedQueue).schedules.get('Clock:beat');
    assert.ok(before?.declared, 'declared in code');
    await first.close();
    // While no instance ran, the schedule fell behind: its next tick is 5 s old.
    const behind = Math.floor((Date.now() - 5_000) / 200) * 200;
    await db.redis.zadd(`${queue}_schedule_ticks`, behind, 'Clock:beat');
    ticks.length = 0;
    // Booted again with the same code: the stored schedule is kept, not reset to a later
    // tick, so the missed tick still fires (once: the schedule does not use neverSkip).
    const again = await app({ ...options, worker: { dequeueTimeout: 100, concurrency: 2 } }, [
      Clock,
    ]);
    await eventually(() => ticks.some((t) => t.tickAt === behind), 3_000, 'the missed tick');
    const kept = await again.get(DelayedQueue).schedules.get('Clock:beat');
    await again.close();
    assert.deepEqual({ ...kept, nextTick: 0 }, { ...before, nextTick: 0 });
    assert.equal(ticks.filter((t) => t.tickAt === behind).length, 1);
    // The next version changes the schedule: it takes effect once, whoever boots first.
    const changed = [await app(options, [ClockV2]), await app(options, [ClockV2])];
    const after = await changed[0]!.get(DelayedQueue).schedules.get('Clock:beat');
    for (const one of changed) await one.close();
    assert.deepEqual(after!.timing, { every: 60_000 });
    assert.equal(after!.task.name, 'ClockV2:beat');
  });

  it('reports a schedule no longer declared, and removes it when asked', async () => {
    const queue = uniqueName();
    const options = { connection: db.server.url, queue, worker: fastWorker() };
    const first = await app(options, [Clock]);
    await first.close();
    // The next version of the app: Clock is gone, Janitor serves the queue.
    const warnings: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [DelayedModule.forRoot(options)],
      providers: [Janitor],
    }).compile();
    const next = moduleRef.createNestApplication({
      logger: { log() {}, error() {}, warn: (message: string) => void warnings.push(message) },
    });
    await next.init();
    await next.close();
    assert.ok(
      warnings.some((w) =>
        /Schedule "Clock:beat" .* not declared by this app; it keeps firing/.test(w),
      ),
      warnings.join('\n'),
    );
    const pruning = await app({ ...options, scheduler: { removeUndeclared: true } }, [Janitor]);
    const left = await pruning.get(DelayedQueue).schedules.list();
    await pruning.close();
    assert.deepEqual(left, []);
  });

  it('runtime schedules: typed set, setTask for a Python task, list, remove', async () => {
    const queue = uniqueName();
    const application = await app({ connection: db.server.url, queue, worker: false }, [Janitor]);
    try {
      const delayed = application.get(DelayedQueue);
      assert.equal(
        await delayed.schedules.set(
          'purge',
          { every: 3_600_000, neverSkip: true },
          Janitor,
          'purge',
          30,
        ),
        'created',
      );
      assert.equal(
        await delayed.schedules.set(
          'purge',
          { every: 3_600_000, neverSkip: true },
          Janitor,
          'purge',
          30,
        ),
        'unchanged',
      );
      await delayed.schedules.setTask(
        'report',
        { cron: '0 5 * * 2', timeZone: 'Europe/Berlin' },
        new PyTask('reports.weekly', ['pdf']),
      );
      const list = await delayed.schedules.list();
      assert.deepEqual(
        list.map((info) => [info.name, info.task, info.neverSkip, info.declared]),
        [
          ['purge', { name: 'Janitor:purge', args: [30] }, true, false],
          ['report', { name: 'reports.weekly', args: ['pdf'] }, false, false],
        ],
      );
      const report = list[1]!;
      assert.equal(new Date(report.nextTick!).getUTCDay(), 2, 'a Tuesday');
      assert.equal(await delayed.schedules.remove('report'), true);
      assert.deepEqual(
        (await delayed.schedules.list()).map((info) => info.name),
        ['purge'],
      );
      await assert.rejects(
        delayed.schedules.set('bad', { cron: '61 * * * *' }, Janitor, 'purge', 1),
        /invalid cron expression/,
      );
    } finally {
      await application.close();
    }
  });

  it('fires a Python-only queue named in scheduler.queues: its ticks are plain peer bytes', async () => {
    const queue = uniqueName();
    const py = uniqueName('py');
    // A worker app whose handlers do not serve `py`: only scheduler.queues makes it fire there.
    const application = await app(
      {
        connection: db.server.url,
        queue,
        worker: fastWorker(),
        scheduler: { queues: [py] },
        queues: [py],
      } as DelayedModuleOptions,
      [Janitor],
    );
    try {
      const pyQueue = application.get<DelayedQueue>(getQueueToken(py));
      await pyQueue.schedules.setTask('py', { every: 100 }, new PyTask('jobs.tick'));
      await eventually(async () => (await pyQueue.len()) >= 2, 3_000, 'two ticks');
      const bytes = await db.redis.lrangeBuffer(py, 0, -1);
      for (const task of bytes) assert.deepEqual(task, encodeMsgpack(['jobs.tick']));
      assert.equal(await application.get(DelayedQueue).len(), 0, 'nothing on the Node queue');
    } finally {
      await application.close();
    }
    await db.redis.del(py, `${py}_noti`, `${py}_schedules`, `${py}_schedule_ticks`);
  });

  it('refuses wrong decorators where they are written', () => {
    assert.throws(() => Every(0), /every must be a whole number of ms, at least 1/);
    assert.throws(() => Cron('* * *'), /invalid cron expression/);
    assert.throws(() => Cron('0 5 * * *', { timeZone: 'Nowhere' }), /unknown time zone/);
    assert.throws(() => Every(1_000, { name: '' }), /name must be a non-empty string/);
    assert.throws(() => Task({ backoff: 100 }), /a backoff needs retry/);
    assert.throws(() => Task({ timeout: 0 }), /timeout must be a whole number of ms from 1/);
  });
});

describe('@Task({ timeout }) in a Nest app', () => {
  it('fails an attempt that runs past its timeout with a TaskTimeoutError', async () => {
    const queue = uniqueName();
    const application = await app({ connection: db.server.url, queue, worker: fastWorker() }, [
      Patient,
    ]);
    try {
      const failed: TaskFailedEvent[] = [];
      application.get(DelayedHost).activeWorker!.on('failed', (event) => failed.push(event));
      const started = Date.now();
      await application.get(DelayedQueue).delay(Patient, 'wait');
      await eventually(() => failed.length === 1, 5_000, 'the timeout');
      assert.ok(failed[0]!.error instanceof TaskTimeoutError, String(failed[0]!.error));
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await application.close();
    }
  });
});

describe('@Task({ backoff }) in a Nest app', () => {
  it('retries after the backoff, as the failed event reports', async () => {
    Janitor.runs.length = 0;
    const queue = uniqueName();
    const application = await app({ connection: db.server.url, queue, worker: fastWorker() }, [
      Janitor,
    ]);
    try {
      const failed: TaskFailedEvent[] = [];
      application.get(DelayedHost).activeWorker!.on('failed', (event) => failed.push(event));
      await application.get(DelayedQueue).delay(Janitor, 'purge', 7);
      await eventually(() => Janitor.runs.length === 2, 5_000, 'the retry');
      assert.equal(failed[0]!.retryIn, 100);
      const [first, second] = Janitor.runs as [number, number][];
      assert.ok(second[1] - first[1] >= 98, `${second[1] - first[1]} ms between attempts`);
    } finally {
      await application.close();
    }
  });
});

// The README's example, as written there ("Periodic and cron tasks").
@Injectable()
class Housekeeping {
  @Every(60_000) // at each whole minute
  refreshRates(tickAt: number) {
    void tickAt;
  }

  @Cron('0 5 * * 2', { timeZone: 'Europe/Berlin' }) // Tuesdays at 05:00, Berlin time
  @Task({ queue: 'reports', retry: 3, backoff: 60_000 }) // optional: name, queue, retry, backoff
  weeklyReport(tickAt: number) {
    void tickAt;
  }

  @Every(3_600_000, { neverSkip: true, name: 'hourly-rollup' })
  rollup(tickAt: number) {
    void tickAt;
  }
}

describe("the README's periodic example", () => {
  it('declares its three schedules on their queues at boot', async () => {
    const queue = uniqueName();
    const application = await app(
      { connection: db.server.url, queue, worker: false, scheduler: true },
      [Housekeeping],
    );
    try {
      const delayed = application.get(DelayedQueue);
      const here = await delayed.schedules.list();
      assert.deepEqual(
        here.map((info) => [info.name, info.timing, info.neverSkip, info.task.name]),
        [
          ['Housekeeping:refreshRates', { every: 60_000 }, false, 'Housekeeping:refreshRates'],
          ['hourly-rollup', { every: 3_600_000 }, true, 'Housekeeping:rollup'],
        ],
      );
      const reports = await new Queue(db.redis, 'reports').schedules.get(
        'Housekeeping:weeklyReport',
      );
      assert.deepEqual(reports?.timing, { cron: '0 5 * * 2', timeZone: 'Europe/Berlin' });
      assert.equal(new Date(reports!.nextTick!).getUTCDay(), 2);
      await new Queue(db.redis, 'reports').schedules.remove('Housekeeping:weeklyReport');
    } finally {
      await application.close();
    }
  });
});

describe('the scheduler with Redis down at boot', () => {
  const down = { connection: 'redis://127.0.0.1:1', redisTimeout: 500 };

  it('lets an app with nothing declared boot (the check for old schedules is only logged)', async () => {
    const warnings: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [DelayedModule.forRoot({ ...down, queue: uniqueName(), sweeper: true })],
      providers: [Janitor],
    }).compile();
    const application = moduleRef.createNestApplication({
      logger: { log() {}, error() {}, warn: (message: string) => void warnings.push(message) },
    });
    const started = Date.now();
    await application.init();
    assert.ok(Date.now() - started < 3_000, 'bounded by redisTimeout');
    await application.close();
    assert.ok(
      warnings.some((w) => /Could not check queue .* for schedules no longer declared/.test(w)),
      warnings.join('\n'),
    );
  });

  it('fails the bootstrap of an app whose declared schedules cannot be written, naming why', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DelayedModule.forRoot({ ...down, queue: uniqueName(), scheduler: true })],
      providers: [Clock],
    }).compile();
    const application = moduleRef.createNestApplication({ logger: false });
    await assert.rejects(
      application.init(),
      /the schedules declared in code could not be written: .*127\.0\.0\.1:1/,
    );
    await application.close();
  });
});
