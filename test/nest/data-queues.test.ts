import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DataQueue,
  DelayedModule,
  getDataQueueToken,
  InjectDataQueue,
  InvalidOptionsError,
} from '../../lib/index.js';
import { uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

interface Click {
  readonly page: string;
  readonly at: number;
}

const CLICKS = uniqueName('clicks');
const REPORTS = uniqueName('reports');

/** Producer and consumer as an app writes them: injected data queues, nothing else. */
@Injectable()
class ClickTracker {
  constructor(@InjectDataQueue(CLICKS) private readonly clicks: DataQueue<Click>) {}

  track(page: string): Promise<string[]> {
    return this.clicks.put([{ page, at: 1 }]);
  }

  /** Aggregates up to 100 clicks: leased while counted, done once counted. */
  async aggregate(): Promise<Record<string, number>> {
    const batch = await this.clicks.get(100, { wait: 1_000 });
    const counts: Record<string, number> = {};
    for (const click of batch.values()) counts[click.page] = (counts[click.page] ?? 0) + 1;
    await this.clicks.done(batch);
    return counts;
  }
}

describe('DelayedModule dataQueues', () => {
  it('provides each data queue for @InjectDataQueue, with its options, on the module connection', async () => {
    @Module({
      imports: [
        DelayedModule.forRoot({
          connection: db.server.url,
          dataQueues: [{ name: CLICKS, visibilityTimeout: 30_000, attempts: 3 }, REPORTS],
        }),
      ],
      providers: [ClickTracker],
    })
    class AppModule {}

    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    try {
      const tracker = app.get(ClickTracker);
      await tracker.track('/home');
      await tracker.track('/home');
      await tracker.track('/pricing');
      assert.deepEqual(await tracker.aggregate(), { '/home': 2, '/pricing': 1 });

      const clicks = app.get<DataQueue<Click>>(getDataQueueToken(CLICKS));
      assert.equal(clicks.visibilityTimeout, 30_000);
      assert.equal(clicks.attempts, 3);
      assert.equal(clicks.deadLetterMaxLength, 10_000);
      const reports = app.get<DataQueue>(getDataQueueToken(REPORTS));
      assert.equal(reports.visibilityTimeout, 0, 'a bare name has the defaults');
      assert.deepEqual(await clicks.counts(), { available: 0, invisible: 0, delayed: 0, dead: 0 });
    } finally {
      await app.close();
    }
  });

  it('the app sweeper settles data queues nobody reads: ended leases become dead letters', async () => {
    const name = uniqueName('dq');
    @Module({
      imports: [
        DelayedModule.forRootAsync({
          useFactory: () => ({
            connection: db.server.url,
            worker: false,
            sweeper: { interval: 100 },
          }),
          dataQueues: [{ name, visibilityTimeout: 50 }],
        }),
      ],
    })
    class AppModule {}
    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    try {
      const queue = app.get<DataQueue>(getDataQueueToken(name));
      await queue.put(['lost']);
      await queue.get(1);
      await sleep(400);
      assert.equal(await db.redis.llen(queue.keys.dead), 1, 'the sweeper gave the item up');
    } finally {
      await app.close();
    }
  });

  it('refuses bad data queue definitions at forRoot, before any connection opens', () => {
    assert.throws(
      () => DelayedModule.forRoot({ connection: db.server.url, dataQueues: ['a', 'a', ''] }),
      (error: Error) =>
        error instanceof InvalidOptionsError &&
        /dataQueues names "a" twice/.test(error.message) &&
        /non-empty names/.test(error.message),
    );
    assert.throws(
      () =>
        DelayedModule.forRoot({
          connection: db.server.url,
          dataQueues: [{ name: 'x', attempts: 0 }],
        }),
      /options of data queue "x": attempts must be an integer from 1 to 65535, got 0/,
    );
  });
});
