import 'reflect-metadata';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  DelayedModule,
  type DelayedModuleOptions,
  DelayedQueue,
  InvalidOptionsError,
  OnQueueEvent,
  OnTaskEvent,
  OnWorkerEvent,
  type QueueEvent,
  Task,
  type TaskCompletedEvent,
  type TaskFailedEvent,
  type TaskStartedEvent,
  UnrecoverableError,
  type WorkerStateEvent,
} from '../../lib/index.js';
import { eventually, useRedisServer, uniqueName } from '../helpers/redis-server.js';

const db = useRedisServer();

@Injectable()
class Jobs {
  @Task({ retry: 1 })
  async work(mode: 'ok' | 'flaky' | 'fatal') {
    await sleep(20);
    if (mode === 'fatal') throw new UnrecoverableError('fatal input');
    if (mode === 'flaky') throw new Error('flaky');
    return mode;
  }
}

/** Records what each decorated method heard, in order. */
@Injectable()
class Listeners {
  readonly heard: string[] = [];
  readonly completed: TaskCompletedEvent[] = [];
  readonly failed: TaskFailedEvent[] = [];
  readonly worker: WorkerStateEvent[] = [];

  @OnTaskEvent('started')
  started(event: TaskStartedEvent) {
    this.heard.push(`started ${event.name}`);
  }

  @OnTaskEvent('completed')
  done(event: TaskCompletedEvent) {
    this.completed.push(event);
    this.heard.push('completed');
  }

  @OnTaskEvent('retried')
  retried() {
    this.heard.push('retried');
  }

  @OnTaskEvent('failed')
  @OnTaskEvent('dead-lettered')
  failedForGood(event: TaskFailedEvent) {
    this.failed.push(event);
  }

  @OnTaskEvent('completed', { queue: 'some-other-queue' })
  elsewhere() {
    this.heard.push('wrong queue');
  }

  @OnTaskEvent('completed')
  broken() {
    throw new Error('a listener that throws disturbs nothing');
  }

  @OnTaskEvent('completed')
  async brokenAsync() {
    await sleep(1);
    throw new Error('nor one that rejects');
  }

  @OnWorkerEvent('started')
  online(event: WorkerStateEvent) {
    this.worker.push(event);
    this.heard.push('worker started');
  }

  @OnWorkerEvent('stopped')
  offline() {
    this.heard.push('worker stopped');
  }
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

describe('@OnTaskEvent and @OnWorkerEvent', () => {
  it('hear this worker tell each task start, end and failure, and its own start and stop', async () => {
    const queue = uniqueName();
    const application = await app(
      { connection: db.server.url, queue, worker: { dequeueTimeout: 100 } },
      [Jobs, Listeners],
    );
    const listeners = application.get(Listeners);
    try {
      assert.deepEqual(listeners.heard, ['worker started']);
      assert.deepEqual(listeners.worker[0]!.queues, [queue]);
      const delayed = application.get(DelayedQueue);
      await delayed.delay(Jobs, 'work', 'ok');
      await eventually(() => listeners.completed.length === 1);
      await delayed.delay(Jobs, 'work', 'flaky');
      await eventually(() => listeners.failed.length === 2, 5_000, 'a final failure, twice heard');
      await delayed.delay(Jobs, 'work', 'fatal');
      await eventually(() => listeners.failed.length === 4, 5_000, 'an unrecoverable one');
    } finally {
      await application.close();
    }
    assert.deepEqual(listeners.heard, [
      'worker started',
      'started Jobs:work',
      'completed',
      'started Jobs:work',
      'retried',
      'started Jobs:work',
      'started Jobs:work',
      'worker stopped',
    ]);
    assert.equal(listeners.completed[0]!.queue, queue);
    assert.ok(listeners.completed[0]!.duration >= 15);
    assert.deepEqual(
      listeners.failed.map((event) => event.outcome),
      ['buried', 'buried', 'buried', 'buried'],
    );
    assert.match(String(listeners.failed[3]!.error), /fatal input/);
  });

  it('refuse listeners on request-scoped providers and bad queue filters', () => {
    assert.throws(
      () => OnTaskEvent('completed', { queue: [] }),
      /queue must be a queue name or a non-empty array/,
    );
    // @ts-expect-error a queue is required
    assert.throws(() => OnQueueEvent('completed', {}), /needs \{ queue/);
    class Typed {
      // @ts-expect-error a completed listener does not get a failure
      @OnTaskEvent('completed') wrong(_event: TaskFailedEvent & { never: true }) {}
    }
    assert.ok(Typed);
  });
});

/** A producer that hears what workers elsewhere did with its tasks. */
@Injectable()
class Watcher {
  static queue = '';
  readonly events: QueueEvent[] = [];

  @OnQueueEvent('completed', { queue: 'placeholder' })
  completed(event: QueueEvent) {
    this.events.push(event);
  }

  @OnQueueEvent('failed', { queue: 'placeholder' })
  failed(event: QueueEvent) {
    this.events.push(event);
  }
}

describe('@OnQueueEvent', () => {
  it('hears the tasks other apps run, when their workers publish, and stores nothing', async () => {
    const queue = uniqueName();
    // The decorator took the queue name at class definition: point it at this test's queue.
    for (const method of ['completed', 'failed'] as const) {
      const target = Watcher.prototype[method];
      const [listener] = Reflect.getMetadata('nestjs-delayed:event-listeners', target) as {
        queues: string[];
      }[];
      listener!.queues = [queue];
    }
    const worker = await app(
      {
        connection: db.server.url,
        queue,
        worker: { dequeueTimeout: 100 },
        events: { publish: ['completed', 'failed'] },
      },
      [Jobs],
    );
    const producer = await app({ connection: db.server.url, queue }, [Watcher]);
    try {
      const watcher = producer.get(Watcher);
      const delayed = producer.get(DelayedQueue);
      const handle = await delayed.call(Jobs, 'work', 'ok');
      await delayed.delay(Jobs, 'work', 'fatal');
      await eventually(() => watcher.events.length === 2, 5_000, 'two events');
      const [done, failed] = [
        watcher.events.find((event) => event.event === 'completed')!,
        watcher.events.find((event) => event.event === 'failed')!,
      ];
      assert.equal(done.id, handle.id);
      assert.equal(done.name, 'Jobs:work');
      assert.equal(done.queue, queue);
      assert.ok(done.duration! >= 15);
      assert.equal(failed.outcome, 'dead-lettered');
      assert.match(failed.error!, /fatal input/);
      // Retries and starts were not asked for: not published.
      await delayed.delay(Jobs, 'work', 'flaky');
      await eventually(() => watcher.events.length === 3, 5_000, 'the final failure only');
      assert.equal(watcher.events[2]!.event, 'failed');
      assert.deepEqual(await db.redis.keys(`${queue}_events*`), []);
    } finally {
      await producer.close();
      await worker.close();
    }
  });

  it('rejects a bad events option with the choices', async () => {
    await assert.rejects(
      () => app({ connection: db.server.url, events: { publish: ['finished' as never] } }, []),
      (error: unknown) =>
        error instanceof InvalidOptionsError &&
        /events.publish must be true, false or a list of started, completed/.test(error.message),
    );
  });
});
