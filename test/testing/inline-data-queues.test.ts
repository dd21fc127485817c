import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  DataQueue,
  DELAYED_CONNECTION,
  DelayedModule,
  getDataQueueToken,
  InjectDataQueue,
  InvalidOptionsError,
} from '../../lib/index.js';
import {
  DelayedTestingModule,
  InlineDataQueue,
  overrideDelayedModule,
} from '../../lib/testing/index.js';

// No Redis server is started for this file: everything here must work without one.

/** Counts the ioredis connections opened while this file runs. */
let connects = 0;
const realConnect = Redis.prototype.connect;
before(() => {
  Redis.prototype.connect = function (this: Redis, ...args: Parameters<Redis['connect']>) {
    connects++;
    return realConnect.apply(this, args);
  };
});
after(() => {
  Redis.prototype.connect = realConnect;
  assert.equal(connects, 0, 'no Redis connection was opened with inline data queues');
});

interface Click {
  readonly page: string;
  readonly at: number;
}

interface Job {
  readonly id: number;
}

/** App code as it is written for the real module. */
@Injectable()
class ClickTracker {
  constructor(
    @InjectDataQueue('clicks') private readonly clicks: DataQueue<Click>,
    @InjectDataQueue('jobs') readonly jobs: DataQueue<Job>,
  ) {}

  async track(page: string): Promise<string> {
    const [id] = await this.clicks.put([{ page, at: 1 }]);
    return id!;
  }

  /** Takes up to 100 clicks for good and counts them by page. */
  async tally(): Promise<Record<string, number>> {
    const tally: Record<string, number> = {};
    for (const click of (await this.clicks.get(100)).values()) {
      tally[click.page] = (tally[click.page] ?? 0) + 1;
    }
    return tally;
  }
}

@Module({ providers: [ClickTracker], exports: [ClickTracker] })
class ClicksModule {}

