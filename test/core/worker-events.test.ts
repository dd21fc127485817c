import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import {
  currentTask,
  EventPublisher,
  HandlerRegistry,
  NodeTask,
  Queue,
  type QueueEvent,
  QueueEvents,
  TaskResultError,
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

  it('keep a listener that throws from disturbing the task, the worker or the listeners after it', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    let ran = 0;
    handlers.register('T:run', () => void ran++);
    const errors: string[] = [];
    const worker = new Worker({
      queues: [queue],
      handlers,
      logger: { ...quietLogger, error: (message: string) => errors.push(message) },
    });
    const completed: string[] = [];
    worker.on('online', () => {
      throw new Error('a broken online listener');
    });
    worker.on('active', () => {
      throw new Error('a broken active listener');
    });
    worker.on('completed', () => {
      throw new Error('a broken completed listener');
    });
    worker.on('completed', (event) => completed.push(event.name));
    await worker.start();
    try {
      await queue.enqueueMany([new NodeTask('T:run'), new NodeTask('T:run')]);
      await eventually(() => completed.length === 2, 5_000, 'two completions heard');
      assert.equal(ran, 2);
      assert.equal(await queue.processingCount(), 0);
    } finally {
      await worker.close();
    }
    assert.ok(errors.some((line) => /"online" event threw: a broken online listener/.test(line)));
    assert.ok(errors.some((line) => /"active" event threw/.test(line)));
  });

  it('report a tracked task whose result cannot be stored as failed, not completed', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const handlers = new HandlerRegistry();
    handlers.register('T:unstorable', () => () => 'a function');
    const worker = new Worker({ queues: [queue], handlers, logger: quietLogger });
    const seen: string[] = [];
    const failures: unknown[] = [];
    worker.on('completed', () => seen.push('completed'));
    worker.on(
      'failed',
      (event) => (seen.push(`failed ${event.outcome}`), failures.push(event.error)),
    );
    await worker.start();
    try {
      const handle = await queue.call(new NodeTask('T:unstorable'));
      await assert.rejects(() => handle.result({ timeout: 5_000 }), /cannot be stored/);
      await eventually(() => seen.length === 1);
    } finally {
      await worker.close();
    }
    assert.deepEqual(seen, ['failed dropped']);
    assert.ok(failures[0] instanceof TaskResultError);
  });
});

describe('published task events', () => {
  it('reach other processes, the last ones before the worker goes offline included', async () => {
    const queue = new Queue(db.redis, uniqueName());
    const heard: QueueEvent[] = [];
    const events = new QueueEvents(db.redis, [queue.name], quietLogger);
    events.on('completed', (event) => heard.push(event));
    events.on('completed', () => {
      throw new Error('a listener that throws costs the others nothing');
    });
    events.on('failed', (event) => heard.push(event));
    await events.start();
    const handlers = new HandlerRegistry();
    handlers.register('T:maybe', (fail: boolean) => {
      if (fail) throw new Error('ünïcödé '.repeat(200));
    });
    // The worker's publisher on a connection of its own, closed right after the worker, as
    // the module closes its connection: the last events must go out first.
    const connection = db.redis.duplicate();
    const worker = new Worker({ queues: [queue], handlers, logger: quietLogger });
    // A long interval: only the flush as the worker goes offline can send the last events.
    new EventPublisher(connection, { logger: quietLogger, interval: 60_000 }).attach(worker);
    let done = 0;
    let allDone!: () => void;
    const ended = new Promise<void>((resolve) => (allDone = resolve));
    const count = () => void (++done === 50 && allDone());
    worker.on('completed', count);
    worker.on('failed', count);
    await worker.start();
    try {
      await queue.enqueueMany(
        Array.from({ length: 50 }, (_, i) => new NodeTask('T:maybe', [i === 49])),
      );
      await ended;
    } finally {
      await worker.close();
      connection.disconnect();
    }
    try {
      await eventually(() => heard.length === 50, 5_000, 'every event, the last included');
    } finally {
      await events.close();
    }
    const failed = heard.find((event) => event.event === 'failed')!;
    assert.equal(failed.outcome, 'dead-lettered');
    assert.equal(failed.error!.length, 1_024);
    assert.match(failed.error!, /^ünïcödé/);
    assert.equal(heard.filter((event) => event.event === 'completed').length, 49);
    for (const event of heard) {
      assert.equal(event.queue, queue.name);
      assert.equal(event.name, 'T:maybe');
      assert.ok(worker.slotIds.length > 0 && /^[0-9a-f]{32}$/.test(event.workerId));
      assert.ok(Math.abs(event.at - Date.now()) < 60_000);
      assert.equal(typeof event.duration, 'number');
    }
  });
});
