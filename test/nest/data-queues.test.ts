import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DataQueue,
  DelayedModule,
  Every,
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

const saved: Click[] = [];
async function saveCounts(clicks: Iterable<Click>): Promise<void> {
  saved.push(...clicks);
}

/** The README's example, as written (with its queue name made unique). */
@Injectable()
class ClickStats {
  constructor(@InjectDataQueue(CLICKS) private readonly clicks: DataQueue<Click>) {}

  track(page: string): Promise<string[]> {
    return this.clicks.put([{ page, at: Date.now() }]); // resolves with the new ids
  }

  @Every(60_000) // once a minute, on one instance
  async aggregate(): Promise<void> {
    let batch = await this.clicks.get(1_000); // leased for 30 s: id -> item
    while (batch.size > 0) {
      await saveCounts(batch.values()); // your code
      batch = await this.clicks.get(1_000, { done: batch }); // done, and the next, in one call
    }
  }
}

describe('DelayedModule dataQueues', () => {
  it('provides each data queue for @InjectDataQueue, with its options, on the module connection', async () => {
    @Module({
      imports: [
        DelayedModule.forRoot({
          connection: db.server.url,
          deadLetter: false, // about tasks: data queues keep their own default
          dataQueues: [{ name: CLICKS, visibilityTimeout: 30_000, attempts: 3 }, REPORTS],
        }),
      ],
      providers: [ClickStats],
    })
    class AppModule {}

    const app = await Test.createTestingModule({ imports: [AppModule] }).compile();
    await app.init();
    try {
      const stats = app.get(ClickStats);
      const ids = [...(await stats.track('/home')), ...(await stats.track('/pricing'))];
      assert.equal(new Set(ids).size, 2);
      await stats.aggregate();
      assert.deepEqual(
        saved.map((click) => click.page),
        ['/home', '/pricing'],
      );
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
