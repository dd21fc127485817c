import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DelayedModule, DelayedQueue, Task } from '../../lib/index.js';
import { eventually, leftoverKeys, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

const ran: number[] = [];

@Injectable()
class Jobs {
  @Task()
  run(id: number): void {
    ran.push(id);
  }
}

describe('DelayedQueue.pause(), resume(), isPaused()', () => {
  it("pause and resume the module's queue for its worker", async () => {
    const queue = uniqueName();
    const moduleRef = await Test.createTestingModule({
      imports: [
        DelayedModule.forRoot({
          connection: db.server.url,
          queue,
          worker: { dequeueTimeout: 100 },
        }),
      ],
      providers: [Jobs],
    }).compile();
    const application = moduleRef.createNestApplication({ logger: false });
    await application.init();
    try {
      const delayed = application.get(DelayedQueue);
      assert.equal(await delayed.isPaused(), false);
      assert.equal(await delayed.pause(), true);
      assert.equal(await delayed.pause(), false);
      assert.equal(await delayed.isPaused(), true);
      await delayed.delay(Jobs, 'run', 1);
      await delayed.delay(Jobs, 'run', 2);
      await sleep(400);
      assert.deepEqual(ran, [], 'nothing runs while paused');
      assert.equal(await delayed.len(), 2);
      assert.equal(await delayed.resume(), true);
      assert.equal(await delayed.isPaused(), false);
      await eventually(() => ran.length === 2, 3_000, 'both tasks');
      assert.deepEqual(ran, [1, 2]);
      assert.equal(await delayed.resume(), false);
    } finally {
      await application.close();
    }
    assert.deepEqual(await leftoverKeys(db.redis, queue), []);
  });
});
