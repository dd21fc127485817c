import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  currentTask,
  DelayedModule,
  type DelayedModuleOptions,
  DelayedQueue,
  InvalidOptionsError,
  Task,
  TaskFailedError,
} from '../../lib/index.js';
import { eventually, uniqueName, useRedisServer } from '../helpers/redis-server.js';

const db = useRedisServer();

@Injectable()
class Reports {
  @Task({ result: { ttl: 5_000 } })
  async build(id: number): Promise<{ id: number; pages: number }> {
    await currentTask()!.progress(0.5);
    return { id, pages: id * 2 };
  }

  @Task({ result: { stack: true } })
  broken(): string {
    throw new TypeError('no template');
  }

  @Task()
  plain(): number {
    return 7;
  }
}

async function app(options: DelayedModuleOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [DelayedModule.forRoot(options)],
    providers: [Reports],
  }).compile();
  const application = moduleRef.createNestApplication({ logger: false });
  await application.init();
  return application;
}

describe('tracked calls through DelayedQueue', () => {
  it('call() returns a typed handle; @Task({ result }) sets the ttl; task(id) reads it from anywhere', async () => {
    const queue = uniqueName();
    const application = await app({
      connection: db.server.url,
      queue,
      worker: { dequeueTimeout: 100 },
    });
    try {
      const delayed = application.get(DelayedQueue);
      const handle = await delayed.call(Reports, 'build', 21);
      const report = await handle.result({ timeout: 5_000 });
      // Typed as the method's result: no cast needed.
      assert.equal(report.pages, 42);
      assert.deepEqual(await delayed.task(handle.id).status(), {
        state: 'done',
        progress: 0.5,
        attempts: 1,
      });
      const ttl = await db.redis.pttl(`${queue}_task_${handle.id}`);
      assert.ok(ttl > 4_000 && ttl <= 5_000, `ttl ${ttl}`);
      // The call's own ttl wins over the handler's.
      const longer = await delayed.with({ result: { ttl: 60_000 } }).call(Reports, 'build', 1);
      await longer.result();
      assert.ok((await db.redis.pttl(`${queue}_task_${longer.id}`)) > 50_000);
      // The handler asked for stacks.
      const broken = await delayed.call(Reports, 'broken');
      const error = (await broken.result().catch((reason: unknown) => reason)) as TaskFailedError;
      assert.ok(error instanceof TaskFailedError);
      assert.equal(error.errorName, 'TypeError');
      assert.match(error.remoteStack ?? '', /TypeError: no template/);
      assert.equal(await (await delayed.call(Reports, 'plain')).result(), 7);
    } finally {
      await application.close();
    }
  });

  it('with({ unique }).call() returns the first handle while it is on its way; with({ delay }) schedules it', async () => {
    const queue = uniqueName();
    const application = await app({ connection: db.server.url, queue, worker: false });
    try {
      const delayed = application.get(DelayedQueue);
      const unique = { key: 'report:9', ttl: 60_000 };
      const first = await delayed.with({ unique, delay: 60_000 }).call(Reports, 'build', 9);
      const second = await delayed.with({ unique }).call(Reports, 'build', 9);
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.id, first.id);
      assert.equal((await first.status()).state, 'scheduled');
      assert.equal(await delayed.scheduledCount(), 1);
      assert.equal(await delayed.len(), 0);
      assert.equal(await second.cancel(), true);
      assert.equal(await delayed.scheduledCount(), 0);
      // Options only a tracked call has are refused by delay(), whose result is no handle.
      await assert.rejects(
        delayed.with({ unique, delay: 5 }).delay(Reports, 'plain'),
        (error: unknown) =>
          error instanceof InvalidOptionsError && /use with\(\{ … \}\)\.call/.test(error.message),
      );
      await assert.rejects(delayed.with({}).delay(Reports, 'plain'), /A schedule needs/);
    } finally {
      await application.close();
    }
    await eventually(async () =>
      (await db.redis.keys(`${queue}*`)).every((key) => key.includes('_task_')),
    );
  });

  it('@Task({ result }) of the wrong shape fails where it is written', () => {
    assert.throws(
      () => Task({ result: { ttl: -1 } }),
      /@Task\(\): result must be \{ ttl\?: whole ms/,
    );
  });
});