describe('data queues under overrideDelayedModule', () => {
  // The real module would connect to this address (nothing listens there).
  @Module({
    imports: [
      DelayedModule.forRoot({
        connection: 'redis://127.0.0.1:1',
        deadLetter: { maxLength: 2 },
        dataQueues: [
          'clicks',
          { name: 'jobs', visibilityTimeout: 100, attempts: 2, deadLetter: { maxLength: 2 } },
        ],
      }),
      ClicksModule,
    ],
  })
  class AppModule {}

  it('gives the app in-memory data queues with the options written in forRoot, without Redis', async () => {
    const moduleRef = await overrideDelayedModule(
      Test.createTestingModule({ imports: [AppModule] }),
      AppModule,
    ).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    try {
      const tracker = moduleRef.get(ClickTracker);
      await tracker.track('/home');
      await tracker.track('/home');
      await tracker.track('/about');
      assert.deepEqual(await tracker.tally(), { '/home': 2, '/about': 1 });

      const clicks = moduleRef.get<DataQueue<Click>>(getDataQueueToken('clicks'));
      assert.equal(clicks.deadLetterMaxLength, 10_000, "not the module's deadLetter (tasks')");
      assert.ok(clicks instanceof InlineDataQueue);
      assert.ok(clicks instanceof DataQueue);
      assert.equal(clicks.name, 'clicks');
      assert.equal(clicks.visibilityTimeout, 0);
      assert.deepEqual(await clicks.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });

      const jobs = tracker.jobs;
      assert.equal(jobs, moduleRef.get(getDataQueueToken('jobs')), 'one queue per name');
      assert.deepEqual(
        [jobs.visibilityTimeout, jobs.attempts, jobs.deadLetterMaxLength],
        [100, 2, 2],
        "the data queue's options",
      );
      const [id] = await jobs.put([{ id: 1 }]);
      for (let attempt = 1; attempt <= 2; attempt++) {
        assert.deepEqual([...(await jobs.get(1, { wait: 1_000 })).keys()], [id]);
        await sleep(150);
      }
      await jobs.sweep();
      const [letter] = await jobs.deadLetters.list();
      assert.deepEqual([letter?.id, letter?.item, letter?.attempts], [id, { id: 1 }, 2]);
      assert.throws(() => moduleRef.get(DELAYED_CONNECTION), 'no connection is provided');
    } finally {
      await moduleRef.close();
    }
    assert.equal(connects, 0);
  });

  it('keeps the data queues given beside forRootAsync options', async () => {
    @Module({
      imports: [
        DelayedModule.forRootAsync({
          useFactory: () => ({ connection: 'redis://127.0.0.1:1' }),
          dataQueues: ['clicks', { name: 'jobs', attempts: 3 }],
        }),
        ClicksModule,
      ],
    })
    class AsyncAppModule {}
    const moduleRef = await overrideDelayedModule(
      Test.createTestingModule({ imports: [AsyncAppModule] }),
      AsyncAppModule,
    ).compile();
    await moduleRef.init();
    try {
      const tracker = moduleRef.get(ClickTracker);
      await tracker.track('/');
      assert.deepEqual(await tracker.tally(), { '/': 1 });
      assert.equal(tracker.jobs.attempts, 3);
    } finally {
      await moduleRef.close();
    }
  });

  it('lets the test give its own data queues instead', async () => {
    const moduleRef = await overrideDelayedModule(
      Test.createTestingModule({ imports: [AppModule] }),
      AppModule,
      { dataQueues: ['clicks', { name: 'jobs', visibilityTimeout: 5_000 }] },
    ).compile();
    try {
      assert.equal(moduleRef.get(ClickTracker).jobs.visibilityTimeout, 5_000);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('DelayedTestingModule.forRoot({ dataQueues })', () => {
  it('provides and exports each data queue, in memory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        {
          // Not global: ClickTracker sees the data queues only because the module exports them.
          module: ClicksModule,
          imports: [
            DelayedTestingModule.forRoot({
              isGlobal: false,
              dataQueues: ['clicks', { name: 'jobs', visibilityTimeout: 30_000 }],
            }),
          ],
        },
      ],
    }).compile();
    try {
      const tracker = moduleRef.get(ClickTracker);
      await tracker.track('/');
      assert.deepEqual(await tracker.tally(), { '/': 1 });
      assert.equal(tracker.jobs.deadLetterMaxLength, 10_000, 'dead letters on by default');
      assert.equal(tracker.jobs.visibilityTimeout, 30_000);
    } finally {
      await moduleRef.close();
    }
  });

  it("keeps the data queues' own dead-letter setting whatever the module's deadLetter (tasks')", async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedTestingModule.forRoot({
          deadLetter: false,
          dataQueues: ['clicks', { name: 'jobs', deadLetter: { maxLength: 5 } }],
        }),
      ],
    }).compile();
    try {
      assert.equal(
        moduleRef.get<DataQueue>(getDataQueueToken('clicks')).deadLetterMaxLength,
        10_000,
      );
      assert.equal(moduleRef.get<DataQueue>(getDataQueueToken('jobs')).deadLetterMaxLength, 5);
    } finally {
      await moduleRef.close();
    }
  });

  it('refuses the data queues the real module refuses, with its message', () => {
    const bad = ['clicks', 'clicks', { name: 'jobs', attempts: 0 }, 7] as never;
    let real = '';
    try {
      DelayedModule.forRoot({ connection: 'redis://127.0.0.1:1', dataQueues: bad });
    } catch (error) {
      real = (error as Error).message;
    }
    assert.match(real, /Invalid dataQueues/);
    assert.throws(
      () => DelayedTestingModule.forRoot({ dataQueues: bad }),
      (error: Error) =>
        error instanceof InvalidOptionsError &&
        error.message.startsWith('Invalid DelayedTestingModule options:') &&
        error.message.includes(real),
    );
  });
});
