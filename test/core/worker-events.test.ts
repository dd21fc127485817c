import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  currentTask,
  HandlerRegistry,
  NodeTask,
  Queue,
  type TaskCompletedEvent,
  type TaskFailedEvent,
  type TaskRun,
  type TaskStartedEvent,
  Worker,
  type WorkerStateEvent,
} from '../../lib/core/index.js';
import { eventually, quietLogger, useRedisServer, uniqueName } from '../helpers/redis-server.js';

// CLIENT KILL reaches every client of the server: a private one, even under REDIS_URL.
const db = useRedisServer({ private: true });

describe('worker events', () => {
  it('tell a task start, its end, its duration and its id, and the worker going on and off line', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('T:slow', async () => {
      await sleep(60);
      return 'ok';
    });
    handlers.register(
      'T:bad',
      () => {
        throw new Error('boom');
      },
      'T:bad',
      undefined,
      { retry: 1 },
    );
    const worker = new Worker({ queues: [queue], handlers, logger: quietLogger });
    const seen: string[] = [];
    const started: TaskStartedEvent[] = [];
    const completed: TaskCompletedEvent[] = [];
    const failed: TaskFailedEvent[] = [];
    const states: WorkerStateEvent[] = [];
    worker.on('active', (event) => started.push(event));
    worker.on('completed', (event) => completed.push(event));
    worker.on('failed', (event) => failed.push(event));
    worker.on('online', (event) => (seen.push('online'), states.push(event)));
    worker.on('offline', (event) => (seen.push('offline'), states.push(event)));
    await worker.start();
    assert.deepEqual(seen, ['online']);
    await queue.enqueue(new NodeTask('T:slow', [1]));
    const handle = await queue.call(new NodeTask('T:slow', [2]));
    await queue.enqueue(new NodeTask('T:bad', [], {}, 1));
    await eventually(() => completed.length === 2 && failed.length === 2);
    await worker.close();
    assert.deepEqual(seen, ['online', 'offline']);
    assert.deepEqual(states[0], { queues: [queue.name], redis: states[0]!.redis });
    assert.match(states[0]!.redis, /127\.0\.0\.1:\d+/);

    assert.equal(started.length, 4);
    const tracked = started.find((event) => event.id !== undefined)!;
    assert.equal(tracked.id, handle.id);
    assert.equal(tracked.name, 'T:slow');
    assert.equal(tracked.retriesLeft, 0);
    assert.deepEqual(
      started.filter((event) => event.name === 'T:bad').map((event) => event.retriesLeft),
      [1, 0],
    );
    for (const event of completed) {
      assert.equal(event.name, 'T:slow');
      assert.ok(event.duration >= 55 && event.duration < 5_000, String(event.duration));
    }
    assert.deepEqual(completed.map((event) => event.id).sort(), [handle.id, undefined].sort());
    assert.deepEqual(
      failed.map((event) => event.outcome),
      ['retried', 'buried'],
    );
    for (const event of failed) {
      assert.equal(typeof event.duration, 'number');
      assert.match(String(event.error), /boom/);
    }
  });

  it('tell a lost connection and the reconnect', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('T:noop', () => undefined);
    const worker = new Worker({
      queues: [queue],
      handlers,
      logger: quietLogger,
      dequeueTimeout: 200,
    });
    const seen: string[] = [];
    worker.on('disconnected', () => seen.push('disconnected'));
    worker.on('reconnected', () => seen.push('reconnected'));
    await worker.start();
    try {
      await db.redis.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await eventually(() => seen.length >= 2, 10_000, 'a reconnect');
      assert.deepEqual(seen.slice(0, 2), ['disconnected', 'reconnected']);
    } finally {
      await worker.close();
    }
  });

  it('run every handler inside the instrument, with the task context and its options', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    const inside: (string | undefined)[] = [];
    handlers.register('T:echo', async (value: unknown) => {
      inside.push(currentTask()?.name);
      await sleep(5);
      return value;
    });
    const runs: TaskRun[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers,
      logger: quietLogger,
      instrument: (task, run) => {
        runs.push(task);
        assert.equal(currentTask()?.name, task.name);
        return run();
      },
    });
    await worker.start();
    try {
      await queue.enqueue(new NodeTask('T:echo', ['plain']));
      const handle = await queue.call(new NodeTask('T:echo', ['tracked']));
      assert.equal(await handle.result({ timeout: 5_000 }), 'tracked');
      await eventually(() => runs.length === 2);
    } finally {
      await worker.close();
    }
    assert.deepEqual(inside, ['T:echo', 'T:echo']);
    const trackedRun = runs.find((run) => run.id !== undefined)!;
    assert.equal(trackedRun.id, (trackedRun.options as { id: string }).id);
    assert.equal(runs.find((run) => run.id === undefined)!.options, undefined);
  });
});
